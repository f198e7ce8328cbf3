package db_test

import (
	"context"
	"errors"
	"testing"
	"time"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
	"github.com/sportello/sportello/db/dbtest"
)

const otherTenant = "00000000-0000-0000-0000-000000000002"

func managerCtx(tenant string) context.Context {
	return sportello.WithUser(context.Background(), &sportello.User{
		TenantID: tenant, Subject: "manager-" + tenant, Roles: []sportello.Role{sportello.RoleManager},
		GivenName: "Paolo", FamilyName: "Neri",
	})
}

func newOffice(t *testing.T, d *db.DB, tenant, name string) string {
	t.Helper()
	var id string
	if err := d.Get(&id, `INSERT INTO offices (tenant_id, name) VALUES ($1, $2) RETURNING id`, tenant, name); err != nil {
		t.Fatal(err)
	}
	return id
}

func newTenant(t *testing.T, d *db.DB) {
	t.Helper()
	if _, err := d.Exec(`INSERT INTO tenants (id, slug, name) VALUES ($1, 'altro', 'Altro Comune')`, otherTenant); err != nil {
		t.Fatal(err)
	}
}

func wantField(t *testing.T, err error, code sportello.Code, field string) {
	t.Helper()
	var e *sportello.Error
	if !errors.As(err, &e) || e.Code != code || e.Field != field {
		t.Fatalf("error = %v, want %s on %q", err, code, field)
	}
}

var urpWeek = []sportello.OpeningSlot{
	{Weekday: time.Monday, Opens: "09:00", Closes: "13:00"},
	{Weekday: time.Tuesday, Opens: "09:00", Closes: "13:00"}, {Weekday: time.Tuesday, Opens: "16:00", Closes: "18:00"},
	{Weekday: time.Wednesday, Opens: "09:00", Closes: "13:00"},
	{Weekday: time.Thursday, Opens: "09:00", Closes: "13:00"}, {Weekday: time.Thursday, Opens: "16:00", Closes: "18:00"},
	{Weekday: time.Friday, Opens: "09:00", Closes: "13:00"},
}

func TestSetOpeningHoursReplacesTheWeekAndRefusesBadSlots(t *testing.T) {
	d := dbtest.New(t)
	s := db.NewHoursService(d)
	urp := newOffice(t, d, sportello.DefaultTenantID, "URP")
	mgr := managerCtx(sportello.DefaultTenantID)

	office, err := s.SetOpeningHours(mgr, urp, urpWeek)
	if err != nil {
		t.Fatal(err)
	}
	if len(office.Hours) != 7 || office.Hours[2] != urpWeek[2] {
		t.Fatalf("hours = %+v", office.Hours)
	}
	bad := append(append([]sportello.OpeningSlot{}, urpWeek...), sportello.OpeningSlot{Weekday: time.Tuesday, Opens: "12:00", Closes: "14:00"})
	_, err = s.SetOpeningHours(mgr, urp, bad)
	wantField(t, err, sportello.CodeBadUserInput, "slots[7].opens")
	_, err = s.SetOpeningHours(mgr, urp, []sportello.OpeningSlot{{Weekday: time.Monday, Opens: "9", Closes: "13:00"}})
	wantField(t, err, sportello.CodeBadUserInput, "slots[0].opens")
	if got, _ := s.Office(mgr, urp); len(got.Hours) != 7 {
		t.Fatalf("a refused week wrote %d slots", len(got.Hours))
	}

	for _, c := range []struct {
		ctx  context.Context
		code sportello.Code
	}{
		{citizenCtx("c1"), sportello.CodeForbidden},
		{operatorCtx("op1"), sportello.CodeForbidden},
		{anonymousCtx(), sportello.CodeUnauthenticated},
	} {
		_, err := s.SetOpeningHours(c.ctx, urp, nil)
		wantCode(t, err, c.code)
		_, err = s.AddClosure(c.ctx, sportello.ClosureInput{From: sportello.Date{Year: 2026, Month: 6, Day: 24},
			To: sportello.Date{Year: 2026, Month: 6, Day: 24}, Reason: "Patrono"})
		wantCode(t, err, c.code)
		_, err = s.SetFirstResponseTarget(c.ctx, sportello.KindComplaint, "", 8)
		wantCode(t, err, c.code)
	}

	// An empty week is allowed: the office stops receiving the public.
	if office, err := s.SetOpeningHours(mgr, urp, nil); err != nil || len(office.Hours) != 0 {
		t.Fatalf("empty week: %+v, %v", office, err)
	}
	_, err = s.SetOpeningHours(mgr, "not-an-id", urpWeek)
	wantField(t, err, sportello.CodeNotFound, "officeId")
}

