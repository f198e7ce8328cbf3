package main

import (
	"encoding/csv"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/server/auth"
)

const accessFields = `id status dueAt recordsAccess {
	type interest documents actReference counterParties outcome outcomeMotivation viewingFrom viewingUntil decidedAt publicSubject
	deadline { dueAt stopped legalBasis suspendedDays events { type at dueAt effect } }
}`

type accessTicket struct {
	ID            string
	Status        string
	DueAt         time.Time
	RecordsAccess *struct {
		Type, Interest, Documents, ActReference string
		CounterParties                          []string
		Outcome, OutcomeMotivation              *string
		ViewingFrom, ViewingUntil               *string
		DecidedAt                               *time.Time
		PublicSubject                           *string
		Deadline                                struct {
			DueAt         time.Time
			Stopped       bool
			LegalBasis    string
			SuspendedDays int
			Events        []struct{ Type string }
		}
	}
}

func TestRecordsAccessFromRequestToPublicRegister(t *testing.T) {
	s := startServer(t)
	citizen := s.tokenFor(auth.Claims{Subject: "spid-access", Roles: []sportello.Role{sportello.RoleCitizen},
		GivenName: "Mario", FamilyName: "Rossi", FiscalCode: "TINIT-RSSMRA85T10A562S", Email: "mario.rossi@example.it"})
	other := s.token(sportello.RoleCitizen, "spid-other")
	operator := s.token(sportello.RoleOperator, "op-access")

	// The citizen's own words carry their name: the register must not.
	in := map[string]any{"kind": "RECORDS_ACCESS", "subject": "Accesso agli atti - Mario Rossi",
		"body": "Io sottoscritto Mario Rossi, codice fiscale RSSMRA85T10A562S, chiedo di vedere gli atti.",
		"recordsAccess": map[string]any{"type": "DOCUMENTALE",
			"interest":       "Sono il confinante del cantiere e valuto un ricorso.",
			"documents":      "Permesso di costruire del cantiere di via Roma 5",
			"actReference":   "Permesso di costruire n. 45/2025",
			"counterParties": []string{"Edilizia Alfa S.r.l."}}}
	var filed struct{ SubmitTicket struct{ Ticket accessTicket } }
	s.ok(citizen, `mutation($in: SubmitTicketInput!) { submitTicket(input: $in) { ticket { `+accessFields+` } } }`,
		map[string]any{"in": in}, &filed)
	tk := filed.SubmitTicket.Ticket
	ra := tk.RecordsAccess
	if ra == nil || ra.Type != "DOCUMENTALE" || ra.ActReference != "Permesso di costruire n. 45/2025" || ra.Outcome != nil {
		t.Fatalf("filed %+v", ra)
	}
	if ra.CounterParties != nil {
		t.Fatalf("the applicant reads counter-parties %v", ra.CounterParties)
	}
	if !ra.Deadline.DueAt.Equal(tk.DueAt) || !tk.DueAt.Equal(sportello.DueAt(time.Now(), 30)) ||
		!strings.Contains(ra.Deadline.LegalBasis, "L. 241/1990") || len(ra.Deadline.Events) != 1 {
		t.Fatalf("deadline %+v, ticket due %s", ra.Deadline, tk.DueAt)
	}

	// The details are required for the kind and refused for others; the kind needs sign-in.
	noDetails := map[string]any{"kind": "RECORDS_ACCESS", "subject": "s", "body": "b"}
	s.fails(citizen, `mutation($in: SubmitTicketInput!) { submitTicket(input: $in) { protocolNumber } }`,
		map[string]any{"in": noDetails}, sportello.CodeBadUserInput, "recordsAccess")
	noInterest := map[string]any{"kind": "RECORDS_ACCESS", "subject": "s", "body": "b",
		"recordsAccess": map[string]any{"type": "DOCUMENTALE", "documents": "Atti"}}
	s.fails(citizen, `mutation($in: SubmitTicketInput!) { submitTicket(input: $in) { protocolNumber } }`,
		map[string]any{"in": noInterest}, sportello.CodeBadUserInput, "recordsAccess.interest")
	s.fails("", `mutation($in: SubmitTicketInput!) { submitTicket(input: $in) { protocolNumber } }`,
		map[string]any{"in": in}, sportello.CodeUnauthenticated, "")
	s.fails(other, `query($id: ID!) { ticket(id: $id) { id } }`, map[string]any{"id": tk.ID}, sportello.CodeNotFound, "")
	s.fails(citizen, `mutation($id: ID!) { notifyCounterParties(ticketId: $id) { id } }`, map[string]any{"id": tk.ID},
		sportello.CodeForbidden, "")

	var notified struct{ NotifyCounterParties accessTicket }
	s.ok(operator, `mutation($id: ID!) { notifyCounterParties(ticketId: $id, counterParties: ["Edilizia Alfa S.r.l.", "Condominio Via Roma 7"]) { `+accessFields+` } }`,
		map[string]any{"id": tk.ID}, &notified)
	n := notified.NotifyCounterParties
	if n.RecordsAccess.Deadline.SuspendedDays != 10 || !n.DueAt.Equal(tk.DueAt.AddDate(0, 0, 10)) ||
		len(n.RecordsAccess.CounterParties) != 2 || n.Status != "IN_PROGRESS" {
		t.Fatalf("after the notice: %+v", n)
	}
	s.fails(operator, `mutation($id: ID!) { notifyCounterParties(ticketId: $id) { id } }`, map[string]any{"id": tk.ID},
		sportello.CodeInvalidTransition, "")

	today := time.Now().In(sportello.Rome)
	day := func(n int) string { return today.AddDate(0, 0, n).Format("2006-01-02") }
	decide := `mutation($in: DecideRecordsAccessInput!) { decideRecordsAccess(input: $in) { ` + accessFields + ` } }`
	s.fails(operator, decide, map[string]any{"in": map[string]any{"ticketId": tk.ID, "outcome": "GRANTED",
		"viewingFrom": day(0), "viewingUntil": day(10), "publicSubject": "Permesso di costruire"}}, sportello.CodeBadUserInput, "viewingUntil")
	s.fails(operator, decide, map[string]any{"in": map[string]any{"ticketId": tk.ID, "outcome": "GRANTED",
		"viewingFrom": "domani", "viewingUntil": day(20), "publicSubject": "Permesso di costruire"}}, sportello.CodeBadUserInput, "")
	var decided struct{ DecideRecordsAccess accessTicket }
	s.ok(operator, decide, map[string]any{"in": map[string]any{"ticketId": tk.ID, "outcome": "GRANTED",
		"viewingFrom": day(1), "viewingUntil": day(20), "publicSubject": "Permesso di costruire di un cantiere privato"}}, &decided)
	d := decided.DecideRecordsAccess
	if d.Status != "RESOLVED" || *d.RecordsAccess.Outcome != "GRANTED" || *d.RecordsAccess.ViewingFrom != day(1) ||
		*d.RecordsAccess.ViewingUntil != day(20) || d.RecordsAccess.DecidedAt == nil {
		t.Fatalf("decided: %+v", d)
	}

	// The history records each change; the applicant sees the decision.
	var hist struct {
		Ticket struct {
			accessTicket
			History []struct {
				Type   string
				Fields []string
			}
		}
	}
	s.ok(citizen, `query($id: ID!) { ticket(id: $id) { `+accessFields+` history { type fields } } }`, map[string]any{"id": tk.ID}, &hist)
	var updates int
	for _, e := range hist.Ticket.History {
		if e.Type == "UPDATED" {
			updates++
		}
	}
	if updates != 2 || hist.Ticket.RecordsAccess.Outcome == nil || len(hist.Ticket.RecordsAccess.Deadline.Events) != 3 {
		t.Fatalf("the applicant reads %+v", hist.Ticket)
	}

	// A pending civic request by another citizen, outside the decision.
	s.ok(other, `mutation($in: SubmitTicketInput!) { submitTicket(input: $in) { protocolNumber } }`, map[string]any{"in": map[string]any{
		"kind": "RECORDS_ACCESS", "subject": "Bilancio", "body": "Chiedo il bilancio",
		"recordsAccess": map[string]any{"type": "CIVICO_SEMPLICE", "documents": "Bilancio consuntivo 2025"}}}, nil)

	personal := []string{"Mario", "Rossi", "RSSMRA85T10A562S", "mario.rossi@example.it", "Edilizia Alfa", "confinante", "spid-"}
	var reg struct {
		AccessRegister []struct {
			Type, RequestDate string
			Subject           *string
			Outcome           *string
			DecisionDate      *string
		}
	}
	const register = `query($from: Date!, $to: Date!) { accessRegister(from: $from, to: $to) { type requestDate subject outcome decisionDate } }`
	vars := map[string]any{"from": day(-1), "to": day(1)}
	s.ok("", register, vars, &reg)
	if len(reg.AccessRegister) != 2 {
		t.Fatalf("register = %+v", reg.AccessRegister)
	}
	row := reg.AccessRegister[0]
	if row.Type != "DOCUMENTALE" || row.RequestDate != day(0) || *row.Subject != "Permesso di costruire di un cantiere privato" ||
		*row.Outcome != "GRANTED" || *row.DecisionDate != day(0) {
		t.Fatalf("register row = %+v", row)
	}
	if p := reg.AccessRegister[1]; p.Type != "CIVICO_SEMPLICE" || p.Subject != nil || p.Outcome != nil || p.DecisionDate != nil {
		t.Fatalf("pending row = %+v", p)
	}
	raw := s.do("", register, vars).Raw
	for _, p := range personal {
		if strings.Contains(raw, p) {
			t.Fatalf("the register shows %q: %s", p, raw)
		}
	}
	s.fails("", register, map[string]any{"from": "2026-13-01", "to": day(1)}, sportello.CodeBadUserInput, "accessRegister.from")
	s.fails("", register, map[string]any{"from": day(1), "to": day(-1)}, sportello.CodeBadUserInput, "to")

	// The same register as CSV, for the transparency pages.
	res, body := s.getPath("/registers/access.csv?from=" + day(-1) + "&to=" + day(1))
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		res.Header.Get("Content-Disposition") != `attachment; filename="registro-accessi_`+day(-1)+"_"+day(1)+`.csv"` {
		t.Fatalf("CSV response %d %v: %s", res.StatusCode, res.Header, body)
	}
	records, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"type", "requestDate", "subject", "outcome", "decisionDate"},
		{"DOCUMENTALE", day(0), "Permesso di costruire di un cantiere privato", "GRANTED", day(0)},
		{"CIVICO_SEMPLICE", day(0), "", "", ""},
	}
	if len(records) != len(want) {
		t.Fatalf("CSV = %q", records)
	}
	for i := range want {
		if strings.Join(records[i], "|") != strings.Join(want[i], "|") {
			t.Fatalf("CSV line %d = %q, want %q", i, records[i], want[i])
		}
	}
	for _, p := range personal {
		if strings.Contains(body, p) {
			t.Fatalf("the CSV shows %q", p)
		}
	}
	for _, bad := range []struct{ query, says string }{
		{"", "from: must be a date YYYY-MM-DD"},
		{"from=2026-01-01", "to: must be a date YYYY-MM-DD"},
		{"from=01/01/2026&to=2026-06-30", "from: must be a date YYYY-MM-DD"},
		{"from=2026-06-30&to=2026-01-01", "to: must not be before from"},
	} {
		res, body := s.getPath("/registers/access.csv?" + bad.query)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, bad.says) {
			t.Errorf("?%s: %d %q, want 400 saying %q", bad.query, res.StatusCode, body, bad.says)
		}
	}
}

