package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// traceOperations starts a span for every query and mutation, named as the metrics name it (its
// type and first root field), so that the SQL statements it runs are its children. A
// subscription lives as long as its client stays: it gets no span, which would never end.
func traceOperations(tracer trace.Tracer) graphql.OperationMiddleware {
	return func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		rc := graphql.GetOperationContext(ctx)
		if rc.Operation == nil || rc.Operation.Operation == ast.Subscription {
			return next(ctx)
		}
		name := operationName(rc.Operation)
		ctx, span := tracer.Start(ctx, "graphql "+name, trace.WithAttributes(
			attribute.String("graphql.operation.type", string(rc.Operation.Operation)),
			attribute.String("graphql.operation.name", name)))
		responses := next(ctx)
		ended := false
		return func(ctx context.Context) *graphql.Response {
			resp := responses(ctx)
			if !ended {
				ended = true
				if o := outcome(resp); o != "OK" {
					span.SetStatus(codes.Error, o)
				}
				span.End()
			}
			return resp
		}
	}
}
