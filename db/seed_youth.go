package db

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"

	"github.com/jmoiron/sqlx"
	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/oppfile"
)

// demoOpportunities are the demo youth desk's opportunities, in the import format: seeding them
// goes through the importer, so the demo also shows that the format works.
//
//go:embed demo_opportunities.json
var demoOpportunities []byte

// informagiovani is the demo youth desk: open on weekday afternoons and Tuesday and Thursday
// mornings, with 30-minute counselling appointments at one desk.
var informagiovani = demoOffice{"Informagiovani",
	"Informazioni e consulenza per i giovani su studio, lavoro, tirocini, volontariato, mobilità in Europa (punto Eurodesk).",
	"informagiovani@comune.example.it", "+39 0612345660", "Via dei Giovani 2", "Dott. Andrea Celeste",
	[][3]any{{1, "15:00", "18:00"}, {2, "10:00", "13:00"}, {3, "15:00", "18:00"}, {4, "10:00", "13:00"}, {5, "15:00", "18:00"}}}

// seedYouth adds the Informagiovani office, with its hours and booking settings, and imports the
// demo opportunities into the default tenant, once: it does nothing if the tenant has
// opportunities already. Every row of the file must import.
func seedYouth(ctx context.Context, d *DB) error {
	var n int
	if err := d.GetContext(ctx, &n, `SELECT count(*) FROM opportunities WHERE tenant_id = $1`, sportello.DefaultTenantID); err != nil {
		return fmt.Errorf("seed youth desk: %w", err)
	}
	if n > 0 {
		return nil
	}
	o := informagiovani
	err := d.inTx(ctx, func(tx *sqlx.Tx) error {
		var id string
		if err := tx.GetContext(ctx, &id, `INSERT INTO offices (tenant_id, name, description, email, phone, address, head)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (tenant_id, name) DO UPDATE SET description = EXCLUDED.description RETURNING id`,
			sportello.DefaultTenantID, o.name, o.description, o.email, o.phone, o.address, o.head); err != nil {
			return fmt.Errorf("seed office: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM office_hours WHERE office_id = $1`, id); err != nil {
			return fmt.Errorf("seed hours: %w", err)
		}
		for _, h := range o.hours {
			if _, err := tx.ExecContext(ctx, `INSERT INTO office_hours (office_id, weekday, opens, closes) VALUES ($1, $2, $3, $4)`,
				id, h[0], h[1], h[2]); err != nil {
				return fmt.Errorf("seed hours: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	ctx = sportello.WithUser(ctx, &sportello.User{TenantID: sportello.DefaultTenantID, Subject: "seed",
		Roles: []sportello.Role{sportello.RoleAdmin}})
	offices, err := NewOfficeService(d).Offices(ctx)
	if err != nil {
		return fmt.Errorf("seed youth desk: %w", err)
	}
	for _, off := range offices {
		if off.Name == o.name {
			if _, err := NewAppointmentService(d).SetBookingSettings(ctx, off.ID, sportello.BookingSettingsInput{
				SlotMinutes: new(30), Counters: new(1)}); err != nil {
				return fmt.Errorf("seed booking settings: %w", err)
			}
		}
	}
	entries, err := oppfile.Read("demo_opportunities.json", bytes.NewReader(demoOpportunities), nil)
	if err != nil {
		return fmt.Errorf("seed youth desk: %w", err)
	}
	rep, err := oppfile.Import(ctx, NewYouthService(d), offices, entries, false, nil)
	if err != nil {
		return fmt.Errorf("seed youth desk: %w", err)
	}
	if len(rep.Rejected) > 0 {
		return fmt.Errorf("seed youth desk: %s", rep.Rejected[0])
	}
	return nil
}
