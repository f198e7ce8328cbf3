package db_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
	"github.com/sportello/sportello/db/dbtest"
)

func citizenCtx(subject string) context.Context {
	return sportello.WithUser(context.Background(), &sportello.User{
		TenantID: sportello.DefaultTenantID, Subject: subject, Roles: []sportello.Role{sportello.RoleCitizen},
		GivenName: "Mario", FamilyName: "Rossi " + subject, Email: subject + "@example.it",
	})
}

func operatorCtx(subject string) context.Context {
	return sportello.WithUser(context.Background(), &sportello.User{
		TenantID: sportello.DefaultTenantID, Subject: subject, Roles: []sportello.Role{sportello.RoleOperator},
		GivenName: "Anna", FamilyName: "Operatrice",
	})
}

func anonymousCtx() context.Context {
	return sportello.WithReceiptGrants(sportello.WithUser(context.Background(), &sportello.User{TenantID: sportello.DefaultTenantID}))
}

func wantCode(t *testing.T, err error, code sportello.Code) {
	t.Helper()
	if got := sportello.ErrorCode(err); err == nil || got != code {
		t.Fatalf("error = %v, want code %s", err, code)
	}
}

func submit(t *testing.T, s *db.TicketService, ctx context.Context, kind sportello.Kind) *sportello.Submission {
	t.Helper()
	sub, err := s.SubmitTicket(ctx, sportello.SubmitTicketInput{Kind: kind, Subject: "Buca in via Roma", Body: "Una buca pericolosa davanti al civico 12."})
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	return sub
}

func TestSubmitTicketAssignsConsecutiveProtocolNumbersAndDeadline(t *testing.T) {
	d := dbtest.New(t)
	now := time.Date(2026, 3, 10, 10, 0, 0, 0, sportello.Rome)
	d.Now = func() time.Time { return now }
	s := db.NewTicketService(d)
	first := submit(t, s, citizenCtx("c1"), sportello.KindInformation)
	second := submit(t, s, citizenCtx("c2"), sportello.KindComplaint)
	if got := first.Ticket.Protocol.String(); got != "2026/0000001" {
		t.Errorf("first protocol = %s", got)
	}
	if got := second.Ticket.Protocol.String(); got != "2026/0000002" {
		t.Errorf("second protocol = %s", got)
	}
	if want := sportello.DueAt(now, 30); !first.Ticket.DueAt.Equal(want) {
		t.Errorf("dueAt = %v, want %v", first.Ticket.DueAt, want)
	}
	if first.ReceiptCode != "" {
		t.Errorf("signed-in citizens get no receipt code")
	}
	if first.Ticket.Status != sportello.StatusSubmitted {
		t.Errorf("status = %s", first.Ticket.Status)
	}
}

func TestProtocolNumbersRestartEveryYear(t *testing.T) {
	d := dbtest.New(t)
	s := db.NewTicketService(d)
	d.Now = func() time.Time { return time.Date(2026, 12, 31, 22, 0, 0, 0, time.UTC) }
	submit(t, s, citizenCtx("c1"), sportello.KindInformation)
	// 23:30 UTC on 31 December is already 1 January in Rome.
	d.Now = func() time.Time { return time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC) }
	sub := submit(t, s, citizenCtx("c1"), sportello.KindInformation)
	if got := sub.Ticket.Protocol.String(); got != "2027/0000001" {
		t.Errorf("protocol = %s, want 2027/0000001", got)
	}
}

func TestConcurrentSubmissionsGetDistinctConsecutiveNumbers(t *testing.T) {
	d := dbtest.New(t)
	s := db.NewTicketService(d)
	const n = 60
	var wg sync.WaitGroup
	seqs := make(chan int, n)
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sub, err := s.SubmitTicket(citizenCtx(fmt.Sprintf("c%d", i%7)), sportello.SubmitTicketInput{
				Kind: sportello.KindReport, Subject: "Lampione spento", Body: "Via Garibaldi"})
			if err != nil {
				errs <- err
				return
			}
			seqs <- sub.Ticket.Protocol.Seq
		}()
	}
	wg.Wait()
	close(seqs)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for s := range seqs {
		seen[s] = true
	}
	for i := 1; i <= n; i++ {
		if !seen[i] {
			t.Fatalf("number %d missing; got %v", i, seen)
		}
	}
}

