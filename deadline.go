package sportello

import (
	"time"
	// The office's clock is Europe/Rome on every machine, including those without a zoneinfo
	// database installed.
	_ "time/tzdata"
)

// Rome is the time zone of the office: legal terms and calendar years are counted in it.
var Rome = mustLoadLocation("Europe/Rome")

func mustLoadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// DefaultResponseDays is the legal term to answer a ticket when the tenant has not configured
// one for its kind and office (L. 241/1990 art. 2: 30 days unless a rule says otherwise).
const DefaultResponseDays = 30

// MaxResponseDays bounds a configured term.
const MaxResponseDays = 365

// DueAt returns the deadline of a ticket filed at filed with a term of days calendar days. The
// day of filing does not count (dies a quo non computatur) and the term ends at the end of its
// last day in Rome, so a ticket filed at 23:59 gets as many whole days as one filed at 9:00.
func DueAt(filed time.Time, days int) time.Time {
	f := filed.In(Rome)
	end := time.Date(f.Year(), f.Month(), f.Day()+days+1, 0, 0, 0, 0, Rome)
	return end.Add(-time.Microsecond)
}

// ProtocolYear is the calendar year, in Rome, that a document registered at t is numbered in.
func ProtocolYear(t time.Time) int { return t.In(Rome).Year() }
