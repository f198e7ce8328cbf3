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

// HoursService implements sportello.HoursService.
type HoursService struct {
	db *DB
}

// NewHoursService returns the hours service over db.
func NewHoursService(db *DB) *HoursService { return &HoursService{db: db} }

var _ sportello.HoursService = (*HoursService)(nil)

// Office returns one office. See sportello.HoursService.
func (s *HoursService) Office(ctx context.Context, id string) (*sportello.Office, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return s.office(ctx, c, id)
}

func (s *HoursService) office(ctx context.Context, c caller, id string) (*sportello.Office, error) {
	if !validID(id) {
		return nil, sportello.NotFound("office")
	}
	list, err := (&OfficeService{db: s.db}).offices(ctx, `SELECT `+officeColumns+` FROM offices WHERE tenant_id = $1 AND id = $2`,
		c.tenantID, id)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, sportello.NotFound("office")
	}
	return list[0], nil
}

type closureRow struct {
	ID       string         `db:"id"`
	TenantID string         `db:"tenant_id"`
	OfficeID sql.NullString `db:"office_id"`
	From     string         `db:"from_date"`
	To       string         `db:"to_date"`
	Reason   string         `db:"reason"`
}

// Dates are read as text, so that no time zone comes between the day stored and the day read.
const closureColumns = `id, tenant_id, office_id, to_char(from_date, 'YYYY-MM-DD') AS from_date,
	to_char(to_date, 'YYYY-MM-DD') AS to_date, reason`

func (r *closureRow) closure() (sportello.Closure, error) {
	from, err := time.Parse(time.DateOnly, r.From)
	if err != nil {
		return sportello.Closure{}, fmt.Errorf("closure %s: %w", r.ID, err)
	}
	to, err := time.Parse(time.DateOnly, r.To)
	if err != nil {
		return sportello.Closure{}, fmt.Errorf("closure %s: %w", r.ID, err)
	}
	return sportello.Closure{ID: r.ID, TenantID: r.TenantID, OfficeID: r.OfficeID.String, Reason: r.Reason,
		From: sportello.Date{Year: from.Year(), Month: from.Month(), Day: from.Day()},
		To:   sportello.Date{Year: to.Year(), Month: to.Month(), Day: to.Day()}}, nil
}

// Schedules returns the schedules of offices, "" standing for the front desk. See
// sportello.HoursService. It runs two statements whatever the number of offices, so that a list
// of tickets or offices loads every clock it needs at once.
func (s *HoursService) Schedules(ctx context.Context, officeIDs []string) (map[string]*sportello.Schedule, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return loadSchedules(ctx, s.db, c.tenantID, officeIDs)
}

// loadSchedules is Schedules for a tenant, in the caller's transaction or out of one.
func loadSchedules(ctx context.Context, q sqlx.QueryerContext, tenantID string, officeIDs []string) (map[string]*sportello.Schedule, error) {
	var rows []struct {
		ID        string         `db:"id"`
		FrontDesk bool           `db:"front_desk"`
		Weekday   sql.NullInt64  `db:"weekday"`
		Opens     sql.NullString `db:"opens"`
		Closes    sql.NullString `db:"closes"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT o.id, o.front_desk, h.weekday, to_char(h.opens, 'HH24:MI') AS opens,
		to_char(h.closes, 'HH24:MI') AS closes
		FROM offices o LEFT JOIN office_hours h ON h.office_id = o.id
		WHERE o.tenant_id = $1 AND (o.id = ANY($2::uuid[]) OR o.front_desk)`,
		tenantID, pq.Array(validIDs(officeIDs))); err != nil {
		return nil, fmt.Errorf("load office hours: %w", err)
	}
	slots := map[string][]sportello.OpeningSlot{}
	frontDesk := ""
	for _, r := range rows {
		if _, ok := slots[r.ID]; !ok {
			slots[r.ID] = []sportello.OpeningSlot{}
		}
		if r.FrontDesk {
			frontDesk = r.ID
		}
		if r.Weekday.Valid {
			slots[r.ID] = append(slots[r.ID], sportello.OpeningSlot{Weekday: time.Weekday(r.Weekday.Int64),
				Opens: r.Opens.String, Closes: r.Closes.String})
		}
	}
	if len(slots) == 0 {
		return map[string]*sportello.Schedule{}, nil
	}
	ids := make([]string, 0, len(slots))
	for id := range slots {
		ids = append(ids, id)
	}
	var closures []closureRow
	if err := sqlx.SelectContext(ctx, q, &closures, `SELECT `+closureColumns+` FROM office_closures
		WHERE tenant_id = $1 AND (office_id IS NULL OR office_id = ANY($2::uuid[])) ORDER BY from_date, id`,
		tenantID, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("load closures: %w", err)
	}
	out := make(map[string]*sportello.Schedule, len(officeIDs))
	for id, sl := range slots {
		var own []sportello.Closure
		for i := range closures {
			if !closures[i].OfficeID.Valid || closures[i].OfficeID.String == id {
				cl, err := closures[i].closure()
				if err != nil {
					return nil, err
				}
				own = append(own, cl)
			}
		}
		sched, err := sportello.NewSchedule(sl, own)
		if err != nil {
			return nil, fmt.Errorf("office %s has invalid hours: %w", id, err)
		}
		out[id] = sched
		if id == frontDesk {
			out[""] = sched
		}
	}
	return out, nil
}

