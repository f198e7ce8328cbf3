package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	sportello "github.com/sportello/sportello"
)

// send makes a raw HTTP request to the server and returns the response with its body read.
func (s *testServer) send(method, path string, header http.Header, body io.Reader) (*http.Response, string) {
	s.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, s.URL+path, body)
	if err != nil {
		s.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestOperationsPastAShapeLimitAreRefused(t *testing.T) {
	s := startServer(t, func(c *Config) {
		c.Limits.MaxDepthAnonymous = 2
		c.Limits.MaxDepthSignedIn = 3
	})
	operator := s.token(sportello.RoleOperator, "op-1")
	repeat := func(part string, n int) string { return strings.Repeat(part+" ", n) }
	aliases := func(n int) string {
		var b strings.Builder
		for i := range n {
			b.WriteString("o" + strconv.Itoa(i) + ": offices { id } ")
		}
		return "{ " + b.String() + "}"
	}
	tests := []struct {
		name    string
		token   string
		query   string
		refused bool
	}{
		{"anonymous within depth", "", `{ offices { id } }`, false},
		{"anonymous too deep", "", `{ offices { hours { weekday } } }`, true},
		{"signed-in callers go deeper", operator, `{ offices { hours { weekday } } }`, false},
		{"signed-in too deep", operator, `{ tickets { edges { node { id } } } }`, true},
		{"15 aliases", "", aliases(15), false},
		{"16 aliases", "", aliases(16), true},
		{"50 directives", "", `{ offices { ` + repeat("id @include(if: true)", 50) + `} }`, false},
		{"51 directives", "", `{ offices { ` + repeat("id @include(if: true)", 51) + `} }`, true},
		{"under 1,000 tokens", "", `{ offices { ` + repeat("id", 990) + `} }`, false},
		{"over 1,000 tokens", "", `{ offices { ` + repeat("id", 1000) + `} }`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.refused {
				s.ok(tt.token, tt.query, nil, nil)
				return
			}
			r := s.fails(tt.token, tt.query, nil, sportello.CodeBadUserInput, "")
			if !strings.Contains(r.Errors[0].Message, "limit") {
				t.Errorf("the message does not name the limit: %s", r.Raw)
			}
		})
	}
}

func TestCostlyOperationIsRefused(t *testing.T) {
	s := startServer(t)
	operator := s.token(sportello.RoleOperator, "op-1")
	// 100 tickets × 100 citizens' worth of fields is far past the cost limit of 5,000.
	fields := strings.Repeat("id protocolNumber subject body status ", 20)
	r := s.fails(operator, `{ tickets(first: 100) { edges { node { `+fields+` } } } }`, nil, sportello.CodeBadUserInput, "")
	if !strings.Contains(r.Errors[0].Message, "complexity") {
		t.Errorf("message: %s", r.Raw)
	}
}

func TestRequestBodiesPastTheCapGet413(t *testing.T) {
	s := startServer(t, func(c *Config) { c.MaxBodyBytes = 1024 })
	big := `{"query":"{ offices { id } }","variables":{"pad":"` + strings.Repeat("x", 2000) + `"}}`
	json := http.Header{"Content-Type": {"application/json"}}
	res, body := s.send(http.MethodPost, "/graphql", json, strings.NewReader(big))
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("declared length: status %d %s", res.StatusCode, body)
	}
	// A chunked body declares no length: it is read up to the cap and refused there.
	res, body = s.send(http.MethodPost, "/graphql", json, io.MultiReader(strings.NewReader(big)))
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked: status %d %s", res.StatusCode, body)
	}
	res, body = s.send(http.MethodPost, "/graphql", json, strings.NewReader(`{"query":"{ offices { id } }"}`))
	if res.StatusCode != http.StatusOK {
		t.Errorf("small body: status %d %s", res.StatusCode, body)
	}
}

