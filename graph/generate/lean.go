package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"go/types"
	"maps"
	"os"
	"slices"

	"github.com/99designs/gqlgen/codegen"
	gqlast "github.com/vektah/gqlparser/v2/ast"
)

// leanFields is a gqlgen plugin that finds the fields gqlgen serves at a cost out of proportion
// to what they do, and then rewrites their functions in the executable schema.
//
// gqlgen resolves every field alike: a field context, a context holding it, the field
// middleware, a recover, the result boxed in an interface and a closure to marshal it, nine
// allocations besides the marshaller's own. For a field that only reads a struct field holding
// a string, a number, a boolean, an enum or a time, all of that guards against nothing: reading
// the field cannot fail or panic and its marshaller cannot fail. Such fields are most of a
// response (fifty of the fifty-one fields of a catalogue search, about 160 of an operator's
// queue of twenty tickets). Rewritten, such a field is one call to its marshaller, exactly what
// gqlgen's own path ends in.
//
// A Float is the one scalar whose marshaller can fail: it refuses NaN and the infinities, with an
// error on the field's path. A non-null Float read from a struct field is rewritten to take the
// short path when its value is finite and gqlgen's path otherwise.
//
// What the rewritten fields no longer do, and why nothing depends on it: the field middleware
// does not see them (graph.MarkInternal only acts on errors, which they cannot have); no field
// context is pushed for them (only errors and child fields read it, and they have neither).
type leanFields struct {
	// bodies holds, by the name of each field's function, its new body.
	bodies map[string]body
}

// body is the new body of a field's function: short alone, or short followed by the function's
// own statements when short returns only in some cases.
type body struct {
	short        string
	keepOriginal bool
}

func (*leanFields) Name() string { return "leanfields" }

// GenerateCode runs before gqlgen writes the executable schema: it only reads the fields.
func (l *leanFields) GenerateCode(data *codegen.Data) error {
	l.bodies = map[string]body{}
	if len(data.AllDirectives.LocationDirectives("FIELD")) > 0 {
		// Every field then passes through the directives' middleware, which gqlgen calls
		// from the path this plugin would remove.
		return nil
	}
	for _, o := range data.Objects {
		for _, f := range o.Fields {
			name := "_" + o.Name + "_" + f.Name
			switch {
			case lean(f):
				l.bodies[name] = body{short: "return " + marshal(f, "obj."+f.GoFieldName)}
			case finiteFloat(f):
				// v-v is 0 for every finite v, and NaN for NaN and the infinities.
				l.bodies[name] = body{short: "if v := obj." + f.GoFieldName + "; v-v == 0 {\n\treturn " + marshal(f, "v") + "\n}",
					keepOriginal: true}
			}
		}
	}
	return nil
}

// marshal is the call of f's marshaller on the Go expression v.
func marshal(f *codegen.Field, v string) string {
	return "ec." + f.TypeReference.MarshalFunc() + "(ctx, field.Selections, " + v + ")"
}

// lean reports whether f reads a struct field of its object directly (not a resolver, a
// method, a map or a field promoted from an embedded struct, which may be a nil pointer) and
// returns a scalar or enum whose marshaller cannot fail: not a list, not a value that marshals
// with a context (Float does, to refuse NaN), and not a pointer behind a non-null type, whose nil
// is an error.
func lean(f *codegen.Field) bool {
	o, t := f.Object, f.TypeReference
	if o.Root || o.Stream || f.IsResolver || f.IsBatch() || !f.IsVariable() || f.HasHaser ||
		len(f.Args) > 0 || len(f.Directives) > 0 || !declares(o.Type, f.GoFieldName) {
		return false
	}
	if t == nil || t.Definition == nil || (t.Definition.Kind != gqlast.Scalar && t.Definition.Kind != gqlast.Enum) {
		return false
	}
	return !t.IsSlice() && !t.IsContext && !t.IsOmittable && !t.IsPtrToPtr() && !(t.GQL.NonNull && t.IsNilable())
}

