package sportello

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The youth desk (Informagiovani, a Eurodesk point) keeps opportunities for young people: study
// and training, jobs, internships, calls, EU calls, volunteering, travel. Young citizens search
// them, save searches to be alerted of new ones, and save opportunities to be reminded of their
// deadlines.

// OpportunityCategory is what kind of opportunity it is.
type OpportunityCategory string

// The categories of opportunity.
const (
	CategoryStudyTraining   OpportunityCategory = "STUDY_TRAINING"
	CategoryJob             OpportunityCategory = "JOB"
	CategoryInternship      OpportunityCategory = "INTERNSHIP"
	CategoryApprenticeship  OpportunityCategory = "APPRENTICESHIP"
	CategoryCallCompetition OpportunityCategory = "CALL_COMPETITION"
	CategoryEUCall          OpportunityCategory = "EU_CALL"
	CategoryVolunteering    OpportunityCategory = "VOLUNTEERING"
	CategoryLeisureTravel   OpportunityCategory = "LEISURE_TRAVEL"
	CategoryMobility        OpportunityCategory = "MOBILITY"
)

// OpportunityCategories lists every category.
var OpportunityCategories = []OpportunityCategory{CategoryStudyTraining, CategoryJob, CategoryInternship,
	CategoryApprenticeship, CategoryCallCompetition, CategoryEUCall, CategoryVolunteering, CategoryLeisureTravel,
	CategoryMobility}

// Valid reports whether c is a known category.
func (c OpportunityCategory) Valid() bool { return slices.Contains(OpportunityCategories, c) }

// OpportunitySource is where an opportunity comes from.
type OpportunitySource string

// The sources of opportunities.
const (
	SourceLocal               OpportunitySource = "LOCAL"
	SourceEurodesk            OpportunitySource = "EURODESK"
	SourceEuropeanYouthPortal OpportunitySource = "EUROPEAN_YOUTH_PORTAL"
	SourceEURES               OpportunitySource = "EURES"
	SourceOther               OpportunitySource = "OTHER"
)

// OpportunitySources lists every source.
var OpportunitySources = []OpportunitySource{SourceLocal, SourceEurodesk, SourceEuropeanYouthPortal, SourceEURES, SourceOther}

// Valid reports whether s is a known source.
func (s OpportunitySource) Valid() bool { return slices.Contains(OpportunitySources, s) }

// OpportunityStatus is where an opportunity stands. Only PUBLISHED ones reach the public, and
// only until their deadline: a published opportunity whose deadline has passed reads as EXPIRED
// at once, and a background job later stores the change.
type OpportunityStatus string

// The statuses of opportunities.
const (
	OpportunityDraft     OpportunityStatus = "DRAFT"
	OpportunityPublished OpportunityStatus = "PUBLISHED"
	OpportunityExpired   OpportunityStatus = "EXPIRED"
	OpportunityWithdrawn OpportunityStatus = "WITHDRAWN"
)

// OpportunityStatuses lists every status.
var OpportunityStatuses = []OpportunityStatus{OpportunityDraft, OpportunityPublished, OpportunityExpired, OpportunityWithdrawn}

// Valid reports whether s is a known status.
func (s OpportunityStatus) Valid() bool { return slices.Contains(OpportunityStatuses, s) }

// ManagesOpportunities reports whether the user keeps the youth desk's opportunities, and so
// also reads drafts, withdrawn and expired ones.
func (u *User) ManagesOpportunities() bool {
	return !u.Anonymous() && u.HasRole(RoleYouthDesk, RoleAdmin)
}

