// Package db implements the domain services on PostgreSQL, with sqlx and hand-written SQL. Each
// exported method owns its transaction and calls unexported helpers that take it.
package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	sportello "github.com/sportello/sportello"
	"go.opentelemetry.io/otel/trace"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is a pool of connections to the database, with the clock the services read.
type DB struct {
	*sqlx.DB
	// Now is the clock of the office: tests set it to check deadlines and windows.
	Now func() time.Time
	// Notifier, if set, is told after every commit that wrote ticket events, so that the live
	// feed wakes up at once. It is called after the commit: a subscriber woken by it always
	// finds the events in the database.
	Notifier sportello.EventNotifier
	// Blobs keeps the content of attachments; nil keeps it in PostgreSQL (BlobStore).
	Blobs sportello.BlobStore
	// prepared are the statements of the reads outside transactions (see prepared.go).
	prepared preparedCache
	// audits batches the audit entries of staff reads (see recordReads).
	audits auditQueue
}

// committed tells the notifier that a transaction wrote events of the tenant.
func (db *DB) committed(ctx context.Context, tenantID string) {
	if db.Notifier != nil {
		db.Notifier.EventsCommitted(ctx, tenantID)
	}
}

// Open connects to the PostgreSQL database at url and checks that it answers.
func Open(ctx context.Context, url string) (*DB, error) {
	connector, err := Connector(url)
	if err != nil {
		return nil, err
	}
	return OpenConnector(ctx, connector)
}

// Connector returns lib/pq's connector for url with binary_parameters on unless the URL says
// otherwise: lib/pq then sends a statement and its parameters in one round trip instead of
// two (parse and describe first, then bind and execute), which halves the time every statement
// spends on the network and shortens the transactions that hold the protocol number's lock.
// Every statement through the connector runs in its context's tenant scope (see AllTenants).
func Connector(url string) (driver.Connector, error) { return TracedConnector(url, nil) }

// TracedConnector is Connector with a span for every statement that a traced operation runs,
// from tracer.
func TracedConnector(url string, tracer trace.Tracer) (driver.Connector, error) {
	if !strings.Contains(url, "binary_parameters") {
		switch {
		case strings.Contains(url, "://") && strings.Contains(url, "?"):
			url += "&binary_parameters=yes"
		case strings.Contains(url, "://"):
			url += "?binary_parameters=yes"
		default:
			url += " binary_parameters=yes"
		}
	}
	connector, err := pq.NewConnector(url)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return scoped(connector, tracer), nil
}

// OpenConnector is Open over a connector from Connector, or one that wraps it to observe it. A
// connector that does not come from Connector sets no tenant scope, and its statements see no
// rows of the tables under row-level security.
func OpenConnector(ctx context.Context, connector driver.Connector) (*DB, error) {
	x := sqlx.NewDb(sql.OpenDB(connector), "postgres")
	x.SetConnMaxIdleTime(5 * time.Minute)
	d := &DB{DB: x, Now: time.Now}
	d.SetPoolSize(DefaultPoolSize())
	if err := x.PingContext(ctx); err != nil {
		x.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return d, nil
}

// DefaultPoolSize is how many connections a DB opens at most unless told otherwise: two for each
// core of this machine, and at least four. PostgreSQL gets the most work done with about two
// statements running per core (its own rule of thumb is twice the cores plus the disks); more
// make its backends take turns on the cores and contend for locks and caches, which costs CPU
// on every statement. Statements beyond the pool wait their turn in the pool instead, which
// costs little. When PostgreSQL runs on a machine of its own, or several servers share it, the
// pool is set with SetPoolSize (DATABASE_POOL_SIZE) to fit that machine.
func DefaultPoolSize() int {
	return max(4, 2*runtime.NumCPU())
}

// SetPoolSize sets how many connections db opens at most, and keeps that many open when idle.
// No code of this package holds a connection while it waits for another one, so that any size
// from one up makes progress.
func (db *DB) SetPoolSize(n int) {
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
}

// now returns the office's clock truncated to PostgreSQL's precision, so that what a service
// returns equals what a later read returns.
func (db *DB) now() time.Time { return db.Now().Truncate(time.Microsecond) }

// migrationLock is the advisory lock key under which migrations run, so that several server
// instances starting at once apply each migration exactly once.
const migrationLock = 727_274_001

// Migrate applies the embedded migrations that have not been applied yet, in order of their
// number, each in its own transaction.
func (db *DB) Migrate(ctx context.Context) error {
	// A migration that changes data changes every tenant's.
	ctx = AllTenants(ctx)
	conn, err := db.Connx(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock)

	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    text PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var applied []string
	if err := conn.SelectContext(ctx, &applied, `SELECT version FROM schema_migrations`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	slices.Sort(names)
	for _, name := range names {
		version := strings.TrimSuffix(strings.TrimPrefix(name, "migrations/"), ".sql")
		if slices.Contains(applied, version) {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		tx, err := conn.BeginTxx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrate %s: %w", version, err)
		}
		// A migration may rewrite a large table: the pool's statement_timeout, meant for
		// requests, does not apply to it.
		if _, err := tx.ExecContext(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %s: %w", version, err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %s: %w", version, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, version); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %s: %w", version, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate %s: %w", version, err)
		}
	}
	return nil
}

// PendingMigrations counts the embedded migrations the database has not applied: an instance
// whose code is newer than its database is not ready to serve.
func (db *DB) PendingMigrations(ctx context.Context) (int, error) {
	var applied []string
	if err := db.SelectContext(ctx, &applied, `SELECT version FROM schema_migrations`); err != nil {
		return 0, fmt.Errorf("read applied migrations: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return 0, fmt.Errorf("list migrations: %w", err)
	}
	pending := 0
	for _, name := range names {
		if !slices.Contains(applied, strings.TrimSuffix(strings.TrimPrefix(name, "migrations/"), ".sql")) {
			pending++
		}
	}
	return pending, nil
}

// inTx runs fn in a transaction, committing when it returns nil and rolling back otherwise, so
// that a failed operation writes nothing.
func (db *DB) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// inEventTx is inTx for transactions that write ticket events of the tenant: after the commit
// it wakes the live feed.
func (db *DB) inEventTx(ctx context.Context, tenantID string, fn func(tx *sqlx.Tx) error) error {
	if err := db.inTx(ctx, fn); err != nil {
		return err
	}
	db.committed(ctx, tenantID)
	return nil
}

// validID reports whether s can be an id: a UUID in its hyphenated form, in either case. Ids that
// cannot are answered NOT_FOUND without asking the database, which would fail on them with a
// driver error. Every read by id passes here, so it checks by hand what a regular expression
// took a microsecond to.
func validID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// validIDs returns the ids that can be ids.
func validIDs(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if validID(id) {
			out = append(out, id)
		}
	}
	return out
}

// isUniqueViolation reports whether err is a unique violation of the named constraint.
func isUniqueViolation(err error, constraint string) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && pe.Code == "23505" && pe.Constraint == constraint
}

// nullString stores "" as NULL, for columns where absence differs from an empty value.
func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// nullID stores "" as a NULL reference.
func nullID(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// args builds the positional parameters of a query assembled from optional parts.
type args []any

// add appends v and returns its placeholder.
func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// Migrations returns the text of every migration in order, so test tooling can tell when they
// change.
func Migrations() []string {
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	slices.Sort(names)
	out := make([]string, 0, len(names))
	for _, n := range names {
		b, _ := migrations.ReadFile(n)
		out = append(out, n, string(b))
	}
	return out
}
