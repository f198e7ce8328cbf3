package sportello

import (
	"errors"
	"testing"
	"time"
)

// urpSlots are the demo URP's hours: Monday to Friday 9-13, Tuesday and Thursday also 16-18.
var urpSlots = []OpeningSlot{
	{time.Monday, "09:00", "13:00"},
	{time.Tuesday, "09:00", "13:00"}, {time.Tuesday, "16:00", "18:00"},
	{time.Wednesday, "09:00", "13:00"},
	{time.Thursday, "09:00", "13:00"}, {time.Thursday, "16:00", "18:00"},
	{time.Friday, "09:00", "13:00"},
}

// patronSaint is a local closure on Wednesday 24 June 2026 (San Giovanni Battista).
var patronSaint = Closure{From: Date{2026, 6, 24}, To: Date{2026, 6, 24}, Reason: "San Giovanni Battista"}

func schedule(t *testing.T, slots []OpeningSlot, closures ...Closure) *Schedule {
	t.Helper()
	s, err := NewSchedule(slots, closures)
	if err != nil {
		t.Fatalf("NewSchedule: %v", err)
	}
	return s
}

func utc(y int, mo time.Month, d, h, mi int) time.Time {
	return time.Date(y, mo, d, h, mi, 0, 0, time.UTC)
}

func TestEasterMondayIsComputedForAnyYear(t *testing.T) {
	for year, want := range map[int]Date{
		2000: {2000, 4, 24},
		2008: {2008, 3, 24}, // an early Easter
		2011: {2011, 4, 25}, // on Liberation Day
		2019: {2019, 4, 22},
		2024: {2024, 4, 1},
		2025: {2025, 4, 21},
		2026: {2026, 4, 6},
		2027: {2027, 3, 29},
		2038: {2038, 4, 26}, // Easter on 25 April, the latest it can be
		2285: {2285, 3, 23}, // Easter on 22 March, the earliest it can be
	} {
		if got := easter(year).AddDays(1); got != want {
			t.Errorf("Easter Monday %d = %s, want %s", year, got, want)
		}
		if !IsItalianHoliday(want) {
			t.Errorf("IsItalianHoliday(%s) = false", want)
		}
		var listed bool
		for _, h := range ItalianHolidays(year) {
			listed = listed || (h.From == want && h.Reason == "Lunedì dell'Angelo")
		}
		if !listed {
			t.Errorf("ItalianHolidays(%d) lacks Easter Monday %s", year, want)
		}
	}
}

func TestItalianHolidaysListsTheYearsHolidaysInOrder(t *testing.T) {
	cases := []struct {
		year int
		want []string
	}{
		{2025, []string{"2025-01-01", "2025-01-06", "2025-04-21", "2025-04-25", "2025-05-01", "2025-06-02",
			"2025-08-15", "2025-11-01", "2025-12-08", "2025-12-25", "2025-12-26"}},
		// From 2026 the feast of Saint Francis is a national holiday again.
		{2026, []string{"2026-01-01", "2026-01-06", "2026-04-06", "2026-04-25", "2026-05-01", "2026-06-02",
			"2026-08-15", "2026-10-04", "2026-11-01", "2026-12-08", "2026-12-25", "2026-12-26"}},
	}
	for _, c := range cases {
		got := ItalianHolidays(c.year)
		if len(got) != len(c.want) {
			t.Fatalf("%d: %d holidays, want %d: %v", c.year, len(got), len(c.want), got)
		}
		for i, h := range got {
			if h.From.String() != c.want[i] || h.To != h.From || !h.National || h.Reason == "" {
				t.Errorf("%d: holiday %d = %+v, want %s", c.year, i, h, c.want[i])
			}
			if !IsItalianHoliday(h.From) {
				t.Errorf("IsItalianHoliday(%s) = false", h.From)
			}
		}
	}
	for _, d := range []Date{{2025, 10, 4}, {2026, 4, 5}, {2025, 4, 22}, {2026, 3, 29}, {2026, 12, 24}} {
		if IsItalianHoliday(d) {
			t.Errorf("IsItalianHoliday(%s) = true", d)
		}
	}
}

