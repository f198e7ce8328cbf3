package sportello

import (
	"context"
	"math"
	"slices"
	"time"
)

// Period is a span of whole days in Rome, both included.
type Period struct {
	From Date
	To   Date
}

// MaxStatisticsDays bounds the days a statistics query may span: ten years.
const MaxStatisticsDays = 3660

// Validate checks the period, naming the fields under prefix (period.to, say).
func (p Period) Validate(prefix string) error {
	if p.To.Compare(p.From) < 0 {
		return InvalidField(prefix+"to", "must not be before from")
	}
	if p.From.DaysUntil(p.To) >= MaxStatisticsDays {
		return InvalidField(prefix+"to", "a period spans at most %d days", MaxStatisticsDays)
	}
	return nil
}

// Bounds returns the instants the period runs between: the start of From in Rome, and the start
// of the day after To, excluded.
func (p Period) Bounds() (time.Time, time.Time) {
	return time.Date(p.From.Year, p.From.Month, p.From.Day, 0, 0, 0, 0, Rome),
		time.Date(p.To.Year, p.To.Month, p.To.Day+1, 0, 0, 0, 0, Rome)
}

// HalfYear returns the period of a half of a year: 1 is January to June, 2 July to December.
// Errors: BAD_USER_INPUT naming year or half.
func HalfYear(year, half int) (Period, error) {
	if year < MinDateYear || year > MaxDateYear {
		return Period{}, InvalidField("year", "must be between %d and %d", MinDateYear, MaxDateYear)
	}
	switch half {
	case 1:
		return Period{From: Date{year, time.January, 1}, To: Date{year, time.June, 30}}, nil
	case 2:
		return Period{From: Date{year, time.July, 1}, To: Date{year, time.December, 31}}, nil
	}
	return Period{}, InvalidField("half", "must be 1 (January to June) or 2 (July to December)")
}

// Percentile returns the p-th quantile (0 to 1) of values by linear interpolation between the
// closest ranks, as PostgreSQL's percentile_cont does, so that figures computed here and in
// SQL agree. It returns 0 for no values and leaves values unsorted.
func Percentile(values []float64, p float64) float64 {
	if len(values) == 0 {
		return 0
	}
	s := slices.Clone(values)
	slices.Sort(s)
	pos := p * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	return s[lo] + (s[hi]-s[lo])*(pos-float64(lo))
}

// Mean returns the arithmetic mean of values, 0 for none.
func Mean(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	var sum float64
	for _, v := range values {
		sum += v
	}
	return sum / float64(len(values))
}

// StatsDimension is what statistics are grouped by.
type StatsDimension string

// The dimensions of statistics.
const (
	ByKind    StatsDimension = "KIND"
	ByChannel StatsDimension = "CHANNEL"
	ByOffice  StatsDimension = "OFFICE"
	ByStatus  StatsDimension = "STATUS"
	ByMonth   StatsDimension = "MONTH"
)

// StatsDimensions lists every dimension.
var StatsDimensions = []StatsDimension{ByKind, ByChannel, ByOffice, ByStatus, ByMonth}

// Valid reports whether d is a known dimension.
func (d StatsDimension) Valid() bool { return slices.Contains(StatsDimensions, d) }

// Durations are the median and 90th percentile of a time, in office hours (on the clock of
// the ticket's office, or of the front desk) and in calendar days; nil without measures.
type Durations struct {
	Measured          int
	MedianOfficeHours *float64
	P90OfficeHours    *float64
	MedianDays        *float64
	P90Days           *float64
}

// Satisfaction counts the quick feedback left on tickets.
type Satisfaction struct {
	Positive int
	Neutral  int
	Negative int
	// CSAT is the share of positive feedback, 0 to 100; nil without feedback.
	CSAT          *float64
	AverageRating *float64
}

// Total is the number of feedbacks counted.
func (s Satisfaction) Total() int { return s.Positive + s.Neutral + s.Negative }

// StatsGroup is the figures of the tickets filed in a period, all of them (Dimension empty) or
// those of one kind, channel, office, status or month (Key; Label is what people read).
type StatsGroup struct {
	Dimension StatsDimension
	Key       string // the kind, channel, office id ("" for none), status, or month as YYYY-MM
	Label     string
	Tickets   int
	// Answered tickets were resolved or rejected; AnsweredOnTime by their deadline.
	Answered       int
	AnsweredOnTime int
	// OnTimeShare is AnsweredOnTime out of Answered, 0 to 100; nil when none was answered.
	OnTimeShare *float64
	// Open tickets still run their deadline; Overdue ones are past it.
	Open    int
	Overdue int
	// FirstResponse runs from filing to the first public reply by staff (or to the answer, when
	// that came first); Resolution from filing to the answer.
	FirstResponse Durations
	Resolution    Durations
	Satisfaction  Satisfaction
}

// AccessOutcomeCount is how many requests for access to records filed in a period had an
// outcome; the empty outcome counts those still undecided.
type AccessOutcomeCount struct {
	Outcome AccessOutcome
	Count   int
}

// Statistics are the figures of the tickets filed in a period.
type Statistics struct {
	// Municipality is the name of the tenant, for the reports' covers.
	Municipality  string
	Period        Period
	Total         *StatsGroup
	Groups        []*StatsGroup
	RecordsAccess []AccessOutcomeCount
	// At is when they were computed: open and overdue tickets are counted at that instant.
	At time.Time
}

// GroupsBy returns the groups of one dimension, in their order.
func (s *Statistics) GroupsBy(d StatsDimension) []*StatsGroup {
	var out []*StatsGroup
	for _, g := range s.Groups {
		if g.Dimension == d {
			out = append(out, g)
		}
	}
	return out
}

// RegisterEntry is one line of the register of complaints and reports: a ticket of kind
// COMPLAINT, REPORT or SUGGESTION, without the filer's personal data.
type RegisterEntry struct {
	Protocol   ProtocolNumber
	FiledAt    time.Time
	Kind       Kind
	Channel    Channel
	Subject    string
	Office     string // the office's name, "" while unassigned
	Status     Status
	DueAt      time.Time
	AnsweredAt *time.Time
	// OnTime is whether the answer came by the deadline; nil while unanswered.
	OnTime   *bool
	Feedback FeedbackLevel // "" without feedback
}

// RegisterKinds are the kinds the register of complaints and reports lists.
var RegisterKinds = []Kind{KindComplaint, KindReport, KindSuggestion}

// StatisticsService computes the office's statistics and registers, for MANAGER and ADMIN.
type StatisticsService interface {
	// Statistics returns the figures of the tickets filed in the period, in total and grouped by
	// each dimension asked. Errors: BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN.
	Statistics(ctx context.Context, p Period, groupBy []StatsDimension) (*Statistics, error)
	// ComplaintsRegister lists the complaints, reports and suggestions filed in the period,
	// oldest first. Errors: BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN.
	ComplaintsRegister(ctx context.Context, p Period) ([]*RegisterEntry, error)
}
