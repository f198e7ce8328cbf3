package main

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/server/auth"
)

const submitMutation = `mutation($in: SubmitTicketInput!) {
	submitTicket(input: $in) { protocolNumber receiptCode ticket { id status dueAt overdue citizen { fullName } } }
}`

type submitted struct {
	SubmitTicket struct {
		ProtocolNumber string  `json:"protocolNumber"`
		ReceiptCode    *string `json:"receiptCode"`
		Ticket         struct {
			ID      string `json:"id"`
			Status  string `json:"status"`
			DueAt   time.Time
			Overdue bool
			Citizen *struct{ FullName string } `json:"citizen"`
		} `json:"ticket"`
	} `json:"submitTicket"`
}

func (s *testServer) submit(token string, in map[string]any) submitted {
	s.t.Helper()
	var out submitted
	s.ok(token, submitMutation, map[string]any{"in": in}, &out)
	return out
}

func ticketInput(kind, subject string) map[string]any {
	return map[string]any{"kind": kind, "subject": subject, "body": "Descrizione: " + subject}
}

func TestCitizenFilesFollowsAndRepliesToTicket(t *testing.T) {
	s := startServer(t)
	citizen := s.tokenFor(auth.Claims{Subject: "spid-123", Roles: []sportello.Role{sportello.RoleCitizen},
		GivenName: "Mario", FamilyName: "Rossi", FiscalCode: "TINIT-RSSMRA85T10A562S", Email: "mario@example.it"})
	operator := s.token(sportello.RoleOperator, "op-1")

	sub := s.submit(citizen, ticketInput("INFORMATION", "Rinnovo carta d'identità"))
	if !strings.HasPrefix(sub.SubmitTicket.ProtocolNumber, fmt.Sprintf("%d/", sportello.ProtocolYear(time.Now()))) ||
		len(sub.SubmitTicket.ProtocolNumber) != 12 {
		t.Fatalf("protocol number %q", sub.SubmitTicket.ProtocolNumber)
	}
	if sub.SubmitTicket.ReceiptCode != nil {
		t.Fatal("signed-in citizens get no receipt code")
	}
	if sub.SubmitTicket.Ticket.Citizen == nil || sub.SubmitTicket.Ticket.Citizen.FullName != "Mario Rossi" {
		t.Fatalf("citizen = %+v", sub.SubmitTicket.Ticket.Citizen)
	}
	id := sub.SubmitTicket.Ticket.ID

	// The profile was created from the token's claims.
	var me struct {
		Me struct{ FullName, FiscalCode, Email string }
	}
	s.ok(citizen, `{ me { fullName fiscalCode email } }`, nil, &me)
	if me.Me.FiscalCode != "RSSMRA85T10A562S" || me.Me.Email != "mario@example.it" {
		t.Fatalf("me = %+v", me.Me)
	}

	s.ok(operator, `mutation($id: ID!) { transitionTicket(ticketId: $id, to: IN_PROGRESS) { status } }`, map[string]any{"id": id}, nil)
	s.ok(operator, `mutation($id: ID!) { postTicketMessage(ticketId: $id, body: "Nota: cittadino già noto", internal: true) { id } }`, map[string]any{"id": id}, nil)
	s.ok(operator, `mutation($id: ID!) { postTicketMessage(ticketId: $id, body: "Serve una fototessera") { id } }`, map[string]any{"id": id}, nil)
	s.ok(operator, `mutation($id: ID!) { transitionTicket(ticketId: $id, to: WAITING_FOR_CITIZEN) { status } }`, map[string]any{"id": id}, nil)

	const read = `query($id: ID!) { ticket(id: $id) { status messages { body internal author { kind name } } history { type internal ticket { id } } } }`
	var seen struct {
		Ticket struct {
			Status   string
			Messages []struct {
				Body     string
				Internal bool
			}
			History []struct {
				Type     string
				Internal bool
				Ticket   struct{ ID string }
			}
		}
	}
	s.ok(citizen, read, map[string]any{"id": id}, &seen)
	for _, e := range seen.Ticket.History {
		if e.Ticket.ID != id {
			t.Fatalf("a history event names ticket %q, want %q", e.Ticket.ID, id)
		}
	}
	if len(seen.Ticket.Messages) != 1 || seen.Ticket.Messages[0].Body != "Serve una fototessera" {
		t.Fatalf("citizen reads messages %+v", seen.Ticket.Messages)
	}
	for _, e := range seen.Ticket.History {
		if e.Internal {
			t.Fatalf("citizen reads an internal event: %+v", seen.Ticket.History)
		}
	}
	if strings.Contains(s.do(citizen, read, map[string]any{"id": id}).Raw, "cittadino già noto") {
		t.Fatal("the internal note reached the citizen")
	}

	// The citizen's answer puts the ticket back in progress.
	s.ok(citizen, `mutation($id: ID!) { postTicketMessage(ticketId: $id, body: "Allego la foto") { id } }`, map[string]any{"id": id}, nil)
	s.ok(citizen, read, map[string]any{"id": id}, &seen)
	if seen.Ticket.Status != "IN_PROGRESS" {
		t.Fatalf("status after the citizen's reply = %s", seen.Ticket.Status)
	}
	s.fails(citizen, `mutation($id: ID!) { postTicketMessage(ticketId: $id, body: "nota", internal: true) { id } }`,
		map[string]any{"id": id}, sportello.CodeForbidden, "")

	var staffView struct {
		Ticket struct{ Messages []struct{ Internal bool } }
	}
	s.ok(operator, read, map[string]any{"id": id}, &staffView)
	if len(staffView.Ticket.Messages) != 3 {
		t.Fatalf("staff reads %d messages, want 3", len(staffView.Ticket.Messages))
	}

	var prof struct{ UpdateMyProfile struct{ Email, Phone string } }
	s.ok(citizen, `mutation { updateMyProfile(input: {phone: "+39 333 123 4567"}) { email phone } }`, nil, &prof)
	if prof.UpdateMyProfile.Phone != "+393331234567" || prof.UpdateMyProfile.Email != "mario@example.it" {
		t.Fatalf("profile = %+v", prof.UpdateMyProfile)
	}
	s.fails(citizen, `mutation { updateMyProfile(input: {email: "not-an-email"}) { email } }`, nil, sportello.CodeBadUserInput, "email")
}