// Opportunity is one offer of the youth desk.
type Opportunity struct {
	ID           string
	TenantID     string
	Category     OpportunityCategory
	Title        string
	Description  string
	Organisation string
	// Where it takes place: a municipality, region and country (ISO 3166-1 alpha-2, "IT"), and
	// coordinates for "near here"; or remote.
	Municipality string
	Region       string
	Country      string
	Remote       bool
	Location     *Location
	// The ages it is open to, both included; 0 is no bound.
	MinAge         int
	MaxAge         int
	Languages      []string // ISO 639-1 codes, "it", "en"
	EducationLevel string
	StartDate      *Date
	EndDate        *Date
	// Deadline is the last day, in Rome, to apply.
	Deadline    *Date
	HowToApply  string
	URL         string
	Costs       string // costs, or pay
	Source      OpportunitySource
	ExternalRef string // the source's own reference: the key imports match on
	Topics      []string
	OfficeID    string // the desk that offers counselling on it
	Status      OpportunityStatus
	PublishedAt *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Expired reports whether the deadline has passed on the day of now, in Rome.
func (o *Opportunity) Expired(now time.Time) bool {
	return o.Deadline != nil && o.Deadline.Compare(DateOf(now)) < 0
}

// StatusAt is the status as read at now: a published opportunity past its deadline is EXPIRED
// even before the job that expires opportunities has stored it.
func (o *Opportunity) StatusAt(now time.Time) OpportunityStatus {
	if o.Status == OpportunityPublished && o.Expired(now) {
		return OpportunityExpired
	}
	return o.Status
}

// Limits of opportunities.
const (
	MaxAge        = 120
	MaxLanguages  = 20
	MaxExternalID = 200
)

var (
	countryPattern  = regexp.MustCompile(`^[A-Z]{2}$`)
	languagePattern = regexp.MustCompile(`^[a-z]{2}$`)
)

// NormalizeCountry checks an ISO 3166-1 alpha-2 code, uppercasing it; "" is no country.
func NormalizeCountry(field, s string) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s != "" && !countryPattern.MatchString(s) {
		return "", InvalidField(field, "must be a two-letter country code (ISO 3166-1), such as IT or DE")
	}
	return s, nil
}

// NormalizeLanguage checks an ISO 639-1 code, lowercasing it; "" is no language.
func NormalizeLanguage(field, s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s != "" && !languagePattern.MatchString(s) {
		return "", InvalidField(field, "must be a two-letter language code (ISO 639-1), such as it or en")
	}
	return s, nil
}

// OpportunityInput is what the youth desk writes of an opportunity.
type OpportunityInput struct {
	Category       OpportunityCategory
	Title          string
	Description    string
	Organisation   string
	Municipality   string
	Region         string
	Country        string
	Remote         bool
	Location       *Location
	MinAge         int
	MaxAge         int
	Languages      []string
	EducationLevel string
	StartDate      *Date
	EndDate        *Date
	Deadline       *Date
	HowToApply     string
	URL            string
	Costs          string
	Source         OpportunitySource // LOCAL when empty
	ExternalRef    string
	Topics         []string
	OfficeID       string
	// Status is DRAFT when empty. Imports may write PUBLISHED or WITHDRAWN; the GraphQL
	// mutations create drafts and publish them with PublishOpportunity.
	Status OpportunityStatus
}

