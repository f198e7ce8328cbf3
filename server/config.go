package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/sportello/sportello/graph"
)

// devSecret signs development tokens when AUTH_DEV_SECRET is not set. It is public, so
// production refuses development tokens altogether.
const devSecret = "sportello-development-secret-do-not-use-in-production"

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
	// LoaderWait is how long dataloaders gather keys before running a batch.
	LoaderWait time.Duration
	// LiveBuffer is how many events a subscriber may have queued before it catches up from
	// PostgreSQL instead; zero takes the live feed's default.
	LiveBuffer int
	// LiveSlowAfter is how long a subscriber may fail to take an event before it is
	// disconnected as too slow (1013). It is below the WebSocket write timeout, so that a
	// client that stops reading learns why before its socket is cut.
	LiveSlowAfter time.Duration
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
		MaxBodyBytes:  1 << 20,
		ComplexityMax: 5000,
		LoaderWait:    graph.DefaultLoaderWait,
		LiveSlowAfter: 5 * time.Second,
		PprofAddr:     os.Getenv("PPROF_ADDR"),
	}
	switch appEnv := env("APP_ENV", "development"); appEnv {
	case "production":
		c.Production = true
	case "development":
	default:
		return c, fmt.Errorf("APP_ENV must be development or production, not %q", appEnv)
	}
	if origins := os.Getenv("CORS_ORIGINS"); origins != "" {
		for _, o := range strings.Split(origins, ",") {
			if o = strings.TrimSpace(o); o != "" {
				c.CORSOrigins = append(c.CORSOrigins, o)
			}
		}
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

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
