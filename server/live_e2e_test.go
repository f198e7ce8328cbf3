package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
	"github.com/sportello/sportello/server/auth"
)

func TestCitizensReceiveOnlyTheirOwnPublicEvents(t *testing.T) {
	s := startServer(t)
	alice := s.token(sportello.RoleCitizen, "alice")
	bob := s.token(sportello.RoleCitizen, "bob")
	operator := s.token(sportello.RoleOperator, "op")
	ws := dialWS(t, s.URL, alice)
	ws.subscribe("mine", `subscription { myTicketEvents { `+eventFields+` } }`, nil)
	time.Sleep(200 * time.Millisecond)

	s.submit(bob, ticketInput("REPORT", "Di Bob"))
	mine := s.submit(alice, ticketInput("REPORT", "Di Alice")).SubmitTicket.Ticket.ID
	s.ok(operator, `mutation($id: ID!) { postTicketMessage(ticketId: $id, body: "nota interna", internal: true) { id } }`, map[string]any{"id": mine}, nil)
	s.ok(operator, `mutation($id: ID!) { postTicketMessage(ticketId: $id, body: "Risposta") { id } }`, map[string]any{"id": mine}, nil)

	created := ws.nextEvent("myTicketEvents", 10*time.Second)
	reply := ws.nextEvent("myTicketEvents", 10*time.Second)
	if created.Ticket.ID != mine || created.Type != "CREATED" || reply.Type != "MESSAGE_POSTED" || reply.Internal {
		t.Fatalf("alice received %+v then %+v", created, reply)
	}
	// Nothing else is pending: neither Bob's ticket nor the internal note.
	if m, err := ws.tryRead(700 * time.Millisecond); err == nil {
		t.Fatalf("unexpected message %s %s", m.Type, m.Payload)
	}
	// Staff-only subscriptions are refused to citizens.
	ws.subscribe("staff", `subscription { ticketEvents { cursor } }`, nil)
	m := ws.read(5 * time.Second)
	if m.Type != "next" && m.Type != "error" || !jsonHasCode(m.Payload, "FORBIDDEN") {
		t.Fatalf("citizen subscribing to ticketEvents: %s %s", m.Type, m.Payload)
	}
}

// jsonHasCode reports whether a next or error payload carries an error with the code.
func jsonHasCode(payload json.RawMessage, code string) bool {
	var next struct{ Errors []gqlError }
	if json.Unmarshal(payload, &next) == nil {
		for _, e := range next.Errors {
			if e.Extensions.Code == code {
				return true
			}
		}
	}
	var list []gqlError
	if json.Unmarshal(payload, &list) == nil {
		for _, e := range list {
			if e.Extensions.Code == code {
				return true
			}
		}
	}
	return false
}

func TestLateCommitIsNotSkipped(t *testing.T) {
	s := startServer(t)
	operator := s.token(sportello.RoleOperator, "op")
	citizen := s.token(sportello.RoleCitizen, "c")
	ws := dialWS(t, s.URL, operator)
	ws.subscribe("1", `subscription { ticketEvents { `+eventFields+` } }`, nil)
	time.Sleep(200 * time.Millisecond)
	first := s.submit(citizen, ticketInput("REPORT", "Primo")).SubmitTicket.Ticket.ID
	if ev := ws.nextEvent("ticketEvents", 10*time.Second); ev.Ticket.ID != first {
		t.Fatalf("first event %+v", ev)
	}

	// A transaction takes an event id and commits after a later filing has committed. It writes
	// an event of the default tenant itself, as a system would.
	ctx := db.ForTenant(context.Background(), sportello.DefaultTenantID)
	slow, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Rollback()
	if _, err := slow.ExecContext(ctx, `INSERT INTO events (tenant_id, ticket_id, type, actor_kind, at)
		VALUES ($1, $2, 'UPDATED', 'SYSTEM', now())`, sportello.DefaultTenantID, first); err != nil {
		t.Fatal(err)
	}
	later := s.submit(citizen, ticketInput("REPORT", "Secondo")).SubmitTicket.Ticket.ID
	if m, err := ws.tryRead(500 * time.Millisecond); err == nil {
		t.Fatalf("an event was delivered while an older transaction was in flight: %s", m.Payload)
	}
	if err := slow.Commit(); err != nil {
		t.Fatal(err)
	}
	a := ws.nextEvent("ticketEvents", 10*time.Second)
	b := ws.nextEvent("ticketEvents", 10*time.Second)
	if a.Type != "UPDATED" || a.Ticket.ID != first || b.Ticket.ID != later {
		t.Fatalf("received %+v then %+v", a, b)
	}
}

