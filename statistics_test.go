package sportello

import (
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
