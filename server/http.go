package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/playground"
	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/graph"
	"github.com/sportello/sportello/server/auth"
)

// App is the wiring of one server process.
type App struct {
	Config   Config
	Resolver *graph.Resolver
	Verifier *auth.Verifier
	Tenants  *tenantCache
	// Ready reports whether the process's dependencies answer, for /readyz.
	Ready func(ctx context.Context) error
}

// Handler returns every HTTP route of the server.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	gql := graph.NewHandler(a.Resolver, graph.Options{Production: a.Config.Production, ComplexityLimit: a.Config.ComplexityMax})
	mux.Handle("/graphql", a.limitBody(a.authenticate(a.perRequest(gql))))
	if !a.Config.Production {
		mux.Handle("GET /{$}", playground.Handler("Sportello", "/graphql"))
	}
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
		next.ServeHTTP(w, r.WithContext(graph.WithRequestID(r.Context(), id)))
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

// limitBody refuses request bodies over the configured size before reading them.
func (a *App) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > a.Config.MaxBodyBytes {
			writeError(w, http.StatusRequestEntityTooLarge, sportello.CodeBadUserInput, "request body too large")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, a.Config.MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// authenticate turns the bearer token into the request's user and tenant. A request without a
// token is anonymous; a request with a bad token is refused, rather than served anonymously, so
// that a client with an expired token learns it at once.
func (a *App) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, status, err := a.userFor(r)
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

// userFor reads the caller of r. Its errors are written for the client.
func (a *App) userFor(r *http.Request) (*sportello.User, int, error) {
	ctx := r.Context()
	header := r.Header.Get("Authorization")
	if header == "" {
		tenant, err := a.Tenants.byHost(ctx, hostOf(r))
		if err != nil {
			slog.ErrorContext(ctx, "resolve tenant", "error", err)
			return nil, http.StatusServiceUnavailable, errors.New("service unavailable, try again shortly")
		}
		return &sportello.User{TenantID: tenant}, 0, nil
	}
	token, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		return nil, http.StatusUnauthorized, errors.New("the Authorization header must be: Bearer <token>")
	}
	claims, err := a.Verifier.Verify(ctx, strings.TrimSpace(token))
	if errors.Is(err, auth.ErrKeysUnavailable) {
		slog.ErrorContext(ctx, "verify token", "error", err)
		return nil, http.StatusServiceUnavailable, errors.New("sign-in is unavailable, try again shortly")
	}
	if err != nil {
		return nil, http.StatusUnauthorized, err
	}
	var tenant string
	if claims.Tenant != "" {
		tenant, err = a.Tenants.bySlug(ctx, claims.Tenant)
		if sportello.ErrorCode(err) == sportello.CodeNotFound {
			return nil, http.StatusUnauthorized, errors.New("the token names an unknown municipality")
		}
	} else {
		tenant, err = a.Tenants.byHost(ctx, hostOf(r))
	}
	if err != nil {
		slog.ErrorContext(ctx, "resolve tenant", "error", err)
		return nil, http.StatusServiceUnavailable, errors.New("service unavailable, try again shortly")
	}
	return &sportello.User{
		TenantID: tenant, Subject: claims.Subject, Roles: claims.Roles, GivenName: claims.GivenName,
		FamilyName: claims.FamilyName, FiscalCode: claims.FiscalCode, Email: claims.Email,
	}, 0, nil
}

func hostOf(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.Host); err == nil {
		return strings.ToLower(h)
	}
	return strings.ToLower(r.Host)
}

// perRequest installs what lives for one request: the dataloaders, so that batches and caches
// never mix two callers' data, and the receipt grants of anonymous filers.
func (a *App) perRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := sportello.WithReceiptGrants(r.Context())
		ctx = graph.WithLoaders(ctx, graph.NewLoaders(a.Resolver, a.Config.LoaderWait))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
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
