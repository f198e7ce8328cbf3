package main

import (
	"go/types"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/codegen"
	"github.com/99designs/gqlgen/codegen/config"
	"github.com/vektah/gqlparser/v2/ast"
)

// hit is the Go type of the object the fields below belong to: a struct with a string, a float,
// a pointer to a string, a slice and an embedded struct, as the domain types have.
func hit() types.Type {
	pkg := types.NewPackage("example.com/domain", "domain")
	inner := types.NewStruct([]*types.Var{types.NewField(0, pkg, "Code", types.Typ[types.String], false)}, nil)
	embedded := types.NewNamed(types.NewTypeName(0, pkg, "Base", nil), inner, nil)
	return types.NewPointer(types.NewStruct([]*types.Var{
		types.NewField(0, pkg, "Title", types.Typ[types.String], false),
		types.NewField(0, pkg, "Score", types.Typ[types.Float64], false),
		types.NewField(0, pkg, "Note", types.NewPointer(types.Typ[types.String]), false),
		types.NewField(0, pkg, "Tags", types.NewSlice(types.Typ[types.String]), false),
		types.NewField(0, pkg, "Base", embedded, true),
	}, nil))
}

// field builds the field goName of hit with the GraphQL type gql of kind kind and Go type goType.
func field(t *testing.T, goName string, kind ast.DefinitionKind, gql *ast.Type, goType types.Type, edit func(*codegen.Field)) *codegen.Field {
	t.Helper()
	f := &codegen.Field{
		FieldDefinition: &ast.FieldDefinition{Name: strings.ToLower(goName), Type: gql},
		GoFieldType:     codegen.GoFieldVariable,
		GoFieldName:     goName,
		Object:          &codegen.Object{Definition: &ast.Definition{Name: "Hit", Kind: ast.Object}, Type: hit()},
		TypeReference: &config.TypeReference{
			Definition: &ast.Definition{Name: gql.Name(), Kind: kind},
			GQL:        gql,
			GO:         goType,
		},
	}
	if edit != nil {
		edit(f)
	}
	return f
}

func TestLeanTakesOnlyPlainReadsOfScalarsThatCannotFail(t *testing.T) {
	str := types.Typ[types.String]
	tests := []struct {
		name  string
		field *codegen.Field
		want  bool
	}{
		{"a non-null string", field(t, "Title", ast.Scalar, ast.NonNullNamedType("String", nil), str, nil), true},
		{"an enum", field(t, "Title", ast.Enum, ast.NonNullNamedType("SearchType", nil), str, nil), true},
		{"a nullable pointer", field(t, "Note", ast.Scalar, ast.NamedType("String", nil), types.NewPointer(str), nil), true},
		{"a non-null pointer, whose nil is an error", field(t, "Note", ast.Scalar, ast.NonNullNamedType("String", nil), types.NewPointer(str), nil), false},
		{"a context marshaller (Float)", field(t, "Score", ast.Scalar, ast.NonNullNamedType("Float", nil), types.Typ[types.Float64],
			func(f *codegen.Field) { f.TypeReference.IsContext = true }), false},
		{"a list", field(t, "Tags", ast.Scalar, ast.NonNullListType(ast.NonNullNamedType("String", nil), nil), types.NewSlice(str), nil), false},
		{"an object", field(t, "Title", ast.Object, ast.NonNullNamedType("Office", nil), str, nil), false},
		{"a resolver", field(t, "Title", ast.Scalar, ast.NonNullNamedType("String", nil), str,
			func(f *codegen.Field) { f.IsResolver = true }), false},
		{"a method", field(t, "Title", ast.Scalar, ast.NonNullNamedType("String", nil), str,
			func(f *codegen.Field) { f.GoFieldType = codegen.GoFieldMethod }), false},
		{"a field with arguments", field(t, "Title", ast.Scalar, ast.NonNullNamedType("String", nil), str,
			func(f *codegen.Field) { f.Args = []*codegen.FieldArgument{{}} }), false},
		{"a field with a directive", field(t, "Title", ast.Scalar, ast.NonNullNamedType("String", nil), str,
			func(f *codegen.Field) { f.Directives = []*codegen.Directive{{}} }), false},
		{"a field promoted from an embedded struct", field(t, "Code", ast.Scalar, ast.NonNullNamedType("String", nil), str, nil), false},
		{"a field of the query root", field(t, "Title", ast.Scalar, ast.NonNullNamedType("String", nil), str,
			func(f *codegen.Field) { f.Object.Root = true }), false},
		{"a batch resolver", field(t, "Title", ast.Scalar, ast.NonNullNamedType("String", nil), str,
			func(f *codegen.Field) { f.Batch = true }), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lean(tt.field); got != tt.want {
				t.Errorf("lean = %v, want %v", got, tt.want)
			}
		})
	}
}

const exec = `package generated

func (ec *executionContext) _Hit_title(ctx context.Context, field graphql.CollectedField, obj *domain.Hit) (ret graphql.Marshaler) {
	return graphql.ResolveField(
		ctx,
		ec.OperationContext,
		field,
		nil,
	)
}

func (ec *executionContext) _Hit_item(ctx context.Context, field graphql.CollectedField, obj *domain.Hit) (ret graphql.Marshaler) {
	return graphql.ResolveField(ctx, ec.OperationContext, field, nil)
}
`

