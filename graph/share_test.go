package graph

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/coder/websocket"
	sportello "github.com/sportello/sportello"
	gqlws "github.com/sportello/sportello/graph/websocket"
)

// shareFeed is a feed whose streams the test feeds by hand: every subscription's channel is
// handed to the test as it opens.
type shareFeed struct {
	opened chan chan *sportello.Event
}

func (f *shareFeed) open() (*sportello.Stream[*sportello.Event], error) {
	c := make(chan *sportello.Event, 16)
	f.opened <- c
	return &sportello.Stream[*sportello.Event]{C: c, Err: func() error { return nil }}, nil
}

func (f *shareFeed) TicketEvents(context.Context, sportello.EventFilter, string) (*sportello.Stream[*sportello.Event], error) {
	return f.open()
}

func (f *shareFeed) MyTicketEvents(context.Context, string) (*sportello.Stream[*sportello.Event], error) {
	return f.open()
}

func (f *shareFeed) DashboardChanges(context.Context) (*sportello.Stream[*sportello.Dashboard], error) {
	return nil, sportello.ErrForbidden
}

// shareSubscriber is one subscription of the test: who subscribes, and with what.
type shareSubscriber struct {
	subject string
	role    sportello.Role
	query   string
	vars    map[string]any
}

func TestSubscribersShareTheExecutionOfAnEventOnlyWithinTheirAudience(t *testing.T) {
	const (
		staffQuery   = `subscription($after: String) { ticketEvents(after: $after) { id cursor type internal } }`
		citizenQuery = `subscription { myTicketEvents { id cursor type internal } }`
	)
	tests := []struct {
		name        string
		subscribers [2]shareSubscriber
		// executions is how many times each event's selection runs for the two.
		executions int64
	}{
		{"two operators with the same operation share", [2]shareSubscriber{
			{"op-1", sportello.RoleOperator, staffQuery, nil},
			{"op-2", sportello.RoleOperator, staffQuery, nil},
		}, 1},
		{"resuming from different cursors still shares the live events", [2]shareSubscriber{
			{"op-1", sportello.RoleOperator, staffQuery, map[string]any{"after": "cursor-a"}},
			{"op-2", sportello.RoleOperator, staffQuery, map[string]any{"after": "cursor-b"}},
		}, 1},
		{"different roles do not share", [2]shareSubscriber{
			{"op-1", sportello.RoleOperator, staffQuery, nil},
			{"boss", sportello.RoleManager, staffQuery, nil},
		}, 2},
		{"different selections do not share", [2]shareSubscriber{
			{"op-1", sportello.RoleOperator, staffQuery, nil},
			{"op-2", sportello.RoleOperator, `subscription { ticketEvents { id cursor type } }`, nil},
		}, 2},
		{"two citizens with the same operation do not share", [2]shareSubscriber{
			{"alice", sportello.RoleCitizen, citizenQuery, nil},
			{"bob", sportello.RoleCitizen, citizenQuery, nil},
		}, 2},
		{"one citizen on two connections shares", [2]shareSubscriber{
			{"alice", sportello.RoleCitizen, citizenQuery, nil},
			{"alice", sportello.RoleCitizen, citizenQuery, nil},
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			feed := &shareFeed{opened: make(chan chan *sportello.Event, 2)}
			var executions atomic.Int64
			url := startShareServer(t, feed, &executions)
			var streams [2]chan *sportello.Event
			var conns [2]*websocket.Conn
			for i, s := range tt.subscribers {
				conns[i] = dialShare(t, url, s)
				select {
				case streams[i] = <-feed.opened:
				case <-time.After(10 * time.Second):
					t.Fatalf("subscriber %d: no subscription opened", i)
				}
			}
			// A first event, once both have received it, shows that both subscriptions are in
			// place with their groups; the count starts after it.
			warmUp := &sportello.Event{ID: 0, Type: sportello.EventCreated}
			for i, c := range streams {
				c <- warmUp
				readNext(t, conns[i])
			}
			executions.Store(0)
			events := []*sportello.Event{
				{ID: 1, Position: sportello.Position{TxID: 10, EventID: 1}, Type: sportello.EventCreated},
				{ID: 2, Position: sportello.Position{TxID: 11, EventID: 2}, Type: sportello.EventMessagePosted},
				{ID: 3, Position: sportello.Position{TxID: 12, EventID: 3}, Type: sportello.EventMessagePosted, Internal: true},
			}
			// Every subscriber's stream gets the same events, as the hub hands them over.
			for _, e := range events {
				for _, c := range streams {
					c <- e
				}
			}
			var payloads [2][]string
			for i, c := range conns {
				for range events {
					payloads[i] = append(payloads[i], readNext(t, c))
				}
			}
			for j := range events {
				if tt.subscribers[0].query == tt.subscribers[1].query && payloads[0][j] != payloads[1][j] {
					t.Errorf("event %d: the subscribers received %s and %s", j, payloads[0][j], payloads[1][j])
				}
				if !strings.Contains(payloads[0][j], `"cursor":"`+events[j].Cursor()+`"`) {
					t.Errorf("event %d: payload %s is not the event's", j, payloads[0][j])
				}
			}
			if got, want := executions.Load(), tt.executions*int64(len(events)); got != want {
				t.Errorf("the selection ran %d times for %d events, want %d", got, len(events), want)
			}
		})
	}
}

// startShareServer serves the handler over WebSocket with a fake feed, counting how many times
// an event's selection runs; Init takes the user from the connection_init payload.
func startShareServer(t *testing.T, feed sportello.Feed, executions *atomic.Int64) string {
	t.Helper()
	transport := &gqlws.Transport{
		Init: func(ctx context.Context, _ *http.Request, payload map[string]any) (context.Context, time.Time, error) {
			subject, _ := payload["subject"].(string)
			role, _ := payload["role"].(string)
			u := &sportello.User{TenantID: "tenant", Subject: subject, Roles: []sportello.Role{sportello.Role(role)}}
			return sportello.WithUser(ctx, u), time.Time{}, nil
		},
	}
	h := NewHandler(&Resolver{Feed: feed}, Options{WebSocket: transport})
	h.(*handler.Server).AroundFields(func(ctx context.Context, next graphql.Resolver) (any, error) {
		if fc := graphql.GetFieldContext(ctx); fc.Object == "TicketEvent" && fc.Field.Name == "cursor" {
			executions.Add(1)
		}
		return next(ctx)
	})
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		_ = transport.Shutdown(context.Background())
	})
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// dialShare connects and subscribes as s.
func dialShare(t *testing.T, url string, s shareSubscriber) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.CloseNow() })
	send := func(m map[string]any) {
		t.Helper()
		b, _ := json.Marshal(m)
		if err := c.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	send(map[string]any{"type": "connection_init", "payload": map[string]any{"subject": s.subject, "role": string(s.role)}})
	if m := readMessage(t, c); m.Type != "connection_ack" {
		t.Fatalf("expected connection_ack, got %+v", m)
	}
	send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": s.query, "variables": s.vars}})
	return c
}

type shareMessage struct {
	Type    string
	ID      string
	Payload json.RawMessage
}

func readMessage(t *testing.T, c *websocket.Conn) shareMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var m shareMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("message %s: %v", b, err)
	}
	return m
}

// readNext returns the payload of the next result of subscription "1", which must have no errors.
func readNext(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	m := readMessage(t, c)
	if m.Type != "next" || m.ID != "1" || strings.Contains(string(m.Payload), `"errors"`) {
		t.Fatalf("expected a result of subscription 1, got %s %s %s", m.Type, m.ID, m.Payload)
	}
	return string(m.Payload)
}
