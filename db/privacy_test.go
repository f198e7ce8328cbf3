package db_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
	"github.com/sportello/sportello/db/dbtest"
)

func adminCtx(subject string) context.Context {
	return sportello.WithUser(context.Background(), &sportello.User{
		TenantID: sportello.DefaultTenantID, Subject: subject, Roles: []sportello.Role{sportello.RoleAdmin},
	})
}

func auditEntries(t *testing.T, p *db.PrivacyService, f sportello.AuditFilter) []*sportello.AuditEntry {
	t.Helper()
	page, err := p.AuditLog(adminCtx("admin"), f, sportello.Page{First: 100})
	if err != nil {
		t.Fatalf("audit log: %v", err)
	}
	return page.Entries
}

func TestStaffReadsAndChangesOfCitizensAreAudited(t *testing.T) {
	d := dbtest.New(t)
	tickets, citizens, privacy := db.NewTicketService(d), db.NewCitizenService(d), db.NewPrivacyService(d)
	sub := submit(t, tickets, citizenCtx("c1"), sportello.KindInformation)
	citizenID := sub.Ticket.CitizenID
	// The citizen's own reads are not staff accesses.
	if _, err := tickets.Ticket(citizenCtx("c1"), sub.Ticket.ID); err != nil {
		t.Fatal(err)
	}
	if n := len(auditEntries(t, privacy, sportello.AuditFilter{})); n != 0 {
		t.Fatalf("%d entries before any staff access", n)
	}

	op := sportello.WithOrigin(operatorCtx("op-1"), sportello.Origin{Addr: "192.0.2.7", RequestID: "req-1"})
	if _, err := citizens.SearchCitizens(op, "rossi", 10); err != nil {
		t.Fatal(err)
	}
	if _, err := citizens.CitizensByID(op, []string{citizenID}); err != nil {
		t.Fatal(err)
	}
	if _, err := tickets.Tickets(op, sportello.TicketFilter{}, sportello.Page{}); err != nil {
		t.Fatal(err)
	}
	if _, err := tickets.Ticket(op, sub.Ticket.ID); err != nil {
		t.Fatal(err)
	}
	created, err := citizens.CreateCitizen(op, sportello.CitizenInput{GivenName: "Giulia", FamilyName: "Bianchi"})
	if err != nil {
		t.Fatal(err)
	}

	entries := auditEntries(t, privacy, sportello.AuditFilter{ActorSubject: "op-1"})
	var got []string
	for _, e := range entries {
		got = append(got, string(e.Action)+" "+e.What)
		want := citizenID
		if e.Action == sportello.AuditChange {
			want = created.ID
		}
		if e.CitizenID != want || e.ActorName != "Anna Operatrice" || !slices.Equal(e.ActorRoles, []sportello.Role{sportello.RoleOperator}) ||
			e.Origin != (sportello.Origin{Addr: "192.0.2.7", RequestID: "req-1"}) || e.At.IsZero() {
			t.Errorf("entry %+v", e)
		}
	}
	want := []string{"CHANGE citizens.create", "READ tickets.get", "READ tickets.list", "READ citizens.byId", "READ citizens.search"}
	if !slices.Equal(got, want) {
		t.Errorf("entries, newest first = %q, want %q", got, want)
	}
	if n := len(auditEntries(t, privacy, sportello.AuditFilter{CitizenID: created.ID})); n != 1 {
		t.Errorf("filter by citizen: %d entries", n)
	}
}

func TestAuditLogIsForAdminsOnly(t *testing.T) {
	privacy := db.NewPrivacyService(dbtest.New(t))
	_, err := privacy.AuditLog(operatorCtx("op-1"), sportello.AuditFilter{}, sportello.Page{})
	wantCode(t, err, sportello.CodeForbidden)
	_, err = privacy.AuditLog(citizenCtx("c1"), sportello.AuditFilter{}, sportello.Page{})
	wantCode(t, err, sportello.CodeForbidden)
	_, err = privacy.AuditLog(anonymousCtx(), sportello.AuditFilter{}, sportello.Page{})
	wantCode(t, err, sportello.CodeUnauthenticated)
	_, err = privacy.AuditLog(adminCtx("a"), sportello.AuditFilter{}, sportello.Page{After: "nope"})
	wantCode(t, err, sportello.CodeBadUserInput)
}

