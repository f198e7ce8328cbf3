package sportello

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"
)

// Priority is how urgently a ticket must be handled. Lists sorted by priority show URGENT first.
type Priority string

// The priorities, from the least urgent.
const (
	PriorityLow    Priority = "LOW"
	PriorityNormal Priority = "NORMAL"
	PriorityHigh   Priority = "HIGH"
	PriorityUrgent Priority = "URGENT"
)

// Priorities lists every priority, from the least urgent.
var Priorities = []Priority{PriorityLow, PriorityNormal, PriorityHigh, PriorityUrgent}

// Valid reports whether p is a known priority.
func (p Priority) Valid() bool { return slices.Contains(Priorities, p) }

// Rank is the priority's place in Priorities (0 for LOW): the stored value, so that sorting by it
// in SQL sorts by urgency. An unknown priority ranks as NORMAL.
func (p Priority) Rank() int {
	if i := slices.Index(Priorities, p); i >= 0 {
		return i
	}
	return 1
}

// PriorityOfRank is the inverse of Rank.
func PriorityOfRank(r int) Priority {
	if r < 0 || r >= len(Priorities) {
		return PriorityNormal
	}
	return Priorities[r]
}

// Raised is the next priority up, URGENT staying URGENT.
func (p Priority) Raised() Priority { return PriorityOfRank(min(p.Rank()+1, len(Priorities)-1)) }

// TicketOrder is how a list of tickets is sorted.
type TicketOrder string

// The orders of ticket lists.
const (
	// OrderNewest: newest first (the default).
	OrderNewest TicketOrder = "NEWEST"
	// OrderPriority: most urgent first, then newest first.
	OrderPriority TicketOrder = "PRIORITY"
)

// The events of triage.
const (
	// EventRouted: a routing rule sent a new ticket to an office (Data: RuleID, Reason).
	EventRouted EventType = "ROUTED"
	// EventPriorityChanged: an operator, a rule or an escalation changed the priority.
	EventPriorityChanged EventType = "PRIORITY_CHANGED"
	// EventEscalated: the ticket reached a threshold of its clocks (Data: Threshold).
	EventEscalated EventType = "ESCALATED"
	// EventMerged: on a duplicate, it was merged into a master; on the master, a duplicate
	// was merged into it (Data: RelatedTicketID).
	EventMerged EventType = "MERGED"
)

// Point is a place on Earth, in WGS 84 degrees: a vertex of a routing area, or the coordinates
// of a ticket's Location as routing and duplicate search read them.
type Point struct {
	Latitude  float64
	Longitude float64
}

// Validate checks the coordinates, naming them under prefix.
func (p Point) Validate(prefix string) error {
	if math.IsNaN(p.Latitude) || p.Latitude < -90 || p.Latitude > 90 {
		return InvalidField(prefix+".latitude", "must be between -90 and 90")
	}
	if math.IsNaN(p.Longitude) || p.Longitude < -180 || p.Longitude > 180 {
		return InvalidField(prefix+".longitude", "must be between -180 and 180")
	}
	return nil
}

// MaxPolygonPoints bounds the polygon of a routing rule.
const MaxPolygonPoints = 200

// RoutingArea is where a routing rule applies: a circle (Center and RadiusMeters) or a polygon.
type RoutingArea struct {
	Center       *Point
	RadiusMeters float64
	Polygon      []Point
}

// Validate checks that the area is exactly one of a circle and a polygon.
func (a *RoutingArea) Validate(prefix string) error {
	switch {
	case a.Center != nil && len(a.Polygon) > 0:
		return InvalidField(prefix, "give a circle (center and radiusMeters) or a polygon, not both")
	case a.Center != nil:
		if err := a.Center.Validate(prefix + ".center"); err != nil {
			return err
		}
		circle := Area{Latitude: a.Center.Latitude, Longitude: a.Center.Longitude, RadiusMeters: a.RadiusMeters}
		if err := circle.Validate(prefix); err != nil {
			return err
		}
	case len(a.Polygon) > 0:
		if len(a.Polygon) < 3 || len(a.Polygon) > MaxPolygonPoints {
			return InvalidField(prefix+".polygon", "must have between 3 and %d points", MaxPolygonPoints)
		}
		for i, p := range a.Polygon {
			if err := p.Validate(fmt.Sprintf("%s.polygon[%d]", prefix, i)); err != nil {
				return err
			}
		}
	default:
		return InvalidField(prefix, "give a circle (center and radiusMeters) or a polygon")
	}
	return nil
}

