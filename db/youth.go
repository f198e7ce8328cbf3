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

// YouthService implements sportello.YouthService and sportello.OpportunityImporter, and runs
// the youth desk's jobs (ExpireOpportunities, SendDeadlineReminders). The global search follows
// every write by itself: a trigger keeps the published opportunities in it (migration 0010).
type YouthService struct {
	db *DB
}

// NewYouthService returns the youth desk's service over db.
func NewYouthService(db *DB) *YouthService { return &YouthService{db: db} }

var (
	_ sportello.YouthService        = (*YouthService)(nil)
	_ sportello.OpportunityImporter = (*YouthService)(nil)
)

// youthCaller returns the caller and whether they keep the opportunities.
func youthCaller(ctx context.Context) (caller, bool, error) {
	c, err := callerFrom(ctx)
	return c, err == nil && c.user.ManagesOpportunities(), err
}

// requireYouthDesk returns the caller if they keep the opportunities.
func requireYouthDesk(ctx context.Context) (caller, error) {
	return requireSignedIn(ctx, func(c caller) bool { return c.user.ManagesOpportunities() })
}

const opportunityColumns = `o.id, o.tenant_id, o.category, o.title, o.description, o.organisation, o.municipality,
	o.region, o.country, o.remote, o.latitude, o.longitude, o.address, o.min_age, o.max_age, o.languages,
	o.education_level, o.start_date::text AS start_date, o.end_date::text AS end_date, o.deadline::text AS deadline,
	o.how_to_apply, o.url, o.costs, o.source, o.external_ref, o.topics, o.office_id, o.status, o.published_at,
	o.created_at, o.updated_at`

type opportunityRow struct {
	ID             string          `db:"id"`
	TenantID       string          `db:"tenant_id"`
	Category       string          `db:"category"`
	Title          string          `db:"title"`
	Description    string          `db:"description"`
	Organisation   string          `db:"organisation"`
	Municipality   string          `db:"municipality"`
	Region         string          `db:"region"`
	Country        string          `db:"country"`
	Remote         bool            `db:"remote"`
	Latitude       sql.NullFloat64 `db:"latitude"`
	Longitude      sql.NullFloat64 `db:"longitude"`
	Address        string          `db:"address"`
	MinAge         int             `db:"min_age"`
	MaxAge         int             `db:"max_age"`
	Languages      pq.StringArray  `db:"languages"`
	EducationLevel string          `db:"education_level"`
	StartDate      dateColumn      `db:"start_date"`
	EndDate        dateColumn      `db:"end_date"`
	Deadline       dateColumn      `db:"deadline"`
	HowToApply     string          `db:"how_to_apply"`
	URL            string          `db:"url"`
	Costs          string          `db:"costs"`
	Source         string          `db:"source"`
	ExternalRef    string          `db:"external_ref"`
	Topics         pq.StringArray  `db:"topics"`
	OfficeID       sql.NullString  `db:"office_id"`
	Status         string          `db:"status"`
	PublishedAt    sql.NullTime    `db:"published_at"`
	CreatedAt      time.Time       `db:"created_at"`
	UpdatedAt      time.Time       `db:"updated_at"`
	// Rank is the relevance, selected by searches with words only.
	Rank float32 `db:"rank"`
}