func TestIsOpenFollowsSlotsHolidaysAndClosures(t *testing.T) {
	s := schedule(t, urpSlots, patronSaint)
	cases := []struct {
		name string
		at   time.Time
		want bool
	}{
		{"Tuesday at opening", rome(2026, 11, 17, 9, 0), true},
		{"Tuesday morning", rome(2026, 11, 17, 10, 0), true},
		{"Tuesday a minute before closing", rome(2026, 11, 17, 12, 59), true},
		{"Tuesday at closing", rome(2026, 11, 17, 13, 0), false},
		{"Tuesday lunch", rome(2026, 11, 17, 14, 0), false},
		{"Tuesday afternoon", rome(2026, 11, 17, 16, 30), true},
		{"Tuesday evening", rome(2026, 11, 17, 18, 0), false},
		{"Wednesday afternoon", rome(2026, 11, 18, 16, 30), false},
		{"Saturday", rome(2026, 11, 21, 10, 0), false},
		{"Easter Monday", rome(2026, 4, 6, 10, 0), false},
		{"the Tuesday after Easter", rome(2026, 4, 7, 10, 0), true},
		{"Republic Day on a Tuesday", rome(2026, 6, 2, 10, 0), false},
		{"the patron saint's day", rome(2026, 6, 24, 10, 0), false},
		{"the day after the patron saint", rome(2026, 6, 25, 16, 30), true},
		{"Saint Francis on a Monday", rome(2027, 10, 4, 10, 0), false},
		{"an instant given in UTC", utc(2026, 11, 17, 8, 30), true}, // 09:30 CET
		{"Monday after the clocks went forward", rome(2026, 3, 30, 9, 0), true},
		{"Monday after the clocks went back", utc(2026, 10, 26, 7, 30), false}, // 08:30 CET
	}
	for _, c := range cases {
		if got := s.IsOpen(c.at); got != c.want {
			t.Errorf("%s: IsOpen(%s) = %v, want %v", c.name, c.at.In(Rome), got, c.want)
		}
	}
}

func TestNextOpeningSkipsClosedDays(t *testing.T) {
	s := schedule(t, urpSlots, patronSaint)
	cases := []struct {
		name        string
		after, want time.Time
	}{
		{"at opening time", rome(2026, 11, 17, 9, 0), rome(2026, 11, 17, 9, 0)},
		{"while open: the next slot", rome(2026, 11, 17, 10, 0), rome(2026, 11, 17, 16, 0)},
		{"lunch break", rome(2026, 11, 17, 14, 0), rome(2026, 11, 17, 16, 0)},
		{"evening", rome(2026, 11, 17, 18, 0), rome(2026, 11, 18, 9, 0)},
		{"Friday afternoon", rome(2026, 11, 20, 13, 0), rome(2026, 11, 23, 9, 0)},
		{"Easter Saturday", rome(2026, 4, 4, 10, 0), rome(2026, 4, 7, 9, 0)},
		{"New Year's Eve", rome(2025, 12, 31, 14, 0), rome(2026, 1, 2, 9, 0)},
		{"Christmas Eve", rome(2026, 12, 24, 18, 30), rome(2026, 12, 28, 9, 0)},
		{"before the patron saint", rome(2026, 6, 23, 18, 0), rome(2026, 6, 25, 9, 0)},
		{"the weekend the clocks go forward", rome(2026, 3, 27, 13, 0), utc(2026, 3, 30, 7, 0)},
		{"the weekend the clocks go back", rome(2026, 10, 23, 13, 0), utc(2026, 10, 26, 8, 0)},
	}
	for _, c := range cases {
		got, ok := s.NextOpening(c.after)
		if !ok || !got.Equal(c.want) {
			t.Errorf("%s: NextOpening(%s) = %s, %v; want %s", c.name, c.after.In(Rome), got.In(Rome), ok, c.want.In(Rome))
		}
	}
}

