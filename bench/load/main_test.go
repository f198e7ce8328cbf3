package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

func TestTheCPUTimeAndMemoryOfAProcessAreReadFromProc(t *testing.T) {
	pid := os.Getpid()
	start := cpuSeconds(pid)
	// Burn some CPU, so that the clock (100 ticks a second) moves.
	for deadline := time.Now().Add(50 * time.Millisecond); time.Now().Before(deadline); {
	}
	if got := cpuSeconds(pid); got <= start {
		t.Errorf("CPU time did not grow: %v then %v", start, got)
	}
	if kib := rssKiB(pid); kib < 1024 {
		t.Errorf("resident memory %d KiB, want at least a MiB", kib)
	}
}

func TestAProcessThatIsGoneReadsAsZero(t *testing.T) {
	if cpuSeconds(-1) != 0 || rssKiB(-1) != 0 {
		t.Error("want zero for a process that does not exist")
	}
}

func TestSendAcceptsOnlyA200WithDataAndNoErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/data":
			if r.Header.Get("Authorization") != "Bearer token" || r.Header.Get("Content-Type") != "application/json" {
				http.Error(w, "missing headers", http.StatusBadRequest)
				return
			}
			io.WriteString(w, `{"data":{"ticket":null}}`)
		case "/close":
			w.Header().Set("Connection", "close")
			io.WriteString(w, `{"data":{}}`)
		case "/errors":
			io.WriteString(w, `{"errors":[{"message":"boom"}],"data":null}`)
		default:
			http.Error(w, "no such page", http.StatusNotFound)
		}
	}))
	defer srv.Close()
	client := newClient(2)

	for _, tc := range []struct {
		path    string
		wantErr string
	}{
		{"/data", ""},
		{"/close", ""},
		{"/close", ""}, // a closed connection is replaced
		{"/errors", "boom"},
		{"/missing", "HTTP 404"},
	} {
		err := send(client, request{method: http.MethodPost, url: srv.URL + tc.path, token: "token", body: []byte(`{}`)})
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.path, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: got %v, want an error with %q", tc.path, err, tc.wantErr)
		}
	}
}

func TestDoHandsOverTheWholeOfAChunkedBody(t *testing.T) {
	want := strings.Repeat("0123456789", 10000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Written in pieces with flushes, so that it goes out chunked.
		for part := range slices.Chunk([]byte(want), 1000) {
			w.Write(part)
			w.(http.Flusher).Flush()
		}
	}))
	defer srv.Close()
	var got string
	err := do(&fasthttp.Client{}, request{method: http.MethodGet, url: srv.URL + "/"}, func(status int, body []byte) error {
		if status != http.StatusOK {
			t.Errorf("status %d", status)
		}
		got = string(body)
		return nil
	})
	if err != nil || got != want {
		t.Errorf("got %d bytes (%v), want %d", len(got), err, len(want))
	}
}

func TestARequestWaitsForABusyConnectionInsteadOfFailing(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		io.WriteString(w, `{"data":{}}`)
	}))
	defer srv.Close()
	client := newClient(1)
	errs := make(chan error, 4)
	for range cap(errs) {
		go func() { errs <- send(client, request{method: http.MethodGet, url: srv.URL + "/"}) }()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Errorf("a request sent while the only connection was busy failed: %v", err)
		}
	}
}

func TestAGraphQLRequestCarriesItsOperationVariablesAndToken(t *testing.T) {
	p := &params{tickets: []string{"t0", "t1"}, citizens: []citizen{{ID: "c0"}}, offices: []string{"o0"},
		operator: "operator-token", citTokens: []string{"citizen-token"}}
	tests := []struct {
		workload, query, token string
		vars                   map[string]any
	}{
		{"ticket", ticketQuery, "operator-token", map[string]any{"id": "t1"}},
		{"mine", mineQuery, "citizen-token", nil},
		{"search", searchQuery, "", map[string]any{"q": searches[1]}},
	}
	for _, tt := range tests {
		t.Run(tt.workload, func(t *testing.T) {
			next, skip, err := requests(t.Context(), nil, "graphql", "http://sportello", tt.workload, p)
			if err != nil || skip != "" {
				t.Fatalf("requests: %v %s", err, skip)
			}
			r := next(1)
			var body struct {
				Query     string         `json:"query"`
				Variables map[string]any `json:"variables"`
			}
			if err := json.Unmarshal(r.body, &body); err != nil {
				t.Fatalf("body %s: %v", r.body, err)
			}
			if r.url != "http://sportello/graphql" || r.token != tt.token || body.Query != tt.query || !reflect.DeepEqual(body.Variables, tt.vars) {
				t.Errorf("request %s %q %s, want the operation with variables %v and token %q", r.url, r.token, r.body, tt.vars, tt.token)
			}
		})
	}
}

// BenchmarkATicketRequest is what the generator spends building a request: the machine's CPU
// that it takes from the servers it measures.
func BenchmarkATicketRequest(b *testing.B) {
	p := &params{tickets: []string{"000051d5-536a-e43e-d9cd-42f47ee45361"}, citizens: []citizen{{ID: "c0"}},
		offices: []string{"o0"}, operator: "operator-token", citTokens: []string{"citizen-token"}}
	next, _, err := requests(b.Context(), nil, "graphql", "http://sportello", "ticket", p)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		next(i)
	}
}
