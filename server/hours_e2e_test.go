package main

import (
	"context"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
)

// demoTown starts the server on the demo municipality, seeded with the office's clock stopped
// at start, and returns the clock's setter and the id of the URP, the front desk.
func demoTown(t *testing.T, start time.Time) (*testServer, func(time.Time), string) {
	t.Helper()
	s := startServer(t)
	var clock atomic.Pointer[time.Time]
	set := func(at time.Time) { clock.Store(&at) }
	set(start)
	s.DB.Now = func() time.Time { return *clock.Load() }
	if err := db.SeedDemo(context.Background(), s.DB); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Offices []struct {
			ID        string
			Name      string
			FrontDesk bool
		}
	}
	s.ok("", `{ offices { id name frontDesk } }`, nil, &out)
	for _, o := range out.Offices {
		if o.FrontDesk {
			return s, set, o.ID
		}
	}
	t.Fatalf("no front desk among %+v", out.Offices)
	return nil, nil, ""
}

func rome(y int, mo time.Month, d, h, mi int) time.Time {
	return time.Date(y, mo, d, h, mi, 0, 0, sportello.Rome)
}

func sameInstant(t *testing.T, what string, got *time.Time, want time.Time) {
	t.Helper()
	if got == nil || !got.Equal(want) {
		t.Errorf("%s = %v, want %s", what, got, want.In(sportello.Rome))
	}
}

func TestOfficeHoursAnswerIsOpenNextOpeningAndClosures(t *testing.T) {
	s, _, urp := demoTown(t, rome(2026, 11, 17, 16, 30)) // a Tuesday afternoon
	const query = `query($id: ID!) { office(id: $id) {
		name frontDesk
		openingHours { weekday opens closes }
		now: isOpen
		next: nextOpening
		easterMonday: isOpen(at: "2026-04-06T10:00:00+02:00")
		afterEaster: nextOpening(after: "2026-04-04T10:00:00+02:00")
		patron: isOpen(at: "2026-06-24T10:00:00+02:00")
		mondayAfterClocksForward: isOpen(at: "2026-03-30T07:30:00Z")
		overClocksForward: nextOpening(after: "2026-03-27T13:00:00+01:00")
		overClocksBack: nextOpening(after: "2026-10-23T13:00:00+02:00")
		june: closures(from: "2026-06-01", to: "2026-06-30") { id office { name } from to reason national }
		upcoming: closures { from national }
	} }`
	var out struct {
		Office struct {
			Name         string
			FrontDesk    bool
			OpeningHours []struct{ Weekday, Opens, Closes string }
			Now          bool
			Next         *time.Time
			EasterMonday bool
			AfterEaster  *time.Time
			Patron       bool
			MondayAfter  bool       `json:"mondayAfterClocksForward"`
			OverForward  *time.Time `json:"overClocksForward"`
			OverBack     *time.Time `json:"overClocksBack"`
			June         []struct {
				ID       *string
				Office   *struct{ Name string }
				From, To string
				Reason   string
				National bool
			}
			Upcoming []struct {
				From     string
				National bool
			}
		}
	}
	// Opening hours are public: an anonymous caller reads them.
	s.ok("", query, map[string]any{"id": urp}, &out)
	o := out.Office
	if !o.FrontDesk || len(o.OpeningHours) != 7 || o.OpeningHours[0] != (struct{ Weekday, Opens, Closes string }{"MONDAY", "09:00", "13:00"}) ||
		o.OpeningHours[2] != (struct{ Weekday, Opens, Closes string }{"TUESDAY", "16:00", "18:00"}) {
		t.Fatalf("office = %+v", o)
	}
	if !o.Now || o.EasterMonday || o.Patron || !o.MondayAfter {
		t.Errorf("isOpen: now %v, Easter Monday %v, patron %v, Monday after the change %v", o.Now, o.EasterMonday, o.Patron, o.MondayAfter)
	}
	sameInstant(t, "next opening on Tuesday afternoon", o.Next, rome(2026, 11, 18, 9, 0))
	sameInstant(t, "next opening from Easter Saturday", o.AfterEaster, rome(2026, 4, 7, 9, 0))
	sameInstant(t, "next opening over the clocks going forward", o.OverForward, time.Date(2026, 3, 30, 7, 0, 0, 0, time.UTC))
	sameInstant(t, "next opening over the clocks going back", o.OverBack, time.Date(2026, 10, 26, 8, 0, 0, 0, time.UTC))

	if len(o.June) != 2 {
		t.Fatalf("June closures = %+v", o.June)
	}
	if h := o.June[0]; h.ID != nil || h.Office != nil || !h.National || h.From != "2026-06-02" || h.To != "2026-06-02" || h.Reason != "Festa della Repubblica" {
		t.Errorf("holiday = %+v", h)
	}
	if p := o.June[1]; p.ID == nil || p.Office != nil || p.National || p.From != "2026-06-24" || p.Reason == "" {
		t.Errorf("patron saint = %+v", p)
	}
	// By default, a year from today: from the Immacolata to Ognissanti 2027 and the patron saints.
	if n := len(o.Upcoming); n < 12 || o.Upcoming[0].From != "2026-12-08" {
		t.Errorf("upcoming closures = %+v", o.Upcoming)
	}

	s.fails("", `query($id: ID!) { office(id: $id) { closures(from: "2026-07-01", to: "2026-06-01") { from } } }`,
		map[string]any{"id": urp}, sportello.CodeBadUserInput, "to")
	r := s.fails("", `query($id: ID!) { office(id: $id) { closures(from: "2026-02-30") { from } } }`,
		map[string]any{"id": urp}, sportello.CodeBadUserInput, "")
	if r.Errors[0].Extensions.Field == "" {
		t.Errorf("a malformed date names no field: %s", r.Raw)
	}
	s.fails("", `{ office(id: "00000000-0000-0000-0000-00000000dead") { name } }`, nil, sportello.CodeNotFound, "")
}