func (r *opportunityRow) opportunity() *sportello.Opportunity {
	o := &sportello.Opportunity{
		ID: r.ID, TenantID: r.TenantID, Category: sportello.OpportunityCategory(r.Category), Title: r.Title,
		Description: r.Description, Organisation: r.Organisation, Municipality: r.Municipality, Region: r.Region,
		Country: r.Country, Remote: r.Remote, MinAge: r.MinAge, MaxAge: r.MaxAge, Languages: nonNil(r.Languages),
		EducationLevel: r.EducationLevel, StartDate: r.StartDate.ptr(), EndDate: r.EndDate.ptr(),
		Deadline: r.Deadline.ptr(), HowToApply: r.HowToApply, URL: r.URL, Costs: r.Costs,
		Source: sportello.OpportunitySource(r.Source), ExternalRef: r.ExternalRef, Topics: nonNil(r.Topics),
		OfficeID: r.OfficeID.String, Status: sportello.OpportunityStatus(r.Status),
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
	if r.Latitude.Valid || r.Address != "" {
		o.Location = &sportello.Location{Latitude: r.Latitude.Float64, Longitude: r.Longitude.Float64, Address: r.Address}
	}
	if r.PublishedAt.Valid {
		t := r.PublishedAt.Time
		o.PublishedAt = &t
	}
	return o
}

// opportunityWrite are the columns an input writes, in the order of opportunityValues; the
// status and the timestamps are written by each statement.
const opportunityWrite = `tenant_id, category, title, description, organisation, municipality, region, country,
	remote, latitude, longitude, address, min_age, max_age, languages, education_level, start_date, end_date, deadline,
	how_to_apply, url, costs, source, external_ref, topics, office_id`

const opportunityParams = `$1, $2, $3, $4, $5, $6, $7, $8, $9, $10::float8, $11::float8, $12, $13, $14, $15::text[], $16,
	$17::date, $18::date, $19::date, $20, $21, $22, $23, $24, $25::text[], $26::uuid`

const opportunityWriteCount = 26

func opportunityValues(tenantID string, in *sportello.OpportunityInput) []any {
	var lat, lon any
	address := ""
	if l := in.Location; l != nil {
		address = l.Address
		if l.HasCoordinates() {
			lat, lon = l.Latitude, l.Longitude
		}
	}
	return []any{tenantID, in.Category, in.Title, in.Description, in.Organisation, in.Municipality, in.Region,
		in.Country, in.Remote, lat, lon, address, in.MinAge, in.MaxAge, pq.Array(in.Languages), in.EducationLevel,
		dateArg(in.StartDate), dateArg(in.EndDate), dateArg(in.Deadline), in.HowToApply, in.URL, in.Costs, in.Source,
		in.ExternalRef, pq.Array(in.Topics), nullID(in.OfficeID)}
}

var errOpportunityTaken = &sportello.Error{Code: sportello.CodeConflict, Field: "externalRef",
	Message: "another opportunity has this source and external reference"}

// today is the office's day, in Rome.
func (s *YouthService) today() sportello.Date { return sportello.DateOf(s.db.now()) }

// storedStatus is the status an input is written with: a published opportunity whose deadline
// has passed is stored as expired, so that importing a feed again, after the expiry job has
// run, finds the row unchanged.
func (s *YouthService) storedStatus(in *sportello.OpportunityInput) sportello.OpportunityStatus {
	if in.Status == sportello.OpportunityPublished && in.Deadline != nil && in.Deadline.Compare(s.today()) < 0 {
		return sportello.OpportunityExpired
	}
	return in.Status
}

// CreateOpportunity adds a draft. See sportello.YouthService.
func (s *YouthService) CreateOpportunity(ctx context.Context, in sportello.OpportunityInput) (*sportello.Opportunity, error) {
	return s.write(ctx, "", in)
}

// UpdateOpportunity replaces an opportunity's fields. See sportello.YouthService.
func (s *YouthService) UpdateOpportunity(ctx context.Context, id string, in sportello.OpportunityInput) (*sportello.Opportunity, error) {
	return s.write(ctx, id, in)
}

// write creates (id "") a draft or replaces the fields of the opportunity id, keeping its status.
func (s *YouthService) write(ctx context.Context, id string, in sportello.OpportunityInput) (*sportello.Opportunity, error) {
	c, err := requireYouthDesk(ctx)
	if err != nil {
		return nil, err
	}
	in.Status = sportello.OpportunityDraft
	if err := in.Validate(); err != nil {
		return nil, err
	}
	if id != "" && !validID(id) {
		return nil, sportello.NotFound("opportunity")
	}
	values := append(opportunityValues(c.tenantID, &in), s.db.now())
	now := fmt.Sprintf("$%d", opportunityWriteCount+1)
	var row opportunityRow
	err = s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := checkOptionalOffice(ctx, tx, c.tenantID, in.OfficeID); err != nil {
			return err
		}
		if id == "" {
			return tx.GetContext(ctx, &row, `INSERT INTO opportunities AS o (`+opportunityWrite+`, status, created_at, updated_at)
				VALUES (`+opportunityParams+`, 'DRAFT', `+now+`, `+now+`) RETURNING `+opportunityColumns, values...)
		}
		err := tx.GetContext(ctx, &row, `UPDATE opportunities AS o SET (`+opportunityWrite+`, updated_at) = (`+opportunityParams+`, `+now+`)
			WHERE o.tenant_id = $1 AND o.id = $`+strconv.Itoa(opportunityWriteCount+2)+` RETURNING `+opportunityColumns,
			append(values, id)...)
		if errors.Is(err, sql.ErrNoRows) {
			return sportello.NotFound("opportunity")
		}
		return err
	})
	if isUniqueViolation(err, "opportunities_source_ref") {
		return nil, errOpportunityTaken
	}
	if err != nil {
		return nil, wrapInternal("write opportunity", err)
	}
	return row.opportunity(), nil
}