func TestNextOpeningAndAddReportNeverForAClosedOffice(t *testing.T) {
	// Closures longer than a year are two closures back to back.
	closed := []Closure{
		{From: Date{2026, 1, 1}, To: Date{2026, 12, 31}, Reason: "Trasloco"},
		{From: Date{2027, 1, 1}, To: Date{2027, 1, 31}, Reason: "Trasloco"},
	}
	for name, s := range map[string]*Schedule{
		"no hours":                 schedule(t, nil),
		"closed for over a year":   schedule(t, urpSlots, closed...),
		"open only in the closure": schedule(t, []OpeningSlot{{time.Friday, "09:00", "10:00"}}, closed...),
	} {
		if got, ok := s.NextOpening(rome(2026, 1, 1, 0, 0)); ok {
			t.Errorf("%s: NextOpening = %s, want never", name, got)
		}
		if got, ok := s.Add(rome(2026, 1, 1, 0, 0), time.Hour); ok {
			t.Errorf("%s: Add = %s, want never", name, got)
		}
		if got := s.Between(rome(2026, 1, 1, 0, 0), rome(2027, 1, 31, 0, 0)); got != 0 {
			t.Errorf("%s: Between = %s, want 0", name, got)
		}
	}
	// Just within the search: the URP reopens on the first Monday after a year-long closure.
	s := schedule(t, urpSlots, closed[0])
	if got, ok := s.NextOpening(rome(2026, 1, 1, 0, 0)); !ok || !got.Equal(rome(2027, 1, 4, 9, 0)) {
		t.Errorf("after a year's closure: NextOpening = %s, %v", got.In(Rome), ok)
	}
}

func TestBetweenCountsOfficeTimeAcrossDSTAndHolidays(t *testing.T) {
	s := schedule(t, urpSlots, patronSaint)
	cases := []struct {
		name string
		a, b time.Time
		want time.Duration
	}{
		{"within a slot", rome(2026, 11, 17, 10, 0), rome(2026, 11, 17, 11, 30), 90 * time.Minute},
		{"over the lunch break", rome(2026, 11, 17, 12, 0), rome(2026, 11, 17, 17, 0), 2 * time.Hour},
		{"while closed", rome(2026, 11, 17, 13, 0), rome(2026, 11, 17, 16, 0), 0},
		{"a whole week", rome(2026, 11, 16, 0, 0), rome(2026, 11, 23, 0, 0), 24 * time.Hour},
		{"reversed", rome(2026, 11, 17, 11, 0), rome(2026, 11, 17, 10, 0), 0},
		{"the weekend the clocks go forward", rome(2026, 3, 27, 9, 0), rome(2026, 3, 30, 13, 0), 8 * time.Hour},
		{"the weekend the clocks go back", rome(2026, 10, 23, 12, 0), rome(2026, 10, 26, 10, 0), 2 * time.Hour},
		{"over Easter", rome(2026, 4, 2, 12, 0), rome(2026, 4, 7, 10, 0), 8 * time.Hour},
		{"over the patron saint", rome(2026, 6, 23, 9, 0), rome(2026, 6, 25, 9, 0), 6 * time.Hour},
		{"over New Year", rome(2025, 12, 31, 12, 0), rome(2026, 1, 2, 10, 0), 2 * time.Hour},
	}
	for _, c := range cases {
		if got := s.Between(c.a, c.b); got != c.want {
			t.Errorf("%s: Between = %s, want %s", c.name, got, c.want)
		}
	}
}