func TestCitizensReachOnlyTheirOwnTickets(t *testing.T) {
	s := startServer(t)
	alice := s.token(sportello.RoleCitizen, "alice")
	bob := s.token(sportello.RoleCitizen, "bob")
	aliceTicket := s.submit(alice, ticketInput("COMPLAINT", "Rifiuti non raccolti")).SubmitTicket.Ticket.ID
	s.submit(bob, ticketInput("PROPOSAL", "Più panchine al parco"))

	vars := map[string]any{"id": aliceTicket}
	s.fails(bob, `query($id: ID!) { ticket(id: $id) { id } }`, vars, sportello.CodeNotFound, "")
	s.fails(bob, `mutation($id: ID!) { postTicketMessage(ticketId: $id, body: "ciao") { id } }`, vars, sportello.CodeNotFound, "")
	s.fails(bob, `mutation($id: ID!) { transitionTicket(ticketId: $id, to: CLOSED) { id } }`, vars, sportello.CodeNotFound, "")
	// An id that does not exist answers exactly like one that is someone else's.
	s.fails(bob, `{ ticket(id: "00000000-0000-0000-0000-000000000042") { id } }`, nil, sportello.CodeNotFound, "")
	s.fails(bob, `{ ticket(id: "not-a-uuid") { id } }`, nil, sportello.CodeNotFound, "")

	var list struct {
		Tickets struct {
			TotalCount int
			Edges      []struct{ Node struct{ Subject string } }
		}
	}
	s.ok(bob, `{ tickets { totalCount edges { node { subject } } } }`, nil, &list)
	if list.Tickets.TotalCount != 1 || list.Tickets.Edges[0].Node.Subject != "Più panchine al parco" {
		t.Fatalf("bob lists %+v", list.Tickets)
	}
	// A citizen may not filter by someone else: the filter is for staff.
	s.fails(bob, `query($c: ID!) { tickets(filter: {citizenId: $c}) { totalCount } }`,
		map[string]any{"c": "00000000-0000-0000-0000-000000000042"}, sportello.CodeBadUserInput, "filter.citizenId")
}

