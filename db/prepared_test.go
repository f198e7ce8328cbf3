package db_test

import (
	"context"
	"errors"
	"testing"

	"github.com/lib/pq"
	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
	"github.com/sportello/sportello/db/dbtest"
)

func TestReadsOutsideTransactionsRunPrepared(t *testing.T) {
	d := dbtest.New(t)
	// One connection, so that the session the statement was prepared in is the one asked.
	d.SetMaxOpenConns(1)
	ctx := db.AllTenants(context.Background())
	const query = `SELECT name FROM tenants WHERE id = $1`
	for range 2 {
		var name string
		if err := d.GetContext(ctx, &name, query, sportello.DefaultTenantID); err != nil {
			t.Fatalf("read: %v", err)
		}
	}
	var prepared int
	// d.DB is sqlx's pool itself, whose reads are not prepared.
	if err := d.DB.GetContext(ctx, &prepared, `SELECT count(*) FROM pg_prepared_statements WHERE statement = $1`, query); err != nil {
		t.Fatalf("count prepared statements: %v", err)
	}
	if prepared != 1 {
		t.Errorf("the read is prepared %d times in the session, want once", prepared)
	}
}

func TestAQueryThatCannotBePreparedReportsItsError(t *testing.T) {
	d := dbtest.New(t)
	var n int
	err := d.GetContext(context.Background(), &n, `SELECT count(*) FROM no_such_table`)
	var pe *pq.Error
	if !errors.As(err, &pe) || pe.Code != "42P01" {
		t.Fatalf("got %v, want PostgreSQL's undefined_table", err)
	}
}
