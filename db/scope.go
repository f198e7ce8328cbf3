package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"

	sportello "github.com/sportello/sportello"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// The tenant scope of a connection is the setting sportello.tenant_id, which the row-level
// security policies of migration 0016 compare with each row's tenant. It is set here, in one
// place below every way the package reaches the database (transactions, reads outside them,
// sqlx's helpers, prepared statements), from the context of each statement: a forgotten tenant_id
// condition in any query then still returns only the caller's rows.
//
// The setting is made for the session rather than for each transaction, and remembered per
// connection, so it costs one statement only when a connection passes from one tenant to another:
// a municipality's own deployment never pays it after its connections first open, and a read
// outside a transaction needs no BEGIN and COMMIT around it.

type scopeKey struct{}

// AllTenants marks ctx as belonging to code that works across tenants on purpose (the live feed's
// tail, the background workers, finding the tenant of a request): its statements see every
// tenant's rows. A user with a tenant in ctx still narrows it to that tenant, so a request's
// context cannot widen to all tenants by mistake.
func AllTenants(ctx context.Context) context.Context {
	return context.WithValue(ctx, scopeKey{}, allScope)
}

// ForTenant marks ctx as belonging to code without a user that works for one tenant, such as a
// worker's pass over a tenant or a delivery to its citizens: its statements see that tenant's rows
// only. A user with a tenant in ctx takes precedence, as for AllTenants.
func ForTenant(ctx context.Context, tenantID string) context.Context {
	return context.WithValue(ctx, scopeKey{}, tenantID)
}

// allScope is the value of sportello.tenant_id for every tenant.
const allScope = "*"

// scopeOf returns the tenant scope for the statements of ctx: the tenant of the user in ctx, or
// the scope of the innermost AllTenants or ForTenant, and otherwise none, which sees nothing. Only
// ids that are uuids are sent, so the policy's cast cannot fail on them.
func scopeOf(ctx context.Context) string {
	// A user's tenant comes from a token or a header: it is a tenant's id or nothing, never '*'.
	if tenant := sportello.UserFrom(ctx).TenantID; tenant != "" {
		if validID(tenant) {
			return tenant
		}
		return ""
	}
	if scope, _ := ctx.Value(scopeKey{}).(string); scope == allScope || validID(scope) {
		return scope
	}
	return ""
}

// unknownScope marks a connection whose setting is not known, such as a new one or one whose
// transaction rolled back a change of it: the next statement sets it whatever it needs.
const unknownScope = "\x00unknown"

type scopedConnector struct {
	driver.Connector
	tracer trace.Tracer // nil when statements are not traced
}

// scoped wraps lib/pq's connector so that every statement runs in its context's tenant scope,
// and is traced when tracer is not nil.
func scoped(c driver.Connector, tracer trace.Tracer) driver.Connector {
	return &scopedConnector{Connector: c, tracer: tracer}
}

func (c *scopedConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &scopedConn{Conn: conn, scope: unknownScope, tracer: c.tracer}, nil
}

// scopedConn forwards to lib/pq's connection, setting the tenant scope first when the statement's
// context needs another one than the connection has. It forwards only the context-aware
// interfaces, which lib/pq implements, so database/sql takes the paths it takes without it.
type scopedConn struct {
	driver.Conn
	scope  string
	tracer trace.Tracer
}

