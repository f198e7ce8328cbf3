package graph

import (
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

func TestMeasureCountsWhatTheLimitsBound(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  shape
	}{
		{"flat", `{ a b c }`, shape{depth: 1}},
		{"nested", `{ a { b { c } } }`, shape{depth: 3}},
		{"deepest branch wins", `{ a { b } c { d { e { f } } } }`, shape{depth: 4}},
		{"inline fragments add no depth", `{ a { ... on T { b { c } } } }`, shape{depth: 3}},
		{"fragment spreads count at their depth", `{ a { ...F } } fragment F on T { b { c } }`, shape{depth: 3}},
		{"aliases", `{ x: a y: a z: a { w: b } }`, shape{depth: 2, aliases: 4}},
		{"an alias equal to the name is not one", `{ a: a }`, shape{depth: 1}},
		{"aliases in a fragment count at every spread", `{ ...F ...F } fragment F on Query { x: a }`, shape{depth: 1, aliases: 2}},
		{"directives", `query Q @d { a @include(if: true) @skip(if: false) { b @d } }`, shape{depth: 2, directives: 4}},
		{"directives in a fragment count once", `{ ...F ...F } fragment F on Query @d { a @d }`, shape{depth: 1, directives: 2}},
		{"introspection is left out", `{ __schema { types { fields { type { ofType { name } } } } } a }`, shape{depth: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := parser.ParseQuery(&ast.Source{Input: tt.query})
			if err != nil {
				t.Fatal(err)
			}
			if got := measure(doc, doc.Operations[0]); got != tt.want {
				t.Errorf("measure(%s) = %+v, want %+v", tt.query, got, tt.want)
			}
		})
	}
}

func TestLimitsDefaultToGraphQLArmors(t *testing.T) {
	got := Limits{MaxAliases: 3}.withDefaults()
	want := Limits{MaxDepthAnonymous: 6, MaxDepthSignedIn: DefaultMaxDepthSignedIn, MaxAliases: 3, MaxDirectives: 50, MaxTokens: 1000}
	if got != want {
		t.Errorf("withDefaults = %+v, want %+v", got, want)
	}
}