// PublishOpportunity publishes and alerts. See sportello.YouthService.
func (s *YouthService) PublishOpportunity(ctx context.Context, id string) (*sportello.Opportunity, error) {
	c, err := requireYouthDesk(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, sportello.NotFound("opportunity")
	}
	var row opportunityRow
	err = s.db.inEventTx(ctx, c.tenantID, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &row, `SELECT `+opportunityColumns+` FROM opportunities o
			WHERE o.tenant_id = $1 AND o.id = $2 FOR UPDATE`, c.tenantID, id); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return sportello.NotFound("opportunity")
			}
			return err
		}
		if row.opportunity().Expired(s.db.now()) {
			return sportello.Errorf(sportello.CodeInvalidTransition, "the deadline has passed: move it before publishing")
		}
		if row.Status == string(sportello.OpportunityPublished) {
			return nil
		}
		if err := tx.GetContext(ctx, &row, `UPDATE opportunities o SET status = 'PUBLISHED',
			published_at = coalesce(o.published_at, $2), updated_at = $2
			WHERE o.id = $1 RETURNING `+opportunityColumns, id, s.db.now()); err != nil {
			return err
		}
		return s.alert(ctx, tx, row.opportunity())
	})
	if err != nil {
		return nil, wrapInternal("publish opportunity", err)
	}
	return row.opportunity(), nil
}

// matchSavedSearches selects the citizens whose saved searches with alerts match the
// opportunity $1, each once, and records their alert, returning only the citizens not alerted
// of it before. The cheap conditions come first; the words are the tsquery compiled when the
// search was saved, against the document the opportunity row stores, so no text is parsed here.
// A search's empty criterion matches everything; an opportunity without coordinates never
// matches a search near a place, and one without an upper age is open to every older age.
// Citizens who erased their account are not alerted.
const matchSavedSearches = `WITH o AS (SELECT * FROM opportunities WHERE id = $1),
	matched AS (
		SELECT DISTINCT s.citizen_id
		FROM saved_searches s JOIN citizens c ON c.id = s.citizen_id, o
		WHERE s.tenant_id = o.tenant_id AND s.alerts AND c.erased_at IS NULL
		  AND (s.categories = '{}' OR o.category = ANY(s.categories))
		  AND (s.country = '' OR s.country = o.country)
		  AND (s.remote IS NULL OR s.remote = o.remote)
		  AND (s.age = 0 OR (o.min_age <= s.age AND (o.max_age = 0 OR s.age <= o.max_age)))
		  AND (s.language = '' OR s.language = ANY(o.languages))
		  AND (s.latitude IS NULL OR (o.latitude IS NOT NULL
		       AND great_circle_m(s.latitude, s.longitude, o.latitude, o.longitude) <= s.radius_meters))
		  AND (s.text = '' OR o.document @@ s.query))
	INSERT INTO opportunity_alerts (opportunity_id, citizen_id, created_at)
	SELECT $1, citizen_id, $2 FROM matched
	ON CONFLICT DO NOTHING
	RETURNING citizen_id`

// alert notifies, in the caller's transaction, every citizen whose saved searches match the
// published opportunity o and who was not alerted of it before.
func (s *YouthService) alert(ctx context.Context, tx *sqlx.Tx, o *sportello.Opportunity) error {
	var citizens []string
	if err := tx.SelectContext(ctx, &citizens, matchSavedSearches, o.ID, s.db.now()); err != nil {
		return fmt.Errorf("match saved searches: %w", err)
	}
	ns := make([]*sportello.Notification, len(citizens))
	for i, cit := range citizens {
		ns[i] = &sportello.Notification{CitizenID: cit, Kind: sportello.NotificationOpportunityAlert, Title: o.Title,
			Body: alertBody(o), Link: opportunityLink(o.ID), SubjectType: sportello.SubjectOpportunity, SubjectID: o.ID}
	}
	return insertNotifications(ctx, tx, o.TenantID, ns, s.db.now())
}

