package main

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
	"github.com/sportello/sportello/graph"
	"go.opentelemetry.io/otel/trace"
)

// devSecret signs development tokens when AUTH_DEV_SECRET is not set. It is public, so
// production refuses development tokens altogether.
const devSecret = "sportello-development-secret-do-not-use-in-production"

// DefaultMaxUploadBytes fits a ticket's attachments at their largest, and the operation.
const DefaultMaxUploadBytes = sportello.MaxAttachments*sportello.MaxAttachmentSize + 1<<20

// Config is the server's configuration, read from the environment.
type Config struct {
	DatabaseURL   string
	RedisURL      string
	RedisCluster  bool // REDIS_URL names a Redis Cluster (redis://host:port?addr=host2:port...)
	ListenAddr    string
	Production    bool
	DevSecret     string
	OIDCIssuer    string
	OIDCAudience  string
	OIDCJWKSURL   string
	CORSOrigins   []string
	MaxBodyBytes  int64
	ComplexityMax int
	// Limits bound the shape of one GraphQL operation (depth, aliases, directives, tokens).
	Limits graph.Limits
	// RequestTimeout bounds every HTTP request but WebSocket connections; StatementTimeout
	// bounds every SQL statement, so that one slow query cannot hold a connection for long.
	RequestTimeout   time.Duration
	StatementTimeout time.Duration
	// DatabasePoolSize is how many connections to PostgreSQL the server opens at most.
	DatabasePoolSize int
	// RateLimits are the request budgets per user, per IP and for anonymous filings.
	RateLimits RateLimits
	// TrustedProxies are the networks of the reverse proxies in front of the server: a request
	// from one of them is from the address its X-Forwarded-For names (see clientAddr).
	TrustedProxies []netip.Prefix
	// Tracer traces GraphQL operations and their SQL statements; serve sets it when
	// OTEL_EXPORTER_OTLP_ENDPOINT names a collector, and nil traces nothing.
	Tracer trace.Tracer
	// AllowListClients are the clients (by X-Client-Name) that run only the operations
	// registered for them with `server persisted register`: the mobile app.
	AllowListClients []string
	// MetricsToken, if set, is the bearer token scrapers send for /metrics; production serves
	// no metrics without one.
	MetricsToken string
	// RetentionDays is how long closed tickets keep their personal data before the retention
	// job pseudonymises them.
	RetentionDays int
	// LoaderWait is how long dataloaders gather keys before running a batch.
	LoaderWait time.Duration
	// LiveBuffer is how many events a subscriber may have queued before it catches up from
	// PostgreSQL instead; zero takes the live feed's default.
	LiveBuffer int
	// LiveSlowAfter is how long a subscriber may fail to take an event before it is
	// disconnected as too slow (1013). It is below the WebSocket write timeout, so that a
	// client that stops reading learns why before its socket is cut.
	LiveSlowAfter time.Duration
	// EscalationInterval is how often the escalation worker looks for tickets to escalate, and
	// EscalationShare the share of a clock after which it warns (0.8: at 80%).
	EscalationInterval time.Duration
	EscalationShare    float64
	// Open311Contact is who Open311 developers ask for an API key, in the discovery document.
	Open311Contact string
	// MaxUploadBytes bounds a request carrying files: as many attachments as a ticket takes,
	// at their largest, and the operation.
	MaxUploadBytes int64
	// BlobStore says where attachment contents are kept: "postgres" or "dir:PATH".
	BlobStore string
	// SMTPListenAddr is where the e-mail intake listens for the office's mail server; empty
	// turns it off. EmailIntakeAddress and PECIntakeAddress are the mailboxes it accepts, and
	// SMTPRelays the networks allowed to deliver (loopback when empty).
	SMTPListenAddr     string
	EmailIntakeAddress string
	PECIntakeAddress   string
	SMTPRelays         []netip.Prefix
	// SMTPRelayAddr is the mail server notifications are sent through (host:port); empty
	// sends none by e-mail. MailFrom is their sender, PortalURL the start of their links.
	SMTPRelayAddr string
	MailFrom      string
	PortalURL     string
	// NotifyInterval is how often the notifier looks for new events and due e-mails.
	NotifyInterval time.Duration
	// PprofAddr, if set (PPROF_ADDR), serves Go's profiles there, apart from the API.
	PprofAddr string
}

