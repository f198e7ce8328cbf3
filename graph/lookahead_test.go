package graph

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/graph/generated"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

func TestTicketRelationsFollowWhatTheQuerySelects(t *testing.T) {
	brief := sportello.TicketRelations{Citizen: true, Office: true, Brief: true, BriefCitizen: true, BriefOffice: true}
	tests := []struct {
		name     string
		query    string
		vars     map[string]any
		path     []string
		want     sportello.TicketRelations
		messages bool
	}{
		{"the fields of a queue row read briefly",
			`{ ticket(id: "1") { id protocolNumber status citizen { fullName fiscalCode } office { name } } }`, nil, nil, brief, false},
		{"the body is read when asked for",
			`{ ticket(id: "1") { subject body } }`, nil, nil, sportello.TicketRelations{Brief: true, BriefBody: true}, false},
		{"a field outside the brief columns reads the whole ticket",
			`{ ticket(id: "1") { id channel } }`, nil, nil, sportello.TicketRelations{}, false},
		{"an office's hours are read only when asked for",
			`{ ticket(id: "1") { office { name hours { weekday } } } }`, nil, nil, sportello.TicketRelations{Office: true, Brief: true, OfficeHours: true}, false},
		{"an office's contacts are no brief read, and need no hours",
			`{ ticket(id: "1") { office { email } } }`, nil, nil, sportello.TicketRelations{Office: true, Brief: true}, false},
		{"a field named twice, once in a fragment, merges its selections",
			`{ ticket(id: "1") { citizen { fullName } ...F } } fragment F on Ticket { citizen { email } }`, nil, nil,
			sportello.TicketRelations{Citizen: true, Brief: true}, false},
		{"a relation skipped by a variable is not joined",
			`query Q($c: Boolean!) { ticket(id: "1") { id citizen @include(if: $c) { fullName } office { name } } }`,
			map[string]any{"c": false}, nil, sportello.TicketRelations{Office: true, Brief: true, BriefOffice: true}, false},
		{"a connection's nodes are found along its path, with their messages",
			`{ tickets(first: 20) { edges { node { id citizen { fullName } office { name } messages { body } } } } }`,
			nil, []string{"edges", "node"}, brief, true},
	}
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := resolvingFirstField(t, schema, tt.query, tt.vars)
			with, messages := ticketRelations(ctx, tt.path...)
			if with != tt.want || messages != tt.messages {
				t.Errorf("ticketRelations = %+v, messages %v; want %+v, messages %v", with, messages, tt.want, tt.messages)
			}
		})
	}
}

func TestTicketRelationsWithoutAnOperationJoinNothing(t *testing.T) {
	if with, messages := ticketRelations(context.Background()); with != (sportello.TicketRelations{}) || messages {
		t.Errorf("ticketRelations = %+v, messages %v; want nothing", with, messages)
	}
}

// resolvingFirstField returns the context in which the first field of query's operation is
// resolved.
func resolvingFirstField(t *testing.T, schema *ast.Schema, query string, vars map[string]any) context.Context {
	t.Helper()
	doc, errs := gqlparser.LoadQuery(schema, query)
	if errs != nil {
		t.Fatal(errs)
	}
	op := doc.Operations[0]
	oc := &graphql.OperationContext{RawQuery: query, Variables: vars, Doc: doc, Operation: op}
	field := op.SelectionSet[0].(*ast.Field)
	ctx := graphql.WithOperationContext(context.Background(), oc)
	return graphql.WithFieldContext(ctx, &graphql.FieldContext{Field: graphql.CollectedField{Field: field, Selections: field.SelectionSet}})
}
