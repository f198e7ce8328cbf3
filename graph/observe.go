package graph

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// Observer is told how operations go, for metrics. Operation names are the operation's type and
// its first root field ("query tickets"), never the client's own operation name, so that the
// number of distinct names is bounded by the schema.
type Observer interface {
	// OperationDone reports a query or mutation, with the code of its first error ("OK" when
	// it had none) and how long it took.
	OperationDone(operation, outcome string, took time.Duration)
	// SubscriptionStarted reports a subscription; done is called once it ends.
	SubscriptionStarted(operation string) (done func())
}

// observeOperations reports every operation to o.
func observeOperations(o Observer) graphql.OperationMiddleware {
	return func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		rc := graphql.GetOperationContext(ctx)
		name := operationName(rc.Operation)
		if rc.Operation != nil && rc.Operation.Operation == ast.Subscription {
			// AfterFunc holds no goroutine while the subscription lives: idle subscribers must
			// stay cheap.
			context.AfterFunc(ctx, o.SubscriptionStarted(name))
			return next(ctx)
		}
		start := time.Now()
		responses := next(ctx)
		reported := false
		return func(ctx context.Context) *graphql.Response {
			resp := responses(ctx)
			if !reported {
				reported = true
				o.OperationDone(name, outcome(resp), time.Since(start))
			}
			return resp
		}
	}
}

func operationName(op *ast.OperationDefinition) string {
	if op == nil {
		return "unknown"
	}
	for _, sel := range op.SelectionSet {
		if f, ok := sel.(*ast.Field); ok {
			return string(op.Operation) + " " + f.Name
		}
	}
	return string(op.Operation)
}

func outcome(resp *graphql.Response) string {
	if resp == nil || len(resp.Errors) == 0 {
		return "OK"
	}
	if code, ok := resp.Errors[0].Extensions["code"].(string); ok {
		return code
	}
	return "INTERNAL"
}