func TestDashboardQueryAndLiveUpdates(t *testing.T) {
	s := startServer(t)
	operator := s.token(sportello.RoleOperator, "op")
	citizen := s.token(sportello.RoleCitizen, "c")
	s.submit(citizen, ticketInput("REPORT", "Uno"))
	const fields = `at overdue openByStatus { status count } openByOffice { office { name } count } filedToday { channel count }`
	type dashboard struct {
		Overdue      int
		OpenByStatus []struct {
			Status string
			Count  int
		}
		FiledToday []struct {
			Channel string
			Count   int
		}
	}
	count := func(d dashboard, status string) int {
		for _, c := range d.OpenByStatus {
			if c.Status == status {
				return c.Count
			}
		}
		return -1
	}
	var q struct{ Dashboard dashboard }
	s.ok(operator, `{ dashboard { `+fields+` } }`, nil, &q)
	if count(q.Dashboard, "SUBMITTED") != 1 || q.Dashboard.FiledToday[0].Channel != "WEB" || q.Dashboard.FiledToday[0].Count != 1 {
		t.Fatalf("dashboard = %+v", q.Dashboard)
	}
	s.fails(citizen, `{ dashboard { overdue } }`, nil, sportello.CodeForbidden, "")

	ws := dialWS(t, s.URL, operator)
	ws.subscribe("d", `subscription { dashboardChanged { `+fields+` } }`, nil)
	read := func() dashboard {
		t.Helper()
		m := ws.read(10 * time.Second)
		var p struct {
			Data struct{ DashboardChanged dashboard }
		}
		if m.Type != "next" || json.Unmarshal(m.Payload, &p) != nil {
			t.Fatalf("dashboard message %s %s", m.Type, m.Payload)
		}
		return p.Data.DashboardChanged
	}
	if first := read(); count(first, "SUBMITTED") != 1 {
		t.Fatalf("first dashboard %+v", first)
	}
	s.submit(citizen, ticketInput("REPORT", "Due"))
	deadline := time.Now().Add(10 * time.Second)
	for {
		if d := read(); count(d, "SUBMITTED") == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the dashboard never showed the second ticket")
		}
	}
}

