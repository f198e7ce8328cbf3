package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
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
