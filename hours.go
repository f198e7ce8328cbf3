package sportello

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Date is a calendar day in Rome, without a time. Every day of the domain is one: closures and
// holidays, appointments' days, acts' dates and publication, records-access viewing periods and
// register dates. Instants stay time.Time.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the day that t falls on in Rome.
func DateOf(t time.Time) Date {
	y, m, d := t.In(Rome).Date()
	return Date{y, m, d}
}

// Dates outside these years are refused as input: they are typing mistakes, and bounding them
// keeps every search over days short.
const (
	MinDateYear = 2000
	MaxDateYear = 2100
)

// ParseDate reads a date written YYYY-MM-DD. Errors: BAD_USER_INPUT naming field.
func ParseDate(field, s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return Date{}, InvalidField(field, "must be a date YYYY-MM-DD")
	}
	if t.Year() < MinDateYear || t.Year() > MaxDateYear {
		return Date{}, InvalidField(field, "must be between %d and %d", MinDateYear, MaxDateYear)
	}
	return Date{t.Year(), t.Month(), t.Day()}, nil
}

// String writes the date as YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// AddDays returns the day n days later (earlier for negative n).
func (d Date) AddDays(n int) Date {
	y, m, dd := time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC).Date()
	return Date{y, m, dd}
}

// Compare returns -1, 0 or +1 as d is before, equal to or after o.
func (d Date) Compare(o Date) int {
	return d.utc().Compare(o.utc())
}

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday { return d.utc().Weekday() }

// DaysUntil returns the number of days from d to o (negative when o is earlier).
func (d Date) DaysUntil(o Date) int { return int(o.utc().Sub(d.utc()).Hours() / 24) }

// utc is d at midnight UTC, the zone in which every day lasts 24 hours: day arithmetic is done
// there, and only wall times are converted to Rome.
func (d Date) utc() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// Closure is one or more whole days on which an office (or every office of the municipality)
// does not receive the public: a national holiday, the patron saint's day, a strike, a move.
type Closure struct {
	ID       string // empty for national holidays, which are computed and not stored
	TenantID string
	OfficeID string // empty when every office of the municipality closes
	From     Date
	To       Date // inclusive
	Reason   string
	National bool // a national holiday
}

// Covers reports whether the closure includes day d.
func (c *Closure) Covers(d Date) bool { return c.From.Compare(d) <= 0 && d.Compare(c.To) <= 0 }

// Limits on closures.
const (
	MaxClosureReasonLen = 200
	MaxClosureDays      = 366
)

// ClosureInput is a local closure an office adds.
type ClosureInput struct {
	OfficeID string // empty for every office of the municipality
	From     Date
	To       Date
	Reason   string
}

// Validate checks the closure's span and reason; it returns BAD_USER_INPUT naming the field.
func (in *ClosureInput) Validate() error {
	if in.To.Compare(in.From) < 0 {
		return InvalidField("input.to", "must not be before from")
	}
	if in.From.DaysUntil(in.To) >= MaxClosureDays {
		return InvalidField("input.to", "a closure lasts at most %d days", MaxClosureDays)
	}
	in.Reason = strings.TrimSpace(in.Reason)
	return checkLen("input.reason", in.Reason, 1, MaxClosureReasonLen)
}

// easter returns Easter Sunday of a Gregorian year, by the anonymous Gregorian algorithm
// (Meeus/Jones/Butcher).
func easter(year int) Date {
	a := year % 19
	b, c := year/100, year%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return Date{year, time.Month(month), day}
}

// sanFrancescoFrom is the first year in which 4 October, the feast of Saint Francis of Assisi,
// is a national holiday again (L. 260/1949 art. 2 as amended in October 2025).
const sanFrancescoFrom = 2026

