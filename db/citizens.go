package db

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	sportello "github.com/sportello/sportello"
)

// CitizenService implements sportello.CitizenService.
type CitizenService struct {
	db *DB
}

// NewCitizenService returns the citizen service over db.
func NewCitizenService(db *DB) *CitizenService { return &CitizenService{db: db} }

var _ sportello.CitizenService = (*CitizenService)(nil)

// Me returns the signed-in citizen's profile. See sportello.CitizenService.
func (s *CitizenService) Me(ctx context.Context) (*sportello.Citizen, error) {
	c, err := requireCitizen(ctx)
	if err != nil {
		return nil, err
	}
	var cit *sportello.Citizen
	err = s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		cit, err = ensureCitizen(ctx, tx, c)
		return err
	})
	return cit, err
}

// UpdateMyProfile changes the citizen's contact details. See sportello.CitizenService.
func (s *CitizenService) UpdateMyProfile(ctx context.Context, in sportello.ProfileInput) (*sportello.Citizen, error) {
	c, err := requireCitizen(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var cit *sportello.Citizen
	err = s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		if cit, err = ensureCitizen(ctx, tx, c); err != nil {
			return err
		}
		var row citizenRow
		if err := tx.GetContext(ctx, &row, `UPDATE citizens SET email = coalesce($2, email), phone = coalesce($3, phone),
			updated_at = $4 WHERE id = $1 RETURNING `+citizenColumns,
			cit.ID, in.Email, in.Phone, s.db.now()); err != nil {
			return fmt.Errorf("update profile: %w", err)
		}
		cit = row.citizen()
		return nil
	})
	return cit, err
}

// MinSearchLen is the shortest search for citizens: shorter ones would list half the town.
const MinSearchLen = 2

// SearchCitizens finds citizens for staff. See sportello.CitizenService.
func (s *CitizenService) SearchCitizens(ctx context.Context, search string, first int) ([]*sportello.Citizen, error) {
	c, err := requireStaff(ctx)
	if err != nil {
		return nil, err
	}
	search = strings.ToLower(strings.TrimSpace(search))
	if len([]rune(search)) < MinSearchLen || len([]rune(search)) > sportello.MaxNameLen {
		return nil, sportello.InvalidField("search", "must be between %d and %d characters", MinSearchLen, sportello.MaxNameLen)
	}
	page := sportello.Page{First: first}
	if err := page.Validate(); err != nil {
		return nil, err
	}
	// Every word must appear somewhere in the name, fiscal code or e-mail, in any order, so
	// "rossi mario" finds Mario Rossi. An exact fiscal code comes first.
	var a args
	conds := []string{"tenant_id = " + a.add(c.tenantID)}
	for _, w := range strings.Fields(search) {
		conds = append(conds, `lower(given_name || ' ' || family_name || ' ' || coalesce(fiscal_code, '') || ' ' || email) LIKE `+
			a.add("%"+escapeLike(w)+"%"))
	}
	// Erased citizens are restricted: their records stay for the law, but staff no longer find
	// them by searching.
	conds = append(conds, "erased_at IS NULL")
	query := `SELECT ` + citizenColumns + `, fiscal_code = upper(` + a.add(search) + `) AS exact FROM citizens WHERE ` +
		strings.Join(conds, " AND ") + ` ORDER BY exact DESC NULLS LAST, family_name, given_name, id LIMIT ` + a.add(page.First)
	var rows []struct {
		citizenRow
		Exact *bool `db:"exact"`
	}
	if err := s.db.SelectContext(ctx, &rows, query, a...); err != nil {
		return nil, fmt.Errorf("search citizens: %w", err)
	}
	out := make([]*sportello.Citizen, len(rows))
	ids := make([]string, len(rows))
	for i := range rows {
		out[i] = rows[i].citizen()
		ids[i] = rows[i].ID
	}
	if err := s.db.recordReads(ctx, c, sportello.AuditRead, "citizens.search", ids); err != nil {
		return nil, err
	}
	return out, nil
}

// escapeLike makes the LIKE wildcards in user input match themselves.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// CreateCitizen registers a citizen at the desk. See sportello.CitizenService.
func (s *CitizenService) CreateCitizen(ctx context.Context, in sportello.CitizenInput) (*sportello.Citizen, error) {
	c, err := requireStaff(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var row citizenRow
	var a args
	query := `INSERT INTO citizens (tenant_id, given_name, family_name, fiscal_code, email, phone, created_at, updated_at)
		VALUES (` + a.add(c.tenantID) + `, ` + a.add(in.GivenName) + `, ` + a.add(in.FamilyName) + `, ` +
		a.add(nullString(in.FiscalCode)) + `, ` + a.add(in.Email) + `, ` + a.add(in.Phone) + `, ` + a.add(s.db.now()) + `, $7)
		RETURNING ` + citizenColumns
	query = audited(ctx, c, sportello.AuditChange, "citizens.create", query, "id", "id", &a)
	err = s.db.GetContext(ctx, &row, query, a...)
	if isUniqueViolation(err, "citizens_tenant_id_fiscal_code_key") {
		return nil, &sportello.Error{Code: sportello.CodeConflict, Field: "fiscalCode",
			Message: "a citizen with this fiscal code is already registered: find them with citizens(search:)"}
	}
	if err != nil {
		return nil, fmt.Errorf("create citizen: %w", err)
	}
	return row.citizen(), nil
}

// CitizensByID returns the citizens the caller may see. See sportello.CitizenService.
func (s *CitizenService) CitizensByID(ctx context.Context, ids []string) (map[string]*sportello.Citizen, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*sportello.Citizen, len(ids))
	if !c.staff && !c.citizen {
		return out, nil
	}
	var a args
	query := `SELECT ` + citizenColumns + ` FROM citizens WHERE tenant_id = ` + a.add(c.tenantID) +
		` AND id = ANY(` + a.add(pq.Array(validIDs(ids))) + `::uuid[])`
	if !c.staff {
		query += ` AND subject = ` + a.add(c.user.Subject)
	}
	var rows []citizenRow
	if err := s.db.SelectContext(ctx, &rows, query, a...); err != nil {
		return nil, fmt.Errorf("list citizens: %w", err)
	}
	found := make([]string, len(rows))
	for i := range rows {
		out[rows[i].ID] = rows[i].citizen()
		found[i] = rows[i].ID
	}
	if err := s.db.recordReads(ctx, c, sportello.AuditRead, "citizens.byId", found); err != nil {
		return nil, err
	}
	return out, nil
}
