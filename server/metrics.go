package main

import (
	"crypto/subtle"
	"database/sql"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus metrics, in a registry of their own so that tests can run
// several servers in one process.
type metrics struct {
	registry      *prometheus.Registry
	operations    *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	subscriptions prometheus.Gauge
	responses     *prometheus.CounterVec
	fanoutLag     prometheus.Histogram
}

func newMetrics(pool *sql.DB) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sportello_graphql_operations_total",
			Help: "GraphQL queries and mutations by operation (type and first root field) and outcome (OK or the first error's code).",
		}, []string{"operation", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sportello_graphql_operation_duration_seconds",
			Help:    "Time to execute GraphQL queries and mutations, by operation.",
			Buckets: []float64{.002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"operation"}),
		subscriptions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sportello_graphql_active_subscriptions",
			Help: "GraphQL subscriptions running on this instance.",
		}),
		responses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sportello_http_responses_total",
			Help: "HTTP responses of /graphql by status code, including the requests refused before GraphQL runs (413, 429, 401).",
		}, []string{"code"}),
		fanoutLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sportello_live_fanout_lag_seconds",
			Help:    "Time from an event's transaction (its at) to its dispatch to this instance's subscribers by the live feed.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
	}
	m.registry.MustRegister(m.operations, m.latency, m.subscriptions, m.responses, m.fanoutLag,
		collectors.NewDBStatsCollector(pool, "sportello"),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// OperationDone counts an operation. See graph.Observer.
func (m *metrics) OperationDone(operation, outcome string, took time.Duration) {
	m.operations.WithLabelValues(operation, outcome).Inc()
	m.latency.WithLabelValues(operation).Observe(took.Seconds())
}

// SubscriptionStarted counts a running subscription. See graph.Observer.
func (m *metrics) SubscriptionStarted(string) func() {
	m.subscriptions.Inc()
	return m.subscriptions.Dec
}

// Dispatched observes the fanout lag of an event. See live.Config.
func (m *metrics) Dispatched(lag time.Duration) { m.fanoutLag.Observe(lag.Seconds()) }

// handler serves the metrics. With a token, only scrapers that send it as a bearer token get
// them: the numbers describe the service's load and weak spots, which are not for the public.
func (m *metrics) handler(token string) http.Handler {
	h := promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
	if token == "" {
		return h
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", "Bearer")
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// countResponses counts the responses of next by status code.
func (m *metrics) countResponses(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		m.responses.WithLabelValues(strconv.Itoa(sw.status)).Inc()
	})
}

// statusWriter remembers the status code written through it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

// Unwrap lets http.ResponseController and the WebSocket upgrade reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