func TestFailedSubmissionBurnsNoNumber(t *testing.T) {
	d := dbtest.New(t)
	s := db.NewTicketService(d)
	submit(t, s, citizenCtx("c1"), sportello.KindInformation)
	_, err := s.SubmitTicket(citizenCtx("c1"), sportello.SubmitTicketInput{Kind: sportello.KindInformation,
		Subject: "x", Body: "y", OfficeID: "00000000-0000-0000-0000-00000000dead"})
	wantCode(t, err, sportello.CodeNotFound)
	sub := submit(t, s, citizenCtx("c1"), sportello.KindInformation)
	if sub.Ticket.Protocol.Seq != 2 {
		t.Errorf("seq = %d, want 2", sub.Ticket.Protocol.Seq)
	}
	var n int
	if err := d.Get(&n, `SELECT count(*) FROM tickets`); err != nil || n != 2 {
		t.Errorf("tickets = %d (%v), want 2", n, err)
	}
}

func TestCitizensSeeOnlyTheirOwnTickets(t *testing.T) {
	d := dbtest.New(t)
	s := db.NewTicketService(d)
	mine := submit(t, s, citizenCtx("alice"), sportello.KindInformation)
	submit(t, s, citizenCtx("bob"), sportello.KindInformation)

	_, err := s.Ticket(citizenCtx("bob"), mine.Ticket.ID)
	wantCode(t, err, sportello.CodeNotFound)
	if _, err := s.Ticket(citizenCtx("alice"), mine.Ticket.ID); err != nil {
		t.Fatalf("owner reads ticket: %v", err)
	}
	page, err := s.Tickets(citizenCtx("alice"), sportello.TicketFilter{}, sportello.Page{})
	if err != nil || len(page.Tickets) != 1 {
		t.Fatalf("alice lists %d tickets (%v), want 1", len(page.Tickets), err)
	}
	all, err := s.Tickets(operatorCtx("op"), sportello.TicketFilter{}, sportello.Page{})
	if err != nil || len(all.Tickets) != 2 {
		t.Fatalf("operator lists %d tickets (%v), want 2", len(all.Tickets), err)
	}
}

