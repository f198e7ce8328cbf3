package sportello

import (
	"testing"
	"time"
)

// rome returns a wall-clock time in Rome.
func rome(y int, mo time.Month, d, h, mi int) time.Time {
	return time.Date(y, mo, d, h, mi, 0, 0, Rome)
}

// lastMicroUTC is the instant, written in UTC so that it does not depend on the Rome location
// under test, at which a day of Rome ends: 23:59:59.999999 local time, which is 22:59:59.999999
// UTC in winter (CET) and 21:59:59.999999 UTC in summer (CEST).
func lastMicroUTC(y int, mo time.Month, d, utcHour int) time.Time {
	return time.Date(y, mo, d, utcHour, 59, 59, 999999000, time.UTC)
}

const (
	winter = 22 // UTC hour of 23:59 in Rome under CET
	summer = 21 // UTC hour of 23:59 in Rome under CEST
)

func TestDueAtEndsAtMidnightRomeWhateverTheHourOfFiling(t *testing.T) {
	want := lastMicroUTC(2026, 6, 14, summer) // 15 May + 30 days
	for _, filed := range []time.Time{
		rome(2026, 5, 15, 0, 0),
		rome(2026, 5, 15, 9, 0),
		rome(2026, 5, 15, 13, 30),
		rome(2026, 5, 15, 23, 59),
		time.Date(2026, 5, 15, 23, 59, 59, 999999999, Rome),
		time.Date(2026, 5, 15, 7, 0, 0, 0, time.UTC),   // 09:00 in Rome
		time.Date(2026, 5, 15, 21, 59, 0, 0, time.UTC), // 23:59 in Rome
		time.Date(2026, 5, 14, 22, 0, 0, 0, time.UTC),  // 00:00 on 15 May in Rome
	} {
		if got := DueAt(filed, 30); !got.Equal(want) {
			t.Errorf("DueAt(%s, 30) = %s, want %s", filed, got.In(Rome), want.In(Rome))
		}
	}
}

func TestDueAtEndsAtMidnightRomeAcrossDST(t *testing.T) {
	// In 2026 summer time starts on Sunday 29 March (02:00 CET -> 03:00 CEST) and ends on Sunday
	// 25 October (03:00 CEST -> 02:00 CET).
	cases := []struct {
		name  string
		filed []time.Time
		want  time.Time
	}{
		{
			name:  "filed in winter, due in summer",
			filed: []time.Time{rome(2026, 3, 10, 9, 0), rome(2026, 3, 10, 23, 59)},
			want:  lastMicroUTC(2026, 4, 9, summer),
		},
		{
			name:  "filed the day before the change",
			filed: []time.Time{rome(2026, 3, 28, 9, 0), rome(2026, 3, 28, 23, 59)},
			want:  lastMicroUTC(2026, 4, 27, summer),
		},
		{
			name: "filed on the 23-hour day, before and after the change",
			filed: []time.Time{
				time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC), // 01:30 CET
				time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC),  // 03:00 CEST
				rome(2026, 3, 29, 9, 0),
				rome(2026, 3, 29, 23, 59),
			},
			want: lastMicroUTC(2026, 4, 28, summer),
		},
		{
			name:  "due on the 23-hour day",
			filed: []time.Time{rome(2026, 2, 27, 9, 0), rome(2026, 2, 27, 23, 59)},
			want:  lastMicroUTC(2026, 3, 29, summer),
		},
		{
			name:  "filed in summer, due in winter",
			filed: []time.Time{rome(2026, 10, 1, 9, 0), rome(2026, 10, 1, 23, 59)},
			want:  lastMicroUTC(2026, 10, 31, winter),
		},
		{
			name: "filed on the 25-hour day, at both 02:30",
			filed: []time.Time{
				time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC), // 02:30 CEST
				time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC), // 02:30 CET
				rome(2026, 10, 25, 9, 0),
				rome(2026, 10, 25, 23, 59),
			},
			want: lastMicroUTC(2026, 11, 24, winter),
		},
		{
			name:  "due on the 25-hour day",
			filed: []time.Time{rome(2026, 9, 25, 9, 0), rome(2026, 9, 25, 23, 59)},
			want:  lastMicroUTC(2026, 10, 25, winter),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, filed := range tc.filed {
				got := DueAt(filed, 30)
				if !got.Equal(tc.want) {
					t.Errorf("DueAt(%s, 30) = %s, want %s", filed.In(Rome), got.In(Rome), tc.want.In(Rome))
				}
				if h, m, s := got.In(Rome).Clock(); h != 23 || m != 59 || s != 59 || got.In(Rome).Nanosecond() != 999999000 {
					t.Errorf("DueAt(%s, 30) = %s, want 23:59:59.999999 in Rome", filed.In(Rome), got.In(Rome))
				}
			}
		})
	}
}

