package db_test

import (
	"strings"
	"testing"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
	"github.com/sportello/sportello/db/dbtest"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func TestStatementsOfATracedOperationAreSpansWithoutTheirArguments(t *testing.T) {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	connector, err := db.TracedConnector(dbtest.NewURL(t), tp.Tracer("test"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := db.OpenConnector(t.Context(), connector)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	const query = `SELECT count(*) FROM offices WHERE name <> $1`
	var n int

	// Statements that no traced operation runs, such as the live feed's polls, make no traces.
	if err := d.GetContext(managerCtx(sportello.DefaultTenantID), &n, query, "Mario Rossi"); err != nil {
		t.Fatal(err)
	}
	if got := spans.GetSpans(); len(got) != 0 {
		t.Fatalf("an untraced statement made %d spans", len(got))
	}

	ctx, op := tp.Tracer("test").Start(managerCtx(sportello.DefaultTenantID), "operation")
	if err := d.GetContext(ctx, &n, query, "Mario Rossi"); err != nil {
		t.Fatal(err)
	}
	op.End()
	var sql []tracetest.SpanStub
	for _, s := range spans.GetSpans() {
		if s.Name == "sql" {
			sql = append(sql, s)
		}
	}
	if len(sql) != 1 || sql[0].Parent.SpanID() != op.SpanContext().SpanID() {
		t.Fatalf("sql spans %+v, want one child of the operation", sql)
	}
	if !hasAttribute(sql[0].Attributes, attribute.String("db.query.text", query)) {
		t.Errorf("the span lacks the statement: %v", sql[0].Attributes)
	}
	for _, a := range sql[0].Attributes {
		if strings.Contains(a.Value.Emit(), "Mario") {
			t.Errorf("the span carries an argument: %v", a)
		}
	}
}

func hasAttribute(attrs []attribute.KeyValue, want attribute.KeyValue) bool {
	for _, a := range attrs {
		if a == want {
			return true
		}
	}
	return false
}
