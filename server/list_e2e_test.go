package main

import (
	"fmt"
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/server/auth"
)

type listed struct {
	Tickets struct {
		TotalCount int
		PageInfo   struct {
			HasNextPage bool
			EndCursor   *string
		}
		Edges []struct {
			Cursor string
			Node   struct {
				ProtocolNumber string
				Subject        string
				Overdue        bool
			}
		}
	}
}

const listQuery = `query($f: TicketFilter, $first: Int, $after: String) {
	tickets(filter: $f, first: $first, after: $after) {
		totalCount pageInfo { hasNextPage endCursor } edges { cursor node { protocolNumber subject overdue } }
	}
}`

func (s *testServer) list(token string, filter map[string]any, first int, after *string) listed {
	s.t.Helper()
	var out listed
	vars := map[string]any{"f": filter, "first": first}
	if after != nil {
		vars["after"] = *after
	}
	s.ok(token, listQuery, vars, &out)
	return out
}

func TestOperatorsFilterAndPageTickets(t *testing.T) {
	now := time.Date(2026, 4, 1, 10, 0, 0, 0, sportello.Rome)
	// The clock ticks a second at every reading, so no two tickets share an instant.
	var clock = now
	s := startServer(t)
	s.DB.Now = func() time.Time {
		clock = clock.Add(time.Second)
		return clock
	}
	citizen := s.token(sportello.RoleCitizen, "c")
	operator := s.token(sportello.RoleOperator, "o")

	s.submit(citizen, ticketInput("REPORT", "Lampioni spenti in piazza"))
	s.submit(citizen, ticketInput("COMPLAINT", "Mensa scolastica fredda"))
	clock = now.Add(40 * 24 * time.Hour) // the first two are now past their 30-day term
	late := s.submit(citizen, ticketInput("REPORT", "Buca profonda"))
	s.submit("", ticketInput("SUGGESTION", "Più alberi"))

	cases := []struct {
		name   string
		filter map[string]any
		want   int
	}{
		{"everything", nil, 4},
		{"by kind", map[string]any{"kinds": []string{"REPORT"}}, 2},
		{"by kinds", map[string]any{"kinds": []string{"REPORT", "COMPLAINT"}}, 3},
		{"by status", map[string]any{"statuses": []string{"SUBMITTED"}}, 4},
		{"by a status none has", map[string]any{"statuses": []string{"IN_PROGRESS"}}, 0},
		{"by statuses", map[string]any{"statuses": []string{"IN_PROGRESS", "SUBMITTED"}}, 4},
		{"by kind and status", map[string]any{"kinds": []string{"REPORT"}, "statuses": []string{"SUBMITTED"}}, 2},
		{"by channel", map[string]any{"channels": []string{"APP"}}, 0},
		{"overdue", map[string]any{"overdue": true}, 2},
		{"not overdue", map[string]any{"overdue": false}, 2},
		{"created from", map[string]any{"createdFrom": now.Add(24 * time.Hour).Format(time.RFC3339)}, 2},
		{"created before", map[string]any{"createdTo": now.Add(24 * time.Hour).Format(time.RFC3339)}, 2},
		{"Italian stemming: lampione finds lampioni", map[string]any{"text": "lampione"}, 1},
		{"words in the body", map[string]any{"text": "descrizione mensa"}, 1},
		{"protocol number", map[string]any{"text": late.SubmitTicket.ProtocolNumber}, 1},
		{"unassigned office", map[string]any{"officeIds": []string{"00000000-0000-0000-0000-000000000042"}}, 0},
	}
	for _, c := range cases {
		got := s.list(operator, c.filter, 20, nil)
		if got.Tickets.TotalCount != c.want || len(got.Tickets.Edges) != c.want {
			t.Errorf("%s: total %d, edges %d, want %d", c.name, got.Tickets.TotalCount, len(got.Tickets.Edges), c.want)
		}
	}
	over := s.list(operator, map[string]any{"overdue": true}, 20, nil)
	for _, e := range over.Tickets.Edges {
		if !e.Node.Overdue {
			t.Errorf("overdue filter returned %s with overdue false", e.Node.ProtocolNumber)
		}
	}

	bad := []struct {
		filter map[string]any
		after  string
		first  int
		field  string
	}{
		{map[string]any{"officeIds": []string{"nope"}}, "", 20, "filter.officeIds"},
		{map[string]any{"createdFrom": "2026-05-01T00:00:00Z", "createdTo": "2026-04-01T00:00:00Z"}, "", 20, "filter.createdTo"},
		{nil, "not-a-cursor", 20, "after"},
		{nil, "", 101, "first"},
		{nil, "", -1, "first"},
	}
	for _, b := range bad {
		vars := map[string]any{"f": b.filter, "first": b.first}
		if b.after != "" {
			vars["after"] = b.after
		}
		s.fails(operator, listQuery, vars, sportello.CodeBadUserInput, b.field)
	}

	// Pages of one walk the whole list newest first, each ticket once.
	var seen []string
	var after *string
	for {
		page := s.list(operator, nil, 1, after)
		for _, e := range page.Tickets.Edges {
			seen = append(seen, e.Node.ProtocolNumber)
		}
		if !page.Tickets.PageInfo.HasNextPage {
			break
		}
		after = page.Tickets.PageInfo.EndCursor
	}
	year := now.Year()
	want := []string{fmt.Sprintf("%d/0000004", year), fmt.Sprintf("%d/0000003", year), fmt.Sprintf("%d/0000002", year), fmt.Sprintf("%d/0000001", year)}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("pages walked %v, want %v", seen, want)
	}
}