// finiteFloat reports whether f reads a non-null Float, held as a float64, directly from a
// struct field of its object, with gqlgen's own marshaller.
func finiteFloat(f *codegen.Field) bool {
	t := f.TypeReference
	if t == nil || t.Definition == nil || t.Definition.Name != "Float" || !t.IsContext || t.Marshaler == nil ||
		t.Marshaler.FullName() != "github.com/99designs/gqlgen/graphql.MarshalFloatContext" ||
		!types.Identical(t.GO, types.Typ[types.Float64]) || !t.GQL.NonNull {
		return false
	}
	plain := *t
	plain.IsContext = false
	g := *f
	g.TypeReference = &plain
	return lean(&g)
}

// declares reports whether the struct type t (or the struct it points to) declares a field
// called name itself, rather than through an embedded struct.
func declares(t types.Type, name string) bool {
	if t == nil {
		return false
	}
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	s, ok := t.Underlying().(*types.Struct)
	if !ok {
		return false
	}
	for i := range s.NumFields() {
		if f := s.Field(i); f.Name() == name && !f.Embedded() {
			return true
		}
	}
	return false
}

// eagerGroup is how gqlgen begins to resolve every object: it makes the object's group of
// deferred fields (@defer), for which it computes the object's path by walking up the field
// contexts, one slice and one interface per step, and makes a field set and a map.
const eagerGroup = "\tdeferred := graphql.NewDeferredGroup(ctx)\n"

// lazyGroup makes the group only when one of the object's collected fields is deferred. gqlgen
// reads the group only for such a field (FieldSet.ResolveConcurrently) and once the fields are
// resolved, for the deferred ones it holds (len(deferred.Defers)): for every other object an
// empty group does the same. The groups were 14% of the allocations of an operator's list of
// twenty tickets, one group for each ticket, edge, citizen, office and message.
const lazyGroup = `	var deferred graphql.DeferredGroup
	for _, f := range fields {
		if f.IsDeferred() {
			deferred = graphql.NewDeferredGroup(ctx)
			break
		}
	}
`

// rewrite replaces the bodies of the lean fields' functions in the file gqlgen wrote, and has
// every object make its group of deferred fields only when it has one (lazyGroup). It fails
// if a field found by GenerateCode has no function there, so that a change in gqlgen's output
// stops the generation instead of leaving fields behind unnoticed.
func (l *leanFields) rewrite(filename string) error {
	src, err := os.ReadFile(filename)
	if err != nil {
		return err
	}
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, filename, src, parser.SkipObjectResolution)
	if err != nil {
		return err
	}
	// The declarations are in the file's order, so the output is built front to back.
	var out bytes.Buffer
	copied := 0
	for _, d := range file.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Recv == nil || fn.Body == nil {
			continue
		}
		b, ok := l.bodies[fn.Name.Name]
		if !ok {
			continue
		}
		delete(l.bodies, fn.Name.Name)
		from, to := fset.Position(fn.Body.Lbrace).Offset+1, fset.Position(fn.Body.Rbrace).Offset
		out.Write(src[copied:from])
		out.WriteString("\n\t" + b.short + "\n")
		// A kept body follows the new statements, so it is copied with the rest.
		copied = to
		if b.keepOriginal {
			copied = from
		}
	}
	if len(l.bodies) > 0 {
		return fmt.Errorf("leanfields: no function %s in %s", slices.Sorted(maps.Keys(l.bodies))[0], filename)
	}
	out.Write(src[copied:])
	formatted, err := format.Source(bytes.ReplaceAll(out.Bytes(), []byte(eagerGroup), []byte(lazyGroup)))
	if err != nil {
		return fmt.Errorf("leanfields: %w", err)
	}
	if bytes.Equal(formatted, src) {
		return nil
	}
	return os.WriteFile(filename, formatted, 0o644)
}
