package sportello

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// The piazza of the demo town and points around it.
var (
	piazza    = Point{Latitude: 41.9000, Longitude: 12.5000}
	near80m   = Point{Latitude: 41.9000 + 80.0/111_195, Longitude: 12.5000}
	far2km    = Point{Latitude: 41.9000 + 2000.0/111_195, Longitude: 12.5000}
	centreBox = []Point{{41.89, 12.49}, {41.89, 12.51}, {41.91, 12.51}, {41.91, 12.49}}
)

func TestRouteTakesTheFirstMatchingRuleByPosition(t *testing.T) {
	rules := []*RoutingRule{
		{ID: "lights", Name: "Illuminazione", Position: 20, Enabled: true, Kinds: []Kind{KindReport}, Keywords: []string{"lampion*", "illuminazione pubblica"}},
		{ID: "roads", Name: "Strade", Position: 10, Enabled: true, Keywords: []string{"buca", "marciapiede"}},
		{ID: "centre", Name: "Centro storico", Position: 30, Enabled: true, Area: &RoutingArea{Polygon: centreBox}},
		{ID: "near", Name: "Piazza", Position: 40, Enabled: true, Area: &RoutingArea{Center: &piazza, RadiusMeters: 100}},
		{ID: "pec", Name: "PEC", Position: 50, Enabled: true, Channels: []Channel{ChannelPEC}},
		{ID: "off", Name: "Spenta", Position: 0, Enabled: false},
		{ID: "default", Name: "URP", Position: 0, Enabled: true, Default: true},
	}
	tests := []struct {
		name   string
		sample RoutingSample
		want   string // rule id; "" for none
		reason string
	}{
		{"keyword in body, accents and case ignored", RoutingSample{Kind: KindComplaint, Channel: ChannelWeb, Subject: "Via Roma", Body: "Una BUCA profonda"}, "roads", `keyword "buca"`},
		{"lower position wins over a later match", RoutingSample{Kind: KindReport, Channel: ChannelWeb, Subject: "Buca e lampione"}, "roads", "buca"},
		{"prefix keyword", RoutingSample{Kind: KindReport, Channel: ChannelApp, Subject: "Lampioni spenti"}, "lights", `keyword "lampion*"`},
		{"several words in a row", RoutingSample{Kind: KindReport, Channel: ChannelApp, Body: "guasto all'illuminazione pubblica"}, "lights", "illuminazione pubblica"},
		{"words not in a row do not match", RoutingSample{Kind: KindReport, Channel: ChannelApp, Body: "illuminazione della via pubblica"}, "default", "default rule"},
		{"kind must match too", RoutingSample{Kind: KindComplaint, Channel: ChannelApp, Subject: "Lampione"}, "default", ""},
		{"keyword is a whole word", RoutingSample{Kind: KindComplaint, Channel: ChannelWeb, Subject: "Bucato steso"}, "default", ""},
		{"polygon", RoutingSample{Kind: KindReport, Channel: ChannelApp, Subject: "Rifiuti", Location: &near80m}, "centre", "location in the area"},
		{"outside every area", RoutingSample{Kind: KindReport, Channel: ChannelApp, Subject: "Rifiuti", Location: &far2km}, "default", ""},
		{"no location never matches an area", RoutingSample{Kind: KindReport, Channel: ChannelApp, Subject: "Rifiuti"}, "default", ""},
		{"channel", RoutingSample{Kind: KindPetition, Channel: ChannelPEC, Subject: "Istanza"}, "pec", "channel PEC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Route(rules, tt.sample)
			if d == nil || d.Rule.ID != tt.want {
				t.Fatalf("decision = %+v, want rule %s", d, tt.want)
			}
			if !strings.Contains(d.Reason, tt.reason) {
				t.Errorf("reason %q does not say %q", d.Reason, tt.reason)
			}
		})
	}
}

func TestRouteWithoutDefaultMayMatchNothing(t *testing.T) {
	rules := []*RoutingRule{{ID: "roads", Name: "Strade", Enabled: true, Keywords: []string{"buca"}}}
	if d := Route(rules, RoutingSample{Kind: KindReport, Channel: ChannelWeb, Subject: "Rifiuti"}); d != nil {
		t.Fatalf("decision = %+v, want none", d)
	}
}

