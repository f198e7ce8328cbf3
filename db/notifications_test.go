package db_test

import (
	"context"
	"encoding/json"
	"testing"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
	"github.com/sportello/sportello/db/dbtest"
)

// notify stores a notification for the citizen signed in as subject.
func notify(t *testing.T, d *db.DB, subject, title string) *sportello.Notification {
	t.Helper()
	me, err := db.NewCitizenService(d).Me(citizenCtx(subject))
	if err != nil {
		t.Fatal(err)
	}
	n := &sportello.Notification{CitizenID: me.ID, Kind: "OPPORTUNITY_ALERT", Title: title, Link: "/opportunita/1"}
	if err := db.InsertNotification(context.Background(), d, sportello.DefaultTenantID, n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCitizensListAndMarkOnlyTheirOwnNotifications(t *testing.T) {
	d := dbtest.New(t)
	s := db.NewNotificationService(d)
	first := notify(t, d, "alice", "Tirocinio in biblioteca")
	notify(t, d, "alice", "Servizio civile")
	third := notify(t, d, "alice", "Erasmus+")
	bobs := notify(t, d, "bob", "Concorso")
	alice := citizenCtx("alice")

	page, err := s.MyNotifications(alice, false, sportello.Page{First: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Notifications) != 2 || !page.HasNextPage || page.Notifications[0].ID != third.ID {
		t.Fatalf("first page: %d notifications, next %v; want the newest two and more", len(page.Notifications), page.HasNextPage)
	}
	rest, err := s.MyNotifications(alice, false, sportello.Page{First: 2, After: page.Cursors[1]})
	if err != nil {
		t.Fatal(err)
	}
	if len(rest.Notifications) != 1 || rest.HasNextPage || rest.Notifications[0].ID != first.ID {
		t.Fatalf("second page: %d notifications; want the oldest only", len(rest.Notifications))
	}

	// Bob's id among Alice's is ignored: she cannot mark, nor learn of, his notifications.
	n, err := s.MarkNotificationsRead(alice, []string{first.ID, bobs.ID, "not-an-id"})
	if err != nil || n != 1 {
		t.Fatalf("MarkNotificationsRead = %d, %v; want 1", n, err)
	}
	if unread, _ := s.UnreadNotificationCount(citizenCtx("bob")); unread != 1 {
		t.Fatalf("bob has %d unread, want 1: alice marked his", unread)
	}
	unread, err := s.MyNotifications(alice, true, sportello.Page{})
	if err != nil || len(unread.Notifications) != 2 {
		t.Fatalf("unread list: %d (%v), want 2", len(unread.Notifications), err)
	}
	if n, _ := s.MarkNotificationsRead(alice, nil); n != 2 {
		t.Fatalf("marking all read: %d, want 2", n)
	}
	if c, _ := s.UnreadNotificationCount(alice); c != 0 {
		t.Fatalf("unread after marking all: %d", c)
	}
	all, _ := s.MyNotifications(alice, false, sportello.Page{})
	for _, n := range all.Notifications {
		if n.ReadAt == nil {
			t.Fatalf("notification %q is still unread", n.Title)
		}
	}
}

func TestNotificationsAreForSignedInCitizens(t *testing.T) {
	d := dbtest.New(t)
	s := db.NewNotificationService(d)
	_, err := s.MyNotifications(operatorCtx("op"), false, sportello.Page{})
	wantCode(t, err, sportello.CodeForbidden)
	_, err = s.UnreadNotificationCount(anonymousCtx())
	wantCode(t, err, sportello.CodeUnauthenticated)
	_, err = s.MarkNotificationsRead(citizenCtx("alice"), make([]string, sportello.MaxPageSize+1))
	wantCode(t, err, sportello.CodeBadUserInput)
	_, err = s.MyNotifications(citizenCtx("alice"), false, sportello.Page{After: "nonsense"})
	wantCode(t, err, sportello.CodeBadUserInput)
}

func TestTopicEventsReachTheirAudienceOnly(t *testing.T) {
	d := dbtest.New(t)
	l := db.NewEventLog(d)
	ctx := context.Background()
	start, _ := l.Head(ctx)
	mine := submit(t, db.NewTicketService(d), citizenCtx("alice"), sportello.KindInformation)
	alert := notify(t, d, "alice", "Tirocinio")
	notify(t, d, "bob", "Concorso")
	if err := db.AppendTopicEvent(ctx, d, &sportello.TopicEvent{TenantID: sportello.DefaultTenantID,
		Topic: sportello.TopicContentPublished, At: d.Now(), Data: json.RawMessage(`{"path":"/notizie/1"}`)}); err != nil {
		t.Fatal(err)
	}
	all := tailN(t, l, start, 4)
	if len(all) != 4 {
		t.Fatalf("tail: %d events, want the ticket's creation and three topic events", len(all))
	}
	if all[0].Ticket == nil || all[0].Ticket.ID != mine.Ticket.ID || all[0].TenantID != sportello.DefaultTenantID {
		t.Fatal("the ticket event lost its ticket or tenant")
	}
	for _, e := range all[1:] {
		if e.Topic == "" || e.Ticket != nil || e.TenantID != sportello.DefaultTenantID {
			t.Fatalf("topic event read as %+v", e)
		}
	}
	upTo := all[3].Position
	alice := sportello.Audience{TenantID: sportello.DefaultTenantID, CitizenID: mine.Ticket.CitizenID}

	got, err := l.Replay(ctx, alice, sportello.TopicNotification, start, upTo, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].SubjectID != alert.ID {
		t.Fatalf("alice replays %d notification events, want her one", len(got))
	}
	n, err := sportello.NotificationOf(sportello.TopicEventOf(got[0]))
	if err != nil || n.Title != "Tirocinio" || n.ID != alert.ID {
		t.Fatalf("the event carries %+v (%v)", n, err)
	}
	staff := sportello.Audience{TenantID: sportello.DefaultTenantID, Staff: true}
	if got, _ := l.Replay(ctx, staff, sportello.TopicNotification, start, upTo, 100); len(got) != 0 {
		t.Fatalf("staff replay citizens' notifications: %d", len(got))
	}
	if got, _ := l.Replay(ctx, staff, "", start, upTo, 100); len(got) != 1 || got[0].Ticket == nil {
		t.Fatalf("the ticket feed replays %d events, want the ticket's creation only", len(got))
	}
	public := sportello.Audience{TenantID: sportello.DefaultTenantID}
	got, _ = l.Replay(ctx, public, sportello.TopicContentPublished, start, upTo, 100)
	if len(got) != 1 || string(got[0].Payload) != `{"path": "/notizie/1"}` {
		t.Fatalf("anonymous replay of published content: %d events", len(got))
	}
}
