package graph

import (
	"context"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// CachePolicy records whether a response may be kept by shared caches: only when the
// operation is a query and every root field it asks for is declared @publicCache in the
// schema, which marks fields whose answer depends on nothing but the municipality (no personal
// data, no receipt codes). The HTTP layer adds that the caller must be anonymous.
type CachePolicy struct {
	private atomic.Bool
	seen    atomic.Bool
}

type cachePolicyKey struct{}

// WithCachePolicy returns a context in which the GraphQL handler records the request's cache
// policy, and the policy to read after the response.
func WithCachePolicy(ctx context.Context) (context.Context, *CachePolicy) {
	p := &CachePolicy{}
	return context.WithValue(ctx, cachePolicyKey{}, p), p
}

// Public reports whether the operation asked only for @publicCache fields of a query.
func (p *CachePolicy) Public() bool { return p.seen.Load() && !p.private.Load() }

// markCacheability is the root field middleware that fills the request's CachePolicy.
func markCacheability(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	if p, ok := ctx.Value(cachePolicyKey{}).(*CachePolicy); ok {
		p.seen.Store(true)
		f := graphql.GetRootFieldContext(ctx)
		op := graphql.GetOperationContext(ctx).Operation
		if op == nil || op.Operation != ast.Query || f == nil || f.Field.Definition == nil ||
			f.Field.Definition.Directives.ForName("publicCache") == nil {
			p.private.Store(true)
		}
	}
	return next(ctx)
}
