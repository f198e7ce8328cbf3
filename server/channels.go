package main

import (
	"context"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"

	"github.com/emersion/go-smtp"
	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
	"github.com/sportello/sportello/graph"
	"github.com/sportello/sportello/mailin"
	"github.com/sportello/sportello/mailout"
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

// newMailServer returns the e-mail intake's SMTP server for the default municipality.
func newMailServer(cfg Config, d *db.DB) *smtp.Server {
	return mailin.New(mailin.Config{Domain: "sportello", EmailAddress: cfg.EmailIntakeAddress, PECAddress: cfg.PECIntakeAddress,
		Relays: cfg.SMTPRelays, TenantID: sportello.DefaultTenantID, Intake: db.NewMailIntake(d)})
}

// serveMail runs the e-mail intake on SMTP_LISTEN_ADDR, if set, until ctx ends.
func serveMail(ctx context.Context, cfg Config, d *db.DB) error {
	if cfg.SMTPListenAddr == "" {
		return nil
	}
	l, err := net.Listen("tcp", cfg.SMTPListenAddr)
	if err != nil {
		return fmt.Errorf("e-mail intake: %w", err)
	}
	slog.Info("e-mail intake", "addr", cfg.SMTPListenAddr, "email", cfg.EmailIntakeAddress, "pec", cfg.PECIntakeAddress)
	return mailin.Serve(ctx, newMailServer(cfg, d), l)
}

// newNotifier returns the worker that tells citizens about their tickets: in the app always,
// by e-mail through SMTP_RELAY_ADDR when it is set.
func newNotifier(cfg Config, d *db.DB) *db.Notifier {
	var mailer sportello.Mailer
	if cfg.SMTPRelayAddr != "" {
		mailer = &mailout.SMTP{Addr: cfg.SMTPRelayAddr, From: cfg.MailFrom}
	}
	return db.NewNotifier(d, mailer, cfg.PortalURL)
}