// ItalianHolidays returns the national holidays of a year on which public offices close (L.
// 260/1949 and later amendments), in date order. Sundays are not listed: offices set their own
// weekly hours. Easter Monday is computed from Easter, so the list is right for any year.
func ItalianHolidays(year int) []Closure {
	fixed := []struct {
		month  time.Month
		day    int
		reason string
	}{
		{time.January, 1, "Capodanno"},
		{time.January, 6, "Epifania"},
		{time.April, 25, "Festa della Liberazione"},
		{time.May, 1, "Festa del Lavoro"},
		{time.June, 2, "Festa della Repubblica"},
		{time.August, 15, "Ferragosto"},
		{time.November, 1, "Ognissanti"},
		{time.December, 8, "Immacolata Concezione"},
		{time.December, 25, "Natale"},
		{time.December, 26, "Santo Stefano"},
	}
	out := make([]Closure, 0, len(fixed)+2)
	for _, f := range fixed {
		d := Date{year, f.month, f.day}
		out = append(out, Closure{From: d, To: d, Reason: f.reason, National: true})
	}
	if year >= sanFrancescoFrom {
		d := Date{year, time.October, 4}
		out = append(out, Closure{From: d, To: d, Reason: "San Francesco d'Assisi, patrono d'Italia", National: true})
	}
	monday := easter(year).AddDays(1)
	out = append(out, Closure{From: monday, To: monday, Reason: "Lunedì dell'Angelo", National: true})
	slices.SortStableFunc(out, func(a, b Closure) int { return a.From.Compare(b.From) })
	return out
}

// IsItalianHoliday reports whether d is a national holiday.
func IsItalianHoliday(d Date) bool {
	switch {
	case d.Month == time.January && (d.Day == 1 || d.Day == 6),
		d.Month == time.April && d.Day == 25,
		d.Month == time.May && d.Day == 1,
		d.Month == time.June && d.Day == 2,
		d.Month == time.August && d.Day == 15,
		d.Month == time.November && d.Day == 1,
		d.Month == time.December && (d.Day == 8 || d.Day == 25 || d.Day == 26),
		d.Month == time.October && d.Day == 4 && d.Year >= sanFrancescoFrom:
		return true
	case d.Month == time.March || d.Month == time.April:
		return d == easter(d.Year).AddDays(1)
	}
	return false
}

// span is an opening slot as minutes after midnight, wall time in Rome.
type span struct{ opens, closes int }

// parseClock reads HH:MM (00:00 to 23:59).
func parseClock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}

// MaxSlotsPerWeek bounds an office's weekly slots.
const MaxSlotsPerWeek = 70

// ValidateOpeningHours checks a week of slots: times written HH:MM, each slot closing after it
// opens on the same day (slots do not cross midnight: a night service is two slots), and no two
// slots of a day overlapping. It returns BAD_USER_INPUT naming the slot at fault as
// slots[i].opens or slots[i].closes.
func ValidateOpeningHours(slots []OpeningSlot) error {
	_, err := weekOf(slots)
	return err
}

func weekOf(slots []OpeningSlot) ([7][]span, error) {
	var week [7][]span
	if len(slots) > MaxSlotsPerWeek {
		return week, InvalidField("slots", "at most %d slots a week", MaxSlotsPerWeek)
	}
	index := [7][]int{}
	for i, s := range slots {
		field := fmt.Sprintf("slots[%d]", i)
		if s.Weekday < time.Sunday || s.Weekday > time.Saturday {
			return week, InvalidField(field+".weekday", "unknown weekday")
		}
		opens, ok := parseClock(s.Opens)
		if !ok {
			return week, InvalidField(field+".opens", "must be a time written HH:MM, 00:00 to 23:59")
		}
		closes, ok := parseClock(s.Closes)
		if !ok {
			return week, InvalidField(field+".closes", "must be a time written HH:MM, 00:00 to 23:59")
		}
		if closes <= opens {
			return week, InvalidField(field+".closes", "must be after opens, on the same day")
		}
		for j, other := range week[s.Weekday] {
			if opens < other.closes && other.opens < closes {
				return week, InvalidField(field+".opens", "overlaps slots[%d] of the same day", index[s.Weekday][j])
			}
		}
		week[s.Weekday] = append(week[s.Weekday], span{opens, closes})
		index[s.Weekday] = append(index[s.Weekday], i)
	}
	for _, day := range week {
		slices.SortFunc(day, func(a, b span) int { return a.opens - b.opens })
	}
	return week, nil
}