func TestTenantsNeverSeeEachOther(t *testing.T) {
	s := startServer(t)
	if _, err := s.DB.Exec(`INSERT INTO tenants (slug, name, hosts) VALUES ('borgo', 'Comune di Borgo', '{borgo.example.it}')`); err != nil {
		t.Fatal(err)
	}
	here := s.token(sportello.RoleCitizen, "same-subject")
	there := s.tokenFor(auth.Claims{Subject: "same-subject", Roles: []sportello.Role{sportello.RoleCitizen}, Tenant: "borgo"})
	hereOp := s.token(sportello.RoleOperator, "op")
	thereOp := s.tokenFor(auth.Claims{Subject: "op", Roles: []sportello.Role{sportello.RoleOperator}, Tenant: "borgo"})

	mine := s.submit(here, ticketInput("INFORMATION", "Qui"))
	theirs := s.submit(there, ticketInput("INFORMATION", "Là"))
	// Each municipality numbers its own protocol.
	if mine.SubmitTicket.ProtocolNumber != theirs.SubmitTicket.ProtocolNumber {
		t.Fatalf("protocol numbers %s and %s: each tenant starts at 1", mine.SubmitTicket.ProtocolNumber, theirs.SubmitTicket.ProtocolNumber)
	}
	s.fails(thereOp, `query($id: ID!) { ticket(id: $id) { id } }`, map[string]any{"id": mine.SubmitTicket.Ticket.ID}, sportello.CodeNotFound, "")
	s.fails(there, `query($id: ID!) { ticket(id: $id) { id } }`, map[string]any{"id": mine.SubmitTicket.Ticket.ID}, sportello.CodeNotFound, "")
	if n := s.list(hereOp, nil, 20, nil).Tickets.TotalCount; n != 1 {
		t.Fatalf("operator here lists %d tickets, want 1", n)
	}
	if n := s.list(thereOp, nil, 20, nil).Tickets.TotalCount; n != 1 {
		t.Fatalf("operator there lists %d tickets, want 1", n)
	}
}

