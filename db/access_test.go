package db_test

import (
	"context"
	"slices"
	"testing"
	"time"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
	"github.com/sportello/sportello/db/dbtest"
)

// accessFixture is a database whose clock the test moves, with the two services.
type accessFixture struct {
	d       *db.DB
	now     time.Time
	tickets *db.TicketService
	access  *db.RecordsAccessService
}

func newAccessFixture(t *testing.T) *accessFixture {
	t.Helper()
	f := &accessFixture{d: dbtest.New(t), now: time.Date(2026, 3, 2, 10, 0, 0, 0, sportello.Rome)}
	f.d.Now = func() time.Time { return f.now }
	f.tickets = db.NewTicketService(f.d)
	f.access = db.NewRecordsAccessService(f.d)
	return f
}

// day moves the clock to 10:00 of the n-th day after the filing on 2 March 2026.
func (f *accessFixture) day(n int) { f.now = time.Date(2026, 3, 2+n, 10, 0, 0, 0, sportello.Rome) }

func documentary() *sportello.RecordsAccessInput {
	return &sportello.RecordsAccessInput{Type: sportello.AccessDocumentale,
		Interest:     "Sono confinante del cantiere e devo valutare un ricorso.",
		Documents:    "Permesso di costruire del cantiere di via Roma 5 e relativi elaborati",
		ActReference: "Permesso di costruire n. 45/2025", CounterParties: []string{"Edilizia Alfa S.r.l."}}
}

func (f *accessFixture) file(t *testing.T, ctx context.Context, in *sportello.RecordsAccessInput) *sportello.Ticket {
	t.Helper()
	sub, err := f.tickets.SubmitTicket(ctx, sportello.SubmitTicketInput{Kind: sportello.KindRecordsAccess,
		Subject: "Accesso agli atti del cantiere", Body: "Chiedo di prendere visione degli atti.", RecordsAccess: in})
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	return sub.Ticket
}

func (f *accessFixture) details(t *testing.T, ctx context.Context, id string) *sportello.RecordsAccess {
	t.Helper()
	m, err := f.access.RecordsAccessByTicket(ctx, []string{id})
	if err != nil {
		t.Fatal(err)
	}
	return m[id]
}

func wantDue(t *testing.T, tk *sportello.Ticket, want time.Time) {
	t.Helper()
	if !tk.DueAt.Equal(want) {
		t.Fatalf("dueAt = %s, want %s", tk.DueAt.In(sportello.Rome), want.In(sportello.Rome))
	}
}

func TestSubmitRecordsAccessStoresItsDetailsAndStartsTheLegalClock(t *testing.T) {
	f := newAccessFixture(t)
	filed := f.now
	tk := f.file(t, citizenCtx("c1"), documentary())
	wantDue(t, tk, sportello.DueAt(filed, 30))

	ra := f.details(t, operatorCtx("op"), tk.ID)
	if ra == nil || ra.Type != sportello.AccessDocumentale || ra.ActReference != "Permesso di costruire n. 45/2025" ||
		!slices.Equal(ra.CounterParties, []string{"Edilizia Alfa S.r.l."}) || !ra.FiledAt.Equal(filed) || ra.Outcome != "" {
		t.Fatalf("details = %+v", ra)
	}
	d, err := ra.Clock().Deadline()
	if err != nil || !d.DueAt.Equal(tk.DueAt) {
		t.Fatalf("clock %+v, %v; ticket due %s", d, err, tk.DueAt)
	}

	// Registered at the desk for a citizen, the same details go with it.
	cit, err := db.NewCitizenService(f.d).CreateCitizen(operatorCtx("op"), sportello.CitizenInput{GivenName: "Giulia", FamilyName: "Bianchi"})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := f.tickets.RegisterTicket(operatorCtx("op"), sportello.RegisterTicketInput{Kind: sportello.KindRecordsAccess,
		Channel: sportello.ChannelPEC, Subject: "Accesso civico", Body: "Via PEC", CitizenID: cit.ID,
		RecordsAccess: &sportello.RecordsAccessInput{Type: sportello.AccessCivicoGeneralizzato, Documents: "Contratti di manutenzione 2025"}})
	if err != nil {
		t.Fatal(err)
	}
	if ra := f.details(t, operatorCtx("op"), reg.Ticket.ID); ra == nil || ra.Type != sportello.AccessCivicoGeneralizzato {
		t.Fatalf("registered details = %+v", ra)
	}
}