func TestAuditLogPagesNewestFirst(t *testing.T) {
	d := dbtest.New(t)
	citizens, privacy := db.NewCitizenService(d), db.NewPrivacyService(d)
	for range 3 {
		if _, err := citizens.SearchCitizens(operatorCtx("op-1"), "rossi", 10); err != nil {
			t.Fatal(err)
		}
	}
	submit(t, db.NewTicketService(d), citizenCtx("c1"), sportello.KindInformation)
	for range 3 {
		if _, err := citizens.SearchCitizens(operatorCtx("op-1"), "rossi", 10); err != nil {
			t.Fatal(err)
		}
	}
	first, err := privacy.AuditLog(adminCtx("a"), sportello.AuditFilter{}, sportello.Page{First: 2})
	if err != nil || len(first.Entries) != 2 || !first.HasNextPage {
		t.Fatalf("first page: %+v, %v", first, err)
	}
	second, err := privacy.AuditLog(adminCtx("a"), sportello.AuditFilter{}, sportello.Page{First: 2, After: first.Cursors[1]})
	if err != nil || len(second.Entries) != 1 || second.HasNextPage || second.Entries[0].ID >= first.Entries[1].ID {
		t.Fatalf("second page: %+v, %v", second, err)
	}
}

func TestAuditLogRefusesChangesAndYoungDeletions(t *testing.T) {
	d := dbtest.New(t)
	submit(t, db.NewTicketService(d), citizenCtx("c1"), sportello.KindInformation)
	if _, err := db.NewCitizenService(d).SearchCitizens(operatorCtx("op-1"), "rossi", 10); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`UPDATE audit_log SET actor_subject = 'someone-else'`,
		`DELETE FROM audit_log`,
		`TRUNCATE audit_log`,
	} {
		if _, err := d.Exec(stmt); err == nil {
			t.Errorf("%s: allowed", stmt)
		}
	}
	// Past six months entries may go, so the log does not grow forever.
	if _, err := d.Exec(`INSERT INTO audit_log (tenant_id, actor_subject, action, what, at)
		VALUES ($1, 'op-old', 'READ', 'citizens.search', now() - interval '7 months')`, sportello.DefaultTenantID); err != nil {
		t.Fatal(err)
	}
	res, err := d.Exec(`DELETE FROM audit_log WHERE actor_subject = 'op-old'`)
	if err != nil {
		t.Fatalf("deleting an entry older than six months: %v", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Errorf("deleted %d", n)
	}
}