// Contains reports whether p lies in the area. A point on a polygon's edge may fall either way.
func (a *RoutingArea) Contains(p Point) bool {
	if a.Center != nil {
		return DistanceMeters(a.Center.Latitude, a.Center.Longitude, p.Latitude, p.Longitude) <= a.RadiusMeters
	}
	return InPolygon(a.Polygon, p)
}

// InPolygon reports whether p lies inside the polygon (ray casting: a ray east of p crosses the
// edges an odd number of times). Coordinates are treated as plane coordinates, which is exact
// enough at the scale of a municipality and away from the antimeridian.
func InPolygon(poly []Point, p Point) bool {
	inside := false
	for i, j := 0, len(poly)-1; i < len(poly); j, i = i, i+1 {
		a, b := poly[i], poly[j]
		if (a.Latitude > p.Latitude) != (b.Latitude > p.Latitude) {
			x := a.Longitude + (p.Latitude-a.Latitude)*(b.Longitude-a.Longitude)/(b.Latitude-a.Latitude)
			if p.Longitude < x {
				inside = !inside
			}
		}
	}
	return inside
}

// AssignStrategy is how a routing rule picks an operator of its office.
type AssignStrategy string

// The assignment strategies.
const (
	// AssignNone leaves the ticket to the office, or gives it to the rule's fixed operator.
	AssignNone AssignStrategy = "NONE"
	// AssignRoundRobin gives tickets to the office's operators in turn.
	AssignRoundRobin AssignStrategy = "ROUND_ROBIN"
	// AssignLeastOpen gives the ticket to the operator with the fewest open tickets.
	AssignLeastOpen AssignStrategy = "LEAST_OPEN"
)

// Valid reports whether s is a known strategy.
func (s AssignStrategy) Valid() bool {
	return s == AssignNone || s == AssignRoundRobin || s == AssignLeastOpen
}

// RoutingRule sends new tickets that meet its conditions to an office and, optionally, an
// operator, and may set their priority. Rules are tried by Position; the default rule, if any,
// applies when none other matches. Empty conditions do not restrict.
type RoutingRule struct {
	ID       string
	Name     string
	Position int
	Enabled  bool
	Default  bool

	Kinds    []Kind
	Channels []Channel
	// Keywords match the words of subject and body, lowercased and without accents; a keyword
	// ending in * matches words starting with it ("lampion*"), and a keyword of several words
	// matches them in a row. Any keyword matches.
	Keywords []string
	// Area matches tickets whose location lies in it; tickets without a location never match.
	Area *RoutingArea

	OfficeID   string
	AssigneeID string // a fixed operator; excludes Strategy
	Strategy   AssignStrategy
	// MaxOpenPerOperator skips operators with that many open tickets; 0 means no cap.
	MaxOpenPerOperator int
	// Priority is set on matching tickets; empty leaves it NORMAL.
	Priority Priority

	CreatedAt time.Time
	UpdatedAt time.Time
}

// Limits of routing rules.
const (
	MaxRuleNameLen   = 200
	MaxKeywords      = 50
	MaxKeywordLen    = 100
	MaxRoutingRules  = 200
	MaxOpenPerPerson = 10_000
)

// RoutingRuleInput creates or replaces a routing rule.
type RoutingRuleInput struct {
	Name               string
	Position           int
	Enabled            bool
	Default            bool
	Kinds              []Kind
	Channels           []Channel
	Keywords           []string
	Area               *RoutingArea
	OfficeID           string
	AssigneeID         string
	Strategy           AssignStrategy
	MaxOpenPerOperator int
	Priority           Priority
}

