package dbtest

import (
	"context"
	"database/sql/driver"
	"errors"
	"sync/atomic"
)

// Counter counts the SQL statements a database runs, so tests can show that a nested list
// query costs a fixed number of statements whatever the page size (no N+1).
type Counter struct {
	n atomic.Int64
	// OnlyMarked counts only the statements run with a context from Mark, so that a server's
	// background work (the live feed's polls) does not blur the count of a request's statements.
	OnlyMarked bool
}

type markKey struct{}

// Mark returns a context whose statements a Counter with OnlyMarked counts.
func Mark(ctx context.Context) context.Context { return context.WithValue(ctx, markKey{}, true) }

func (c *Counter) count(ctx context.Context) {
	if !c.OnlyMarked || ctx.Value(markKey{}) != nil {
		c.n.Add(1)
	}
}

// Count returns the statements run so far.
func (c *Counter) Count() int64 { return c.n.Load() }

// Reset starts counting from zero.
func (c *Counter) Reset() { c.n.Store(0) }

type countingConnector struct {
	driver.Connector
	counter *Counter
}

func (c *countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: conn, counter: c.counter}, nil
}

// countingConn forwards to lib/pq's connection and counts queries and executions. It forwards
// only the context-aware interfaces, which lib/pq implements, so database/sql takes the same
// paths it would take without the wrapper.
type countingConn struct {
	driver.Conn
	counter *Counter
}

var errNotSupported = errors.New("dbtest: driver interface not supported")

func (c *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := c.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	c.counter.count(ctx)
	return q.QueryContext(ctx, query, args)
}

func (c *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := c.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	c.counter.count(ctx)
	return e.ExecContext(ctx, query, args)
}

func (c *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	p, ok := c.Conn.(driver.ConnPrepareContext)
	if !ok {
		return nil, errNotSupported
	}
	s, err := p.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &countingStmt{Stmt: s, counter: c.counter}, nil
}

func (c *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	b, ok := c.Conn.(driver.ConnBeginTx)
	if !ok {
		return nil, errNotSupported
	}
	return b.BeginTx(ctx, opts)
}

func (c *countingConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *countingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *countingConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

type countingStmt struct {
	driver.Stmt
	counter *Counter
}

func (s *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.counter.count(ctx)
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.counter.count(ctx)
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}

func (c *countingConn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.Conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}
