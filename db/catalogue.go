package db

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	sportello "github.com/sportello/sportello"
)

// CatalogueService implements sportello.CatalogueService and sportello.CatalogueImporter. The
// search index follows every write by itself: triggers on the tables keep it (see migration
// 0004).
type CatalogueService struct {
	db *DB
}

// NewCatalogueService returns the catalogue service over db.
func NewCatalogueService(db *DB) *CatalogueService { return &CatalogueService{db: db} }

var (
	_ sportello.CatalogueService  = (*CatalogueService)(nil)
	_ sportello.CatalogueImporter = (*CatalogueService)(nil)
)

// catalogueCaller returns the caller and whether they may read drafts and retired entries.
func catalogueCaller(ctx context.Context) (caller, bool, error) {
	c, err := callerFrom(ctx)
	return c, err == nil && c.user.EditsCatalogue(), err
}

// requireEditor returns the caller if they may write the catalogue.
func requireEditor(ctx context.Context) (caller, error) {
	return requireSignedIn(ctx, func(c caller) bool { return c.user.EditsCatalogue() })
}

// statusScope returns the condition on the status column of the table aliased alias that the
// caller's filter and role allow: the public sees published entries only, and may not ask for
// others.
func statusScope(alias string, editor bool, statuses []sportello.CatalogueStatus, a *args) (string, error) {
	if err := sportello.ValidateStatuses(statuses); err != nil {
		return "", err
	}
	switch {
	case !editor && len(statuses) > 0:
		return "", sportello.InvalidField("filter.statuses", "only staff filter by status")
	case !editor:
		return alias + ".status = 'PUBLISHED'", nil
	case len(statuses) > 0:
		return alias + ".status = ANY(" + a.add(pq.Array(statuses)) + ")", nil
	default:
		return "true", nil
	}
}

// A catalogue cursor is the position of an entry in its list order: the sort key and the id,
// opaque to clients.
func encodeKeyCursor(key, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(key + "\x00" + id))
}

func decodeKeyCursor(s string) (key, id string, err error) {
	b, derr := base64.RawURLEncoding.DecodeString(s)
	key, id, ok := strings.Cut(string(b), "\x00")
	if derr != nil || !ok || !validID(id) {
		return "", "", sportello.InvalidField("after", "is not a cursor this list returned")
	}
	return key, id, nil
}

// checkOptionalOffice checks an optional office reference of the caller's tenant.
func checkOptionalOffice(ctx context.Context, q sqlx.QueryerContext, tenantID, officeID string) error {
	if officeID == "" {
		return nil
	}
	return checkOffice(ctx, q, tenantID, officeID, "officeId")
}

// entryTable says how one kind of catalogue entry is written.
type entryTable struct {
	table, what      string // "services", "service"
	write, params    string // the written columns and their placeholders, tenant_id first
	columns          string // what is read back
	officeRequired   bool   // procedures must name their responsible office
	uniqueConstraint string // the natural key, whose violation is taken
	taken            *sportello.Error
}

var (
	serviceTable = entryTable{table: "services", what: "service", write: serviceWrite, params: serviceParams,
		columns: serviceColumns, uniqueConstraint: "services_slug",
		taken: &sportello.Error{Code: sportello.CodeConflict, Field: "slug", Message: "another service has this slug"}}
	procedureTable = entryTable{table: "procedures", what: "procedure", write: procedureWrite, params: procedureParams,
		columns: procedureColumns, officeRequired: true, uniqueConstraint: "procedures_key", taken: errProcedureTaken}
	actTable = entryTable{table: "acts", what: "act", write: actWrite, params: actParams,
		columns: actColumns, uniqueConstraint: "acts_number", taken: errActTaken}
)