func TestManagersSetHoursAndClosures(t *testing.T) {
	s, _, urp := demoTown(t, rome(2026, 11, 17, 16, 30))
	manager := s.token(sportello.RoleManager, "mgr")
	const setHours = `mutation($id: ID!, $slots: [OpeningSlotInput!]!) { setOpeningHours(officeId: $id, slots: $slots) {
		openingHours { weekday opens closes } isOpen } }`
	overlapping := map[string]any{"id": urp, "slots": []map[string]any{
		{"weekday": "TUESDAY", "opens": "09:00", "closes": "13:00"},
		{"weekday": "TUESDAY", "opens": "12:30", "closes": "18:00"},
	}}
	s.fails(manager, setHours, overlapping, sportello.CodeBadUserInput, "slots[1].opens")
	s.fails(manager, setHours, map[string]any{"id": urp, "slots": []map[string]any{{"weekday": "MONDAY", "opens": "9:00", "closes": "13:00"}}},
		sportello.CodeBadUserInput, "slots[0].opens")
	for _, tok := range []string{s.token(sportello.RoleCitizen, "cit"), s.token(sportello.RoleOperator, "op")} {
		s.fails(tok, setHours, overlapping, sportello.CodeForbidden, "")
	}
	s.fails("", setHours, overlapping, sportello.CodeUnauthenticated, "")
	if n := s.count(`SELECT count(*) FROM office_hours WHERE office_id = $1`, urp); n != 7 {
		t.Fatalf("refused changes left %d slots", n)
	}

	var set struct {
		SetOpeningHours struct {
			OpeningHours []struct{ Weekday, Opens, Closes string }
			IsOpen       bool
		}
	}
	s.ok(manager, setHours, map[string]any{"id": urp, "slots": []map[string]any{
		{"weekday": "TUESDAY", "opens": "14:00", "closes": "19:00"},
		{"weekday": "MONDAY", "opens": "08:30", "closes": "12:30"},
	}}, &set)
	if h := set.SetOpeningHours.OpeningHours; len(h) != 2 || h[0].Weekday != "MONDAY" || !set.SetOpeningHours.IsOpen {
		t.Fatalf("set = %+v", set.SetOpeningHours)
	}

	const addClosure = `mutation($in: ClosureInput!) { addClosure(input: $in) { id office { name } from to reason national } }`
	var added struct {
		AddClosure struct {
			ID     string
			Office *struct{ Name string }
			From   string
			To     string
			Reason string
		}
	}
	s.ok(manager, addClosure, map[string]any{"in": map[string]any{"officeId": urp, "from": "2026-11-17", "to": "2026-11-18", "reason": "Sciopero"}}, &added)
	if a := added.AddClosure; a.Office == nil || a.From != "2026-11-17" || a.To != "2026-11-18" || a.Reason != "Sciopero" {
		t.Fatalf("added = %+v", a)
	}
	s.fails(manager, addClosure, map[string]any{"in": map[string]any{"from": "2026-11-17", "to": "2026-11-16", "reason": "x"}},
		sportello.CodeBadUserInput, "input.to")
	s.fails(manager, addClosure, map[string]any{"in": map[string]any{"from": "2026-11-17", "to": "2026-11-17", "reason": ""}},
		sportello.CodeBadUserInput, "input.reason")
	s.fails(s.token(sportello.RoleCitizen, "cit"), addClosure, map[string]any{"in": map[string]any{"from": "2026-11-17", "to": "2026-11-17", "reason": "x"}},
		sportello.CodeForbidden, "")

	var now struct{ Office struct{ IsOpen bool } }
	s.ok("", `query($id: ID!) { office(id: $id) { isOpen } }`, map[string]any{"id": urp}, &now)
	if now.Office.IsOpen {
		t.Fatal("open during the strike")
	}
	s.ok(manager, `mutation($id: ID!) { removeClosure(id: $id) { reason } }`, map[string]any{"id": added.AddClosure.ID}, nil)
	s.fails(manager, `mutation($id: ID!) { removeClosure(id: $id) { reason } }`, map[string]any{"id": added.AddClosure.ID}, sportello.CodeNotFound, "")
	s.ok("", `query($id: ID!) { office(id: $id) { isOpen } }`, map[string]any{"id": urp}, &now)
	if !now.Office.IsOpen {
		t.Fatal("still closed after the strike was called off")
	}
}

