package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/redis/go-redis/v9"
)

// persistedQueries keeps automatic persisted queries in Redis, shared by every instance, with
// this process's recent ones in memory in front: a portal that registered a query's hash on one
// instance can send the hash alone to any other, and a hot query costs no round trip.
type persistedQueries struct {
	rdb   redis.UniversalClient
	local *lru.LRU[string]
}

// persistedQueryTTL is how long an unused persisted query stays in Redis. A client whose hash
// has expired gets PersistedQueryNotFound and sends the query again, as the protocol expects.
const persistedQueryTTL = 7 * 24 * time.Hour

func newPersistedQueries(rdb redis.UniversalClient) *persistedQueries {
	return &persistedQueries{rdb: rdb, local: lru.New[string](1000)}
}

var _ graphql.Cache[string] = (*persistedQueries)(nil)

func (p *persistedQueries) Get(ctx context.Context, hash string) (string, bool) {
	if q, ok := p.local.Get(ctx, hash); ok {
		return q, true
	}
	q, err := p.rdb.Get(ctx, "apq:"+hash).Result()
	if err != nil {
		if err != redis.Nil {
			slog.WarnContext(ctx, "persisted query lookup", "error", err)
		}
		return "", false
	}
	p.local.Add(ctx, hash, q)
	return q, true
}

// Add stores a query under its hash; gqlgen has checked that the hash is the query's SHA-256.
func (p *persistedQueries) Add(ctx context.Context, hash, query string) {
	p.local.Add(ctx, hash, query)
	if err := p.rdb.Set(ctx, "apq:"+hash, query, persistedQueryTTL).Err(); err != nil {
		slog.WarnContext(ctx, "persisted query store", "error", err)
	}
}