// Validate checks and normalizes the rule; it returns BAD_USER_INPUT naming the field at fault.
func (in *RoutingRuleInput) Validate() error {
	in.Name = strings.TrimSpace(in.Name)
	if err := checkLen("name", in.Name, 1, MaxRuleNameLen); err != nil {
		return err
	}
	if in.Position < 0 {
		return InvalidField("position", "must not be negative")
	}
	for _, k := range in.Kinds {
		if !k.Valid() {
			return InvalidField("kinds", "unknown kind %q", k)
		}
	}
	for _, c := range in.Channels {
		if !c.Valid() {
			return InvalidField("channels", "unknown channel %q", c)
		}
	}
	if len(in.Keywords) > MaxKeywords {
		return InvalidField("keywords", "at most %d keywords", MaxKeywords)
	}
	keywords := make([]string, 0, len(in.Keywords))
	for _, k := range in.Keywords {
		norm := strings.Join(NormalizeWords(strings.TrimSuffix(k, "*")), " ")
		if norm == "" {
			return InvalidField("keywords", "keyword %q has no letters or digits", k)
		}
		if err := checkLen("keywords", norm, 1, MaxKeywordLen); err != nil {
			return err
		}
		if strings.HasSuffix(strings.TrimSpace(k), "*") {
			norm += "*"
		}
		keywords = append(keywords, norm)
	}
	in.Keywords = keywords
	if in.Area != nil {
		if err := in.Area.Validate("area"); err != nil {
			return err
		}
	}
	if in.Default && (len(in.Kinds) > 0 || len(in.Channels) > 0 || len(in.Keywords) > 0 || in.Area != nil) {
		return InvalidField("default", "the default rule applies when no other matches: it takes no conditions")
	}
	if in.OfficeID == "" {
		return InvalidField("officeId", "a rule sends tickets to an office")
	}
	if in.Strategy == "" {
		in.Strategy = AssignNone
	}
	if !in.Strategy.Valid() {
		return InvalidField("strategy", "unknown strategy %q", in.Strategy)
	}
	if in.AssigneeID != "" && in.Strategy != AssignNone {
		return InvalidField("assigneeId", "give a fixed operator or a strategy, not both")
	}
	if in.MaxOpenPerOperator < 0 || in.MaxOpenPerOperator > MaxOpenPerPerson {
		return InvalidField("maxOpenPerOperator", "must be between 0 (no cap) and %d", MaxOpenPerPerson)
	}
	if in.Priority != "" && !in.Priority.Valid() {
		return InvalidField("priority", "unknown priority %q", in.Priority)
	}
	return nil
}

// RoutingSample is what routing reads of a new ticket.
type RoutingSample struct {
	Kind     Kind
	Channel  Channel
	Subject  string
	Body     string
	Location *Point
}

// Validate checks a sample for a dry run.
func (s *RoutingSample) Validate() error {
	if !s.Kind.Valid() {
		return InvalidField("kind", "unknown kind %q", s.Kind)
	}
	if !s.Channel.Valid() {
		return InvalidField("channel", "unknown channel %q", s.Channel)
	}
	if err := checkLen("subject", s.Subject, 0, MaxSubjectLen); err != nil {
		return err
	}
	if err := checkLen("body", s.Body, 0, MaxBodyLen); err != nil {
		return err
	}
	if s.Location != nil {
		return s.Location.Validate("location")
	}
	return nil
}

// RoutingDecision is the rule a ticket hit and why, with the operator chosen, if any.
type RoutingDecision struct {
	Rule       *RoutingRule
	Reason     string
	AssigneeID string
}

// Route returns the first enabled rule, by position, that the sample meets, else the enabled
// default rule, else nil. The reason says which conditions matched, for the ticket's history.
func Route(rules []*RoutingRule, s RoutingSample) *RoutingDecision {
	ordered := slices.Clone(rules)
	slices.SortStableFunc(ordered, func(a, b *RoutingRule) int { return a.Position - b.Position })
	words := NormalizeWords(s.Subject + " " + s.Body)
	var fallback *RoutingRule
	for _, r := range ordered {
		if !r.Enabled {
			continue
		}
		if r.Default {
			if fallback == nil {
				fallback = r
			}
			continue
		}
		if reason, ok := r.match(s, words); ok {
			return &RoutingDecision{Rule: r, Reason: fmt.Sprintf("rule %q: %s", r.Name, reason)}
		}
	}
	if fallback != nil {
		return &RoutingDecision{Rule: fallback, Reason: fmt.Sprintf("default rule %q: no other rule matched", fallback.Name)}
	}
	return nil
}

