package graph

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	sportello "github.com/sportello/sportello"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Limits bound the shape of one operation, so that a single request cannot make the server walk
// an enormous tree, resolve the same expensive field hundreds of times under different aliases
// or spend its time on directives. The defaults are GraphQL Armor's; zero takes the default.
type Limits struct {
	// MaxDepthAnonymous is the deepest field nesting an anonymous caller may ask for.
	MaxDepthAnonymous int
	// MaxDepthSignedIn is the deepest nesting for signed-in callers, whose screens (an operator's
	// queue with each ticket's history and its actors) legitimately go deeper.
	MaxDepthSignedIn int
	// MaxAliases bounds the aliased fields of an operation, fragments included.
	MaxAliases int
	// MaxDirectives bounds the directives used in the document.
	MaxDirectives int
	// MaxTokens bounds the lexical tokens of the document; the parser stops at the limit, so an
	// oversized query costs no more than a legal one to refuse.
	MaxTokens int
}

// The default limits.
const (
	DefaultMaxDepthAnonymous = 6
	DefaultMaxDepthSignedIn  = 10
	DefaultMaxAliases        = 15
	DefaultMaxDirectives     = 50
	DefaultMaxTokens         = 1000
)

// withDefaults fills the limits left at zero.
func (l Limits) withDefaults() Limits {
	set := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&l.MaxDepthAnonymous, DefaultMaxDepthAnonymous)
	set(&l.MaxDepthSignedIn, DefaultMaxDepthSignedIn)
	set(&l.MaxAliases, DefaultMaxAliases)
	set(&l.MaxDirectives, DefaultMaxDirectives)
	set(&l.MaxTokens, DefaultMaxTokens)
	return l
}

// errLimitExceeded is registered as a protocol error, so that a refused operation gets a 4xx
// status like any other request that fails before execution.
const errLimitExceeded = "OPERATION_LIMIT_EXCEEDED"

func init() { errcode.RegisterErrorType(errLimitExceeded, errcode.KindProtocol) }

// shapeLimits is the gqlgen extension enforcing Limits after validation, when the document is
// known to be well formed (fragment cycles are already refused).
type shapeLimits struct{ l Limits }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = shapeLimits{}

func (shapeLimits) ExtensionName() string                   { return "ShapeLimits" }
func (shapeLimits) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext refuses an operation past a limit with BAD_USER_INPUT.
func (s shapeLimits) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	op := rc.Doc.Operations.ForName(rc.OperationName)
	if op == nil {
		return nil
	}
	maxDepth := s.l.MaxDepthSignedIn
	if sportello.UserFrom(ctx).Anonymous() {
		maxDepth = s.l.MaxDepthAnonymous
	}
	m := measure(rc.Doc, op)
	switch {
	case m.depth > maxDepth:
		return limitError("the operation nests fields %d deep, more than the limit of %d", m.depth, maxDepth)
	case m.aliases > s.l.MaxAliases:
		return limitError("the operation uses %d aliases, more than the limit of %d", m.aliases, s.l.MaxAliases)
	case m.directives > s.l.MaxDirectives:
		return limitError("the operation uses %d directives, more than the limit of %d", m.directives, s.l.MaxDirectives)
	}
	return nil
}

func limitError(format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	errcode.Set(err, errLimitExceeded)
	return err
}

// shape is what measure counts in an operation.
type shape struct {
	depth      int
	aliases    int
	directives int
}

// measure walks the operation with its fragments expanded. Introspection fields are left out of
// depth and aliases, as GraphQL Armor does: in production they are refused anyway, and in
// development the IDE's own introspection query is deeper than any screen.
func measure(doc *ast.QueryDocument, op *ast.OperationDefinition) shape {
	var m shape
	m.directives = len(op.Directives)
	for _, f := range doc.Fragments {
		m.directives += len(f.Directives)
	}
	var walk func(set ast.SelectionSet, depth int, countDirectives bool)
	walk = func(set ast.SelectionSet, depth int, countDirectives bool) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if countDirectives {
					m.directives += len(s.Directives)
				}
				if strings.HasPrefix(s.Name, "__") {
					continue
				}
				if s.Alias != "" && s.Alias != s.Name {
					m.aliases++
				}
				m.depth = max(m.depth, depth+1)
				walk(s.SelectionSet, depth+1, countDirectives)
			case *ast.InlineFragment:
				if countDirectives {
					m.directives += len(s.Directives)
				}
				walk(s.SelectionSet, depth, countDirectives)
			case *ast.FragmentSpread:
				if countDirectives {
					m.directives += len(s.Directives)
				}
				// Directives inside a fragment are in the document once, however many times it
				// is spread; aliases and depth count at every use, since each use resolves them.
				if f := doc.Fragments.ForName(s.Name); f != nil {
					walk(f.SelectionSet, depth, false)
				}
			}
		}
	}
	walk(op.SelectionSet, 0, true)
	countFragmentDirectives(doc, &m)
	return m
}

// countFragmentDirectives adds the directives written inside fragment definitions, which the
// walk does not count at their spreads.
func countFragmentDirectives(doc *ast.QueryDocument, m *shape) {
	var count func(set ast.SelectionSet)
	count = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				m.directives += len(s.Directives)
				count(s.SelectionSet)
			case *ast.InlineFragment:
				m.directives += len(s.Directives)
				count(s.SelectionSet)
			case *ast.FragmentSpread:
				m.directives += len(s.Directives)
			}
		}
	}
	for _, f := range doc.Fragments {
		count(f.SelectionSet)
	}
}

// limitAnonymousFiling runs check before every submitTicket of an anonymous caller, which
// refuses it (RATE_LIMITED) when the caller's address has filed too many.
func limitAnonymousFiling(check func(context.Context) error) graphql.RootFieldMiddleware {
	return func(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
		fc := graphql.GetRootFieldContext(ctx)
		op := graphql.GetOperationContext(ctx).Operation
		if fc != nil && op != nil && op.Operation == ast.Mutation && fc.Field.Name == "submitTicket" &&
			sportello.UserFrom(ctx).Anonymous() {
			if err := check(ctx); err != nil {
				graphql.AddError(ctx, err)
				return graphql.Null
			}
		}
		return next(ctx)
	}
}