// traced starts a span for a statement when the statement is part of a traced operation: the
// live feed's polls and the workers, which no request started, make no traces of their own. The
// span ends when the statement has run or its first rows have come back, and carries the
// statement's text, never its arguments, which hold personal data.
func (c *scopedConn) traced(ctx context.Context, query string) (context.Context, func(error)) {
	if c.tracer == nil || !trace.SpanFromContext(ctx).IsRecording() {
		return ctx, func(error) {}
	}
	ctx, span := c.tracer.Start(ctx, "sql", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system.name", "postgresql"), attribute.String("db.query.text", query)))
	return ctx, func(err error) {
		if err != nil {
			span.SetStatus(codes.Error, "statement failed")
		}
		span.End()
	}
}

var errDriverInterface = errors.New("db: lib/pq lacks a driver interface this package relies on")

// use sets the connection's scope to the one ctx needs, unless it has it already.
func (c *scopedConn) use(ctx context.Context) error {
	want := scopeOf(ctx)
	if want == c.scope {
		return nil
	}
	e, ok := c.Conn.(driver.ExecerContext)
	if !ok {
		return errDriverInterface
	}
	c.scope = unknownScope
	if _, err := e.ExecContext(ctx, `SELECT set_config('sportello.tenant_id', $1, false)`,
		[]driver.NamedValue{{Ordinal: 1, Value: want}}); err != nil {
		return err
	}
	c.scope = want
	return nil
}

func (c *scopedConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := c.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	ctx, end := c.traced(ctx, query)
	if err := c.use(ctx); err != nil {
		end(err)
		return nil, err
	}
	rows, err := q.QueryContext(ctx, query, args)
	end(err)
	return rows, err
}

func (c *scopedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := c.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	ctx, end := c.traced(ctx, query)
	if err := c.use(ctx); err != nil {
		end(err)
		return nil, err
	}
	res, err := e.ExecContext(ctx, query, args)
	end(err)
	return res, err
}

func (c *scopedConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	p, ok := c.Conn.(driver.ConnPrepareContext)
	if !ok {
		return nil, errDriverInterface
	}
	s, err := p.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &scopedStmt{Stmt: s, conn: c, query: query}, nil
}

func (c *scopedConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	b, ok := c.Conn.(driver.ConnBeginTx)
	if !ok {
		return nil, errDriverInterface
	}
	// The scope is set before BEGIN, outside the transaction, so that a rollback keeps it.
	if err := c.use(ctx); err != nil {
		return nil, err
	}
	tx, err := b.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &scopedTx{Tx: tx, conn: c}, nil
}

func (c *scopedConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *scopedConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *scopedConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *scopedConn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.Conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// scopedTx forgets the connection's scope when the transaction does not commit, because a change
// of the setting made inside it is undone with it.
type scopedTx struct {
	driver.Tx
	conn *scopedConn
}

func (t *scopedTx) Commit() error {
	err := t.Tx.Commit()
	if err != nil {
		t.conn.scope = unknownScope
	}
	return err
}

func (t *scopedTx) Rollback() error {
	t.conn.scope = unknownScope
	return t.Tx.Rollback()
}

type scopedStmt struct {
	driver.Stmt
	conn  *scopedConn
	query string
}

func (s *scopedStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	ctx, end := s.conn.traced(ctx, s.query)
	if err := s.conn.use(ctx); err != nil {
		end(err)
		return nil, err
	}
	res, err := s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
	end(err)
	return res, err
}

func (s *scopedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	ctx, end := s.conn.traced(ctx, s.query)
	if err := s.conn.use(ctx); err != nil {
		end(err)
		return nil, err
	}
	rows, err := s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	end(err)
	return rows, err
}

// The methods below shadow sqlx's context-free ones, which run with context.Background() and so
// would see no rows. Code without a context is not serving a request: tests setting up or
// inspecting several tenants, and tools. They see every tenant. The services always use the
// Context variants, which run in the caller's scope.

// Exec runs a statement across tenants, for tests and tools.
func (db *DB) Exec(query string, args ...any) (sql.Result, error) {
	return db.DB.ExecContext(AllTenants(context.Background()), query, args...)
}

// Get reads one row across tenants into dest, for tests and tools.
func (db *DB) Get(dest any, query string, args ...any) error {
	return db.DB.GetContext(AllTenants(context.Background()), dest, query, args...)
}

// Select reads rows across tenants into dest, for tests and tools.
func (db *DB) Select(dest any, query string, args ...any) error {
	return db.DB.SelectContext(AllTenants(context.Background()), dest, query, args...)
}

// QueryRow reads one row across tenants, for tests and tools.
func (db *DB) QueryRow(query string, args ...any) *sql.Row {
	return db.DB.QueryRowContext(AllTenants(context.Background()), query, args...)
}
