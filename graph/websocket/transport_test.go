package websocket

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
)

// quiet is a transport whose keep-alive stays out of the way of tests about something else.
func quiet() *Transport {
	return &Transport{PingInterval: time.Hour}
}

func TestConnectionInitIsAcknowledged(t *testing.T) {
	e := newEnv(t, quiet())
	c := e.dial(subprotocolTransportWS)
	c.send(`{"type":"connection_init","payload":{"Authorization":"Bearer ada"}}`)
	ack := c.expect(msgConnectionAck, "")
	if ack.Payload != nil {
		t.Errorf("ack payload %s, want none", ack.Payload)
	}
	c.subscribe("1", "{ whoami }")
	c.expectData(msgNext, "1", `{"whoami":"ada"}`)
	c.expect(msgComplete, "1")
}

func TestSubscriptionSendsNextThenCompleteWhenItsSourceEnds(t *testing.T) {
	e := newEnv(t, quiet())
	c := e.connect()
	c.subscribe("s1", "subscription { ticks }")
	e.hub.waitSubscribers(t, 1)
	e.hub.publish(1)
	c.expectData(msgNext, "s1", `{"ticks":1}`)
	e.hub.publish(2)
	c.expectData(msgNext, "s1", `{"ticks":2}`)
	e.hub.end()
	c.expect(msgComplete, "s1")
	// The id is free again once complete arrived.
	c.subscribe("s1", "subscription { ticks }")
	e.hub.waitSubscribers(t, 1)
	e.hub.publish(3)
	c.expectData(msgNext, "s1", `{"ticks":3}`)
}

func TestQueriesAndMutationsRunOverTheSocket(t *testing.T) {
	tests := []struct {
		name, payload, data string
	}{
		{"query", `{"query":"{ hello }"}`, `{"hello":"world"}`},
		{"query with operation name", `{"query":"query A { hello } query B { whoami }","operationName":"B"}`, `{"whoami":"ada"}`},
		{"mutation with variables", `{"query":"mutation($t: String!) { echo(text: $t) }","variables":{"t":"ciao"}}`, `{"echo":"ciao"}`},
		{"null optional fields", `{"query":"{ hello }","operationName":null,"variables":null,"extensions":null}`, `{"hello":"world"}`},
	}
	e := newEnv(t, quiet())
	c := e.connect()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			c.send(`{"type":"subscribe","id":"q","payload":` + tt.payload + `}`)
			c.expectData(msgNext, "q", tt.data)
			c.expect(msgComplete, "q")
		})
	}
}

func TestErrorsBeforeExecutionAreErrorMessagesThroughThePresenter(t *testing.T) {
	tests := []struct {
		name, payload, message string
	}{
		{"parse error", `{"query":"{ hello"}`, "Expected Name, found <EOF>"},
		{"validation error", `{"query":"{ nope }"}`, `Cannot query field "nope" on type "Query".`},
		{"missing variable", `{"query":"mutation($t: String!) { echo(text: $t) }"}`, "must be defined"},
		{"unknown operation", `{"query":"query A { hello }","operationName":"B"}`, "operation B not found"},
	}
	e := newEnv(t, quiet())
	c := e.connect()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			c.send(`{"type":"subscribe","id":"bad","payload":` + tt.payload + `}`)
			f := c.expect(msgError, "bad")
			var errs []struct {
				Message    string         `json:"message"`
				Extensions map[string]any `json:"extensions"`
			}
			if err := json.Unmarshal(f.Payload, &errs); err != nil || len(errs) == 0 {
				t.Fatalf("payload %s is not an array of GraphQL errors: %v", f.Payload, err)
			}
			if !strings.Contains(errs[0].Message, tt.message) {
				t.Errorf("message %q, want it to contain %q", errs[0].Message, tt.message)
			}
			if errs[0].Extensions["presented"] != true {
				t.Errorf("error %s did not go through the error presenter", f.Payload)
			}
			// No complete follows an error, and the id is free again.
			c.expectOpen()
			c.subscribe("bad", "{ hello }")
			c.expectData(msgNext, "bad", `{"hello":"world"}`)
			c.expect(msgComplete, "bad")
		})
	}
}

