package sportello

import (
	"context"
	"math"
	"slices"
	"strings"
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
	return percentileOfSorted(s, p)
}

// percentileOfSorted is Percentile of values already sorted, at least one. It computes as
// PostgreSQL's percentile_cont does, operation by operation, so that the figures agree to the
// last bit.
func percentileOfSorted(s []float64, p float64) float64 {
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

// Months returns the months the period touches, in order: the instant each begins in Rome
// (the first may be before From) and its key, YYYY-MM, as the MONTH dimension names them.
func (p Period) Months() ([]time.Time, []string) {
	var starts []time.Time
	var keys []string
	_, end := p.Bounds()
	for m := time.Date(p.From.Year, p.From.Month, 1, 0, 0, 0, 0, Rome); m.Before(end); m = m.AddDate(0, 1, 0) {
		starts = append(starts, m)
		keys = append(keys, m.Format("2006-01"))
	}
	return starts, keys
}

// Measure is a time measured on a ticket, when it was.
type Measure struct {
	Value float64
	Valid bool
}

// TicketFacts are what statistics count of one ticket filed in their period.
type TicketFacts struct {
	// Keys are the ticket's key in each dimension the tally groups by, in its order: the kind,
	// channel, office id ("" for none), status, or month (YYYY-MM).
	Keys []string
	// Answered tickets were resolved or rejected, OnTime by their deadline; Open ones still run
	// their deadline, Overdue ones past it.
	Answered, OnTime, Open, Overdue bool
	// The office times are in seconds, the calendar times in days; the calendar ones count
	// only for answered tickets.
	FirstResponseOfficeSeconds, ResolutionOfficeSeconds Measure
	FirstResponseDays, ResolutionDays                   Measure
	// Feedback is "" without feedback; Rating is 0 without a rating.
	Feedback FeedbackLevel
	Rating   int
}

// The times whose median and 90th percentile statistics give.
const (
	firstResponseOffice = iota
	firstResponseDays
	resolutionOffice
	resolutionDays
	statsMeasures
)

// StatsTally computes the figures of statistics from the facts of each ticket, counted one at a
// time. The percentiles are exact: each time is sorted once over all the tickets, and that
// order, split by group, is the sorted order of every group, so that grouping by five
// dimensions costs no more sorts than the total alone.
type StatsTally struct {
	dims []StatsDimension
	// sets are the total (first) and a set of groups for each dimension.
	sets []*tallySet
	// measures holds every time measured, with the ticket it was measured on.
	measures [statsMeasures][]measured
	tickets  int32
}

type tallySet struct {
	index  map[string]int32
	keys   []string
	counts []tallyCounts
	// groupOf is the group of each ticket counted, by its order of arrival.
	groupOf []int32
}

type tallyCounts struct {
	tickets, answered, onTime, open, overdue int
	positive, neutral, negative              int
	ratings, ratingSum                       int
	// measured counts the times measured of each kind.
	measured [statsMeasures]int
}

type measured struct {
	value  float64
	ticket int32
}

// NewStatsTally returns a tally grouping by each of dims, known and without repetition.
func NewStatsTally(dims []StatsDimension) *StatsTally {
	t := &StatsTally{dims: dims}
	for range len(dims) + 1 {
		t.sets = append(t.sets, &tallySet{index: map[string]int32{}})
	}
	return t
}

// Add counts a ticket, whose Keys follow the tally's dimensions. It keeps nothing of f, which
// the caller may reuse.
func (t *StatsTally) Add(f *TicketFacts) {
	var times [statsMeasures]Measure
	times[firstResponseOffice], times[resolutionOffice] = f.FirstResponseOfficeSeconds, f.ResolutionOfficeSeconds
	if f.Answered {
		times[firstResponseDays], times[resolutionDays] = f.FirstResponseDays, f.ResolutionDays
	}
	for i, set := range t.sets {
		key := ""
		if i > 0 {
			key = f.Keys[i-1]
		}
		g, ok := set.index[key]
		if !ok {
			g = int32(len(set.keys))
			set.index[key] = g
			set.keys = append(set.keys, key)
			set.counts = append(set.counts, tallyCounts{})
		}
		set.groupOf = appendDoubling(set.groupOf, g)
		c := &set.counts[g]
		c.tickets++
		c.answered += b2i(f.Answered)
		c.onTime += b2i(f.OnTime)
		c.open += b2i(f.Open)
		c.overdue += b2i(f.Overdue)
		switch f.Feedback {
		case FeedbackPositive:
			c.positive++
		case FeedbackNeutral:
			c.neutral++
		case FeedbackNegative:
			c.negative++
		}
		if f.Rating != 0 {
			c.ratings++
			c.ratingSum += f.Rating
		}
		for m, v := range times {
			c.measured[m] += b2i(v.Valid)
		}
	}
	for m, v := range times {
		if v.Valid {
			t.measures[m] = appendDoubling(t.measures[m], measured{value: v.Value, ticket: t.tickets})
		}
	}
	t.tickets++
}

// appendDoubling appends v to s, doubling its capacity when full: append grows large slices by a
// quarter only, which for a tally of a hundred thousand tickets copies them many times over.
func appendDoubling[T any](s []T, v T) []T {
	if len(s) == cap(s) {
		s = slices.Grow(s, max(len(s), 1024))
	}
	return append(s, v)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Figures returns the total and the groups of each dimension, in the order of the dimensions
// and of their keys; the groups are labelled with their keys. Without tickets, the total is
// zero everywhere and there are no groups.
func (t *StatsTally) Figures() (*StatsGroup, []*StatsGroup) {
	if t.tickets == 0 {
		return &StatsGroup{}, nil
	}
	var scratch []measured
	for m := range t.measures {
		scratch = slices.Grow(scratch[:0], len(t.measures[m]))[:len(t.measures[m])]
		sortMeasured(t.measures[m], scratch)
	}
	var total *StatsGroup
	var groups []*StatsGroup
	buf := make([]float64, 0, t.tickets)
	for i, set := range t.sets {
		out := make([]*StatsGroup, len(set.keys))
		for g, key := range set.keys {
			out[g] = set.counts[g].group(key)
		}
		for m, values := range t.measures {
			// A counting sort by group keeps the order of the values within each group.
			start := make([]int, len(set.keys)+1)
			for g := range set.keys {
				start[g+1] = start[g] + set.counts[g].measured[m]
			}
			buf = buf[:len(values)]
			next := slices.Clone(start[:len(set.keys)])
			for _, v := range values {
				g := set.groupOf[v.ticket]
				buf[next[g]] = v.value
				next[g]++
			}
			for g := range set.keys {
				setPercentiles(out[g], m, buf[start[g]:start[g+1]])
			}
		}
		if i == 0 {
			total = out[0]
			total.Dimension, total.Key, total.Label = "", "", ""
			continue
		}
		slices.SortFunc(out, func(a, b *StatsGroup) int { return strings.Compare(a.Key, b.Key) })
		for _, g := range out {
			g.Dimension = t.dims[i-1]
		}
		groups = append(groups, out...)
	}
	return total, groups
}

// sortMeasured sorts values by value, using scratch of the same length: a radix sort, a byte
// at a time from the lowest, of bits that order as the values do. It takes a few linear
// passes, several times faster than a sort by comparison of a hundred thousand values, and
// skips most, as times share their highest bits and whole seconds their lowest.
func sortMeasured(values, scratch []measured) {
	src, dst := values, scratch
	for shift := 0; shift < 64; shift += 8 {
		var count [256]int
		for _, v := range src {
			count[byte(orderedBits(v.value)>>shift)]++
		}
		if slices.Contains(count[:], len(src)) {
			continue
		}
		next := 0
		for d, c := range count {
			count[d] = next
			next += c
		}
		for _, v := range src {
			d := byte(orderedBits(v.value) >> shift)
			dst[count[d]] = v
			count[d]++
		}
		src, dst = dst, src
	}
	copy(values, src)
}

// orderedBits returns bits of v that order as the floats do: negative values have their bits
// inverted, the others their sign bit set.
func orderedBits(v float64) uint64 {
	b := math.Float64bits(v)
	if b>>63 == 1 {
		return ^b
	}
	return b | 1<<63
}

func (c *tallyCounts) group(key string) *StatsGroup {
	g := &StatsGroup{Key: key, Label: key, Tickets: c.tickets, Answered: c.answered, AnsweredOnTime: c.onTime,
		OnTimeShare: Share(c.onTime, c.answered), Open: c.open, Overdue: c.overdue,
		FirstResponse: Durations{Measured: c.answered}, Resolution: Durations{Measured: c.answered},
		Satisfaction: Satisfaction{Positive: c.positive, Neutral: c.neutral, Negative: c.negative}}
	g.Satisfaction.CSAT = Share(c.positive, g.Satisfaction.Total())
	if c.ratings > 0 {
		avg := float64(c.ratingSum) / float64(c.ratings)
		g.Satisfaction.AverageRating = &avg
	}
	return g
}

// setPercentiles writes the median and 90th percentile of the sorted values of measure m, in
// hours for the office times; it leaves them nil without values.
func setPercentiles(g *StatsGroup, m int, sorted []float64) {
	if len(sorted) == 0 {
		return
	}
	median, p90 := percentileOfSorted(sorted, 0.5), percentileOfSorted(sorted, 0.9)
	switch m {
	case firstResponseOffice:
		median, p90 = median/3600, p90/3600
		g.FirstResponse.MedianOfficeHours, g.FirstResponse.P90OfficeHours = &median, &p90
	case firstResponseDays:
		g.FirstResponse.MedianDays, g.FirstResponse.P90Days = &median, &p90
	case resolutionOffice:
		median, p90 = median/3600, p90/3600
		g.Resolution.MedianOfficeHours, g.Resolution.P90OfficeHours = &median, &p90
	case resolutionDays:
		g.Resolution.MedianDays, g.Resolution.P90Days = &median, &p90
	}
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