func TestSubmitRecordsAccessRefusesBadDetailsAndWritesNothing(t *testing.T) {
	f := newAccessFixture(t)
	ctx := citizenCtx("c1")
	cases := []struct {
		name  string
		in    sportello.SubmitTicketInput
		code  sportello.Code
		field string
	}{
		{"details missing", sportello.SubmitTicketInput{Kind: sportello.KindRecordsAccess, Subject: "s", Body: "b"},
			sportello.CodeBadUserInput, "recordsAccess"},
		{"documentary without interest", sportello.SubmitTicketInput{Kind: sportello.KindRecordsAccess, Subject: "s", Body: "b",
			RecordsAccess: &sportello.RecordsAccessInput{Type: sportello.AccessDocumentale, Documents: "Atti"}},
			sportello.CodeBadUserInput, "recordsAccess.interest"},
		{"details on another kind", sportello.SubmitTicketInput{Kind: sportello.KindPetition, Subject: "s", Body: "b",
			RecordsAccess: documentary()}, sportello.CodeBadUserInput, "recordsAccess"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.tickets.SubmitTicket(ctx, tc.in)
			wantCode(t, err, tc.code)
			if e := err.(*sportello.Error); e.Field != tc.field {
				t.Fatalf("field = %q, want %q", e.Field, tc.field)
			}
		})
	}
	_, err := f.tickets.SubmitTicket(anonymousCtx(), sportello.SubmitTicketInput{Kind: sportello.KindRecordsAccess,
		Subject: "s", Body: "b", RecordsAccess: documentary()})
	wantCode(t, err, sportello.CodeUnauthenticated)
	var n int
	if err := f.d.Get(&n, `SELECT (SELECT count(*) FROM tickets) + (SELECT count(*) FROM records_access)`); err != nil || n != 0 {
		t.Fatalf("rows written: %d, %v", n, err)
	}
}

