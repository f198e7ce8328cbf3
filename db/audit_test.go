package db_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
	"github.com/sportello/sportello/db/dbtest"
)

// Concurrent staff reads share INSERTs of the audit log; each must still leave its own entry,
// with its own request, before it returns.
func TestConcurrentStaffReadsEachLeaveTheirEntry(t *testing.T) {
	d := dbtest.New(t)
	tickets, privacy := db.NewTicketService(d), db.NewPrivacyService(d)
	sub := submit(t, tickets, citizenCtx("c1"), sportello.KindInformation)

	const readers = 40
	var wg sync.WaitGroup
	errs := make(chan error, readers)
	for i := range readers {
		wg.Go(func() {
			ctx := sportello.WithOrigin(operatorCtx("op-1"), sportello.Origin{Addr: "192.0.2.7", RequestID: fmt.Sprintf("req-%02d", i)})
			var err error
			if i%2 == 0 {
				_, err = tickets.Ticket(ctx, sub.Ticket.ID)
			} else {
				_, err = tickets.Tickets(ctx, sportello.TicketFilter{}, sportello.Page{})
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var got, want []string
	for _, e := range auditEntries(t, privacy, sportello.AuditFilter{ActorSubject: "op-1"}) {
		if e.CitizenID != sub.Ticket.CitizenID || e.Action != sportello.AuditRead {
			t.Errorf("entry %+v", e)
		}
		got = append(got, e.Origin.RequestID+" "+e.What)
	}
	for i := range readers {
		what := "tickets.get"
		if i%2 == 1 {
			what = "tickets.list"
		}
		want = append(want, fmt.Sprintf("req-%02d %s", i, what))
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("entries = %q, want %q", got, want)
	}
}

// The batch sends each column as an array literal: whatever a name or a request id holds, the
// entry records it as it was.
func TestABatchedEntryKeepsQuotesBackslashesAndBraces(t *testing.T) {
	d := dbtest.New(t)
	tickets, privacy := db.NewTicketService(d), db.NewPrivacyService(d)
	sub := submit(t, tickets, citizenCtx("c1"), sportello.KindInformation)
	user := *sportello.UserFrom(operatorCtx("op-1"))
	user.GivenName, user.FamilyName = `Anna "Nanà" \`, `{D'Amico, NULL}`
	requestID := `req,"1"\{}`
	ctx := sportello.WithOrigin(sportello.WithUser(context.Background(), &user), sportello.Origin{Addr: "192.0.2.7", RequestID: requestID})
	if _, err := tickets.Ticket(ctx, sub.Ticket.ID); err != nil {
		t.Fatal(err)
	}
	entries := auditEntries(t, privacy, sportello.AuditFilter{ActorSubject: "op-1"})
	if len(entries) != 1 {
		t.Fatalf("entries = %+v, want one", entries)
	}
	e := entries[0]
	if e.ActorName != user.DisplayName() || e.Origin.RequestID != requestID || e.CitizenID != sub.Ticket.CitizenID ||
		!slices.Equal(e.ActorRoles, []sportello.Role{sportello.RoleOperator}) {
		t.Errorf("entry = %+v; want the name %q, the request %q, the citizen %s and the role OPERATOR",
			e, user.DisplayName(), requestID, sub.Ticket.CitizenID)
	}
}

// A read whose entry cannot be written returns no data: personal data never leaves unlogged.
func TestAStaffReadFailsWhenItsAuditEntryCannotBeWritten(t *testing.T) {
	d := dbtest.New(t)
	tickets, citizens := db.NewTicketService(d), db.NewCitizenService(d)
	sub := submit(t, tickets, citizenCtx("c1"), sportello.KindInformation)
	if _, err := d.Exec(`ALTER TABLE audit_log ADD CONSTRAINT no_reads CHECK (action <> 'READ') NOT VALID`); err != nil {
		t.Fatal(err)
	}
	op := operatorCtx("op-1")
	if got, err := tickets.Ticket(op, sub.Ticket.ID); err == nil || got != nil {
		t.Errorf("ticket = %v, %v; want no ticket and an error", got, err)
	}
	if got, err := tickets.Tickets(op, sportello.TicketFilter{}, sportello.Page{}); err == nil || got != nil {
		t.Errorf("tickets = %v, %v; want no page and an error", got, err)
	}
	if got, err := citizens.CitizensByID(op, []string{sub.Ticket.CitizenID}); err == nil || got != nil {
		t.Errorf("citizens = %v, %v; want none and an error", got, err)
	}
	if got, err := citizens.SearchCitizens(op, "rossi", 10); err == nil || got != nil {
		t.Errorf("search = %v, %v; want none and an error", got, err)
	}
	// The citizen's own reads are not audited, so they still work.
	if _, err := tickets.Ticket(citizenCtx("c1"), sub.Ticket.ID); err != nil {
		t.Errorf("the citizen's own read: %v", err)
	}
}

// inTenant returns ctx with its user moved to tenant.
func inTenant(ctx context.Context, tenant string) context.Context {
	u := *sportello.UserFrom(ctx)
	u.TenantID = tenant
	return sportello.WithUser(ctx, &u)
}

// A batch of the audit log may hold the entries of several municipalities' reads, whichever read
// leads it; each read still succeeds and leaves its entry in its own municipality's log.
func TestABatchOfTwoTenantsReadsLeavesEachEntryInItsTenant(t *testing.T) {
	d := dbtest.New(t)
	newTenant(t, d)
	var ctxs []context.Context
	for i, tenant := range []string{sportello.DefaultTenantID, otherTenant, sportello.DefaultTenantID} {
		ctxs = append(ctxs, sportello.WithOrigin(inTenant(operatorCtx("op-1"), tenant), sportello.Origin{RequestID: fmt.Sprintf("req-%d", i)}))
	}
	const citizen = "00000000-0000-0000-0000-0000000000c1"
	for i, err := range db.RecordReadsTogether(d, citizen, ctxs...) {
		if err != nil {
			t.Errorf("read %d: %v", i, err)
		}
	}
	for tenant, want := range map[string][]string{sportello.DefaultTenantID: {"req-0", "req-2"}, otherTenant: {"req-1"}} {
		var got []string
		if err := d.Select(&got, `SELECT request_id FROM audit_log WHERE tenant_id = $1 AND citizen_id = $2 ORDER BY request_id`, tenant, citizen); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("tenant %s: entries of %q, want %q", tenant, got, want)
		}
	}
}