func TestAnonymousReportIsFollowedWithItsReceipt(t *testing.T) {
	s := startServer(t)
	s.fails("", submitMutation, map[string]any{"in": ticketInput("PETITION", "Petizione")}, sportello.CodeUnauthenticated, "")
	in := ticketInput("REPORT", "Buca in via Roma")
	in["contact"] = map[string]any{"name": "Un passante", "email": "passante@example.it"}
	sub := s.submit("", in)
	if sub.SubmitTicket.ReceiptCode == nil {
		t.Fatal("no receipt code")
	}
	operator := s.token(sportello.RoleOperator, "op")
	s.ok(operator, `mutation($id: ID!) { postTicketMessage(ticketId: $id, body: "Grazie, interveniamo domani") { id } }`,
		map[string]any{"id": sub.SubmitTicket.Ticket.ID}, nil)
	s.ok(operator, `mutation($id: ID!) { postTicketMessage(ticketId: $id, body: "Squadra B", internal: true) { id } }`,
		map[string]any{"id": sub.SubmitTicket.Ticket.ID}, nil)

	const byReceipt = `query($p: String!, $c: String!) { ticketByReceipt(protocolNumber: $p, receiptCode: $c) {
		subject contact { name email } messages { body } history { type } } }`
	var got struct {
		TicketByReceipt struct {
			Subject  string
			Contact  struct{ Name, Email string }
			Messages []struct{ Body string }
			History  []struct{ Type string }
		}
	}
	s.ok("", byReceipt, map[string]any{"p": sub.SubmitTicket.ProtocolNumber, "c": *sub.SubmitTicket.ReceiptCode}, &got)
	if got.TicketByReceipt.Subject != "Buca in via Roma" || got.TicketByReceipt.Contact.Name != "Un passante" {
		t.Fatalf("ticket = %+v", got.TicketByReceipt)
	}
	if len(got.TicketByReceipt.Messages) != 1 || len(got.TicketByReceipt.History) != 2 {
		t.Fatalf("anonymous filer reads messages %+v and history %+v", got.TicketByReceipt.Messages, got.TicketByReceipt.History)
	}
	s.fails("", byReceipt, map[string]any{"p": sub.SubmitTicket.ProtocolNumber, "c": "AAAAA-AAAAA"}, sportello.CodeNotFound, "")
	s.fails("", byReceipt, map[string]any{"p": "12", "c": "AAAAA-AAAAA"}, sportello.CodeBadUserInput, "protocolNumber")
	// Without the receipt, the ticket is not reachable.
	s.fails("", `query($id: ID!) { ticket(id: $id) { id } }`, map[string]any{"id": sub.SubmitTicket.Ticket.ID}, sportello.CodeUnauthenticated, "")
	s.fails("", `{ tickets { totalCount } }`, nil, sportello.CodeUnauthenticated, "")
}