func TestLegalClockThroughIncompletenessCompletionAndCounterParties(t *testing.T) {
	f := newAccessFixture(t)
	owner, staff := citizenCtx("c1"), operatorCtx("op")
	tk := f.file(t, owner, documentary())

	f.day(5)
	tk, err := f.access.NotifyIncomplete(staff, tk.ID, "Manca la copia del documento d'identità.")
	if err != nil {
		t.Fatal(err)
	}
	if tk.Status != sportello.StatusWaitingForCitizen {
		t.Fatalf("status after the notice = %s", tk.Status)
	}
	wantDue(t, tk, sportello.DueAt(f.now, 30)) // stopped: the earliest it can end
	msgs, err := f.tickets.MessagesByTicket(owner, []string{tk.ID})
	if err != nil || len(msgs[tk.ID]) != 1 || msgs[tk.ID][0].Body != "Manca la copia del documento d'identità." {
		t.Fatalf("the applicant reads %+v, %v", msgs[tk.ID], err)
	}
	_, err = f.access.NotifyIncomplete(staff, tk.ID, "ancora")
	wantCode(t, err, sportello.CodeInvalidTransition)
	_, err = f.access.NotifyCounterParties(staff, tk.ID, nil)
	wantCode(t, err, sportello.CodeInvalidTransition) // the term is not running

	// The applicant's reply on day 12 completes the request: the term starts again.
	f.day(12)
	if _, err := f.tickets.PostMessage(owner, sportello.PostMessageInput{TicketID: tk.ID, Body: "Allego il documento."}); err != nil {
		t.Fatal(err)
	}
	tk, err = f.tickets.Ticket(staff, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tk.Status != sportello.StatusInProgress {
		t.Fatalf("status after the reply = %s", tk.Status)
	}
	completed := f.now
	wantDue(t, tk, sportello.DueAt(completed, 30))
	_, err = f.access.CompleteRecordsAccess(staff, tk.ID)
	wantCode(t, err, sportello.CodeInvalidTransition) // already complete

	// Assigning the request to an office keeps the legal clock, and the office's term for the
	// kind cannot be configured.
	var office string
	if err := f.d.Get(&office, `INSERT INTO offices (tenant_id, name) VALUES ($1, 'Edilizia privata') RETURNING id`,
		sportello.DefaultTenantID); err != nil {
		t.Fatal(err)
	}
	if tk, err = f.tickets.AssignTicket(staff, sportello.AssignTicketInput{TicketID: tk.ID, OfficeID: office}); err != nil {
		t.Fatal(err)
	}
	wantDue(t, tk, sportello.DueAt(completed, 30))
	manager := sportello.WithUser(context.Background(), &sportello.User{TenantID: sportello.DefaultTenantID, Subject: "m",
		Roles: []sportello.Role{sportello.RoleManager}})
	_, err = db.NewOfficeService(f.d).SetResponseTerm(manager, sportello.KindRecordsAccess, office, 60)
	wantCode(t, err, sportello.CodeBadUserInput)

	f.day(15)
	tk, err = f.access.NotifyCounterParties(staff, tk.ID, []string{"Edilizia Alfa S.r.l.", "Condominio Via Roma 7"})
	if err != nil {
		t.Fatal(err)
	}
	wantDue(t, tk, sportello.DueAt(completed, 40))
	_, err = f.access.NotifyCounterParties(staff, tk.ID, nil)
	wantCode(t, err, sportello.CodeInvalidTransition) // suspended once

	ra := f.details(t, staff, tk.ID)
	d, err := ra.Clock().Deadline()
	if err != nil {
		t.Fatal(err)
	}
	if d.SuspendedDays != 10 || len(d.Events) != 4 || !d.DueAt.Equal(tk.DueAt) || len(ra.CounterParties) != 2 {
		t.Fatalf("deadline %+v, parties %v", d, ra.CounterParties)
	}

	// Every change is in the history, with what it changed.
	events, err := f.tickets.EventsByTicket(staff, []string{tk.ID})
	if err != nil {
		t.Fatal(err)
	}
	var updates [][]string
	for _, e := range events[tk.ID] {
		if e.Type == sportello.EventUpdated {
			updates = append(updates, e.Data.Fields)
		}
	}
	if len(updates) != 3 || !slices.Contains(updates[2], "recordsAccess.counterParties") || !slices.Contains(updates[2], "dueAt") {
		t.Fatalf("updates = %v", updates)
	}
}

func TestNoticeOfIncompletenessAfterTenDaysIsRefusedAndWritesNothing(t *testing.T) {
	f := newAccessFixture(t)
	tk := f.file(t, citizenCtx("c1"), documentary())
	f.day(11)
	_, err := f.access.NotifyIncomplete(operatorCtx("op"), tk.ID, "Manca la firma.")
	wantCode(t, err, sportello.CodeInvalidTransition)
	var n int
	if err := f.d.Get(&n, `SELECT (SELECT count(*) FROM ticket_messages) + (SELECT count(*) FROM events WHERE type <> 'CREATED')`); err != nil || n != 0 {
		t.Fatalf("rows written: %d, %v", n, err)
	}
	_, err = f.access.NotifyIncomplete(operatorCtx("op"), tk.ID, " ")
	wantCode(t, err, sportello.CodeBadUserInput)
}

func TestStaffCompleteARequestCompletedAtTheDesk(t *testing.T) {
	f := newAccessFixture(t)
	tk := f.file(t, citizenCtx("c1"), documentary())
	staff := operatorCtx("op")
	_, err := f.access.CompleteRecordsAccess(staff, tk.ID)
	wantCode(t, err, sportello.CodeInvalidTransition) // never notified as incomplete
	f.day(3)
	if _, err := f.access.NotifyIncomplete(staff, tk.ID, "Manca la delega."); err != nil {
		t.Fatal(err)
	}
	f.day(9)
	tk, err = f.access.CompleteRecordsAccess(staff, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tk.Status != sportello.StatusInProgress {
		t.Fatalf("status = %s", tk.Status)
	}
	wantDue(t, tk, sportello.DueAt(f.now, 30))
}

func TestDecisionsFollowTheRulesAndResolveTheTicket(t *testing.T) {
	f := newAccessFixture(t)
	staff := operatorCtx("op")
	date := func(n int) *sportello.Date {
		d := sportello.Date{Year: 2026, Month: 3, Day: 2}.AddDays(n)
		return &d
	}

	granted := f.file(t, citizenCtx("c1"), documentary())
	f.day(20)
	bad := []struct {
		in    sportello.DecideAccessInput
		field string
	}{
		{sportello.DecideAccessInput{Outcome: sportello.AccessGranted, PublicSubject: "Permesso di costruire"}, "viewingFrom"},
		{sportello.DecideAccessInput{Outcome: sportello.AccessGranted, ViewingFrom: date(21), ViewingUntil: date(30), PublicSubject: "Permesso"}, "viewingUntil"},
		{sportello.DecideAccessInput{Outcome: sportello.AccessGranted, ViewingFrom: date(21), ViewingUntil: date(40)}, "publicSubject"},
		{sportello.DecideAccessInput{Outcome: sportello.AccessDenied, PublicSubject: "Permesso"}, "motivation"},
	}
	for _, b := range bad {
		b.in.TicketID = granted.ID
		_, err := f.access.DecideRecordsAccess(staff, b.in)
		wantCode(t, err, sportello.CodeBadUserInput)
		if e := err.(*sportello.Error); e.Field != b.field {
			t.Fatalf("field = %s, want %s (%v)", e.Field, b.field, err)
		}
	}
	_, err := f.tickets.TransitionTicket(staff, sportello.TransitionTicketInput{TicketID: granted.ID, To: sportello.StatusInProgress})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.tickets.TransitionTicket(staff, sportello.TransitionTicketInput{TicketID: granted.ID, To: sportello.StatusResolved})
	wantCode(t, err, sportello.CodeInvalidTransition)

	tk, err := f.access.DecideRecordsAccess(staff, sportello.DecideAccessInput{TicketID: granted.ID, Outcome: sportello.AccessGranted,
		ViewingFrom: date(21), ViewingUntil: date(35), PublicSubject: "Permesso di costruire di un cantiere privato"})
	if err != nil {
		t.Fatal(err)
	}
	if tk.Status != sportello.StatusResolved || tk.ResolvedAt == nil {
		t.Fatalf("granted: status %s", tk.Status)
	}
	ra := f.details(t, staff, tk.ID)
	if ra.Outcome != sportello.AccessGranted || *ra.ViewingFrom != *date(21) || *ra.ViewingUntil != *date(35) ||
		ra.DecidedAt == nil || ra.PublicSubject != "Permesso di costruire di un cantiere privato" {
		t.Fatalf("decided details = %+v", ra)
	}
	_, err = f.access.DecideRecordsAccess(staff, sportello.DecideAccessInput{TicketID: tk.ID, Outcome: sportello.AccessDenied,
		Motivation: "ripensamento", PublicSubject: "x"})
	wantCode(t, err, sportello.CodeInvalidTransition)
	_, err = f.tickets.TransitionTicket(staff, sportello.TransitionTicketInput{TicketID: tk.ID, To: sportello.StatusInProgress})
	wantCode(t, err, sportello.CodeInvalidTransition)

	denied := f.file(t, citizenCtx("c2"), &sportello.RecordsAccessInput{Type: sportello.AccessCivicoGeneralizzato, Documents: "Verbali"})
	tk, err = f.access.DecideRecordsAccess(staff, sportello.DecideAccessInput{TicketID: denied.ID, Outcome: sportello.AccessDenied,
		Motivation: "Tutela della sicurezza pubblica (art. 5-bis c. 1 lett. a)", PublicSubject: "Verbali della polizia locale"})
	if err != nil {
		t.Fatal(err)
	}
	if tk.Status != sportello.StatusRejected || tk.StatusReason != "Tutela della sicurezza pubblica (art. 5-bis c. 1 lett. a)" {
		t.Fatalf("denied: %s %q", tk.Status, tk.StatusReason)
	}

	deferred := f.file(t, citizenCtx("c3"), documentary())
	tk, err = f.access.DecideRecordsAccess(staff, sportello.DecideAccessInput{TicketID: deferred.ID, Outcome: sportello.AccessDeferred,
		Motivation: "Gara in corso", ViewingFrom: date(60), PublicSubject: "Atti di gara"})
	if err != nil {
		t.Fatal(err)
	}
	if tk.Status != sportello.StatusResolved {
		t.Fatalf("deferred: %s", tk.Status)
	}

	_, err = f.access.NotifyIncomplete(staff, submit(t, f.tickets, citizenCtx("c1"), sportello.KindInformation).Ticket.ID, "x")
	wantCode(t, err, sportello.CodeInvalidTransition) // not a request for access
}

func TestCitizensSeeTheirOwnRequestOnlyAndCannotHandleIt(t *testing.T) {
	f := newAccessFixture(t)
	owner, other := citizenCtx("c1"), citizenCtx("c2")
	tk := f.file(t, owner, documentary())

	ra := f.details(t, owner, tk.ID)
	if ra == nil || ra.Interest == "" || ra.Documents == "" {
		t.Fatalf("the applicant reads %+v", ra)
	}
	if ra.CounterParties != nil {
		t.Fatalf("the applicant reads the counter-interested parties %v", ra.CounterParties)
	}
	if ra := f.details(t, other, tk.ID); ra != nil {
		t.Fatalf("another citizen reads %+v", ra)
	}
	_, err := f.tickets.Ticket(other, tk.ID)
	wantCode(t, err, sportello.CodeNotFound)
	_, err = f.access.NotifyIncomplete(owner, tk.ID, "x")
	wantCode(t, err, sportello.CodeForbidden)
	_, err = f.access.DecideRecordsAccess(owner, sportello.DecideAccessInput{TicketID: tk.ID, Outcome: sportello.AccessGranted})
	wantCode(t, err, sportello.CodeForbidden)
	_, err = f.access.NotifyCounterParties(operatorCtx("op"), "00000000-0000-0000-0000-0000000000ff", nil)
	wantCode(t, err, sportello.CodeNotFound)
}

func TestAccessRegisterPublishesNoPersonalData(t *testing.T) {
	f := newAccessFixture(t)
	staff := operatorCtx("op")
	first := f.file(t, citizenCtx("c1"), documentary())
	f.day(1)
	f.file(t, citizenCtx("c2"), &sportello.RecordsAccessInput{Type: sportello.AccessCivicoSemplice, Documents: "Bilancio 2025"})
	f.day(10)
	until := sportello.Date{Year: 2026, Month: 3, Day: 30}
	if _, err := f.access.DecideRecordsAccess(staff, sportello.DecideAccessInput{TicketID: first.ID, Outcome: sportello.AccessGranted,
		ViewingFrom: &sportello.Date{Year: 2026, Month: 3, Day: 13}, ViewingUntil: &until,
		PublicSubject: "Titolo edilizio di un cantiere privato"}); err != nil {
		t.Fatal(err)
	}
	f.day(40) // a filing outside the range
	f.file(t, citizenCtx("c3"), documentary())

	from, _ := sportello.ParseDate("from", "2026-03-01")
	to, _ := sportello.ParseDate("to", "2026-03-31")
	rows, err := f.access.AccessRegister(anonymousCtx(), from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	r := rows[0]
	if r.Type != sportello.AccessDocumentale || r.RequestDate != (sportello.Date{Year: 2026, Month: 3, Day: 2}) ||
		r.Subject != "Titolo edilizio di un cantiere privato" || r.Outcome != sportello.AccessGranted ||
		r.DecisionDate == nil || *r.DecisionDate != (sportello.Date{Year: 2026, Month: 3, Day: 12}) {
		t.Fatalf("first row = %+v", r)
	}
	if p := rows[1]; p.Type != sportello.AccessCivicoSemplice || p.Subject != "" || p.Outcome != "" || p.DecisionDate != nil {
		t.Fatalf("pending row = %+v", p)
	}
	_, err = f.access.AccessRegister(anonymousCtx(), to, from)
	wantCode(t, err, sportello.CodeBadUserInput)
}

func TestDemoMunicipalityHasAccessRequestsInItsRegister(t *testing.T) {
	d := dbtest.New(t)
	if err := db.SeedDemo(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	today := sportello.DateOf(time.Now())
	rows, err := db.NewRecordsAccessService(d).AccessRegister(anonymousCtx(), today.AddDays(-1), today.AddDays(1))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Outcome != sportello.AccessGranted || rows[1].Outcome != "" {
		t.Fatalf("register of the demo municipality: %+v", rows)
	}
}