type slaView struct {
	Ticket struct {
		DueAt time.Time
		SLA   struct {
			TargetHours        int
			FirstResponseDueAt *time.Time
			FirstRespondedAt   *time.Time
			Met                bool
			Breached           bool
			OfficeHoursElapsed float64
		} `json:"sla"`
	}
}

func TestTicketSLARunsOnOfficeHoursUntilTheFirstReply(t *testing.T) {
	filed := rome(2026, 11, 16, 9, 0) // Monday, as the URP opens
	s, setNow, _ := demoTown(t, filed)
	citizen := s.token(sportello.RoleCitizen, "cit")
	operator := s.token(sportello.RoleOperator, "op")
	manager := s.token(sportello.RoleManager, "mgr")
	const read = `query($id: ID!) { ticket(id: $id) { dueAt sla {
		targetHours firstResponseDueAt firstRespondedAt met breached officeHoursElapsed } } }`
	sla := func(tok, id string) slaView {
		t.Helper()
		var out slaView
		s.ok(tok, read, map[string]any{"id": id}, &out)
		return out
	}

	// A question with no office runs on the front desk's clock: 12 office hours of the URP
	// from Monday 9:00 are Monday 4, Tuesday 6 and Wednesday 2, so Wednesday at 11:00.
	id := s.submit(citizen, ticketInput("INFORMATION", "Orari")).SubmitTicket.Ticket.ID
	setNow(rome(2026, 11, 17, 10, 0))
	v := sla(citizen, id)
	if v.Ticket.SLA.TargetHours != 12 || v.Ticket.SLA.FirstRespondedAt != nil || v.Ticket.SLA.Met || v.Ticket.SLA.Breached ||
		v.Ticket.SLA.OfficeHoursElapsed != 5 {
		t.Fatalf("before any reply: %+v", v.Ticket.SLA)
	}
	sameInstant(t, "firstResponseDueAt", v.Ticket.SLA.FirstResponseDueAt, rome(2026, 11, 18, 11, 0))
	if !v.Ticket.DueAt.Equal(sportello.DueAt(filed, 30)) {
		t.Errorf("the legal deadline moved: %s", v.Ticket.DueAt)
	}

	// An internal note is not a reply; the first public reply by staff stops the clock.
	setNow(rome(2026, 11, 17, 16, 0))
	s.ok(operator, `mutation($id: ID!) { postTicketMessage(ticketId: $id, body: "Sentire l'Anagrafe", internal: true) { id } }`, map[string]any{"id": id}, nil)
	if v := sla(operator, id); v.Ticket.SLA.FirstRespondedAt != nil {
		t.Fatalf("an internal note stopped the clock: %+v", v.Ticket.SLA)
	}
	replied := rome(2026, 11, 17, 16, 30)
	setNow(replied)
	s.ok(operator, `mutation($id: ID!) { postTicketMessage(ticketId: $id, body: "Gentile cittadino, …") { id } }`, map[string]any{"id": id}, nil)
	setNow(rome(2026, 11, 30, 9, 0))
	v = sla(citizen, id)
	sameInstant(t, "firstRespondedAt", v.Ticket.SLA.FirstRespondedAt, replied)
	if !v.Ticket.SLA.Met || v.Ticket.SLA.Breached || v.Ticket.SLA.OfficeHoursElapsed != 8.5 {
		t.Fatalf("after the reply: %+v", v.Ticket.SLA)
	}

	// A manager's target for complaints applies to open tickets at once.
	setNow(filed)
	complaint := s.submit(citizen, ticketInput("COMPLAINT", "Rifiuti")).SubmitTicket.Ticket.ID
	s.fails(operator, `mutation { setFirstResponseTarget(kind: COMPLAINT, hours: 2) { hours } }`, nil, sportello.CodeForbidden, "")
	s.fails(manager, `mutation { setFirstResponseTarget(kind: COMPLAINT, hours: 0) { hours } }`, nil, sportello.CodeBadUserInput, "hours")
	s.ok(manager, `mutation { setFirstResponseTarget(kind: COMPLAINT, hours: 2) { kind office { name } hours } }`, nil, nil)
	setNow(rome(2026, 11, 16, 12, 0))
	if v := sla(operator, complaint); v.Ticket.SLA.TargetHours != 2 || !v.Ticket.SLA.Breached || v.Ticket.SLA.Met {
		t.Fatalf("late complaint: %+v", v.Ticket.SLA)
	}
	var targets struct {
		FirstResponseTargets []struct {
			Kind  string
			Hours int
		}
	}
	s.ok(manager, `{ firstResponseTargets { kind hours } }`, nil, &targets)
	if len(targets.FirstResponseTargets) != 1 || targets.FirstResponseTargets[0].Hours != 2 {
		t.Fatalf("targets = %+v", targets)
	}
}