// Schedule is the clock of an office: its weekly slots, its local closures and the national
// holidays. Every computation is in Rome. A slot opens at the first instant the clock in Rome
// shows its opening time and closes at the first instant it shows its closing time, so a slot
// lasts its wall-clock length except across a change of the clocks: 01:00-04:00 lasts two hours
// on the last Sunday of March and four on the last Sunday of October, and 02:00-03:00 does not
// happen at all in March.
type Schedule struct {
	week     [7][]span
	closures []Closure
}

// NewSchedule returns the schedule of weekly slots and local closures. Errors: BAD_USER_INPUT
// (as ValidateOpeningHours).
func NewSchedule(slots []OpeningSlot, closures []Closure) (*Schedule, error) {
	week, err := weekOf(slots)
	if err != nil {
		return nil, err
	}
	return &Schedule{week: week, closures: slices.Clone(closures)}, nil
}

// searchDays bounds every search for an opening: an office that does not open within a year
// (plus a week, for a weekly slot after a year-long closure) is treated as never opening.
const searchDays = 366 + 7

// ClosedOn reports whether the office is closed all day d: a national holiday or a local closure.
func (s *Schedule) ClosedOn(d Date) bool {
	if IsItalianHoliday(d) {
		return true
	}
	for i := range s.closures {
		if s.closures[i].Covers(d) {
			return true
		}
	}
	return false
}

// interval is an opening as instants, [from, to).
type interval struct{ from, to time.Time }

// openings returns the openings of day d, in order, reusing buf; none when it is closed. Slots
// that do not happen (02:00-03:00 when the clocks go forward) are left out.
func (s *Schedule) openings(d Date, buf []interval) []interval {
	out := buf[:0]
	slots := s.week[d.Weekday()]
	if len(slots) == 0 || s.ClosedOn(d) {
		return out
	}
	offset, steady := steadyOffset(d)
	for _, sl := range slots {
		var iv interval
		if steady {
			iv = interval{d.utc().Add(time.Duration(sl.opens)*time.Minute - offset), d.utc().Add(time.Duration(sl.closes)*time.Minute - offset)}
		} else {
			iv = interval{wallInstant(d, sl.opens), wallInstant(d, sl.closes)}
		}
		if iv.from.Before(iv.to) {
			out = append(out, iv)
		}
	}
	return out
}

// steadyOffset returns Rome's offset from UTC on day d and whether it holds all day, as it does
// on every day but the two on which the clocks change: then a wall time is that offset away from
// UTC, and only those two days need wallInstant.
func steadyOffset(d Date) (time.Duration, bool) {
	noon := d.utc().Add(12 * time.Hour).In(Rome)
	_, secs := noon.Zone()
	offset := time.Duration(secs) * time.Second
	start, end := noon.ZoneBounds()
	dayStart := d.utc().Add(-offset)
	return offset, !start.After(dayStart) && (end.IsZero() || !end.Before(dayStart.Add(24*time.Hour)))
}

// wallInstant returns the first instant at which the clock in Rome shows at least minute of
// day d. Go resolves a repeated wall time (the hour the clocks go back) to either occurrence and
// a missing one (the hour they go forward) to either side of the gap; this pins both down.
func wallInstant(d Date, minute int) time.Time {
	want := d.utc().Add(time.Duration(minute) * time.Minute)
	t := time.Date(d.Year, d.Month, d.Day, 0, minute, 0, 0, Rome)
	start, end := t.ZoneBounds()
	switch w := wallOf(t); {
	case w.After(want): // in the gap: the clock first shows a later time when the zone starts
		return start
	case w.Before(want):
		return end
	}
	// The same wall time may have been shown once already, before the clocks went back.
	if !start.IsZero() {
		before := start.Add(-time.Nanosecond)
		_, prevOffset := before.Zone()
		_, offset := t.Zone()
		if earlier := t.Add(-time.Duration(prevOffset-offset) * time.Second); prevOffset > offset && earlier.Before(start) && wallOf(earlier).Equal(want) {
			return earlier
		}
	}
	return t
}