// writeEntry creates (id "") or replaces (id) a catalogue entry for an editor: it validates the
// input, checks its office and writes the row in one transaction, reading it back into row.
// Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT, NOT_FOUND (entry, office), CONFLICT
// (natural key taken).
func writeEntry[R any](ctx context.Context, s *CatalogueService, t entryTable, id string,
	in interface{ Validate() error }, officeID func() string, values func(tenantID string) []any, row *R) error {
	c, err := requireEditor(ctx)
	if err != nil {
		return err
	}
	if err := in.Validate(); err != nil {
		return err
	}
	if id != "" && !validID(id) {
		return sportello.NotFound(t.what)
	}
	args := values(c.tenantID)
	n := len(args)
	err = s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		check := checkOptionalOffice
		if t.officeRequired {
			check = func(ctx context.Context, q sqlx.QueryerContext, tenantID, officeID string) error {
				return checkOffice(ctx, q, tenantID, officeID, "officeId")
			}
		}
		if err := check(ctx, tx, c.tenantID, officeID()); err != nil {
			return err
		}
		if id == "" {
			return tx.GetContext(ctx, row, fmt.Sprintf(`INSERT INTO %s AS s (%s, created_at, updated_at)
				VALUES (%s, $%d, $%d) RETURNING %s`, t.table, t.write, t.params, n+1, n+1, t.columns),
				append(args, s.db.now())...)
		}
		err := tx.GetContext(ctx, row, fmt.Sprintf(`UPDATE %s AS s SET (%s, updated_at) = (%s, $%d)
			WHERE s.tenant_id = $1 AND s.id = $%d RETURNING %s`, t.table, t.write, t.params, n+1, n+2, t.columns),
			append(args, s.db.now(), id)...)
		if errors.Is(err, sql.ErrNoRows) {
			return sportello.NotFound(t.what)
		}
		return err
	})
	if isUniqueViolation(err, t.uniqueConstraint) {
		return t.taken
	}
	if err != nil {
		verb := "update"
		if id == "" {
			verb = "create"
		}
		return wrapInternal(verb+" "+t.what, err)
	}
	return nil
}

// ---------------------------------------------------------------------------------------------
// Services

const serviceColumns = `s.id, s.tenant_id, s.slug, s.title, s.summary, s.description, s.audience, s.office_id,
	s.eligibility, s.requirements, s.costs, s.how_to_apply, s.channels, s.online_url, s.expected_time,
	s.legal_basis, s.topics, s.status, s.created_at, s.updated_at`

type serviceRow struct {
	ID           string         `db:"id"`
	TenantID     string         `db:"tenant_id"`
	Slug         string         `db:"slug"`
	Title        string         `db:"title"`
	Summary      string         `db:"summary"`
	Description  string         `db:"description"`
	Audience     string         `db:"audience"`
	OfficeID     sql.NullString `db:"office_id"`
	Eligibility  string         `db:"eligibility"`
	Requirements pq.StringArray `db:"requirements"`
	Costs        string         `db:"costs"`
	HowToApply   string         `db:"how_to_apply"`
	Channels     pq.StringArray `db:"channels"`
	OnlineURL    string         `db:"online_url"`
	ExpectedTime string         `db:"expected_time"`
	LegalBasis   string         `db:"legal_basis"`
	Topics       pq.StringArray `db:"topics"`
	Status       string         `db:"status"`
	CreatedAt    time.Time      `db:"created_at"`
	UpdatedAt    time.Time      `db:"updated_at"`
}

