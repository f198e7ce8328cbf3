package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	sportello "github.com/sportello/sportello"
)

// HasRole implements @hasRole: the coarse check of who may use a field. The services check
// again and apply the row-level rules, because other transports call them without this
// directive.
func HasRole(ctx context.Context, _ any, next graphql.Resolver, roles []sportello.Role) (any, error) {
	u := sportello.UserFrom(ctx)
	if u.Anonymous() {
		return nil, sportello.ErrUnauthenticated
	}
	if !u.HasRole(roles...) {
		return nil, sportello.ErrForbidden
	}
	return next(ctx)
}
