package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	sportello "github.com/sportello/sportello"
)

// TriageService implements sportello.TriageService.
type TriageService struct {
	db *DB
}

// NewTriageService returns the triage service over db.
func NewTriageService(db *DB) *TriageService { return &TriageService{db: db} }

var _ sportello.TriageService = (*TriageService)(nil)

// routingActor is who routes, prioritizes and escalates tickets by themselves, in histories.
var routingActor = sportello.Actor{Kind: sportello.ActorSystem, Name: "Smistamento automatico"}

const ruleColumns = `id, name, position, enabled, is_default, kinds, channels, keywords, center_lat, center_lon,
	radius_m, polygon, office_id, assignee_id, strategy, max_open_per_operator, priority, created_at, updated_at`

type ruleRow struct {
	ID         string          `db:"id"`
	Name       string          `db:"name"`
	Position   int             `db:"position"`
	Enabled    bool            `db:"enabled"`
	Default    bool            `db:"is_default"`
	Kinds      pq.StringArray  `db:"kinds"`
	Channels   pq.StringArray  `db:"channels"`
	Keywords   pq.StringArray  `db:"keywords"`
	CenterLat  sql.NullFloat64 `db:"center_lat"`
	CenterLon  sql.NullFloat64 `db:"center_lon"`
	RadiusM    sql.NullFloat64 `db:"radius_m"`
	Polygon    []byte          `db:"polygon"`
	OfficeID   string          `db:"office_id"`
	AssigneeID sql.NullString  `db:"assignee_id"`
	Strategy   string          `db:"strategy"`
	MaxOpen    int             `db:"max_open_per_operator"`
	Priority   sql.NullInt64   `db:"priority"`
	CreatedAt  time.Time       `db:"created_at"`
	UpdatedAt  time.Time       `db:"updated_at"`
}