func TestOperatorRegistersDeskTicketAndWorksIt(t *testing.T) {
	s := startServer(t)
	operator := s.token(sportello.RoleOperator, "op-desk")
	var officeID string
	if err := s.DB.Get(&officeID, `INSERT INTO offices (tenant_id, name, email) VALUES ($1, 'Tributi', 'tributi@comune.it') RETURNING id`,
		sportello.DefaultTenantID); err != nil {
		t.Fatal(err)
	}

	const create = `mutation($in: CitizenInput!) { createCitizen(input: $in) { id fullName fiscalCode registered } }`
	s.fails(operator, create, map[string]any{"in": map[string]any{"givenName": "Giulia", "familyName": "Bianchi", "fiscalCode": "BNCGLI80A41H501X"}},
		sportello.CodeBadUserInput, "fiscalCode")
	var created struct {
		CreateCitizen struct {
			ID, FullName string
			Registered   bool
		}
	}
	s.ok(operator, create, map[string]any{"in": map[string]any{"givenName": "Giulia", "familyName": "Bianchi", "fiscalCode": "bncgli80a41h501c"}}, &created)
	if created.CreateCitizen.Registered {
		t.Fatal("a citizen created at the desk has not signed in")
	}
	s.fails(operator, create, map[string]any{"in": map[string]any{"givenName": "G.", "familyName": "Bianchi", "fiscalCode": "BNCGLI80A41H501C"}},
		sportello.CodeConflict, "fiscalCode")
	// A foreign resident without a fiscal code.
	s.ok(operator, create, map[string]any{"in": map[string]any{"givenName": "John", "familyName": "Smith", "email": "john@example.com"}}, nil)

	for _, search := range []string{"bianchi giulia", "BNCGLI80A41H501C", "giul"} {
		var found struct{ Citizens []struct{ ID string } }
		s.ok(operator, `query($q: String!) { citizens(search: $q) { id } }`, map[string]any{"q": search}, &found)
		if len(found.Citizens) != 1 || found.Citizens[0].ID != created.CreateCitizen.ID {
			t.Fatalf("search %q found %+v", search, found.Citizens)
		}
	}
	s.fails(operator, `{ citizens(search: "a") { id } }`, nil, sportello.CodeBadUserInput, "search")

	const register = `mutation($in: RegisterTicketInput!) { registerTicket(input: $in) { protocolNumber ticket { id channel citizen { fullName } } } }`
	s.fails(operator, register, map[string]any{"in": map[string]any{"kind": "PETITION", "channel": "WEB", "subject": "x", "body": "y",
		"citizenId": created.CreateCitizen.ID}}, sportello.CodeBadUserInput, "channel")
	s.fails(operator, register, map[string]any{"in": map[string]any{"kind": "PETITION", "channel": "COUNTER", "subject": "x", "body": "y",
		"citizenId": "00000000-0000-0000-0000-000000000042"}}, sportello.CodeNotFound, "")
	var reg struct {
		RegisterTicket struct {
			Ticket struct {
				ID, Channel string
				Citizen     struct{ FullName string }
			}
		}
	}
	s.ok(operator, register, map[string]any{"in": map[string]any{"kind": "PETITION", "channel": "COUNTER",
		"subject": "Richiesta di rateizzazione TARI", "body": "La cittadina chiede di pagare in quattro rate.",
		"citizenId": created.CreateCitizen.ID}}, &reg)
	if reg.RegisterTicket.Ticket.Citizen.FullName != "Giulia Bianchi" || reg.RegisterTicket.Ticket.Channel != "COUNTER" {
		t.Fatalf("registered %+v", reg.RegisterTicket.Ticket)
	}
	id := reg.RegisterTicket.Ticket.ID

	var staff struct{ Staff []struct{ ID, Name string } }
	s.ok(operator, `{ staff { id name } }`, nil, &staff)
	if len(staff.Staff) != 1 {
		t.Fatalf("staff = %+v", staff.Staff)
	}
	var assigned struct {
		AssignTicket struct {
			Office   struct{ Name string }
			Assignee struct{ Name string }
			History  []struct {
				Type     string
				Office   *struct{ Name string }
				Assignee *struct{ Name string }
			}
		}
	}
	s.ok(operator, `mutation($id: ID!, $o: ID!, $a: ID) { assignTicket(ticketId: $id, officeId: $o, assigneeId: $a) {
		office { name } assignee { name } history { type office { name } assignee { name } } } }`,
		map[string]any{"id": id, "o": officeID, "a": staff.Staff[0].ID}, &assigned)
	h := assigned.AssignTicket.History
	if assigned.AssignTicket.Office.Name != "Tributi" || h[len(h)-1].Type != "ASSIGNED" || h[len(h)-1].Assignee == nil {
		t.Fatalf("assigned %+v", assigned.AssignTicket)
	}
	s.fails(operator, `mutation($id: ID!) { assignTicket(ticketId: $id, officeId: "00000000-0000-0000-0000-000000000042") { id } }`,
		map[string]any{"id": id}, sportello.CodeNotFound, "officeId")

	const move = `mutation($id: ID!, $to: TicketStatus!, $r: String) { transitionTicket(ticketId: $id, to: $to, reason: $r) { status statusReason } }`
	s.fails(operator, move, map[string]any{"id": id, "to": "RESOLVED"}, sportello.CodeInvalidTransition, "")
	s.ok(operator, move, map[string]any{"id": id, "to": "IN_PROGRESS"}, nil)
	s.fails(operator, move, map[string]any{"id": id, "to": "REJECTED"}, sportello.CodeBadUserInput, "reason")
	var rejected struct {
		TransitionTicket struct{ Status, StatusReason string }
	}
	s.ok(operator, move, map[string]any{"id": id, "to": "REJECTED", "r": "Il regolamento non prevede rate sotto i 100 euro"}, &rejected)
	if rejected.TransitionTicket.StatusReason == "" {
		t.Fatal("reason not kept")
	}
	s.ok(operator, move, map[string]any{"id": id, "to": "CLOSED"}, nil)
	s.fails(operator, move, map[string]any{"id": id, "to": "IN_PROGRESS"}, sportello.CodeInvalidTransition, "")
	s.fails(operator, `mutation($id: ID!) { postTicketMessage(ticketId: $id, body: "ancora") { id } }`, map[string]any{"id": id},
		sportello.CodeInvalidTransition, "")
}

