package graph

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Bounds of the complexity cache. Clients send a few dozen distinct operations, and a paged
// field's variables take a handful of values each (page sizes, filters), so the cache stays far
// below them; past a bound it starts over rather than track what was used last.
const (
	maxCostedOperations  = 1000
	maxCostsPerOperation = 100
	// maxCostKey bounds the encoded variables that key a cost, and maxCostedQuery the text of
	// an operation the cache keeps: a search's words, a filter's text or a literal in the query
	// may be as long as the body allows, and the cache must not keep a client's megabytes.
	// Longer ones are costed at every request.
	maxCostKey     = 256
	maxCostedQuery = 16 << 10
)

// complexityLimit refuses an operation whose complexity (see setComplexity) is over limit, as
// gqlgen's FixedComplexityLimit does, and remembers what it computed. gqlgen computes the
// complexity again for every request, building a map of arguments and an execution context for
// each field: about 50 allocations and 2–3% of the server's CPU on a ticket read, for a number
// that depends only on the operation and on the variables that reach a field whose cost is a
// function of its arguments. An operation is known by its parsed document, which gqlgen's query
// cache shares between the requests that send the same text; the cache holds those documents,
// so no other operation can take the address of one it keeps.
type complexityLimit struct {
	limit int
	es    graphql.ExecutableSchema
	// argued holds the fields ("Type.field") whose complexity function reads their arguments;
	// every other field costs one plus its selection's cost whatever its arguments.
	argued map[string]bool

	mu  sync.RWMutex
	ops map[*ast.OperationDefinition]*operationCost
}

// operationCost is what the cache knows of one operation: the variables its cost depends on,
// and its cost for each combination of their values seen so far.
type operationCost struct {
	vars  []string
	costs map[string]int
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = (*complexityLimit)(nil)

func newComplexityLimit(limit int) *complexityLimit {
	return &complexityLimit{limit: limit, ops: make(map[*ast.OperationDefinition]*operationCost)}
}

func (*complexityLimit) ExtensionName() string { return "ComplexityLimit" }

// Validate finds the fields whose complexity function reads their arguments. gqlgen's generated
// Complexity answers true for a field only when the schema was given a function for it, and
// reads absent arguments as their zero value, so asking each field with no arguments finds them
// all, whatever the functions are called in Go.
func (c *complexityLimit) Validate(es graphql.ExecutableSchema) error {
	c.es = es
	c.argued = make(map[string]bool)
	ctx := context.Background()
	for _, def := range es.Schema().Types {
		if strings.HasPrefix(def.Name, "__") {
			continue
		}
		for _, f := range def.Fields {
			if _, ok := es.Complexity(ctx, def.Name, f.Name, 1, map[string]any{}); ok {
				c.argued[def.Name+"."+f.Name] = true
			}
		}
	}
	return nil
}

// MutateOperationContext refuses an operation past the limit with BAD_USER_INPUT.
func (c *complexityLimit) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	op := rc.Doc.Operations.ForName(rc.OperationName)
	if op == nil {
		return nil
	}
	cost := c.cost(ctx, rc.Doc, op, rc.Variables)
	if cost > c.limit {
		return limitError("the operation has a complexity of %d, more than the limit of %d", cost, c.limit)
	}
	return nil
}

// cost returns the complexity of op with vars, from the cache when it has been computed before
// with the same values of the variables it depends on.
func (c *complexityLimit) cost(ctx context.Context, doc *ast.QueryDocument, op *ast.OperationDefinition, vars map[string]any) int {
	if op.Position == nil || op.Position.Src == nil || len(op.Position.Src.Input) > maxCostedQuery {
		return complexity.Calculate(ctx, c.es, op, vars)
	}
	c.mu.RLock()
	oc := c.ops[op]
	c.mu.RUnlock()
	if oc == nil {
		oc = &operationCost{vars: c.costVariables(doc, op), costs: make(map[string]int)}
	}
	key, ok := oc.key(vars)
	if !ok {
		return complexity.Calculate(ctx, c.es, op, vars)
	}
	c.mu.RLock()
	cost, found := oc.costs[key]
	c.mu.RUnlock()
	if found {
		return cost
	}
	cost = complexity.Calculate(ctx, c.es, op, vars)
	c.mu.Lock()
	if c.ops[op] == nil {
		if len(c.ops) >= maxCostedOperations {
			clear(c.ops)
		}
		c.ops[op] = oc
	}
	oc = c.ops[op]
	if len(oc.costs) >= maxCostsPerOperation {
		clear(oc.costs)
	}
	oc.costs[key] = cost
	c.mu.Unlock()
	return cost
}

// key encodes the values of the variables the cost depends on, telling an absent variable from
// a null one, since an absent argument and a null one may cost differently. It reports false
// for values that cannot be encoded or that encode longer than maxCostKey, whose cost is then
// computed every time.
func (oc *operationCost) key(vars map[string]any) (string, bool) {
	if len(oc.vars) == 0 {
		return "", true
	}
	var b strings.Builder
	for _, name := range oc.vars {
		b.WriteString(name)
		v, ok := vars[name]
		if !ok {
			b.WriteString("-\x00")
			continue
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return "", false
		}
		b.WriteByte('=')
		b.Write(raw)
		b.WriteByte(0)
		if b.Len() > maxCostKey {
			return "", false
		}
	}
	return b.String(), true
}

// costVariables returns the variables that reach an argument, at any depth of its value, of a
// field whose complexity function reads its arguments, sorted. A field selected on an interface
// counts if it does on any of the interface's types, since gqlgen costs it as the dearest of
// them.
func (c *complexityLimit) costVariables(doc *ast.QueryDocument, op *ast.OperationDefinition) []string {
	schema := c.es.Schema()
	var vars []string
	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if c.argues(schema, s) {
					for _, arg := range s.Arguments {
						vars = appendVariables(vars, arg.Value)
					}
				}
				walk(s.SelectionSet)
			case *ast.InlineFragment:
				walk(s.SelectionSet)
			case *ast.FragmentSpread:
				// Validation has refused spreads of unknown fragments and fragment cycles.
				if f := doc.Fragments.ForName(s.Name); f != nil {
					walk(f.SelectionSet)
				}
			}
		}
	}
	walk(op.SelectionSet)
	slices.Sort(vars)
	return slices.Compact(vars)
}

func (c *complexityLimit) argues(schema *ast.Schema, f *ast.Field) bool {
	if f.ObjectDefinition == nil {
		return false
	}
	if c.argued[f.ObjectDefinition.Name+"."+f.Name] {
		return true
	}
	if f.ObjectDefinition.Kind == ast.Interface {
		for _, t := range schema.GetPossibleTypes(f.ObjectDefinition) {
			if c.argued[t.Name+"."+f.Name] {
				return true
			}
		}
	}
	return false
}

// appendVariables appends the names of the variables in v, a literal list or object included.
func appendVariables(vars []string, v *ast.Value) []string {
	if v == nil {
		return vars
	}
	if v.Kind == ast.Variable {
		return append(vars, v.Raw)
	}
	for _, child := range v.Children {
		vars = appendVariables(vars, child.Value)
	}
	return vars
}
