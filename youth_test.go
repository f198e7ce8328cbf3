package sportello

import (
	"testing"
	"time"
)

func TestOpportunityInputValidateNamesTheFieldAtFault(t *testing.T) {
	day := func(y int, m time.Month, d int) *Date { return &Date{y, m, d} }
	valid := func() OpportunityInput {
		return OpportunityInput{Category: CategoryVolunteering, Title: " Corpo europeo di solidarietà ", Country: "es",
			Languages: []string{"EN", "en", "es"}, MinAge: 18, MaxAge: 30, Topics: []string{"Volontariato"}}
	}
	tests := []struct {
		name  string
		edit  func(*OpportunityInput)
		field string // "" when valid
	}{
		{"valid", func(*OpportunityInput) {}, ""},
		{"unknown category", func(in *OpportunityInput) { in.Category = "PARTY" }, "category"},
		{"empty title", func(in *OpportunityInput) { in.Title = "  " }, "title"},
		{"country not ISO", func(in *OpportunityInput) { in.Country = "Spain" }, "country"},
		{"language not ISO", func(in *OpportunityInput) { in.Languages = []string{"english"} }, "languages"},
		{"negative age", func(in *OpportunityInput) { in.MinAge = -1 }, "minAge"},
		{"max below min", func(in *OpportunityInput) { in.MinAge, in.MaxAge = 20, 18 }, "maxAge"},
		{"no upper age", func(in *OpportunityInput) { in.MinAge, in.MaxAge = 20, 0 }, ""},
		{"end before start", func(in *OpportunityInput) { in.StartDate, in.EndDate = day(2026, 5, 2), day(2026, 5, 1) }, "endDate"},
		{"link not http", func(in *OpportunityInput) { in.URL = "javascript:alert(1)" }, "url"},
		{"unknown source", func(in *OpportunityInput) { in.Source = "RUMOUR" }, "source"},
		{"feed without reference", func(in *OpportunityInput) { in.Source = SourceEurodesk }, "externalRef"},
		{"unknown status", func(in *OpportunityInput) { in.Status = "LIVE" }, "status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := valid()
			tt.edit(&in)
			err := in.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			e, ok := err.(*Error)
			if !ok || e.Code != CodeBadUserInput || e.Field != tt.field {
				t.Fatalf("want BAD_USER_INPUT on %s, got %v", tt.field, err)
			}
		})
	}
}

func TestOpportunityInputValidateNormalizes(t *testing.T) {
	in := OpportunityInput{Category: CategoryJob, Title: " Barista ", Country: "it", Languages: []string{"IT", "it", "En"}}
	if err := in.Validate(); err != nil {
		t.Fatal(err)
	}
	if in.Title != "Barista" || in.Country != "IT" || len(in.Languages) != 2 || in.Languages[1] != "en" ||
		in.Source != SourceLocal || in.Status != OpportunityDraft {
		t.Fatalf("not normalized: %+v", in)
	}
}

func TestPublishedOpportunityReadsExpiredFromTheDayAfterItsDeadline(t *testing.T) {
	o := &Opportunity{Status: OpportunityPublished, Deadline: &Date{2026, 3, 28}}
	tests := []struct {
		at   time.Time
		want OpportunityStatus
	}{
		{time.Date(2026, 3, 28, 23, 59, 0, 0, Rome), OpportunityPublished},
		// 23:30 UTC on the 28th is already the 29th in Rome (UTC+1 until the clocks change that night).
		{time.Date(2026, 3, 28, 23, 30, 0, 0, time.UTC), OpportunityExpired},
		{time.Date(2026, 3, 29, 0, 0, 0, 0, Rome), OpportunityExpired},
	}
	for _, tt := range tests {
		if got := o.StatusAt(tt.at); got != tt.want {
			t.Errorf("at %s: %s, want %s", tt.at, got, tt.want)
		}
	}
	draft := &Opportunity{Status: OpportunityDraft, Deadline: &Date{2020, 1, 1}}
	if got := draft.StatusAt(time.Now()); got != OpportunityDraft {
		t.Errorf("a draft past its deadline reads %s", got)
	}
	open := &Opportunity{Status: OpportunityPublished}
	if got := open.StatusAt(time.Now()); got != OpportunityPublished {
		t.Errorf("an opportunity without a deadline reads %s", got)
	}
}

func TestOpportunityFilterSortsByDeadlineWithoutWords(t *testing.T) {
	f := OpportunityFilter{Sort: SortRelevance}
	if err := f.Validate(); err != nil || f.Sort != SortDeadline {
		t.Fatalf("sort %s, err %v", f.Sort, err)
	}
	f = OpportunityFilter{OpportunityCriteria: OpportunityCriteria{Text: "tirocinio"}}
	if err := f.Validate(); err != nil || f.Sort != SortRelevance {
		t.Fatalf("sort %s, err %v", f.Sort, err)
	}
	for name, bad := range map[string]OpportunityFilter{
		"filter.near.radiusMeters": {OpportunityCriteria: OpportunityCriteria{Near: &Area{Latitude: 45, Longitude: 9}}},
		"filter.closingWithinDays": {ClosingWithinDays: -1},
		"filter.deadlineTo":        {DeadlineFrom: &Date{2026, 5, 2}, DeadlineTo: &Date{2026, 5, 1}},
		"filter.age":               {OpportunityCriteria: OpportunityCriteria{Age: 200}},
		"filter.sort":              {Sort: "RANDOM"},
	} {
		e, ok := bad.Validate().(*Error)
		if !ok || e.Field != name {
			t.Errorf("want BAD_USER_INPUT on %s, got %v", name, e)
		}
	}
}
