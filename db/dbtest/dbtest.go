// Package dbtest gives each test a fresh, migrated PostgreSQL database. The migrations run once
// into a template database; every test then gets a copy of it (CREATE DATABASE ... TEMPLATE),
// which takes milliseconds and isolates tests from each other.
//
// The databases belong to the application's role and the tests connect as it, as the server
// does in production: a role that is neither a superuser nor exempt from row-level security, so
// that the tenant isolation of migration 0016 holds in every test. When DATABASE_URL names a
// superuser (a cluster made before the role existed), the role is created on first use.
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
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

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

// AppRole is the role the application connects as when DATABASE_URL names a superuser;
// scripts/services.sh creates it and writes it into DATABASE_URL.
const AppRole = "sportello"

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
	// role is the role owning the test databases, and appURL the server's URL as that role.
	role   string
	appURL string
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
	templateOnce.Do(func() {
		role, appURL, templateErr = ensureRole(base)
		if templateErr == nil {
			templateName, templateErr = ensureTemplate(base)
		}
	})
	if templateErr != nil {
		t.Fatalf("prepare template database: %v", templateErr)
	}
	admin, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatalf("open %s: %v", redact(base), err)
	}
	defer admin.Close()
	name := testDatabaseName(time.Now())
	if _, err := admin.Exec(`CREATE DATABASE ` + pq.QuoteIdentifier(name) + ` TEMPLATE ` + pq.QuoteIdentifier(templateName) +
		` OWNER ` + pq.QuoteIdentifier(role)); err != nil {
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
	return withDatabase(appURL, name)
}

// ensureRole returns the role the tests connect as and the URL of the server as that role: the
// role of DATABASE_URL when it is subject to row-level security, and otherwise AppRole, created
// if missing with the rights scripts/services.sh gives it.
func ensureRole(base string) (string, string, error) {
	admin, err := sql.Open("postgres", base)
	if err != nil {
		return "", "", err
	}
	defer admin.Close()
	var current string
	var privileged bool
	if err := admin.QueryRow(`SELECT current_user, rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user`).
		Scan(&current, &privileged); err != nil {
		return "", "", fmt.Errorf("connect to %s: %w", redact(base), err)
	}
	if !privileged {
		return current, base, nil
	}
	// Several test binaries may get here at once: a role created meanwhile is not an error.
	if _, err := admin.Exec(`DO $$ BEGIN
			IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '` + AppRole + `') THEN
				CREATE ROLE ` + AppRole + ` LOGIN CREATEDB;
			END IF;
		EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
		END $$`); err != nil {
		return "", "", fmt.Errorf("create role %s: %w", AppRole, err)
	}
	if _, err := admin.Exec(`GRANT pg_read_all_stats TO ` + AppRole); err != nil {
		return "", "", fmt.Errorf("grant pg_read_all_stats to %s: %w", AppRole, err)
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", "", fmt.Errorf("DATABASE_URL: %w", err)
	}
	u.User = url.User(AppRole)
	return AppRole, u.String(), nil
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
	dropStale(ctx, conn, name, time.Now())
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
	if _, err := conn.ExecContext(ctx, `CREATE DATABASE `+pq.QuoteIdentifier(building)+` OWNER `+pq.QuoteIdentifier(role)); err != nil {
		return "", err
	}
	// The migrations run as the application's role, as `server migrate` does, so that it owns
	// what they create.
	d, err := db.Open(ctx, withDatabase(appURL, building))
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

// testDatabasePrefix begins the name of every test database; the time it was made follows, so
// that a later test binary can tell one left behind.
const testDatabasePrefix = "sportello_test_"

// testDatabaseName names a test database made at now.
func testDatabaseName(now time.Time) string {
	var b [6]byte
	rand.Read(b[:])
	return testDatabasePrefix + strconv.FormatInt(now.Unix(), 10) + "_" + hex.EncodeToString(b[:])
}

const (
	// staleAfter is how old a test database must be before a later test binary drops it. No
	// test binary runs that long (go test stops one after ten minutes), so a database that old
	// was left by a binary killed before its cleanup ran.
	staleAfter = time.Hour
	// keptTemplates is how many templates of other migrations are kept besides the current
	// one: those of the branches a developer switches between, or of another checkout whose
	// tests run on the same cluster at the same time.
	keptTemplates = 2
)

// dropStale drops what killed test binaries and changed migrations have left in the cluster:
// test databases older than staleAfter (and those named before names carried their time), and
// the templates of other migrations beyond the keptTemplates made last. DROP without FORCE
// refuses a database in use, and any error is ignored: tidying up never fails a test.
func dropStale(ctx context.Context, conn *sql.Conn, template string, now time.Time) {
	var stale []string
	rows, err := conn.QueryContext(ctx, `SELECT datname FROM pg_database
		WHERE datname LIKE 'sportello\_test\_%' OR (datname LIKE 'sportello\_template\_%' AND datname <> $1)
		ORDER BY oid DESC`, template)
	if err != nil {
		return
	}
	templates := 0
	for rows.Next() {
		var name string
		if rows.Scan(&name) != nil {
			break
		}
		if rest, ok := strings.CutPrefix(name, testDatabasePrefix); ok {
			made, _, _ := strings.Cut(rest, "_")
			if unix, err := strconv.ParseInt(made, 10, 64); err != nil || now.Sub(time.Unix(unix, 0)) > staleAfter {
				stale = append(stale, name)
			}
			continue
		}
		if templates++; templates > keptTemplates {
			stale = append(stale, name)
		}
	}
	rows.Close()
	for _, name := range stale {
		conn.ExecContext(ctx, `DROP DATABASE IF EXISTS `+pq.QuoteIdentifier(name))
	}
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