func TestPanicOutsideResolversIsTheOperationsErrorAndTheConnectionStays(t *testing.T) {
	e := newEnv(t, quiet())
	c := e.connect()
	c.subscribe("p", "{ boom }")
	f := c.expect(msgError, "p")
	if !strings.Contains(string(f.Payload), `"presented":true`) {
		t.Errorf("payload %s did not go through the error presenter", f.Payload)
	}
	c.expectOpen()
}

func TestClientCompleteStopsTheSubscriptionAndNothingMoreIsSent(t *testing.T) {
	e := newEnv(t, quiet())
	c := e.connect()
	c.subscribe("s", "subscription { ticks }")
	e.hub.waitSubscribers(t, 1)
	e.hub.publish(1)
	c.expectData(msgNext, "s", `{"ticks":1}`)
	c.send(`{"type":"complete","id":"s"}`)
	// The pong proves the server read the complete (it reads in order); after it, neither a
	// result nor a complete may come for the id.
	c.expectOpen()
	e.hub.waitSubscribers(t, 0)
	time.Sleep(50 * time.Millisecond)
	c.expectOpen()
	// A complete for an id that no longer runs is no error.
	c.send(`{"type":"complete","id":"s"}`)
	c.expectOpen()
}

func TestPingIsAnsweredWithPongEchoingThePayload(t *testing.T) {
	tests := []struct {
		name, ping, pong string
	}{
		{"without payload", `{"type":"ping"}`, `{"type":"pong"}`},
		{"with payload", `{"type":"ping","payload":{"n":1}}`, `{"type":"pong","payload":{"n":1}}`},
		{"with null payload", `{"type":"ping","payload":null}`, `{"type":"pong"}`},
	}
	e := newEnv(t, quiet())
	// Before connection_init too: a ping may come at any time.
	c := e.dial(subprotocolTransportWS)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			c.send(tt.ping)
			f := c.recv()
			got, _ := json.Marshal(outbound{Type: f.Type, ID: f.ID, Payload: f.Payload})
			if string(got) != tt.pong {
				t.Errorf("got %s, want %s", got, tt.pong)
			}
		})
	}
}

func TestServerPingsAndKeepsAClientThatPongs(t *testing.T) {
	e := newEnv(t, &Transport{PingInterval: 40 * time.Millisecond, PongTimeout: 100 * time.Millisecond})
	c := e.connect()
	for range 4 {
		c.expect(msgPing, "")
		c.send(`{"type":"pong"}`)
	}
	c.subscribe("q", "{ hello }")
	for {
		f := c.recv()
		if f.Type == msgPing {
			c.send(`{"type":"pong"}`)
			continue
		}
		if f.Type != msgNext || f.ID != "q" {
			t.Fatalf("got %s id=%q, want next for q", f.Type, f.ID)
		}
		break
	}
}

func TestClientThatNeverPongsIsDisconnected(t *testing.T) {
	e := newEnv(t, &Transport{PingInterval: 40 * time.Millisecond, PongTimeout: 100 * time.Millisecond})
	c := e.connect()
	c.subscribe("s", "subscription { ticks }")
	e.hub.waitSubscribers(t, 1)
	c.expect(msgPing, "")
	c.expectClose(websocket.StatusGoingAway, reasonPongTimeout)
	// The subscription was cleaned up with the connection.
	e.hub.waitSubscribers(t, 0)
}