// opportunityLink is where the app and the portal show an opportunity.
func opportunityLink(id string) string { return "/opportunities/" + id }

// alertBody is the text of an alert: who offers the opportunity and until when.
func alertBody(o *sportello.Opportunity) string {
	var parts []string
	if o.Organisation != "" {
		parts = append(parts, o.Organisation)
	}
	if o.Deadline != nil {
		parts = append(parts, "scadenza "+o.Deadline.String())
	}
	return "Nuova opportunità per te: " + strings.Join(append([]string{o.Title}, parts...), ", ")
}

// WithdrawOpportunity withdraws an opportunity. See sportello.YouthService.
func (s *YouthService) WithdrawOpportunity(ctx context.Context, id string) (*sportello.Opportunity, error) {
	c, err := requireYouthDesk(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, sportello.NotFound("opportunity")
	}
	var row opportunityRow
	err = s.db.GetContext(ctx, &row, `UPDATE opportunities o SET status = 'WITHDRAWN',
		updated_at = CASE WHEN o.status = 'WITHDRAWN' THEN o.updated_at ELSE $3 END
		WHERE o.tenant_id = $1 AND o.id = $2 RETURNING `+opportunityColumns, c.tenantID, id, s.db.now())
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sportello.NotFound("opportunity")
	}
	if err != nil {
		return nil, fmt.Errorf("withdraw opportunity: %w", err)
	}
	return row.opportunity(), nil
}

// readScope returns the condition on opportunities aliased o that a reader by id may see: the
// youth desk sees them all; the public sees the published ones, also after their deadline, so
// that a link shared earlier shows the opportunity as expired.
func readScope(manager bool) string {
	if manager {
		return "true"
	}
	return "o.status IN ('PUBLISHED', 'EXPIRED')"
}

// openScope is the condition of the public lists: published and not past the deadline.
func (s *YouthService) openScope(a *args) string {
	today := s.today()
	return "o.status = 'PUBLISHED' AND (o.deadline IS NULL OR o.deadline >= " + a.add(dateArg(&today)) + "::date)"
}

// Opportunity returns one opportunity. See sportello.YouthService.
func (s *YouthService) Opportunity(ctx context.Context, id string) (*sportello.Opportunity, error) {
	m, err := s.OpportunitiesByID(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	o, ok := m[id]
	if !ok {
		return nil, sportello.NotFound("opportunity")
	}
	return o, nil
}

// OpportunitiesByID returns opportunities by id. See sportello.YouthService.
func (s *YouthService) OpportunitiesByID(ctx context.Context, ids []string) (map[string]*sportello.Opportunity, error) {
	c, manager, err := youthCaller(ctx)
	if err != nil {
		return nil, err
	}
	var rows []opportunityRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+opportunityColumns+` FROM opportunities o
		WHERE o.tenant_id = $1 AND o.id = ANY($2::uuid[]) AND `+readScope(manager), c.tenantID, pq.Array(validIDs(ids))); err != nil {
		return nil, fmt.Errorf("get opportunities: %w", err)
	}
	out := make(map[string]*sportello.Opportunity, len(rows))
	for i := range rows {
		out[rows[i].ID] = rows[i].opportunity()
	}
	return out, nil
}

// noDeadline sorts the opportunities without a deadline after every other.
const noDeadline = "9999-12-31"