func TestTicketSLAOfAListCostsAFixedNumberOfStatements(t *testing.T) {
	s, setNow, _ := demoTown(t, rome(2026, 11, 16, 9, 0))
	var offices struct{ Offices []struct{ ID string } }
	s.ok("", `{ offices { id } }`, nil, &offices)
	// Every page mixes tickets of several offices and tickets on the front desk's clock.
	citizen := s.token(sportello.RoleCitizen, "cit")
	for i := range 14 {
		setNow(rome(2026, 11, 16, 10, i))
		in := ticketInput("INFORMATION", "Orari")
		if i%3 != 0 {
			in["officeId"] = offices.Offices[i%len(offices.Offices)].ID
		}
		s.submit(citizen, in)
	}
	setNow(rome(2026, 11, 19, 9, 0))
	operator := s.token(sportello.RoleOperator, "op")
	const list = `query($first: Int) { tickets(first: $first) { edges { node {
		office { name } sla { firstResponseDueAt breached officeHoursElapsed } } } } }`
	// A busy machine may split a loader's one-millisecond batch, which only adds statements, so
	// the fewest of a few runs is what the query itself costs.
	statements := func(first int) int64 {
		s.ok(operator, list, map[string]any{"first": first}, nil) // warm the tenant cache and connections
		fewest := int64(-1)
		for range 5 {
			s.Counter.Reset()
			var out struct {
				Tickets struct {
					Edges []struct {
						Node struct {
							SLA struct{ FirstResponseDueAt *time.Time } `json:"sla"`
						}
					}
				}
			}
			s.ok(operator, list, map[string]any{"first": first}, &out)
			if n := s.Counter.Count(); fewest < 0 || n < fewest {
				fewest = n
			}
			if len(out.Tickets.Edges) != first {
				t.Fatalf("first %d returned %d", first, len(out.Tickets.Edges))
			}
			for _, e := range out.Tickets.Edges {
				if e.Node.SLA.FirstResponseDueAt == nil {
					t.Fatalf("a ticket without an SLA due instant: %+v", out)
				}
			}
		}
		return fewest
	}
	small, large := statements(2), statements(14)
	t.Logf("statements: first 2 → %d, first 14 → %d", small, large)
	if small != large {
		t.Fatalf("first 14 ran %d statements, first 2 ran %d: the SLA costs statements per ticket", large, small)
	}
}