func (r *serviceRow) service() *sportello.Service {
	channels := make([]sportello.Channel, len(r.Channels))
	for i, c := range r.Channels {
		channels[i] = sportello.Channel(c)
	}
	return &sportello.Service{
		ID: r.ID, TenantID: r.TenantID, Slug: r.Slug, Title: r.Title, Summary: r.Summary, Description: r.Description,
		Audience: r.Audience, OfficeID: r.OfficeID.String, Eligibility: r.Eligibility, Requirements: nonNil(r.Requirements),
		Costs: r.Costs, HowToApply: r.HowToApply, Channels: channels, OnlineURL: r.OnlineURL, ExpectedTime: r.ExpectedTime,
		LegalBasis: r.LegalBasis, Topics: nonNil(r.Topics), Status: sportello.CatalogueStatus(r.Status),
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// serviceValues returns the columns a service input writes, in the order of serviceWrite.
func serviceValues(tenantID string, in *sportello.ServiceInput) []any {
	return []any{tenantID, in.Slug, in.Title, in.Summary, in.Description, in.Audience, nullID(in.OfficeID),
		in.Eligibility, pq.Array(in.Requirements), in.Costs, in.HowToApply, pq.Array(in.Channels), in.OnlineURL,
		in.ExpectedTime, in.LegalBasis, pq.Array(in.Topics), in.Status}
}

const serviceWrite = `tenant_id, slug, title, summary, description, audience, office_id, eligibility, requirements,
	costs, how_to_apply, channels, online_url, expected_time, legal_basis, topics, status`

const serviceParams = `$1, $2, $3, $4, $5, $6, $7::uuid, $8, $9::text[], $10, $11, $12::text[], $13, $14, $15, $16::text[], $17`

// CreateService adds a service. See sportello.CatalogueService.
func (s *CatalogueService) CreateService(ctx context.Context, in sportello.ServiceInput) (*sportello.Service, error) {
	var row serviceRow
	if err := writeEntry(ctx, s, serviceTable, "", &in, func() string { return in.OfficeID },
		func(tenantID string) []any { return serviceValues(tenantID, &in) }, &row); err != nil {
		return nil, err
	}
	return row.service(), nil
}

// UpdateService replaces a service's fields. See sportello.CatalogueService.
func (s *CatalogueService) UpdateService(ctx context.Context, id string, in sportello.ServiceInput) (*sportello.Service, error) {
	var row serviceRow
	if err := writeEntry(ctx, s, serviceTable, id, &in, func() string { return in.OfficeID },
		func(tenantID string) []any { return serviceValues(tenantID, &in) }, &row); err != nil {
		return nil, err
	}
	return row.service(), nil
}

// SetServiceStatus changes a service's status. See sportello.CatalogueService.
func (s *CatalogueService) SetServiceStatus(ctx context.Context, id string, status sportello.CatalogueStatus) (*sportello.Service, error) {
	var row serviceRow
	if err := s.setStatus(ctx, "services", "service", serviceColumns, id, status, &row); err != nil {
		return nil, err
	}
	return row.service(), nil
}

// setStatus sets the status of the entry id of table, reading it back into dest.
func (s *CatalogueService) setStatus(ctx context.Context, table, what, columns, id string, status sportello.CatalogueStatus, dest any) error {
	c, err := requireEditor(ctx)
	if err != nil {
		return err
	}
	if !status.Valid() {
		return sportello.InvalidField("status", "unknown status %q", status)
	}
	if !validID(id) {
		return sportello.NotFound(what)
	}
	// The alias matches the column lists: s for services, and the same s for the other tables.
	err = s.db.GetContext(ctx, dest, `UPDATE `+table+` AS s SET status = $3,
		updated_at = CASE WHEN s.status = $3 THEN s.updated_at ELSE $4 END
		WHERE s.tenant_id = $1 AND s.id = $2 RETURNING `+columns, c.tenantID, id, status, s.db.now())
	if errors.Is(err, sql.ErrNoRows) {
		return sportello.NotFound(what)
	}
	if err != nil {
		return fmt.Errorf("set %s status: %w", what, err)
	}
	return nil
}

// Service returns a service by slug. See sportello.CatalogueService.
func (s *CatalogueService) Service(ctx context.Context, slug string) (*sportello.Service, error) {
	c, editor, err := catalogueCaller(ctx)
	if err != nil {
		return nil, err
	}
	var a args
	scope, _ := statusScope("s", editor, nil, &a)
	var row serviceRow
	err = s.db.GetContext(ctx, &row, `SELECT `+serviceColumns+` FROM services s
		WHERE s.tenant_id = `+a.add(c.tenantID)+` AND s.slug = `+a.add(strings.TrimSpace(slug))+` AND `+scope, a...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sportello.NotFound("service")
	}
	if err != nil {
		return nil, fmt.Errorf("get service: %w", err)
	}
	return row.service(), nil
}

// ServicesByID returns services by id. See sportello.CatalogueService.
func (s *CatalogueService) ServicesByID(ctx context.Context, ids []string) (map[string]*sportello.Service, error) {
	return catalogueByID(ctx, s, "services", serviceColumns, ids, entryScope, (*serviceRow).service,
		func(v *sportello.Service) string { return v.ID })
}

// Services lists services by title. See sportello.CatalogueService.
func (s *CatalogueService) Services(ctx context.Context, f sportello.ServiceFilter, page sportello.Page) (*sportello.ServicePage, error) {
	rows, cursors, more, err := namedPage(ctx, s, "services", serviceColumns, "title", f.OfficeID, f.Topic, f.Statuses, page,
		func(r *serviceRow) (string, string) { return r.Title, r.ID })
	if err != nil {
		return nil, err
	}
	out := &sportello.ServicePage{HasNextPage: more, Cursors: cursors, Services: make([]*sportello.Service, len(rows))}
	for i := range rows {
		out.Services[i] = rows[i].service()
	}
	return out, nil
}

// namedPage reads a page of services or procedures (table, aliased s) in the order of their
// name column, filtered by office, topic and status, with a cursor per row.
func namedPage[R any](ctx context.Context, s *CatalogueService, table, columns, name, officeID, topic string,
	statuses []sportello.CatalogueStatus, page sportello.Page, key func(*R) (name, id string)) ([]R, []string, bool, error) {
	c, editor, err := catalogueCaller(ctx)
	if err != nil {
		return nil, nil, false, err
	}
	if err := page.Validate(); err != nil {
		return nil, nil, false, err
	}
	var a args
	where, err := listWhere("s", c, editor, officeID, topic, statuses, &a)
	if err != nil {
		return nil, nil, false, err
	}
	if page.After != "" {
		after, id, err := decodeKeyCursor(page.After)
		if err != nil {
			return nil, nil, false, err
		}
		where += fmt.Sprintf(" AND (s.%s, s.id) > (%s, %s)", name, a.add(after), a.add(id))
	}
	var rows []R
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+columns+` FROM `+table+` s WHERE `+where+
		` ORDER BY s.`+name+`, s.id LIMIT `+a.add(page.First+1), a...); err != nil {
		return nil, nil, false, fmt.Errorf("list %s: %w", table, err)
	}
	more := len(rows) > page.First
	rows = rows[:min(len(rows), page.First)]
	cursors := make([]string, len(rows))
	for i := range rows {
		cursors[i] = encodeKeyCursor(key(&rows[i]))
	}
	return rows, cursors, more, nil
}

// entryScope is statusScope over every status the caller may see, for lookups by id.
func entryScope(editor bool, _ []sportello.CatalogueStatus, a *args) (string, error) {
	return statusScope("s", editor, nil, a)
}

// catalogueByID reads the entries of a catalogue table (aliased s) among ids that the caller may
// see, and maps them by id: the batch behind the loaders of services, procedures and acts.
func catalogueByID[R any, T any](ctx context.Context, s *CatalogueService, table, columns string, ids []string,
	scope func(editor bool, statuses []sportello.CatalogueStatus, a *args) (string, error),
	entry func(*R) *T, id func(*T) string) (map[string]*T, error) {
	c, editor, err := catalogueCaller(ctx)
	if err != nil {
		return nil, err
	}
	var a args
	cond, err := scope(editor, nil, &a)
	if err != nil {
		return nil, err
	}
	var rows []R
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+columns+` FROM `+table+` s
		WHERE s.tenant_id = `+a.add(c.tenantID)+` AND s.id = ANY(`+a.add(pq.Array(validIDs(ids)))+`::uuid[]) AND `+cond, a...); err != nil {
		return nil, fmt.Errorf("list %s: %w", table, err)
	}
	out := make(map[string]*T, len(rows))
	for i := range rows {
		v := entry(&rows[i])
		out[id(v)] = v
	}
	return out, nil
}