// Opportunities searches and lists. See sportello.YouthService.
//
// Both orders are keyset-paginated: by deadline (opportunities without one last) and id, or by
// relevance (ts_rank over the stored document, title A, organisation and topics B, text C) and
// id; the cursor carries the sort key of the last row.
func (s *YouthService) Opportunities(ctx context.Context, f sportello.OpportunityFilter, page sportello.Page) (*sportello.OpportunityPage, error) {
	c, manager, err := youthCaller(ctx)
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
	conds := []string{"o.tenant_id = " + a.add(c.tenantID)}
	switch {
	case !manager && len(f.Statuses) > 0:
		return nil, sportello.InvalidField("filter.statuses", "only the youth desk filters by status")
	case !manager:
		conds = append(conds, s.openScope(&a))
	case len(f.Statuses) > 0:
		conds = append(conds, "o.status = ANY("+a.add(pq.Array(f.Statuses))+")")
	}
	conds = append(conds, s.filterConds(&f, &a)...)
	rank := "0::real"
	if f.Text != "" {
		rank = "ts_rank(o.document, websearch_to_tsquery('it_unaccent', " + a.add(f.Text) + "))"
	}
	order := "coalesce(o.deadline, '" + noDeadline + "'::date), o.id"
	if f.Sort == sportello.SortRelevance {
		order = "rank DESC, o.id"
	}
	if page.After != "" {
		key, id, err := decodeKeyCursor(page.After)
		if err != nil {
			return nil, err
		}
		if f.Sort == sportello.SortRelevance {
			r, perr := strconv.ParseFloat(key, 32)
			if perr != nil {
				return nil, sportello.InvalidField("after", "is not a cursor this list returned")
			}
			p := a.add(r)
			conds = append(conds, fmt.Sprintf("(%s < %s::real OR (%s = %s::real AND o.id > %s::uuid))", rank, p, rank, p, a.add(id)))
		} else {
			if _, perr := time.Parse(time.DateOnly, key); perr != nil {
				return nil, sportello.InvalidField("after", "is not a cursor this list returned")
			}
			conds = append(conds, fmt.Sprintf("(coalesce(o.deadline, '%s'::date), o.id) > (%s::date, %s::uuid)", noDeadline, a.add(key), a.add(id)))
		}
	}
	var rows []opportunityRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+opportunityColumns+`, `+rank+` AS rank
		FROM opportunities o WHERE `+strings.Join(conds, " AND ")+` ORDER BY `+order+` LIMIT `+a.add(page.First+1), a...); err != nil {
		return nil, fmt.Errorf("list opportunities: %w", err)
	}
	out := &sportello.OpportunityPage{HasNextPage: len(rows) > page.First, Opportunities: []*sportello.Opportunity{}}
	rows = rows[:min(len(rows), page.First)]
	for i := range rows {
		o := rows[i].opportunity()
		key := noDeadline
		if f.Sort == sportello.SortRelevance {
			key = strconv.FormatFloat(float64(rows[i].Rank), 'g', -1, 32)
		} else if o.Deadline != nil {
			key = o.Deadline.String()
		}
		out.Opportunities = append(out.Opportunities, o)
		out.Cursors = append(out.Cursors, encodeKeyCursor(key, o.ID))
	}
	return out, nil
}

// filterConds returns the conditions of a validated filter on opportunities aliased o.
func (s *YouthService) filterConds(f *sportello.OpportunityFilter, a *args) []string {
	var conds []string
	if f.Text != "" {
		conds = append(conds, "o.document @@ websearch_to_tsquery('it_unaccent', "+a.add(f.Text)+")")
	}
	if len(f.Categories) > 0 {
		conds = append(conds, "o.category = ANY("+a.add(pq.Array(f.Categories))+")")
	}
	if f.Country != "" {
		conds = append(conds, "o.country = "+a.add(f.Country))
	}
	if f.Near != nil {
		conds = append(conds, nearCondition(a, "o", f.Near))
	}
	if f.Remote != nil {
		conds = append(conds, "o.remote = "+a.add(*f.Remote))
	}
	if f.Age != 0 {
		p := a.add(f.Age)
		conds = append(conds, "o.min_age <= "+p+" AND (o.max_age = 0 OR o.max_age >= "+p+")")
	}
	if f.Language != "" {
		conds = append(conds, a.add(f.Language)+" = ANY(o.languages)")
	}
	if f.DeadlineFrom != nil {
		conds = append(conds, "o.deadline >= "+a.add(dateArg(f.DeadlineFrom))+"::date")
	}
	if f.DeadlineTo != nil {
		conds = append(conds, "o.deadline <= "+a.add(dateArg(f.DeadlineTo))+"::date")
	}
	if f.ClosingWithinDays > 0 {
		today := s.today()
		last := today.AddDays(f.ClosingWithinDays)
		conds = append(conds, "o.deadline BETWEEN "+a.add(dateArg(&today))+"::date AND "+a.add(dateArg(&last))+"::date")
	}
	if f.Topic != "" {
		conds = append(conds, "o.topics @> ARRAY["+a.add(f.Topic)+"]::text[]")
	}
	return conds
}