// LoadConfig reads the configuration; defaults suit `make run`.
func LoadConfig() (Config, error) {
	c := Config{
		DatabaseURL:   os.Getenv("DATABASE_URL"),
		RedisURL:      os.Getenv("REDIS_URL"),
		RedisCluster:  os.Getenv("REDIS_CLUSTER") == "true" || os.Getenv("REDIS_CLUSTER") == "1",
		ListenAddr:    env("LISTEN_ADDR", "localhost:8080"),
		DevSecret:     os.Getenv("AUTH_DEV_SECRET"),
		OIDCIssuer:    os.Getenv("OIDC_ISSUER"),
		OIDCAudience:  os.Getenv("OIDC_AUDIENCE"),
		OIDCJWKSURL:   os.Getenv("OIDC_JWKS_URL"),
		MetricsToken:  os.Getenv("METRICS_TOKEN"),
		MaxBodyBytes:  1 << 20,
		ComplexityMax: 5000,
		LoaderWait:    graph.DefaultLoaderWait,
		LiveSlowAfter: 5 * time.Second,
		PprofAddr:     os.Getenv("PPROF_ADDR"),

		EscalationInterval: time.Minute,
		EscalationShare:    sportello.DefaultEscalationShare,

		Open311Contact: env("OPEN311_CONTACT", "Ufficio Relazioni con il Pubblico"),
		MaxUploadBytes: DefaultMaxUploadBytes,
		BlobStore:      env("BLOB_STORE", "postgres"),

		SMTPListenAddr:     os.Getenv("SMTP_LISTEN_ADDR"),
		EmailIntakeAddress: os.Getenv("EMAIL_INTAKE_ADDRESS"),
		PECIntakeAddress:   os.Getenv("PEC_INTAKE_ADDRESS"),

		SMTPRelayAddr:  os.Getenv("SMTP_RELAY_ADDR"),
		MailFrom:       env("MAIL_FROM", "urp@localhost"),
		PortalURL:      strings.TrimSuffix(env("PORTAL_URL", "http://localhost:8080"), "/"),
		NotifyInterval: time.Second,
	}
	if v := os.Getenv("ESCALATION_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			return c, fmt.Errorf("ESCALATION_INTERVAL must be a duration of at least 1s, such as 1m, not %q", v)
		}
		c.EscalationInterval = d
	}
	if v := os.Getenv("ESCALATION_SHARE"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f > 1 {
			return c, fmt.Errorf("ESCALATION_SHARE must be a number above 0 and at most 1, such as 0.8, not %q", v)
		}
		c.EscalationShare = f
	}
	var err error
	ints := []struct {
		name string
		dst  *int
		def  int
		off  bool // 0 turns the limit off
	}{
		{"LIMIT_COMPLEXITY", &c.ComplexityMax, 5000, false},
		{"LIMIT_DEPTH_ANONYMOUS", &c.Limits.MaxDepthAnonymous, graph.DefaultMaxDepthAnonymous, false},
		{"LIMIT_DEPTH_SIGNED_IN", &c.Limits.MaxDepthSignedIn, graph.DefaultMaxDepthSignedIn, false},
		{"LIMIT_ALIASES", &c.Limits.MaxAliases, graph.DefaultMaxAliases, false},
		{"LIMIT_DIRECTIVES", &c.Limits.MaxDirectives, graph.DefaultMaxDirectives, false},
		{"LIMIT_TOKENS", &c.Limits.MaxTokens, graph.DefaultMaxTokens, false},
		{"RATE_USER_PER_MINUTE", &c.RateLimits.UserPerMinute, DefaultRateLimits.UserPerMinute, true},
		{"RATE_IP_PER_MINUTE", &c.RateLimits.IPPerMinute, DefaultRateLimits.IPPerMinute, true},
		{"RATE_ANONYMOUS_FILINGS_PER_HOUR", &c.RateLimits.AnonymousFilingsPerHour, DefaultRateLimits.AnonymousFilingsPerHour, true},
		{"RETENTION_DAYS", &c.RetentionDays, 1825, false},
		{"DATABASE_POOL_SIZE", &c.DatabasePoolSize, db.DefaultPoolSize(), false},
	}
	for _, v := range ints {
		if v.off && os.Getenv(v.name) == "0" {
			*v.dst = 0
			continue
		}
		if *v.dst, err = envInt(v.name, v.def); err != nil {
			return c, err
		}
	}
	if c.MaxBodyBytes, err = envInt64("LIMIT_BODY_BYTES", c.MaxBodyBytes); err != nil {
		return c, err
	}
	if c.RequestTimeout, err = envDuration("REQUEST_TIMEOUT", 30*time.Second); err != nil {
		return c, err
	}
	if c.StatementTimeout, err = envDuration("STATEMENT_TIMEOUT", 10*time.Second); err != nil {
		return c, err
	}
	for _, r := range strings.Split(os.Getenv("SMTP_RELAYS"), ",") {
		if r = strings.TrimSpace(r); r == "" {
			continue
		}
		p, err := netip.ParsePrefix(r)
		if err != nil {
			return c, fmt.Errorf("SMTP_RELAYS: %q is not a network such as 10.0.0.5/32", r)
		}
		c.SMTPRelays = append(c.SMTPRelays, p)
	}
	if c.SMTPListenAddr != "" && c.EmailIntakeAddress == "" && c.PECIntakeAddress == "" {
		return c, errors.New("SMTP_LISTEN_ADDR needs EMAIL_INTAKE_ADDRESS or PEC_INTAKE_ADDRESS")
	}
	switch appEnv := env("APP_ENV", "development"); appEnv {
	case "production":
		c.Production = true
	case "development":
	default:
		return c, fmt.Errorf("APP_ENV must be development or production, not %q", appEnv)
	}
	if c.TrustedProxies, err = parseProxies(os.Getenv("TRUSTED_PROXIES")); err != nil {
		return c, err
	}
	c.AllowListClients = []string{"app"}
	if v, ok := os.LookupEnv("ALLOWLIST_CLIENTS"); ok {
		c.AllowListClients = nil
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				c.AllowListClients = append(c.AllowListClients, name)
			}
		}
	}
	if origins := os.Getenv("CORS_ORIGINS"); origins != "" {
		for _, o := range strings.Split(origins, ",") {
			if o = strings.TrimSpace(o); o != "" {
				c.CORSOrigins = append(c.CORSOrigins, o)
			}
		}
	}
	if c.BlobStore != "postgres" && !strings.HasPrefix(c.BlobStore, "dir:") {
		return c, fmt.Errorf("BLOB_STORE must be postgres or dir:PATH, not %q", c.BlobStore)
	}
	if c.DatabaseURL == "" {
		return c, errors.New("DATABASE_URL is not set (make run starts a local PostgreSQL and sets it)")
	}
	if c.RedisURL == "" {
		return c, errors.New("REDIS_URL is not set (make run starts a local Redis and sets it)")
	}
	if c.Production {
		if c.DevSecret != "" {
			return c, errors.New("AUTH_DEV_SECRET must not be set in production: tokens come from the OIDC provider")
		}
		if c.OIDCIssuer == "" || c.OIDCAudience == "" || c.OIDCJWKSURL == "" {
			return c, errors.New("production needs OIDC_ISSUER, OIDC_AUDIENCE and OIDC_JWKS_URL")
		}
	} else if c.DevSecret == "" {
		c.DevSecret = devSecret
	}
	return c, nil
}

// envInt reads a positive integer; a variable that is set must be one.
func envInt(name string, def int) (int, error) {
	n, err := envInt64(name, int64(def))
	return int(n), err
}

func envInt64(name string, def int64) (int64, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s must be a positive integer, not %q", name, v)
	}
	return n, nil
}

// envDuration reads a positive duration such as 30s.
func envDuration(name string, def time.Duration) (time.Duration, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s must be a positive duration such as 30s, not %q", name, v)
	}
	return d, nil
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// parseProxies reads TRUSTED_PROXIES: networks in CIDR notation or single addresses, separated
// by commas.
func parseProxies(v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fmt.Errorf("TRUSTED_PROXIES must list networks such as 10.0.0.0/8 or addresses, not %q", s)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
