package graph

import (
	"context"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/graph/generated"
	"github.com/sportello/sportello/graph/model"
	"github.com/sportello/sportello/graph/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/otel/trace"
)

// Options tune the GraphQL handler.
type Options struct {
	// WebSocket carries subscriptions (and any operation) over WebSocket; nil serves HTTP only.
	WebSocket *websocket.Transport
	// LoaderWait is how long dataloaders gather keys before running a batch.
	LoaderWait time.Duration
	// Production turns off introspection and field suggestions: the contract is published in
	// schema/, and a public endpoint should not hand attackers a map of itself.
	Production bool
	// ComplexityLimit bounds the cost of one operation; list fields cost by their page size.
	ComplexityLimit int
	// Limits bound the depth, aliases, directives and tokens of one operation.
	Limits Limits
	// PersistedQueries keeps the automatic persisted queries (hash to query); nil keeps them in
	// this process only. A cache shared by every instance lets a client that registered a query
	// on one instance send its hash to any other.
	PersistedQueries graphql.Cache[string]
	// AllowList holds the operations registered for the clients in AllowListClients, which run
	// nothing else (the mobile app). The client is the one named in the context (WithClient).
	AllowList        sportello.PersistedOperations
	AllowListClients []string
	// LimitAnonymousFiling, if set, is checked before every ticket filed without signing in.
	LimitAnonymousFiling func(context.Context) error
	// Observer, if set, is told how every operation goes.
	Observer Observer
	// MaxUploadBytes bounds a multipart request with files (the GraphQL multipart request
	// spec); zero turns uploads off.
	MaxUploadBytes int64
	// Tracer, if set, traces every query and mutation (OpenTelemetry).
	Tracer trace.Tracer
}

// NewHandler returns the GraphQL endpoint over the resolvers. The caller's middleware must put
// the user in the request context (for WebSocket, the transport's Init does).
func NewHandler(r *Resolver, opts Options) http.Handler {
	cfg := generated.Config{Resolvers: r}
	cfg.Directives.HasRole = HasRole
	setComplexity(&cfg.Complexity)
	srv := handler.New(generated.NewExecutableSchema(cfg))
	if opts.WebSocket != nil {
		srv.AddTransport(opts.WebSocket)
	}
	srv.AddTransport(transport.Options{})
	srv.AddTransport(getTransport{})
	srv.AddTransport(postTransport{})
	if opts.MaxUploadBytes > 0 {
		// Files up to the attachment limit stay in memory, where they are checked; the
		// transport spills anything larger to temporary files until it is refused.
		srv.AddTransport(transport.MultipartForm{MaxUploadSize: opts.MaxUploadBytes, MaxMemory: sportello.MaxAttachmentSize + 1<<20})
	}
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	// Persisted queries let the portal send a hash instead of the query, in GET requests short
	// enough for caches and CDNs.
	apq := opts.PersistedQueries
	if apq == nil {
		apq = lru.New[string](1000)
	}
	if opts.AllowList != nil && len(opts.AllowListClients) > 0 {
		srv.Use(&allowList{ops: opts.AllowList, clients: opts.AllowListClients})
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: apq})
	limits := opts.Limits.withDefaults()
	srv.SetParserTokenLimit(limits.MaxTokens)
	srv.Use(shapeLimits{l: limits})
	if opts.Production {
		// "Did you mean …?" in validation errors would map the schema out field by field as
		// well as introspection does.
		srv.SetDisableSuggestion(true)
	} else {
		srv.Use(extension.Introspection{})
	}
	if opts.ComplexityLimit > 0 {
		srv.Use(newComplexityLimit(opts.ComplexityLimit))
	}
	if opts.Tracer != nil {
		srv.AroundOperations(traceOperations(opts.Tracer))
	}
	// Receipt grants live for one operation: an anonymous filer proves, in the operation that
	// reads their ticket, that they filed it.
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		return next(sportello.WithReceiptGrants(ctx))
	})
	if opts.Observer != nil {
		srv.AroundOperations(observeOperations(opts.Observer))
	}
	// Subscribers with the same operation, variables and audience share the execution of each
	// event (see share.go). Registered before the loaders, so that a subscriber sending the
	// group's response makes none.
	shares := newShares()
	srv.AroundOperations(shares.aroundOperations)
	srv.AroundResponses(shares.aroundResponses)
	// Loaders live for one response: a query, a mutation, or one event of a subscription, so
	// that a long-lived subscription never serves stale or ever-growing caches. They are created
	// when a field first needs one: a subscription waits for its next event inside this
	// middleware, so eager loaders would be held by every idle subscriber, and most events'
	// selections need none.
	wait := opts.LoaderWait
	if wait == 0 {
		wait = DefaultLoaderWait
	}
	srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		return next(withLazyLoaders(ctx, r, wait))
	})
	srv.AroundFields(MarkInternal)
	srv.AroundRootFields(markCacheability)
	if opts.LimitAnonymousFiling != nil {
		srv.AroundRootFields(limitAnonymousFiling(opts.LimitAnonymousFiling))
	}
	srv.SetErrorPresenter(PresentError)
	srv.SetRecoverFunc(Recover)
	return srv
}

// setComplexity makes list fields cost their page size times the cost of their items, so that
// the complexity limit bounds how many rows an operation can ask for.
func setComplexity(c *generated.ComplexityRoot) {
	c.Query.Tickets = func(childComplexity int, _ *model.TicketFilter, first *int, _ *string, _ *sportello.TicketOrder) int {
		return pageCost(first, childComplexity)
	}
	c.Query.Citizens = func(childComplexity int, _ string, first *int) int {
		return pageCost(first, childComplexity)
	}
	c.Query.Services = func(childComplexity int, _ *model.ServiceFilter, first *int, _ *string) int {
		return pageCost(first, childComplexity)
	}
	c.Query.Procedures = func(childComplexity int, _ *model.ProcedureFilter, first *int, _ *string) int {
		return pageCost(first, childComplexity)
	}
	c.Query.Acts = func(childComplexity int, _ *model.ActFilter, first *int, _ *string) int {
		return pageCost(first, childComplexity)
	}
	c.Query.Contents = func(childComplexity int, _ *model.ContentFilter, first *int, _ *string) int {
		return pageCost(first, childComplexity)
	}
	c.Query.AuditLog = func(childComplexity int, _ *model.AuditFilter, first *int, _ *string) int {
		return pageCost(first, childComplexity)
	}
	c.Query.Search = func(childComplexity int, _ string, _ []sportello.SearchType, first *int) int {
		return pageCost(first, childComplexity)
	}
}

func pageCost(first *int, child int) int {
	n := sportello.DefaultPageSize
	if first != nil && *first > 0 {
		n = *first
	}
	return 1 + n*child
}