// ---------------------------------------------------------------------------------------------
// Saved searches and saved opportunities

const savedSearchColumns = `id, citizen_id, name, text, categories, country, remote, age, language, latitude,
	longitude, radius_meters, alerts, created_at`

type savedSearchRow struct {
	ID           string          `db:"id"`
	CitizenID    string          `db:"citizen_id"`
	Name         string          `db:"name"`
	Text         string          `db:"text"`
	Categories   pq.StringArray  `db:"categories"`
	Country      string          `db:"country"`
	Remote       sql.NullBool    `db:"remote"`
	Age          int             `db:"age"`
	Language     string          `db:"language"`
	Latitude     sql.NullFloat64 `db:"latitude"`
	Longitude    sql.NullFloat64 `db:"longitude"`
	RadiusMeters sql.NullFloat64 `db:"radius_meters"`
	Alerts       bool            `db:"alerts"`
	CreatedAt    time.Time       `db:"created_at"`
}

func (r *savedSearchRow) savedSearch() *sportello.SavedSearch {
	cats := make([]sportello.OpportunityCategory, len(r.Categories))
	for i, c := range r.Categories {
		cats[i] = sportello.OpportunityCategory(c)
	}
	out := &sportello.SavedSearch{ID: r.ID, CitizenID: r.CitizenID, Name: r.Name, Alerts: r.Alerts, CreatedAt: r.CreatedAt,
		Criteria: sportello.OpportunityCriteria{Text: r.Text, Categories: cats, Country: r.Country, Age: r.Age, Language: r.Language}}
	if r.Remote.Valid {
		b := r.Remote.Bool
		out.Criteria.Remote = &b
	}
	if r.Latitude.Valid {
		out.Criteria.Near = &sportello.Area{Latitude: r.Latitude.Float64, Longitude: r.Longitude.Float64,
			RadiusMeters: r.RadiusMeters.Float64}
	}
	return out
}

var errTooManySearches = sportello.Errorf(sportello.CodeConflict, "you have %d saved searches already: delete one first", sportello.MaxSavedSearches)

// SaveSearch keeps a citizen's search. See sportello.YouthService.
func (s *YouthService) SaveSearch(ctx context.Context, in sportello.SavedSearchInput) (*sportello.SavedSearch, error) {
	c, err := requireCitizen(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	cr := in.Criteria
	var remote, lat, lon, radius any
	if cr.Remote != nil {
		remote = *cr.Remote
	}
	if cr.Near != nil {
		lat, lon, radius = cr.Near.Latitude, cr.Near.Longitude, cr.Near.RadiusMeters
	}
	var row savedSearchRow
	err = s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		cit, err := ensureCitizen(ctx, tx, c)
		if err != nil {
			return err
		}
		// The citizen's row is locked so that concurrent saves cannot both pass the count.
		var n int
		if err := tx.GetContext(ctx, &n, `SELECT count(*) FROM saved_searches
			WHERE citizen_id = (SELECT id FROM citizens WHERE id = $1 FOR UPDATE)`, cit.ID); err != nil {
			return err
		}
		if n >= sportello.MaxSavedSearches {
			return errTooManySearches
		}
		return tx.GetContext(ctx, &row, `INSERT INTO saved_searches (tenant_id, citizen_id, name, text, categories, country,
			remote, age, language, latitude, longitude, radius_meters, alerts, created_at)
			VALUES ($1, $2, $3, $4, $5::text[], $6, $7::boolean, $8, $9, $10::float8, $11::float8, $12::float8, $13, $14)
			RETURNING `+savedSearchColumns,
			c.tenantID, cit.ID, in.Name, cr.Text, pq.Array(cr.Categories), cr.Country, remote, cr.Age, cr.Language,
			lat, lon, radius, in.Alerts, s.db.now())
	})
	if err != nil {
		return nil, wrapInternal("save search", err)
	}
	return row.savedSearch(), nil
}

// citizenClause is the condition that a row's citizen_id is the signed-in citizen's.
const citizenClause = `citizen_id = (SELECT id FROM citizens WHERE tenant_id = $1 AND subject = $2)`