// listWhere returns the WHERE condition of a list of services or procedures (aliased alias).
func listWhere(alias string, c caller, editor bool, officeID, topic string, statuses []sportello.CatalogueStatus, a *args) (string, error) {
	scope, err := statusScope(alias, editor, statuses, a)
	if err != nil {
		return "", err
	}
	conds := []string{alias + ".tenant_id = " + a.add(c.tenantID), scope}
	if officeID != "" {
		if !validID(officeID) {
			return "", sportello.InvalidField("filter.officeId", "is not an id")
		}
		conds = append(conds, alias+".office_id = "+a.add(officeID))
	}
	if topic = strings.ToLower(strings.TrimSpace(topic)); topic != "" {
		conds = append(conds, alias+".topics @> ARRAY["+a.add(topic)+"]::text[]")
	}
	return strings.Join(conds, " AND "), nil
}

// ---------------------------------------------------------------------------------------------
// Procedures

const procedureColumns = `s.id, s.tenant_id, s.code, s.name, s.description, s.legal_basis, s.office_id, s.officer,
	s.max_days, s.silent_consent, s.steps, s.topics, s.status, s.created_at, s.updated_at`

type procedureRow struct {
	ID            string         `db:"id"`
	TenantID      string         `db:"tenant_id"`
	Code          string         `db:"code"`
	Name          string         `db:"name"`
	Description   string         `db:"description"`
	LegalBasis    string         `db:"legal_basis"`
	OfficeID      string         `db:"office_id"`
	Officer       string         `db:"officer"`
	MaxDays       int            `db:"max_days"`
	SilentConsent bool           `db:"silent_consent"`
	Steps         pq.StringArray `db:"steps"`
	Topics        pq.StringArray `db:"topics"`
	Status        string         `db:"status"`
	CreatedAt     time.Time      `db:"created_at"`
	UpdatedAt     time.Time      `db:"updated_at"`
}