func TestErasureOfACitizenWithRecordsRestrictsThem(t *testing.T) {
	d := dbtest.New(t)
	tickets, citizens, privacy := db.NewTicketService(d), db.NewCitizenService(d), db.NewPrivacyService(d)
	ctx := sportello.WithUser(context.Background(), &sportello.User{TenantID: sportello.DefaultTenantID, Subject: "spid-9",
		Roles: []sportello.Role{sportello.RoleCitizen}, GivenName: "Mario", FamilyName: "Rossi",
		FiscalCode: "RSSMRA85T10A562S", Email: "mario@example.it"})
	sub := submit(t, tickets, ctx, sportello.KindInformation)
	if _, err := citizens.UpdateMyProfile(ctx, sportello.ProfileInput{Phone: ptr("+39 333 1234567")}); err != nil {
		t.Fatal(err)
	}
	countBefore := countRows(t, d, `SELECT count(*) FROM tickets`)

	erasure, err := privacy.RequestErasure(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if erasure.Outcome != sportello.ErasureRestricted || !slices.Equal(erasure.KeptRecords, []string{sub.Ticket.Protocol.String()}) {
		t.Fatalf("erasure = %+v", erasure)
	}
	// What remains: the record, with its sender's name and fiscal code, and nothing else.
	var row struct {
		Subject    *string `db:"subject"`
		GivenName  string  `db:"given_name"`
		FamilyName string  `db:"family_name"`
		FiscalCode *string `db:"fiscal_code"`
		Email      string  `db:"email"`
		Phone      string  `db:"phone"`
		Erased     bool    `db:"erased"`
	}
	if err := d.Get(&row, `SELECT subject, given_name, family_name, fiscal_code, email, phone, erased_at IS NOT NULL AS erased
		FROM citizens WHERE id = $1`, sub.Ticket.CitizenID); err != nil {
		t.Fatal(err)
	}
	if row.Subject != nil || row.Email != "" || row.Phone != "" || !row.Erased ||
		row.GivenName != "Mario" || row.FamilyName != "Rossi" || row.FiscalCode == nil || *row.FiscalCode != "RSSMRA85T10A562S" {
		t.Errorf("citizen after erasure: %+v", row)
	}
	if n := countRows(t, d, `SELECT count(*) FROM tickets`); n != countBefore {
		t.Errorf("tickets %d, then %d: statistics changed", countBefore, n)
	}
	// Restricted: staff no longer find the person by searching.
	found, err := citizens.SearchCitizens(operatorCtx("op-1"), "RSSMRA85T10A562S", 10)
	if err != nil || len(found) != 0 {
		t.Errorf("search after erasure: %v, %v", found, err)
	}
	// The session that asked for the erasure opens nothing more: its token would re-create the
	// profile from the very claims just erased.
	_, err = citizens.Me(ctx)
	wantCode(t, err, sportello.CodeUnauthenticated)
	before := *sportello.UserFrom(ctx)
	before.SignedInAt = erasure.At.Add(-time.Hour)
	_, err = citizens.Me(sportello.WithUser(context.Background(), &before))
	wantCode(t, err, sportello.CodeUnauthenticated)
	// Signing in again starts a new, empty profile, even with the same fiscal code.
	after := before
	after.SignedInAt = erasure.At.Add(time.Second)
	ctx = sportello.WithUser(context.Background(), &after)
	again, err := citizens.Me(ctx)
	if err != nil || again.ID == sub.Ticket.CitizenID {
		t.Fatalf("sign in again: %+v, %v", again, err)
	}
	mine, err := tickets.Tickets(ctx, sportello.TicketFilter{}, sportello.Page{})
	if err != nil || len(mine.Tickets) != 0 {
		t.Errorf("the new profile sees %+v, %v", mine, err)
	}
	entries := auditEntries(t, privacy, sportello.AuditFilter{CitizenID: sub.Ticket.CitizenID, Action: sportello.AuditErase})
	if len(entries) != 1 || entries[0].ActorSubject != "spid-9" {
		t.Errorf("erasure audit entries: %+v", entries)
	}
}

func TestErasureOfACitizenWithoutRecordsErasesThem(t *testing.T) {
	d := dbtest.New(t)
	citizens, privacy := db.NewCitizenService(d), db.NewPrivacyService(d)
	me, err := citizens.Me(citizenCtx("c7"))
	if err != nil {
		t.Fatal(err)
	}
	erasure, err := privacy.RequestErasure(citizenCtx("c7"))
	if err != nil || erasure.Outcome != sportello.ErasureErased || len(erasure.KeptRecords) != 0 {
		t.Fatalf("erasure = %+v, %v", erasure, err)
	}
	var left string
	if err := d.Get(&left, `SELECT concat_ws('|', subject, given_name, family_name, fiscal_code, email, phone) FROM citizens WHERE id = $1`, me.ID); err != nil {
		t.Fatal(err)
	}
	if left != "|||" {
		t.Errorf("personal data left: %q", left)
	}
}

func TestErasureNeedsASignedInCitizen(t *testing.T) {
	privacy := db.NewPrivacyService(dbtest.New(t))
	_, err := privacy.RequestErasure(anonymousCtx())
	wantCode(t, err, sportello.CodeUnauthenticated)
	_, err = privacy.RequestErasure(operatorCtx("op-1"))
	wantCode(t, err, sportello.CodeForbidden)
	_, err = privacy.ExportMyData(operatorCtx("op-1"))
	wantCode(t, err, sportello.CodeForbidden)
}

func TestExportHoldsTheCitizensDataAndNotTheOfficesNotes(t *testing.T) {
	d := dbtest.New(t)
	tickets, privacy := db.NewTicketService(d), db.NewPrivacyService(d)
	sub := submit(t, tickets, citizenCtx("c1"), sportello.KindInformation)
	for _, m := range []sportello.PostMessageInput{
		{TicketID: sub.Ticket.ID, Body: "Gentile signore, ecco la risposta."},
		{TicketID: sub.Ticket.ID, Body: "Nota interna", Internal: true},
	} {
		if _, err := tickets.PostMessage(operatorCtx("op-1"), m); err != nil {
			t.Fatal(err)
		}
	}
	export, err := privacy.ExportMyData(citizenCtx("c1"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Profile struct{ ID, FamilyName, Email string }
		Tickets []struct {
			ProtocolNumber string
			Messages       []struct{ Body string }
		}
		Appointments []json.RawMessage
		Accesses     []struct{ Action, What string }
	}
	if err := json.Unmarshal(export.JSON, &doc); err != nil {
		t.Fatalf("export is not JSON: %v\n%s", err, export.JSON)
	}
	if doc.Profile.ID != sub.Ticket.CitizenID || doc.Profile.Email != "c1@example.it" || len(doc.Tickets) != 1 ||
		doc.Tickets[0].ProtocolNumber != sub.Ticket.Protocol.String() || len(doc.Tickets[0].Messages) != 1 ||
		doc.Tickets[0].Messages[0].Body != "Gentile signore, ecco la risposta." || doc.Appointments == nil {
		t.Errorf("export: %s", export.JSON)
	}
	if len(doc.Accesses) == 0 {
		t.Errorf("the operator's reads are not in the export: %s", export.JSON)
	}
}

func TestRetentionPseudonymisesClosedTicketsPastTheirPeriod(t *testing.T) {
	d := dbtest.New(t)
	tickets, privacy := db.NewTicketService(d), db.NewPrivacyService(d)
	old := submit(t, tickets, citizenCtx("c1"), sportello.KindInformation)
	recent := submit(t, tickets, citizenCtx("c1"), sportello.KindInformation)
	open := submit(t, tickets, citizenCtx("c1"), sportello.KindInformation)
	anon, err := tickets.SubmitTicket(anonymousCtx(), sportello.SubmitTicketInput{Kind: sportello.KindReport, Subject: "Lampione",
		Body: "Spento da giorni", Contact: &sportello.Contact{Name: "Anna", Email: "anna@example.it"}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	closeAt := func(id string, at time.Time) {
		t.Helper()
		if _, err := d.Exec(`UPDATE tickets SET status = 'CLOSED', resolved_at = $2 WHERE id = $1`, id, at); err != nil {
			t.Fatal(err)
		}
	}
	closeAt(old.Ticket.ID, now.AddDate(-6, 0, 0))
	closeAt(anon.Ticket.ID, now.AddDate(-6, 0, 0))
	closeAt(recent.Ticket.ID, now.AddDate(0, -1, 0))
	if _, err := d.Exec(`UPDATE tickets SET created_at = $2 WHERE id = $1`, open.Ticket.ID, now.AddDate(-6, 0, 0)); err != nil {
		t.Fatal(err)
	}

	n, err := privacy.PseudonymiseClosedTickets(context.Background(), now.AddDate(-5, 0, 0))
	if err != nil || n != 2 {
		t.Fatalf("pseudonymised %d, %v", n, err)
	}
	var left []struct {
		ID      string  `db:"id"`
		Citizen *string `db:"citizen_id"`
		Contact string  `db:"contact"`
		Receipt bool    `db:"receipt"`
		Done    bool    `db:"done"`
	}
	if err := d.Select(&left, `SELECT id, citizen_id, contact_name || contact_email || contact_phone AS contact,
		receipt_hash IS NOT NULL AS receipt, pseudonymised_at IS NOT NULL AS done FROM tickets`); err != nil {
		t.Fatal(err)
	}
	if len(left) != 4 {
		t.Fatalf("%d tickets left, want all 4", len(left))
	}
	for _, r := range left {
		gone := r.ID == old.Ticket.ID || r.ID == anon.Ticket.ID
		if gone != (r.Citizen == nil && r.Contact == "" && !r.Receipt && r.Done) {
			t.Errorf("ticket %s (pseudonymised: %v): %+v", r.ID, gone, r)
		}
	}
	if n, err := privacy.PseudonymiseClosedTickets(context.Background(), now.AddDate(-5, 0, 0)); err != nil || n != 0 {
		t.Errorf("second run: %d, %v", n, err)
	}
}

func countRows(t *testing.T, d *db.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := d.Get(&n, query, args...); err != nil {
		t.Fatal(err)
	}
	return n
}

func ptr[T any](v T) *T { return &v }

func TestErasureDeletesNotificationsAndExportHoldsThem(t *testing.T) {
	d := dbtest.New(t)
	citizens, privacy := db.NewCitizenService(d), db.NewPrivacyService(d)
	me, err := citizens.Me(citizenCtx("c3"))
	if err != nil {
		t.Fatal(err)
	}
	n := &sportello.Notification{CitizenID: me.ID, Kind: "TICKET_REPLY", Title: "Nuova risposta", CreatedAt: time.Now()}
	if err := db.InsertNotification(context.Background(), d, sportello.DefaultTenantID, n); err != nil {
		t.Fatal(err)
	}
	export, err := privacy.ExportMyData(citizenCtx("c3"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Notifications []struct{ Title string } }
	if err := json.Unmarshal(export.JSON, &doc); err != nil || len(doc.Notifications) != 1 || doc.Notifications[0].Title != "Nuova risposta" {
		t.Fatalf("export: %s, %v", export.JSON, err)
	}
	if _, err := privacy.RequestErasure(citizenCtx("c3")); err != nil {
		t.Fatal(err)
	}
	if left := countRows(t, d, `SELECT count(*) FROM notifications`); left != 0 {
		t.Errorf("%d notifications left", left)
	}
}

func TestErasureRemovesWhatTheCitizenSavedFollowsAndPrefers(t *testing.T) {
	d := dbtest.New(t)
	ctx := citizenCtx("c4")
	tickets, privacy := db.NewTicketService(d), db.NewPrivacyService(d)
	report := submit(t, tickets, citizenCtx("neighbour"), sportello.KindReport)
	if _, err := db.NewTriageService(d).FollowTicket(ctx, report.Ticket.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.NewYouthService(d).SaveSearch(ctx, sportello.SavedSearchInput{Name: "Tirocini",
		Criteria: sportello.OpportunityCriteria{Text: "tirocinio"}, Alerts: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.NewNotificationPreferenceService(d).SetNotificationPreferences(ctx, sportello.NotificationPreferences{
		EmailNotices: []sportello.TicketNotice{sportello.NoticeAnswered}, App: true}); err != nil {
		t.Fatal(err)
	}
	me, _ := db.NewCitizenService(d).Me(ctx)
	if err := db.InsertNotification(context.Background(), d, sportello.DefaultTenantID,
		&sportello.Notification{CitizenID: me.ID, Kind: "OPPORTUNITY_ALERT", Title: "Tirocinio"}); err != nil {
		t.Fatal(err)
	}

	export, err := privacy.ExportMyData(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		FollowedTickets         []struct{ TicketID string }
		SavedSearches           []struct{ Name string }
		NotificationPreferences *struct{ EmailNotices []string }
	}
	if err := json.Unmarshal(export.JSON, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.FollowedTickets) != 1 || doc.FollowedTickets[0].TicketID != report.Ticket.ID ||
		len(doc.SavedSearches) != 1 || doc.NotificationPreferences == nil {
		t.Fatalf("the export misses what the citizen saved, follows or prefers: %s", export.JSON)
	}

	if _, err := privacy.RequestErasure(ctx); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"ticket_followers", "saved_searches", "notification_preferences", "notifications"} {
		if n := countRows(t, d, `SELECT count(*) FROM `+table+` WHERE citizen_id = $1`, me.ID); n != 0 {
			t.Errorf("%d rows of %s left after erasure", n, table)
		}
	}
	if n := countRows(t, d, `SELECT count(*) FROM events WHERE citizen_id = $1`, me.ID); n != 0 {
		t.Errorf("%d topic events for the erased citizen left", n)
	}
}