func TestCSVCellsNeverRunAsFormulas(t *testing.T) {
	for in, want := range map[string]string{
		"=HYPERLINK(\"x\")": "'=HYPERLINK(\"x\")", "+39": "'+39", "-1": "'-1", "@SUM": "'@SUM",
		"Permesso di costruire": "Permesso di costruire", "": "",
	} {
		if got := inertCell(in); got != want {
			t.Errorf("inertCell(%q) = %q, want %q", in, got, want)
		}
	}
}

// get fetches a path of the server anonymously and returns the response with its body.
func (s *testServer) getPath(path string) (*http.Response, string) {
	s.t.Helper()
	res, err := http.Get(s.URL + path)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return res, string(b)
}

func TestRecordsAccessNamesAnActOfTheCatalogue(t *testing.T) {
	s := startServer(t)
	operator := s.token(sportello.RoleOperator, "op")
	citizen := s.token(sportello.RoleCitizen, "cit")
	var act struct{ CreateAct struct{ ID string } }
	s.ok(operator, `mutation { createAct(input: {type: EXECUTIVE_RESOLUTION, number: 45, date: "2025-03-10",
		title: "Approvazione del progetto del parco", status: PUBLISHED}) { id } }`, nil, &act)
	var draft struct{ CreateAct struct{ ID string } }
	s.ok(operator, `mutation { createAct(input: {type: EXECUTIVE_RESOLUTION, number: 46, date: "2025-03-10",
		title: "Bozza"}) { id } }`, nil, &draft)

	const file = `mutation($in: SubmitTicketInput!) { submitTicket(input: $in) { ticket { recordsAccess { actReference act { title number } } } } }`
	in := func(actID string) map[string]any {
		return map[string]any{"in": map[string]any{"kind": "RECORDS_ACCESS", "subject": "Accesso", "body": "Chiedo copia",
			"recordsAccess": map[string]any{"type": "CIVICO_SEMPLICE", "documents": "La delibera", "actId": actID}}}
	}
	var got struct {
		SubmitTicket struct {
			Ticket struct {
				RecordsAccess struct {
					Act *struct {
						Title  string
						Number int
					}
				}
			}
		}
	}
	s.ok(citizen, file, in(act.CreateAct.ID), &got)
	if a := got.SubmitTicket.Ticket.RecordsAccess.Act; a == nil || a.Number != 45 {
		t.Fatalf("act = %+v", a)
	}
	before := s.count(`SELECT count(*) FROM tickets`)
	// A draft is not in the public catalogue, and an unknown id is not anywhere: both answer alike.
	s.fails(citizen, file, in(draft.CreateAct.ID), sportello.CodeNotFound, "recordsAccess.actId")
	s.fails(citizen, file, in("00000000-0000-0000-0000-000000000042"), sportello.CodeNotFound, "recordsAccess.actId")
	if after := s.count(`SELECT count(*) FROM tickets`); after != before {
		t.Fatalf("a refused request wrote a ticket: %d → %d", before, after)
	}
}