// SetOpeningHours replaces an office's weekly slots. See sportello.HoursService.
func (s *HoursService) SetOpeningHours(ctx context.Context, officeID string, slots []sportello.OpeningSlot) (*sportello.Office, error) {
	c, err := requireManager(ctx)
	if err != nil {
		return nil, err
	}
	if err := sportello.ValidateOpeningHours(slots); err != nil {
		return nil, err
	}
	weekdays, opens, closes := make([]int64, len(slots)), make([]string, len(slots)), make([]string, len(slots))
	for i, sl := range slots {
		weekdays[i], opens[i], closes[i] = int64(sl.Weekday), sl.Opens, sl.Closes
	}
	err = s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		// Locking the office serializes two managers replacing the same week.
		if err := lockOffice(ctx, tx, c.tenantID, officeID, "officeId"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM office_hours WHERE office_id = $1`, officeID); err != nil {
			return fmt.Errorf("clear office hours: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO office_hours (office_id, weekday, opens, closes)
			SELECT $1, w, o::time, c::time FROM unnest($2::smallint[], $3::text[], $4::text[]) AS s(w, o, c)`,
			officeID, pq.Array(weekdays), pq.Array(opens), pq.Array(closes)); err != nil {
			return fmt.Errorf("set office hours: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.office(ctx, c, officeID)
}

// lockOffice returns NOT_FOUND (naming field) unless the office exists in the tenant, and locks
// its row until the transaction ends.
func lockOffice(ctx context.Context, tx *sqlx.Tx, tenantID, officeID, field string) error {
	notFound := &sportello.Error{Code: sportello.CodeNotFound, Field: field, Message: "office not found"}
	if !validID(officeID) {
		return notFound
	}
	var id string
	err := tx.GetContext(ctx, &id, `SELECT id FROM offices WHERE id = $1 AND tenant_id = $2 FOR UPDATE`, officeID, tenantID)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound
	}
	if err != nil {
		return fmt.Errorf("find office: %w", err)
	}
	return nil
}

// SetFrontDesk makes an office the front desk. See sportello.HoursService.
func (s *HoursService) SetFrontDesk(ctx context.Context, officeID string) (*sportello.Office, error) {
	c, err := requireManager(ctx)
	if err != nil {
		return nil, err
	}
	err = s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := lockOffice(ctx, tx, c.tenantID, officeID, "officeId"); err != nil {
			return err
		}
		// Clearing first keeps the one-per-tenant index satisfied at every statement.
		if _, err := tx.ExecContext(ctx, `UPDATE offices SET front_desk = false WHERE tenant_id = $1 AND front_desk AND id <> $2`,
			c.tenantID, officeID); err != nil {
			return fmt.Errorf("clear front desk: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE offices SET front_desk = true WHERE id = $1`, officeID); err != nil {
			return fmt.Errorf("set front desk: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.office(ctx, c, officeID)
}

// AddClosure adds a local closure. See sportello.HoursService.
func (s *HoursService) AddClosure(ctx context.Context, in sportello.ClosureInput) (*sportello.Closure, error) {
	c, err := requireManager(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var row closureRow
	err = s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		if in.OfficeID != "" {
			if err := checkOffice(ctx, tx, c.tenantID, in.OfficeID, "input.officeId"); err != nil {
				return err
			}
		}
		if err := tx.GetContext(ctx, &row, `INSERT INTO office_closures (tenant_id, office_id, from_date, to_date, reason)
			VALUES ($1, $2, $3::date, $4::date, $5) RETURNING `+closureColumns,
			c.tenantID, nullID(in.OfficeID), in.From.String(), in.To.String(), in.Reason); err != nil {
			return fmt.Errorf("add closure: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	cl, err := row.closure()
	if err != nil {
		return nil, err
	}
	return &cl, nil
}

// RemoveClosure removes a local closure. See sportello.HoursService.
func (s *HoursService) RemoveClosure(ctx context.Context, id string) (*sportello.Closure, error) {
	c, err := requireManager(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, sportello.NotFound("closure")
	}
	var row closureRow
	err = s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &row, `DELETE FROM office_closures WHERE id = $1 AND tenant_id = $2 RETURNING `+closureColumns,
			id, c.tenantID)
		if errors.Is(err, sql.ErrNoRows) {
			return sportello.NotFound("closure")
		}
		if err != nil {
			return fmt.Errorf("remove closure: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	cl, err := row.closure()
	if err != nil {
		return nil, err
	}
	return &cl, nil
}

// SetFirstResponseTarget sets a first-response target. See sportello.HoursService.
func (s *HoursService) SetFirstResponseTarget(ctx context.Context, kind sportello.Kind, officeID string, hours int) (*sportello.FirstResponseTarget, error) {
	c, err := requireManager(ctx)
	if err != nil {
		return nil, err
	}
	if err := sportello.ValidateFirstResponseTarget(kind, hours); err != nil {
		return nil, err
	}
	err = s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		if officeID != "" {
			if err := checkOffice(ctx, tx, c.tenantID, officeID, "officeId"); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO first_response_targets (tenant_id, kind, office_id, hours)
			VALUES ($1, $2, $3, $4)
			ON CONFLICT (tenant_id, kind, coalesce(office_id, '00000000-0000-0000-0000-000000000000'))
			DO UPDATE SET hours = EXCLUDED.hours`, c.tenantID, kind, nullID(officeID), hours); err != nil {
			return fmt.Errorf("set first-response target: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &sportello.FirstResponseTarget{Kind: kind, OfficeID: officeID, Hours: hours}, nil
}

// FirstResponseTargets lists the configured targets. See sportello.HoursService.
func (s *HoursService) FirstResponseTargets(ctx context.Context) ([]*sportello.FirstResponseTarget, error) {
	c, err := requireManager(ctx)
	if err != nil {
		return nil, err
	}
	return s.targets(ctx, c, nil)
}

func (s *HoursService) targets(ctx context.Context, c caller, kinds []sportello.Kind) ([]*sportello.FirstResponseTarget, error) {
	var a args
	query := `SELECT kind, office_id, hours FROM first_response_targets WHERE tenant_id = ` + a.add(c.tenantID)
	if kinds != nil {
		query += ` AND kind = ANY(` + a.add(pq.Array(kinds)) + `)`
	}
	var rows []struct {
		Kind     string         `db:"kind"`
		OfficeID sql.NullString `db:"office_id"`
		Hours    int            `db:"hours"`
	}
	if err := s.db.SelectContext(ctx, &rows, query+` ORDER BY kind, office_id NULLS FIRST`, a...); err != nil {
		return nil, fmt.Errorf("list first-response targets: %w", err)
	}
	out := make([]*sportello.FirstResponseTarget, len(rows))
	for i, r := range rows {
		out[i] = &sportello.FirstResponseTarget{Kind: sportello.Kind(r.Kind), OfficeID: r.OfficeID.String, Hours: r.Hours}
	}
	return out, nil
}

// TargetHours resolves the targets of tickets in one statement. See sportello.HoursService.
func (s *HoursService) TargetHours(ctx context.Context, keys []sportello.TargetKey) (map[sportello.TargetKey]int, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	kinds := make([]sportello.Kind, 0, len(keys))
	for _, k := range keys {
		kinds = append(kinds, k.Kind)
	}
	targets, err := s.targets(ctx, c, kinds)
	if err != nil {
		return nil, err
	}
	out := make(map[sportello.TargetKey]int, len(keys))
	for _, k := range keys {
		out[k] = sportello.ResolveTarget(targets, k)
	}
	return out, nil
}
