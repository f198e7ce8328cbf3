package db_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
	"github.com/sportello/sportello/db/dbtest"
)

func tail(t *testing.T, l *db.EventLog, after sportello.Position) []*sportello.Event {
	t.Helper()
	events, err := l.Tail(context.Background(), after, 100)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// tailN reads until n events are safe. Transaction ids are shared by every database of the
// server, so another test's transaction in flight can hold back the safe horizon for a moment.
func tailN(t *testing.T, l *db.EventLog, after sportello.Position, n int) []*sportello.Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		events := tail(t, l, after)
		if len(events) >= n || time.Now().After(deadline) {
			return events
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTailNeverSkipsATransactionThatCommitsLate(t *testing.T) {
	d := dbtest.New(t)
	s := db.NewTicketService(d)
	l := db.NewEventLog(d)
	// The test writes an event of the default tenant itself, as a system would.
	ctx := db.ForTenant(context.Background(), sportello.DefaultTenantID)
	origin, err := l.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first := submit(t, s, citizenCtx("alice"), sportello.KindInformation)
	start := tailN(t, l, origin, 1)[0].Position

	// A slow transaction takes an event id and holds it uncommitted while a later one commits.
	slow, err := d.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Rollback()
	if _, err := slow.ExecContext(ctx, `INSERT INTO events (tenant_id, ticket_id, type, actor_kind, at)
		VALUES ($1, $2, 'UPDATED', 'SYSTEM', now())`, sportello.DefaultTenantID, first.Ticket.ID); err != nil {
		t.Fatal(err)
	}
	fast := submit(t, s, citizenCtx("bob"), sportello.KindInformation)

	// While the slow transaction is in flight nothing after it is safe, so a reader that
	// remembers its last position cannot jump past the slow event.
	if got := tail(t, l, start); len(got) != 0 {
		t.Fatalf("tail returned %d events while an older transaction is in flight", len(got))
	}
	if err := slow.Commit(); err != nil {
		t.Fatal(err)
	}
	got := tailN(t, l, start, 2)
	if len(got) != 2 {
		t.Fatalf("tail returned %d events, want the slow one and the fast one", len(got))
	}
	if got[0].TicketID != first.Ticket.ID || got[1].TicketID != fast.Ticket.ID {
		t.Fatalf("order: %s then %s", got[0].TicketID, got[1].TicketID)
	}
	if !got[0].Position.Less(got[1].Position) {
		t.Fatal("positions out of order")
	}
	if rest := tail(t, l, got[1].Position); len(rest) != 0 {
		t.Fatalf("after the last position: %d events", len(rest))
	}
}

func TestReplayShowsCitizensOnlyTheirPublicEvents(t *testing.T) {
	d := dbtest.New(t)
	s := db.NewTicketService(d)
	l := db.NewEventLog(d)
	ctx := context.Background()
	start, _ := l.Head(ctx)
	mine := submit(t, s, citizenCtx("alice"), sportello.KindInformation)
	submit(t, s, citizenCtx("bob"), sportello.KindInformation)
	if _, err := s.PostMessage(operatorCtx("op"), sportello.PostMessageInput{TicketID: mine.Ticket.ID, Body: "nota", Internal: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PostMessage(operatorCtx("op"), sportello.PostMessageInput{TicketID: mine.Ticket.ID, Body: "risposta"}); err != nil {
		t.Fatal(err)
	}
	all := tailN(t, l, start, 4)
	upTo := all[len(all)-1].Position
	head, _ := l.Head(ctx)
	if !upTo.Less(head) {
		t.Fatalf("the last safe event %v is not before the head %v", upTo, head)
	}

	staff, err := l.Replay(ctx, sportello.Audience{TenantID: sportello.DefaultTenantID, Staff: true}, "", start, upTo, 100)
	if err != nil || len(staff) != 4 {
		t.Fatalf("staff replay: %d events (%v), want 4", len(staff), err)
	}
	alice := sportello.Audience{TenantID: sportello.DefaultTenantID, CitizenID: mine.Ticket.CitizenID}
	got, err := l.Replay(ctx, alice, "", start, upTo, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Type != sportello.EventCreated || got[1].Internal {
		t.Fatalf("alice replays %d events: want her ticket's creation and the public reply", len(got))
	}
	for _, e := range got {
		if !alice.Sees(e) {
			t.Fatalf("replay returned an event the audience does not see: %+v", e)
		}
	}
	// Paging: a limit of 1 returns the first, and replaying after it returns the second.
	one, _ := l.Replay(ctx, alice, "", start, upTo, 1)
	next, _ := l.Replay(ctx, alice, "", one[0].Position, upTo, 1)
	if len(one) != 1 || len(next) != 1 || next[0].ID != got[1].ID {
		t.Fatal("paging a replay does not continue where it stopped")
	}
}

// A replay returns every event up to its bound, which the hub read as safe, even when the
// horizon has fallen back below it since: a catch-up takes what it replayed as sent.
func TestReplayReturnsEveryEventUpToItsBoundWhateverTheHorizon(t *testing.T) {
	d := dbtest.New(t)
	s := db.NewTicketService(d)
	l := db.NewEventLog(d)
	ctx := context.Background()
	start, _ := l.Head(ctx)
	// A transaction of this database takes its id first and stays open: every event after it
	// is beyond the horizon until it ends.
	tx, err := d.DB.BeginTx(db.AllTenants(ctx), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`SELECT pg_current_xact_id()`); err != nil {
		t.Fatal(err)
	}
	submit(t, s, citizenCtx("alice"), sportello.KindInformation)
	submit(t, s, citizenCtx("bob"), sportello.KindInformation)
	var upTo sportello.Position
	var txID string
	if err := d.QueryRow(`SELECT tx_id::text, id FROM events ORDER BY tx_id DESC, id DESC LIMIT 1`).Scan(&txID, &upTo.EventID); err != nil {
		t.Fatal(err)
	}
	if upTo.TxID, err = strconv.ParseUint(txID, 10, 64); err != nil {
		t.Fatal(err)
	}
	if got := tail(t, l, start); len(got) != 0 {
		t.Fatalf("the tail reads %d events beyond the horizon", len(got))
	}
	got, err := l.Replay(ctx, sportello.Audience{TenantID: sportello.DefaultTenantID, Staff: true}, "", start, upTo, 100)
	if err != nil || len(got) != 2 || got[1].Position != upTo {
		t.Fatalf("replay up to %v: %d events (%v), want the 2 up to it", upTo, len(got), err)
	}
}

func TestDashboardCountsOpenOverdueAndToday(t *testing.T) {
	d := dbtest.New(t)
	s := db.NewTicketService(d)
	dash := db.NewDashboardService(d)
	a := submit(t, s, citizenCtx("alice"), sportello.KindInformation)
	submit(t, s, citizenCtx("bob"), sportello.KindComplaint)
	if _, err := s.TransitionTicket(operatorCtx("op"), sportello.TransitionTicketInput{TicketID: a.Ticket.ID, To: sportello.StatusInProgress}); err != nil {
		t.Fatal(err)
	}
	_, err := dash.Dashboard(citizenCtx("alice"))
	wantCode(t, err, sportello.CodeForbidden)
	got, err := dash.Dashboard(operatorCtx("op"))
	if err != nil {
		t.Fatal(err)
	}
	if got.OpenByStatus[sportello.StatusSubmitted] != 1 || got.OpenByStatus[sportello.StatusInProgress] != 1 ||
		got.OpenByOffice[""] != 2 || got.Overdue != 0 || got.FiledToday[sportello.ChannelWeb] != 2 {
		t.Fatalf("dashboard = %+v", got)
	}
}

func TestATransactionInAnotherDatabaseDoesNotHoldBackTheFeed(t *testing.T) {
	d := dbtest.New(t)
	other := dbtest.New(t)
	s := db.NewTicketService(d)
	l := db.NewEventLog(d)
	ctx := context.Background()
	start, err := l.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Another municipality's database runs a long write transaction (a bulk load, say).
	long, err := other.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer long.Rollback()
	if _, err := long.ExecContext(ctx, `SELECT pg_current_xact_id()`); err != nil {
		t.Fatal(err)
	}
	filed := submit(t, s, citizenCtx("alice"), sportello.KindInformation)
	got := tailN(t, l, start, 1)
	if len(got) != 1 || got[0].TicketID != filed.Ticket.ID {
		t.Fatalf("tail returned %d events while another database's transaction is in flight, want the new ticket's", len(got))
	}
}