func TestDueAtCountsDaysOnTheCalendarAcrossYearEndAndFebruary(t *testing.T) {
	cases := []struct {
		name  string
		filed time.Time
		days  int
		want  time.Time
	}{
		{"mid December", rome(2026, 12, 15, 10, 0), 30, lastMicroUTC(2027, 1, 14, winter)},
		{"New Year's Eve, late evening", rome(2026, 12, 31, 23, 30), 30, lastMicroUTC(2027, 1, 30, winter)},
		// 23:30 UTC on 31 December is already 1 January in Rome: the term starts a day later.
		{"New Year's Eve in UTC, New Year's Day in Rome", time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC), 30, lastMicroUTC(2027, 1, 31, winter)},
		{"February of a common year", rome(2026, 2, 1, 9, 0), 30, lastMicroUTC(2026, 3, 3, winter)},
		{"February of a leap year", rome(2028, 2, 1, 9, 0), 30, lastMicroUTC(2028, 3, 2, winter)},
		{"a term of one day", rome(2026, 12, 31, 12, 0), 1, lastMicroUTC(2027, 1, 1, winter)},
		{"the longest term", rome(2026, 1, 15, 12, 0), MaxResponseDays, lastMicroUTC(2027, 1, 15, winter)},
		{"a term ending in summer", rome(2026, 7, 1, 12, 0), 60, lastMicroUTC(2026, 8, 30, summer)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := DueAt(tc.filed, tc.days); !got.Equal(tc.want) {
				t.Errorf("DueAt(%s, %d) = %s, want %s", tc.filed.In(Rome), tc.days, got.In(Rome), tc.want.In(Rome))
			}
		})
	}
}

func TestProtocolYearIsTheCalendarYearInRome(t *testing.T) {
	cases := []struct {
		at   time.Time
		want int
	}{
		{time.Date(2026, 12, 31, 22, 59, 59, 0, time.UTC), 2026}, // 23:59:59 in Rome
		{time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC), 2027},   // midnight in Rome
		{time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC), 2027},
		{rome(2026, 12, 31, 23, 59), 2026},
		{rome(2027, 1, 1, 0, 0), 2027},
		{time.Date(2026, 6, 30, 22, 30, 0, 0, time.UTC), 2026},
		{time.Date(2027, 1, 1, 0, 30, 0, 0, time.FixedZone("New York", -5*3600)), 2027},
		{time.Date(2026, 12, 31, 20, 0, 0, 0, time.FixedZone("New York", -5*3600)), 2027}, // 02:00 on 1 January in Rome
	}
	for _, tc := range cases {
		if got := ProtocolYear(tc.at); got != tc.want {
			t.Errorf("ProtocolYear(%s) = %d, want %d", tc.at, got, tc.want)
		}
	}
}

func TestTicketIsOverdueOnlyWhenOpenAndPastTheDeadline(t *testing.T) {
	due := lastMicroUTC(2026, 4, 9, summer)
	cases := []struct {
		status Status
		now    time.Time
		want   bool
	}{
		{StatusSubmitted, due.Add(-time.Hour), false},
		{StatusSubmitted, due, false},
		{StatusSubmitted, due.Add(time.Microsecond), true},
		{StatusInProgress, due.Add(24 * time.Hour), true},
		{StatusWaitingForCitizen, due.Add(24 * time.Hour), true},
		{StatusResolved, due.Add(24 * time.Hour), false},
		{StatusRejected, due.Add(24 * time.Hour), false},
		{StatusClosed, due.Add(24 * time.Hour), false},
	}
	for _, tc := range cases {
		tk := &Ticket{Status: tc.status, DueAt: due}
		if got := tk.Overdue(tc.now); got != tc.want {
			t.Errorf("%s ticket at %s: Overdue = %v, want %v", tc.status, tc.now.In(Rome), got, tc.want)
		}
	}
}
