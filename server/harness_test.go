package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
	"github.com/sportello/sportello/db/dbtest"
	"github.com/sportello/sportello/graph"
	"github.com/sportello/sportello/server/auth"
)

const testSecret = "test-secret-that-is-long-enough-for-hs256-signing"

// testServer is the real server, on a free port, over a fresh database.
type testServer struct {
	URL     string
	dbURL   string
	DB      *db.DB
	Counter *dbtest.Counter
	t       *testing.T
}

func startServer(t *testing.T, opts ...func(*Config)) *testServer {
	t.Helper()
	dbURL := dbtest.NewURL(t)
	d, counter := dbtest.OpenCounting(t, dbURL)
	redisURL := os.Getenv("REDIS_URL")
	if redisURL == "" {
		t.Fatal("REDIS_URL is not set: run the tests with `make test`, which starts PostgreSQL and Redis")
	}
	ropts, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(ropts)
	t.Cleanup(func() { rdb.Close() })
	cfg := Config{DevSecret: testSecret, MaxBodyBytes: 1 << 20, ComplexityMax: 5000, LoaderWait: graph.DefaultLoaderWait}
	for _, o := range opts {
		o(&cfg)
	}
	app, err := NewApp(cfg, d, rdb)
	if err != nil {
		t.Fatal(err)
	}
	hubCtx, stopHub := context.WithCancel(context.Background())
	hubDone := make(chan struct{})
	go func() {
		defer close(hubDone)
		app.Hub.Run(hubCtx)
	}()
	// Only the requests' statements are counted, not the live feed's polls in the background.
	counter.OnlyMarked = true
	handler := app.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler.ServeHTTP(w, r.WithContext(dbtest.Mark(r.Context())))
	}))
	t.Cleanup(func() {
		srv.Close()
		stopHub()
		<-hubDone
	})
	return &testServer{URL: srv.URL, dbURL: dbURL, DB: d, Counter: counter, t: t}
}

// token mints a development token for a user of the default tenant.
func (s *testServer) token(role sportello.Role, subject string) string {
	s.t.Helper()
	return s.tokenFor(auth.Claims{Subject: subject, Roles: []sportello.Role{role},
		GivenName: "Nome" + subject, FamilyName: "Cognome", Email: subject + "@example.it"})
}

func (s *testServer) tokenFor(c auth.Claims) string {
	s.t.Helper()
	tok, err := auth.MintDev(testSecret, c, time.Hour)
	if err != nil {
		s.t.Fatal(err)
	}
	return tok
}

type gqlError struct {
	Message    string `json:"message"`
	Extensions struct {
		Code  string `json:"code"`
		Field string `json:"field"`
	} `json:"extensions"`
}

type gqlResponse struct {
	Status int
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
	Raw    string
}

// do posts a GraphQL operation as the holder of token ("" for anonymous).
func (s *testServer) do(token, query string, vars map[string]any) *gqlResponse {
	s.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, s.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(res.Body)
	out := &gqlResponse{Status: res.StatusCode, Raw: buf.String()}
	if err := json.Unmarshal(buf.Bytes(), out); err != nil {
		s.t.Fatalf("decode response %q: %v", buf.String(), err)
	}
	return out
}

// ok posts an operation that must succeed and decodes its data into out.
func (s *testServer) ok(token, query string, vars map[string]any, out any) {
	s.t.Helper()
	r := s.do(token, query, vars)
	if len(r.Errors) > 0 {
		s.t.Fatalf("unexpected errors: %s", r.Raw)
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			s.t.Fatalf("decode data %s: %v", r.Data, err)
		}
	}
}

// fails posts an operation that must fail with code (and field, when given).
func (s *testServer) fails(token, query string, vars map[string]any, code sportello.Code, field string) *gqlResponse {
	s.t.Helper()
	r := s.do(token, query, vars)
	if len(r.Errors) == 0 {
		s.t.Fatalf("expected %s, got success: %s", code, r.Raw)
	}
	e := r.Errors[0]
	if e.Extensions.Code != string(code) || (field != "" && e.Extensions.Field != field) {
		s.t.Fatalf("expected %s on %q, got %s", code, field, r.Raw)
	}
	return r
}

// count returns a count from the database, to check what was (not) written.
func (s *testServer) count(query string, args ...any) int {
	s.t.Helper()
	var n int
	if err := s.DB.Get(&n, query, args...); err != nil {
		s.t.Fatal(err)
	}
	return n
}

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
