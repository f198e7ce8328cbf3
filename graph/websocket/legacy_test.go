package websocket

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// connectLegacy dials with the legacy subprotocol and goes through connection_init as "ada",
// checking that the keep-alive follows the ack.
func (e *env) connectLegacy() *client {
	e.t.Helper()
	c := e.dial(subprotocolLegacy)
	c.send(`{"type":"connection_init","payload":{"Authorization":"Bearer ada"}}`)
	c.expect(msgConnectionAck, "")
	c.expect(msgKeepAlive, "")
	return c
}

func (c *client) start(id, query string) {
	c.t.Helper()
	payload, _ := json.Marshal(map[string]any{"query": query})
	c.send(`{"type":"start","id":"` + id + `","payload":` + string(payload) + `}`)
}

func TestLegacyProtocolFlow(t *testing.T) {
	e := newEnv(t, quiet())
	c := e.connectLegacy()

	// A subscription: data for each event; stop is confirmed with complete.
	c.start("1", "subscription { ticks }")
	e.hub.waitSubscribers(t, 1)
	e.hub.publish(1)
	c.expectData(msgData, "1", `{"ticks":1}`)
	c.send(`{"type":"stop","id":"1"}`)
	c.expect(msgComplete, "1")
	e.hub.waitSubscribers(t, 0)

	// A subscription whose source ends is completed by the server.
	c.start("2", "subscription { ticks }")
	e.hub.waitSubscribers(t, 1)
	e.hub.end()
	c.expect(msgComplete, "2")

	// A query: data, then complete.
	c.start("3", "{ whoami }")
	c.expectData(msgData, "3", `{"whoami":"ada"}`)
	c.expect(msgComplete, "3")

	// connection_terminate closes the connection normally.
	c.send(`{"type":"connection_terminate"}`)
	c.expectClose(websocket.StatusNormalClosure, "Normal Closure")
}

func TestLegacyKeepAliveIsSentEveryPingInterval(t *testing.T) {
	e := newEnv(t, &Transport{PingInterval: 30 * time.Millisecond, PongTimeout: time.Second})
	c := e.connectLegacy()
	for range 3 {
		c.expect(msgKeepAlive, "")
	}
	// The client answers the WebSocket pings (its reader runs), so it is alive well past
	// the pong timeout's worth of ticks.
	c.skipKA = true
	c.start("q", "{ hello }")
	c.expectData(msgData, "q", `{"hello":"world"}`)
}

func TestLegacyStartBeforeTheAckWaitsForIt(t *testing.T) {
	e := newEnv(t, quiet())
	c := e.dial(subprotocolLegacy)
	// Legacy clients send their operations right after connection_init, without waiting.
	c.send(`{"type":"connection_init","payload":{"Authorization":"Bearer ada"}}`)
	c.start("1", "{ whoami }")
	c.expect(msgConnectionAck, "")
	c.expect(msgKeepAlive, "")
	c.expectData(msgData, "1", `{"whoami":"ada"}`)
	c.expect(msgComplete, "1")
}

func TestLegacyErrors(t *testing.T) {
	tests := []struct {
		name, send, typ, id, message string
	}{
		{"validation error", `{"type":"start","id":"v","payload":{"query":"{ nope }"}}`, msgError, "v", `Cannot query field "nope" on type "Query".`},
		{"bad payload", `{"type":"start","id":"p","payload":{"query":7}}`, msgError, "p", `"payload.query" must be a string`},
		{"unknown type with id", `{"type":"subscribe","id":"u","payload":{}}`, msgError, "u", `unexpected message of type "subscribe"`},
		{"unknown type", `{"type":"ping"}`, msgConnectionError, "", `unexpected message of type "ping"`},
		{"not JSON", `nope`, msgConnectionError, "", "not a JSON object"},
		{"second connection_init", `{"type":"connection_init"}`, msgConnectionError, "", "Too many initialisation requests"},
	}
	e := newEnv(t, quiet())
	c := e.connectLegacy()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			c.send(tt.send)
			f := c.expect(tt.typ, tt.id)
			// The payload is one error object, as the protocol's text has it.
			var payload struct {
				Message string `json:"message"`
			}
			if err := json.Unmarshal(f.Payload, &payload); err != nil {
				t.Fatalf("payload %s is not an error object: %v", f.Payload, err)
			}
			if !strings.Contains(payload.Message, tt.message) {
				t.Errorf("message %q, want it to contain %q", payload.Message, tt.message)
			}
			// The connection stays, and no complete follows an error.
			c.start("ok", "{ hello }")
			c.expectData(msgData, "ok", `{"hello":"world"}`)
			c.expect(msgComplete, "ok")
		})
	}
}

func TestLegacyCloses(t *testing.T) {
	tests := []struct {
		name   string
		send   []string
		before string // the message that comes before the close, if any
		code   websocket.StatusCode
		reason string
	}{
		{"start before connection_init", []string{`{"type":"start","id":"1","payload":{"query":"{ hello }"}}`}, "", 4401, "Unauthorized"},
		{"init rejected", []string{`{"type":"connection_init","payload":{"Authorization":"Bearer bad"}}`}, msgConnectionError, 4403, "invalid token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, quiet())
			c := e.dial(subprotocolLegacy)
			for _, m := range tt.send {
				c.send(m)
			}
			if tt.before != "" {
				f := c.expect(tt.before, "")
				if !strings.Contains(string(f.Payload), tt.reason) {
					t.Errorf("%s payload %s, want %q", f.Type, f.Payload, tt.reason)
				}
			}
			c.expectClose(tt.code, tt.reason)
		})
	}
}

func TestLegacyStartWithARunningIDReplacesTheOperation(t *testing.T) {
	e := newEnv(t, quiet())
	c := e.connectLegacy()
	c.start("1", "subscription { ticks }")
	e.hub.waitSubscribers(t, 1)
	c.start("1", "{ hello }")
	c.expectData(msgData, "1", `{"hello":"world"}`)
	c.expect(msgComplete, "1")
	e.hub.waitSubscribers(t, 0)
}

func TestSubprotocolPreference(t *testing.T) {
	e := newEnv(t, quiet())
	c := e.dial(subprotocolLegacy, subprotocolTransportWS)
	if got := c.ws.Subprotocol(); got != subprotocolTransportWS {
		t.Errorf("negotiated %q, want %q", got, subprotocolTransportWS)
	}
}
