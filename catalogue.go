package sportello

import (
	"context"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
)

// CatalogueStatus is where an entry of the catalogue (a service, a procedure, an act) stands in
// its life: drafts are seen by staff only, published entries by everyone, and retired entries
// stay in the database, for staff, without being offered to the public any more.
type CatalogueStatus string

// The statuses of catalogue entries.
const (
	CatalogueDraft     CatalogueStatus = "DRAFT"
	CataloguePublished CatalogueStatus = "PUBLISHED"
	CatalogueRetired   CatalogueStatus = "RETIRED"
)

// CatalogueStatuses lists every catalogue status.
var CatalogueStatuses = []CatalogueStatus{CatalogueDraft, CataloguePublished, CatalogueRetired}

// Valid reports whether s is a known catalogue status.
func (s CatalogueStatus) Valid() bool { return slices.Contains(CatalogueStatuses, s) }

// EditsCatalogue reports whether the user may create, update, publish and retire catalogue
// entries, and so also read drafts.
func (u *User) EditsCatalogue() bool {
	return !u.Anonymous() && u.HasRole(RoleEditor, RoleOperator, RoleManager, RoleAdmin)
}

// Limits on catalogue text, in characters.
const (
	MaxTitleLen       = 200
	MaxSummaryLen     = 1000
	MaxDescriptionLen = 20000
	MaxShortTextLen   = 2000
	MaxURLLen         = 2000
	MaxSlugLen        = 100
	MaxTopics         = 20
	MaxTopicLen       = 50
	MaxListItems      = 50
	MaxListItemLen    = 1000
	// MaxProcedureDays bounds a procedure's term: the longest terms in Italian law are 180
	// days, and three years leaves room for special rules without accepting typos.
	MaxProcedureDays = 1095
)

// Service is a public service of the municipality, as described on its page of the portal
// (a scheda servizio): what it is, who may ask for it, what is needed, what it costs, how and
// where to apply, how long it takes and on which legal basis.
type Service struct {
	ID           string
	TenantID     string
	Slug         string
	Title        string
	Summary      string
	Description  string
	Audience     string // who the service is for ("Cittadini residenti", "Imprese")
	OfficeID     string // the office that provides it
	Eligibility  string // who can apply
	Requirements []string
	Costs        string
	HowToApply   string
	Channels     []Channel // where to apply: WEB, COUNTER, PEC ...
	OnlineURL    string    // where to apply online, if one can
	ExpectedTime string    // "Immediato", "30 giorni"
	LegalBasis   string
	Topics       []string
	Status       CatalogueStatus
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// ServiceInput is what an editor writes of a service.
type ServiceInput struct {
	Slug         string // derived from the title when empty
	Title        string
	Summary      string
	Description  string
	Audience     string
	OfficeID     string
	Eligibility  string
	Requirements []string
	Costs        string
	HowToApply   string
	Channels     []Channel
	OnlineURL    string
	ExpectedTime string
	LegalBasis   string
	Topics       []string
	Status       CatalogueStatus // DRAFT when empty
}

// Validate checks and normalizes the input; it returns BAD_USER_INPUT naming the field at fault.
func (in *ServiceInput) Validate() error {
	if err := trimCheck("title", &in.Title, 1, MaxTitleLen); err != nil {
		return err
	}
	var err error
	if in.Slug, err = NormalizeSlug("slug", in.Slug, in.Title); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		s    *string
		max  int
	}{
		{"summary", &in.Summary, MaxSummaryLen}, {"description", &in.Description, MaxDescriptionLen},
		{"audience", &in.Audience, MaxShortTextLen}, {"eligibility", &in.Eligibility, MaxShortTextLen},
		{"costs", &in.Costs, MaxShortTextLen}, {"howToApply", &in.HowToApply, MaxShortTextLen},
		{"expectedTime", &in.ExpectedTime, MaxTitleLen}, {"legalBasis", &in.LegalBasis, MaxShortTextLen},
	} {
		if err := trimCheck(f.name, f.s, 0, f.max); err != nil {
			return err
		}
	}
	if in.Summary == "" {
		return InvalidField("summary", "must not be empty")
	}
	if in.Requirements, err = normalizeList("requirements", in.Requirements); err != nil {
		return err
	}
	for _, c := range in.Channels {
		if !c.Valid() {
			return InvalidField("channels", "unknown channel %q", c)
		}
	}
	in.Channels = uniq(in.Channels)
	if in.OnlineURL, err = NormalizeURL("onlineUrl", in.OnlineURL); err != nil {
		return err
	}
	if in.Topics, err = NormalizeTopics("topics", in.Topics); err != nil {
		return err
	}
	return defaultStatus(&in.Status)
}

