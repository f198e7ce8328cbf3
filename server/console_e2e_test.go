package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	sportello "github.com/sportello/sportello"
)

// The console's browser test needs what `make test` installs (scripts/browser-deps.sh).
const browserDepsHint = "run `make test` (it installs Chromium and playwright-core)"

// TestConsoleShowsNewTicketsLiveInChromium drives the operator console in headless Chromium
// against the real server: a ticket filed through the API must appear on the open page, and
// its row must follow a change of status, without a reload (e2e/console/console.test.mjs).
func TestConsoleShowsNewTicketsLiveInChromium(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not installed: %s", browserDepsHint)
	}
	for _, p := range []string{"/usr/bin/chromium", filepath.Join(root, "e2e/console/node_modules/playwright-core/package.json")} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s is missing: %s", p, browserDepsHint)
		}
	}

	s := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "e2e/console/console.test.mjs")
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"BASE_URL="+s.URL,
		"OPERATOR_TOKEN="+s.token(sportello.RoleOperator, "op-console"),
		"CITIZEN_TOKEN="+s.token(sportello.RoleCitizen, "citizen-console"),
	)
	// On timeout, SIGTERM first: playwright then closes the browser it started, which a SIGKILL
	// of node would leave running. WaitDelay bounds the wait for it.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("the browser test did not finish in 60 s:\n%s", out)
	}
	if err != nil {
		t.Fatalf("the browser test failed (%v):\n%s", err, out)
	}
	t.Logf("%s", out)
}

// TestConsoleServesPageAndAssets checks what the console is served with: a strict
// Content-Security-Policy, no inline script or style, and its assets under versioned URLs.
func TestConsoleServesPageAndAssets(t *testing.T) {
	mux := http.NewServeMux()
	registerConsole(mux)
	get := func(path string, header ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Host = "sportello.example.it"
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec
	}

	page := get("/console")
	if page.Code != http.StatusOK || !strings.HasPrefix(page.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET /console = %d %q", page.Code, page.Header().Get("Content-Type"))
	}
	csp := page.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'",
		"connect-src 'self' ws://sportello.example.it wss://sportello.example.it", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("CSP allows unsafe sources: %q", csp)
	}
	if page.Header().Get("X-Content-Type-Options") != "nosniff" || page.Header().Get("Cache-Control") != "no-cache" {
		t.Errorf("headers %v", page.Header())
	}
	html := page.Body.String()
	if m := regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]+</script>|<style|\son[a-z]+=|\sstyle=`).FindString(html); m != "" {
		t.Errorf("the page has inline script or style: %q", m)
	}
	if regexp.MustCompile(`(?i)(src|href)="(https?:)?//`).MatchString(html) {
		t.Error("the page loads something from another site")
	}

	for _, asset := range []struct{ name, ctype string }{{"console.js", "text/javascript"}, {"console.css", "text/css"}} {
		m := regexp.MustCompile(`"(/console/` + regexp.QuoteMeta(asset.name) + `\?v=[0-9a-f]+)"`).FindStringSubmatch(html)
		if m == nil {
			t.Fatalf("the page does not link %s with its version", asset.name)
		}
		res := get(m[1])
		if res.Code != http.StatusOK || !strings.HasPrefix(res.Header().Get("Content-Type"), asset.ctype) {
			t.Fatalf("GET %s = %d %q", m[1], res.Code, res.Header().Get("Content-Type"))
		}
		if !strings.Contains(res.Header().Get("Cache-Control"), "immutable") || res.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s headers %v", m[1], res.Header())
		}
		if again := get(m[1], "If-None-Match", res.Header().Get("ETag")); again.Code != http.StatusNotModified {
			t.Errorf("revalidating %s = %d, want 304", m[1], again.Code)
		}
		// Without the current version the asset is served but revalidated.
		if stale := get("/console/" + asset.name + "?v=old"); stale.Code != http.StatusOK || stale.Header().Get("Cache-Control") != "no-cache" {
			t.Errorf("GET an old version of %s = %d %q", asset.name, stale.Code, stale.Header().Get("Cache-Control"))
		}
	}
	js := get("/console/console.js").Body.String()
	if !strings.Contains(js, "graphql-transport-ws") || strings.Contains(js, "innerHTML") {
		t.Error("console.js does not speak graphql-transport-ws, or writes HTML")
	}

	if res := get("/console/nope.js"); res.Code != http.StatusNotFound {
		t.Errorf("GET /console/nope.js = %d", res.Code)
	}
	if res := get("/console/"); res.Code != http.StatusMovedPermanently || res.Header().Get("Location") != "/console" {
		t.Errorf("GET /console/ = %d to %q", res.Code, res.Header().Get("Location"))
	}
	// A Host that could smuggle CSP directives is left out of the policy.
	req := httptest.NewRequest(http.MethodGet, "/console", nil)
	req.Host = "evil.example; script-src *"
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	if csp := rec.Header().Get("Content-Security-Policy"); strings.Contains(csp, "evil") {
		t.Errorf("CSP with a strange Host: %q", csp)
	}
}