// Validate checks and normalizes the input; it returns BAD_USER_INPUT naming the field at fault.
func (in *OpportunityInput) Validate() error {
	if !in.Category.Valid() {
		return InvalidField("category", "unknown category %q", in.Category)
	}
	if err := trimCheck("title", &in.Title, 1, MaxTitleLen); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		s    *string
		max  int
	}{
		{"description", &in.Description, MaxDescriptionLen}, {"organisation", &in.Organisation, MaxTitleLen},
		{"municipality", &in.Municipality, MaxNameLen}, {"region", &in.Region, MaxNameLen},
		{"educationLevel", &in.EducationLevel, MaxTitleLen}, {"howToApply", &in.HowToApply, MaxShortTextLen},
		{"costs", &in.Costs, MaxShortTextLen}, {"externalRef", &in.ExternalRef, MaxExternalID},
	} {
		if err := trimCheck(f.name, f.s, 0, f.max); err != nil {
			return err
		}
	}
	var err error
	if in.Country, err = NormalizeCountry("country", in.Country); err != nil {
		return err
	}
	if in.Location != nil {
		if err := in.Location.Validate("location"); err != nil {
			return err
		}
	}
	if err := checkAges(in.MinAge, in.MaxAge); err != nil {
		return err
	}
	langs := make([]string, 0, len(in.Languages))
	for _, l := range in.Languages {
		if l, err = NormalizeLanguage("languages", l); err != nil {
			return err
		}
		if l != "" && !slices.Contains(langs, l) {
			langs = append(langs, l)
		}
	}
	if len(langs) > MaxLanguages {
		return InvalidField("languages", "must have at most %d languages", MaxLanguages)
	}
	in.Languages = langs
	if in.StartDate != nil && in.EndDate != nil && in.EndDate.Compare(*in.StartDate) < 0 {
		return InvalidField("endDate", "must not be before startDate")
	}
	if in.URL, err = NormalizeURL("url", in.URL); err != nil {
		return err
	}
	if in.Source == "" {
		in.Source = SourceLocal
	}
	if !in.Source.Valid() {
		return InvalidField("source", "unknown source %q", in.Source)
	}
	if in.Source != SourceLocal && in.ExternalRef == "" {
		return InvalidField("externalRef", "an opportunity from %s needs the source's reference", in.Source)
	}
	if in.Topics, err = NormalizeTopics("topics", in.Topics); err != nil {
		return err
	}
	if in.Status == "" {
		in.Status = OpportunityDraft
	}
	if !in.Status.Valid() {
		return InvalidField("status", "unknown status %q", in.Status)
	}
	return nil
}

func checkAges(minAge, maxAge int) error {
	switch {
	case minAge < 0 || minAge > MaxAge:
		return InvalidField("minAge", "must be between 0 and %d", MaxAge)
	case maxAge < 0 || maxAge > MaxAge:
		return InvalidField("maxAge", "must be between 0 and %d", MaxAge)
	case maxAge != 0 && maxAge < minAge:
		return InvalidField("maxAge", "must not be below minAge")
	}
	return nil
}

// OpportunitySort is the order of a list of opportunities.
type OpportunitySort string

// The orders of opportunities.
const (
	// SortRelevance ranks by the words searched (titles weigh most); without words it is
	// SortDeadline.
	SortRelevance OpportunitySort = "RELEVANCE"
	// SortDeadline lists the soonest deadline first; opportunities without one come last.
	SortDeadline OpportunitySort = "DEADLINE"
)

// OpportunityCriteria are what an opportunity is searched by, and what a saved search matches
// newly published opportunities with. Zero fields do not filter.
type OpportunityCriteria struct {
	Text       string // Italian full text: accents and inflections do not matter
	Categories []OpportunityCategory
	Country    string
	Near       *Area // opportunities with coordinates within the circle
	Remote     *bool
	Age        int // the opportunity is open to this age; 0 does not filter
	Language   string
}

// Validate checks and normalizes the criteria, naming fields under prefix.
func (c *OpportunityCriteria) Validate(prefix string) error {
	if err := trimCheck(prefix+"text", &c.Text, 0, MaxFilterTextLen); err != nil {
		return err
	}
	for _, cat := range c.Categories {
		if !cat.Valid() {
			return InvalidField(prefix+"categories", "unknown category %q", cat)
		}
	}
	c.Categories = uniq(c.Categories)
	var err error
	if c.Country, err = NormalizeCountry(prefix+"country", c.Country); err != nil {
		return err
	}
	if c.Near != nil {
		if err := c.Near.Validate(prefix + "near"); err != nil {
			return err
		}
	}
	if c.Age < 0 || c.Age > MaxAge {
		return InvalidField(prefix+"age", "must be between 0 and %d", MaxAge)
	}
	c.Language, err = NormalizeLanguage(prefix+"language", c.Language)
	return err
}

