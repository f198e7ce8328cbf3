package graph

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	sportello "github.com/sportello/sportello"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

type clientKey struct{}

// WithClient returns ctx carrying the name the client gave itself (X-Client-Name), which decides
// whether it runs only registered operations.
func WithClient(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, clientKey{}, name)
}

func clientFrom(ctx context.Context) string {
	name, _ := ctx.Value(clientKey{}).(string)
	return name
}

// The refusal is a protocol error, so that it gets a 4xx status like any request refused before
// execution.
func init() {
	errcode.RegisterErrorType(string(sportello.CodePersistedQueryNotAllowed), errcode.KindProtocol)
}

// allowList is the gqlgen extension that runs, for the clients restricted to registered
// operations, only the operations registered for them. It comes before automatic persisted
// queries: a hash it knows becomes the registered text, which the APQ extension then checks
// against the hash as usual.
type allowList struct {
	ops     sportello.PersistedOperations
	clients []string
	// known keeps the registered operations already read. Registering only adds operations, so
	// an entry never goes stale, and only registered operations get in: it is as large as the
	// allow-lists at most.
	known sync.Map // client + "\x00" + hash → query text
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = (*allowList)(nil)

func (*allowList) ExtensionName() string                   { return "AllowList" }
func (*allowList) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationParameters refuses, for a restricted client, an operation whose hash (sent, or
// computed from the text sent) is not registered, with PERSISTED_QUERY_NOT_ALLOWED; a registered
// one runs with the registered text.
func (a *allowList) MutateOperationParameters(ctx context.Context, raw *graphql.RawParams) *gqlerror.Error {
	client := clientFrom(ctx)
	if !slices.Contains(a.clients, client) {
		return nil
	}
	hash := sentHash(raw.Extensions)
	if hash == "" {
		if raw.Query == "" {
			return notAllowed("send the hash of a registered operation")
		}
		hash = sportello.OperationHash(raw.Query)
	}
	key := client + "\x00" + hash
	if q, ok := a.known.Load(key); ok {
		return a.use(raw, q.(string))
	}
	query, err := a.ops.RegisteredOperation(ctx, client, hash)
	var de *sportello.Error
	switch {
	case errors.As(err, &de) && de.Code == sportello.CodeNotFound:
		return notAllowed("this operation is not registered for " + client)
	case err != nil:
		return &gqlerror.Error{Message: "internal error", Err: &internalError{err: err}}
	}
	a.known.Store(key, query)
	return a.use(raw, query)
}

// use runs the registered text; a different text sent with a registered hash is refused rather
// than trusted.
func (a *allowList) use(raw *graphql.RawParams, query string) *gqlerror.Error {
	if raw.Query != "" && raw.Query != query {
		return notAllowed("the text sent is not the registered operation's")
	}
	raw.Query = query
	return nil
}

// sentHash reads extensions.persistedQuery.sha256Hash, as automatic persisted queries send it.
func sentHash(ext map[string]any) string {
	pq, _ := ext["persistedQuery"].(map[string]any)
	hash, _ := pq["sha256Hash"].(string)
	return hash
}

func notAllowed(message string) *gqlerror.Error {
	de := sportello.Errorf(sportello.CodePersistedQueryNotAllowed, "%s", message)
	err := &gqlerror.Error{Message: de.Message, Err: de}
	errcode.Set(err, string(sportello.CodePersistedQueryNotAllowed))
	return err
}