func (r *procedureRow) procedure() *sportello.Procedure {
	return &sportello.Procedure{
		ID: r.ID, TenantID: r.TenantID, Code: r.Code, Name: r.Name, Description: r.Description, LegalBasis: r.LegalBasis,
		OfficeID: r.OfficeID, Officer: r.Officer, MaxDays: r.MaxDays, SilentConsent: r.SilentConsent,
		Steps: nonNil(r.Steps), Topics: nonNil(r.Topics), Status: sportello.CatalogueStatus(r.Status),
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

const procedureWrite = `tenant_id, code, name, description, legal_basis, office_id, officer, max_days, silent_consent,
	steps, topics, status`

const procedureParams = `$1, $2, $3, $4, $5, $6::uuid, $7, $8, $9, $10::text[], $11::text[], $12`

func procedureValues(tenantID string, in *sportello.ProcedureInput) []any {
	return []any{tenantID, in.Code, in.Name, in.Description, in.LegalBasis, in.OfficeID, in.Officer, in.MaxDays,
		in.SilentConsent, pq.Array(in.Steps), pq.Array(in.Topics), in.Status}
}

var errProcedureTaken = &sportello.Error{Code: sportello.CodeConflict, Field: "code",
	Message: "another procedure has this code (or, without a code, this name)"}

// CreateProcedure adds a procedure. See sportello.CatalogueService.
func (s *CatalogueService) CreateProcedure(ctx context.Context, in sportello.ProcedureInput) (*sportello.Procedure, error) {
	var row procedureRow
	if err := writeEntry(ctx, s, procedureTable, "", &in, func() string { return in.OfficeID },
		func(tenantID string) []any { return procedureValues(tenantID, &in) }, &row); err != nil {
		return nil, err
	}
	return row.procedure(), nil
}

// UpdateProcedure replaces a procedure's fields. See sportello.CatalogueService.
func (s *CatalogueService) UpdateProcedure(ctx context.Context, id string, in sportello.ProcedureInput) (*sportello.Procedure, error) {
	var row procedureRow
	if err := writeEntry(ctx, s, procedureTable, id, &in, func() string { return in.OfficeID },
		func(tenantID string) []any { return procedureValues(tenantID, &in) }, &row); err != nil {
		return nil, err
	}
	return row.procedure(), nil
}

// SetProcedureStatus changes a procedure's status. See sportello.CatalogueService.
func (s *CatalogueService) SetProcedureStatus(ctx context.Context, id string, status sportello.CatalogueStatus) (*sportello.Procedure, error) {
	var row procedureRow
	if err := s.setStatus(ctx, "procedures", "procedure", procedureColumns, id, status, &row); err != nil {
		return nil, err
	}
	return row.procedure(), nil
}

// ProceduresByID returns procedures by id. See sportello.CatalogueService.
func (s *CatalogueService) ProceduresByID(ctx context.Context, ids []string) (map[string]*sportello.Procedure, error) {
	return catalogueByID(ctx, s, "procedures", procedureColumns, ids, entryScope, (*procedureRow).procedure,
		func(v *sportello.Procedure) string { return v.ID })
}

// Procedures lists procedures by name. See sportello.CatalogueService.
func (s *CatalogueService) Procedures(ctx context.Context, f sportello.ProcedureFilter, page sportello.Page) (*sportello.ProcedurePage, error) {
	rows, cursors, more, err := namedPage(ctx, s, "procedures", procedureColumns, "name", f.OfficeID, f.Topic, f.Statuses, page,
		func(r *procedureRow) (string, string) { return r.Name, r.ID })
	if err != nil {
		return nil, err
	}
	out := &sportello.ProcedurePage{HasNextPage: more, Cursors: cursors, Procedures: make([]*sportello.Procedure, len(rows))}
	for i := range rows {
		out.Procedures[i] = rows[i].procedure()
	}
	return out, nil
}

// ---------------------------------------------------------------------------------------------
// Acts

const actColumns = `s.id, s.tenant_id, s.type, s.number, s.year, s.date::text AS date, s.title, s.summary, s.office_id,
	s.published_from::text AS published_from, s.published_until::text AS published_until, s.document_url, s.status,
	s.created_at, s.updated_at`

type actRow struct {
	ID             string         `db:"id"`
	TenantID       string         `db:"tenant_id"`
	Type           string         `db:"type"`
	Number         int            `db:"number"`
	Year           int            `db:"year"`
	Date           dateColumn     `db:"date"`
	Title          string         `db:"title"`
	Summary        string         `db:"summary"`
	OfficeID       sql.NullString `db:"office_id"`
	PublishedFrom  dateColumn     `db:"published_from"`
	PublishedUntil dateColumn     `db:"published_until"`
	DocumentURL    string         `db:"document_url"`
	Status         string         `db:"status"`
	CreatedAt      time.Time      `db:"created_at"`
	UpdatedAt      time.Time      `db:"updated_at"`
}

func (r *actRow) act() *sportello.Act {
	return &sportello.Act{
		ID: r.ID, TenantID: r.TenantID, Type: sportello.ActType(r.Type), Number: r.Number, Year: r.Year,
		Date: r.Date.Date, Title: r.Title, Summary: r.Summary, OfficeID: r.OfficeID.String,
		PublishedFrom: r.PublishedFrom.ptr(), PublishedUntil: r.PublishedUntil.ptr(),
		DocumentURL: r.DocumentURL, Status: sportello.CatalogueStatus(r.Status), CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

const actWrite = `tenant_id, type, number, year, date, title, summary, office_id, published_from, published_until,
	document_url, status`

const actParams = `$1, $2, $3, $4, $5::date, $6, $7, $8::uuid, $9::date, $10::date, $11, $12`

func actValues(tenantID string, in *sportello.ActInput) []any {
	return []any{tenantID, in.Type, in.Number, in.Year, dateArg(&in.Date), in.Title, in.Summary, nullID(in.OfficeID),
		dateArg(in.PublishedFrom), dateArg(in.PublishedUntil), in.DocumentURL, in.Status}
}

var errActTaken = &sportello.Error{Code: sportello.CodeConflict, Field: "number",
	Message: "another act of this type has this number in this year"}

// CreateAct adds an act. See sportello.CatalogueService.
func (s *CatalogueService) CreateAct(ctx context.Context, in sportello.ActInput) (*sportello.Act, error) {
	var row actRow
	if err := writeEntry(ctx, s, actTable, "", &in, func() string { return in.OfficeID },
		func(tenantID string) []any { return actValues(tenantID, &in) }, &row); err != nil {
		return nil, err
	}
	return row.act(), nil
}

// UpdateAct replaces an act's fields. See sportello.CatalogueService.
func (s *CatalogueService) UpdateAct(ctx context.Context, id string, in sportello.ActInput) (*sportello.Act, error) {
	var row actRow
	if err := writeEntry(ctx, s, actTable, id, &in, func() string { return in.OfficeID },
		func(tenantID string) []any { return actValues(tenantID, &in) }, &row); err != nil {
		return nil, err
	}
	return row.act(), nil
}

// SetActStatus changes an act's status. See sportello.CatalogueService.
func (s *CatalogueService) SetActStatus(ctx context.Context, id string, status sportello.CatalogueStatus) (*sportello.Act, error) {
	var row actRow
	if err := s.setStatus(ctx, "acts", "act", actColumns, id, status, &row); err != nil {
		return nil, err
	}
	return row.act(), nil
}

// actScope is statusScope for acts: the public reads published acts from the first day of
// their publication.
func (s *CatalogueService) actScope(editor bool, statuses []sportello.CatalogueStatus, a *args) (string, error) {
	scope, err := statusScope("s", editor, statuses, a)
	if err != nil || editor {
		return scope, err
	}
	today := sportello.DateOf(s.db.now())
	return scope + " AND (s.published_from IS NULL OR s.published_from <= " + a.add(dateArg(&today)) + "::date)", nil
}

// ActsByID returns acts by id. See sportello.CatalogueService.
func (s *CatalogueService) ActsByID(ctx context.Context, ids []string) (map[string]*sportello.Act, error) {
	return catalogueByID(ctx, s, "acts", actColumns, ids, s.actScope, (*actRow).act,
		func(v *sportello.Act) string { return v.ID })
}

// Acts lists acts newest first. See sportello.CatalogueService.
func (s *CatalogueService) Acts(ctx context.Context, f sportello.ActFilter, page sportello.Page) (*sportello.ActPage, error) {
	c, editor, err := catalogueCaller(ctx)
	if err != nil {
		return nil, err
	}
	if err := page.Validate(); err != nil {
		return nil, err
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	var a args
	scope, err := s.actScope(editor, f.Statuses, &a)
	if err != nil {
		return nil, err
	}
	conds := []string{"s.tenant_id = " + a.add(c.tenantID), scope}
	if len(f.Types) > 0 {
		conds = append(conds, "s.type = ANY("+a.add(pq.Array(f.Types))+")")
	}
	if f.Year != 0 {
		conds = append(conds, "s.year = "+a.add(f.Year))
	}
	if f.OfficeID != "" {
		if !validID(f.OfficeID) {
			return nil, sportello.InvalidField("filter.officeId", "is not an id")
		}
		conds = append(conds, "s.office_id = "+a.add(f.OfficeID))
	}
	if f.OnNoticeBoard != nil {
		today := sportello.DateOf(s.db.now())
		p := a.add(dateArg(&today))
		board := "(s.status = 'PUBLISHED' AND s.published_from <= " + p + "::date AND (s.published_until IS NULL OR s.published_until >= " + p + "::date))"
		if !*f.OnNoticeBoard {
			board = "NOT coalesce(" + board + ", false)"
		}
		conds = append(conds, board)
	}
	if page.After != "" {
		key, id, err := decodeKeyCursor(page.After)
		if err != nil {
			return nil, err
		}
		if _, perr := time.Parse(time.DateOnly, key); perr != nil {
			return nil, sportello.InvalidField("after", "is not a cursor this list returned")
		}
		conds = append(conds, fmt.Sprintf("(s.date, s.id) < (%s::date, %s::uuid)", a.add(key), a.add(id)))
	}
	var rows []actRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+actColumns+` FROM acts s WHERE `+strings.Join(conds, " AND ")+
		` ORDER BY s.date DESC, s.id DESC LIMIT `+a.add(page.First+1), a...); err != nil {
		return nil, fmt.Errorf("list acts: %w", err)
	}
	out := &sportello.ActPage{HasNextPage: len(rows) > page.First, Acts: []*sportello.Act{}}
	rows = rows[:min(len(rows), page.First)]
	for i := range rows {
		act := rows[i].act()
		out.Acts = append(out.Acts, act)
		out.Cursors = append(out.Cursors, encodeKeyCursor(act.Date.String(), act.ID))
	}
	return out, nil
}

// wrapInternal passes domain errors through and wraps the others with what was being done.
func wrapInternal(what string, err error) error {
	var de *sportello.Error
	if errors.As(err, &de) {
		return err
	}
	return fmt.Errorf("%s: %w", what, err)
}
