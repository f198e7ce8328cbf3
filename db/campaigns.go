package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	sportello "github.com/sportello/sportello"
)

// CampaignService implements sportello.CampaignService.
type CampaignService struct {
	db *DB
}

// NewCampaignService returns the campaign service over db.
func NewCampaignService(db *DB) *CampaignService { return &CampaignService{db: db} }

var _ sportello.CampaignService = (*CampaignService)(nil)

const campaignColumns = `id, tenant_id, name, goal, audience, target_groups, channels, starts_on::text AS starts_on,
	ends_on::text AS ends_on, content_ids::text[] AS content_ids, status, result_links, created_at, updated_at`

type campaignRow struct {
	ID           string         `db:"id"`
	TenantID     string         `db:"tenant_id"`
	Name         string         `db:"name"`
	Goal         string         `db:"goal"`
	Audience     string         `db:"audience"`
	TargetGroups pq.StringArray `db:"target_groups"`
	Channels     pq.StringArray `db:"channels"`
	StartsOn     dateColumn     `db:"starts_on"`
	EndsOn       dateColumn     `db:"ends_on"`
	ContentIDs   pq.StringArray `db:"content_ids"`
	Status       string         `db:"status"`
	ResultLinks  []byte         `db:"result_links"`
	CreatedAt    time.Time      `db:"created_at"`
	UpdatedAt    time.Time      `db:"updated_at"`
}

func (r *campaignRow) campaign() (*sportello.Campaign, error) {
	links, err := readLinks(r.ResultLinks)
	if err != nil {
		return nil, err
	}
	channels := make([]sportello.CampaignChannel, len(r.Channels))
	for i, c := range r.Channels {
		channels[i] = sportello.CampaignChannel(c)
	}
	return &sportello.Campaign{ID: r.ID, TenantID: r.TenantID, Name: r.Name, Goal: r.Goal,
		Audience: sportello.CampaignAudience(r.Audience), TargetGroups: nonNil(r.TargetGroups), Channels: channels,
		StartsOn: r.StartsOn.Date, EndsOn: r.EndsOn.Date, ContentIDs: nonNil(r.ContentIDs),
		Status: sportello.CampaignStatus(r.Status), ResultLinks: links, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}, nil
}

var errCampaignTaken = &sportello.Error{Code: sportello.CodeConflict, Field: "name", Message: "another campaign has this name"}

// checkContents checks that every id names an item of the tenant.
func checkContents(ctx context.Context, q sqlx.QueryerContext, tenantID string, ids []string, field string) error {
	if len(ids) == 0 {
		return nil
	}
	notFound := &sportello.Error{Code: sportello.CodeNotFound, Field: field, Message: "content not found"}
	if len(validIDs(ids)) != len(ids) {
		return notFound
	}
	var n int
	if err := sqlx.GetContext(ctx, q, &n, `SELECT count(*) FROM contents WHERE tenant_id = $1 AND id = ANY($2::uuid[])`,
		tenantID, pq.Array(ids)); err != nil {
		return fmt.Errorf("find content: %w", err)
	}
	if n != len(ids) {
		return notFound
	}
	return nil
}

// writeCampaign creates (id "") or replaces a campaign.
func (s *CampaignService) writeCampaign(ctx context.Context, id string, in sportello.CampaignInput) (*sportello.Campaign, error) {
	c, err := requireContentEditor(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	if id != "" && !validID(id) {
		return nil, sportello.NotFound("campaign")
	}
	var row campaignRow
	err = s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := checkContents(ctx, tx, c.tenantID, in.ContentIDs, "contentIds"); err != nil {
			return err
		}
		values := []any{c.tenantID, in.Name, in.Goal, in.Audience, pq.Array(in.TargetGroups), pq.Array(in.Channels),
			in.StartsOn.String(), in.EndsOn.String(), pq.Array(in.ContentIDs), in.Status, linksArg(in.ResultLinks), s.db.now()}
		if id == "" {
			return tx.GetContext(ctx, &row, `INSERT INTO campaigns (tenant_id, name, goal, audience, target_groups, channels,
					starts_on, ends_on, content_ids, status, result_links, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5::text[], $6::text[], $7::date, $8::date, $9::uuid[], $10, $11::jsonb, $12, $12)
				RETURNING `+campaignColumns, values...)
		}
		err := tx.GetContext(ctx, &row, `UPDATE campaigns SET (name, goal, audience, target_groups, channels, starts_on,
				ends_on, content_ids, status, result_links, updated_at)
				= ($2, $3, $4, $5::text[], $6::text[], $7::date, $8::date, $9::uuid[], $10, $11::jsonb, $12)
			WHERE tenant_id = $1 AND id = $13 RETURNING `+campaignColumns, append(values, id)...)
		if errors.Is(err, sql.ErrNoRows) {
			return sportello.NotFound("campaign")
		}
		return err
	})
	if isUniqueViolation(err, "campaigns_name") {
		return nil, errCampaignTaken
	}
	if err != nil {
		return nil, wrapInternal("write campaign", err)
	}
	return row.campaign()
}

// CreateCampaign adds a campaign. See sportello.CampaignService.
func (s *CampaignService) CreateCampaign(ctx context.Context, in sportello.CampaignInput) (*sportello.Campaign, error) {
	return s.writeCampaign(ctx, "", in)
}

// UpdateCampaign replaces a campaign's fields. See sportello.CampaignService.
func (s *CampaignService) UpdateCampaign(ctx context.Context, id string, in sportello.CampaignInput) (*sportello.Campaign, error) {
	return s.writeCampaign(ctx, id, in)
}

