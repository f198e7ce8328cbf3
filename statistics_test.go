package sportello

import (
	"math"
	"testing"
	"time"
)

func TestPercentileInterpolatesBetweenRanksAsPercentileCont(t *testing.T) {
	// Worked by hand: sorted 1 2 3 4 10; the median is the third value; the 90th percentile
	// lies at rank 0.9 × 4 = 3.6, between 4 and 10: 4 + 0.6 × 6 = 7.6.
	values := []float64{10, 3, 1, 4, 2}
	tests := []struct {
		name   string
		values []float64
		p      float64
		want   float64
	}{
		{"median of an odd count", values, 0.5, 3},
		{"90th percentile", values, 0.9, 7.6},
		{"median of an even count", []float64{1, 2, 3, 4}, 0.5, 2.5},
		{"minimum", values, 0, 1},
		{"maximum", values, 1, 10},
		{"one value", []float64{7}, 0.9, 7},
		{"no values", nil, 0.5, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Percentile(tc.values, tc.p); got < tc.want-1e-9 || got > tc.want+1e-9 {
				t.Fatalf("Percentile = %v, want %v", got, tc.want)
			}
		})
	}
	if values[0] != 10 {
		t.Fatal("Percentile sorted its input")
	}
}

func TestHalfYearRunsJanuaryToJuneAndJulyToDecemberInRome(t *testing.T) {
	p, err := HalfYear(2026, 1)
	if err != nil {
		t.Fatal(err)
	}
	from, to := p.Bounds()
	if want := time.Date(2026, 1, 1, 0, 0, 0, 0, Rome); !from.Equal(want) {
		t.Errorf("from = %v", from)
	}
	// The end is midnight of 1 July in Rome, summer time: 22:00 UTC on 30 June.
	if want := time.Date(2026, 6, 30, 22, 0, 0, 0, time.UTC); !to.Equal(want) {
		t.Errorf("to = %v", to)
	}
	p, _ = HalfYear(2026, 2)
	if p.From != (Date{2026, 7, 1}) || p.To != (Date{2026, 12, 31}) {
		t.Errorf("second half = %+v", p)
	}
	for _, bad := range []struct{ year, half int }{{2026, 0}, {2026, 3}, {1999, 1}} {
		if _, err := HalfYear(bad.year, bad.half); ErrorCode(err) != CodeBadUserInput {
			t.Errorf("HalfYear(%d, %d) error = %v", bad.year, bad.half, err)
		}
	}
}

func TestFeedbackIsLeftOnlyOnAnsweredTicketsWithValidInput(t *testing.T) {
	for _, s := range Statuses {
		err := CheckFeedbackAllowed(&Ticket{Status: s})
		allowed := s == StatusResolved || s == StatusClosed
		if allowed != (err == nil) || (!allowed && ErrorCode(err) != CodeInvalidTransition) {
			t.Errorf("%s: error = %v", s, err)
		}
	}
	long := make([]byte, MaxFeedbackCommentLen+1)
	for i := range long {
		long[i] = 'a'
	}
	tests := []struct {
		in    FeedbackInput
		field string
	}{
		{FeedbackInput{Level: FeedbackPositive}, ""},
		{FeedbackInput{Level: FeedbackNegative, Rating: new(1), Comment: " Troppa attesa "}, ""},
		{FeedbackInput{Level: "HAPPY"}, "level"},
		{FeedbackInput{Level: FeedbackNeutral, Rating: new(0)}, "rating"},
		{FeedbackInput{Level: FeedbackNeutral, Rating: new(6)}, "rating"},
		{FeedbackInput{Level: FeedbackNeutral, Comment: string(long)}, "comment"},
	}
	for _, tc := range tests {
		err := tc.in.Validate()
		e, _ := err.(*Error)
		if (tc.field == "" && err != nil) || (tc.field != "" && (e == nil || e.Field != tc.field)) {
			t.Errorf("%+v: error = %v, want field %q", tc.in, err, tc.field)
		}
	}
}