func TestNestedTicketListCostsTheSameStatementsAtAnyPageSize(t *testing.T) {
	// A generous wait makes the batches deterministic on a loaded machine; production waits a
	// millisecond, which gathers a page just the same when the machine is not starved.
	s := startServer(t, func(c *Config) { c.LoaderWait = 250 * time.Millisecond })
	operator := s.token(sportello.RoleOperator, "o")
	var officeID string
	if err := s.DB.Get(&officeID, `INSERT INTO offices (tenant_id, name) VALUES ($1, 'URP') RETURNING id`, sportello.DefaultTenantID); err != nil {
		t.Fatal(err)
	}
	for i := range 60 {
		tok := s.token(sportello.RoleCitizen, fmt.Sprintf("c%d", i))
		in := ticketInput("INFORMATION", fmt.Sprintf("Domanda %d", i))
		in["officeId"] = officeID
		id := s.submit(tok, in).SubmitTicket.Ticket.ID
		s.ok(operator, `mutation($id: ID!) { postTicketMessage(ticketId: $id, body: "Risposta") { id } }`, map[string]any{"id": id}, nil)
	}
	const nested = `query($first: Int) { tickets(first: $first) { edges { node {
		subject citizen { fullName } office { name } messages { body author { name } } } } } }`
	measure := func(first int) int64 {
		s.Counter.Reset()
		var out struct {
			Tickets struct {
				Edges []struct {
					Node struct {
						Citizen  *struct{ FullName string }
						Office   *struct{ Name string }
						Messages []struct{ Body string }
					}
				}
			}
		}
		s.ok(operator, nested, map[string]any{"first": first}, &out)
		n := s.Counter.Count()
		if len(out.Tickets.Edges) != first {
			t.Fatalf("first %d returned %d", first, len(out.Tickets.Edges))
		}
		for _, e := range out.Tickets.Edges {
			if e.Node.Citizen == nil || e.Node.Office == nil || len(e.Node.Messages) != 1 {
				t.Fatalf("relations missing: %+v", e.Node)
			}
		}
		return n
	}
	// The live feed of the server polls the same database every second and its statements are
	// counted too; they only ever add, so the least of a few measurements is the list's own.
	statements := func(first int) int64 {
		s.ok(operator, nested, map[string]any{"first": first}, nil) // warm the tenant cache and connections
		return min(measure(first), measure(first), measure(first))
	}
	small, large := statements(5), statements(50)
	t.Logf("statements: first 5 → %d, first 50 → %d", small, large)
	if large != small {
		t.Fatalf("first 50 ran %d statements, first 5 ran %d: the count grows with the page", large, small)
	}
	// The citizens and offices come joined to the page, the messages in one statement, and the
	// operator's read of the citizens in one audit INSERT.
	if small > 3 {
		t.Fatalf("%d statements for a page with three relations: want the list with its citizens and offices, the messages and the audit entries", small)
	}
}

func TestTicketByIDWithCitizenAndOfficeCostsOneReadAndItsAuditEntry(t *testing.T) {
	s := startServer(t)
	operator := s.token(sportello.RoleOperator, "o")
	var officeID string
	if err := s.DB.Get(&officeID, `INSERT INTO offices (tenant_id, name) VALUES ($1, 'URP') RETURNING id`, sportello.DefaultTenantID); err != nil {
		t.Fatal(err)
	}
	in := ticketInput("INFORMATION", "Orari dell'anagrafe")
	in["officeId"] = officeID
	id := s.submit(s.token(sportello.RoleCitizen, "c"), in).SubmitTicket.Ticket.ID
	// The relations sit in a fragment and behind @include, which the lookahead must follow.
	const query = `query($id: ID!, $office: Boolean!) { ticket(id: $id) { ...who office @include(if: $office) { name } } }
		fragment who on Ticket { citizen { fullName } }`
	for _, withOffice := range []bool{true, false} {
		measure := func() int64 {
			s.Counter.Reset()
			var out struct {
				Ticket struct {
					Citizen *struct{ FullName string }
					Office  *struct{ Name string }
				}
			}
			s.ok(operator, query, map[string]any{"id": id, "office": withOffice}, &out)
			if out.Ticket.Citizen == nil || out.Ticket.Citizen.FullName == "" || (out.Ticket.Office != nil) != withOffice {
				t.Fatalf("office included %v: %+v", withOffice, out.Ticket)
			}
			if withOffice && out.Ticket.Office.Name != "URP" {
				t.Fatalf("office %+v", out.Ticket.Office)
			}
			return s.Counter.Count()
		}
		measure() // warm the tenant cache and connections
		// The live feed's polls are counted too and only ever add: the least is the read's own,
		// and the INSERT of its audit entry.
		if n := min(measure(), measure(), measure()); n != 2 {
			t.Errorf("office included %v: %d statements, want 2", withOffice, n)
		}
	}
}

