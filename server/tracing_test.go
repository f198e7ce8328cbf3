package main

import (
	"context"
	"testing"
)

func TestTracingIsOnlyWhenACollectorIsNamed(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	if tp, err := setupTracing(context.Background()); tp != nil || err != nil {
		t.Fatalf("without a collector: %v, %v", tp, err)
	}
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
	tp, err := setupTracing(context.Background())
	if err != nil || tp == nil {
		t.Fatalf("with a collector: %v, %v", tp, err)
	}
	if err := tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}