func TestNormalizeWordsDropsAccentsAndPunctuation(t *testing.T) {
	got := NormalizeWords("Città: c'è l'UNITÀ, perché?")
	want := []string{"citta", "c", "e", "l", "unita", "perche"}
	if !slices.Equal(got, want) {
		t.Fatalf("NormalizeWords = %q, want %q", got, want)
	}
}

func TestInPolygon(t *testing.T) {
	// An L-shaped polygon: the notch at the top right is outside.
	l := []Point{{0, 0}, {0, 4}, {2, 4}, {2, 2}, {4, 2}, {4, 0}}
	tests := []struct {
		p    Point
		want bool
	}{
		{Point{1, 1}, true}, {Point{1, 3}, true}, {Point{3, 1}, true},
		{Point{3, 3}, false}, {Point{5, 1}, false}, {Point{-1, 1}, false}, {Point{1, 5}, false},
	}
	for _, tt := range tests {
		if got := InPolygon(l, tt.p); got != tt.want {
			t.Errorf("InPolygon(%v) = %v, want %v", tt.p, got, tt.want)
		}
	}
}

func TestRoutingRuleInputValidation(t *testing.T) {
	valid := func() RoutingRuleInput {
		return RoutingRuleInput{Name: "Strade", OfficeID: "o", Keywords: []string{" Marciapiède ", "lampion*"}}
	}
	tests := []struct {
		name  string
		edit  func(*RoutingRuleInput)
		field string
	}{
		{"valid", func(*RoutingRuleInput) {}, ""},
		{"no name", func(in *RoutingRuleInput) { in.Name = " " }, "name"},
		{"no office", func(in *RoutingRuleInput) { in.OfficeID = "" }, "officeId"},
		{"unknown kind", func(in *RoutingRuleInput) { in.Kinds = []Kind{"X"} }, "kinds"},
		{"empty keyword", func(in *RoutingRuleInput) { in.Keywords = []string{"!!"} }, "keywords"},
		{"circle and polygon", func(in *RoutingRuleInput) {
			in.Area = &RoutingArea{Center: &piazza, RadiusMeters: 5, Polygon: centreBox}
		}, "area"},
		{"circle without radius", func(in *RoutingRuleInput) { in.Area = &RoutingArea{Center: &piazza} }, "area.radiusMeters"},
		{"polygon of two points", func(in *RoutingRuleInput) { in.Area = &RoutingArea{Polygon: centreBox[:2]} }, "area.polygon"},
		{"bad latitude", func(in *RoutingRuleInput) { in.Area = &RoutingArea{Center: &Point{Latitude: 91}, RadiusMeters: 5} }, "area.center.latitude"},
		{"default with conditions", func(in *RoutingRuleInput) { in.Default = true }, "default"},
		{"fixed assignee and strategy", func(in *RoutingRuleInput) { in.AssigneeID, in.Strategy = "s", AssignRoundRobin }, "assigneeId"},
		{"unknown priority", func(in *RoutingRuleInput) { in.Priority = "SOON" }, "priority"},
		{"negative cap", func(in *RoutingRuleInput) { in.MaxOpenPerOperator = -1 }, "maxOpenPerOperator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := valid()
			tt.edit(&in)
			err := in.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(in.Keywords, []string{"marciapiede", "lampion*"}) || in.Strategy != AssignNone {
					t.Errorf("normalized to %q, %s", in.Keywords, in.Strategy)
				}
				return
			}
			var e *Error
			if err == nil || !errors.As(err, &e) || e.Code != CodeBadUserInput || e.Field != tt.field {
				t.Fatalf("error = %v, want BAD_USER_INPUT on %s", err, tt.field)
			}
		})
	}
}

