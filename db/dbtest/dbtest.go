// Package dbtest gives each test a fresh, migrated PostgreSQL database. The migrations run once
// into a template database; every test then gets a copy of it (CREATE DATABASE ... TEMPLATE),
// which takes milliseconds and isolates tests from each other.
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"

	"github.com/lib/pq"
	"github.com/sportello/sportello/db"
)

// URL returns the server's connection URL from DATABASE_URL, failing the test with a clear
// message when it is missing: tests never skip silently.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("DATABASE_URL")
	if u == "" {
		t.Fatal("DATABASE_URL is not set: run the tests with `make test`, which starts PostgreSQL and Redis")
	}
	return u
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// New returns a fresh migrated database, dropped when the test ends.
func New(t testing.TB) *db.DB {
	t.Helper()
	d, _ := NewCounting(t)
	return d
}

// NewCounting is New with a Counter of the statements the database runs.
func NewCounting(t testing.TB) (*db.DB, *Counter) {
	t.Helper()
	return OpenCounting(t, NewURL(t))
}

// OpenCounting opens the database at dbURL (from NewURL) with a Counter of its statements.
func OpenCounting(t testing.TB, dbURL string) (*db.DB, *Counter) {
	t.Helper()
	connector, err := db.Connector(dbURL)
	if err != nil {
		t.Fatalf("connector: %v", err)
	}
	counter := &Counter{}
	d, err := db.OpenConnector(context.Background(), &countingConnector{Connector: connector, counter: counter})
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d, counter
}

// NewURL creates a fresh migrated database and returns its URL, for tests that start a server
// on it. The database is dropped when the test ends.
func NewURL(t testing.TB) string {
	t.Helper()
	base := URL(t)
	templateOnce.Do(func() { templateName, templateErr = ensureTemplate(base) })
	if templateErr != nil {
		t.Fatalf("prepare template database: %v", templateErr)
	}
	admin, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatalf("open %s: %v", redact(base), err)
	}
	defer admin.Close()
	var b [6]byte
	rand.Read(b[:])
	name := "sportello_test_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(`CREATE DATABASE ` + pq.QuoteIdentifier(name) + ` TEMPLATE ` + pq.QuoteIdentifier(templateName)); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("postgres", base)
		if err != nil {
			return
		}
		defer admin.Close()
		admin.Exec(`DROP DATABASE IF EXISTS ` + pq.QuoteIdentifier(name) + ` WITH (FORCE)`)
	})
	return withDatabase(base, name)
}

// ensureTemplate creates the template database for the current migrations unless it exists.
// Its name carries a hash of the migrations, so a changed migration gets a new template, and
// an advisory lock keeps parallel test binaries from building it twice.
func ensureTemplate(base string) (string, error) {
	h := sha256.New()
	for _, m := range db.Migrations() {
		h.Write([]byte(m))
	}
	name := "sportello_template_" + hex.EncodeToString(h.Sum(nil))[:16]
	ctx := context.Background()
	admin, err := sql.Open("postgres", base)
	if err != nil {
		return "", err
	}
	defer admin.Close()
	conn, err := admin.Conn(ctx)
	if err != nil {
		return "", fmt.Errorf("connect to %s: %w", redact(base), err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(727274002)`); err != nil {
		return "", err
	}
	defer conn.ExecContext(ctx, `SELECT pg_advisory_unlock(727274002)`)
	var exists bool
	if err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_building"
	if _, err := conn.ExecContext(ctx, `DROP DATABASE IF EXISTS `+pq.QuoteIdentifier(building)+` WITH (FORCE)`); err != nil {
		return "", err
	}
	if _, err := conn.ExecContext(ctx, `CREATE DATABASE `+pq.QuoteIdentifier(building)); err != nil {
		return "", err
	}
	d, err := db.Open(ctx, withDatabase(base, building))
	if err != nil {
		return "", err
	}
	err = d.Migrate(ctx)
	d.Close()
	if err != nil {
		return "", err
	}
	if _, err := conn.ExecContext(ctx, `ALTER DATABASE `+pq.QuoteIdentifier(building)+` RENAME TO `+pq.QuoteIdentifier(name)); err != nil {
		return "", err
	}
	return name, nil
}

func withDatabase(base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	u.Path = "/" + name
	return u.String()
}

// redact hides the password of a URL in messages.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "DATABASE_URL"
	}
	return u.Redacted()
}