func TestClosuresStayInTheirTenant(t *testing.T) {
	d := dbtest.New(t)
	newTenant(t, d)
	s := db.NewHoursService(d)
	urp := newOffice(t, d, sportello.DefaultTenantID, "URP")
	elsewhere := newOffice(t, d, otherTenant, "URP")
	mgr, otherMgr := managerCtx(sportello.DefaultTenantID), managerCtx(otherTenant)
	if _, err := s.SetOpeningHours(mgr, urp, urpWeek); err != nil {
		t.Fatal(err)
	}
	june24 := sportello.Date{Year: 2026, Month: 6, Day: 24}

	own, err := s.AddClosure(mgr, sportello.ClosureInput{OfficeID: urp, From: june24, To: june24, Reason: " Santo patrono "})
	if err != nil {
		t.Fatal(err)
	}
	if own.ID == "" || own.Reason != "Santo patrono" || own.From != june24 || own.To != june24 || own.OfficeID != urp {
		t.Fatalf("closure = %+v", own)
	}
	strike, err := s.AddClosure(mgr, sportello.ClosureInput{From: sportello.Date{Year: 2026, Month: 11, Day: 20},
		To: sportello.Date{Year: 2026, Month: 11, Day: 20}, Reason: "Sciopero generale"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddClosure(otherMgr, sportello.ClosureInput{OfficeID: elsewhere, From: june24.AddDays(1), To: june24.AddDays(1), Reason: "Altro patrono"}); err != nil {
		t.Fatal(err)
	}

	scheds, err := s.Schedules(mgr, []string{urp, elsewhere})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := scheds[elsewhere]; ok {
		t.Fatal("an office of another tenant has a schedule here")
	}
	got := scheds[urp].Closures(sportello.Date{Year: 2026, Month: 6, Day: 1}, sportello.Date{Year: 2026, Month: 11, Day: 30})
	var reasons []string
	for _, c := range got {
		reasons = append(reasons, c.From.String()+" "+c.Reason)
	}
	want := []string{"2026-06-02 Festa della Repubblica", "2026-06-24 Santo patrono", "2026-08-15 Ferragosto",
		"2026-10-04 San Francesco d'Assisi, patrono d'Italia", "2026-11-01 Ognissanti", "2026-11-20 Sciopero generale"}
	if len(reasons) != len(want) {
		t.Fatalf("closures = %q, want %q", reasons, want)
	}
	for i := range want {
		if reasons[i] != want[i] {
			t.Errorf("closure %d = %q, want %q", i, reasons[i], want[i])
		}
	}
	if scheds[urp].IsOpen(time.Date(2026, 6, 24, 10, 0, 0, 0, sportello.Rome)) {
		t.Error("open on the patron saint's day")
	}

	// Another tenant's manager can neither see nor remove the closure, nor close our office.
	_, err = s.RemoveClosure(otherMgr, own.ID)
	wantCode(t, err, sportello.CodeNotFound)
	_, err = s.AddClosure(otherMgr, sportello.ClosureInput{OfficeID: urp, From: june24, To: june24, Reason: "x"})
	wantField(t, err, sportello.CodeNotFound, "input.officeId")
	_, err = s.AddClosure(mgr, sportello.ClosureInput{OfficeID: urp, From: june24, To: june24.AddDays(-1), Reason: "x"})
	wantField(t, err, sportello.CodeBadUserInput, "input.to")

	removed, err := s.RemoveClosure(mgr, strike.ID)
	if err != nil || removed.Reason != "Sciopero generale" {
		t.Fatalf("remove = %+v, %v", removed, err)
	}
	_, err = s.RemoveClosure(mgr, strike.ID)
	wantCode(t, err, sportello.CodeNotFound)
	var n int
	if err := d.Get(&n, `SELECT count(*) FROM office_closures`); err != nil || n != 2 {
		t.Fatalf("%d closures left, %v", n, err)
	}
}

func TestTheFrontDeskClocksTicketsWithoutAnOffice(t *testing.T) {
	d := dbtest.New(t)
	s := db.NewHoursService(d)
	urp := newOffice(t, d, sportello.DefaultTenantID, "URP")
	tributi := newOffice(t, d, sportello.DefaultTenantID, "Tributi")
	mgr := managerCtx(sportello.DefaultTenantID)
	if _, err := s.SetOpeningHours(mgr, urp, urpWeek); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Schedules(mgr, []string{""}); err != nil || len(got) != 0 {
		t.Fatalf("without a front desk: %v, %v", got, err)
	}
	for _, id := range []string{tributi, urp} {
		office, err := s.SetFrontDesk(mgr, id)
		if err != nil || !office.FrontDesk {
			t.Fatalf("set front desk: %+v, %v", office, err)
		}
	}
	var n int
	if err := d.Get(&n, `SELECT count(*) FROM offices WHERE front_desk`); err != nil || n != 1 {
		t.Fatalf("%d front desks, %v", n, err)
	}
	got, err := s.Schedules(mgr, []string{"", tributi})
	if err != nil {
		t.Fatal(err)
	}
	tuesday := time.Date(2026, 11, 17, 16, 30, 0, 0, sportello.Rome)
	if got[""] == nil || !got[""].IsOpen(tuesday) || got[tributi].IsOpen(tuesday) {
		t.Fatalf("schedules = %+v", got)
	}
}

func TestFirstResponseTargetsAndFirstReply(t *testing.T) {
	d := dbtest.New(t)
	s := db.NewHoursService(d)
	tickets := db.NewTicketService(d)
	tributi := newOffice(t, d, sportello.DefaultTenantID, "Tributi")
	mgr := managerCtx(sportello.DefaultTenantID)
	if _, err := s.SetFirstResponseTarget(mgr, sportello.KindComplaint, "", 8); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetFirstResponseTarget(mgr, sportello.KindComplaint, tributi, 4); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetFirstResponseTarget(mgr, sportello.KindComplaint, tributi, 6); err != nil {
		t.Fatal(err)
	}
	_, err := s.SetFirstResponseTarget(mgr, sportello.KindComplaint, "", 0)
	wantField(t, err, sportello.CodeBadUserInput, "hours")
	list, err := s.FirstResponseTargets(mgr)
	if err != nil || len(list) != 2 {
		t.Fatalf("targets = %v, %v", list, err)
	}
	hours, err := s.TargetHours(citizenCtx("c1"), []sportello.TargetKey{
		{Kind: sportello.KindComplaint, OfficeID: tributi}, {Kind: sportello.KindComplaint}, {Kind: sportello.KindReport},
	})
	if err != nil {
		t.Fatal(err)
	}
	if hours[sportello.TargetKey{Kind: sportello.KindComplaint, OfficeID: tributi}] != 6 ||
		hours[sportello.TargetKey{Kind: sportello.KindComplaint}] != 8 ||
		hours[sportello.TargetKey{Kind: sportello.KindReport}] != sportello.DefaultFirstResponseHours {
		t.Fatalf("target hours = %v", hours)
	}

	// Only the first public reply by staff is recorded: not internal notes, not the citizen.
	now := time.Date(2026, 11, 17, 10, 0, 0, 0, sportello.Rome)
	d.Now = func() time.Time { return now }
	sub := submit(t, tickets, citizenCtx("c1"), sportello.KindComplaint)
	post := func(ctx context.Context, internal bool, at time.Time) *sportello.Ticket {
		t.Helper()
		now = at
		if _, err := tickets.PostMessage(ctx, sportello.PostMessageInput{TicketID: sub.Ticket.ID, Body: "…", Internal: internal}); err != nil {
			t.Fatal(err)
		}
		got, err := tickets.Ticket(ctx, sub.Ticket.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := post(operatorCtx("op1"), true, now.Add(time.Hour)); got.FirstRespondedAt != nil {
		t.Fatalf("an internal note counted as a reply: %v", got.FirstRespondedAt)
	}
	if got := post(citizenCtx("c1"), false, now.Add(time.Hour)); got.FirstRespondedAt != nil {
		t.Fatalf("the citizen's message counted as a reply: %v", got.FirstRespondedAt)
	}
	first := now.Add(time.Hour)
	if got := post(operatorCtx("op1"), false, first); got.FirstRespondedAt == nil || !got.FirstRespondedAt.Equal(first) {
		t.Fatalf("first reply at %v, want %v", got.FirstRespondedAt, first)
	}
	if got := post(operatorCtx("op2"), false, first.Add(time.Hour)); !got.FirstRespondedAt.Equal(first) {
		t.Fatalf("a later reply moved the first reply to %v", got.FirstRespondedAt)
	}
}
