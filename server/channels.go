package main

import (
	"log/slog"
	"mime"
	"net/http"
	"strconv"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/graph"
	"github.com/sportello/sportello/open311"
)

// registerChannels serves the channels beside GraphQL: the Open311 GeoReport v2 API and the
// downloads of attachments.
func (a *App) registerChannels(mux *http.ServeMux) {
	mux.Handle(open311.Prefix+"/", a.limitBody(a.hostTenant(open311.NewHandler(a.Resolver.Open311Service, a.Config.Open311Contact))))
	mux.Handle("GET "+graph.AttachmentPath+"{id}", a.authenticate(http.HandlerFunc(a.downloadAttachment)))
}

// hostTenant serves a channel whose callers prove who they are otherwise than with a token (an
// Open311 API key) as anonymous callers of the tenant that the request's host names.
func (a *App) hostTenant(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, _, status, err := a.userFor(r.Context(), "", hostOf(r))
		if err != nil {
			http.Error(w, err.Error(), status)
			return
		}
		next.ServeHTTP(w, r.WithContext(sportello.WithUser(r.Context(), user)))
	})
}

// downloadAttachment serves a file to those who may see its ticket; to anyone else it does not
// exist (404). It is always a download with the type read from its content, never rendered by
// the browser as the page of our origin.
func (a *App) downloadAttachment(w http.ResponseWriter, r *http.Request) {
	att, data, err := a.Resolver.AttachmentService.Attachment(r.Context(), r.PathValue("id"))
	switch {
	case sportello.ErrorCode(err) == sportello.CodeNotFound:
		writeError(w, http.StatusNotFound, sportello.CodeNotFound, "attachment not found")
		return
	case err != nil:
		id := w.Header().Get("X-Request-Id")
		slog.ErrorContext(r.Context(), "download attachment", "request_id", id, "error", err)
		writeError(w, http.StatusInternalServerError, sportello.CodeInternal, "internal error (request "+id+")")
		return
	}
	h := w.Header()
	h.Set("Content-Type", att.ContentType)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": att.Filename}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Security-Policy", "sandbox")
	w.Write(data)
}
