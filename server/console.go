package main

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strings"
	"time"
)

// The operator console: a static page that shows the desk's open tickets and counts, live over
// the GraphQL WebSocket. Plain HTML, CSS and JavaScript embedded in the binary, no build step.
//
//go:embed console
var consoleFiles embed.FS

// consoleFile is one embedded file, ready to serve.
type consoleFile struct {
	body    []byte
	ctype   string
	version string // a hash of the body: the ?v= of its URL and its ETag
}

// consoleTypes are the console's content types, fixed rather than taken from the system's MIME
// tables, which differ between machines.
var consoleTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
}

// consolePage is the page's HTML; its links to the assets carry their version, so that the
// assets can be cached for good while the page itself is revalidated on every load.
const consolePage = "index.html"

// registerConsole serves the console at GET /console and its assets at GET /console/NAME.
func registerConsole(mux *http.ServeMux) {
	files := loadConsole()
	page := files[consolePage]
	mux.HandleFunc("GET /console", func(w http.ResponseWriter, r *http.Request) {
		setConsoleHeaders(w, r)
		w.Header().Set("Cache-Control", "no-cache")
		serveConsoleFile(w, r, page)
	})
	mux.HandleFunc("GET /console/", func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/console/")
		if name == "" || name == consolePage {
			http.Redirect(w, r, "/console", http.StatusMovedPermanently)
			return
		}
		f, ok := files[name]
		if !ok {
			setConsoleHeaders(w, r)
			http.NotFound(w, r)
			return
		}
		setConsoleHeaders(w, r)
		if r.URL.Query().Get("v") == f.version {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		serveConsoleFile(w, r, f)
	})
}

// loadConsole reads the embedded files and points the page's asset links at their versions.
func loadConsole() map[string]*consoleFile {
	files := map[string]*consoleFile{}
	err := fs.WalkDir(consoleFiles, "console", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := consoleFiles.ReadFile(p)
		if err != nil {
			return err
		}
		ctype, ok := consoleTypes[path.Ext(p)]
		if !ok {
			ctype = "application/octet-stream"
		}
		files[strings.TrimPrefix(p, "console/")] = &consoleFile{body: body, ctype: ctype}
		return nil
	})
	page, ok := files[consolePage]
	if err != nil || !ok {
		panic("console: embedded files missing: " + errString(err))
	}
	for name, f := range files {
		if name != consolePage {
			f.version = hashOf(f.body)
			page.body = bytes.ReplaceAll(page.body, []byte(`"/console/`+name+`"`),
				[]byte(`"/console/`+name+`?v=`+f.version+`"`))
		}
	}
	page.version = hashOf(page.body)
	return files
}

func hashOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

func errString(err error) string {
	if err == nil {
		return "no " + consolePage
	}
	return err.Error()
}

// saneHost matches a host[:port] that can be written into a header as it is.
var saneHost = regexp.MustCompile(`^[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$`)

// setConsoleHeaders sets the security headers of every console response. The page runs only
// its own script and stylesheet (nothing inline, nothing from elsewhere) and talks only to its
// own origin: over HTTP and, for the live feed, over WebSocket. CSP Level 3 browsers already
// count same-host ws:/wss: as 'self'; the explicit sources are for the older ones.
func setConsoleHeaders(w http.ResponseWriter, r *http.Request) {
	connect := "'self'"
	if saneHost.MatchString(r.Host) {
		connect += " ws://" + r.Host + " wss://" + r.Host
	}
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src "+connect+"; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

// serveConsoleFile writes f, answering conditional requests (If-None-Match) with 304.
func serveConsoleFile(w http.ResponseWriter, r *http.Request, f *consoleFile) {
	w.Header().Set("Content-Type", f.ctype)
	w.Header().Set("ETag", `"`+f.version+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}
