package db_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
	"github.com/sportello/sportello/db/dbtest"
)

// newOperator adds an operator of the office and returns their staff id.
func newOperator(t *testing.T, d *db.DB, officeID, subject string) string {
	t.Helper()
	var id string
	if err := d.Get(&id, `INSERT INTO staff (tenant_id, subject, name, office_id) VALUES ($1, $2, $3, $4) RETURNING id`,
		sportello.DefaultTenantID, subject, "Operatore "+subject, officeID); err != nil {
		t.Fatal(err)
	}
	return id
}

func newRule(t *testing.T, s *db.TriageService, in sportello.RoutingRuleInput) *sportello.RoutingRule {
	t.Helper()
	in.Enabled = true
	r, err := s.CreateRoutingRule(managerCtx(sportello.DefaultTenantID), in)
	if err != nil {
		t.Fatalf("create rule: %v", err)
	}
	return r
}

func history(t *testing.T, s *db.TicketService, ctx context.Context, id string) []*sportello.Event {
	t.Helper()
	events, err := s.EventsByTicket(ctx, []string{id})
	if err != nil {
		t.Fatal(err)
	}
	return events[id]
}

func eventsOf(events []*sportello.Event, typ sportello.EventType) []*sportello.Event {
	var out []*sportello.Event
	for _, e := range events {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

func TestFilingOnEveryChannelFollowsTheRulesAndRecordsWhichFired(t *testing.T) {
	d := dbtest.New(t)
	tickets, triage := db.NewTicketService(d), db.NewTriageService(d)
	roads := newOffice(t, d, sportello.DefaultTenantID, "Lavori Pubblici")
	urp := newOffice(t, d, sportello.DefaultTenantID, "URP")
	ops := []string{newOperator(t, d, roads, "op-1"), newOperator(t, d, roads, "op-2"), newOperator(t, d, roads, "op-3")}
	slices.Sort(ops)
	rule := newRule(t, triage, sportello.RoutingRuleInput{Name: "Strade", Position: 10, Keywords: []string{"buca"},
		OfficeID: roads, Strategy: sportello.AssignRoundRobin, Priority: sportello.PriorityHigh})
	newRule(t, triage, sportello.RoutingRuleInput{Name: "URP", Default: true, OfficeID: urp})

	const subject, body = "Buca in via Roma", "Una buca pericolosa davanti al civico 12."
	filings := []func() *sportello.Submission{
		func() *sportello.Submission { return submit(t, tickets, citizenCtx("c1"), sportello.KindReport) },
		func() *sportello.Submission {
			sub, err := tickets.RegisterTicket(operatorCtx("desk"), sportello.RegisterTicketInput{Kind: sportello.KindReport,
				Channel: sportello.ChannelPhone, Subject: subject, Body: body})
			if err != nil {
				t.Fatal(err)
			}
			return sub
		},
		func() *sportello.Submission { return submit(t, tickets, anonymousCtx(), sportello.KindReport) },
		func() *sportello.Submission { return submit(t, tickets, citizenCtx("c2"), sportello.KindComplaint) },
	}
	for i, file := range filings {
		tk := file().Ticket
		if tk.OfficeID != roads || tk.AssigneeID != ops[i%3] || tk.Priority != sportello.PriorityHigh {
			t.Fatalf("filing %d: office %s, assignee %s, priority %s; want the rule's office, operator %d, HIGH", i, tk.OfficeID, tk.AssigneeID, tk.Priority, i%3)
		}
		routed := eventsOf(history(t, tickets, operatorCtx("desk"), tk.ID), sportello.EventRouted)
		if len(routed) != 1 || routed[0].Data.RuleID != rule.ID || routed[0].Actor.Kind != sportello.ActorSystem {
			t.Fatalf("filing %d: ROUTED events %+v", i, routed)
		}
		if want := `rule "Strade": keyword "buca"; assigned by ROUND_ROBIN`; routed[0].Data.Reason != want {
			t.Errorf("reason = %q, want %q", routed[0].Data.Reason, want)
		}
	}

	other, err := tickets.SubmitTicket(citizenCtx("c1"), sportello.SubmitTicketInput{Kind: sportello.KindInformation,
		Subject: "Orari", Body: "Quando siete aperti?"})
	if err != nil {
		t.Fatal(err)
	}
	if other.Ticket.OfficeID != urp || other.Ticket.AssigneeID != "" || other.Ticket.Priority != sportello.PriorityNormal {
		t.Errorf("the default rule: %+v", other.Ticket)
	}
	named, err := tickets.SubmitTicket(citizenCtx("c1"), sportello.SubmitTicketInput{Kind: sportello.KindReport,
		Subject: subject, Body: body, OfficeID: urp})
	if err != nil {
		t.Fatal(err)
	}
	if named.Ticket.OfficeID != urp || len(eventsOf(history(t, tickets, operatorCtx("desk"), named.Ticket.ID), sportello.EventRouted)) != 0 {
		t.Errorf("an office named by the filer is kept: %+v", named.Ticket)
	}
}

func TestRoundRobinTakesTurnsUnderConcurrentFilings(t *testing.T) {
	d := dbtest.New(t)
	tickets, triage := db.NewTicketService(d), db.NewTriageService(d)
	roads := newOffice(t, d, sportello.DefaultTenantID, "Lavori Pubblici")
	for _, s := range []string{"op-1", "op-2", "op-3"} {
		newOperator(t, d, roads, s)
	}
	newRule(t, triage, sportello.RoutingRuleInput{Name: "Tutto", OfficeID: roads, Strategy: sportello.AssignRoundRobin})
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(func() { submit(t, tickets, citizenCtx("c"+string(rune('a'+i%26))), sportello.KindReport) })
	}
	wg.Wait()
	var counts []int
	if err := d.Select(&counts, `SELECT count(*) FROM tickets GROUP BY assignee_id ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(counts, []int{10, 10, 10}) {
		t.Fatalf("tickets per operator = %v, want 10 each", counts)
	}
}

func TestLeastOpenSkipsAbsentOperatorsAndRespectsTheCap(t *testing.T) {
	d := dbtest.New(t)
	tickets, triage := db.NewTicketService(d), db.NewTriageService(d)
	roads := newOffice(t, d, sportello.DefaultTenantID, "Lavori Pubblici")
	anna, bruno := newOperator(t, d, roads, "anna"), newOperator(t, d, roads, "bruno")
	newRule(t, triage, sportello.RoutingRuleInput{Name: "Tutto", OfficeID: roads, Strategy: sportello.AssignLeastOpen, MaxOpenPerOperator: 2})

	if _, err := triage.SetStaffAvailability(operatorCtx("op"), anna, true); sportello.ErrorCode(err) != sportello.CodeForbidden {
		t.Fatalf("an operator marks absences: %v", err)
	}
	if st, err := triage.SetStaffAvailability(managerCtx(sportello.DefaultTenantID), anna, true); err != nil || !st.Absent {
		t.Fatalf("mark absent: %+v, %v", st, err)
	}
	var got []string
	for range 3 {
		got = append(got, submit(t, tickets, citizenCtx("c"), sportello.KindReport).Ticket.AssigneeID)
	}
	if !slices.Equal(got, []string{bruno, bruno, ""}) {
		t.Fatalf("assignees = %v, want bruno twice then nobody (cap 2, anna absent)", got)
	}
	if _, err := triage.SetStaffAvailability(managerCtx(sportello.DefaultTenantID), anna, false); err != nil {
		t.Fatal(err)
	}
	if a := submit(t, tickets, citizenCtx("c"), sportello.KindReport).Ticket.AssigneeID; a != anna {
		t.Errorf("back from absence, anna has the fewest open tickets: got %s", a)
	}
}

func TestRoutingRulesAreEditedByManagersAndTriedOnSamples(t *testing.T) {
	d := dbtest.New(t)
	triage := db.NewTriageService(d)
	roads := newOffice(t, d, sportello.DefaultTenantID, "Lavori Pubblici")
	op := newOperator(t, d, roads, "op-1")
	in := sportello.RoutingRuleInput{Name: "Piazza", OfficeID: roads, Strategy: sportello.AssignRoundRobin,
		Area: &sportello.RoutingArea{Center: &sportello.Point{Latitude: 41.9, Longitude: 12.5}, RadiusMeters: 200}}

	_, err := triage.CreateRoutingRule(operatorCtx("op"), in)
	wantCode(t, err, sportello.CodeForbidden)
	bad := in
	bad.Area = &sportello.RoutingArea{Polygon: []sportello.Point{{Latitude: 1, Longitude: 1}}}
	_, err = triage.CreateRoutingRule(managerCtx(sportello.DefaultTenantID), bad)
	wantField(t, err, sportello.CodeBadUserInput, "area.polygon")
	missing := in
	missing.OfficeID = "00000000-0000-0000-0000-0000000000ff"
	_, err = triage.CreateRoutingRule(managerCtx(sportello.DefaultTenantID), missing)
	wantField(t, err, sportello.CodeNotFound, "officeId")
	if rules, err := triage.RoutingRules(operatorCtx("op")); err != nil || len(rules) != 0 {
		t.Fatalf("refused rules were written: %v, %v", rules, err)
	}

	rule := newRule(t, triage, in)
	def := newRule(t, triage, sportello.RoutingRuleInput{Name: "URP", Default: true, OfficeID: roads})
	_, err = triage.CreateRoutingRule(managerCtx(sportello.DefaultTenantID), sportello.RoutingRuleInput{Name: "Altro", Default: true, OfficeID: roads})
	wantCode(t, err, sportello.CodeConflict)

	sample := sportello.RoutingSample{Kind: sportello.KindReport, Channel: sportello.ChannelApp, Subject: "Panchina rotta",
		Location: &sportello.Point{Latitude: 41.9005, Longitude: 12.5}}
	for range 2 {
		dec, err := triage.TestRoutingRule(operatorCtx("op"), sample)
		if err != nil || dec.Rule.ID != rule.ID || dec.AssigneeID != op {
			t.Fatalf("dry run = %+v, %v", dec, err)
		}
	}
	var last *string
	if err := d.Get(&last, `SELECT last_assignee_id FROM routing_rules WHERE id = $1`, rule.ID); err != nil || last != nil {
		t.Errorf("a dry run moved the round robin: %v, %v", last, err)
	}

	in.Enabled = false
	if _, err := triage.UpdateRoutingRule(managerCtx(sportello.DefaultTenantID), rule.ID, in); err != nil {
		t.Fatal(err)
	}
	if dec, err := triage.TestRoutingRule(operatorCtx("op"), sample); err != nil || dec.Rule.ID != def.ID {
		t.Fatalf("a disabled rule still fires: %+v, %v", dec, err)
	}
	_, err = triage.UpdateRoutingRule(managerCtx(sportello.DefaultTenantID), "00000000-0000-0000-0000-0000000000ff", in)
	wantCode(t, err, sportello.CodeNotFound)
}

func TestEscalationFiresOncePerTicketAndThresholdWithTwoWorkers(t *testing.T) {
	url := dbtest.NewURL(t)
	d1, _ := dbtest.OpenCounting(t, url)
	d2, _ := dbtest.OpenCounting(t, url)
	filed := time.Date(2026, 3, 2, 10, 0, 0, 0, sportello.Rome)
	d1.Now = func() time.Time { return filed }
	tickets := db.NewTicketService(d1)
	var ids []string
	for range 5 {
		ids = append(ids, submit(t, tickets, citizenCtx("c"), sportello.KindReport).Ticket.ID)
	}
	// 40 days later every ticket is past 80% of its term and overdue.
	later := filed.AddDate(0, 0, 40)
	d1.Now = func() time.Time { return later }
	d2.Now = func() time.Time { return later }
	workers := []*db.Escalator{db.NewEscalator(d1), db.NewEscalator(d2)}
	counts := make([]int, len(workers))
	var wg sync.WaitGroup
	for i, w := range workers {
		wg.Go(func() {
			for range 3 {
				n, err := w.RunOnce(context.Background())
				if err != nil {
					t.Error(err)
				}
				counts[i] += n
			}
		})
	}
	wg.Wait()
	// Without a front desk the tickets have no office-hours clock: two thresholds each.
	if total := counts[0] + counts[1]; total != 2*len(ids) {
		t.Fatalf("escalations made = %v, want %d in all", counts, 2*len(ids))
	}
	for _, id := range ids {
		events := history(t, tickets, operatorCtx("op"), id)
		escalated := eventsOf(events, sportello.EventEscalated)
		var got []sportello.Threshold
		for _, e := range escalated {
			got = append(got, e.Data.Threshold)
		}
		slices.Sort(got)
		if !slices.Equal(got, []sportello.Threshold{sportello.ThresholdOverdue, sportello.ThresholdTermWarning}) {
			t.Fatalf("ticket %s escalated %v", id, got)
		}
		raised := eventsOf(events, sportello.EventPriorityChanged)
		if len(raised) != 1 || raised[0].Data.Priority != sportello.PriorityHigh {
			t.Fatalf("priority raised %+v, want once to HIGH", raised)
		}
	}
	if n, err := workers[0].RunOnce(context.Background()); err != nil || n != 0 {
		t.Errorf("a later pass escalated again: %d, %v", n, err)
	}
}

// openFrontDeskMornings makes an office the front desk, open 9:00 to 13:00 on weekdays: the
// clock of every ticket without an office of its own.
func openFrontDeskMornings(t *testing.T, d *db.DB) {
	t.Helper()
	urp := newOffice(t, d, sportello.DefaultTenantID, "URP")
	hours := db.NewHoursService(d)
	if _, err := hours.SetFrontDesk(managerCtx(sportello.DefaultTenantID), urp); err != nil {
		t.Fatal(err)
	}
	var slots []sportello.OpeningSlot
	for w := time.Monday; w <= time.Friday; w++ {
		slots = append(slots, sportello.OpeningSlot{Weekday: w, Opens: "09:00", Closes: "13:00"})
	}
	if _, err := hours.SetOpeningHours(managerCtx(sportello.DefaultTenantID), urp, slots); err != nil {
		t.Fatal(err)
	}
}

func TestEscalationWarnsOnTheFrontDeskOfficeHoursClock(t *testing.T) {
	d := dbtest.New(t)
	openFrontDeskMornings(t, d)
	// Filed Monday 2 March 2026 at 9:00; the default target is 12 office hours, so 80% is 9.6
	// hours: Tuesday at 13:00 is 8 hours, Wednesday at 10:36 is 9.6.
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, sportello.Rome)
	d.Now = func() time.Time { return now }
	tk := submit(t, db.NewTicketService(d), citizenCtx("c"), sportello.KindInformation).Ticket
	w := db.NewEscalator(d)
	for _, step := range []struct {
		at   time.Time
		want int
	}{
		{time.Date(2026, 3, 3, 13, 0, 0, 0, sportello.Rome), 0},
		{time.Date(2026, 3, 4, 10, 36, 0, 0, sportello.Rome), 1},
		{time.Date(2026, 3, 4, 12, 0, 0, 0, sportello.Rome), 0},
	} {
		now = step.at
		if n, err := w.RunOnce(context.Background()); err != nil || n != step.want {
			t.Fatalf("at %s: %d escalations, %v; want %d", step.at, n, err, step.want)
		}
	}
	escalated := eventsOf(history(t, db.NewTicketService(d), operatorCtx("op"), tk.ID), sportello.EventEscalated)
	if len(escalated) != 1 || escalated[0].Data.Threshold != sportello.ThresholdSLAWarning {
		t.Fatalf("escalations %+v", escalated)
	}
}

func TestEscalationPassReachesEveryPageOfOpenTickets(t *testing.T) {
	d := dbtest.New(t)
	openFrontDeskMornings(t, d)
	// Two tickets filed a week before the others are nearer their terms; a reply stops their
	// first-response clocks, so the first page of two holds nothing to do. Past 9.6 office
	// hours, the five later ones have used 80% of their first-response target.
	tickets := db.NewTicketService(d)
	now := time.Date(2026, 2, 23, 9, 0, 0, 0, sportello.Rome)
	d.Now = func() time.Time { return now }
	for range 2 {
		tk := submit(t, tickets, citizenCtx("c"), sportello.KindInformation).Ticket
		if _, err := tickets.PostMessage(operatorCtx("op"), sportello.PostMessageInput{TicketID: tk.ID, Body: "Ci stiamo lavorando."}); err != nil {
			t.Fatal(err)
		}
	}
	now = time.Date(2026, 3, 2, 9, 0, 0, 0, sportello.Rome)
	var later []string
	for range 5 {
		later = append(later, submit(t, tickets, citizenCtx("c"), sportello.KindInformation).Ticket.ID)
	}
	now = time.Date(2026, 3, 4, 11, 0, 0, 0, sportello.Rome)
	w := db.NewEscalator(d)
	w.Batch = 2
	if n, err := w.RunOnce(context.Background()); err != nil || n != len(later) {
		t.Fatalf("one pass made %d escalations, %v; want %d, one for each ticket past its first page", n, err, len(later))
	}
	for _, id := range later {
		escalated := eventsOf(history(t, tickets, operatorCtx("op"), id), sportello.EventEscalated)
		if len(escalated) != 1 || escalated[0].Data.Threshold != sportello.ThresholdSLAWarning {
			t.Fatalf("ticket %s escalations %+v", id, escalated)
		}
	}
	if n, err := w.RunOnce(context.Background()); err != nil || n != 0 {
		t.Errorf("a later pass escalated again: %d, %v", n, err)
	}
}

func TestDuplicateCandidatesBySimilarSubject(t *testing.T) {
	d := dbtest.New(t)
	tickets, triage := db.NewTicketService(d), db.NewTriageService(d)
	file := func(subject string) *sportello.Ticket {
		sub, err := tickets.SubmitTicket(anonymousCtx(), sportello.SubmitTicketInput{Kind: sportello.KindReport, Subject: subject, Body: "Da sistemare."})
		if err != nil {
			t.Fatal(err)
		}
		return sub.Ticket
	}
	hole := file("Buca in via Roma")
	file("Lampione spento in piazza")
	holeAgain := file("Grossa buca in via Roma")
	got, err := triage.DuplicateCandidates(anonymousCtx(), sportello.DuplicateQuery{Kind: sportello.KindReport, Subject: "buca via roma"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range got {
		ids = append(ids, c.TicketID)
		if c.Similarity <= 0 || c.Status != sportello.StatusSubmitted {
			t.Errorf("candidate %+v", c)
		}
	}
	if !slices.Equal(ids, []string{hole.ID, holeAgain.ID}) {
		t.Fatalf("candidates = %v, want the two holes, most similar first", ids)
	}
	_, err = triage.DuplicateCandidates(anonymousCtx(), sportello.DuplicateQuery{Kind: sportello.KindComplaint, Subject: "buca"})
	wantField(t, err, sportello.CodeBadUserInput, "kind")
}

func TestFollowersReadThePublicViewAndReceiveOnlyPublicEvents(t *testing.T) {
	d := dbtest.New(t)
	tickets, triage := db.NewTicketService(d), db.NewTriageService(d)
	author, follower := citizenCtx("author"), citizenCtx("follower")
	log := db.NewEventLog(d)
	start, err := log.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	report := submit(t, tickets, author, sportello.KindReport).Ticket
	info := submit(t, tickets, author, sportello.KindInformation).Ticket

	_, err = triage.FollowTicket(author, report.ID)
	wantCode(t, err, sportello.CodeConflict)
	_, err = triage.FollowTicket(follower, info.ID)
	wantCode(t, err, sportello.CodeNotFound)
	_, err = triage.FollowTicket(operatorCtx("op"), report.ID)
	wantCode(t, err, sportello.CodeForbidden)
	_, err = tickets.Ticket(follower, report.ID)
	wantCode(t, err, sportello.CodeNotFound)

	for range 2 {
		if _, err := triage.FollowTicket(follower, report.ID); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := triage.FollowerCounts(follower, []string{report.ID, info.ID}); err != nil || n[report.ID] != 1 || n[info.ID] != 0 {
		t.Fatalf("follower counts = %v, %v", n, err)
	}
	op := operatorCtx("op")
	if _, err := tickets.PostMessage(op, sportello.PostMessageInput{TicketID: report.ID, Body: "Interveniamo domani"}); err != nil {
		t.Fatal(err)
	}
	if _, err := tickets.PostMessage(op, sportello.PostMessageInput{TicketID: report.ID, Body: "Nota interna", Internal: true}); err != nil {
		t.Fatal(err)
	}

	if _, err := tickets.Ticket(follower, report.ID); err != nil {
		t.Fatalf("a follower reads the ticket: %v", err)
	}
	msgs, err := tickets.MessagesByTicket(follower, []string{report.ID})
	if err != nil || len(msgs[report.ID]) != 1 || msgs[report.ID][0].Internal {
		t.Fatalf("follower's messages = %+v, %v", msgs[report.ID], err)
	}
	for _, e := range history(t, tickets, follower, report.ID) {
		if e.Internal {
			t.Fatalf("a follower sees an internal event: %+v", e)
		}
	}
	_, err = tickets.PostMessage(follower, sportello.PostMessageInput{TicketID: report.ID, Body: "Anche io"})
	wantCode(t, err, sportello.CodeNotFound)
	_, err = tickets.TransitionTicket(follower, sportello.TransitionTicketInput{TicketID: report.ID, To: sportello.StatusInProgress})
	wantCode(t, err, sportello.CodeNotFound)
	if page, err := tickets.Tickets(follower, sportello.TicketFilter{}, sportello.Page{}); err != nil || len(page.Tickets) != 0 {
		t.Errorf("followed tickets are not the follower's own list: %v, %v", page, err)
	}

	// The feed: the follower's audience gets the public events of the followed ticket.
	me, err := db.NewCitizenService(d).Me(follower)
	if err != nil {
		t.Fatal(err)
	}
	all := tailN(t, log, start, 4)
	aud := sportello.Audience{TenantID: sportello.DefaultTenantID, CitizenID: me.ID}
	events, err := log.Replay(context.Background(), aud, "", start, all[len(all)-1].Position, 100)
	if err != nil {
		t.Fatal(err)
	}
	var types []sportello.EventType
	for _, e := range events {
		if e.Internal || e.Ticket.ID != report.ID || !aud.Sees(e) {
			t.Fatalf("follower's replay has %+v", e)
		}
		types = append(types, e.Type)
	}
	if !slices.Equal(types, []sportello.EventType{sportello.EventCreated, sportello.EventMessagePosted}) {
		t.Fatalf("follower's replay = %v", types)
	}

	if _, err := triage.UnfollowTicket(follower, report.ID); err != nil {
		t.Fatal(err)
	}
	_, err = tickets.Ticket(follower, report.ID)
	wantCode(t, err, sportello.CodeNotFound)
}

func TestMergeClosesDuplicatesKeepsProtocolNumbersAndMovesFollowers(t *testing.T) {
	d := dbtest.New(t)
	tickets, triage := db.NewTicketService(d), db.NewTriageService(d)
	op := operatorCtx("op")
	master := submit(t, tickets, citizenCtx("a"), sportello.KindReport).Ticket
	dup := submit(t, tickets, citizenCtx("b"), sportello.KindReport).Ticket
	anon := submit(t, tickets, anonymousCtx(), sportello.KindReport).Ticket
	if _, err := triage.FollowTicket(citizenCtx("c"), dup.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := triage.FollowTicket(citizenCtx("a"), dup.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := tickets.TransitionTicket(op, sportello.TransitionTicketInput{TicketID: dup.ID, To: sportello.StatusInProgress}); err != nil {
		t.Fatal(err)
	}

	_, err := triage.MergeTickets(citizenCtx("a"), master.ID, []string{dup.ID})
	wantCode(t, err, sportello.CodeForbidden)
	_, err = triage.MergeTickets(op, master.ID, []string{master.ID})
	wantField(t, err, sportello.CodeBadUserInput, "duplicateIds")

	got, err := triage.MergeTickets(op, master.ID, []string{dup.ID, anon.ID})
	if err != nil {
		t.Fatal(err)
	}
	if got.Protocol != master.Protocol || got.Status != sportello.StatusSubmitted {
		t.Errorf("master = %+v", got)
	}
	for _, before := range []*sportello.Ticket{dup, anon} {
		after, err := tickets.Ticket(op, before.ID)
		if err != nil {
			t.Fatal(err)
		}
		if after.Status != sportello.StatusClosed || after.MergedIntoID != master.ID || after.Protocol != before.Protocol {
			t.Errorf("duplicate after merge: %+v", after)
		}
		merged := eventsOf(history(t, tickets, op, before.ID), sportello.EventMerged)
		if len(merged) != 1 || merged[0].Data.RelatedTicketID != master.ID {
			t.Errorf("duplicate's MERGED events %+v", merged)
		}
	}
	if merged := eventsOf(history(t, tickets, op, master.ID), sportello.EventMerged); len(merged) != 2 {
		t.Errorf("master's MERGED events %+v", merged)
	}
	counts, err := triage.FollowerCounts(op, []string{master.ID})
	if err != nil || counts[master.ID] != 2 {
		t.Fatalf("master followers = %v, %v; want the duplicate's author and follower, not the master's author", counts, err)
	}
	if _, err := tickets.Ticket(citizenCtx("b"), master.ID); err != nil {
		t.Errorf("the duplicate's author now follows the master: %v", err)
	}
	var maxSeq int
	if err := d.Get(&maxSeq, `SELECT last_seq FROM protocol_counters`); err != nil || maxSeq != 3 {
		t.Errorf("protocol counter = %d, %v: merging takes no number", maxSeq, err)
	}
	_, err = triage.MergeTickets(op, master.ID, []string{dup.ID})
	wantCode(t, err, sportello.CodeInvalidTransition)
}

func TestTicketsListByPriority(t *testing.T) {
	d := dbtest.New(t)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, sportello.Rome)
	d.Now = func() time.Time { now = now.Add(time.Minute); return now }
	tickets, triage := db.NewTicketService(d), db.NewTriageService(d)
	op := operatorCtx("op")
	var ids []string
	for range 4 {
		ids = append(ids, submit(t, tickets, citizenCtx("c"), sportello.KindReport).Ticket.ID)
	}
	for id, p := range map[string]sportello.Priority{ids[0]: sportello.PriorityUrgent, ids[2]: sportello.PriorityLow} {
		if _, err := triage.SetTicketPriority(op, id, p); err != nil {
			t.Fatal(err)
		}
	}
	_, err := triage.SetTicketPriority(op, ids[1], "SOON")
	wantField(t, err, sportello.CodeBadUserInput, "priority")
	_, err = triage.SetTicketPriority(citizenCtx("c"), ids[1], sportello.PriorityHigh)
	wantCode(t, err, sportello.CodeForbidden)

	var got []string
	after := ""
	for {
		page, err := tickets.Tickets(op, sportello.TicketFilter{Order: sportello.OrderPriority}, sportello.Page{First: 3, After: after})
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range page.Tickets {
			got = append(got, tk.ID)
		}
		if !page.HasNextPage {
			break
		}
		after = page.Cursors[len(page.Cursors)-1]
	}
	if want := []string{ids[0], ids[3], ids[1], ids[2]}; !slices.Equal(got, want) {
		t.Fatalf("by priority = %v, want %v", got, want)
	}
	changed := eventsOf(history(t, tickets, op, ids[0]), sportello.EventPriorityChanged)
	if len(changed) != 1 || changed[0].Data.Priority != sportello.PriorityUrgent || changed[0].Actor.Kind != sportello.ActorStaff {
		t.Errorf("PRIORITY_CHANGED events %+v", changed)
	}
}

func TestReplyTemplatesAreFilledForATicket(t *testing.T) {
	d := dbtest.New(t)
	d.Now = func() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, sportello.Rome) }
	tickets, triage := db.NewTicketService(d), db.NewTriageService(d)
	urp := newOffice(t, d, sportello.DefaultTenantID, "URP")
	if _, err := db.NewHoursService(d).SetOpeningHours(managerCtx(sportello.DefaultTenantID), urp, []sportello.OpeningSlot{
		{Weekday: time.Monday, Opens: "09:00", Closes: "13:00"}, {Weekday: time.Tuesday, Opens: "09:00", Closes: "13:00"},
		{Weekday: time.Tuesday, Opens: "16:00", Closes: "18:00"}}); err != nil {
		t.Fatal(err)
	}
	mgr := managerCtx(sportello.DefaultTenantID)
	_, err := triage.CreateReplyTemplate(mgr, sportello.ReplyTemplateInput{Name: "Presa in carico", Body: "Gentile {{cognome}}"})
	wantField(t, err, sportello.CodeBadUserInput, "body")
	_, err = triage.CreateReplyTemplate(operatorCtx("op"), sportello.ReplyTemplateInput{Name: "Presa in carico", Body: "Gentile {{nome}}"})
	wantCode(t, err, sportello.CodeForbidden)
	tpl, err := triage.CreateReplyTemplate(mgr, sportello.ReplyTemplateInput{Name: "Presa in carico", Kind: sportello.KindReport, OfficeID: urp,
		Body: "Gentile {{nome}}, la segnalazione {{protocollo}} è in carico a {{ufficio}} ({{orari}}); risposta entro il {{scadenza}}."})
	if err != nil {
		t.Fatal(err)
	}
	en, err := triage.CreateReplyTemplate(mgr, sportello.ReplyTemplateInput{Name: "Taken in charge", Language: "en", Body: "Dear {{name}}: {{hours}}"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := triage.CreateReplyTemplate(mgr, sportello.ReplyTemplateInput{Name: "Tributi", Kind: sportello.KindComplaint, Body: "Gentile {{nome}}"}); err != nil {
		t.Fatal(err)
	}
	list, err := triage.ReplyTemplates(operatorCtx("op"), sportello.KindReport, urp)
	if err != nil || len(list) != 2 || list[0].ID != tpl.ID || list[1].ID != en.ID {
		t.Fatalf("templates for reports at the URP = %+v, %v", list, err)
	}

	sub, err := tickets.SubmitTicket(citizenCtx("c"), sportello.SubmitTicketInput{Kind: sportello.KindReport, Subject: "Buca", Body: "In via Roma", OfficeID: urp})
	if err != nil {
		t.Fatal(err)
	}
	text, err := triage.RenderReplyTemplate(operatorCtx("op"), tpl.ID, sub.Ticket.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := "Gentile Mario Rossi c, la segnalazione " + sub.Ticket.ProtocolNumber() +
		" è in carico a URP (lunedì 09:00-13:00; martedì 09:00-13:00, 16:00-18:00); risposta entro il 01/04/2026."
	if text != want {
		t.Fatalf("rendered\n%q, want\n%q", text, want)
	}
	if text, err := triage.RenderReplyTemplate(operatorCtx("op"), en.ID, sub.Ticket.ID); err != nil || text != "Dear Mario Rossi c: Monday 09:00-13:00; Tuesday 09:00-13:00, 16:00-18:00" {
		t.Fatalf("english = %q, %v", text, err)
	}
	_, err = triage.RenderReplyTemplate(citizenCtx("c"), tpl.ID, sub.Ticket.ID)
	wantCode(t, err, sportello.CodeForbidden)
	_, err = triage.RenderReplyTemplate(operatorCtx("op"), tpl.ID, "00000000-0000-0000-0000-0000000000ff")
	wantCode(t, err, sportello.CodeNotFound)
}

func TestTheDemoMunicipalityRoutesNewTickets(t *testing.T) {
	d := dbtest.New(t)
	if err := db.SeedDemo(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	sub, err := db.NewTicketService(d).SubmitTicket(citizenCtx("c"), sportello.SubmitTicketInput{Kind: sportello.KindReport,
		Subject: "Lampioni spenti", Body: "In via Verdi è tutto buio."})
	if err != nil {
		t.Fatal(err)
	}
	var office string
	if err := d.Get(&office, `SELECT name FROM offices WHERE id = $1`, sub.Ticket.OfficeID); err != nil {
		t.Fatal(err)
	}
	if office != "Lavori Pubblici e Manutenzioni" || sub.Ticket.Priority != sportello.PriorityHigh {
		t.Errorf("routed to %q with %s", office, sub.Ticket.Priority)
	}
	templates, err := db.NewTriageService(d).ReplyTemplates(operatorCtx("op"), sportello.KindReport, sub.Ticket.OfficeID)
	if err != nil || len(templates) != 4 {
		t.Fatalf("demo templates for the report = %d, %v", len(templates), err)
	}
}

func TestDuplicateCandidatesByDistance(t *testing.T) {
	d := dbtest.New(t)
	tickets, triage := db.NewTicketService(d), db.NewTriageService(d)
	at := func(subject string, metersNorth float64) *sportello.Ticket {
		sub, err := tickets.SubmitTicket(anonymousCtx(), sportello.SubmitTicketInput{Kind: sportello.KindReport, Subject: subject,
			Body: "Da sistemare.", Location: &sportello.Location{Latitude: 41.9 + metersNorth/111_195, Longitude: 12.5}})
		if err != nil {
			t.Fatal(err)
		}
		return sub.Ticket
	}
	far := at("Rifiuti abbandonati", 80)
	near := at("Sacchi lasciati sul marciapiede", 30)
	at("Rifiuti in strada", 2000)
	got, err := triage.DuplicateCandidates(anonymousCtx(), sportello.DuplicateQuery{Kind: sportello.KindReport,
		Subject: "Cassonetto pieno", Location: &sportello.Point{Latitude: 41.9, Longitude: 12.5}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].TicketID != near.ID || got[1].TicketID != far.ID {
		t.Fatalf("candidates = %+v, want the two within 100 m, nearest first", got)
	}
	if dist := got[0].DistanceMeters; dist == nil || *dist < 29 || *dist > 31 {
		t.Errorf("distance = %v, want about 30 m", dist)
	}
	got, err = triage.DuplicateCandidates(anonymousCtx(), sportello.DuplicateQuery{Kind: sportello.KindReport,
		Location: &sportello.Point{Latitude: 41.9, Longitude: 12.5}, RadiusMeters: 50})
	if err != nil || len(got) != 1 || got[0].TicketID != near.ID {
		t.Fatalf("within 50 m = %+v, %v", got, err)
	}
}

func TestRoutingByAreaReadsTheTicketsLocation(t *testing.T) {
	d := dbtest.New(t)
	tickets, triage := db.NewTicketService(d), db.NewTriageService(d)
	police := newOffice(t, d, sportello.DefaultTenantID, "Polizia Locale")
	urp := newOffice(t, d, sportello.DefaultTenantID, "URP")
	newRule(t, triage, sportello.RoutingRuleInput{Name: "Centro", Position: 1, OfficeID: police,
		Area: &sportello.RoutingArea{Polygon: []sportello.Point{{Latitude: 41.89, Longitude: 12.49}, {Latitude: 41.89, Longitude: 12.51},
			{Latitude: 41.91, Longitude: 12.51}, {Latitude: 41.91, Longitude: 12.49}}}})
	newRule(t, triage, sportello.RoutingRuleInput{Name: "URP", Default: true, OfficeID: urp})
	for _, tt := range []struct {
		loc  *sportello.Location
		want string
	}{
		{&sportello.Location{Latitude: 41.9, Longitude: 12.5}, police},
		{&sportello.Location{Latitude: 41.95, Longitude: 12.5}, urp},
		{&sportello.Location{Address: "Piazza del Municipio 1"}, urp},
		{nil, urp},
	} {
		sub, err := tickets.SubmitTicket(citizenCtx("c"), sportello.SubmitTicketInput{Kind: sportello.KindReport,
			Subject: "Auto in sosta vietata", Body: "Davanti al passo carrabile.", Location: tt.loc})
		if err != nil {
			t.Fatal(err)
		}
		if sub.Ticket.OfficeID != tt.want {
			t.Errorf("location %+v routed to %s, want %s", tt.loc, sub.Ticket.OfficeID, tt.want)
		}
	}
}
