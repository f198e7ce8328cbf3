package db_test

import (
	"context"
	"testing"
	"time"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
)

// withDeadline bounds ctx, so that a service waiting for a connection that never comes fails the
// test instead of hanging it.
func withDeadline(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// A service that reads through the pool while its transaction holds a connection needs a second
// one: on a pool of n connections, n such requests at once would each wait for another's. On a
// pool of one, a single request shows it.
func TestWritesThatReadInTheirTransactionNeedOneConnection(t *testing.T) {
	town := newDeskTown(t, sportello.BookingSettingsInput{})
	town.d.SetPoolSize(1)
	tickets := db.NewTicketService(town.d)
	note := func(name string) []*sportello.Upload {
		return []*sportello.Upload{{Filename: name, Data: []byte("Allegato di prova: " + name)}}
	}

	booked, err := town.book(withDeadline(t, citizenCtx("mover")), romeAt(2026, 11, 17, 9, 0))
	if err != nil {
		t.Fatalf("book: %v", err)
	}
	moved, err := town.s.RescheduleAppointment(withDeadline(t, citizenCtx("mover")), booked.ID, romeAt(2026, 11, 17, 9, 20))
	if err != nil {
		t.Fatalf("reschedule: %v", err)
	}
	if !moved.Start.Equal(romeAt(2026, 11, 17, 9, 20)) {
		t.Fatalf("rescheduled to %v", moved.Start)
	}

	sub, err := tickets.SubmitTicket(withDeadline(t, citizenCtx("mover")), sportello.SubmitTicketInput{Kind: sportello.KindReport,
		Subject: "Lampione spento", Body: "Il lampione di via Garibaldi 3 è spento da una settimana.",
		Attachments: note("foto.txt")})
	if err != nil {
		t.Fatalf("submit with an attachment: %v", err)
	}
	if _, err := tickets.PostMessage(withDeadline(t, citizenCtx("mover")), sportello.PostMessageInput{TicketID: sub.Ticket.ID,
		Body: "Aggiungo un'altra foto.", Attachments: note("altra.txt")}); err != nil {
		t.Fatalf("reply with an attachment: %v", err)
	}
	var stored int
	if err := town.d.Get(&stored, `SELECT count(*) FROM attachments WHERE ticket_id = $1`, sub.Ticket.ID); err != nil {
		t.Fatal(err)
	}
	if stored != 2 {
		t.Fatalf("%d attachments stored, want 2", stored)
	}
}
