package dbtest

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/lib/pq"
)

func TestTestDatabasesLeftBehindAndOldTemplatesAreDropped(t *testing.T) {
	NewURL(t) // the role and the current template
	ctx := context.Background()
	admin, err := sql.Open("postgres", URL(t))
	if err != nil {
		t.Fatal(err)
	}
	// Registered first, it runs after the cleanups that drop the databases made here.
	t.Cleanup(func() { admin.Close() })
	create := func(name string) {
		t.Helper()
		if _, err := admin.Exec(`CREATE DATABASE ` + pq.QuoteIdentifier(name) + ` OWNER ` + pq.QuoteIdentifier(role)); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		t.Cleanup(func() { admin.Exec(`DROP DATABASE IF EXISTS ` + pq.QuoteIdentifier(name)) })
	}
	now := time.Now()
	left := testDatabaseName(now.Add(-2 * staleAfter))
	unnamed := testDatabasePrefix + "0123456789ab" // a name from before names carried their time
	running := testDatabaseName(now.Add(-staleAfter / 2))
	// Made in this order, the last two are the templates made last.
	oldest, newer, newest := "sportello_template_dbtest_1", "sportello_template_dbtest_2", "sportello_template_dbtest_3"
	for _, name := range []string{left, unnamed, running, oldest, newer, newest} {
		create(name)
	}

	conn, err := admin.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	dropStale(ctx, conn, templateName, now)

	for name, kept := range map[string]bool{left: false, unnamed: false, running: true, oldest: false, newer: true, newest: true,
		templateName: true} {
		var exists bool
		if err := admin.QueryRow(`SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
			t.Fatal(err)
		}
		if exists != kept {
			t.Errorf("%s: exists %v, want %v", name, exists, kept)
		}
	}
}