func TestThousandSubscriptionsLeaveNoGoroutinesBehind(t *testing.T) {
	s := startServer(t)
	operator := s.token(sportello.RoleOperator, "op")
	ws := dialWS(t, s.URL, operator)
	// Warm up: the first subscription starts goroutines that live as long as the server.
	ws.subscribe("warm", `subscription { ticketEvents { cursor } }`, nil)
	ws.send(wsMessage{ID: "warm", Type: "complete"})
	time.Sleep(300 * time.Millisecond)
	baseline := runtime.NumGoroutine()

	for i := range 1000 {
		id := fmt.Sprint(i)
		ws.subscribe(id, `subscription { ticketEvents { cursor } }`, nil)
		ws.send(wsMessage{ID: id, Type: "complete"})
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= baseline+5 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines: %d after 1,000 subscriptions, baseline %d", n, baseline)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSlowSubscriberIsDisconnectedAndOthersGetEverything(t *testing.T) {
	s := startServer(t, func(c *Config) {
		c.LiveBuffer = 64
		c.LiveSlowAfter = time.Second
	})
	operator := s.token(sportello.RoleOperator, "op")
	citizen := s.token(sportello.RoleCitizen, "c")
	const sub = `subscription { ticketEvents { cursor ticket { id body } } }`

	// The slow dashboard subscribes and then never reads its socket. Each event carries a
	// 20 KB body, so the socket buffers between it and the server fill up after a few hundred.
	slow, _, err := websocket.Dial(context.Background(), "ws"+s.URL[len("http"):]+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer slow.CloseNow()
	ctx := context.Background()
	if err := slow.Write(ctx, websocket.MessageText, mustJSON(wsMessage{Type: "connection_init",
		Payload: mustJSON(map[string]any{"Authorization": "Bearer " + operator})})); err != nil {
		t.Fatal(err)
	}
	if _, ack, err := slow.Read(ctx); err != nil || !strings.Contains(string(ack), "connection_ack") {
		t.Fatalf("ack: %s %v", ack, err)
	}
	if err := slow.Write(ctx, websocket.MessageText, mustJSON(wsMessage{ID: "1", Type: "subscribe",
		Payload: mustJSON(map[string]any{"query": sub})})); err != nil {
		t.Fatal(err)
	}
	fast := dialWS(t, s.URL, operator)
	fast.subscribe("1", sub, nil)
	time.Sleep(300 * time.Millisecond)

	const n = 400
	body := strings.Repeat("è", sportello.MaxBodyLen)
	for i := range n {
		s.submit(citizen, map[string]any{"kind": "REPORT", "subject": fmt.Sprintf("Lunga %d", i), "body": body})
	}
	for range n {
		fast.nextEvent("ticketEvents", 10*time.Second)
	}
	// The slow one has not read for longer than LiveSlowAfter by now; give the feed a poll to
	// notice, then read what is left.
	time.Sleep(3 * time.Second)
	// The slow one was disconnected: reading what is left ends with the server's close.
	readCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var readErr error
	for readErr == nil {
		_, _, readErr = slow.Read(readCtx)
	}
	if readCtx.Err() != nil {
		t.Fatal("the slow subscriber was never disconnected")
	}
	t.Logf("the slow subscriber's connection ended with: %v", readErr)
	var ce websocket.CloseError
	if errors.As(readErr, &ce) && ce.Code != websocket.StatusTryAgainLater {
		t.Fatalf("slow subscriber closed with %d %q, want 1013", ce.Code, ce.Reason)
	}
}

func TestBrowsersConnectOnlyFromAllowedOrigins(t *testing.T) {
	s := startServer(t, func(c *Config) { c.CORSOrigins = []string{"https://portale.comune.example.it"} })
	dial := func(origin string) (*http.Response, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		c, res, err := websocket.Dial(ctx, "ws"+s.URL[len("http"):]+"/graphql",
			&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: h})
		if err == nil {
			c.CloseNow()
		}
		return res, err
	}
	for _, origin := range []string{"", "https://portale.comune.example.it", s.URL} {
		if _, err := dial(origin); err != nil {
			t.Errorf("origin %q refused: %v", origin, err)
		}
	}
	res, err := dial("https://evil.example")
	if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Fatalf("a foreign origin was not refused with 403: %v", err)
	}
}