// Procedure is an administrative procedure (procedimento amministrativo) as the municipality
// must publish it (D.Lgs. 33/2013 art. 35): its legal basis, the office and officer responsible,
// the maximum term to conclude it, and whether the administration's silence means consent
// (silenzio assenso, L. 241/1990 art. 20).
type Procedure struct {
	ID            string
	TenantID      string
	Code          string // the municipality's code for it, if it has one
	Name          string
	Description   string
	LegalBasis    string
	OfficeID      string
	Officer       string // the officer responsible (responsabile del procedimento)
	MaxDays       int
	SilentConsent bool
	Steps         []string
	Topics        []string
	Status        CatalogueStatus
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// ProcedureInput is what an editor writes of a procedure.
type ProcedureInput struct {
	Code          string
	Name          string
	Description   string
	LegalBasis    string
	OfficeID      string
	Officer       string
	MaxDays       int
	SilentConsent bool
	Steps         []string
	Topics        []string
	Status        CatalogueStatus
}

var codePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,49}$`)

// Validate checks and normalizes the input; it returns BAD_USER_INPUT naming the field at fault.
func (in *ProcedureInput) Validate() error {
	in.Code = strings.TrimSpace(in.Code)
	if in.Code != "" && !codePattern.MatchString(in.Code) {
		return InvalidField("code", "must be up to 50 letters, digits and . _ / -")
	}
	if err := trimCheck("name", &in.Name, 1, MaxTitleLen); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		s    *string
		max  int
	}{
		{"description", &in.Description, MaxDescriptionLen}, {"legalBasis", &in.LegalBasis, MaxShortTextLen},
		{"officer", &in.Officer, MaxNameLen},
	} {
		if err := trimCheck(f.name, f.s, 0, f.max); err != nil {
			return err
		}
	}
	if in.LegalBasis == "" {
		return InvalidField("legalBasis", "must not be empty: a procedure exists by a rule")
	}
	if in.OfficeID == "" {
		return InvalidField("officeId", "must name the office responsible")
	}
	if in.MaxDays < 1 || in.MaxDays > MaxProcedureDays {
		return InvalidField("maxDays", "must be between 1 and %d", MaxProcedureDays)
	}
	var err error
	if in.Steps, err = normalizeList("steps", in.Steps); err != nil {
		return err
	}
	if in.Topics, err = NormalizeTopics("topics", in.Topics); err != nil {
		return err
	}
	return defaultStatus(&in.Status)
}

// ActType is the kind of an administrative act.
type ActType string

// The types of act.
const (
	ActCouncilResolution   ActType = "COUNCIL_RESOLUTION"   // delibera di Consiglio comunale
	ActExecutiveResolution ActType = "EXECUTIVE_RESOLUTION" // delibera di Giunta comunale
	ActExecutiveDecision   ActType = "EXECUTIVE_DECISION"   // determinazione dirigenziale
	ActOrdinance           ActType = "ORDINANCE"            // ordinanza
	ActDecree              ActType = "DECREE"               // decreto (del Sindaco)
	ActRegulation          ActType = "REGULATION"           // regolamento
	ActNotice              ActType = "NOTICE"               // avviso, bando
)

// ActTypes lists every act type.
var ActTypes = []ActType{ActCouncilResolution, ActExecutiveResolution, ActExecutiveDecision, ActOrdinance, ActDecree, ActRegulation, ActNotice}

// Valid reports whether t is a known act type.
func (t ActType) Valid() bool { return slices.Contains(ActTypes, t) }

// Act is an administrative act: a resolution, a decision, an ordinance. Its number is
// progressive per type and year. While it is on the notice board (albo pretorio, from
// PublishedFrom to PublishedUntil) it produces its legal effects of publicity; published acts
// stay readable afterwards, as the record of what was decided.
type Act struct {
	ID             string
	TenantID       string
	Type           ActType
	Number         int
	Year           int
	Date           Date // the day it was adopted
	Title          string
	Summary        string
	OfficeID       string
	PublishedFrom  *Date
	PublishedUntil *Date
	DocumentURL    string
	Status         CatalogueStatus
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// OnNoticeBoard reports whether the act is on the notice board on the day of now, in Rome.
func (a *Act) OnNoticeBoard(now time.Time) bool {
	if a.Status != CataloguePublished || a.PublishedFrom == nil {
		return false
	}
	today := DateOf(now)
	return today.Compare(*a.PublishedFrom) >= 0 && (a.PublishedUntil == nil || today.Compare(*a.PublishedUntil) <= 0)
}

// Released reports whether the public may read a published act on the day of now: acts whose
// publication starts later stay with the staff until that day.
func (a *Act) Released(now time.Time) bool {
	return a.Status == CataloguePublished && (a.PublishedFrom == nil || DateOf(now).Compare(*a.PublishedFrom) >= 0)
}

// ActInput is what an editor writes of an act.
type ActInput struct {
	Type           ActType
	Number         int
	Year           int
	Date           Date
	Title          string
	Summary        string
	OfficeID       string
	PublishedFrom  *Date
	PublishedUntil *Date
	DocumentURL    string
	Status         CatalogueStatus
}

// Validate checks and normalizes the input; it returns BAD_USER_INPUT naming the field at fault.
func (in *ActInput) Validate() error {
	if !in.Type.Valid() {
		return InvalidField("type", "unknown act type %q", in.Type)
	}
	if in.Number < 1 {
		return InvalidField("number", "must be at least 1")
	}
	if in.Date == (Date{}) {
		return InvalidField("date", "must not be empty")
	}
	if in.Year == 0 {
		in.Year = in.Date.Year
	}
	// Acts are numbered per year of adoption, so the year of the number is the year of the date.
	if in.Year != in.Date.Year {
		return InvalidField("year", "must be the year of the date (%d)", in.Date.Year)
	}
	if err := trimCheck("title", &in.Title, 1, MaxTitleLen*5); err != nil {
		return err
	}
	if err := trimCheck("summary", &in.Summary, 0, MaxDescriptionLen); err != nil {
		return err
	}
	if in.PublishedFrom != nil {
		if in.PublishedFrom.Compare(in.Date) < 0 {
			return InvalidField("publishedFrom", "must not be before the date of the act")
		}
	}
	if in.PublishedUntil != nil {
		if in.PublishedFrom == nil {
			return InvalidField("publishedUntil", "needs publishedFrom")
		}
		if in.PublishedUntil.Compare(*in.PublishedFrom) < 0 {
			return InvalidField("publishedUntil", "must not be before publishedFrom")
		}
	}
	var err error
	if in.DocumentURL, err = NormalizeURL("documentUrl", in.DocumentURL); err != nil {
		return err
	}
	return defaultStatus(&in.Status)
}

// ServiceFilter narrows a list of services. Zero fields do not filter.
type ServiceFilter struct {
	OfficeID string
	Topic    string
	Statuses []CatalogueStatus // staff only; the public sees published services
}

// ProcedureFilter narrows a list of procedures.
type ProcedureFilter struct {
	OfficeID string
	Topic    string
	Statuses []CatalogueStatus
}

// ActFilter narrows a list of acts.
type ActFilter struct {
	Types         []ActType
	Year          int
	OfficeID      string
	Statuses      []CatalogueStatus
	OnNoticeBoard *bool
}

// Validate checks the filter; it returns BAD_USER_INPUT naming the field at fault.
func (f *ActFilter) Validate() error {
	for _, t := range f.Types {
		if !t.Valid() {
			return InvalidField("filter.types", "unknown act type %q", t)
		}
	}
	if f.Year != 0 && (f.Year < 1800 || f.Year > 2200) {
		return InvalidField("filter.year", "is not a plausible year")
	}
	return ValidateStatuses(f.Statuses)
}

// ValidateStatuses checks the statuses of a catalogue filter.
func ValidateStatuses(statuses []CatalogueStatus) error {
	for _, s := range statuses {
		if !s.Valid() {
			return InvalidField("filter.statuses", "unknown status %q", s)
		}
	}
	return nil
}

// ServicePage is one page of services, by title.
type ServicePage struct {
	Services    []*Service
	Cursors     []string
	HasNextPage bool
}

// ProcedurePage is one page of procedures, by name.
type ProcedurePage struct {
	Procedures  []*Procedure
	Cursors     []string
	HasNextPage bool
}

// ActPage is one page of acts, newest first.
type ActPage struct {
	Acts        []*Act
	Cursors     []string
	HasNextPage bool
}

// CatalogueService keeps the catalogue of services, procedures and acts. Everyone reads what
// is published (acts from the first day of their publication); EDITOR, OPERATOR, MANAGER and
// ADMIN also read drafts and retired entries, and write. An entry the caller may not see is
// NOT_FOUND.
type CatalogueService interface {
	// CreateService adds a service. Errors: BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN,
	// CONFLICT (slug taken).
	CreateService(ctx context.Context, in ServiceInput) (*Service, error)
	// UpdateService replaces a service's fields. Errors: as CreateService, and NOT_FOUND.
	UpdateService(ctx context.Context, id string, in ServiceInput) (*Service, error)
	// SetServiceStatus publishes, retires or sends back to draft a service. Errors:
	// BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND.
	SetServiceStatus(ctx context.Context, id string, status CatalogueStatus) (*Service, error)
	// Service returns the service with the slug. Errors: NOT_FOUND.
	Service(ctx context.Context, slug string) (*Service, error)
	// ServicesByID returns the services among ids that the caller may see.
	ServicesByID(ctx context.Context, ids []string) (map[string]*Service, error)
	// Services lists services by title. Errors: BAD_USER_INPUT.
	Services(ctx context.Context, f ServiceFilter, page Page) (*ServicePage, error)

	// CreateProcedure adds a procedure. Errors: BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN,
	// CONFLICT (code, or name without code, taken).
	CreateProcedure(ctx context.Context, in ProcedureInput) (*Procedure, error)
	// UpdateProcedure replaces a procedure's fields. Errors: as CreateProcedure, and NOT_FOUND.
	UpdateProcedure(ctx context.Context, id string, in ProcedureInput) (*Procedure, error)
	// SetProcedureStatus changes a procedure's status. Errors: as SetServiceStatus.
	SetProcedureStatus(ctx context.Context, id string, status CatalogueStatus) (*Procedure, error)
	// ProceduresByID returns the procedures among ids that the caller may see.
	ProceduresByID(ctx context.Context, ids []string) (map[string]*Procedure, error)
	// Procedures lists procedures by name. Errors: BAD_USER_INPUT.
	Procedures(ctx context.Context, f ProcedureFilter, page Page) (*ProcedurePage, error)

	// CreateAct adds an act. Errors: BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN, CONFLICT
	// (type, number and year taken).
	CreateAct(ctx context.Context, in ActInput) (*Act, error)
	// UpdateAct replaces an act's fields. Errors: as CreateAct, and NOT_FOUND.
	UpdateAct(ctx context.Context, id string, in ActInput) (*Act, error)
	// SetActStatus changes an act's status. Errors: as SetServiceStatus.
	SetActStatus(ctx context.Context, id string, status CatalogueStatus) (*Act, error)
	// ActsByID returns the acts among ids that the caller may see.
	ActsByID(ctx context.Context, ids []string) (map[string]*Act, error)
	// Acts lists acts newest first. Errors: BAD_USER_INPUT.
	Acts(ctx context.Context, f ActFilter, page Page) (*ActPage, error)
}

// defaultStatus makes an empty status DRAFT and checks the others.
func defaultStatus(s *CatalogueStatus) error {
	if *s == "" {
		*s = CatalogueDraft
	}
	if !s.Valid() {
		return InvalidField("status", "unknown status %q", *s)
	}
	return nil
}

// trimCheck trims a text in place and bounds its length.
func trimCheck(field string, s *string, minLen, maxLen int) error {
	*s = strings.TrimSpace(*s)
	return checkLen(field, *s, minLen, maxLen)
}

// normalizeList trims the items of a list, drops the empty ones and bounds the rest.
func normalizeList(field string, items []string) ([]string, error) {
	out := make([]string, 0, len(items))
	for _, it := range items {
		it = strings.TrimSpace(it)
		if it == "" {
			continue
		}
		if err := checkLen(field, it, 0, MaxListItemLen); err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	if len(out) > MaxListItems {
		return nil, InvalidField(field, "must have at most %d items", MaxListItems)
	}
	return out, nil
}

// NormalizeTopics lowercases and trims topics, drops duplicates and bounds them. Topics are
// matched exactly by the filters, so "Anagrafe" and "anagrafe " are one topic.
func NormalizeTopics(field string, topics []string) ([]string, error) {
	out := make([]string, 0, len(topics))
	for _, t := range topics {
		t = strings.ToLower(strings.Join(strings.Fields(t), " "))
		if t == "" || slices.Contains(out, t) {
			continue
		}
		if err := checkLen(field, t, 0, MaxTopicLen); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	if len(out) > MaxTopics {
		return nil, InvalidField(field, "must have at most %d topics", MaxTopics)
	}
	return out, nil
}

// NormalizeURL checks that s is empty or an absolute http(s) address, the only links a portal
// may render without risk.
func NormalizeURL(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if err := checkLen(field, s, 0, MaxURLLen); err != nil {
		return "", err
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", InvalidField(field, "must be an http or https address")
	}
	return s, nil
}

var slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// NormalizeSlug checks a slug, or derives one from title when slug is empty. Slugs are the
// last part of a service's address on the portal, so they are lowercase ASCII words joined by
// hyphens.
func NormalizeSlug(field, slug, title string) (string, error) {
	slug = strings.TrimSpace(slug)
	if slug == "" {
		slug = Slugify(title)
	}
	if len(slug) > MaxSlugLen {
		return "", InvalidField(field, "must be at most %d characters", MaxSlugLen)
	}
	if !slugPattern.MatchString(slug) {
		return "", InvalidField(field, "must be lowercase letters and digits joined by hyphens")
	}
	return slug, nil
}

// asciiFold maps the accented letters of Italian (and the neighbouring languages the
// municipality's names come from) to their base letters.
var asciiFold = strings.NewReplacer(
	"à", "a", "á", "a", "â", "a", "ä", "a", "è", "e", "é", "e", "ê", "e", "ë", "e",
	"ì", "i", "í", "i", "î", "i", "ï", "i", "ò", "o", "ó", "o", "ô", "o", "ö", "o",
	"ù", "u", "ú", "u", "û", "u", "ü", "u", "ç", "c", "ñ", "n", "ß", "ss",
)

// Slugify derives a slug from a title: "Carta d'identità elettronica" becomes
// "carta-d-identita-elettronica". Long titles are cut at a word boundary.
func Slugify(title string) string {
	s := asciiFold.Replace(strings.ToLower(title))
	words := strings.FieldsFunc(s, func(r rune) bool { return r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r)) })
	var b strings.Builder
	for _, w := range words {
		if b.Len()+len(w)+1 > MaxSlugLen {
			break
		}
		if b.Len() > 0 {
			b.WriteByte('-')
		}
		b.WriteString(w)
	}
	return b.String()
}

func uniq[T comparable](xs []T) []T {
	out := make([]T, 0, len(xs))
	for _, x := range xs {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// UpsertOutcome is what writing an entry by its natural key did.
type UpsertOutcome string

// The outcomes of an upsert.
const (
	UpsertCreated   UpsertOutcome = "CREATED"
	UpsertUpdated   UpsertOutcome = "UPDATED"
	UpsertUnchanged UpsertOutcome = "UNCHANGED"
)

// CatalogueImporter writes catalogue entries by their natural keys, so that importing the same
// file twice changes nothing: services by slug, procedures by code (or, without one, by name),
// acts by type, number and year. Each call is its own transaction.
type CatalogueImporter interface {
	// UpsertService creates or updates the service with the input's slug. Errors:
	// BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND (office).
	UpsertService(ctx context.Context, in ServiceInput) (UpsertOutcome, error)
	// UpsertProcedure creates or updates the procedure with the input's key. Errors: as
	// UpsertService.
	UpsertProcedure(ctx context.Context, in ProcedureInput) (UpsertOutcome, error)
	// UpsertAct creates or updates the act with the input's type, number and year. Errors: as
	// UpsertService.
	UpsertAct(ctx context.Context, in ActInput) (UpsertOutcome, error)
	// ExportCatalogue returns every entry of the tenant, in every status, in list order.
	// Errors: UNAUTHENTICATED, FORBIDDEN.
	ExportCatalogue(ctx context.Context) (*Catalogue, error)
}

// Catalogue is the whole catalogue of a municipality, as exported.
type Catalogue struct {
	Services   []*Service
	Procedures []*Procedure
	Acts       []*Act
}
