package main

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func TestMetricsCountOperationsOutcomesAndResponses(t *testing.T) {
	s := startServer(t, func(c *Config) { c.MaxBodyBytes = 100 })
	s.ok("", `{ offices { id } }`, nil, nil)
	s.fails("", `{ me { id } }`, nil, sportello.CodeUnauthenticated, "")
	s.send(http.MethodPost, "/graphql", http.Header{"Content-Type": {"application/json"}}, strings.NewReader(strings.Repeat(" ", 200)))

	res, body := s.send(http.MethodGet, "/metrics", nil, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	for _, want := range []string{
		`sportello_graphql_operations_total{operation="query offices",outcome="OK"} 1`,
		`sportello_graphql_operations_total{operation="query me",outcome="UNAUTHENTICATED"} 1`,
		`sportello_graphql_operation_duration_seconds_count{operation="query offices"} 1`,
		`sportello_graphql_active_subscriptions 0`,
		`sportello_http_responses_total{code="413"} 1`,
		`go_sql_max_open_connections{db_name="sportello"} ` + strconv.Itoa(db.DefaultPoolSize()),
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestProductionServesMetricsOnlyWithTheToken(t *testing.T) {
	closed := startServer(t, func(c *Config) { c.Production = true })
	if res, _ := closed.send(http.MethodGet, "/metrics", nil, nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("without METRICS_TOKEN: status %d", res.StatusCode)
	}
	s := startServer(t, func(c *Config) { c.Production, c.MetricsToken = true, "scrape-secret" })
	if res, _ := s.send(http.MethodGet, "/metrics", nil, nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: status %d", res.StatusCode)
	}
	if res, _ := s.send(http.MethodGet, "/metrics", http.Header{"Authorization": {"Bearer scrape-secret"}}, nil); res.StatusCode != http.StatusOK {
		t.Errorf("with the token: status %d", res.StatusCode)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	s := startServer(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		if res, body := s.send(http.MethodGet, path, nil, nil); res.StatusCode != http.StatusOK {
			t.Errorf("%s: %d %s", path, res.StatusCode, body)
		}
	}
	if _, err := s.DB.Exec(`DELETE FROM schema_migrations WHERE version = '0014_privacy'`); err != nil {
		t.Fatal(err)
	}
	if res, _ := s.send(http.MethodGet, "/readyz", nil, nil); res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("with a migration not applied: status %d", res.StatusCode)
	}
}

func TestMetricsShowTheFanoutLagOfEveryDispatchedEvent(t *testing.T) {
	s := startServer(t)
	s.submit(s.token("CITIZEN", "alice"), ticketInput("REPORT", "Lampione spento"))
	// Filing writes one event, which the live feed dispatches once it is safe to read.
	want := `sportello_live_fanout_lag_seconds_count 1`
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body := s.send(http.MethodGet, "/metrics", nil, nil)
		if strings.Contains(body, want) && strings.Contains(body, `sportello_live_fanout_lag_seconds_bucket{le="+Inf"} 1`) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics lack %s after 10s", want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestTracesHaveASpanPerOperationInTheCallersTrace(t *testing.T) {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	s := startServer(t, func(c *Config) { c.Tracer = tp.Tracer("test") })
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	res, body := s.send(http.MethodPost, "/graphql", http.Header{"Content-Type": {"application/json"},
		"Traceparent": {"00-" + traceID + "-00f067aa0ba902b7-01"}}, strings.NewReader(`{"query":"{ offices { id } }"}`))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	for _, span := range spans.GetSpans() {
		if span.Name == "graphql query offices" {
			if got := span.SpanContext.TraceID().String(); got != traceID {
				t.Errorf("the operation's span is in trace %s, not the caller's %s", got, traceID)
			}
			return
		}
	}
	t.Fatalf("no span for the operation among %d", len(spans.GetSpans()))
}
