package main

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	sportello "github.com/sportello/sportello"
)

// RateLimits are request budgets. Each is a rate with a burst of the same size: 120 a minute
// lets a client send 120 requests at once and then one every half second.
type RateLimits struct {
	// UserPerMinute bounds the requests of one signed-in user, wherever they come from.
	UserPerMinute int
	// IPPerMinute bounds the anonymous requests from one IP address. Signed-in requests are
	// counted per user instead, so that an office behind one NAT address is not limited as one.
	IPPerMinute int
	// AnonymousFilingsPerHour bounds the tickets filed without signing in from one IP address:
	// filing writes a protocol record, the one thing an anonymous caller can make us keep.
	AnonymousFilingsPerHour int
}

// DefaultRateLimits are generous for people and tight for scripts.
var DefaultRateLimits = RateLimits{UserPerMinute: 300, IPPerMinute: 120, AnonymousFilingsPerHour: 10}

// gcra is the generic cell rate algorithm in one atomic Redis step: the key holds the
// theoretical arrival time of the next request; a request is allowed when that time is no more
// than one period ahead of now. It keeps one number per client and expires with it, and every
// instance shares it, so the limits hold however many instances serve. Redis's own clock is the
// only clock, so the instances' clocks need not agree. It returns 0 when the request is allowed,
// or the milliseconds to wait.
var gcra = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local next_tat = tat + interval
local wait = next_tat - period - now
if wait > 0 then return wait end
redis.call('SET', KEYS[1], next_tat, 'PX', math.ceil(next_tat - now))
return 0
`)

// rateLimiter checks budgets in Redis.
type rateLimiter struct {
	rdb redis.UniversalClient
}

// allow takes one request from the budget of key, limit per period. It returns how long to wait
// when the budget is spent. When Redis does not answer it lets the request through: the limits
// protect the service, and refusing every request while Redis restarts would be the outage they
// are meant to prevent.
func (l *rateLimiter) allow(ctx context.Context, key string, limit int, period time.Duration) (time.Duration, error) {
	if limit <= 0 {
		return 0, nil
	}
	interval := period.Milliseconds() / int64(limit)
	wait, err := gcra.Run(ctx, l.rdb, []string{"rate:" + key}, max(interval, 1), period.Milliseconds()).Int64()
	if err != nil {
		return 0, fmt.Errorf("rate limit: %w", err)
	}
	return time.Duration(wait) * time.Millisecond, nil
}

// retryAfter is set, during a request, by a limit that refused part of it (an anonymous filing),
// so that the response goes out as 429 with Retry-After even though GraphQL wrote it.
type retryAfter struct {
	mu   sync.Mutex
	wait time.Duration
}

type retryAfterKey struct{}

// rateLimit refuses requests over the caller's budget with 429 and Retry-After, and installs
// the limit on anonymous filings that the GraphQL handler checks.
func (a *App) rateLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user := sportello.UserFrom(r.Context())
		key, limit := "ip:"+a.clientIP(r), a.Config.RateLimits.IPPerMinute
		if !user.Anonymous() {
			key, limit = "user:"+user.TenantID+":"+user.Subject, a.Config.RateLimits.UserPerMinute
		}
		wait, err := a.limiter.allow(r.Context(), key, limit, time.Minute)
		if err != nil {
			slog.WarnContext(r.Context(), "rate limit unavailable", "error", err)
		}
		if wait > 0 {
			tooMany(w, wait)
			return
		}
		// A WebSocket upgrade hijacks the connection, which the wrapping writer would hide; its
		// operations are bounded by the subscriptions' own limits.
		if a.WebSocket != nil && a.WebSocket.Supports(r) {
			next.ServeHTTP(w, r)
			return
		}
		hint := &retryAfter{}
		ctx := context.WithValue(r.Context(), retryAfterKey{}, hint)
		next.ServeHTTP(&retryAfterWriter{ResponseWriter: w, hint: hint}, r.WithContext(ctx))
	})
}

// limitAnonymousFiling takes an anonymous filing from the budget of the caller's IP address.
// Errors: RATE_LIMITED.
func (a *App) limitAnonymousFiling(ctx context.Context) error {
	wait, err := a.limiter.allow(ctx, "file:"+sportello.OriginFrom(ctx).Addr, a.Config.RateLimits.AnonymousFilingsPerHour, time.Hour)
	if err != nil {
		slog.WarnContext(ctx, "rate limit unavailable", "error", err)
		return nil
	}
	if wait <= 0 {
		return nil
	}
	if hint, ok := ctx.Value(retryAfterKey{}).(*retryAfter); ok {
		hint.mu.Lock()
		hint.wait = max(hint.wait, wait)
		hint.mu.Unlock()
	}
	return sportello.Errorf(sportello.CodeRateLimited, "too many tickets filed from your address without signing in: try again in %s, or sign in",
		wait.Round(time.Second))
}

// retryAfterWriter turns the response into a 429 when a limit refused part of the request.
type retryAfterWriter struct {
	http.ResponseWriter
	hint    *retryAfter
	written bool
}

func (w *retryAfterWriter) WriteHeader(status int) {
	if !w.written {
		w.written = true
		w.hint.mu.Lock()
		wait := w.hint.wait
		w.hint.mu.Unlock()
		if wait > 0 {
			w.Header().Set("Retry-After", retrySeconds(wait))
			status = http.StatusTooManyRequests
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *retryAfterWriter) Write(b []byte) (int, error) {
	if !w.written {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (WebSocket upgrades hijack it).
func (w *retryAfterWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func tooMany(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", retrySeconds(wait))
	writeError(w, http.StatusTooManyRequests, sportello.CodeRateLimited,
		"too many requests: try again in "+retrySeconds(wait)+" seconds")
}

func retrySeconds(d time.Duration) string {
	return strconv.Itoa(int(math.Ceil(d.Seconds())))
}

// clientIP is the address the request came from: the connection's, unless it comes from one
// of the trusted proxies (TRUSTED_PROXIES).
func (a *App) clientIP(r *http.Request) string {
	return clientAddr(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), a.Config.TrustedProxies)
}

// clientAddr finds the client's address from the connection's address and the X-Forwarded-For
// headers. A client can write anything in X-Forwarded-For, so trusting it blindly would let
// anyone pick whose budget they spend and what the audit log records. Each proxy appends the
// address it was reached from, so the list is read from its end: while the address at hand is a
// trusted proxy's, the entry before it is what that proxy saw; the first address that is not a
// trusted proxy's is the client's. Entries further left came from the client and are ignored.
func clientAddr(remoteAddr string, forwarded []string, trusted []netip.Prefix) string {
	addr := remoteAddr
	if h, _, err := net.SplitHostPort(remoteAddr); err == nil {
		addr = h
	}
	var hops []string
	for _, h := range forwarded {
		hops = append(hops, strings.Split(h, ",")...)
	}
	for i := len(hops) - 1; i >= 0 && isTrusted(addr, trusted); i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			// A trusted proxy writes addresses; anything else was not written by one, and the
			// proxy that passed it on is the last address known.
			break
		}
		addr = hop.Unmap().String()
	}
	return addr
}

func isTrusted(addr string, trusted []netip.Prefix) bool {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
