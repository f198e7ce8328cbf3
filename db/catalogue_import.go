package db

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"
	sportello "github.com/sportello/sportello"
)

// upsertSQL returns an INSERT of table that, when the row of constraint exists, updates it only
// if a column differs: an unchanged row is neither written nor returned, so that importing the
// same file twice changes nothing, not even updated_at. It returns whether the row was
// inserted (xmax is 0 only for a row version that no update produced).
func upsertSQL(table, constraint, writeCols, params string, nowParam int, key ...string) string {
	var update []string
	for _, c := range strings.Split(writeCols, ",") {
		if c = strings.TrimSpace(c); c != "tenant_id" && !slices.Contains(key, c) {
			update = append(update, c)
		}
	}
	excluded := make([]string, len(update))
	current := make([]string, len(update))
	for i, c := range update {
		excluded[i] = "EXCLUDED." + c
		current[i] = "s." + c
	}
	return fmt.Sprintf(`INSERT INTO %s AS s (%s, created_at, updated_at) VALUES (%s, $%d, $%d)
		ON CONFLICT ON CONSTRAINT %s DO UPDATE SET (%s, updated_at) = (%s, EXCLUDED.updated_at)
		WHERE (%s) IS DISTINCT FROM (%s)
		RETURNING (s.xmax = 0) AS inserted`,
		table, writeCols, params, nowParam, nowParam, constraint,
		strings.Join(update, ", "), strings.Join(excluded, ", "), strings.Join(current, ", "), strings.Join(excluded, ", "))
}

var (
	upsertServiceSQL   = upsertSQL("services", "services_slug", serviceWrite, serviceParams, 18, "slug")
	upsertProcedureSQL = upsertSQL("procedures", "procedures_key", procedureWrite, procedureParams, 13)
	upsertActSQL       = upsertSQL("acts", "acts_number", actWrite, actParams, 13, "type", "number", "year")
)

// upsert runs an upsert statement and tells what it did.
func (s *CatalogueService) upsert(ctx context.Context, what, query, tenantID, officeID string, values []any) (sportello.UpsertOutcome, error) {
	var outcome sportello.UpsertOutcome
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := checkOptionalOffice(ctx, tx, tenantID, officeID); err != nil {
			return err
		}
		var inserted []bool
		if err := tx.SelectContext(ctx, &inserted, query, append(values, s.db.now())...); err != nil {
			return fmt.Errorf("upsert %s: %w", what, err)
		}
		switch {
		case len(inserted) == 0:
			outcome = sportello.UpsertUnchanged
		case inserted[0]:
			outcome = sportello.UpsertCreated
		default:
			outcome = sportello.UpsertUpdated
		}
		return nil
	})
	return outcome, err
}

// UpsertService writes a service by slug. See sportello.CatalogueImporter.
func (s *CatalogueService) UpsertService(ctx context.Context, in sportello.ServiceInput) (sportello.UpsertOutcome, error) {
	c, err := requireEditor(ctx)
	if err != nil {
		return "", err
	}
	if err := in.Validate(); err != nil {
		return "", err
	}
	return s.upsert(ctx, "service", upsertServiceSQL, c.tenantID, in.OfficeID, serviceValues(c.tenantID, &in))
}

// UpsertProcedure writes a procedure by code or name. See sportello.CatalogueImporter.
func (s *CatalogueService) UpsertProcedure(ctx context.Context, in sportello.ProcedureInput) (sportello.UpsertOutcome, error) {
	c, err := requireEditor(ctx)
	if err != nil {
		return "", err
	}
	if err := in.Validate(); err != nil {
		return "", err
	}
	return s.upsert(ctx, "procedure", upsertProcedureSQL, c.tenantID, in.OfficeID, procedureValues(c.tenantID, &in))
}

// UpsertAct writes an act by type, number and year. See sportello.CatalogueImporter.
func (s *CatalogueService) UpsertAct(ctx context.Context, in sportello.ActInput) (sportello.UpsertOutcome, error) {
	c, err := requireEditor(ctx)
	if err != nil {
		return "", err
	}
	if err := in.Validate(); err != nil {
		return "", err
	}
	return s.upsert(ctx, "act", upsertActSQL, c.tenantID, in.OfficeID, actValues(c.tenantID, &in))
}

// ExportCatalogue reads the whole catalogue. See sportello.CatalogueImporter.
func (s *CatalogueService) ExportCatalogue(ctx context.Context) (*sportello.Catalogue, error) {
	c, err := requireEditor(ctx)
	if err != nil {
		return nil, err
	}
	out := &sportello.Catalogue{}
	// One read-only transaction, so the three lists are one consistent snapshot.
	tx, err := s.db.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	defer tx.Rollback()
	var services []serviceRow
	if err := tx.SelectContext(ctx, &services, `SELECT `+serviceColumns+` FROM services s WHERE s.tenant_id = $1 ORDER BY s.title, s.id`, c.tenantID); err != nil {
		return nil, fmt.Errorf("export services: %w", err)
	}
	for i := range services {
		out.Services = append(out.Services, services[i].service())
	}
	var procedures []procedureRow
	if err := tx.SelectContext(ctx, &procedures, `SELECT `+procedureColumns+` FROM procedures s WHERE s.tenant_id = $1 ORDER BY s.name, s.id`, c.tenantID); err != nil {
		return nil, fmt.Errorf("export procedures: %w", err)
	}
	for i := range procedures {
		out.Procedures = append(out.Procedures, procedures[i].procedure())
	}
	var acts []actRow
	if err := tx.SelectContext(ctx, &acts, `SELECT `+actColumns+` FROM acts s WHERE s.tenant_id = $1 ORDER BY s.date DESC, s.id DESC`, c.tenantID); err != nil {
		return nil, fmt.Errorf("export acts: %w", err)
	}
	for i := range acts {
		out.Acts = append(out.Acts, acts[i].act())
	}
	return out, nil
}
