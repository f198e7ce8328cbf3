package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	sportello "github.com/sportello/sportello"
)

// upsertOpportunitySQL writes an opportunity by source and external reference; an unchanged
// row is neither written nor returned (see upsertSQL). The status is the last written column,
// and published_at is set the first time the row is PUBLISHED.
var upsertOpportunitySQL = func() string {
	n := opportunityWriteCount
	status, now := "$"+strconv.Itoa(n+1), "$"+strconv.Itoa(n+2)
	var set, excluded, current []string
	for _, c := range strings.Split(opportunityWrite+", status", ",") {
		if c = strings.TrimSpace(c); c == "tenant_id" || c == "source" || c == "external_ref" {
			continue
		}
		set = append(set, c)
		excluded = append(excluded, "EXCLUDED."+c)
		current = append(current, "o."+c)
	}
	return `INSERT INTO opportunities AS o (` + opportunityWrite + `, status, published_at, created_at, updated_at)
		VALUES (` + opportunityParams + `, ` + status + `, CASE WHEN ` + status + ` = 'PUBLISHED' THEN ` + now + `::timestamptz END, ` + now + `, ` + now + `)
		ON CONFLICT (tenant_id, source, external_ref) WHERE external_ref <> '' DO UPDATE SET
			(` + strings.Join(set, ", ") + `, published_at, updated_at) = (` + strings.Join(excluded, ", ") + `,
			CASE WHEN EXCLUDED.status = 'PUBLISHED' THEN coalesce(o.published_at, EXCLUDED.updated_at) ELSE o.published_at END,
			EXCLUDED.updated_at)
		WHERE (` + strings.Join(current, ", ") + `) IS DISTINCT FROM (` + strings.Join(excluded, ", ") + `)
		RETURNING (o.xmax = 0) AS inserted, ` + opportunityColumns
}()

// UpsertOpportunity writes an opportunity by source and reference. See
// sportello.OpportunityImporter.
func (s *YouthService) UpsertOpportunity(ctx context.Context, in sportello.OpportunityInput) (sportello.UpsertOutcome, error) {
	c, err := requireYouthDesk(ctx)
	if err != nil {
		return "", err
	}
	if err := in.Validate(); err != nil {
		return "", err
	}
	if in.ExternalRef == "" {
		return "", sportello.InvalidField("externalRef", "must not be empty: imports match opportunities by it")
	}
	values := append(opportunityValues(c.tenantID, &in), s.storedStatus(&in), s.db.now())
	var outcome sportello.UpsertOutcome
	err = s.db.inEventTx(ctx, c.tenantID, func(tx *sqlx.Tx) error {
		if err := checkOptionalOffice(ctx, tx, c.tenantID, in.OfficeID); err != nil {
			return err
		}
		var before string
		err := tx.GetContext(ctx, &before, `SELECT status FROM opportunities WHERE tenant_id = $1 AND source = $2
			AND external_ref = $3 FOR UPDATE`, c.tenantID, in.Source, in.ExternalRef)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var rows []struct {
			Inserted bool `db:"inserted"`
			opportunityRow
		}
		if err := tx.SelectContext(ctx, &rows, upsertOpportunitySQL, values...); err != nil {
			return err
		}
		if len(rows) == 0 {
			outcome = sportello.UpsertUnchanged
			return nil
		}
		outcome = sportello.UpsertUpdated
		if rows[0].Inserted {
			outcome = sportello.UpsertCreated
		}
		if rows[0].Status == string(sportello.OpportunityPublished) && before != string(sportello.OpportunityPublished) {
			return s.alert(ctx, tx, rows[0].opportunity())
		}
		return nil
	})
	if err != nil {
		return "", wrapInternal("upsert opportunity", err)
	}
	return outcome, nil
}

// WithdrawMissing withdraws what a full feed no longer lists. See sportello.OpportunityImporter.
func (s *YouthService) WithdrawMissing(ctx context.Context, source sportello.OpportunitySource, keep []string) (int, error) {
	c, err := requireYouthDesk(ctx)
	if err != nil {
		return 0, err
	}
	if !source.Valid() {
		return 0, sportello.InvalidField("source", "unknown source %q", source)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE opportunities SET status = 'WITHDRAWN', updated_at = $4
		WHERE tenant_id = $1 AND source = $2 AND external_ref <> '' AND NOT (external_ref = ANY($3::text[]))
		  AND status IN ('DRAFT', 'PUBLISHED')`, c.tenantID, source, pq.Array(keep), s.db.now())
	if err != nil {
		return 0, fmt.Errorf("withdraw missing opportunities: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// ExportOpportunities reads every opportunity. See sportello.OpportunityImporter.
func (s *YouthService) ExportOpportunities(ctx context.Context) ([]*sportello.Opportunity, error) {
	c, err := requireYouthDesk(ctx)
	if err != nil {
		return nil, err
	}
	var rows []opportunityRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+opportunityColumns+` FROM opportunities o
		WHERE o.tenant_id = $1 ORDER BY o.title, o.id`, c.tenantID); err != nil {
		return nil, fmt.Errorf("export opportunities: %w", err)
	}
	out := make([]*sportello.Opportunity, len(rows))
	for i := range rows {
		out[i] = rows[i].opportunity()
	}
	return out, nil
}