func TestAddFindsTheInstantAfterOfficeTime(t *testing.T) {
	s := schedule(t, urpSlots, patronSaint)
	cases := []struct {
		name    string
		from    time.Time
		d       time.Duration
		want    time.Time
		wantUTC bool // want is written in UTC to pin the offset down
	}{
		{"nothing", rome(2026, 11, 17, 14, 0), 0, rome(2026, 11, 17, 14, 0), false},
		{"within a slot", rome(2026, 11, 17, 10, 0), 2 * time.Hour, rome(2026, 11, 17, 12, 0), false},
		{"over the lunch break", rome(2026, 11, 17, 12, 0), 2 * time.Hour, rome(2026, 11, 17, 17, 0), false},
		{"exactly to the close", rome(2026, 11, 17, 12, 0), 3 * time.Hour, rome(2026, 11, 17, 18, 0), false},
		{"from a closed hour", rome(2026, 11, 21, 12, 0), time.Hour, rome(2026, 11, 23, 10, 0), false},
		{"the default target from Monday", rome(2026, 11, 16, 9, 0), DefaultFirstResponseHours * time.Hour, rome(2026, 11, 18, 11, 0), false},
		{"the weekend the clocks go forward", rome(2026, 3, 27, 12, 0), 3 * time.Hour, utc(2026, 3, 30, 9, 0), true},
		{"the weekend the clocks go back", rome(2026, 10, 23, 12, 0), 3 * time.Hour, utc(2026, 10, 26, 10, 0), true},
		{"over Easter", rome(2026, 4, 3, 12, 0), 2 * time.Hour, rome(2026, 4, 7, 10, 0), false},
		{"over the patron saint", rome(2026, 6, 23, 17, 0), 2 * time.Hour, rome(2026, 6, 25, 10, 0), false},
	}
	for _, c := range cases {
		got, ok := s.Add(c.from, c.d)
		if !ok || !got.Equal(c.want) {
			t.Errorf("%s: Add(%s, %s) = %s, %v; want %s", c.name, c.from.In(Rome), c.d, got.In(Rome), ok, c.want.In(Rome))
		}
		if back := s.Between(c.from, got); back != c.d {
			t.Errorf("%s: Between(from, Add(from, %s)) = %s", c.name, c.d, back)
		}
	}
}