func TestRolesAndTokensAreEnforced(t *testing.T) {
	s := startServer(t)
	citizen := s.token(sportello.RoleCitizen, "c")
	operator := s.token(sportello.RoleOperator, "o")
	manager := s.token(sportello.RoleManager, "m")
	s.fails(citizen, `mutation { registerTicket(input: {kind: REPORT, channel: PHONE, subject: "x", body: "y"}) { protocolNumber } }`,
		nil, sportello.CodeForbidden, "")
	s.fails(citizen, `{ citizens(search: "rossi") { id } }`, nil, sportello.CodeForbidden, "")
	s.fails("", `{ me { id } }`, nil, sportello.CodeUnauthenticated, "")
	s.fails(operator, `{ me { id } }`, nil, sportello.CodeForbidden, "")
	s.fails(operator, submitMutation, map[string]any{"in": ticketInput("REPORT", "x")}, sportello.CodeForbidden, "")
	s.fails(operator, `mutation { setResponseTerm(kind: COMPLAINT, days: 15) { days } }`, nil, sportello.CodeForbidden, "")
	s.fails(manager, `mutation { setResponseTerm(kind: COMPLAINT, days: 0) { days } }`, nil, sportello.CodeBadUserInput, "days")
	s.ok(manager, `mutation { setResponseTerm(kind: COMPLAINT, days: 15) { days } }`, nil, nil)
	var terms struct{ ResponseTerms []struct{ Kind string } }
	s.ok(manager, `{ responseTerms { kind days office { name } } }`, nil, &terms)
	if len(terms.ResponseTerms) != 1 {
		t.Fatalf("terms = %+v", terms)
	}
	// The new term applies to the next complaint.
	var sub submitted
	s.ok(citizen, submitMutation, map[string]any{"in": ticketInput("COMPLAINT", "Mensa")}, &sub)
	if want := sportello.DueAt(time.Now(), 15); sub.SubmitTicket.Ticket.DueAt.Sub(want).Abs() > time.Second*2 {
		t.Fatalf("dueAt = %v, want about %v", sub.SubmitTicket.Ticket.DueAt, want)
	}

	for name, header := range map[string]string{
		"garbage":      "garbage",
		"wrong secret": mustMint(t, "another-secret-that-is-long-enough-for-hs256", auth.Claims{Subject: "x", Roles: []sportello.Role{"CITIZEN"}}),
	} {
		r := s.do(header, `{ offices { id } }`, nil)
		if r.Status != 401 || len(r.Errors) != 1 || r.Errors[0].Extensions.Code != "UNAUTHENTICATED" {
			t.Errorf("%s token: status %d, %s", name, r.Status, r.Raw)
		}
	}
	r := s.do(s.tokenFor(auth.Claims{Subject: "x", Roles: []sportello.Role{"CITIZEN"}, Tenant: "atlantide"}), `{ offices { id } }`, nil)
	if r.Status != 401 {
		t.Errorf("unknown tenant: status %d, %s", r.Status, r.Raw)
	}
	// Everyone, signed in or not, may list the offices.
	s.ok("", `{ offices { name hours { weekday opens closes } } }`, nil, nil)
}

