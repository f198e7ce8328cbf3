package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/playground"
	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/graph"
	"github.com/sportello/sportello/graph/websocket"
	"github.com/sportello/sportello/live"
	"github.com/sportello/sportello/server/auth"
	"go.opentelemetry.io/otel/propagation"
)

// App is the wiring of one server process.
type App struct {
	Config   Config
	Resolver *graph.Resolver
	Verifier *auth.Verifier
	Tenants  *tenantCache
	// WebSocket carries subscriptions; Shutdown closes its connections, which http.Server's
	// Shutdown does not track.
	WebSocket *websocket.Transport
	// Hub is the live feed of this process; Run it for as long as the server serves.
	Hub *live.Hub
	// Ready reports whether the process's dependencies answer, for /readyz.
	Ready func(ctx context.Context) error
	// ContentSchedule publishes scheduled content; serve runs it every few seconds.
	ContentSchedule sportello.ContentScheduler
	// PersistedQueries keeps the automatic persisted queries; nil keeps them in memory.
	PersistedQueries graphql.Cache[string]
	// AllowList holds the operations of the clients in Config.AllowListClients.
	AllowList sportello.PersistedOperations
	limiter   *rateLimiter
	metrics   *metrics
}

// Handler returns every HTTP route of the server.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	gql := graph.NewHandler(a.Resolver, graph.Options{WebSocket: a.WebSocket, LoaderWait: a.Config.LoaderWait,
		Production: a.Config.Production, ComplexityLimit: a.Config.ComplexityMax, Limits: a.Config.Limits,
		PersistedQueries: a.PersistedQueries, LimitAnonymousFiling: a.limitAnonymousFiling, Observer: a.metrics,
		MaxUploadBytes: a.Config.MaxUploadBytes,
		AllowList:      a.AllowList, AllowListClients: a.Config.AllowListClients, Tracer: a.Config.Tracer})
	mux.Handle("/graphql", a.metrics.countResponses(a.cacheable(a.limitBody(a.authenticate(a.rateLimit(a.timeout(gql)))))))
	// In production the metrics are served only to scrapers holding METRICS_TOKEN.
	if !a.Config.Production || a.Config.MetricsToken != "" {
		mux.Handle("GET /metrics", a.metrics.handler(a.Config.MetricsToken))
	}
	if !a.Config.Production {
		mux.Handle("GET /{$}", playground.Handler("Sportello", "/graphql"))
	}
	registerConsole(mux)
	a.registerRegisters(mux)
	a.registerChannels(mux)
	a.registerReports(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := a.Ready(ctx); err != nil {
			slog.Warn("not ready", "error", err)
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	return a.requestID(a.cors(mux))
}

// requestID gives every request an id, shown in internal errors and logs so that a client's
// report can be matched to the log line.
func (a *App) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 64 {
			var b [8]byte
			rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		ctx := graph.WithRequestID(r.Context(), id)
		ctx = sportello.WithOrigin(ctx, sportello.Origin{Addr: a.clientIP(r), RequestID: id})
		ctx = graph.WithClient(ctx, r.Header.Get("X-Client-Name"))
		if a.Config.Tracer != nil {
			// A caller's W3C traceparent makes the operation's spans part of its trace.
			ctx = propagation.TraceContext{}.Extract(ctx, propagation.HeaderCarrier(r.Header))
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// cors lets the configured web origins (the portal) call the API from browsers.
func (a *App) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin != "" && slices.Contains(a.Config.CORSOrigins, origin) {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Add("Vary", "Origin")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-Id")
			h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			h.Set("Access-Control-Max-Age", "600")
			if r.Method == http.MethodOptions {
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// limitBody refuses request bodies over the configured size with 413. A declared length over
// the cap is refused before reading anything; a body of unknown length (chunked) is read up to
// the cap and no further, so that the refusal is a status rather than a GraphQL error about a
// truncated body. Multipart requests, which carry files, may be as large as MaxUploadBytes and
// are streamed to the upload transport, which stops at that cap.
func (a *App) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := a.Config.MaxBodyBytes
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") && a.Config.MaxUploadBytes > limit {
			limit = a.Config.MaxUploadBytes
		}
		if r.ContentLength > limit {
			writeError(w, http.StatusRequestEntityTooLarge, sportello.CodeBadUserInput, "request body too large")
			return
		}
		if limit > a.Config.MaxBodyBytes {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			next.ServeHTTP(w, r)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				writeError(w, http.StatusRequestEntityTooLarge, sportello.CodeBadUserInput, "request body too large")
				return
			}
			if err != nil {
				writeError(w, http.StatusBadRequest, sportello.CodeBadUserInput, "the request body could not be read")
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		next.ServeHTTP(w, r)
	})
}

// timeout bounds every request but WebSocket connections, which live as long as their
// subscriptions: a request past its deadline has its statements canceled and answers with an
// internal error rather than holding a connection.
func (a *App) timeout(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.Config.RequestTimeout <= 0 || (a.WebSocket != nil && a.WebSocket.Supports(r)) {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), a.Config.RequestTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// authenticate turns the bearer token into the request's user and tenant. A request without a
// token is anonymous; a request with a bad token is refused, rather than served anonymously, so
// that a client with an expired token learns it at once. WebSocket upgrades authenticate in
// their connection_init message instead (browsers cannot set headers on them).
func (a *App) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.WebSocket != nil && a.WebSocket.Supports(r) {
			next.ServeHTTP(w, r)
			return
		}
		user, _, status, err := a.userFor(r.Context(), r.Header.Get("Authorization"), hostOf(r))
		if err != nil {
			code := sportello.CodeUnauthenticated
			if status == http.StatusServiceUnavailable {
				code = sportello.CodeInternal
			}
			if status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			}
			writeError(w, status, code, err.Error())
			return
		}
		next.ServeHTTP(w, r.WithContext(sportello.WithUser(r.Context(), user)))
	})
}

