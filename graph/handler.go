package graph

import (
	"net/http"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/graph/generated"
	"github.com/sportello/sportello/graph/model"
	"github.com/vektah/gqlparser/v2/ast"
)

// Options tune the GraphQL handler.
type Options struct {
	// Production turns off introspection: the contract is published in schema/, and a public
	// endpoint should not hand attackers a map of itself.
	Production bool
	// ComplexityLimit bounds the cost of one operation; list fields cost by their page size.
	ComplexityLimit int
}

// NewHandler returns the GraphQL endpoint over the resolvers. The caller's middleware must put
// the user, the receipt grants and the loaders in the request context.
func NewHandler(r *Resolver, opts Options) http.Handler {
	cfg := generated.Config{Resolvers: r}
	cfg.Directives.HasRole = HasRole
	setComplexity(&cfg.Complexity)
	srv := handler.New(generated.NewExecutableSchema(cfg))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	if !opts.Production {
		srv.Use(extension.Introspection{})
	}
	if opts.ComplexityLimit > 0 {
		srv.Use(extension.FixedComplexityLimit(opts.ComplexityLimit))
	}
	srv.AroundFields(MarkInternal)
	srv.SetErrorPresenter(PresentError)
	srv.SetRecoverFunc(Recover)
	return srv
}

// setComplexity makes list fields cost their page size times the cost of their items, so that
// the complexity limit bounds how many rows an operation can ask for.
func setComplexity(c *generated.ComplexityRoot) {
	c.Query.Tickets = func(childComplexity int, _ *model.TicketFilter, first *int, _ *string) int {
		return pageCost(first, childComplexity)
	}
	c.Query.Citizens = func(childComplexity int, _ string, first *int) int {
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