func TestInternalNotesNeverReachCitizens(t *testing.T) {
	d := dbtest.New(t)
	s := db.NewTicketService(d)
	sub := submit(t, s, citizenCtx("alice"), sportello.KindInformation)
	op := operatorCtx("op")
	if _, err := s.PostMessage(op, sportello.PostMessageInput{TicketID: sub.Ticket.ID, Body: "Il cittadino è già noto", Internal: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PostMessage(op, sportello.PostMessageInput{TicketID: sub.Ticket.ID, Body: "Gentile cittadino, ..."}); err != nil {
		t.Fatal(err)
	}
	_, err := s.PostMessage(citizenCtx("alice"), sportello.PostMessageInput{TicketID: sub.Ticket.ID, Body: "nota", Internal: true})
	wantCode(t, err, sportello.CodeForbidden)

	msgs, err := s.MessagesByTicket(citizenCtx("alice"), []string{sub.Ticket.ID})
	if err != nil || len(msgs[sub.Ticket.ID]) != 1 || msgs[sub.Ticket.ID][0].Internal {
		t.Fatalf("citizen messages = %+v (%v), want the one public reply", msgs[sub.Ticket.ID], err)
	}
	events, err := s.EventsByTicket(citizenCtx("alice"), []string{sub.Ticket.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events[sub.Ticket.ID] {
		if e.Internal {
			t.Fatalf("citizen sees internal event %+v", e)
		}
	}
	staffMsgs, _ := s.MessagesByTicket(op, []string{sub.Ticket.ID})
	if len(staffMsgs[sub.Ticket.ID]) != 2 {
		t.Fatalf("staff sees %d messages, want 2", len(staffMsgs[sub.Ticket.ID]))
	}
	other, _ := s.MessagesByTicket(citizenCtx("bob"), []string{sub.Ticket.ID})
	if len(other[sub.Ticket.ID]) != 0 {
		t.Fatalf("another citizen reads messages")
	}
}

// Staff read the messages of their municipality's tickets only, whatever ids they ask for.
func TestStaffOfAnotherTenantReadNoMessages(t *testing.T) {
	d := dbtest.New(t)
	newTenant(t, d)
	s := db.NewTicketService(d)
	sub := submit(t, s, citizenCtx("alice"), sportello.KindInformation)
	if _, err := s.PostMessage(operatorCtx("op"), sportello.PostMessageInput{TicketID: sub.Ticket.ID, Body: "Gentile cittadina, ..."}); err != nil {
		t.Fatal(err)
	}
	msgs, err := s.MessagesByTicket(inTenant(operatorCtx("op"), otherTenant), []string{sub.Ticket.ID})
	if err != nil || len(msgs) != 0 {
		t.Fatalf("messages for the other municipality's staff = %+v (%v), want none", msgs, err)
	}
	if msgs, err := s.MessagesByTicket(operatorCtx("op"), []string{sub.Ticket.ID}); err != nil || len(msgs[sub.Ticket.ID]) != 1 {
		t.Fatalf("messages for the municipality's staff = %+v (%v), want one", msgs, err)
	}
}

func TestWorkflowThroughTheStore(t *testing.T) {
	d := dbtest.New(t)
	now := time.Date(2026, 5, 4, 10, 0, 0, 0, sportello.Rome)
	d.Now = func() time.Time { return now }
	s := db.NewTicketService(d)
	sub := submit(t, s, citizenCtx("alice"), sportello.KindPetition)
	op := operatorCtx("op")
	id := sub.Ticket.ID
	move := func(ctx context.Context, to sportello.Status, reason string) (*sportello.Ticket, error) {
		return s.TransitionTicket(ctx, sportello.TransitionTicketInput{TicketID: id, To: to, Reason: reason})
	}
	_, err := move(citizenCtx("alice"), sportello.StatusInProgress, "")
	wantCode(t, err, sportello.CodeInvalidTransition)
	if _, err := move(op, sportello.StatusInProgress, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := move(op, sportello.StatusWaitingForCitizen, ""); err != nil {
		t.Fatal(err)
	}
	// The citizen's reply puts the ticket back in the office's hands.
	if _, err := s.PostMessage(citizenCtx("alice"), sportello.PostMessageInput{TicketID: id, Body: "Ecco il documento"}); err != nil {
		t.Fatal(err)
	}
	tk, _ := s.Ticket(op, id)
	if tk.Status != sportello.StatusInProgress {
		t.Fatalf("status after reply = %s", tk.Status)
	}
	_, err = move(op, sportello.StatusRejected, "  ")
	wantCode(t, err, sportello.CodeBadUserInput)
	if _, err := move(op, sportello.StatusResolved, ""); err != nil {
		t.Fatal(err)
	}
	now = now.Add(31 * 24 * time.Hour)
	_, err = move(citizenCtx("alice"), sportello.StatusInProgress, "")
	wantCode(t, err, sportello.CodeInvalidTransition)
	if _, err := move(op, sportello.StatusClosed, ""); err != nil {
		t.Fatal(err)
	}
	_, err = s.PostMessage(citizenCtx("alice"), sportello.PostMessageInput{TicketID: id, Body: "ancora"})
	wantCode(t, err, sportello.CodeInvalidTransition)

	events, _ := s.EventsByTicket(op, []string{id})
	var types []sportello.EventType
	for _, e := range events[id] {
		types = append(types, e.Type)
	}
	want := []sportello.EventType{"CREATED", "STATUS_CHANGED", "STATUS_CHANGED", "MESSAGE_POSTED", "STATUS_CHANGED", "STATUS_CHANGED", "STATUS_CHANGED"}
	if fmt.Sprint(types) != fmt.Sprint(want) {
		t.Fatalf("history = %v, want %v", types, want)
	}
}

func TestAnonymousReportIsFollowedByReceipt(t *testing.T) {
	d := dbtest.New(t)
	s := db.NewTicketService(d)
	_, err := s.SubmitTicket(anonymousCtx(), sportello.SubmitTicketInput{Kind: sportello.KindPetition, Subject: "x", Body: "y"})
	wantCode(t, err, sportello.CodeUnauthenticated)
	sub, err := s.SubmitTicket(anonymousCtx(), sportello.SubmitTicketInput{Kind: sportello.KindReport, Subject: "Rifiuti",
		Body: "Cassonetto rotto", Contact: &sportello.Contact{Email: "Anon@Example.it"}})
	if err != nil {
		t.Fatal(err)
	}
	if sub.ReceiptCode == "" {
		t.Fatal("no receipt code")
	}
	ctx := anonymousCtx()
	_, err = s.TicketByReceipt(ctx, sub.Ticket.Protocol.String(), "WRONG-CODE")
	wantCode(t, err, sportello.CodeNotFound)
	msgs, _ := s.MessagesByTicket(ctx, []string{sub.Ticket.ID})
	if msgs == nil {
		t.Fatal("nil map")
	}
	tk, err := s.TicketByReceipt(ctx, sub.Ticket.Protocol.String(), sub.ReceiptCode)
	if err != nil {
		t.Fatal(err)
	}
	if tk.Contact == nil || tk.Contact.Email != "Anon@example.it" {
		t.Fatalf("contact = %+v", tk.Contact)
	}
	events, err := s.EventsByTicket(ctx, []string{tk.ID})
	if err != nil || len(events[tk.ID]) != 1 {
		t.Fatalf("anonymous history = %v (%v)", events, err)
	}
}

func TestAssignRecomputesDeadlineFromOfficeTerm(t *testing.T) {
	d := dbtest.New(t)
	now := time.Date(2026, 6, 1, 9, 0, 0, 0, sportello.Rome)
	d.Now = func() time.Time { return now }
	s := db.NewTicketService(d)
	offices := db.NewOfficeService(d)
	var officeID string
	if err := d.Get(&officeID, `INSERT INTO offices (tenant_id, name) VALUES ($1, 'Tributi') RETURNING id`, sportello.DefaultTenantID); err != nil {
		t.Fatal(err)
	}
	mgr := sportello.WithUser(context.Background(), &sportello.User{TenantID: sportello.DefaultTenantID, Subject: "m", Roles: []sportello.Role{sportello.RoleManager}})
	if _, err := offices.SetResponseTerm(operatorCtx("op"), sportello.KindComplaint, officeID, 10); sportello.ErrorCode(err) != sportello.CodeForbidden {
		t.Fatalf("operator sets term: %v", err)
	}
	if _, err := offices.SetResponseTerm(mgr, sportello.KindComplaint, officeID, 10); err != nil {
		t.Fatal(err)
	}
	sub := submit(t, s, citizenCtx("alice"), sportello.KindComplaint)
	tk, err := s.AssignTicket(operatorCtx("op"), sportello.AssignTicketInput{TicketID: sub.Ticket.ID, OfficeID: officeID})
	if err != nil {
		t.Fatal(err)
	}
	if want := sportello.DueAt(now, 10); !tk.DueAt.Equal(want) {
		t.Fatalf("dueAt = %v, want %v", tk.DueAt, want)
	}
	_, err = s.AssignTicket(operatorCtx("op"), sportello.AssignTicketInput{TicketID: sub.Ticket.ID, OfficeID: "nope"})
	wantCode(t, err, sportello.CodeNotFound)
	_, err = s.AssignTicket(citizenCtx("alice"), sportello.AssignTicketInput{TicketID: sub.Ticket.ID, OfficeID: officeID})
	if !errors.Is(err, sportello.ErrForbidden) {
		t.Fatalf("citizen assigns: %v", err)
	}
}
