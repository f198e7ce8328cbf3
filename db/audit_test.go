package db_test

import (
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