// match reports whether the sample meets every condition of the rule, and how.
func (r *RoutingRule) match(s RoutingSample, words []string) (string, bool) {
	var why []string
	if len(r.Kinds) > 0 {
		if !slices.Contains(r.Kinds, s.Kind) {
			return "", false
		}
		why = append(why, "kind "+string(s.Kind))
	}
	if len(r.Channels) > 0 {
		if !slices.Contains(r.Channels, s.Channel) {
			return "", false
		}
		why = append(why, "channel "+string(s.Channel))
	}
	if len(r.Keywords) > 0 {
		k, ok := matchKeywords(r.Keywords, words)
		if !ok {
			return "", false
		}
		why = append(why, fmt.Sprintf("keyword %q", k))
	}
	if r.Area != nil {
		if s.Location == nil || !r.Area.Contains(*s.Location) {
			return "", false
		}
		why = append(why, "location in the area")
	}
	if len(why) == 0 {
		return "no conditions", true
	}
	return strings.Join(why, ", "), true
}

// matchKeywords returns the first keyword found among the words.
func matchKeywords(keywords, words []string) (string, bool) {
	for _, k := range keywords {
		prefix := strings.HasSuffix(k, "*")
		parts := strings.Fields(strings.TrimSuffix(k, "*"))
		for i := 0; i+len(parts) <= len(words); i++ {
			ok := true
			for j, p := range parts {
				w := words[i+j]
				last := j == len(parts)-1
				if w != p && !(last && prefix && strings.HasPrefix(w, p)) {
					ok = false
					break
				}
			}
			if ok {
				return k, true
			}
		}
	}
	return "", false
}

// NormalizeWords splits text into lowercase words without accents ("Città" is "citta"), so that
// keywords match however the citizen typed them.
func NormalizeWords(text string) []string {
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(foldAccent(r))
		default:
			b.WriteByte(' ')
		}
	}
	return strings.Fields(b.String())
}

// foldAccent maps the accented letters of Italian (and its neighbours) to their base letter.
func foldAccent(r rune) rune {
	switch r {
	case 'à', 'á', 'â', 'ä', 'ã', 'å':
		return 'a'
	case 'è', 'é', 'ê', 'ë':
		return 'e'
	case 'ì', 'í', 'î', 'ï':
		return 'i'
	case 'ò', 'ó', 'ô', 'ö', 'õ':
		return 'o'
	case 'ù', 'ú', 'û', 'ü':
		return 'u'
	case 'ç':
		return 'c'
	case 'ñ':
		return 'n'
	}
	return r
}

// OperatorLoad is an operator of an office as assignment sees them.
type OperatorLoad struct {
	ID     string
	Absent bool
	Open   int // open tickets assigned to them
}

// PickAssignee chooses the operator for a new ticket among the office's operators, in their
// stable order (by id): never an absent one, nor one with maxOpen open tickets (0: no cap).
// ROUND_ROBIN takes the first eligible operator after last (the previous pick of the rule),
// wrapping around; LEAST_OPEN the eligible operator with the fewest open tickets, the earliest
// in order on a tie. It reports false when nobody is eligible.
func PickAssignee(ops []OperatorLoad, strategy AssignStrategy, last string, maxOpen int) (string, bool) {
	ordered := slices.Clone(ops)
	slices.SortFunc(ordered, func(a, b OperatorLoad) int { return strings.Compare(a.ID, b.ID) })
	eligible := ordered[:0:0]
	for _, o := range ordered {
		if !o.Absent && (maxOpen == 0 || o.Open < maxOpen) {
			eligible = append(eligible, o)
		}
	}
	if len(eligible) == 0 {
		return "", false
	}
	switch strategy {
	case AssignRoundRobin:
		for _, o := range eligible {
			if o.ID > last {
				return o.ID, true
			}
		}
		return eligible[0].ID, true
	case AssignLeastOpen:
		best := eligible[0]
		for _, o := range eligible[1:] {
			if o.Open < best.Open {
				best = o
			}
		}
		return best.ID, true
	}
	return "", false
}

// Threshold is a point of a ticket's clocks at which it is escalated.
type Threshold string

// The escalation thresholds.
const (
	// ThresholdSLAWarning: the share of the first-response target in office hours is used and
	// staff have not replied yet. The assignee and the office are told.
	ThresholdSLAWarning Threshold = "SLA_WARNING"
	// ThresholdTermWarning: the share of the legal term is used. The assignee and the office
	// are told.
	ThresholdTermWarning Threshold = "TERM_WARNING"
	// ThresholdOverdue: the legal term passed. Managers are told and the priority is raised.
	ThresholdOverdue Threshold = "OVERDUE"
)

