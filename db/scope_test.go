package db_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/lib/pq"
	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
	"github.com/sportello/sportello/db/dbtest"
)

// twoTenants returns a database with the default tenant and otherTenant, each with one office
// named after it.
func twoTenants(t *testing.T) *db.DB {
	t.Helper()
	d := dbtest.New(t)
	newTenant(t, d)
	newOffice(t, d, sportello.DefaultTenantID, "Ufficio del comune")
	newOffice(t, d, otherTenant, "Ufficio dell'altro comune")
	return d
}

// officeNames runs a query that forgets its tenant condition, as a buggy store method would.
func officeNames(t *testing.T, ctx context.Context, q interface {
	SelectContext(context.Context, any, string, ...any) error
}) []string {
	t.Helper()
	var names []string
	if err := q.SelectContext(ctx, &names, `SELECT name FROM offices ORDER BY name`); err != nil {
		t.Fatalf("select offices: %v", err)
	}
	return names
}

func TestAQueryWithoutTenantConditionSeesOnlyTheCallersTenant(t *testing.T) {
	d := twoTenants(t)
	mine := []string{"Ufficio del comune"}
	both := []string{"Ufficio del comune", "Ufficio dell'altro comune"}
	tests := []struct {
		name string
		ctx  context.Context
		want []string
	}{
		{"staff of the tenant", managerCtx(sportello.DefaultTenantID), mine},
		{"citizen of the tenant", citizenCtx("alice"), mine},
		{"anonymous caller of the tenant", anonymousCtx(), mine},
		{"staff of the other tenant", managerCtx(otherTenant), []string{"Ufficio dell'altro comune"}},
		{"a context naming no tenant", context.Background(), nil},
		{"a user without a tenant", sportello.WithUser(context.Background(), &sportello.User{Subject: "x"}), nil},
		{"a tenant that is not an id", sportello.WithUser(context.Background(), &sportello.User{TenantID: "*"}), nil},
		{"code working for one tenant", db.ForTenant(context.Background(), otherTenant), []string{"Ufficio dell'altro comune"}},
		{"code working across tenants", db.AllTenants(context.Background()), both},
		{"a request marked across tenants stays in its own", db.AllTenants(managerCtx(sportello.DefaultTenantID)), mine},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := officeNames(t, tt.ctx, d); !slices.Equal(got, tt.want) {
				t.Errorf("outside a transaction: %q, want %q", got, tt.want)
			}
			tx, err := d.BeginTxx(tt.ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			if got := officeNames(t, tt.ctx, tx); !slices.Equal(got, tt.want) {
				t.Errorf("in a transaction: %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWritingAnotherTenantsRowsIsRefused(t *testing.T) {
	d := twoTenants(t)
	ctx := managerCtx(sportello.DefaultTenantID)

	_, err := d.ExecContext(ctx, `INSERT INTO offices (tenant_id, name) VALUES ($1, 'Intruso')`, otherTenant)
	if pe, ok := errors.AsType[*pq.Error](err); !ok || pe.Code != "42501" {
		t.Fatalf("insert under another tenant: %v, want a row-level security violation", err)
	}
	_, err = d.ExecContext(ctx, `UPDATE offices SET tenant_id = $1`, otherTenant)
	if pe, ok := errors.AsType[*pq.Error](err); !ok || pe.Code != "42501" {
		t.Fatalf("moving a row to another tenant: %v, want a row-level security violation", err)
	}
	res, err := d.ExecContext(ctx, `UPDATE offices SET description = 'cambiata' WHERE tenant_id = $1`, otherTenant)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 0 {
		t.Fatalf("an update of another tenant's rows changed %d rows", n)
	}
	res, err = d.ExecContext(ctx, `DELETE FROM tenants WHERE id = $1`, otherTenant)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 0 {
		t.Fatalf("another tenant was deleted")
	}
	var descriptions []string
	if err := d.Select(&descriptions, `SELECT description FROM offices WHERE tenant_id = $1`, otherTenant); err != nil {
		t.Fatal(err)
	}
	if len(descriptions) != 1 || descriptions[0] != "" {
		t.Fatalf("the other tenant's offices are now %q", descriptions)
	}
}

// A connection remembers its scope; a transaction that changed it and rolled back must not leave
// it believing the change held.
func TestAScopeChangedInARolledBackTransactionIsNotTrusted(t *testing.T) {
	d := twoTenants(t)
	d.SetMaxOpenConns(1)
	mine, other := managerCtx(sportello.DefaultTenantID), managerCtx(otherTenant)

	tx, err := d.BeginTxx(mine, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := officeNames(t, other, tx); !slices.Equal(got, []string{"Ufficio dell'altro comune"}) {
		t.Fatalf("the other tenant's statement in the transaction: %q", got)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if got := officeNames(t, other, d); !slices.Equal(got, []string{"Ufficio dell'altro comune"}) {
		t.Fatalf("after the rollback the other tenant reads %q", got)
	}
	if got := officeNames(t, mine, d); !slices.Equal(got, []string{"Ufficio del comune"}) {
		t.Fatalf("after the rollback the tenant reads %q", got)
	}
}

// Tables added by later migrations must enable the policy themselves (migration 0016 covers the
// ones before it); this lists any that does not.
func TestEveryTenantTableHasRowLevelSecurity(t *testing.T) {
	d := dbtest.New(t)
	var missing []string
	if err := d.Select(&missing, `SELECT c.relname FROM pg_class c
		WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
		AND (c.relname = 'tenants' OR EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped))
		AND NOT (c.relrowsecurity AND c.relforcerowsecurity
			AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'tenant_isolation'))
		ORDER BY c.relname`); err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Fatalf("tables with a tenant_id but no forced tenant_isolation policy: %v", missing)
	}
}

// A superuser or a role with BYPASSRLS would pass every test above without the policies doing
// anything: the tests, like the server, connect as a role subject to them.
func TestTheTestsConnectAsARoleSubjectToRowLevelSecurity(t *testing.T) {
	d := dbtest.New(t)
	var exempt bool
	if err := d.Get(&exempt, `SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user`); err != nil {
		t.Fatal(err)
	}
	if exempt {
		t.Fatal("the test database is reached as a superuser or a role with BYPASSRLS")
	}
}