func TestSlotsOnTheDaysTheClocksChange(t *testing.T) {
	// In 2026 the clocks go forward on Sunday 29 March at 02:00 CET (01:00 UTC) and back on
	// Sunday 25 October at 03:00 CEST (01:00 UTC). An office open on Sundays keeps its
	// wall-clock hours; a night slot lasts as long as the clock on the wall says it is open.
	cases := []struct {
		name     string
		slot     OpeningSlot
		day      Date
		want     time.Duration
		openAt   []time.Time
		closedAt []time.Time
	}{
		{"morning, clocks forward", OpeningSlot{time.Sunday, "09:00", "13:00"}, Date{2026, 3, 29}, 4 * time.Hour,
			[]time.Time{utc(2026, 3, 29, 7, 0), utc(2026, 3, 29, 10, 59)}, []time.Time{utc(2026, 3, 29, 6, 59), utc(2026, 3, 29, 11, 0)}},
		{"morning, clocks back", OpeningSlot{time.Sunday, "09:00", "13:00"}, Date{2026, 10, 25}, 4 * time.Hour,
			[]time.Time{utc(2026, 10, 25, 8, 0), utc(2026, 10, 25, 11, 59)}, []time.Time{utc(2026, 10, 25, 7, 59), utc(2026, 10, 25, 12, 0)}},
		{"night across the gap", OpeningSlot{time.Sunday, "01:00", "04:00"}, Date{2026, 3, 29}, 2 * time.Hour,
			[]time.Time{utc(2026, 3, 29, 0, 0), utc(2026, 3, 29, 1, 59)}, []time.Time{utc(2026, 3, 28, 23, 59), utc(2026, 3, 29, 2, 0)}},
		{"night across the repeated hour", OpeningSlot{time.Sunday, "01:00", "04:00"}, Date{2026, 10, 25}, 4 * time.Hour,
			[]time.Time{utc(2026, 10, 24, 23, 0), utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30), utc(2026, 10, 25, 2, 59)},
			[]time.Time{utc(2026, 10, 24, 22, 59), utc(2026, 10, 25, 3, 0)}},
		{"the hour that does not exist", OpeningSlot{time.Sunday, "02:00", "03:00"}, Date{2026, 3, 29}, 0,
			nil, []time.Time{utc(2026, 3, 29, 0, 59), utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 1, 30)}},
		{"the hour that happens twice", OpeningSlot{time.Sunday, "02:00", "03:00"}, Date{2026, 10, 25}, 2 * time.Hour,
			[]time.Time{utc(2026, 10, 25, 0, 0), utc(2026, 10, 25, 1, 0), utc(2026, 10, 25, 1, 59)},
			[]time.Time{utc(2026, 10, 24, 23, 59), utc(2026, 10, 25, 2, 0)}},
		{"into the repeated hour", OpeningSlot{time.Sunday, "00:30", "02:30"}, Date{2026, 10, 25}, 2 * time.Hour,
			[]time.Time{utc(2026, 10, 24, 22, 30), utc(2026, 10, 25, 0, 29)}, []time.Time{utc(2026, 10, 25, 1, 0), utc(2026, 10, 25, 0, 30)}},
		{"out of the gap", OpeningSlot{time.Sunday, "02:30", "05:00"}, Date{2026, 3, 29}, 2 * time.Hour,
			[]time.Time{utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 2, 59)}, []time.Time{utc(2026, 3, 29, 0, 59), utc(2026, 3, 29, 3, 0)}},
	}
	for _, c := range cases {
		s := schedule(t, []OpeningSlot{c.slot})
		start := time.Date(c.day.Year, c.day.Month, c.day.Day, 0, 0, 0, 0, Rome)
		end := time.Date(c.day.Year, c.day.Month, c.day.Day+1, 0, 0, 0, 0, Rome)
		if got := s.Between(start, end); got != c.want {
			t.Errorf("%s: the slot lasts %s, want %s", c.name, got, c.want)
		}
		for _, at := range c.openAt {
			if !s.IsOpen(at) {
				t.Errorf("%s: closed at %s (%s UTC)", c.name, at.In(Rome), at.Format("15:04"))
			}
		}
		for _, at := range c.closedAt {
			if s.IsOpen(at) {
				t.Errorf("%s: open at %s (%s UTC)", c.name, at.In(Rome), at.Format("15:04"))
			}
		}
		// The last instant listed as closed is the close of the slot.
		if c.want > 0 {
			got, ok := s.Add(start, c.want)
			if !ok || !got.Equal(c.closedAt[len(c.closedAt)-1]) {
				t.Errorf("%s: Add(midnight, %s) = %s, want the close", c.name, c.want, got.In(Rome))
			}
		}
	}
}

func TestValidateOpeningHoursNamesTheSlotAtFault(t *testing.T) {
	cases := []struct {
		name  string
		slots []OpeningSlot
		field string
	}{
		{"no slots", nil, ""},
		{"the URP", urpSlots, ""},
		{"to the last minute", []OpeningSlot{{time.Sunday, "00:00", "23:59"}}, ""},
		{"touching slots", []OpeningSlot{{time.Monday, "09:00", "13:00"}, {time.Monday, "13:00", "14:00"}}, ""},
		{"bad opening", []OpeningSlot{{time.Monday, "9:00", "13:00"}}, "slots[0].opens"},
		{"bad closing", []OpeningSlot{{time.Monday, "09:00", "24:00"}}, "slots[0].closes"},
		{"not a time", []OpeningSlot{{time.Monday, "09:00", "1pm"}}, "slots[0].closes"},
		{"closes before it opens", []OpeningSlot{{time.Monday, "13:00", "09:00"}}, "slots[0].closes"},
		{"closes as it opens", []OpeningSlot{{time.Monday, "09:00", "09:00"}}, "slots[0].closes"},
		{"overlap", []OpeningSlot{{time.Monday, "09:00", "13:00"}, {time.Tuesday, "09:00", "13:00"}, {time.Monday, "12:00", "14:00"}}, "slots[2].opens"},
		{"inside another", []OpeningSlot{{time.Monday, "09:00", "13:00"}, {time.Monday, "10:00", "11:00"}}, "slots[1].opens"},
		{"bad weekday", []OpeningSlot{{time.Weekday(7), "09:00", "13:00"}}, "slots[0].weekday"},
	}
	for _, c := range cases {
		err := ValidateOpeningHours(c.slots)
		if c.field == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeBadUserInput || e.Field != c.field {
			t.Errorf("%s: error = %v, want BAD_USER_INPUT on %s", c.name, err, c.field)
		}
	}
}