// A ticket's office is read with the ticket; its hours only when the query asks for something
// that needs them, and then they are the office's own, on one ticket and in a list alike.
func TestATicketsOfficeAnswersWithItsHoursWhenAsked(t *testing.T) {
	s, _, urp := demoTown(t, rome(2026, 11, 17, 16, 30)) // a Tuesday afternoon: the URP is open
	citizen := s.token(sportello.RoleCitizen, "cit")
	operator := s.token(sportello.RoleOperator, "op")
	id := s.submit(citizen, ticketInput("INFORMATION", "Orari")).SubmitTicket.Ticket.ID
	s.ok(operator, `mutation($id: ID!, $o: ID!) { assignTicket(ticketId: $id, officeId: $o) { id } }`, map[string]any{"id": id, "o": urp}, nil)

	type office struct {
		Name   string
		Hours  []struct{ Weekday, Opens, Closes string }
		IsOpen *bool
	}
	var want struct{ Office office }
	s.ok("", `query($id: ID!) { office(id: $id) { name hours { weekday opens closes } isOpen } }`, map[string]any{"id": urp}, &want)
	if len(want.Office.Hours) == 0 || want.Office.IsOpen == nil || !*want.Office.IsOpen {
		t.Fatalf("the URP = %+v", want.Office)
	}
	for _, tc := range []struct{ name, query string }{
		{"one ticket", `query($id: ID!) { ticket(id: $id) { office { name hours { weekday opens closes } isOpen } } }`},
		{"a list", `query { tickets(first: 5) { edges { node { office { name hours { weekday opens closes } isOpen } } } } }`},
		{"a fragment", `query { tickets(first: 5) { edges { node { office { name ...open } } } } }
			fragment open on Office { hours { weekday opens closes } isOpen }`},
		{"an alias", `query($id: ID!) { ticket(id: $id) { office { name } o: office { hours { weekday opens closes } isOpen } } }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out struct {
				Ticket  struct{ Office, O office }
				Tickets struct {
					Edges []struct{ Node struct{ Office office } }
				}
			}
			vars := map[string]any{}
			if strings.Contains(tc.query, "$id") {
				vars["id"] = id
			}
			s.ok(citizen, tc.query, vars, &out)
			got := out.Ticket.Office
			if len(out.Tickets.Edges) > 0 {
				got = out.Tickets.Edges[0].Node.Office
			}
			if out.Ticket.O.Hours != nil {
				got.Hours, got.IsOpen = out.Ticket.O.Hours, out.Ticket.O.IsOpen
			}
			if !reflect.DeepEqual(got, want.Office) {
				t.Errorf("office = %+v, want %+v", got, want.Office)
			}
		})
	}
	var brief struct{ Ticket struct{ Office office } }
	s.ok(citizen, `query($id: ID!) { ticket(id: $id) { office { name } } }`, map[string]any{"id": id}, &brief)
	if brief.Ticket.Office.Name != want.Office.Name {
		t.Errorf("office by name = %+v", brief.Ticket.Office)
	}
}