// Campaign returns a campaign. See sportello.CampaignService.
func (s *CampaignService) Campaign(ctx context.Context, id string) (*sportello.Campaign, error) {
	c, err := requireContentEditor(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, sportello.NotFound("campaign")
	}
	return s.get(ctx, s.db, c.tenantID, id, "")
}

// get reads a campaign of the tenant, with a locking clause (" FOR SHARE") or none.
func (s *CampaignService) get(ctx context.Context, q sqlx.QueryerContext, tenantID, id, lock string) (*sportello.Campaign, error) {
	var row campaignRow
	err := sqlx.GetContext(ctx, q, &row, `SELECT `+campaignColumns+` FROM campaigns WHERE tenant_id = $1 AND id = $2`+lock, tenantID, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sportello.NotFound("campaign")
	}
	if err != nil {
		return nil, fmt.Errorf("get campaign: %w", err)
	}
	return row.campaign()
}

// Campaigns lists campaigns. See sportello.CampaignService.
func (s *CampaignService) Campaigns(ctx context.Context, statuses []sportello.CampaignStatus) ([]*sportello.Campaign, error) {
	c, err := requireContentEditor(ctx)
	if err != nil {
		return nil, err
	}
	for _, st := range statuses {
		if !st.Valid() {
			return nil, sportello.InvalidField("statuses", "unknown status %q", st)
		}
	}
	var a args
	query := `SELECT ` + campaignColumns + ` FROM campaigns WHERE tenant_id = ` + a.add(c.tenantID)
	if len(statuses) > 0 {
		query += ` AND status = ANY(` + a.add(pq.Array(statuses)) + `)`
	}
	var rows []campaignRow
	if err := s.db.SelectContext(ctx, &rows, query+` ORDER BY starts_on DESC, id DESC`, a...); err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	out := make([]*sportello.Campaign, len(rows))
	for i := range rows {
		if out[i], err = rows[i].campaign(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

const distributionColumns = `id, campaign_id, material, coalesce(content_id::text, '') AS content_id, channel, place, copies,
	delivered_on::text AS delivered_on, delivered_by, recorded_by, notes, created_at`

type distributionRow struct {
	ID          string         `db:"id"`
	CampaignID  string         `db:"campaign_id"`
	Material    string         `db:"material"`
	ContentID   string         `db:"content_id"`
	Channel     string         `db:"channel"`
	Place       string         `db:"place"`
	Copies      int            `db:"copies"`
	DeliveredOn dateColumn     `db:"delivered_on"`
	DeliveredBy string         `db:"delivered_by"`
	RecordedBy  sql.NullString `db:"recorded_by"`
	Notes       string         `db:"notes"`
	CreatedAt   time.Time      `db:"created_at"`
}

func (r *distributionRow) distribution() *sportello.Distribution {
	return &sportello.Distribution{ID: r.ID, CampaignID: r.CampaignID, Material: r.Material, ContentID: r.ContentID,
		Channel: sportello.CampaignChannel(r.Channel), Place: r.Place, Copies: r.Copies, DeliveredOn: r.DeliveredOn.Date,
		DeliveredBy: r.DeliveredBy, RecordedBy: r.RecordedBy.String,
		Notes: r.Notes, CreatedAt: r.CreatedAt}
}

// RecordDistribution adds a delivery to a campaign's log. See sportello.CampaignService.
func (s *CampaignService) RecordDistribution(ctx context.Context, campaignID string, in sportello.DistributionInput) (*sportello.Distribution, error) {
	c, err := requireContentEditor(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(campaignID) {
		return nil, sportello.NotFound("campaign")
	}
	var row distributionRow
	err = s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		// Shared: a concurrent update of the campaign's channels waits for this delivery.
		camp, err := s.get(ctx, tx, c.tenantID, campaignID, " FOR SHARE")
		if err != nil {
			return err
		}
		if err := in.Validate(camp); err != nil {
			return err
		}
		if in.ContentID != "" {
			if err := checkContents(ctx, tx, c.tenantID, []string{in.ContentID}, "contentId"); err != nil {
				return err
			}
		}
		who, err := ensureStaff(ctx, tx, c)
		if err != nil {
			return err
		}
		if in.DeliveredBy == "" {
			in.DeliveredBy = who.Name
		}
		return tx.GetContext(ctx, &row, `INSERT INTO campaign_distributions (tenant_id, campaign_id, material, content_id,
				channel, place, copies, delivered_on, delivered_by, recorded_by, notes, created_at)
			VALUES ($1, $2, $3, $4::uuid, $5, $6, $7, $8::date, $9, $10, $11, $12) RETURNING `+distributionColumns,
			c.tenantID, campaignID, in.Material, nullID(in.ContentID), in.Channel, in.Place, in.Copies, in.DeliveredOn.String(),
			in.DeliveredBy, who.ID, in.Notes, s.db.now())
	})
	if err != nil {
		return nil, wrapInternal("record distribution", err)
	}
	return row.distribution(), nil
}

// DistributionsByCampaign returns the logs of campaigns. See sportello.CampaignService.
func (s *CampaignService) DistributionsByCampaign(ctx context.Context, campaignIDs []string) (map[string][]*sportello.Distribution, error) {
	c, err := requireContentEditor(ctx)
	if err != nil {
		return nil, err
	}
	var rows []distributionRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+distributionColumns+` FROM campaign_distributions
		WHERE tenant_id = $1 AND campaign_id = ANY($2::uuid[]) ORDER BY delivered_on, created_at, id`,
		c.tenantID, pq.Array(validIDs(campaignIDs))); err != nil {
		return nil, fmt.Errorf("list distributions: %w", err)
	}
	out := make(map[string][]*sportello.Distribution, len(campaignIDs))
	for i := range rows {
		d := rows[i].distribution()
		out[d.CampaignID] = append(out[d.CampaignID], d)
	}
	return out, nil
}