// SavedSearches lists a citizen's saved searches. See sportello.YouthService.
func (s *YouthService) SavedSearches(ctx context.Context) ([]*sportello.SavedSearch, error) {
	c, err := requireCitizen(ctx)
	if err != nil {
		return nil, err
	}
	var rows []savedSearchRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+savedSearchColumns+` FROM saved_searches
		WHERE tenant_id = $1 AND `+citizenClause+` ORDER BY created_at, id`, c.tenantID, c.user.Subject); err != nil {
		return nil, fmt.Errorf("list saved searches: %w", err)
	}
	out := make([]*sportello.SavedSearch, len(rows))
	for i := range rows {
		out[i] = rows[i].savedSearch()
	}
	return out, nil
}

// DeleteSavedSearch forgets a saved search. See sportello.YouthService.
func (s *YouthService) DeleteSavedSearch(ctx context.Context, id string) error {
	c, err := requireCitizen(ctx)
	if err != nil {
		return err
	}
	if !validID(id) {
		return sportello.NotFound("saved search")
	}
	res, err := s.db.ExecContext(ctx, `DELETE FROM saved_searches WHERE tenant_id = $1 AND `+citizenClause+` AND id = $3`,
		c.tenantID, c.user.Subject, id)
	if err != nil {
		return fmt.Errorf("delete saved search: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return sportello.NotFound("saved search")
	}
	return nil
}

// SaveOpportunity keeps an open opportunity for the citizen. See sportello.YouthService.
func (s *YouthService) SaveOpportunity(ctx context.Context, id string) (*sportello.Opportunity, error) {
	c, err := requireCitizen(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, sportello.NotFound("opportunity")
	}
	var row opportunityRow
	err = s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		cit, err := ensureCitizen(ctx, tx, c)
		if err != nil {
			return err
		}
		var a args
		a.add(c.tenantID)
		a.add(id)
		err = tx.GetContext(ctx, &row, `SELECT `+opportunityColumns+` FROM opportunities o
			WHERE o.tenant_id = $1 AND o.id = $2 AND `+s.openScope(&a), a...)
		if errors.Is(err, sql.ErrNoRows) {
			return sportello.NotFound("opportunity")
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO saved_opportunities (citizen_id, opportunity_id, tenant_id, created_at)
			VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, cit.ID, id, c.tenantID, s.db.now())
		return err
	})
	if err != nil {
		return nil, wrapInternal("save opportunity", err)
	}
	return row.opportunity(), nil
}