func TestCloseCodes(t *testing.T) {
	slowInit := func(ctx context.Context, r *http.Request, p map[string]any) (context.Context, time.Time, error) {
		select {
		case <-time.After(300 * time.Millisecond):
		case <-ctx.Done():
		}
		return testInit(ctx, r, p)
	}
	long := strings.Repeat("è", 100) // 200 bytes: the reason must be cut on a rune boundary
	tests := []struct {
		name   string
		tr     *Transport
		protos []string
		ack    bool // go through connection_init first
		send   []string
		code   websocket.StatusCode
		reason string
	}{
		{
			name: "4400 not JSON", ack: true, send: []string{`hello`},
			code: 4400, reason: "Invalid message received: not a JSON object",
		},
		{
			name: "4400 malformed JSON", send: []string{`{"type":`},
			code: 4400, reason: "Invalid message received: malformed JSON",
		},
		{
			name: "4400 missing type", send: []string{`{"id":"1"}`},
			code: 4400, reason: `Invalid message received: "type" must be a string`,
		},
		{
			name: "4400 unknown type", ack: true, send: []string{`{"type":"start","id":"1","payload":{"query":"{ hello }"}}`},
			code: 4400, reason: `Invalid message received: unexpected message of type "start"`,
		},
		{
			name: "4400 server message from the client", ack: true, send: []string{`{"type":"next","id":"1","payload":{}}`},
			code: 4400, reason: `Invalid message received: unexpected message of type "next"`,
		},
		{
			name: "4400 init payload not an object", send: []string{`{"type":"connection_init","payload":"token"}`},
			code: 4400, reason: `Invalid message received: "connection_init" message payload must be an object or null`,
		},
		{
			name: "4400 subscribe without id", ack: true, send: []string{`{"type":"subscribe","payload":{"query":"{ hello }"}}`},
			code: 4400, reason: `Invalid message received: "subscribe" message requires a non-empty string "id"`,
		},
		{
			name: "4400 numeric id", send: []string{`{"type":"subscribe","id":1,"payload":{"query":"{ hello }"}}`},
			code: 4400, reason: `Invalid message received: "id" must be a string`,
		},
		{
			name: "4400 subscribe payload not an object", send: []string{`{"type":"subscribe","id":"1","payload":"{ hello }"}`},
			code: 4400, reason: `Invalid message received: "payload" must be an object`,
		},
		{
			name: "4400 query not a string", send: []string{`{"type":"subscribe","id":"1","payload":{"query":1}}`},
			code: 4400, reason: `Invalid message received: "payload.query" must be a string`,
		},
		{
			name: "4400 variables not an object", send: []string{`{"type":"subscribe","id":"1","payload":{"query":"{ hello }","variables":[]}}`},
			code: 4400, reason: `Invalid message received: "payload.variables" must be an object or null`,
		},
		{
			name: "4400 complete without id", send: []string{`{"type":"complete"}`},
			code: 4400, reason: `Invalid message received: "complete" message requires a non-empty string "id"`,
		},
		{
			name: "4401 subscribe before connection_init", send: []string{`{"type":"subscribe","id":"1","payload":{"query":"{ hello }"}}`},
			code: 4401, reason: "Unauthorized",
		},
		{
			name: "4401 subscribe before the ack", tr: &Transport{Init: slowInit},
			send: []string{`{"type":"connection_init","payload":{"Authorization":"Bearer ada"}}`, `{"type":"subscribe","id":"1","payload":{"query":"{ hello }"}}`},
			code: 4401, reason: "Unauthorized",
		},
		{
			name: "4403 init rejected", send: []string{`{"type":"connection_init","payload":{"Authorization":"Bearer bad"}}`},
			code: 4403, reason: "invalid token",
		},
		{
			name: "4403 long reason cut to 123 bytes",
			tr: &Transport{Init: func(context.Context, *http.Request, map[string]any) (context.Context, time.Time, error) {
				return nil, time.Time{}, errors.New(long)
			}},
			send: []string{`{"type":"connection_init"}`},
			code: 4403, reason: long[:122],
		},
		{
			name: "4500 Init panics",
			tr: &Transport{Init: func(context.Context, *http.Request, map[string]any) (context.Context, time.Time, error) {
				panic("nil map")
			}},
			send: []string{`{"type":"connection_init"}`},
			code: 4500, reason: "Internal server error",
		},
		{
			name: "4406 no subprotocol", protos: []string{},
			code: 4406, reason: "Subprotocol not acceptable",
		},
		{
			name: "4406 unknown subprotocol", protos: []string{"graphql-sse"},
			code: 4406, reason: "Subprotocol not acceptable",
		},
		{
			name: "4408 no connection_init in time", tr: &Transport{InitTimeout: 100 * time.Millisecond},
			code: 4408, reason: "Connection initialisation timeout",
		},
		{
			name: "4409 subscriber already exists", ack: true,
			send: []string{
				`{"type":"subscribe","id":"dup","payload":{"query":"subscription { ticks }"}}`,
				`{"type":"subscribe","id":"dup","payload":{"query":"subscription { ticks }"}}`,
			},
			code: 4409, reason: "Subscriber for dup already exists",
		},
		{
			name: "4429 second connection_init", ack: true,
			send: []string{`{"type":"connection_init"}`},
			code: 4429, reason: "Too many initialisation requests",
		},
		{
			name: "4429 second connection_init while Init runs", tr: &Transport{Init: slowInit},
			send: []string{`{"type":"connection_init","payload":{"Authorization":"Bearer ada"}}`, `{"type":"connection_init"}`},
			code: 4429, reason: "Too many initialisation requests",
		},
		{
			name: "1009 message over MaxMessageBytes", tr: &Transport{MaxMessageBytes: 64},
			send: []string{`{"type":"connection_init","payload":{"Authorization":"Bearer ` + strings.Repeat("a", 100) + `"}}`},
			code: 1009, reason: "read limited at 65 bytes",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := tt.tr
			if tr == nil {
				tr = quiet()
			}
			tr.PingInterval = time.Hour
			e := newEnv(t, tr)
			protos := tt.protos
			if protos == nil {
				protos = []string{subprotocolTransportWS}
			}
			c := e.dial(protos...)
			if tt.ack {
				c.init("ada")
			}
			for _, m := range tt.send {
				c.send(m)
			}
			c.expectClose(tt.code, tt.reason)
			if !utf8.ValidString(tt.reason) || len(tt.reason) > maxCloseReason {
				t.Errorf("reason %q is not a valid close reason", tt.reason)
			}
		})
	}
}