// DefaultEscalationShare is the share of a clock after which a ticket is escalated.
const DefaultEscalationShare = 0.8

// ReachedThresholds returns the thresholds ticket t has reached at now, for an open ticket:
// share of its first-response target (targetHours of office time on schedule s, which may be nil
// when the ticket has no clock) without a reply, share of its legal term (from filing to DueAt,
// in calendar time), and the term itself.
func ReachedThresholds(t *Ticket, s *Schedule, targetHours int, share float64, now time.Time) []Threshold {
	if !t.Status.Open() {
		return nil
	}
	var out []Threshold
	if s != nil && t.FirstRespondedAt == nil && targetHours > 0 {
		used := s.Between(t.CreatedAt, now)
		if float64(used) >= share*float64(time.Duration(targetHours)*time.Hour) {
			out = append(out, ThresholdSLAWarning)
		}
	}
	term := t.DueAt.Sub(t.CreatedAt)
	if term > 0 && float64(now.Sub(t.CreatedAt)) >= share*float64(term) {
		out = append(out, ThresholdTermWarning)
	}
	if now.After(t.DueAt) {
		out = append(out, ThresholdOverdue)
	}
	return out
}

// MergeSteps returns the moves of the workflow that take a duplicate from its status to CLOSED,
// each one a move staff may take. Errors: INVALID_TRANSITION for a ticket that is already
// closed.
func MergeSteps(from Status) ([]Status, error) {
	switch from {
	case StatusSubmitted, StatusWaitingForCitizen:
		return []Status{StatusInProgress, StatusResolved, StatusClosed}, nil
	case StatusInProgress:
		return []Status{StatusResolved, StatusClosed}, nil
	case StatusResolved, StatusRejected:
		return []Status{StatusClosed}, nil
	}
	return nil, Errorf(CodeInvalidTransition, "a %s ticket cannot be merged", from)
}

// Follower-related limits.
const (
	// DefaultDuplicateRadiusMeters is how near another report must be to be suggested as the
	// same one, when the caller does not say.
	DefaultDuplicateRadiusMeters = 100
	MaxDuplicateRadiusMeters     = 2000
	MaxDuplicateCandidates       = 10
	MaxMergeDuplicates           = 50
)

// DuplicateQuery is what a citizen is about to file, to find the open tickets it may repeat.
type DuplicateQuery struct {
	Kind         Kind
	Subject      string
	Body         string
	Location     *Point
	RadiusMeters float64
}

// Validate checks the query and applies the default radius. Only reports and suggestions are
// searched: they concern public places and things, so other citizens may see that they exist.
func (q *DuplicateQuery) Validate() error {
	if !q.Kind.Valid() {
		return InvalidField("kind", "unknown kind %q", q.Kind)
	}
	if !q.Kind.AnonymousAllowed() {
		return InvalidField("kind", "only reports and suggestions are matched against other citizens' tickets")
	}
	q.Subject = strings.TrimSpace(q.Subject)
	if err := checkLen("subject", q.Subject, 0, MaxSubjectLen); err != nil {
		return err
	}
	if err := checkLen("body", q.Body, 0, MaxBodyLen); err != nil {
		return err
	}
	if q.Location != nil {
		if err := q.Location.Validate("location"); err != nil {
			return err
		}
	}
	if q.Subject == "" && q.Location == nil {
		return InvalidField("subject", "give a subject or a location to compare with")
	}
	if q.RadiusMeters == 0 {
		q.RadiusMeters = DefaultDuplicateRadiusMeters
	}
	if q.RadiusMeters < 0 || q.RadiusMeters > MaxDuplicateRadiusMeters {
		return InvalidField("radiusMeters", "must be between 1 and %d", MaxDuplicateRadiusMeters)
	}
	return nil
}

// DuplicateCandidate is an open ticket that may be the one a citizen is about to file, with what
// anyone may see of it.
type DuplicateCandidate struct {
	TicketID       string
	Protocol       ProtocolNumber
	Subject        string
	Status         Status
	CreatedAt      time.Time
	Followers      int
	DistanceMeters *float64 // nil when either has no location
	Similarity     float64  // of the subjects, 0 to 1 (trigrams)
}

