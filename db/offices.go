package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	sportello "github.com/sportello/sportello"
)

// OfficeService implements sportello.OfficeService.
type OfficeService struct {
	db *DB
}

// NewOfficeService returns the office service over db.
func NewOfficeService(db *DB) *OfficeService { return &OfficeService{db: db} }

var _ sportello.OfficeService = (*OfficeService)(nil)

type officeRow struct {
	ID          string `db:"id"`
	TenantID    string `db:"tenant_id"`
	Name        string `db:"name"`
	Description string `db:"description"`
	Email       string `db:"email"`
	PEC         string `db:"pec"`
	Phone       string `db:"phone"`
	Address     string `db:"address"`
	Head        string `db:"head"`
	FrontDesk   bool   `db:"front_desk"`
	// Hours are the opening slots as "weekday opens closes" joined by ",", Monday first, as
	// the week is read in Italy.
	Hours string `db:"hours"`
}

const (
	// officeColumns read an office with its opening hours, so that an office costs one
	// statement (it is a relation of most lists, and its hours are a handful of rows).
	officeColumns = officeColumnsBeforeHours + `
	coalesce((SELECT string_agg(h.weekday || ' ' || to_char(h.opens, 'HH24:MI') || ' ' || to_char(h.closes, 'HH24:MI'), ','
		ORDER BY (h.weekday + 6) % 7, h.opens) FROM office_hours h WHERE h.office_id = offices.id), '') AS hours`
	// officeColumnsWithoutHours are officeColumns with no opening hours, for a ticket's office
	// when the hours are not asked for.
	officeColumnsWithoutHours = officeColumnsBeforeHours + ` '' AS hours`
	officeColumnsBeforeHours  = `id, tenant_id, name, description, email, pec, phone, address, head, front_desk,`
)

// Offices lists the tenant's offices. See sportello.OfficeService.
func (s *OfficeService) Offices(ctx context.Context) ([]*sportello.Office, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return s.offices(ctx, `SELECT `+officeColumns+` FROM offices WHERE tenant_id = $1 ORDER BY name`, c.tenantID)
}

// OfficesByID returns offices by id. See sportello.OfficeService.
func (s *OfficeService) OfficesByID(ctx context.Context, ids []string) (map[string]*sportello.Office, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	list, err := s.offices(ctx, `SELECT `+officeColumns+` FROM offices WHERE tenant_id = $1 AND id = ANY($2::uuid[])`,
		c.tenantID, pq.Array(validIDs(ids)))
	if err != nil {
		return nil, err
	}
	out := make(map[string]*sportello.Office, len(list))
	for _, o := range list {
		out[o.ID] = o
	}
	return out, nil
}

// offices runs a query for offices that selects officeColumns.
func (s *OfficeService) offices(ctx context.Context, query string, args ...any) ([]*sportello.Office, error) {
	var rows []officeRow
	if err := s.db.SelectContext(ctx, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("list offices: %w", err)
	}
	out := make([]*sportello.Office, len(rows))
	for i := range rows {
		o, err := rows[i].office()
		if err != nil {
			return nil, err
		}
		out[i] = o
	}
	return out, nil
}

// office returns the office of a row of officeColumns.
func (r *officeRow) office() (*sportello.Office, error) {
	hours, err := parseHours(r.Hours)
	if err != nil {
		return nil, fmt.Errorf("office %s: %w", r.ID, err)
	}
	return &sportello.Office{ID: r.ID, TenantID: r.TenantID, Name: r.Name, Description: r.Description,
		Email: r.Email, PEC: r.PEC, Phone: r.Phone, Address: r.Address, Head: r.Head, Hours: hours,
		FrontDesk: r.FrontDesk}, nil
}

// parseHours reads the hours column of officeColumns.
func parseHours(s string) ([]sportello.OpeningSlot, error) {
	out := []sportello.OpeningSlot{}
	if s == "" {
		return out, nil
	}
	for slot := range strings.SplitSeq(s, ",") {
		f := strings.Fields(slot)
		if len(f) != 3 {
			return nil, fmt.Errorf("opening slot %q: want weekday, opens and closes", slot)
		}
		weekday, err := strconv.Atoi(f[0])
		if err != nil {
			return nil, fmt.Errorf("opening slot %q: %w", slot, err)
		}
		out = append(out, sportello.OpeningSlot{Weekday: time.Weekday(weekday), Opens: f[1], Closes: f[2]})
	}
	return out, nil
}

const staffColumns = `id, tenant_id, subject, name, email, office_id, absent`

type staffRow struct {
	ID       string         `db:"id"`
	TenantID string         `db:"tenant_id"`
	Subject  string         `db:"subject"`
	Name     string         `db:"name"`
	Email    string         `db:"email"`
	OfficeID sql.NullString `db:"office_id"`
	Absent   bool           `db:"absent"`
}

func (r *staffRow) staff() *sportello.Staff {
	return &sportello.Staff{ID: r.ID, TenantID: r.TenantID, Subject: r.Subject, Name: r.Name, Email: r.Email, OfficeID: r.OfficeID.String,
		Absent: r.Absent}
}