func TestSubscribeOverMaxOperationsGetsAnErrorAndTheConnectionStays(t *testing.T) {
	e := newEnv(t, &Transport{MaxOperations: 2, PingInterval: time.Hour})
	c := e.connect()
	c.subscribe("1", "subscription { ticks }")
	c.subscribe("2", "subscription { ticks }")
	e.hub.waitSubscribers(t, 2)
	c.subscribe("3", "subscription { ticks }")
	f := c.expect(msgError, "3")
	if !strings.Contains(string(f.Payload), codeTooManyOperations) {
		t.Errorf("error payload %s, want code %s", f.Payload, codeTooManyOperations)
	}
	// Completing one makes room for another. Wait until it is gone, or the publish below could
	// reach it instead of the new one.
	c.send(`{"type":"complete","id":"1"}`)
	c.expectOpen()
	e.hub.waitSubscribers(t, 1)
	c.subscribe("3", "subscription { ticks }")
	e.hub.waitSubscribers(t, 2)
	e.hub.publish(7)
	got := map[string]bool{}
	for range 2 {
		f := c.recv()
		got[f.ID] = true
	}
	if !got["2"] || !got["3"] {
		t.Errorf("results went to %v, want 2 and 3", got)
	}
}

func TestTokenExpiryClosesWith4401(t *testing.T) {
	tests := []struct {
		name, proto, init string
		ack               bool
	}{
		{"after the ack", subprotocolTransportWS, `{"type":"connection_init","payload":{"Authorization":"Bearer ada","expiresInMs":150}}`, true},
		{"already expired", subprotocolTransportWS, `{"type":"connection_init","payload":{"Authorization":"Bearer ada","expiresInMs":-1000}}`, false},
		{"legacy", subprotocolLegacy, `{"type":"connection_init","payload":{"Authorization":"Bearer ada","expiresInMs":150}}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, quiet())
			c := e.dial(tt.proto)
			c.skipKA = true
			c.send(tt.init)
			if tt.ack {
				c.expect(msgConnectionAck, "")
			}
			c.expectClose(4401, "Unauthorized: token expired")
		})
	}
}

func TestCloseConnectionFromAResolver(t *testing.T) {
	tests := []struct {
		name, query string
		code        websocket.StatusCode
		reason      string
	}{
		{"try again later", `subscription { kick(code: 1013, reason: "subscriber too slow: reconnect with your last cursor") }`, 1013, "subscriber too slow: reconnect with your last cursor"},
		{"going away", `subscription { kick(code: 1001, reason: "server shutting down") }`, 1001, "server shutting down"},
		{"unsendable code", `subscription { kick(code: 1005, reason: "no") }`, 1011, "no"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, quiet())
			c := e.connect()
			c.subscribe("k", tt.query)
			c.expectClose(tt.code, tt.reason)
		})
	}
}

func TestCloseConnectionOutsideAWebSocketIsANoOp(t *testing.T) {
	CloseConnection(context.Background(), 1001, "nothing to close")
}

func TestShutdownClosesOpenConnectionsWith1001(t *testing.T) {
	tr := quiet()
	e := newEnv(t, tr)
	clients := []*client{e.connect(), e.connect(), e.dial(subprotocolLegacy)}
	clients[0].subscribe("s", "subscription { ticks }")
	e.hub.waitSubscribers(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := tr.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("shutdown took %v", d)
	}
	for _, c := range clients {
		c.skipKA = true
		c.expectClose(websocket.StatusGoingAway, "Server shutting down")
	}
	if e.hub.count() != 0 {
		t.Errorf("%d subscriptions still run", e.hub.count())
	}
	// A connection that arrives afterwards is sent away at once.
	late := e.dial(subprotocolTransportWS)
	late.expectClose(websocket.StatusGoingAway, "Server shutting down")
}

func TestShutdownGivesUpAtItsContext(t *testing.T) {
	tr := quiet()
	e := newEnv(t, tr)
	e.connect()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := tr.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("shutdown with a done context: %v, want context.Canceled", err)
	}
}

func TestOriginPolicy(t *testing.T) {
	allowList := func(r *http.Request) bool {
		o := r.Header.Get("Origin")
		return o == "" || o == "https://portale.comune.example"
	}
	tests := []struct {
		name        string
		checkOrigin func(*http.Request) bool
		origin      string
		status      int
	}{
		{"default: no origin (apps)", nil, "", http.StatusSwitchingProtocols},
		{"default: same origin", nil, "same", http.StatusSwitchingProtocols},
		{"default: cross origin", nil, "https://evil.example", http.StatusForbidden},
		{"func: allowed origin", allowList, "https://portale.comune.example", http.StatusSwitchingProtocols},
		{"func: no origin", allowList, "", http.StatusSwitchingProtocols},
		{"func: other origin", allowList, "https://evil.example", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, &Transport{CheckOrigin: tt.checkOrigin, PingInterval: time.Hour})
			h := http.Header{}
			switch tt.origin {
			case "":
			case "same":
				h.Set("Origin", e.srv.URL)
			default:
				h.Set("Origin", tt.origin)
			}
			ctx, cancel := context.WithTimeout(context.Background(), waitFor)
			defer cancel()
			ws, resp, err := websocket.Dial(ctx, e.url, &websocket.DialOptions{
				Subprotocols: []string{subprotocolTransportWS}, HTTPHeader: h,
			})
			if ws != nil {
				defer ws.CloseNow()
			}
			if resp == nil {
				t.Fatalf("no response: %v", err)
			}
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d (%v)", resp.StatusCode, tt.status, err)
			}
		})
	}
}

func TestSupportsOnlyWebSocketUpgrades(t *testing.T) {
	tests := []struct {
		name, method, upgrade string
		want                  bool
	}{
		{"websocket upgrade", http.MethodGet, "websocket", true},
		{"case and lists", http.MethodGet, "h2c, WebSocket", true},
		{"plain GET", http.MethodGet, "", false},
		{"POST", http.MethodPost, "websocket", false},
		{"other upgrade", http.MethodGet, "h2c", false},
	}
	var tr Transport
	for _, tt := range tests {
		r, _ := http.NewRequest(tt.method, "/graphql", nil)
		if tt.upgrade != "" {
			r.Header.Set("Upgrade", tt.upgrade)
		}
		if got := tr.Supports(r); got != tt.want {
			t.Errorf("%s: Supports = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestClientThatDoesNotReadIsDisconnectedAfterTheWriteTimeout(t *testing.T) {
	e := newEnv(t, &Transport{WriteTimeout: 200 * time.Millisecond, PingInterval: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, e.url, &websocket.DialOptions{Subprotocols: []string{subprotocolTransportWS}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	write := func(msg string) {
		if err := ws.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"type":"connection_init","payload":{"Authorization":"Bearer ada"}}`)
	if _, data, err := ws.Read(ctx); err != nil || !strings.Contains(string(data), msgConnectionAck) {
		t.Fatalf("no ack: %s %v", data, err)
	}
	// The client reads no more: the server's writes fill the socket's buffers and block.
	write(`{"type":"subscribe","id":"f","payload":{"query":"subscription { flood }"}}`)
	select {
	case <-e.floodEnded:
	case <-time.After(5 * time.Second):
		t.Fatal("the subscription of a client that does not read still runs")
	}
}

func TestNoGoroutineLeakAfterManyConnections(t *testing.T) {
	tr := quiet()
	e := newEnv(t, tr)
	settle := func() int {
		n := runtime.NumGoroutine()
		for range 10 {
			time.Sleep(20 * time.Millisecond)
			n = min(n, runtime.NumGoroutine())
		}
		return n
	}
	baseline := settle()

	const connections, workers = 200, 10
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				openAndClose(t, e, i)
			}
		})
	}
	for i := range connections {
		jobs <- i
	}
	close(jobs)
	wg.Wait()

	const tolerance = 5
	deadline := time.Now().Add(5 * time.Second)
	n := runtime.NumGoroutine()
	for n > baseline+tolerance && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	if n > baseline+tolerance {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines after %d connections, baseline %d:\n%s", n, connections, baseline, buf[:runtime.Stack(buf, true)])
	}
	// Do untracks its connection last, after the connection's goroutines ended.
	for {
		tr.mu.Lock()
		open := len(tr.conns)
		tr.mu.Unlock()
		if open == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still tracked", open)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// openAndClose runs one connection with a live subscription and ends it in one of the ways a
// connection ends: the client closes, the client terminates (legacy), the server closes on a
// bad message, or the client just drops the TCP connection.
func openAndClose(t *testing.T, e *env, i int) {
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	proto := subprotocolTransportWS
	if i%4 == 1 {
		proto = subprotocolLegacy
	}
	ws, _, err := websocket.Dial(ctx, e.url, &websocket.DialOptions{Subprotocols: []string{proto}})
	if err != nil {
		t.Errorf("dial %d: %v", i, err)
		return
	}
	defer ws.CloseNow()
	send := func(msg string) bool {
		if err := ws.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
			t.Errorf("connection %d: send: %v", i, err)
			return false
		}
		return true
	}
	if !send(`{"type":"connection_init","payload":{"Authorization":"Bearer ada"}}`) {
		return
	}
	if _, _, err := ws.Read(ctx); err != nil {
		t.Errorf("connection %d: no ack: %v", i, err)
		return
	}
	start := `{"type":"subscribe","id":"s","payload":{"query":"subscription { ticks }"}}`
	if proto == subprotocolLegacy {
		start = `{"type":"start","id":"s","payload":{"query":"subscription { ticks }"}}`
	}
	if !send(start) {
		return
	}
	switch i % 4 {
	case 0:
		_ = ws.Close(websocket.StatusNormalClosure, "")
	case 1:
		send(`{"type":"connection_terminate"}`)
		for {
			if _, _, err := ws.Read(ctx); err != nil {
				return
			}
		}
	case 2:
		send(`not json`)
		for {
			if _, _, err := ws.Read(ctx); err != nil {
				return
			}
		}
	case 3:
		_ = ws.CloseNow()
	}
}