func TestPickAssignee(t *testing.T) {
	ops := []OperatorLoad{{ID: "c", Open: 1}, {ID: "a", Open: 3}, {ID: "b", Open: 1}, {ID: "d", Absent: true}}
	tests := []struct {
		name     string
		strategy AssignStrategy
		last     string
		maxOpen  int
		want     string
	}{
		{"round robin starts at the first", AssignRoundRobin, "", 0, "a"},
		{"round robin takes the next", AssignRoundRobin, "a", 0, "b"},
		{"round robin skips the absent and wraps", AssignRoundRobin, "c", 0, "a"},
		{"round robin after a vanished operator", AssignRoundRobin, "bb", 0, "c"},
		{"round robin skips operators at the cap", AssignRoundRobin, "", 2, "b"},
		{"least open, earliest on a tie", AssignLeastOpen, "", 0, "b"},
		{"nobody under the cap", AssignLeastOpen, "", 1, ""},
		{"no strategy picks nobody", AssignNone, "", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := PickAssignee(ops, tt.strategy, tt.last, tt.maxOpen)
			if got != tt.want || ok != (tt.want != "") {
				t.Fatalf("PickAssignee = %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
}

func TestReachedThresholdsOnTheOfficeHoursClock(t *testing.T) {
	// Monday to Friday 9-13: 20 office hours a week. A target of 10 hours warns at 8 hours.
	var slots []OpeningSlot
	for d := time.Monday; d <= time.Friday; d++ {
		slots = append(slots, OpeningSlot{Weekday: d, Opens: "09:00", Closes: "13:00"})
	}
	sched, err := NewSchedule(slots, nil)
	if err != nil {
		t.Fatal(err)
	}
	at := func(day, hour, minute int) time.Time { return time.Date(2026, 3, day, hour, minute, 0, 0, Rome) }
	filed := at(6, 9, 0) // Friday 6 March 2026, 9:00
	ticket := func() *Ticket {
		return &Ticket{Status: StatusSubmitted, CreatedAt: filed, DueAt: DueAt(filed, 30)}
	}
	replied := at(9, 10, 0)
	tests := []struct {
		name string
		now  time.Time
		edit func(*Ticket)
		want []Threshold
	}{
		{"4 office hours on Friday", at(6, 13, 0), nil, nil},
		{"the weekend does not count", at(9, 8, 59), nil, nil},
		{"7h59 of office time", at(9, 12, 59), nil, nil},
		{"8 office hours: 80% of the target", at(9, 13, 0), nil, []Threshold{ThresholdSLAWarning}},
		{"a reply stops the office-hours clock", at(9, 13, 0), func(t *Ticket) { t.FirstRespondedAt = &replied }, nil},
		{"80% of the legal term", filed.Add(time.Duration(0.8 * float64(DueAt(filed, 30).Sub(filed)))), func(t *Ticket) { t.FirstRespondedAt = &replied }, []Threshold{ThresholdTermWarning}},
		{"overdue", DueAt(filed, 30).Add(time.Second), nil, []Threshold{ThresholdSLAWarning, ThresholdTermWarning, ThresholdOverdue}},
		{"closed tickets are not escalated", DueAt(filed, 30).Add(time.Hour), func(t *Ticket) { t.Status = StatusResolved }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := ticket()
			if tt.edit != nil {
				tt.edit(tk)
			}
			got := ReachedThresholds(tk, sched, 10, DefaultEscalationShare, tt.now)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("thresholds = %v, want %v", got, tt.want)
			}
		})
	}
	if got := ReachedThresholds(ticket(), nil, 10, DefaultEscalationShare, at(20, 9, 0)); len(got) != 0 {
		t.Errorf("a ticket without a clock has no SLA threshold: %v", got)
	}
}

func TestMergeStepsFollowTheWorkflow(t *testing.T) {
	for _, from := range Statuses {
		steps, err := MergeSteps(from)
		if from == StatusClosed {
			if ErrorCode(err) != CodeInvalidTransition {
				t.Errorf("merging a closed ticket: %v", err)
			}
			continue
		}
		if err != nil || steps[len(steps)-1] != StatusClosed {
			t.Fatalf("MergeSteps(%s) = %v, %v", from, steps, err)
		}
		tk := &Ticket{Status: from}
		for _, to := range steps {
			if err := CheckTransition(&Transition{Ticket: tk, To: to, Reason: "Duplicato", Staff: true}); err != nil {
				t.Fatalf("from %s: step to %s: %v", from, to, err)
			}
			tk.Status = to
		}
	}
}

func TestReplyTemplates(t *testing.T) {
	v := TemplateValues{Name: "Mario Rossi", Protocol: "2026/0000012", DueDate: "05/04/2026", Office: "URP", Hours: "lunedì 09:00-13:00"}
	tests := []struct {
		name, body, want, field string
	}{
		{"italian placeholders", "Gentile {{nome}}, la pratica {{protocollo}} avrà risposta entro il {{scadenza}} da {{ufficio}} ({{orari}}).",
			"Gentile Mario Rossi, la pratica 2026/0000012 avrà risposta entro il 05/04/2026 da URP (lunedì 09:00-13:00).", ""},
		{"english placeholders and spaces", "Dear {{ name }}, ticket {{protocol}} is due {{dueDate}}.", "Dear Mario Rossi, ticket 2026/0000012 is due 05/04/2026.", ""},
		{"no placeholders", "Grazie.", "Grazie.", ""},
		{"unknown placeholder", "Gentile {{cognome}}", "", "body"},
		{"unclosed placeholder", "Gentile {{nome", "", "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := ReplyTemplateInput{Name: "Presa in carico", Body: tt.body}
			err := in.Validate()
			if tt.field != "" {
				var e *Error
				if !errors.As(err, &e) || e.Code != CodeBadUserInput || e.Field != tt.field {
					t.Fatalf("error = %v, want BAD_USER_INPUT on %s", err, tt.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := (&ReplyTemplate{Body: in.Body}).Render(v)
			if err != nil || got != tt.want {
				t.Fatalf("Render = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	// A value that looks like a placeholder is inserted as it is.
	got, err := (&ReplyTemplate{Body: "{{nome}}"}).Render(TemplateValues{Name: "{{protocollo}}"})
	if err != nil || got != "{{protocollo}}" {
		t.Errorf("values are not expanded again: %q, %v", got, err)
	}
}

func TestPriorityRaisedStopsAtUrgent(t *testing.T) {
	for p, want := range map[Priority]Priority{PriorityLow: PriorityNormal, PriorityNormal: PriorityHigh, PriorityHigh: PriorityUrgent, PriorityUrgent: PriorityUrgent} {
		if got := p.Raised(); got != want {
			t.Errorf("%s raised = %s, want %s", p, got, want)
		}
	}
}

func TestRankDuplicatesPutsNearOnesFirst(t *testing.T) {
	dist := func(m float64) *float64 { return &m }
	cs := []*DuplicateCandidate{
		{TicketID: "similar", Similarity: 0.9},
		{TicketID: "near-80", DistanceMeters: dist(80), Similarity: 0.1},
		{TicketID: "outside", DistanceMeters: dist(300), Similarity: 0.5},
		{TicketID: "near-20", DistanceMeters: dist(20)},
	}
	RankDuplicates(cs, 100)
	var got []string
	for _, c := range cs {
		got = append(got, c.TicketID)
	}
	if want := []string{"near-20", "near-80", "similar", "outside"}; !slices.Equal(got, want) {
		t.Fatalf("ranked %v, want %v", got, want)
	}
}

// BenchmarkRoute measures the rule engine on a municipality with many rules, as every filing
// runs it: the first 49 rules miss and the last matches by area.
func BenchmarkRoute(b *testing.B) {
	var rules []*RoutingRule
	for i := range 49 {
		rules = append(rules, &RoutingRule{ID: "r", Name: "Regola", Position: i, Enabled: true,
			Kinds: []Kind{KindReport}, Keywords: []string{"parola" + string(rune('a'+i%26)) + "*", "due parole"}})
	}
	rules = append(rules, &RoutingRule{ID: "area", Name: "Centro", Position: 99, Enabled: true, Area: &RoutingArea{Polygon: centreBox}})
	s := RoutingSample{Kind: KindReport, Channel: ChannelApp, Subject: "Lampione spento in via Garibaldi",
		Body: strings.Repeat("Il lampione davanti al civico 21 è spento da giorni e la strada è buia. ", 10), Location: &near80m}
	for b.Loop() {
		if d := Route(rules, s); d == nil || d.Rule.ID != "area" {
			b.Fatal("no match")
		}
	}
}