// OpportunityFilter narrows a list of opportunities.
type OpportunityFilter struct {
	OpportunityCriteria
	// The deadline falls in [DeadlineFrom, DeadlineTo], both included.
	DeadlineFrom *Date
	DeadlineTo   *Date
	// ClosingWithinDays keeps the opportunities whose deadline is today or in the next N days.
	ClosingWithinDays int
	Topic             string
	// Statuses is for the youth desk only; the public always gets the open PUBLISHED ones.
	Statuses []OpportunityStatus
	Sort     OpportunitySort // RELEVANCE when empty
}

// MaxClosingWithinDays bounds the "closing within N days" filter.
const MaxClosingWithinDays = 366

// Validate checks and normalizes the filter; it returns BAD_USER_INPUT naming the field at fault.
func (f *OpportunityFilter) Validate() error {
	if err := f.OpportunityCriteria.Validate("filter."); err != nil {
		return err
	}
	if f.DeadlineFrom != nil && f.DeadlineTo != nil && f.DeadlineTo.Compare(*f.DeadlineFrom) < 0 {
		return InvalidField("filter.deadlineTo", "must not be before deadlineFrom")
	}
	if f.ClosingWithinDays < 0 || f.ClosingWithinDays > MaxClosingWithinDays {
		return InvalidField("filter.closingWithinDays", "must be between 0 and %d", MaxClosingWithinDays)
	}
	f.Topic = strings.ToLower(strings.TrimSpace(f.Topic))
	for _, s := range f.Statuses {
		if !s.Valid() {
			return InvalidField("filter.statuses", "unknown status %q", s)
		}
	}
	switch f.Sort {
	case "":
		f.Sort = SortRelevance
	case SortRelevance, SortDeadline:
	default:
		return InvalidField("filter.sort", "unknown order %q", f.Sort)
	}
	if f.Text == "" {
		f.Sort = SortDeadline
	}
	return nil
}

// OpportunityPage is one page of opportunities in the filter's order.
type OpportunityPage struct {
	Opportunities []*Opportunity
	Cursors       []string
	HasNextPage   bool
}

// SavedSearch is a citizen's search, kept to be alerted when an opportunity that matches it is
// published.
type SavedSearch struct {
	ID        string
	CitizenID string
	Name      string
	Criteria  OpportunityCriteria
	Alerts    bool // notify the citizen of new matching opportunities
	CreatedAt time.Time
}

// SavedSearchInput is what a citizen saves.
type SavedSearchInput struct {
	Name     string
	Criteria OpportunityCriteria
	Alerts   bool
}

// MaxSavedSearches bounds the saved searches of one citizen.
const MaxSavedSearches = 20

// Validate checks and normalizes the input; it returns BAD_USER_INPUT naming the field at fault.
func (in *SavedSearchInput) Validate() error {
	if err := trimCheck("name", &in.Name, 1, MaxTitleLen); err != nil {
		return err
	}
	return in.Criteria.Validate("")
}

// Notification kinds and subject type of the youth desk.
const (
	NotificationOpportunityAlert    = "OPPORTUNITY_ALERT"
	NotificationOpportunityDeadline = "OPPORTUNITY_DEADLINE"
	SubjectOpportunity              = "OPPORTUNITY"
)

// ReminderDays is how many days before a saved opportunity's deadline its reminder is sent.
const ReminderDays = 3