// StaffByID returns staff members by id. See sportello.OfficeService.
func (s *OfficeService) StaffByID(ctx context.Context, ids []string) (map[string]*sportello.Staff, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	var rows []staffRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+staffColumns+` FROM staff WHERE tenant_id = $1 AND id = ANY($2::uuid[])`,
		c.tenantID, pq.Array(validIDs(ids))); err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	out := make(map[string]*sportello.Staff, len(rows))
	for i := range rows {
		out[rows[i].ID] = rows[i].staff()
	}
	return out, nil
}

// Staff lists staff members. See sportello.OfficeService.
func (s *OfficeService) Staff(ctx context.Context, officeID string) ([]*sportello.Staff, error) {
	c, err := requireStaff(ctx)
	if err != nil {
		return nil, err
	}
	var a args
	query := `SELECT ` + staffColumns + ` FROM staff WHERE tenant_id = ` + a.add(c.tenantID)
	if officeID != "" {
		if err := checkOffice(ctx, s.db, c.tenantID, officeID, "officeId"); err != nil {
			return nil, err
		}
		query += ` AND office_id = ` + a.add(officeID)
	}
	var rows []staffRow
	if err := s.db.SelectContext(ctx, &rows, query+` ORDER BY name`, a...); err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	out := make([]*sportello.Staff, len(rows))
	for i := range rows {
		out[i] = rows[i].staff()
	}
	return out, nil
}

// requireManager returns the caller if they may configure the office.
func requireManager(ctx context.Context) (caller, error) {
	return requireSignedIn(ctx, func(c caller) bool { return c.user.HasRole(sportello.RoleManager, sportello.RoleAdmin) })
}

// SetResponseTerm sets a response term. See sportello.OfficeService.
func (s *OfficeService) SetResponseTerm(ctx context.Context, kind sportello.Kind, officeID string, days int) (*sportello.ResponseTerm, error) {
	c, err := requireManager(ctx)
	if err != nil {
		return nil, err
	}
	if err := sportello.ValidateResponseTerm(kind, days); err != nil {
		return nil, err
	}
	err = s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		if officeID != "" {
			if err := checkOffice(ctx, tx, c.tenantID, officeID, "officeId"); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO response_terms (tenant_id, kind, office_id, days) VALUES ($1, $2, $3, $4)
			ON CONFLICT (tenant_id, kind, coalesce(office_id, '00000000-0000-0000-0000-000000000000'))
			DO UPDATE SET days = EXCLUDED.days`, c.tenantID, kind, nullID(officeID), days)
		if err != nil {
			return fmt.Errorf("set response term: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &sportello.ResponseTerm{Kind: kind, OfficeID: officeID, Days: days}, nil
}

// ResponseTerms lists the configured terms. See sportello.OfficeService.
func (s *OfficeService) ResponseTerms(ctx context.Context) ([]*sportello.ResponseTerm, error) {
	c, err := requireManager(ctx)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		Kind     string         `db:"kind"`
		OfficeID sql.NullString `db:"office_id"`
		Days     int            `db:"days"`
	}
	if err := s.db.SelectContext(ctx, &rows, `SELECT kind, office_id, days FROM response_terms WHERE tenant_id = $1
		ORDER BY kind, office_id NULLS FIRST`, c.tenantID); err != nil {
		return nil, fmt.Errorf("list response terms: %w", err)
	}
	out := make([]*sportello.ResponseTerm, len(rows))
	for i, r := range rows {
		out[i] = &sportello.ResponseTerm{Kind: sportello.Kind(r.Kind), OfficeID: r.OfficeID.String, Days: r.Days}
	}
	return out, nil
}

// TenantService implements sportello.TenantService.
type TenantService struct {
	db *DB
}

// NewTenantService returns the tenant service over db.
func NewTenantService(db *DB) *TenantService { return &TenantService{db: db} }

var _ sportello.TenantService = (*TenantService)(nil)

// TenantBySlug finds a tenant by slug. See sportello.TenantService.
func (s *TenantService) TenantBySlug(ctx context.Context, slug string) (string, error) {
	return s.tenant(ctx, `SELECT id FROM tenants WHERE slug = $1`, slug)
}

// TenantByHost finds the tenant served at a host. See sportello.TenantService.
func (s *TenantService) TenantByHost(ctx context.Context, host string) (string, error) {
	return s.tenant(ctx, `SELECT id FROM tenants WHERE $1 = ANY(hosts)`, host)
}

func (s *TenantService) tenant(ctx context.Context, query, arg string) (string, error) {
	var id string
	// The request's tenant is what is being looked for, so the search is across tenants.
	err := s.db.GetContext(AllTenants(ctx), &id, query, arg)
	if errors.Is(err, sql.ErrNoRows) {
		return "", sportello.NotFound("municipality")
	}
	if err != nil {
		return "", fmt.Errorf("find tenant: %w", err)
	}
	return id, nil
}