// wallOf returns what the clock in Rome shows at t, as a time in UTC for comparisons.
func wallOf(t time.Time) time.Time {
	r := t.In(Rome)
	return time.Date(r.Year(), r.Month(), r.Day(), r.Hour(), r.Minute(), r.Second(), r.Nanosecond(), time.UTC)
}

// IsOpen reports whether the office receives the public at t.
func (s *Schedule) IsOpen(t time.Time) bool {
	for _, iv := range s.openings(DateOf(t), nil) {
		if !t.Before(iv.from) && t.Before(iv.to) {
			return true
		}
	}
	return false
}

// NextOpening returns the first instant at or after after at which a slot opens; if the office
// is open at after, that is the start of its next slot. It reports false when the office does
// not open in the year that follows.
func (s *Schedule) NextOpening(after time.Time) (time.Time, bool) {
	day := DateOf(after)
	var buf []interval
	for i := 0; i < searchDays; i++ {
		buf = s.openings(day.AddDays(i), buf)
		for _, iv := range buf {
			if !iv.from.Before(after) {
				return iv.from, true
			}
		}
	}
	return time.Time{}, false
}

// Between returns the office time between two instants: how long the office is open in [a, b).
// It is zero when b is not after a.
func (s *Schedule) Between(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	var total time.Duration
	var buf []interval
	last := DateOf(b)
	for day := DateOf(a); day.Compare(last) <= 0; day = day.AddDays(1) {
		buf = s.openings(day, buf)
		for _, iv := range buf {
			from, to := later(iv.from, a), earlier(iv.to, b)
			if from.Before(to) {
				total += to.Sub(from)
			}
		}
	}
	return total
}

// Add returns the instant at which d of office time has passed since t: t itself for d <= 0,
// otherwise an instant inside (or at the close of) a slot. It reports false when the office
// stays shut for a whole year before d has passed, which includes an office with no hours.
func (s *Schedule) Add(t time.Time, d time.Duration) (time.Time, bool) {
	if d <= 0 {
		return t, true
	}
	lastOpen := DateOf(t)
	var buf []interval
	for day := lastOpen; lastOpen.DaysUntil(day) < searchDays; day = day.AddDays(1) {
		buf = s.openings(day, buf)
		for _, iv := range buf {
			from := later(iv.from, t)
			if !from.Before(iv.to) {
				continue
			}
			lastOpen = day
			avail := iv.to.Sub(from)
			if avail >= d {
				return from.Add(d), true
			}
			d -= avail
		}
	}
	return time.Time{}, false
}

// Closures returns the local closures and national holidays that touch the days from..to, by
// start date, national holidays first on the same day.
func (s *Schedule) Closures(from, to Date) []Closure {
	return ClosuresBetween(s.closures, from, to)
}

// ClosuresBetween merges local closures with the national holidays of the days from..to, keeping
// those that touch the range, by start date with national holidays first on the same day.
func ClosuresBetween(local []Closure, from, to Date) []Closure {
	var out []Closure
	for y := from.Year; y <= to.Year; y++ {
		for _, h := range ItalianHolidays(y) {
			if from.Compare(h.From) <= 0 && h.From.Compare(to) <= 0 {
				out = append(out, h)
			}
		}
	}
	for _, c := range local {
		if c.From.Compare(to) <= 0 && from.Compare(c.To) <= 0 {
			out = append(out, c)
		}
	}
	slices.SortStableFunc(out, func(a, b Closure) int {
		if c := a.From.Compare(b.From); c != 0 {
			return c
		}
		switch {
		case a.National && !b.National:
			return -1
		case b.National && !a.National:
			return 1
		}
		return 0
	})
	return out
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// MaxClosureRangeDays bounds the days a closures query may span.
const MaxClosureRangeDays = 3 * 366

// ValidateDateRange checks a range of days asked for, naming fromField and toField.
func ValidateDateRange(from, to Date, fromField, toField string) error {
	if to.Compare(from) < 0 {
		return InvalidField(toField, "must not be before %s", fromField)
	}
	if from.DaysUntil(to) > MaxClosureRangeDays {
		return InvalidField(toField, "at most %d days after %s", MaxClosureRangeDays, fromField)
	}
	return nil
}