// RankDuplicates orders candidates for the citizen: those within radius meters first, nearest
// first, then by similarity of subjects, most similar first.
func RankDuplicates(cs []*DuplicateCandidate, radius float64) {
	near := func(c *DuplicateCandidate) bool { return c.DistanceMeters != nil && *c.DistanceMeters <= radius }
	slices.SortStableFunc(cs, func(a, b *DuplicateCandidate) int {
		switch na, nb := near(a), near(b); {
		case na && nb:
			return cmp.Compare(*a.DistanceMeters, *b.DistanceMeters)
		case na != nb:
			if na {
				return -1
			}
			return 1
		}
		return cmp.Compare(b.Similarity, a.Similarity)
	})
}

// ReplyTemplate is a reply staff start from, for a kind of ticket and an office (either may be
// empty: any), in one language, with placeholders such as {{nome}}.
type ReplyTemplate struct {
	ID        string
	Name      string
	Kind      Kind
	OfficeID  string
	Language  string
	Body      string
	CreatedAt time.Time
}

// ReplyTemplateInput creates a reply template.
type ReplyTemplateInput struct {
	Name     string
	Kind     Kind
	OfficeID string
	Language string
	Body     string
}

// The placeholders of reply templates, in Italian and English. Each pair is the same value.
var placeholders = map[string]string{
	"nome": "name", "protocollo": "protocol", "scadenza": "dueDate", "ufficio": "office", "orari": "hours",
	"name": "name", "protocol": "protocol", "dueDate": "dueDate", "office": "office", "hours": "hours",
}

// Validate checks the template; an unknown placeholder is BAD_USER_INPUT on body, so that a typo
// is caught when the template is saved rather than sent to a citizen.
func (in *ReplyTemplateInput) Validate() error {
	in.Name = strings.TrimSpace(in.Name)
	if err := checkLen("name", in.Name, 1, MaxRuleNameLen); err != nil {
		return err
	}
	if in.Kind != "" && !in.Kind.Valid() {
		return InvalidField("kind", "unknown kind %q", in.Kind)
	}
	if in.Language == "" {
		in.Language = LanguageItalian
	}
	if in.Language != LanguageItalian && in.Language != LanguageEnglish {
		return InvalidField("language", "must be it or en")
	}
	in.Body = strings.TrimSpace(in.Body)
	if err := checkLen("body", in.Body, 1, MaxBodyLen); err != nil {
		return err
	}
	_, err := renderTemplate(in.Body, TemplateValues{})
	return err
}

// TemplateValues are what the placeholders of a template stand for, already formatted.
type TemplateValues struct {
	Name     string
	Protocol string
	DueDate  string
	Office   string
	Hours    string
}

// Render fills the template's placeholders. Values are inserted as plain text and never read as
// placeholders themselves.
func (t *ReplyTemplate) Render(v TemplateValues) (string, error) { return renderTemplate(t.Body, v) }

func renderTemplate(body string, v TemplateValues) (string, error) {
	var b strings.Builder
	rest := body
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			b.WriteString(rest)
			return b.String(), nil
		}
		b.WriteString(rest[:i])
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			return "", InvalidField("body", "a placeholder opened with {{ is not closed with }}")
		}
		name := strings.TrimSpace(rest[i+2 : i+j])
		key, ok := placeholders[name]
		if !ok {
			return "", InvalidField("body", "unknown placeholder {{%s}}: use nome, protocollo, scadenza, ufficio, orari (or name, protocol, dueDate, office, hours)", name)
		}
		b.WriteString(map[string]string{"name": v.Name, "protocol": v.Protocol, "dueDate": v.DueDate,
			"office": v.Office, "hours": v.Hours}[key])
		rest = rest[i+j+2:]
	}
}