func (r *ruleRow) rule() (*sportello.RoutingRule, error) {
	out := &sportello.RoutingRule{ID: r.ID, Name: r.Name, Position: r.Position, Enabled: r.Enabled, Default: r.Default,
		Keywords: []string(r.Keywords), OfficeID: r.OfficeID, AssigneeID: r.AssigneeID.String,
		Strategy: sportello.AssignStrategy(r.Strategy), MaxOpenPerOperator: r.MaxOpen,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	for _, k := range r.Kinds {
		out.Kinds = append(out.Kinds, sportello.Kind(k))
	}
	for _, c := range r.Channels {
		out.Channels = append(out.Channels, sportello.Channel(c))
	}
	if r.Priority.Valid {
		out.Priority = sportello.PriorityOfRank(int(r.Priority.Int64))
	}
	switch {
	case r.CenterLat.Valid:
		out.Area = &sportello.RoutingArea{Center: &sportello.Point{Latitude: r.CenterLat.Float64, Longitude: r.CenterLon.Float64},
			RadiusMeters: r.RadiusM.Float64}
	case r.Polygon != nil:
		var pts [][2]float64
		if err := json.Unmarshal(r.Polygon, &pts); err != nil {
			return nil, fmt.Errorf("rule %s: polygon: %w", r.ID, err)
		}
		out.Area = &sportello.RoutingArea{}
		for _, p := range pts {
			out.Area.Polygon = append(out.Area.Polygon, sportello.Point{Latitude: p[0], Longitude: p[1]})
		}
	}
	return out, nil
}

// loadRules reads rules of the tenant by position.
func loadRules(ctx context.Context, q sqlx.QueryerContext, tenantID string) ([]*sportello.RoutingRule, error) {
	var rows []ruleRow
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT `+ruleColumns+` FROM routing_rules WHERE tenant_id = $1
		ORDER BY position, created_at, id`, tenantID); err != nil {
		return nil, fmt.Errorf("list routing rules: %w", err)
	}
	out := make([]*sportello.RoutingRule, len(rows))
	for i := range rows {
		r, err := rows[i].rule()
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

// routeTicket decides where a new ticket goes, in its filing transaction: nil when no rule
// matches. A rule that assigns by strategy locks its row until the filing commits, so that
// concurrent filings see each other's assignments and take turns.
func routeTicket(ctx context.Context, tx *sqlx.Tx, tenantID string, s sportello.RoutingSample) (*sportello.RoutingDecision, error) {
	rules, err := loadRules(ctx, tx, tenantID)
	if err != nil || len(rules) == 0 {
		return nil, err
	}
	d := sportello.Route(rules, s)
	if d == nil {
		return nil, nil
	}
	if err := chooseAssignee(ctx, tx, tenantID, d, true); err != nil {
		return nil, err
	}
	return d, nil
}

// chooseAssignee fills the decision's operator: the rule's own, or one picked by its strategy.
// With advance, the rule's row is locked and its round robin moves on.
func chooseAssignee(ctx context.Context, tx *sqlx.Tx, tenantID string, d *sportello.RoutingDecision, advance bool) error {
	r := d.Rule
	if r.Strategy == sportello.AssignNone || r.Strategy == "" {
		d.AssigneeID = r.AssigneeID
		return nil
	}
	lock := ""
	if advance {
		lock = " FOR UPDATE"
	}
	var last sql.NullString
	if err := tx.GetContext(ctx, &last, `SELECT last_assignee_id FROM routing_rules WHERE id = $1`+lock, r.ID); err != nil {
		return fmt.Errorf("lock routing rule: %w", err)
	}
	var ops []struct {
		ID     string `db:"id"`
		Absent bool   `db:"absent"`
		Open   int    `db:"open"`
	}
	// The statuses are written out, not passed, so that the planner uses tickets_assignee_open.
	if err := tx.SelectContext(ctx, &ops, `SELECT s.id, s.absent,
		(SELECT count(*) FROM tickets t WHERE t.assignee_id = s.id
			AND t.status IN ('SUBMITTED', 'IN_PROGRESS', 'WAITING_FOR_CITIZEN')) AS open
		FROM staff s WHERE s.tenant_id = $1 AND s.office_id = $2`,
		tenantID, r.OfficeID); err != nil {
		return fmt.Errorf("load operators: %w", err)
	}
	loads := make([]sportello.OperatorLoad, len(ops))
	for i, o := range ops {
		loads[i] = sportello.OperatorLoad{ID: o.ID, Absent: o.Absent, Open: o.Open}
	}
	id, ok := sportello.PickAssignee(loads, r.Strategy, last.String, r.MaxOpenPerOperator)
	if !ok {
		d.Reason += "; no operator available, left to the office"
		return nil
	}
	d.AssigneeID = id
	d.Reason += fmt.Sprintf("; assigned by %s", r.Strategy)
	if advance {
		if _, err := tx.ExecContext(ctx, `UPDATE routing_rules SET last_assignee_id = $2 WHERE id = $1`, r.ID, id); err != nil {
			return fmt.Errorf("advance round robin: %w", err)
		}
	}
	return nil
}

// decisionAssignee is the operator a decision gives the ticket to, "" for none.
func decisionAssignee(d *sportello.RoutingDecision) string {
	if d == nil {
		return ""
	}
	return d.AssigneeID
}

// sample is what routing reads of the new ticket.
func (nt *newTicket) sample() sportello.RoutingSample {
	return sportello.RoutingSample{Kind: nt.kind, Channel: nt.channel, Subject: nt.subject, Body: nt.body,
		Location: locationPoint(nt.location)}
}

// locationPoint is the coordinates of a location, nil when it has none (an address only).
func locationPoint(l *sportello.Location) *sportello.Point {
	if l == nil || !l.HasCoordinates() {
		return nil
	}
	return &sportello.Point{Latitude: l.Latitude, Longitude: l.Longitude}
}

// RoutingRules lists the rules. See sportello.TriageService.
func (s *TriageService) RoutingRules(ctx context.Context) ([]*sportello.RoutingRule, error) {
	c, err := requireStaff(ctx)
	if err != nil {
		return nil, err
	}
	return loadRules(ctx, s.db, c.tenantID)
}

// RoutingRulesByID returns rules by id. See sportello.TriageService.
func (s *TriageService) RoutingRulesByID(ctx context.Context, ids []string) (map[string]*sportello.RoutingRule, error) {
	out := map[string]*sportello.RoutingRule{}
	c, err := requireStaff(ctx)
	if err != nil {
		// Citizens see that a rule routed their ticket, not the rule.
		return out, nil
	}
	var rows []ruleRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+ruleColumns+` FROM routing_rules WHERE tenant_id = $1 AND id = ANY($2::uuid[])`,
		c.tenantID, pq.Array(validIDs(ids))); err != nil {
		return nil, fmt.Errorf("list routing rules: %w", err)
	}
	for i := range rows {
		r, err := rows[i].rule()
		if err != nil {
			return nil, err
		}
		out[r.ID] = r
	}
	return out, nil
}

// CreateRoutingRule adds a rule. See sportello.TriageService.
func (s *TriageService) CreateRoutingRule(ctx context.Context, in sportello.RoutingRuleInput) (*sportello.RoutingRule, error) {
	return s.saveRule(ctx, "", in)
}

// UpdateRoutingRule replaces a rule. See sportello.TriageService.
func (s *TriageService) UpdateRoutingRule(ctx context.Context, id string, in sportello.RoutingRuleInput) (*sportello.RoutingRule, error) {
	if !validID(id) {
		if _, err := requireManager(ctx); err != nil {
			return nil, err
		}
		return nil, sportello.NotFound("routing rule")
	}
	return s.saveRule(ctx, id, in)
}

// saveRule inserts a rule (id "") or replaces one.
func (s *TriageService) saveRule(ctx context.Context, id string, in sportello.RoutingRuleInput) (*sportello.RoutingRule, error) {
	c, err := requireManager(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var centerLat, centerLon, radius sql.NullFloat64
	var polygon any
	if a := in.Area; a != nil && a.Center != nil {
		centerLat = sql.NullFloat64{Float64: a.Center.Latitude, Valid: true}
		centerLon = sql.NullFloat64{Float64: a.Center.Longitude, Valid: true}
		radius = sql.NullFloat64{Float64: a.RadiusMeters, Valid: true}
	} else if a != nil {
		pts := make([][2]float64, len(a.Polygon))
		for i, p := range a.Polygon {
			pts[i] = [2]float64{p.Latitude, p.Longitude}
		}
		b, err := json.Marshal(pts)
		if err != nil {
			return nil, fmt.Errorf("encode polygon: %w", err)
		}
		// As text: with binary_parameters lib/pq would send []byte in jsonb's binary format.
		polygon = string(b)
	}
	var priority any
	if in.Priority != "" {
		priority = in.Priority.Rank()
	}
	var row ruleRow
	err = s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := checkOffice(ctx, tx, c.tenantID, in.OfficeID, "officeId"); err != nil {
			return err
		}
		if in.AssigneeID != "" {
			if err := checkStaff(ctx, tx, c.tenantID, in.AssigneeID, "assigneeId"); err != nil {
				return err
			}
		}
		if id == "" {
			var n int
			if err := tx.GetContext(ctx, &n, `SELECT count(*) FROM routing_rules WHERE tenant_id = $1`, c.tenantID); err != nil {
				return fmt.Errorf("count routing rules: %w", err)
			}
			if n >= sportello.MaxRoutingRules {
				return sportello.InvalidField("name", "a municipality has at most %d routing rules", sportello.MaxRoutingRules)
			}
		}
		vals := []any{c.tenantID, in.Name, in.Position, in.Enabled, in.Default, textArray(in.Kinds), textArray(in.Channels),
			textArray(in.Keywords), centerLat, centerLon, radius, polygon, in.OfficeID, nullID(in.AssigneeID), in.Strategy,
			in.MaxOpenPerOperator, priority, s.db.now()}
		var err error
		if id == "" {
			err = tx.GetContext(ctx, &row, `INSERT INTO routing_rules (tenant_id, name, position, enabled, is_default, kinds,
				channels, keywords, center_lat, center_lon, radius_m, polygon, office_id, assignee_id, strategy,
				max_open_per_operator, priority, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18)
				RETURNING `+ruleColumns, vals...)
		} else {
			err = tx.GetContext(ctx, &row, `UPDATE routing_rules SET name = $2, position = $3, enabled = $4, is_default = $5,
				kinds = $6, channels = $7, keywords = $8, center_lat = $9, center_lon = $10, radius_m = $11, polygon = $12,
				office_id = $13, assignee_id = $14, strategy = $15, max_open_per_operator = $16, priority = $17,
				updated_at = $18, last_assignee_id = CASE WHEN office_id = $13 THEN last_assignee_id END
				WHERE tenant_id = $1 AND id = $19 RETURNING `+ruleColumns, append(vals, id)...)
		}
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return sportello.NotFound("routing rule")
		case isUniqueViolation(err, "routing_rules_default"):
			return sportello.Errorf(sportello.CodeConflict, "the municipality already has a default rule")
		case err != nil:
			return fmt.Errorf("save routing rule: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return row.rule()
}

// textArray is a list for a NOT NULL text[] column: empty, never NULL.
func textArray[T ~string](xs []T) pq.StringArray {
	out := make(pq.StringArray, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

// checkStaff returns NOT_FOUND unless the staff member exists in the tenant.
func checkStaff(ctx context.Context, q sqlx.QueryerContext, tenantID, staffID, field string) error {
	var n int
	if validID(staffID) {
		if err := sqlx.GetContext(ctx, q, &n, `SELECT count(*) FROM staff WHERE id = $1 AND tenant_id = $2`, staffID, tenantID); err != nil {
			return fmt.Errorf("find staff: %w", err)
		}
	}
	if n == 0 {
		return &sportello.Error{Code: sportello.CodeNotFound, Field: field, Message: "staff member not found"}
	}
	return nil
}

// TestRoutingRule is a dry run of routing. See sportello.TriageService.
func (s *TriageService) TestRoutingRule(ctx context.Context, sample sportello.RoutingSample) (*sportello.RoutingDecision, error) {
	c, err := requireStaff(ctx)
	if err != nil {
		return nil, err
	}
	if err := sample.Validate(); err != nil {
		return nil, err
	}
	var d *sportello.RoutingDecision
	// A read-only transaction: the dry run sees the operators' loads as a filing would, and can
	// change nothing.
	err = s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `SET TRANSACTION READ ONLY`); err != nil {
			return fmt.Errorf("read only: %w", err)
		}
		rules, err := loadRules(ctx, tx, c.tenantID)
		if err != nil {
			return err
		}
		if d = sportello.Route(rules, sample); d == nil {
			return nil
		}
		return chooseAssignee(ctx, tx, c.tenantID, d, false)
	})
	return d, err
}

// SetStaffAvailability marks an operator absent or back. See sportello.TriageService.
func (s *TriageService) SetStaffAvailability(ctx context.Context, staffID string, absent bool) (*sportello.Staff, error) {
	c, err := requireManager(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(staffID) {
		return nil, sportello.NotFound("staff member")
	}
	var row staffRow
	err = s.db.GetContext(ctx, &row, `UPDATE staff SET absent = $3 WHERE id = $1 AND tenant_id = $2 RETURNING `+staffColumns,
		staffID, c.tenantID, absent)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sportello.NotFound("staff member")
	}
	if err != nil {
		return nil, fmt.Errorf("set availability: %w", err)
	}
	return row.staff(), nil
}

// SetTicketPriority sets a ticket's priority. See sportello.TriageService.
func (s *TriageService) SetTicketPriority(ctx context.Context, ticketID string, p sportello.Priority) (*sportello.Ticket, error) {
	c, err := requireStaff(ctx)
	if err != nil {
		return nil, err
	}
	if !p.Valid() {
		return nil, sportello.InvalidField("priority", "unknown priority %q", p)
	}
	var t *sportello.Ticket
	err = s.db.inEventTx(ctx, c.tenantID, func(tx *sqlx.Tx) error {
		if t, err = getTicket(ctx, tx, c, ticketID, true); err != nil {
			return err
		}
		if t.Priority == p {
			return nil
		}
		who, err := actor(ctx, tx, c)
		if err != nil {
			return err
		}
		t, err = setPriority(ctx, tx, t, who, p, "", s.db.now())
		return err
	})
	return t, err
}

// setPriority changes a ticket's priority and records why.
func setPriority(ctx context.Context, tx *sqlx.Tx, t *sportello.Ticket, who sportello.Actor, p sportello.Priority, reason string, now time.Time) (*sportello.Ticket, error) {
	var row ticketRow
	if err := tx.GetContext(ctx, &row, `UPDATE tickets t SET priority = $2, updated_at = $3 WHERE id = $1 RETURNING `+ticketColumns,
		t.ID, p.Rank(), now); err != nil {
		return nil, fmt.Errorf("set priority: %w", err)
	}
	next := row.ticket()
	if err := appendEvent(ctx, tx, next, who, sportello.EventPriorityChanged, false,
		sportello.EventData{Priority: p, Reason: reason}, now); err != nil {
		return nil, err
	}
	return next, nil
}

// DuplicateCandidates suggests open tickets a new one may repeat. See sportello.TriageService.
func (s *TriageService) DuplicateCandidates(ctx context.Context, q sportello.DuplicateQuery) ([]*sportello.DuplicateCandidate, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := q.Validate(); err != nil {
		return nil, err
	}
	var a args
	var alike []string
	if q.Subject != "" {
		// lower(subject) % lower(...) uses the trigram index, with pg_trgm's similarity
		// threshold (0.3 by default).
		alike = append(alike, `lower(t.subject) % lower(`+a.add(q.Subject)+`)`)
	}
	if q.Location != nil {
		alike = append(alike, nearCondition(&a, "t", &sportello.Area{Latitude: q.Location.Latitude,
			Longitude: q.Location.Longitude, RadiusMeters: q.RadiusMeters}))
	}
	var rows []struct {
		ID         string          `db:"id"`
		Year       int             `db:"protocol_year"`
		Seq        int             `db:"protocol_seq"`
		Subject    string          `db:"subject"`
		Status     string          `db:"status"`
		CreatedAt  time.Time       `db:"created_at"`
		Followers  int             `db:"followers"`
		Similarity float64         `db:"similarity"`
		Latitude   sql.NullFloat64 `db:"latitude"`
		Longitude  sql.NullFloat64 `db:"longitude"`
	}
	query := `SELECT t.id, t.protocol_year, t.protocol_seq, t.subject, t.status, t.created_at, t.latitude, t.longitude,
		(SELECT count(*) FROM ticket_followers f WHERE f.ticket_id = t.id) AS followers,
		similarity(lower(t.subject), lower(` + a.add(q.Subject) + `)) AS similarity
		FROM tickets t
		WHERE t.tenant_id = ` + a.add(c.tenantID) + ` AND t.kind = ` + a.add(q.Kind) + `
		AND t.status = ANY(` + a.add(pq.Array(sportello.OpenStatuses)) + `) AND t.merged_into IS NULL
		AND (` + strings.Join(alike, " OR ") + `)
		ORDER BY similarity DESC, t.created_at DESC LIMIT ` + a.add(5*sportello.MaxDuplicateCandidates)
	if err := s.db.SelectContext(ctx, &rows, query, a...); err != nil {
		return nil, fmt.Errorf("find duplicates: %w", err)
	}
	out := make([]*sportello.DuplicateCandidate, len(rows))
	for i, r := range rows {
		out[i] = &sportello.DuplicateCandidate{TicketID: r.ID, Protocol: sportello.ProtocolNumber{Year: r.Year, Seq: r.Seq},
			Subject: r.Subject, Status: sportello.Status(r.Status), CreatedAt: r.CreatedAt, Followers: r.Followers,
			Similarity: r.Similarity}
		if q.Location != nil && r.Latitude.Valid {
			d := sportello.DistanceMeters(q.Location.Latitude, q.Location.Longitude, r.Latitude.Float64, r.Longitude.Float64)
			out[i].DistanceMeters = &d
		}
	}
	sportello.RankDuplicates(out, q.RadiusMeters)
	return out[:min(len(out), sportello.MaxDuplicateCandidates)], nil
}

// followable finds a ticket a citizen may follow: an open report or suggestion of the tenant.
func followable(ctx context.Context, q sqlx.QueryerContext, tenantID, id string) (*sportello.Ticket, error) {
	if !validID(id) {
		return nil, sportello.NotFound("ticket")
	}
	var row ticketRow
	err := sqlx.GetContext(ctx, q, &row, `SELECT `+ticketColumns+` FROM tickets t
		WHERE t.id = $1 AND t.tenant_id = $2 AND t.kind = ANY($3)`, id, tenantID,
		pq.Array([]sportello.Kind{sportello.KindReport, sportello.KindSuggestion}))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sportello.NotFound("ticket")
	}
	if err != nil {
		return nil, fmt.Errorf("find ticket: %w", err)
	}
	return row.ticket(), nil
}

// FollowTicket makes the citizen a follower. See sportello.TriageService.
func (s *TriageService) FollowTicket(ctx context.Context, ticketID string) (*sportello.Ticket, error) {
	c, err := requireCitizen(ctx)
	if err != nil {
		return nil, err
	}
	var t *sportello.Ticket
	err = s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		if t, err = followable(ctx, tx, c.tenantID, ticketID); err != nil {
			return err
		}
		me, err := ensureCitizen(ctx, tx, c)
		if err != nil {
			return err
		}
		if t.CitizenID == me.ID {
			return sportello.Errorf(sportello.CodeConflict, "you filed this ticket: you already receive its updates")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_followers (ticket_id, citizen_id, tenant_id, created_at)
			VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, t.ID, me.ID, c.tenantID, s.db.now()); err != nil {
			return fmt.Errorf("follow: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return followerView(t), nil
}

// UnfollowTicket stops following. See sportello.TriageService.
func (s *TriageService) UnfollowTicket(ctx context.Context, ticketID string) (*sportello.Ticket, error) {
	c, err := requireCitizen(ctx)
	if err != nil {
		return nil, err
	}
	t, err := followable(ctx, s.db, c.tenantID, ticketID)
	if err != nil {
		return nil, err
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM ticket_followers WHERE ticket_id = $1
		AND citizen_id = (SELECT id FROM citizens WHERE tenant_id = $2 AND subject = $3)`, t.ID, c.tenantID, c.user.Subject); err != nil {
		return nil, fmt.Errorf("unfollow: %w", err)
	}
	return followerView(t), nil
}

