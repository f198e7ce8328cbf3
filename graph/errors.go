package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	sportello "github.com/sportello/sportello"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

type requestIDKey struct{}

// WithRequestID returns a context carrying the request id, which internal errors show so that a
// report from a client can be matched to the log.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id carried by ctx.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// internalError marks an error from below the transport (the database, a bug) that is not a
// domain error: its text is for the log, never for the client.
type internalError struct{ err error }

func (e *internalError) Error() string { return e.err.Error() }
func (e *internalError) Unwrap() error { return e.err }

// MarkInternal is a field middleware that marks every error a resolver returns that is not a
// domain error, so that PresentError can tell them from gqlgen's own errors about the query
// (a malformed Time argument, say), which describe the client's input and are safe to show.
// Fields that only read a scalar from a struct, which cannot fail, do not pass here (see
// graph/generate).
func MarkInternal(ctx context.Context, next graphql.Resolver) (any, error) {
	res, err := next(ctx)
	// Every field that resolves something passes here, so the common case returns before the
	// target of errors.As, which escapes to the heap, is declared.
	if err == nil {
		return res, nil
	}
	var de *sportello.Error
	if errors.As(err, &de) {
		return res, err
	}
	// The introspection fields are gqlgen's own: their one error ("introspection disabled", in
	// production) is about the query, not a failure of ours.
	if fc := graphql.GetFieldContext(ctx); fc != nil && strings.HasPrefix(fc.Field.Name, "__") {
		return res, err
	}
	return res, &internalError{err: err}
}

// PresentError is the one place where errors become GraphQL errors. Domain errors keep their
// message and code; internal errors are logged in full and reach the client as "internal error"
// with the request id, so SQL, driver messages and personal data never leave the server.
func PresentError(ctx context.Context, err error) *gqlerror.Error {
	out := graphql.DefaultErrorPresenter(ctx, err)
	var de *sportello.Error
	var ie *internalError
	switch {
	case errors.As(err, &de):
		out.Message = de.Message
		out.Extensions = map[string]any{"code": string(de.Code)}
		if de.Field != "" {
			// The field leads the message too, for clients that show only the message.
			out.Message = de.Field + ": " + de.Message
			out.Extensions["field"] = de.Field
		}
	case errors.As(err, &ie):
		id := RequestID(ctx)
		if errors.Is(err, context.Canceled) {
			// The client went away (a subscription completed while it started): nothing failed.
			slog.DebugContext(ctx, "operation canceled", "request_id", id, "path", out.Path.String())
		} else {
			slog.ErrorContext(ctx, "internal error", "request_id", id, "path", out.Path.String(), "error", ie.err)
		}
		out.Message = fmt.Sprintf("internal error (request %s)", id)
		out.Extensions = map[string]any{"code": string(sportello.CodeInternal), "requestId": id}
	default:
		// gqlgen's own errors (a query that does not parse or validate, a variable of the wrong
		// type) are the client's input at fault: one code for all bad input, as for the domain.
		if out.Extensions == nil {
			out.Extensions = map[string]any{}
		}
		out.Extensions["code"] = string(sportello.CodeBadUserInput)
		if len(out.Path) > 0 {
			if _, ok := out.Extensions["field"]; !ok {
				out.Extensions["field"] = out.Path.String()
			}
		}
	}
	return out
}

// Recover turns a panic in a resolver into an internal error.
func Recover(ctx context.Context, p any) error {
	return &internalError{err: fmt.Errorf("panic: %v\n%s", p, debug.Stack())}
}