// YouthService keeps the youth desk's opportunities and the citizens' saved searches and saved
// opportunities. Everyone reads the open published opportunities; YOUTH_DESK and ADMIN also read
// the others, and write. An opportunity the caller may not see is NOT_FOUND.
type YouthService interface {
	// CreateOpportunity adds an opportunity. Errors: BAD_USER_INPUT, UNAUTHENTICATED,
	// FORBIDDEN, NOT_FOUND (office), CONFLICT (source and external reference taken).
	CreateOpportunity(ctx context.Context, in OpportunityInput) (*Opportunity, error)
	// UpdateOpportunity replaces an opportunity's fields but its status. Errors: as
	// CreateOpportunity, and NOT_FOUND.
	UpdateOpportunity(ctx context.Context, id string, in OpportunityInput) (*Opportunity, error)
	// PublishOpportunity publishes an opportunity and, in the same transaction, alerts the
	// citizens whose saved searches match it (each citizen once per opportunity). Errors:
	// UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, INVALID_TRANSITION (deadline passed).
	PublishOpportunity(ctx context.Context, id string) (*Opportunity, error)
	// WithdrawOpportunity takes an opportunity back from the public. Errors: UNAUTHENTICATED,
	// FORBIDDEN, NOT_FOUND.
	WithdrawOpportunity(ctx context.Context, id string) (*Opportunity, error)
	// Opportunity returns one opportunity. Errors: NOT_FOUND.
	Opportunity(ctx context.Context, id string) (*Opportunity, error)
	// OpportunitiesByID returns the opportunities among ids that the caller may see.
	OpportunitiesByID(ctx context.Context, ids []string) (map[string]*Opportunity, error)
	// Opportunities searches and lists opportunities. Errors: BAD_USER_INPUT.
	Opportunities(ctx context.Context, f OpportunityFilter, page Page) (*OpportunityPage, error)

	// SaveSearch keeps a search of the signed-in citizen. Errors: BAD_USER_INPUT,
	// UNAUTHENTICATED, FORBIDDEN, CONFLICT (too many saved searches).
	SaveSearch(ctx context.Context, in SavedSearchInput) (*SavedSearch, error)
	// SavedSearches lists the citizen's saved searches, oldest first. Errors: UNAUTHENTICATED,
	// FORBIDDEN.
	SavedSearches(ctx context.Context) ([]*SavedSearch, error)
	// DeleteSavedSearch forgets one of the citizen's saved searches. Errors: UNAUTHENTICATED,
	// FORBIDDEN, NOT_FOUND.
	DeleteSavedSearch(ctx context.Context, id string) error
	// SaveOpportunity keeps an opportunity the citizen may see, to be reminded of its
	// deadline; saving it twice is saving it once. Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND.
	SaveOpportunity(ctx context.Context, id string) (*Opportunity, error)
	// UnsaveOpportunity forgets a saved opportunity; it reports whether it was saved. Errors:
	// UNAUTHENTICATED, FORBIDDEN.
	UnsaveOpportunity(ctx context.Context, id string) (bool, error)
	// SavedOpportunities lists the citizen's saved opportunities that they may still see,
	// soonest deadline first. Errors: UNAUTHENTICATED, FORBIDDEN.
	SavedOpportunities(ctx context.Context) ([]*Opportunity, error)
}

// OpportunityImporter writes opportunities from feeds, by their source and external reference,
// so that importing the same feed twice changes nothing. Each call is its own transaction.
type OpportunityImporter interface {
	// UpsertOpportunity creates or updates the opportunity with the input's source and external
	// reference (which it requires); one that becomes PUBLISHED alerts the saved searches that
	// match it, as PublishOpportunity does. Errors: BAD_USER_INPUT, UNAUTHENTICATED,
	// FORBIDDEN, NOT_FOUND (office).
	UpsertOpportunity(ctx context.Context, in OpportunityInput) (UpsertOutcome, error)
	// WithdrawMissing withdraws the published and draft opportunities of the source whose
	// external reference is not in keep: what a full feed no longer lists. It returns how many.
	// Errors: BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN.
	WithdrawMissing(ctx context.Context, source OpportunitySource, keep []string) (int, error)
	// ExportOpportunities returns every opportunity of the tenant, in every status, by title.
	// Errors: UNAUTHENTICATED, FORBIDDEN.
	ExportOpportunities(ctx context.Context) ([]*Opportunity, error)
}
