package db

import (
	"context"
	"database/sql"
	"sync"

	"github.com/jmoiron/sqlx"
)

// maxPrepared bounds the statements a pool keeps prepared. The services build their queries
// from a fixed set of parts, so a few hundred texts cover every filter combination in use;
// beyond the bound a query runs unprepared, as before.
const maxPrepared = 500

// preparedCache holds the pool's prepared statements by query text. database/sql prepares a
// statement on each connection the first time it runs there and keeps it for the connection's
// life.
type preparedCache struct {
	mu    sync.RWMutex
	stmts map[string]*sqlx.Stmt
}

// stmt returns the prepared statement of query, preparing it on first use, or nil when the
// cache is full or the statement cannot be prepared (the caller then runs it unprepared and
// reports the error it gets).
func (db *DB) stmt(ctx context.Context, query string) *sqlx.Stmt {
	c := &db.prepared
	c.mu.RLock()
	s, ok := c.stmts[query]
	c.mu.RUnlock()
	if ok {
		return s
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.stmts[query]; ok {
		return s
	}
	if len(c.stmts) >= maxPrepared {
		return nil
	}
	s, err := db.DB.PreparexContext(ctx, query)
	if err != nil {
		return nil
	}
	if c.stmts == nil {
		c.stmts = make(map[string]*sqlx.Stmt)
	}
	c.stmts[query] = s
	return s
}

// The reads outside transactions go through prepared statements: PostgreSQL parses and
// analyzes each query once per connection instead of at every call, and may reuse its plan.
// These methods shadow sqlx.DB's, so the services' s.db.GetContext and sqlx.GetContext(ctx,
// s.db, …) both take this path; transactions (sqlx.Tx) are unaffected.

// QueryxContext runs a query through its prepared statement.
func (db *DB) QueryxContext(ctx context.Context, query string, args ...any) (*sqlx.Rows, error) {
	if s := db.stmt(ctx, query); s != nil {
		return s.QueryxContext(ctx, args...)
	}
	return db.DB.QueryxContext(ctx, query, args...)
}

// QueryRowxContext runs a query of one row through its prepared statement.
func (db *DB) QueryRowxContext(ctx context.Context, query string, args ...any) *sqlx.Row {
	if s := db.stmt(ctx, query); s != nil {
		return s.QueryRowxContext(ctx, args...)
	}
	return db.DB.QueryRowxContext(ctx, query, args...)
}

// QueryContext is QueryxContext for database/sql's rows.
func (db *DB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := db.stmt(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return db.DB.QueryContext(ctx, query, args...)
}

// GetContext reads one row into dest through the query's prepared statement.
func (db *DB) GetContext(ctx context.Context, dest any, query string, args ...any) error {
	return sqlx.GetContext(ctx, db, dest, query, args...)
}

// SelectContext reads rows into dest through the query's prepared statement.
func (db *DB) SelectContext(ctx context.Context, dest any, query string, args ...any) error {
	return sqlx.SelectContext(ctx, db, dest, query, args...)
}