func TestAnExpiredTokenEndsTheSubscription(t *testing.T) {
	s := startServer(t)
	short, err := auth.MintDev(testSecret, auth.Claims{Subject: "op", Roles: []sportello.Role{sportello.RoleOperator}}, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ws := dialWS(t, s.URL, short)
	ws.subscribe("1", `subscription { ticketEvents { cursor } }`, nil)
	code, reason := ws.closeStatus(10 * time.Second)
	if code != 4401 {
		t.Fatalf("close %d %q, want 4401", code, reason)
	}
}

// Subscribers with the same operation share the execution of each event only within one
// audience: two citizens, each on two connections with the same query, one following the
// other's ticket, receive the same events of that ticket as each sees them (a follower does not
// learn the author's name), never the other's own tickets, and never internal notes.
func TestCitizensWithTheSameSubscriptionNeverShareTheirView(t *testing.T) {
	s := startServer(t)
	alice := s.token(sportello.RoleCitizen, "alice")
	bob := s.token(sportello.RoleCitizen, "bob")
	operator := s.token(sportello.RoleOperator, "op")
	const query = `subscription { myTicketEvents { type internal actor { kind name } ticket { id } } }`
	var alices, bobs []*wsClient
	for range 2 {
		a, b := dialWS(t, s.URL, alice), dialWS(t, s.URL, bob)
		a.subscribe("mine", query, nil)
		b.subscribe("mine", query, nil)
		alices, bobs = append(alices, a), append(bobs, b)
	}
	time.Sleep(200 * time.Millisecond)

	bobs0 := s.submit(bob, ticketInput("REPORT", "Buca in via Roma")).SubmitTicket.Ticket.ID
	s.ok(alice, `mutation($id: ID!) { followTicket(id: $id) { id } }`, map[string]any{"id": bobs0}, nil)
	s.ok(bob, `mutation($id: ID!) { postTicketMessage(ticketId: $id, body: "Aggiungo un dettaglio") { id } }`, map[string]any{"id": bobs0}, nil)
	s.ok(operator, `mutation($id: ID!) { postTicketMessage(ticketId: $id, body: "nota interna", internal: true) { id } }`, map[string]any{"id": bobs0}, nil)
	s.ok(operator, `mutation($id: ID!) { postTicketMessage(ticketId: $id, body: "Interveniamo") { id } }`, map[string]any{"id": bobs0}, nil)
	alices0 := s.submit(alice, ticketInput("REPORT", "Lampione spento")).SubmitTicket.Ticket.ID

	bobName, aliceName := "Nomebob Cognome", "Nomealice Cognome"
	check := func(who string, clients []*wsClient, own, followed, ownName string) {
		t.Helper()
		first := drainEvents(t, clients[0])
		if second := drainEvents(t, clients[1]); !slices.Equal(first, second) {
			t.Errorf("%s's two connections received different events:\n%v\n%v", who, first, second)
		}
		var ownMessage, followedMessage, reply bool
		for _, raw := range first {
			var e struct {
				Type     string
				Internal bool
				Actor    struct {
					Kind string
					Name *string
				}
				Ticket struct{ ID string }
			}
			if err := json.Unmarshal([]byte(raw), &e); err != nil {
				t.Fatalf("%s: event %s: %v", who, raw, err)
			}
			switch {
			case e.Internal:
				t.Errorf("%s received an internal note: %s", who, raw)
			case e.Ticket.ID != own && e.Ticket.ID != followed:
				t.Errorf("%s received an event of someone else's ticket: %s", who, raw)
			case e.Actor.Kind == "CITIZEN" && e.Ticket.ID == followed && e.Actor.Name != nil:
				t.Errorf("%s, a follower, learned the author's name: %s", who, raw)
			case e.Actor.Kind == "CITIZEN" && e.Ticket.ID == own && (e.Actor.Name == nil || *e.Actor.Name != ownName):
				t.Errorf("%s does not see their own name: %s", who, raw)
			}
			ownMessage = ownMessage || e.Type == "MESSAGE_POSTED" && e.Actor.Kind == "CITIZEN" && e.Ticket.ID == own
			followedMessage = followedMessage || e.Type == "MESSAGE_POSTED" && e.Actor.Kind == "CITIZEN" && e.Ticket.ID == followed
			reply = reply || e.Type == "MESSAGE_POSTED" && e.Actor.Kind == "STAFF"
		}
		if followed == "" && !ownMessage || followed != "" && !followedMessage || !reply {
			t.Errorf("%s missed the messages: %v", who, first)
		}
	}
	check("bob", bobs, bobs0, "", bobName)
	check("alice", alices, alices0, bobs0, aliceName)
}

// drainEvents returns the events of the "mine" subscription, as JSON, until none comes for a
// while.
func drainEvents(t *testing.T, c *wsClient) []string {
	t.Helper()
	var events []string
	for {
		m, err := c.tryRead(1500 * time.Millisecond)
		if err != nil {
			return events
		}
		var p struct {
			Data   struct{ MyTicketEvents json.RawMessage }
			Errors []gqlError
		}
		if m.Type != "next" || json.Unmarshal(m.Payload, &p) != nil || len(p.Errors) > 0 {
			t.Fatalf("unexpected message %s %s", m.Type, m.Payload)
		}
		events = append(events, string(p.Data.MyTicketEvents))
	}
}