func mustMint(t *testing.T, secret string, c auth.Claims) string {
	t.Helper()
	tok, err := auth.MintDev(secret, c, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestBadInputIsRefusedAndWritesNothing(t *testing.T) {
	s := startServer(t)
	citizen := s.token(sportello.RoleCitizen, "c")
	s.submit(citizen, ticketInput("INFORMATION", "prima"))
	tickets, events := s.count(`SELECT count(*) FROM tickets`), s.count(`SELECT count(*) FROM events`)

	long := strings.Repeat("è", 201)
	cases := []struct {
		name  string
		in    map[string]any
		code  sportello.Code
		field string
	}{
		{"subject too long", map[string]any{"kind": "INFORMATION", "subject": long, "body": "b"}, sportello.CodeBadUserInput, "subject"},
		{"empty subject", map[string]any{"kind": "INFORMATION", "subject": "   ", "body": "b"}, sportello.CodeBadUserInput, "subject"},
		{"body too long", map[string]any{"kind": "INFORMATION", "subject": "s", "body": strings.Repeat("a", 10001)}, sportello.CodeBadUserInput, "body"},
		{"desk channel", map[string]any{"kind": "INFORMATION", "subject": "s", "body": "b", "channel": "COUNTER"}, sportello.CodeBadUserInput, "channel"},
		{"unknown office", map[string]any{"kind": "INFORMATION", "subject": "s", "body": "b", "officeId": "00000000-0000-0000-0000-000000000042"}, sportello.CodeNotFound, "officeId"},
		{"unknown kind", map[string]any{"kind": "WISH", "subject": "s", "body": "b"}, sportello.CodeBadUserInput, ""},
	}
	for _, c := range cases {
		t.Log(c.name)
		s.fails(citizen, submitMutation, map[string]any{"in": c.in}, c.code, c.field)
	}
	if got := s.count(`SELECT count(*) FROM tickets`); got != tickets {
		t.Errorf("tickets = %d, want %d", got, tickets)
	}
	if got := s.count(`SELECT count(*) FROM events`); got != events {
		t.Errorf("events = %d, want %d", got, events)
	}
	// The next good filing gets the next number: the refused ones burned none.
	if got := s.submit(citizen, ticketInput("INFORMATION", "seconda")).SubmitTicket.ProtocolNumber; !strings.HasSuffix(got, "/0000002") {
		t.Errorf("protocol = %s, want .../0000002", got)
	}
}

func TestInternalErrorsRevealNothing(t *testing.T) {
	s := startServer(t)
	operator := s.token(sportello.RoleOperator, "o")
	// Break the database under the server, as an outage or a bad deploy would.
	if _, err := s.DB.Exec(`ALTER TABLE tickets RENAME TO tickets_gone`); err != nil {
		t.Fatal(err)
	}
	r := s.fails(operator, `{ tickets { totalCount } }`, nil, sportello.CodeInternal, "")
	for _, leak := range []string{"tickets_gone", "relation", "pq:", "SELECT", "does not exist"} {
		if strings.Contains(r.Raw, leak) {
			t.Fatalf("response leaks %q: %s", leak, r.Raw)
		}
	}
	if !strings.Contains(r.Errors[0].Message, "internal error (request ") {
		t.Fatalf("message = %q", r.Errors[0].Message)
	}
}

func TestConcurrentSubmissionsGetConsecutiveProtocolNumbers(t *testing.T) {
	s := startServer(t)
	const n = 100
	tokens := make([]string, 10)
	for i := range tokens {
		tokens[i] = s.token(sportello.RoleCitizen, fmt.Sprintf("citizen-%d", i))
	}
	var wg sync.WaitGroup
	numbers := make(chan string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := s.do(tokens[i%len(tokens)], submitMutation, map[string]any{"in": ticketInput("REPORT", fmt.Sprintf("Segnalazione %d", i))})
			if len(r.Errors) > 0 {
				t.Errorf("submission %d: %s", i, r.Raw)
				return
			}
			var out submitted
			if err := jsonUnmarshal(r.Data, &out); err != nil {
				t.Error(err)
				return
			}
			numbers <- out.SubmitTicket.ProtocolNumber
		}()
	}
	wg.Wait()
	close(numbers)
	seen := map[string]bool{}
	for p := range numbers {
		if seen[p] {
			t.Fatalf("protocol number %s given twice", p)
		}
		seen[p] = true
	}
	year := sportello.ProtocolYear(time.Now())
	for i := 1; i <= n; i++ {
		if p := fmt.Sprintf("%d/%07d", year, i); !seen[p] {
			t.Fatalf("protocol number %s missing (got %d numbers)", p, len(seen))
		}
	}
}

func TestProductionHidesTheSchema(t *testing.T) {
	s := startServer(t, func(c *Config) { c.Production = true })
	r := s.fails("", `{ __schema { types { name } } }`, nil, sportello.CodeBadUserInput, "")
	if !strings.Contains(r.Raw, "introspection") {
		t.Fatalf("introspection answer: %s", r.Raw)
	}
	r = s.fails("", `{ officez { id } }`, nil, sportello.CodeBadUserInput, "")
	if strings.Contains(r.Raw, "Did you mean") {
		t.Fatalf("production suggests fields: %s", r.Raw)
	}
	res, err := http.Get(s.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("the IDE answers %d in production", res.StatusCode)
	}
	// The same misspelling in development gets a suggestion.
	dev := startServer(t)
	if r := dev.fails("", `{ officez { id } }`, nil, sportello.CodeBadUserInput, ""); !strings.Contains(r.Raw, "Did you mean") {
		t.Fatalf("development gives no suggestion: %s", r.Raw)
	}
}
