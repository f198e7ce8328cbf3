package live

import (
	"context"
	"testing"
	"time"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
)

// topicEvent commits a topic event the way a store does in the transaction of its change, and
// announces the commit.
func (e *env) topicEvent(t *testing.T, h *Hub, topic, citizenID string) {
	t.Helper()
	var citizen any
	if citizenID != "" {
		citizen = citizenID
	}
	// The test writes the event itself, as the service that publishes it would.
	if _, err := e.d.ExecContext(db.ForTenant(context.Background(), sportello.DefaultTenantID), `INSERT INTO events (tenant_id, topic, citizen_id, type, actor_kind, at, data)
		VALUES ($1, $2, $3, $2, 'SYSTEM', now(), '{"title":"x"}')`, sportello.DefaultTenantID, topic, citizen); err != nil {
		t.Fatal(err)
	}
	h.EventsCommitted(context.Background(), sportello.DefaultTenantID)
}

func subscribeTopic(t *testing.T, h *Hub, ctx context.Context, topic, after string) *sportello.Stream[*sportello.TopicEvent] {
	t.Helper()
	st, err := h.TopicEvents(ctx, topic, after)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func quietTopic(t *testing.T, st *sportello.Stream[*sportello.TopicEvent]) {
	t.Helper()
	select {
	case e, ok := <-st.C:
		if ok {
			t.Fatalf("unexpected %s event for %s", e.Topic, e.CitizenID)
		}
	case <-time.After(300 * time.Millisecond):
	}
}

func TestTopicEventsReachOnlyTheirAudience(t *testing.T) {
	e := newEnv(t)
	h, _ := startHub(t, e.config(t, nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	aliceCtx, bobCtx := citizenCtx(sportello.DefaultTenantID, "alice"), citizenCtx(sportello.DefaultTenantID, "bob")
	alice, err := e.cits.Me(aliceCtx)
	if err != nil {
		t.Fatal(err)
	}
	bob, _ := e.cits.Me(bobCtx)
	anonymous := sportello.WithUser(ctx, &sportello.User{TenantID: sportello.DefaultTenantID})

	aliceSt := subscribeTopic(t, h, aliceCtx, sportello.TopicNotification, "")
	bobSt := subscribeTopic(t, h, bobCtx, sportello.TopicNotification, "")
	portal := subscribeTopic(t, h, anonymous, sportello.TopicContentPublished, "")
	staff := subscribe(t, h, staffCtx(sportello.DefaultTenantID, "op"), sportello.EventFilter{}, "")

	e.topicEvent(t, h, sportello.TopicNotification, alice.ID)
	e.topicEvent(t, h, sportello.TopicContentPublished, "")
	e.topicEvent(t, h, sportello.TopicNotification, bob.ID)
	ticket := e.file(t, aliceCtx, sportello.KindInformation, "")

	if got := recv(t, aliceSt, wait); got.CitizenID != alice.ID || got.Topic != sportello.TopicNotification {
		t.Fatalf("alice got %+v", got)
	}
	if got := recv(t, bobSt, wait); got.CitizenID != bob.ID {
		t.Fatalf("bob got %+v", got)
	}
	if got := recv(t, portal, wait); got.Topic != sportello.TopicContentPublished || string(got.Data) != `{"title": "x"}` {
		t.Fatalf("the portal got %+v", got)
	}
	if got := recv(t, staff, wait); got.Ticket == nil || got.Ticket.ID != ticket.ID {
		t.Fatalf("staff got %+v, want the ticket's creation", got)
	}
	quietTopic(t, aliceSt)
	quietTopic(t, bobSt)
	quietTopic(t, portal)
	quiet(t, staff)
}

func TestTopicEventsReplayFromACursor(t *testing.T) {
	e := newEnv(t)
	h, _ := startHub(t, e.config(t, nil))
	aliceCtx := citizenCtx(sportello.DefaultTenantID, "alice")
	alice, err := e.cits.Me(aliceCtx)
	if err != nil {
		t.Fatal(err)
	}
	live, cancel := context.WithCancel(aliceCtx)
	st := subscribeTopic(t, h, live, sportello.TopicNotification, "")
	e.topicEvent(t, h, sportello.TopicNotification, alice.ID)
	first := recv(t, st, wait)
	cancel()

	// Two more arrive while the app is closed; reopened with the cursor, it gets exactly those.
	e.topicEvent(t, h, sportello.TopicNotification, alice.ID)
	e.topicEvent(t, h, sportello.TopicNotification, alice.ID)
	e.tailAll(t, first.Position, 2)
	again := subscribeTopic(t, h, aliceCtx, sportello.TopicNotification, first.Cursor())
	a, b := recv(t, again, wait), recv(t, again, wait)
	if !first.Position.Less(a.Position) || !a.Position.Less(b.Position) {
		t.Fatalf("replay out of order: %v, %v after %v", a.Position, b.Position, first.Position)
	}
	quietTopic(t, again)
}