// UnsaveOpportunity forgets a saved opportunity. See sportello.YouthService.
func (s *YouthService) UnsaveOpportunity(ctx context.Context, id string) (bool, error) {
	c, err := requireCitizen(ctx)
	if err != nil {
		return false, err
	}
	if !validID(id) {
		return false, nil
	}
	res, err := s.db.ExecContext(ctx, `DELETE FROM saved_opportunities WHERE tenant_id = $1 AND `+citizenClause+`
		AND opportunity_id = $3`, c.tenantID, c.user.Subject, id)
	if err != nil {
		return false, fmt.Errorf("unsave opportunity: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// SavedOpportunities lists a citizen's saved opportunities. See sportello.YouthService.
func (s *YouthService) SavedOpportunities(ctx context.Context) ([]*sportello.Opportunity, error) {
	c, err := requireCitizen(ctx)
	if err != nil {
		return nil, err
	}
	var rows []opportunityRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+opportunityColumns+` FROM saved_opportunities so
		JOIN opportunities o ON o.id = so.opportunity_id
		WHERE so.tenant_id = $1 AND so.`+citizenClause+` AND `+readScope(false)+`
		ORDER BY coalesce(o.deadline, '`+noDeadline+`'::date), o.id`, c.tenantID, c.user.Subject); err != nil {
		return nil, fmt.Errorf("list saved opportunities: %w", err)
	}
	out := make([]*sportello.Opportunity, len(rows))
	for i := range rows {
		out[i] = rows[i].opportunity()
	}
	return out, nil
}

// ---------------------------------------------------------------------------------------------
// Jobs

// ExpireOpportunities stores EXPIRED on every tenant's published opportunities whose deadline
// has passed, and returns how many. Reads treat them as expired already (see
// Opportunity.StatusAt); storing it keeps exports and staff filters by status exact. It is a
// background job, run without a caller; running it twice or on several instances at once is
// harmless.
func (s *YouthService) ExpireOpportunities(ctx context.Context) (int, error) {
	ctx = AllTenants(ctx)
	today := s.today()
	res, err := s.db.ExecContext(ctx, `UPDATE opportunities SET status = 'EXPIRED', updated_at = $2
		WHERE status = 'PUBLISHED' AND deadline < $1::date`, dateArg(&today), s.db.now())
	if err != nil {
		return 0, fmt.Errorf("expire opportunities: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// SendDeadlineReminders notifies every citizen of each saved opportunity whose deadline is
// within ReminderDays days (today included), once, unless they erased their account, and returns
// how many reminders it sent. It is a background job, run without a caller: the row it inserts
// per citizen, opportunity and kind before notifying is the proof that the reminder went out, so
// several instances running it at once send each reminder exactly once (the second insert waits
// for the first transaction and then does nothing), and a day the job missed is caught up the
// next time it runs.
func (s *YouthService) SendDeadlineReminders(ctx context.Context) (int, error) {
	ctx = AllTenants(ctx)
	today := s.today()
	last := today.AddDays(sportello.ReminderDays)
	var tenants []string
	if err := s.db.SelectContext(ctx, &tenants, `SELECT DISTINCT so.tenant_id FROM saved_opportunities so
		JOIN opportunities o ON o.id = so.opportunity_id
		JOIN citizens c ON c.id = so.citizen_id AND c.erased_at IS NULL
		WHERE o.status = 'PUBLISHED' AND o.deadline BETWEEN $1::date AND $2::date
		  AND NOT EXISTS (SELECT 1 FROM opportunity_reminders r WHERE r.citizen_id = so.citizen_id
		                  AND r.opportunity_id = so.opportunity_id AND r.kind = $3)`,
		dateArg(&today), dateArg(&last), sportello.NotificationOpportunityDeadline); err != nil {
		return 0, fmt.Errorf("find reminders: %w", err)
	}
	sent := 0
	for _, tenant := range tenants {
		err := s.db.inEventTx(ctx, tenant, func(tx *sqlx.Tx) error {
			var due []struct {
				CitizenID string `db:"citizen_id"`
				opportunityRow
			}
			if err := tx.SelectContext(ctx, &due, `WITH sent AS (
					INSERT INTO opportunity_reminders (citizen_id, opportunity_id, kind, sent_at)
					SELECT so.citizen_id, so.opportunity_id, $4, $5 FROM saved_opportunities so
					JOIN opportunities o ON o.id = so.opportunity_id
					JOIN citizens c ON c.id = so.citizen_id AND c.erased_at IS NULL
					WHERE so.tenant_id = $1 AND o.status = 'PUBLISHED' AND o.deadline BETWEEN $2::date AND $3::date
					ON CONFLICT DO NOTHING
					RETURNING citizen_id, opportunity_id)
				SELECT sent.citizen_id, `+opportunityColumns+`
				FROM sent JOIN opportunities o ON o.id = sent.opportunity_id`,
				tenant, dateArg(&today), dateArg(&last), sportello.NotificationOpportunityDeadline, s.db.now()); err != nil {
				return fmt.Errorf("record reminders: %w", err)
			}
			ns := make([]*sportello.Notification, len(due))
			for i, d := range due {
				o := d.opportunity()
				ns[i] = &sportello.Notification{CitizenID: d.CitizenID, Kind: sportello.NotificationOpportunityDeadline,
					Title: o.Title, Body: reminderBody(o, today), Link: opportunityLink(o.ID),
					SubjectType: sportello.SubjectOpportunity, SubjectID: o.ID}
			}
			if err := insertNotifications(ctx, tx, tenant, ns, s.db.now()); err != nil {
				return err
			}
			sent += len(due)
			return nil
		})
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

// reminderBody says how many days are left to apply.
func reminderBody(o *sportello.Opportunity, today sportello.Date) string {
	switch days := today.DaysUntil(*o.Deadline); days {
	case 0:
		return "Oggi è l'ultimo giorno per candidarti: " + o.Title
	case 1:
		return "Domani è l'ultimo giorno per candidarti: " + o.Title
	default:
		return fmt.Sprintf("Mancano %d giorni alla scadenza (%s): %s", days, o.Deadline, o.Title)
	}
}