// TestStatsTallyTakesEachGroupsPercentilesOfItsOwnValues checks the tally's one sort per time
// against Percentile over each group's values gathered apart, on values with ties, zeros of
// both signs and negative times (a wrong clock), and counts the facts per group.
func TestStatsTallyTakesEachGroupsPercentilesOfItsOwnValues(t *testing.T) {
	dims := []StatsDimension{ByKind, ByMonth}
	tally := NewStatsTally(dims)
	type values struct{ office, days []float64 }
	want := map[string]*values{}
	gathered := func(key string) *values {
		if want[key] == nil {
			want[key] = &values{}
		}
		return want[key]
	}
	for i := range 500 {
		kind, month := []string{"A", "B", "C"}[i%3], []string{"2026-01", "2026-02"}[i%7/4]
		v := float64(i*7919%211) - 50
		switch i % 11 {
		case 0:
			v = math.Copysign(0, -1)
		case 1:
			v = 0
		}
		f := TicketFacts{Keys: []string{kind, month}, Answered: i%5 != 0, Open: i%5 == 0,
			ResolutionOfficeSeconds: Measure{Value: v * 3600, Valid: i%13 != 0},
			ResolutionDays:          Measure{Value: v / 7, Valid: true}}
		tally.Add(&f)
		for _, key := range []string{"", "KIND:" + kind, "MONTH:" + month} {
			w := gathered(key)
			if f.ResolutionOfficeSeconds.Valid {
				w.office = append(w.office, v*3600)
			}
			if f.Answered {
				w.days = append(w.days, v/7)
			}
		}
	}
	total, groups := tally.Figures()
	if total.Tickets != 500 || total.Open != 100 || total.Answered != 400 || len(groups) != 5 {
		t.Fatalf("total = %+v, %d groups", total, len(groups))
	}
	check := func(key string, g *StatsGroup) {
		t.Helper()
		w := want[key]
		for _, c := range []struct {
			name string
			got  *float64
			want float64
		}{
			{"median hours", g.Resolution.MedianOfficeHours, Percentile(w.office, 0.5) / 3600},
			{"p90 hours", g.Resolution.P90OfficeHours, Percentile(w.office, 0.9) / 3600},
			{"median days", g.Resolution.MedianDays, Percentile(w.days, 0.5)},
			{"p90 days", g.Resolution.P90Days, Percentile(w.days, 0.9)},
		} {
			if c.got == nil || *c.got != c.want {
				t.Errorf("%s: %s = %v, want %v", key, c.name, c.got, c.want)
			}
		}
		if g.FirstResponse.MedianDays != nil {
			t.Errorf("%s: first response measured without measures", key)
		}
	}
	check("", total)
	for i, g := range groups {
		if wantDim := dims[min(i/3, 1)]; g.Dimension != wantDim || g.Key != g.Label {
			t.Errorf("group %d = %s %q labelled %q", i, g.Dimension, g.Key, g.Label)
		}
		check(string(g.Dimension)+":"+g.Key, g)
	}
}

// BenchmarkStatsTally counts six months of a large municipality, 125,000 tickets, by every
// dimension: what the statistics compute once the database has read the tickets' facts.
func BenchmarkStatsTally(b *testing.B) {
	const n = 125_000
	facts := make([]TicketFacts, n)
	for i := range facts {
		r := float64((i*7919)%n) / n
		f := &facts[i]
		f.Keys = []string{string(Kinds[i%len(Kinds)]), string(Channels[(i/7)%len(Channels)]),
			[]string{"", "o1", "o2", "o3", "o4", "o5"}[(i/3)%6], string(Statuses[(i/11)%len(Statuses)]), []string{"2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"}[i*6/n]}
		f.Answered, f.OnTime = i%10 != 0, i%3 == 0
		f.FirstResponseOfficeSeconds = Measure{Value: float64(int(r * 40 * 3600)), Valid: true}
		f.ResolutionOfficeSeconds = Measure{Value: float64(int(r * 360 * 3600)), Valid: f.Answered}
		f.FirstResponseDays = Measure{Value: r * 5, Valid: f.Answered}
		f.ResolutionDays = Measure{Value: r * 45, Valid: f.Answered}
	}
	dims := []StatsDimension{ByKind, ByChannel, ByOffice, ByStatus, ByMonth}
	b.ReportAllocs()
	for b.Loop() {
		t := NewStatsTally(dims)
		for i := range facts {
			t.Add(&facts[i])
		}
		t.Figures()
	}
}