func TestClosureInputAndDatesAreValidated(t *testing.T) {
	d := func(s string) Date {
		t.Helper()
		v, err := ParseDate("d", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		name  string
		in    ClosureInput
		field string
	}{
		{"one day", ClosureInput{From: d("2026-06-24"), To: d("2026-06-24"), Reason: " Patrono "}, ""},
		{"a year", ClosureInput{From: d("2026-01-01"), To: d("2027-01-01"), Reason: "Trasloco"}, ""},
		{"backwards", ClosureInput{From: d("2026-06-24"), To: d("2026-06-23"), Reason: "Patrono"}, "input.to"},
		{"too long", ClosureInput{From: d("2026-01-01"), To: d("2027-01-02"), Reason: "Trasloco"}, "input.to"},
		{"no reason", ClosureInput{From: d("2026-06-24"), To: d("2026-06-24"), Reason: "  "}, "input.reason"},
	}
	for _, c := range cases {
		err := c.in.Validate()
		if c.field == "" {
			if err != nil || c.in.Reason != "Patrono" && c.in.Reason != "Trasloco" {
				t.Errorf("%s: %v (reason %q)", c.name, err, c.in.Reason)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeBadUserInput || e.Field != c.field {
			t.Errorf("%s: error = %v, want BAD_USER_INPUT on %s", c.name, err, c.field)
		}
	}
	for _, bad := range []string{"", "2026-02-30", "24/06/2026", "2026-6-24", "1999-12-31", "2101-01-01"} {
		if _, err := ParseDate("from", bad); ErrorCode(err) != CodeBadUserInput {
			t.Errorf("ParseDate(%q) = %v, want BAD_USER_INPUT", bad, err)
		}
	}
	if got := d("2026-03-28").AddDays(2); got.String() != "2026-03-30" || got.Weekday() != time.Monday {
		t.Errorf("AddDays across the change of the clocks = %s (%s)", got, got.Weekday())
	}
}

func TestClosuresBetweenMergesLocalClosuresAndHolidays(t *testing.T) {
	strike := Closure{ID: "s", From: Date{2026, 5, 29}, To: Date{2026, 6, 3}, Reason: "Sciopero"}
	s := schedule(t, urpSlots, patronSaint, strike)
	got := s.Closures(Date{2026, 6, 1}, Date{2026, 6, 30})
	want := []string{"2026-05-29 Sciopero", "2026-06-02 Festa della Repubblica", "2026-06-24 San Giovanni Battista"}
	if len(got) != len(want) {
		t.Fatalf("closures = %+v", got)
	}
	for i, c := range got {
		if c.From.String()+" "+c.Reason != want[i] || c.National != (i == 1) {
			t.Errorf("closure %d = %+v, want %s", i, c, want[i])
		}
	}
}

func TestComputeSLAStopsAtTheFirstReply(t *testing.T) {
	s := schedule(t, urpSlots)
	filed := rome(2026, 11, 16, 9, 0) // Monday
	due := rome(2026, 11, 18, 11, 0)  // 12 office hours later
	at := func(tm time.Time) *time.Time { return &tm }
	cases := []struct {
		name          string
		responded     *time.Time
		now           time.Time
		met, breached bool
		elapsed       time.Duration
	}{
		{"waiting, in time", nil, rome(2026, 11, 17, 10, 0), false, false, 5 * time.Hour},
		{"waiting, at the due instant", nil, due, false, false, 12 * time.Hour},
		{"waiting, late", nil, rome(2026, 11, 19, 9, 0), false, true, 14 * time.Hour},
		{"answered in time", at(rome(2026, 11, 16, 11, 0)), rome(2026, 11, 30, 9, 0), true, false, 2 * time.Hour},
		{"answered late", at(rome(2026, 11, 18, 12, 0)), rome(2026, 11, 30, 9, 0), false, true, 13 * time.Hour},
	}
	for _, c := range cases {
		tk := &Ticket{CreatedAt: filed, FirstRespondedAt: c.responded}
		got := ComputeSLA(tk, s, DefaultFirstResponseHours, c.now)
		if got.FirstResponseDueAt == nil || !got.FirstResponseDueAt.Equal(due) {
			t.Errorf("%s: due = %v, want %s", c.name, got.FirstResponseDueAt, due)
		}
		if got.Met != c.met || got.Breached != c.breached || got.OfficeHoursElapsed != c.elapsed {
			t.Errorf("%s: met %v breached %v elapsed %s; want %v %v %s", c.name, got.Met, got.Breached,
				got.OfficeHoursElapsed, c.met, c.breached, c.elapsed)
		}
	}
	if got := ComputeSLA(&Ticket{CreatedAt: filed}, nil, 12, due); got.FirstResponseDueAt != nil || got.Breached || got.TargetHours != 12 {
		t.Errorf("without a clock: %+v", got)
	}
}

func TestResolveTargetPrefersTheOfficesOwn(t *testing.T) {
	targets := []*FirstResponseTarget{
		{Kind: KindComplaint, Hours: 8},
		{Kind: KindComplaint, OfficeID: "tributi", Hours: 4},
		{Kind: KindReport, OfficeID: "lavori", Hours: 24},
	}
	cases := []struct {
		key  TargetKey
		want int
	}{
		{TargetKey{KindComplaint, "tributi"}, 4},
		{TargetKey{KindComplaint, "urp"}, 8},
		{TargetKey{KindComplaint, ""}, 8},
		{TargetKey{KindReport, "lavori"}, 24},
		{TargetKey{KindReport, ""}, DefaultFirstResponseHours},
		{TargetKey{KindInformation, "tributi"}, DefaultFirstResponseHours},
	}
	for _, c := range cases {
		if got := ResolveTarget(targets, c.key); got != c.want {
			t.Errorf("ResolveTarget(%+v) = %d, want %d", c.key, got, c.want)
		}
	}
	for _, bad := range []struct {
		kind  Kind
		hours int
		field string
	}{{"NOPE", 4, "kind"}, {KindReport, 0, "hours"}, {KindReport, MaxFirstResponseHours + 1, "hours"}} {
		var e *Error
		if err := ValidateFirstResponseTarget(bad.kind, bad.hours); !errors.As(err, &e) || e.Field != bad.field {
			t.Errorf("ValidateFirstResponseTarget(%s, %d) = %v", bad.kind, bad.hours, err)
		}
	}
}

func BenchmarkBetweenOverAYear(b *testing.B) {
	s, _ := NewSchedule(urpSlots, []Closure{patronSaint})
	from, to := rome(2026, 1, 1, 0, 0), rome(2027, 1, 1, 0, 0)
	for b.Loop() {
		s.Between(from, to)
	}
}

func BenchmarkAddDefaultTarget(b *testing.B) {
	s, _ := NewSchedule(urpSlots, []Closure{patronSaint})
	from := rome(2026, 11, 16, 9, 0)
	for b.Loop() {
		s.Add(from, DefaultFirstResponseHours*time.Hour)
	}
}