// userFor reads the caller from an Authorization value ("" for anonymous callers) and the host
// they called. It also returns when the authorization expires (zero for anonymous callers). Its
// errors are written for the client, with the HTTP status that fits them.
func (a *App) userFor(ctx context.Context, authorization, host string) (*sportello.User, time.Time, int, error) {
	unavailable := errors.New("service unavailable, try again shortly")
	if authorization == "" {
		tenant, err := a.Tenants.byHost(ctx, host)
		if err != nil {
			slog.ErrorContext(ctx, "resolve tenant", "error", err)
			return nil, time.Time{}, http.StatusServiceUnavailable, unavailable
		}
		return &sportello.User{TenantID: tenant}, time.Time{}, 0, nil
	}
	token, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok {
		return nil, time.Time{}, http.StatusUnauthorized, errors.New("the Authorization header must be: Bearer <token>")
	}
	claims, err := a.Verifier.Verify(ctx, strings.TrimSpace(token))
	if errors.Is(err, auth.ErrKeysUnavailable) {
		slog.ErrorContext(ctx, "verify token", "error", err)
		return nil, time.Time{}, http.StatusServiceUnavailable, errors.New("sign-in is unavailable, try again shortly")
	}
	if err != nil {
		return nil, time.Time{}, http.StatusUnauthorized, err
	}
	var tenant string
	if claims.Tenant != "" {
		tenant, err = a.Tenants.bySlug(ctx, claims.Tenant)
		if sportello.ErrorCode(err) == sportello.CodeNotFound {
			return nil, time.Time{}, http.StatusUnauthorized, errors.New("the token names an unknown municipality")
		}
	} else {
		tenant, err = a.Tenants.byHost(ctx, host)
	}
	if err != nil {
		slog.ErrorContext(ctx, "resolve tenant", "error", err)
		return nil, time.Time{}, http.StatusServiceUnavailable, unavailable
	}
	return &sportello.User{
		TenantID: tenant, Subject: claims.Subject, Roles: claims.Roles, GivenName: claims.GivenName,
		FamilyName: claims.FamilyName, FiscalCode: claims.FiscalCode, Email: claims.Email,
		SignedInAt: claims.SignedInAt,
	}, claims.ExpiresAt, 0, nil
}

// initWebSocket authenticates a WebSocket connection from its connection_init payload, which
// carries the token as {"Authorization": "Bearer <token>"} (any capitalization of the key).
func (a *App) initWebSocket(ctx context.Context, r *http.Request, payload map[string]any) (context.Context, time.Time, error) {
	var authorization string
	for k, v := range payload {
		if s, ok := v.(string); ok && strings.EqualFold(k, "authorization") {
			authorization = s
		}
	}
	user, expires, _, err := a.userFor(ctx, authorization, hostOf(r))
	if err != nil {
		return nil, time.Time{}, err
	}
	return sportello.WithUser(ctx, user), expires, nil
}

// checkOrigin lets browsers open WebSockets from the configured origins and from the server's
// own pages (the console); clients that send no Origin, such as the mobile apps, are not
// browsers and are let through.
func (a *App) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || slices.Contains(a.Config.CORSOrigins, origin) {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

func hostOf(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.Host); err == nil {
		return strings.ToLower(h)
	}
	return strings.ToLower(r.Host)
}

// writeError writes a GraphQL-shaped error for failures before GraphQL runs.
func writeError(w http.ResponseWriter, status int, code sportello.Code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": msg, "extensions": map[string]any{"code": code}}},
	})
}

// tenantCache remembers tenant lookups for a minute: every request needs one, and tenants
// change rarely.
type tenantCache struct {
	svc sportello.TenantService
	mu  sync.Mutex
	m   map[string]tenantEntry
}

type tenantEntry struct {
	id      string
	err     error
	expires time.Time
}

const tenantTTL = time.Minute

func newTenantCache(svc sportello.TenantService) *tenantCache {
	return &tenantCache{svc: svc, m: map[string]tenantEntry{}}
}

// bySlug returns the tenant named by a token. Errors: NOT_FOUND.
func (c *tenantCache) bySlug(ctx context.Context, slug string) (string, error) {
	return c.get("slug:"+slug, func() (string, error) { return c.svc.TenantBySlug(ctx, slug) })
}

// byHost returns the tenant served at host, or the default tenant when no tenant claims it.
func (c *tenantCache) byHost(ctx context.Context, host string) (string, error) {
	return c.get("host:"+host, func() (string, error) {
		id, err := c.svc.TenantByHost(ctx, host)
		if sportello.ErrorCode(err) == sportello.CodeNotFound {
			return sportello.DefaultTenantID, nil
		}
		return id, err
	})
}

func (c *tenantCache) get(key string, load func() (string, error)) (string, error) {
	now := time.Now()
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.id, e.err
	}
	id, err := load()
	if err != nil && sportello.ErrorCode(err) != sportello.CodeNotFound {
		return "", err // a failed lookup is not remembered
	}
	c.mu.Lock()
	// Bounded: hosts come from clients, so an attacker could otherwise grow the map forever.
	if len(c.m) > 10000 {
		clear(c.m)
	}
	c.m[key] = tenantEntry{id: id, err: err, expires: now.Add(tenantTTL)}
	c.mu.Unlock()
	return id, err
}