// rewritten runs rewrite with bodies over a file holding src, and returns the file after it.
func rewritten(t *testing.T, src string, bodies map[string]body) (string, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "generated.go")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	err := (&leanFields{bodies: bodies}).rewrite(path)
	got, readErr := os.ReadFile(path)
	if readErr != nil {
		t.Fatal(readErr)
	}
	return string(got), err
}

func TestRewriteReplacesOnlyTheLeanFieldsBodies(t *testing.T) {
	got, err := rewritten(t, exec, map[string]body{"_Hit_title": {short: "return ec.marshalNString2string(ctx, field.Selections, obj.Title)"}})
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(exec, `	return graphql.ResolveField(
		ctx,
		ec.OperationContext,
		field,
		nil,
	)
`, "\treturn ec.marshalNString2string(ctx, field.Selections, obj.Title)\n", 1)
	if got != want {
		t.Errorf("rewritten file:\n%s\nwant:\n%s", got, want)
	}
}

// float is the field Score of hit as gqlgen describes a Float: marshalled by
// graphql.MarshalFloatContext, with a context.
func float(t *testing.T, gql *ast.Type, goType types.Type) *codegen.Field {
	t.Helper()
	graphql := types.NewPackage("github.com/99designs/gqlgen/graphql", "graphql")
	sig := types.NewSignatureType(nil, nil, nil, types.NewTuple(types.NewVar(0, graphql, "f", types.Typ[types.Float64])), nil, false)
	return field(t, "Score", ast.Scalar, gql, goType, func(f *codegen.Field) {
		f.TypeReference.IsContext = true
		f.TypeReference.Marshaler = types.NewFunc(0, graphql, "MarshalFloatContext", sig)
	})
}

func TestFiniteFloatTakesOnlyNonNullFloatsReadFromAStructField(t *testing.T) {
	f64 := types.Typ[types.Float64]
	tests := []struct {
		name  string
		field *codegen.Field
		want  bool
	}{
		{"a non-null Float", float(t, ast.NonNullNamedType("Float", nil), f64), true},
		{"a nullable Float", float(t, ast.NamedType("Float", nil), types.NewPointer(f64)), false},
		{"a Float with another marshaller", field(t, "Score", ast.Scalar, ast.NonNullNamedType("Float", nil), f64,
			func(f *codegen.Field) { f.TypeReference.IsContext = true }), false},
		{"a Float from a resolver", func() *codegen.Field {
			f := float(t, ast.NonNullNamedType("Float", nil), f64)
			f.IsResolver = true
			return f
		}(), false},
		{"a String", field(t, "Title", ast.Scalar, ast.NonNullNamedType("String", nil), types.Typ[types.String], nil), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := finiteFloat(tt.field); got != tt.want {
				t.Errorf("finiteFloat = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRewriteKeepsTheOriginalBodyBehindAGuard(t *testing.T) {
	got, err := rewritten(t, exec, map[string]body{"_Hit_item": {short: "if obj.Ready {\n\treturn ec.marshalNItem(ctx, field.Selections, obj.Item)\n}", keepOriginal: true}})
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(exec, "\treturn graphql.ResolveField(ctx, ec.OperationContext, field, nil)\n",
		"\tif obj.Ready {\n\t\treturn ec.marshalNItem(ctx, field.Selections, obj.Item)\n\t}\n\n\treturn graphql.ResolveField(ctx, ec.OperationContext, field, nil)\n", 1)
	if got != want {
		t.Errorf("rewritten file:\n%s\nwant:\n%s", got, want)
	}
}

func TestRewriteFailsWhenAFieldHasNoFunction(t *testing.T) {
	got, err := rewritten(t, exec, map[string]body{"_Hit_score": {short: "return ec.marshalNFloat2float64(ctx, field.Selections, obj.Score)"}})
	if err == nil || !strings.Contains(err.Error(), "_Hit_score") {
		t.Fatalf("rewrite = %v, want an error naming _Hit_score", err)
	}
	if got != exec {
		t.Errorf("the file changed:\n%s", got)
	}
}

// object is the beginning of an object's function as gqlgen writes it.
const object = `package generated

func (ec *executionContext) _Hit(ctx context.Context, sel ast.SelectionSet, obj *Hit) graphql.Marshaler {
	fields := graphql.CollectFields(ec.OperationContext, sel, hitImplementors)

	out := graphql.NewFieldSet(fields)
	deferred := graphql.NewDeferredGroup(ctx)
	out.Dispatch(ctx)
	return out
}
`

func TestRewriteMakesAnObjectsDeferredGroupOnlyForADeferredField(t *testing.T) {
	got, err := rewritten(t, object, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Replace(object, eagerGroup, lazyGroup, 1); got != want {
		t.Errorf("rewritten file:\n%s\nwant:\n%s", got, want)
	}
}

// The executable schema is generated once and committed: this checks that every object in it
// makes its group of deferred fields the lazy way, so that a change in how gqlgen writes the
// group, which the rewrite would no longer find, fails here rather than going unnoticed.
func TestEveryGeneratedObjectMakesItsDeferredGroupLazily(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "generated", "generated.go"))
	if err != nil {
		t.Fatal(err)
	}
	made := strings.Count(string(src), "graphql.NewDeferredGroup(")
	lazy := strings.Count(string(src), lazyGroup)
	if lazy == 0 || made != lazy {
		t.Errorf("%d objects make their group lazily, of %d that make one", lazy, made)
	}
}