func TestGraphQLOverHTTP(t *testing.T) {
	s := startServer(t)
	get := func(query string, header http.Header) (*http.Response, string) {
		return s.send(http.MethodGet, "/graphql?query="+url.QueryEscape(query), header, nil)
	}
	t.Run("mutations are never sent with GET", func(t *testing.T) {
		res, body := get(`mutation { __typename }`, nil)
		if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "POST" {
			t.Errorf("status %d, Allow %q: %s", res.StatusCode, res.Header.Get("Allow"), body)
		}
	})
	t.Run("queries are served with GET", func(t *testing.T) {
		res, body := get(`{ offices { id } }`, nil)
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
			t.Errorf("status %d, %s: %s", res.StatusCode, res.Header.Get("Content-Type"), body)
		}
	})
	t.Run("application/graphql-response+json when accepted, with 400 for a bad document", func(t *testing.T) {
		accept := http.Header{"Accept": {"application/graphql-response+json"}}
		res, body := get(`{ offices { id } }`, accept)
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/graphql-response+json" {
			t.Errorf("status %d, %s: %s", res.StatusCode, res.Header.Get("Content-Type"), body)
		}
		res, body = get(`{ offices { nosuchfield } }`, accept)
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("invalid document: status %d: %s", res.StatusCode, body)
		}
		res, body = s.send(http.MethodPost, "/graphql", http.Header{"Accept": {"application/graphql-response+json"},
			"Content-Type": {"application/json"}}, strings.NewReader(`{"query":"{ offices {"}`))
		if res.StatusCode != http.StatusBadRequest || res.Header.Get("Content-Type") != "application/graphql-response+json" {
			t.Errorf("POST unparsable document: status %d, %s: %s", res.StatusCode, res.Header.Get("Content-Type"), body)
		}
	})
	t.Run("simple requests a form could send are refused", func(t *testing.T) {
		for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"} {
			res, body := s.send(http.MethodPost, "/graphql", http.Header{"Content-Type": {ct}},
				strings.NewReader(`{"query":"mutation { __typename }"}`))
			if res.StatusCode < 400 || res.StatusCode >= 500 {
				t.Errorf("%s: status %d: %s", ct, res.StatusCode, body)
			}
		}
	})
	t.Run("batches are refused", func(t *testing.T) {
		res, body := s.send(http.MethodPost, "/graphql", http.Header{"Content-Type": {"application/json"}},
			strings.NewReader(`[{"query":"{ offices { id } }"},{"query":"{ offices { id } }"}]`))
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("status %d: %s", res.StatusCode, body)
		}
	})
}

func TestPersistedQueriesAreSharedThroughRedis(t *testing.T) {
	query := `{ offices { id name } }`
	hash := sha256Hex(query)
	ext := `{"persistedQuery":{"version":1,"sha256Hash":"` + hash + `"}}`
	first := startServer(t)
	res, body := first.send(http.MethodPost, "/graphql", http.Header{"Content-Type": {"application/json"}},
		strings.NewReader(`{"query":`+strconv.Quote(query)+`,"extensions":`+ext+`}`))
	if res.StatusCode != http.StatusOK || strings.Contains(body, "errors") {
		t.Fatalf("register: %d %s", res.StatusCode, body)
	}
	// Another instance knows the hash: a GET with the hash alone is served.
	second := startServer(t)
	res, body = second.send(http.MethodGet, "/graphql?extensions="+url.QueryEscape(ext), nil, nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `"offices"`) {
		t.Fatalf("by hash: %d %s", res.StatusCode, body)
	}
}

func TestRateLimits(t *testing.T) {
	s := startServer(t, func(c *Config) {
		c.RateLimits = RateLimits{UserPerMinute: 3, IPPerMinute: 1000, AnonymousFilingsPerHour: 1}
	})
	s.forgetRates(t)
	citizen := s.token(sportello.RoleCitizen, "rate-"+strconv.FormatInt(time.Now().UnixNano(), 36))

	t.Run("per user, with 429 and Retry-After", func(t *testing.T) {
		for range 3 {
			s.ok(citizen, `{ me { id } }`, nil, nil)
		}
		r := s.do(citizen, `{ me { id } }`, nil)
		if r.Status != http.StatusTooManyRequests || len(r.Errors) == 0 || r.Errors[0].Extensions.Code != string(sportello.CodeRateLimited) {
			t.Fatalf("4th request: %d %s", r.Status, r.Raw)
		}
		res, _ := s.send(http.MethodPost, "/graphql", http.Header{"Content-Type": {"application/json"},
			"Authorization": {"Bearer " + citizen}}, strings.NewReader(`{"query":"{ me { id } }"}`))
		if secs, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || secs < 1 || secs > 60 {
			t.Errorf("Retry-After %q", res.Header.Get("Retry-After"))
		}
	})
	t.Run("anonymous filing is stricter", func(t *testing.T) {
		s.submit("", ticketInput("REPORT", "Lampione spento"))
		before := s.count(`SELECT count(*) FROM tickets`)
		r := s.fails("", submitMutation, map[string]any{"in": ticketInput("REPORT", "Buca")}, sportello.CodeRateLimited, "")
		if r.Status != http.StatusTooManyRequests {
			t.Errorf("status %d", r.Status)
		}
		if n := s.count(`SELECT count(*) FROM tickets`); n != before {
			t.Errorf("a refused filing wrote a ticket: %d, then %d", before, n)
		}
		// Reading stays open to the same address.
		s.ok("", `{ offices { id } }`, nil, nil)
	})
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// forgetRates clears the budgets of the test client's address, which earlier runs of the
// tests (sharing the Redis) may have spent.
func (s *testServer) forgetRates(t *testing.T) {
	t.Helper()
	opts, err := redis.ParseURL(os.Getenv("REDIS_URL"))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	for _, ip := range []string{"127.0.0.1", "::1"} {
		if err := rdb.Del(context.Background(), "rate:ip:"+ip, "rate:file:"+ip).Err(); err != nil {
			t.Fatal(err)
		}
	}
}