// A list or a ticket asked only for what lists show reads brief rows; asked for more, directly,
// through a fragment or under an alias, it answers every field as a full read does.
func TestATicketAnswersEveryFieldItIsAskedFor(t *testing.T) {
	s := startServer(t)
	citizen := s.tokenFor(auth.Claims{Subject: "spid-7", Roles: []sportello.Role{sportello.RoleCitizen},
		GivenName: "Lucia", FamilyName: "Verdi", FiscalCode: "TINIT-VRDLCU80A41H501Y", Email: "lucia@example.it"})
	operator := s.token(sportello.RoleOperator, "op")
	var office string
	if err := s.DB.Get(&office, `INSERT INTO offices (tenant_id, name, email, head) VALUES ($1, 'Tributi', 'tributi@comune.it', 'Dott.ssa Neri')
		RETURNING id`, sportello.DefaultTenantID); err != nil {
		t.Fatal(err)
	}
	id := s.submit(citizen, ticketInput("COMPLAINT", "Rimborso TARI")).SubmitTicket.Ticket.ID
	s.ok(operator, `mutation($id: ID!, $o: ID!) { assignTicket(ticketId: $id, officeId: $o) { id } }`, map[string]any{"id": id, "o": office}, nil)
	report := ticketInput("REPORT", "Lampione spento")
	report["contact"] = map[string]any{"name": "Paolo", "email": "paolo@example.it"}
	report["location"] = map[string]any{"latitude": 41.9, "longitude": 12.5, "address": "Via Verdi 3"}
	s.submit("", report)

	const full = `id protocolNumber kind status subject body channel createdAt updatedAt dueAt overdue
		contact { name email } location { address } citizen { id fullName fiscalCode email } office { id name email head }`
	var want struct {
		Tickets struct {
			Edges []struct{ Node map[string]any }
		}
	}
	s.ok(operator, `query { tickets(first: 10) { edges { node { `+full+` } } } }`, nil, &want)
	if len(want.Tickets.Edges) != 2 {
		t.Fatalf("%d tickets, want 2", len(want.Tickets.Edges))
	}
	// What a full read answers, field by field, as the queries below ask for it.
	pick := func(node map[string]any, fields ...string) map[string]any {
		out := map[string]any{}
		for _, f := range fields {
			name, sub, _ := strings.Cut(f, ".")
			if sub == "" {
				out[name] = node[name]
				continue
			}
			m, _ := out[name].(map[string]any)
			if m == nil {
				m = map[string]any{}
				out[name] = m
			}
			if rel, ok := node[name].(map[string]any); ok {
				m[sub] = rel[sub]
			} else {
				out[name] = nil
			}
		}
		return out
	}
	brief := []string{"id", "protocolNumber", "kind", "status", "subject", "createdAt", "dueAt", "citizen.fullName",
		"citizen.fiscalCode", "office.name"}
	for _, tc := range []struct {
		name, selection string
		fields          []string
	}{
		{"what a list shows", `id protocolNumber kind status subject createdAt dueAt citizen { fullName fiscalCode } office { name }`, brief},
		{"with the body", `id body citizen { fullName }`, []string{"id", "body", "citizen.fullName"}},
		{"more fields", `id channel updatedAt contact { name email } location { address } citizen { email } office { email head }`,
			[]string{"id", "channel", "updatedAt", "contact", "location", "citizen.email", "office.email", "office.head"}},
		{"more through a fragment", `id citizen { fullName } office { name } ...more`,
			[]string{"id", "citizen.fullName", "office.name", "channel", "contact", "citizen.email", "office.email"}},
		{"more under aliases", `id citizen { fullName } office { name } c: citizen { email } o: office { email }`,
			[]string{"id", "citizen.fullName", "office.name", "c", "o"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fragment := ""
			if strings.Contains(tc.selection, "...more") {
				fragment = ` fragment more on Ticket { channel contact { name email } citizen { email } office { email } }`
			}
			var got struct {
				Tickets struct {
					Edges []struct{ Node map[string]any }
				}
			}
			s.ok(operator, `query { tickets(first: 10) { edges { node { `+tc.selection+` } } } }`+fragment, nil, &got)
			if len(got.Tickets.Edges) != len(want.Tickets.Edges) {
				t.Fatalf("%d tickets, want %d", len(got.Tickets.Edges), len(want.Tickets.Edges))
			}
			for i, e := range got.Tickets.Edges {
				w := want.Tickets.Edges[i].Node
				if tc.name == "more under aliases" {
					w = maps.Clone(w)
					w["c"], w["o"] = pick(w, "citizen.email")["citizen"], pick(w, "office.email")["office"]
				}
				if wp := pick(w, tc.fields...); !reflect.DeepEqual(e.Node, wp) {
					t.Errorf("ticket %d = %v, want %v", i, e.Node, wp)
				}
				var one struct{ Ticket map[string]any }
				s.ok(operator, `query($id: ID!) { ticket(id: $id) { `+tc.selection+` } }`+fragment, map[string]any{"id": w["id"]}, &one)
				if wp := pick(w, tc.fields...); !reflect.DeepEqual(one.Ticket, wp) {
					t.Errorf("ticket %v by id = %v, want %v", w["id"], one.Ticket, wp)
				}
			}
		})
	}
}
