package db

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/catfile"
)

// demoCatalogue is the demo municipality's catalogue, in the import format: seeding it goes
// through the importer, so the demo also shows that the format works.
//
//go:embed demo_catalogue.json
var demoCatalogue []byte

// seedCatalogue imports the demo catalogue into the default tenant, once: it does nothing if
// the tenant has services already. Every entry of the file must import.
func seedCatalogue(ctx context.Context, d *DB) error {
	var n int
	if err := d.GetContext(ctx, &n, `SELECT count(*) FROM services WHERE tenant_id = $1`, sportello.DefaultTenantID); err != nil {
		return fmt.Errorf("seed catalogue: %w", err)
	}
	if n > 0 {
		return nil
	}
	entries, err := catfile.Read("demo_catalogue.json", bytes.NewReader(demoCatalogue))
	if err != nil {
		return fmt.Errorf("seed catalogue: %w", err)
	}
	ctx = sportello.WithUser(ctx, &sportello.User{TenantID: sportello.DefaultTenantID, Subject: "seed",
		Roles: []sportello.Role{sportello.RoleAdmin}})
	offices, err := NewOfficeService(d).Offices(ctx)
	if err != nil {
		return fmt.Errorf("seed catalogue: %w", err)
	}
	rep, err := catfile.Import(ctx, NewCatalogueService(d), offices, entries, nil)
	if err != nil {
		return fmt.Errorf("seed catalogue: %w", err)
	}
	if len(rep.Rejected) > 0 {
		return fmt.Errorf("seed catalogue: %s", rep.Rejected[0])
	}
	return nil
}