// followerView is what a follower may read of someone else's ticket: the anonymous filer's
// contact details are theirs alone.
func followerView(t *sportello.Ticket) *sportello.Ticket {
	t.Contact = nil
	return t
}

// FollowerCounts counts followers. See sportello.TriageService.
func (s *TriageService) FollowerCounts(ctx context.Context, ticketIDs []string) (map[string]int, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		TicketID string `db:"ticket_id"`
		N        int    `db:"n"`
	}
	if err := s.db.SelectContext(ctx, &rows, `SELECT ticket_id, count(*) AS n FROM ticket_followers
		WHERE tenant_id = $1 AND ticket_id = ANY($2::uuid[]) GROUP BY ticket_id`, c.tenantID, pq.Array(validIDs(ticketIDs))); err != nil {
		return nil, fmt.Errorf("count followers: %w", err)
	}
	out := make(map[string]int, len(ticketIDs))
	for _, id := range ticketIDs {
		out[id] = 0
	}
	for _, r := range rows {
		out[r.TicketID] = r.N
	}
	return out, nil
}

// MergeTickets merges duplicates into a master. See sportello.TriageService.
func (s *TriageService) MergeTickets(ctx context.Context, masterID string, duplicateIDs []string) (*sportello.Ticket, error) {
	c, err := requireStaff(ctx)
	if err != nil {
		return nil, err
	}
	if len(duplicateIDs) == 0 || len(duplicateIDs) > sportello.MaxMergeDuplicates {
		return nil, sportello.InvalidField("duplicateIds", "give between 1 and %d tickets", sportello.MaxMergeDuplicates)
	}
	if slices.Contains(duplicateIDs, masterID) {
		return nil, sportello.InvalidField("duplicateIds", "a ticket cannot be merged into itself")
	}
	ids := slices.Clone(duplicateIDs)
	// Locking in id order keeps two merges of overlapping tickets from deadlocking.
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var master *sportello.Ticket
	err = s.db.inEventTx(ctx, c.tenantID, func(tx *sqlx.Tx) error {
		if master, err = getTicket(ctx, tx, c, masterID, true); err != nil {
			return err
		}
		if master.Status == sportello.StatusClosed || master.Status == sportello.StatusRejected || master.MergedIntoID != "" {
			return sportello.Errorf(sportello.CodeInvalidTransition, "the master ticket is %s: merge into an open one", master.Status)
		}
		who, err := actor(ctx, tx, c)
		if err != nil {
			return err
		}
		now := s.db.now()
		for _, id := range ids {
			dup, err := getTicket(ctx, tx, c, id, true)
			if err != nil {
				return err
			}
			steps, err := sportello.MergeSteps(dup.Status)
			if err != nil {
				return err
			}
			reason := "Unito al ticket " + master.ProtocolNumber()
			for _, to := range steps {
				if dup, err = setStatus(ctx, tx, dup, who, to, reason, now); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `UPDATE tickets SET merged_into = $2 WHERE id = $1`, dup.ID, master.ID); err != nil {
				return fmt.Errorf("merge: %w", err)
			}
			if err := appendEvent(ctx, tx, dup, who, sportello.EventMerged, false,
				sportello.EventData{RelatedTicketID: master.ID, Reason: reason}, now); err != nil {
				return err
			}
			if err := appendEvent(ctx, tx, master, who, sportello.EventMerged, false,
				sportello.EventData{RelatedTicketID: dup.ID, Reason: "Unito il duplicato " + dup.ProtocolNumber()}, now); err != nil {
				return err
			}
			// The duplicate's author, and its followers, now follow the master.
			if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_followers (ticket_id, citizen_id, tenant_id, created_at)
				SELECT $1, c.id, $3, $4 FROM (
					SELECT citizen_id AS id FROM tickets WHERE id = $2 AND citizen_id IS NOT NULL
					UNION SELECT citizen_id FROM ticket_followers WHERE ticket_id = $2) c
				WHERE c.id IS DISTINCT FROM $5
				ON CONFLICT DO NOTHING`, master.ID, dup.ID, c.tenantID, now, nullID(master.CitizenID)); err != nil {
				return fmt.Errorf("move followers: %w", err)
			}
		}
		master, err = getTicket(ctx, tx, c, master.ID, false)
		return err
	})
	if err != nil {
		return nil, err
	}
	return master, nil
}

const templateColumns = `id, name, coalesce(kind, '') AS kind, office_id, language, body, created_at`

type templateRow struct {
	ID        string         `db:"id"`
	Name      string         `db:"name"`
	Kind      string         `db:"kind"`
	OfficeID  sql.NullString `db:"office_id"`
	Language  string         `db:"language"`
	Body      string         `db:"body"`
	CreatedAt time.Time      `db:"created_at"`
}

func (r *templateRow) template() *sportello.ReplyTemplate {
	return &sportello.ReplyTemplate{ID: r.ID, Name: r.Name, Kind: sportello.Kind(r.Kind), OfficeID: r.OfficeID.String,
		Language: r.Language, Body: r.Body, CreatedAt: r.CreatedAt}
}

// ReplyTemplates lists templates. See sportello.TriageService.
func (s *TriageService) ReplyTemplates(ctx context.Context, kind sportello.Kind, officeID string) ([]*sportello.ReplyTemplate, error) {
	c, err := requireStaff(ctx)
	if err != nil {
		return nil, err
	}
	var a args
	query := `SELECT ` + templateColumns + ` FROM reply_templates WHERE tenant_id = ` + a.add(c.tenantID)
	if kind != "" {
		if !kind.Valid() {
			return nil, sportello.InvalidField("kind", "unknown kind %q", kind)
		}
		query += ` AND (kind IS NULL OR kind = ` + a.add(kind) + `)`
	}
	if officeID != "" {
		if !validID(officeID) {
			return nil, sportello.InvalidField("officeId", "is not an id")
		}
		query += ` AND (office_id IS NULL OR office_id = ` + a.add(officeID) + `)`
	}
	var rows []templateRow
	if err := s.db.SelectContext(ctx, &rows, query+` ORDER BY name, language, id`, a...); err != nil {
		return nil, fmt.Errorf("list reply templates: %w", err)
	}
	out := make([]*sportello.ReplyTemplate, len(rows))
	for i := range rows {
		out[i] = rows[i].template()
	}
	return out, nil
}

// CreateReplyTemplate adds a template. See sportello.TriageService.
func (s *TriageService) CreateReplyTemplate(ctx context.Context, in sportello.ReplyTemplateInput) (*sportello.ReplyTemplate, error) {
	c, err := requireManager(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var row templateRow
	err = s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		if in.OfficeID != "" {
			if err := checkOffice(ctx, tx, c.tenantID, in.OfficeID, "officeId"); err != nil {
				return err
			}
		}
		if err := tx.GetContext(ctx, &row, `INSERT INTO reply_templates (tenant_id, name, kind, office_id, language, body, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING `+templateColumns,
			c.tenantID, in.Name, nullString(string(in.Kind)), nullID(in.OfficeID), in.Language, in.Body, s.db.now()); err != nil {
			return fmt.Errorf("create reply template: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return row.template(), nil
}

// RenderReplyTemplate fills a template for a ticket. See sportello.TriageService.
func (s *TriageService) RenderReplyTemplate(ctx context.Context, templateID, ticketID string) (string, error) {
	c, err := requireStaff(ctx)
	if err != nil {
		return "", err
	}
	if !validID(templateID) {
		return "", sportello.NotFound("reply template")
	}
	var row templateRow
	err = s.db.GetContext(ctx, &row, `SELECT `+templateColumns+` FROM reply_templates WHERE id = $1 AND tenant_id = $2`,
		templateID, c.tenantID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", sportello.NotFound("reply template")
	}
	if err != nil {
		return "", fmt.Errorf("get reply template: %w", err)
	}
	tpl := row.template()
	t, err := getTicket(ctx, s.db, c, ticketID, false)
	if err != nil {
		return "", err
	}
	v := sportello.TemplateValues{Protocol: t.ProtocolNumber(), DueDate: sportello.FormatDueDate(t.DueAt)}
	if t.Contact != nil {
		v.Name = t.Contact.Name
	}
	if t.CitizenID != "" {
		var name struct {
			Given  string `db:"given_name"`
			Family string `db:"family_name"`
		}
		if err := s.db.GetContext(ctx, &name, `SELECT given_name, family_name FROM citizens WHERE id = $1`, t.CitizenID); err != nil {
			return "", fmt.Errorf("get citizen: %w", err)
		}
		v.Name = (&sportello.Citizen{GivenName: name.Given, FamilyName: name.Family}).FullName()
	}
	officeID := t.OfficeID
	if officeID == "" {
		officeID = tpl.OfficeID
	}
	if officeID != "" {
		offices, err := (&OfficeService{db: s.db}).OfficesByID(ctx, []string{officeID})
		if err != nil {
			return "", err
		}
		if o := offices[officeID]; o != nil {
			v.Office = o.Name
			v.Hours = sportello.FormatHours(o.Hours, tpl.Language)
		}
	}
	return tpl.Render(v)
}
