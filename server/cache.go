package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/sportello/sportello/graph"
)

// publicCacheControl says how long browsers and CDNs may keep a public answer: a published change
// reaches every reader within a minute, and a page viewed by many costs one query a minute.
const publicCacheControl = "public, max-age=60"

// cacheable lets shared caches keep the answers of the portal's queries. An anonymous GET whose
// operation asks only for @publicCache fields (graph.CachePolicy) and succeeds gets a strong
// ETag (a hash of the body) and Cache-Control public for a minute, and a request carrying that
// ETag in If-None-Match gets 304 without the body. Everything else, and every authenticated
// request, is private and not stored: personal data never enters a shared cache.
func (a *App) cacheable(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.Header.Get("Authorization") != "" ||
			(a.WebSocket != nil && a.WebSocket.Supports(r)) {
			w.Header().Set("Cache-Control", "private, no-store")
			next.ServeHTTP(w, r)
			return
		}
		ctx, policy := graph.WithCachePolicy(r.Context())
		rec := &recorder{header: http.Header{}, status: http.StatusOK}
		next.ServeHTTP(rec, r.WithContext(ctx))

		h := w.Header()
		for k, v := range rec.header {
			h[k] = v
		}
		// The answer differs between anonymous and signed-in callers of the same URL.
		h.Add("Vary", "Authorization")
		body := rec.body.Bytes()
		if rec.status != http.StatusOK || !policy.Public() || hasErrors(body) {
			h.Set("Cache-Control", "private, no-store")
			w.WriteHeader(rec.status)
			w.Write(body)
			return
		}
		sum := sha256.Sum256(body)
		etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
		h.Set("ETag", etag)
		h.Set("Cache-Control", publicCacheControl)
		if etagMatches(r.Header.Get("If-None-Match"), etag) {
			h.Del("Content-Length")
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.WriteHeader(http.StatusOK)
		w.Write(body)
	})
}

// hasErrors reports whether a GraphQL response carries errors, which are not cached: a
// NOT_FOUND may be a service about to be published.
func hasErrors(body []byte) bool {
	var res struct {
		Errors json.RawMessage `json:"errors"`
	}
	return json.Unmarshal(body, &res) != nil || len(res.Errors) > 0
}

// etagMatches reports whether an If-None-Match value names etag (or is *).
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// recorder keeps a response in memory so its hash can go in the headers before the body.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(status int)      { r.status = status }
