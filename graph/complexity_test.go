package graph

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/sportello/sportello/graph/generated"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator"
)

// costedSchema is the executable schema with the server's complexity functions.
func costedSchema(t *testing.T) graphql.ExecutableSchema {
	t.Helper()
	cfg := generated.Config{}
	setComplexity(&cfg.Complexity)
	return generated.NewExecutableSchema(cfg)
}

// parse parses and validates query against the schema, as gqlgen does once for all the
// requests that send it.
func parse(t *testing.T, schema *ast.Schema, query string) (*ast.QueryDocument, *ast.OperationDefinition) {
	t.Helper()
	doc, errs := gqlparser.LoadQuery(schema, query)
	if errs != nil {
		t.Fatalf("%s: %v", query, errs)
	}
	return doc, doc.Operations[0]
}

// coerce checks and coerces a request's variables, as gqlgen does for each request.
func coerce(t *testing.T, schema *ast.Schema, op *ast.OperationDefinition, vars map[string]any) map[string]any {
	t.Helper()
	coerced, err := validator.VariableValues(schema, op, vars)
	if err != nil {
		t.Fatalf("%v: %v", vars, err)
	}
	return coerced
}

func TestTheFieldsWhoseCostReadsTheirArgumentsAreFound(t *testing.T) {
	c := newComplexityLimit(5000)
	if err := c.Validate(costedSchema(t)); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"Query.tickets", "Query.citizens", "Query.search", "Query.auditLog"} {
		if !c.argued[f] {
			t.Errorf("%s is not among the fields whose cost reads their arguments", f)
		}
	}
	for _, f := range []string{"Query.ticket", "Ticket.citizen", "Ticket.messages"} {
		if c.argued[f] {
			t.Errorf("%s is among the fields whose cost reads their arguments", f)
		}
	}
}

func TestACachedCostIsTheCostGqlgenComputes(t *testing.T) {
	es := costedSchema(t)
	tests := []struct {
		name  string
		query string
		vars  []map[string]any
		// costVars are the variables the cost depends on.
		costVars []string
	}{
		{"a ticket by id depends on no variable",
			`query T($id: ID!) { ticket(id: $id) { id subject citizen { fullName } office { name } } }`,
			[]map[string]any{{"id": "a"}, {"id": "b"}, {"id": "a"}}, nil},
		{"a page costs its size",
			`query Q($n: Int) { tickets(first: $n) { edges { node { id subject } } } }`,
			[]map[string]any{{"n": 1}, {"n": 50}, {"n": 1}, {}, {"n": nil}, {"n": 50}}, []string{"n"}},
		{"a page in a fragment",
			`query Q($n: Int) { ...F } fragment F on Query { tickets(first: $n) { edges { node { id } } } }`,
			[]map[string]any{{"n": 2}, {"n": 90}, {"n": 2}}, []string{"n"}},
		{"variables inside a filter count, those of other fields do not",
			`query Q($s: TicketStatus!, $n: Int, $id: ID!) {
				tickets(first: $n, filter: {statuses: [$s]}) { edges { node { id } } }
				ticket(id: $id) { id } }`,
			[]map[string]any{{"s": "SUBMITTED", "n": 5, "id": "a"}, {"s": "CLOSED", "n": 5, "id": "b"}, {"s": "SUBMITTED", "n": 80, "id": "a"}},
			[]string{"n", "s"}},
		{"a page of a union's members",
			`query S($q: String!, $n: Int) { search(query: $q, first: $n) { id title } }`,
			[]map[string]any{{"q": "tari", "n": 3}, {"q": "tari", "n": 40}, {"q": "asilo", "n": 3}}, []string{"n", "q"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newComplexityLimit(5000)
			if err := c.Validate(es); err != nil {
				t.Fatal(err)
			}
			doc, op := parse(t, es.Schema(), tt.query)
			for _, raw := range tt.vars {
				vars := coerce(t, es.Schema(), op, raw)
				got := c.cost(context.Background(), doc, op, vars)
				want := complexity.Calculate(context.Background(), es, op, vars)
				if got != want {
					t.Errorf("cost with %v = %d, gqlgen computes %d", raw, got, want)
				}
			}
			if oc := c.ops[op]; oc == nil || !slices.Equal(oc.vars, tt.costVars) {
				t.Errorf("the cache holds %+v, want the operation with its cost depending on %v", oc, tt.costVars)
			}
		})
	}
}

func TestALargerPageOfACachedOperationIsRefused(t *testing.T) {
	es := costedSchema(t)
	c := newComplexityLimit(500)
	if err := c.Validate(es); err != nil {
		t.Fatal(err)
	}
	doc, op := parse(t, es.Schema(), `query Q($n: Int) { tickets(first: $n) { edges { node { id subject body } } } }`)
	for _, tt := range []struct {
		n       int
		refused bool
	}{{10, false}, {100, true}, {10, false}, {100, true}} {
		rc := &graphql.OperationContext{Doc: doc, Variables: coerce(t, es.Schema(), op, map[string]any{"n": tt.n})}
		err := c.MutateOperationContext(context.Background(), rc)
		if (err != nil) != tt.refused {
			t.Fatalf("first: %d: error %v, want refused %v", tt.n, err, tt.refused)
		}
		if err != nil && err.Extensions["code"] != errLimitExceeded {
			t.Errorf("first: %d: code %v", tt.n, err.Extensions["code"])
		}
	}
	if len(c.ops) != 1 || len(c.ops[op].costs) != 2 {
		t.Errorf("the cache holds %d operations, want the one with its two costs", len(c.ops))
	}
}

func TestLongVariablesAndOperationsAreCostedWithoutBeingKept(t *testing.T) {
	es := costedSchema(t)
	c := newComplexityLimit(5000)
	if err := c.Validate(es); err != nil {
		t.Fatal(err)
	}
	doc, op := parse(t, es.Schema(), `query S($q: String!, $n: Int) { search(query: $q, first: $n) { id } }`)
	for _, n := range []int{3, 40} {
		vars := coerce(t, es.Schema(), op, map[string]any{"q": strings.Repeat("tari ", 1000), "n": n})
		if got, want := c.cost(context.Background(), doc, op, vars), complexity.Calculate(context.Background(), es, op, vars); got != want {
			t.Errorf("first: %d: cost %d, gqlgen computes %d", n, got, want)
		}
	}
	if oc := c.ops[op]; oc != nil && len(oc.costs) > 0 {
		t.Errorf("the cache keeps %d costs keyed by a 5,000-byte search", len(oc.costs))
	}
	doc, op = parse(t, es.Schema(), `{ search(query: "`+strings.Repeat("tari ", 4000)+`", first: 3) { id } }`)
	if got, want := c.cost(context.Background(), doc, op, nil), complexity.Calculate(context.Background(), es, op, nil); got != want {
		t.Errorf("a 20,000-byte operation: cost %d, gqlgen computes %d", got, want)
	}
	if c.ops[op] != nil {
		t.Error("the cache keeps a 20,000-byte operation")
	}
}