// FormatHours writes an office's weekly slots for a reply, in the template's language.
func FormatHours(slots []OpeningSlot, language string) string {
	names := [7]string{"domenica", "lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato"}
	if language == LanguageEnglish {
		names = [7]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	}
	var parts []string
	for i, s := range slots {
		if i > 0 && slots[i-1].Weekday == s.Weekday {
			parts[len(parts)-1] += fmt.Sprintf(", %s-%s", s.Opens, s.Closes)
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s-%s", names[s.Weekday], s.Opens, s.Closes))
	}
	return strings.Join(parts, "; ")
}

// FormatDueDate writes a deadline as the day it falls on in Rome, dd/mm/yyyy.
func FormatDueDate(t time.Time) string { return t.In(Rome).Format("02/01/2006") }

// TriageService routes, prioritizes, escalates, deduplicates tickets and keeps reply templates.
type TriageService interface {
	// RoutingRules lists the tenant's rules by position. Errors: UNAUTHENTICATED, FORBIDDEN
	// (staff only).
	RoutingRules(ctx context.Context) ([]*RoutingRule, error)
	// CreateRoutingRule adds a rule. Errors: BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN
	// (managers and admins), NOT_FOUND (office, assignee), CONFLICT (a second default rule).
	CreateRoutingRule(ctx context.Context, in RoutingRuleInput) (*RoutingRule, error)
	// UpdateRoutingRule replaces a rule. Errors: as CreateRoutingRule, and NOT_FOUND (rule).
	UpdateRoutingRule(ctx context.Context, id string, in RoutingRuleInput) (*RoutingRule, error)
	// TestRoutingRule returns the decision the rules would take for a sample ticket now,
	// changing nothing; nil when no rule matches. Errors: BAD_USER_INPUT, UNAUTHENTICATED,
	// FORBIDDEN (staff only).
	TestRoutingRule(ctx context.Context, s RoutingSample) (*RoutingDecision, error)
	// SetStaffAvailability marks an operator absent (skipped by automatic assignment) or back.
	// Errors: UNAUTHENTICATED, FORBIDDEN (managers and admins), NOT_FOUND.
	SetStaffAvailability(ctx context.Context, staffID string, absent bool) (*Staff, error)
	// SetTicketPriority sets a ticket's priority, recording it in the history. Errors:
	// BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN (staff only), NOT_FOUND.
	SetTicketPriority(ctx context.Context, ticketID string, p Priority) (*Ticket, error)
	// DuplicateCandidates returns open tickets that may be the one described, nearest and most
	// similar first. Anyone may ask. Errors: BAD_USER_INPUT.
	DuplicateCandidates(ctx context.Context, q DuplicateQuery) ([]*DuplicateCandidate, error)
	// FollowTicket makes the signed-in citizen a follower of a report or suggestion: they get its
	// public updates and may read it. Following twice is following. Errors: UNAUTHENTICATED,
	// FORBIDDEN (citizens only), NOT_FOUND (also for kinds that cannot be followed), CONFLICT
	// (their own ticket).
	FollowTicket(ctx context.Context, ticketID string) (*Ticket, error)
	// UnfollowTicket stops following. Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND.
	UnfollowTicket(ctx context.Context, ticketID string) (*Ticket, error)
	// FollowerCounts returns how many citizens follow each ticket among ids.
	FollowerCounts(ctx context.Context, ticketIDs []string) (map[string]int, error)
	// MergeTickets closes the duplicates with a reference to the master; their authors become
	// followers of the master. Protocol numbers do not change. Errors: BAD_USER_INPUT,
	// UNAUTHENTICATED, FORBIDDEN (staff only), NOT_FOUND, INVALID_TRANSITION (a closed
	// duplicate, a closed or rejected master).
	MergeTickets(ctx context.Context, masterID string, duplicateIDs []string) (*Ticket, error)
	// ReplyTemplates lists the templates that apply to a kind and an office (empty: all).
	// Errors: UNAUTHENTICATED, FORBIDDEN (staff only).
	ReplyTemplates(ctx context.Context, kind Kind, officeID string) ([]*ReplyTemplate, error)
	// CreateReplyTemplate adds a template. Errors: BAD_USER_INPUT (unknown placeholders
	// among them), UNAUTHENTICATED, FORBIDDEN (managers and admins), NOT_FOUND (office).
	CreateReplyTemplate(ctx context.Context, in ReplyTemplateInput) (*ReplyTemplate, error)
	// RenderReplyTemplate fills a template for a ticket, for the operator to edit and send.
	// Errors: UNAUTHENTICATED, FORBIDDEN (staff only), NOT_FOUND (template, ticket).
	RenderReplyTemplate(ctx context.Context, templateID, ticketID string) (string, error)
	// RoutingRulesByID returns rules by id, for histories; missing ids are absent.
	RoutingRulesByID(ctx context.Context, ids []string) (map[string]*RoutingRule, error)
}
