package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// wsClient speaks graphql-transport-ws to the server, as a dashboard would. A goroutine reads
// the socket into a channel, because the library closes a connection whose read is cancelled,
// and the tests need to wait for a message with a timeout and carry on.
type wsClient struct {
	t        *testing.T
	conn     *websocket.Conn
	messages chan wsMessage
	readErr  error // set before messages is closed
}

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// dialWS connects to base (an http:// URL) and completes connection_init with the token, or
// anonymously when token is "".
func dialWS(t *testing.T, base, token string) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	conn.SetReadLimit(1 << 20)
	c := &wsClient{t: t, conn: conn, messages: make(chan wsMessage, 4096)}
	t.Cleanup(func() { conn.CloseNow() })
	go c.readLoop()
	init := map[string]any{}
	if token != "" {
		init["Authorization"] = "Bearer " + token
	}
	c.send(wsMessage{Type: "connection_init", Payload: mustJSON(init)})
	if m := c.read(10 * time.Second); m.Type != "connection_ack" {
		t.Fatalf("expected connection_ack, got %+v", m)
	}
	return c
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

func (c *wsClient) send(m wsMessage) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, mustJSON(m)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// subscribe starts an operation with the given id.
func (c *wsClient) subscribe(id, query string, vars map[string]any) {
	c.t.Helper()
	c.send(wsMessage{ID: id, Type: "subscribe", Payload: mustJSON(map[string]any{"query": query, "variables": vars})})
}

// readLoop answers pings and queues every other message until the connection ends.
func (c *wsClient) readLoop() {
	defer close(c.messages)
	ctx := context.Background()
	for {
		_, data, err := c.conn.Read(ctx)
		if err != nil {
			c.readErr = err
			return
		}
		var m wsMessage
		if err := json.Unmarshal(data, &m); err != nil {
			c.readErr = fmt.Errorf("decode %q: %w", data, err)
			return
		}
		if m.Type == "ping" {
			c.conn.Write(ctx, websocket.MessageText, mustJSON(wsMessage{Type: "pong"}))
			continue
		}
		c.messages <- m
	}
}

// read returns the next message other than a ping, failing after timeout.
func (c *wsClient) read(timeout time.Duration) wsMessage {
	c.t.Helper()
	m, err := c.tryRead(timeout)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return m
}

// tryRead returns the next message, or an error when none comes within timeout or the
// connection ended.
func (c *wsClient) tryRead(timeout time.Duration) (wsMessage, error) {
	select {
	case m, ok := <-c.messages:
		if !ok {
			return wsMessage{}, c.readErr
		}
		return m, nil
	case <-time.After(timeout):
		return wsMessage{}, errors.New("no message within " + timeout.String())
	}
}

// feedEvent is a ticketEvents or myTicketEvents payload.
type feedEvent struct {
	Cursor   string
	Type     string
	Internal bool
	Ticket   struct {
		ID             string
		ProtocolNumber string
		Subject        string
		Status         string
	}
}

const eventFields = `cursor type internal ticket { id protocolNumber subject status }`

// nextEvent reads the next "next" message of a subscription and decodes its event.
func (c *wsClient) nextEvent(field string, timeout time.Duration) feedEvent {
	c.t.Helper()
	m := c.read(timeout)
	if m.Type != "next" {
		c.t.Fatalf("expected next, got %s %s", m.Type, m.Payload)
	}
	var p struct {
		Data   map[string]feedEvent
		Errors []gqlError
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil || len(p.Errors) > 0 {
		c.t.Fatalf("payload %s: %v", m.Payload, err)
	}
	return p.Data[field]
}

// closeStatus waits for the server to close the connection and returns its close code and
// reason, skipping the messages that come before.
func (c *wsClient) closeStatus(timeout time.Duration) (websocket.StatusCode, string) {
	c.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case _, ok := <-c.messages:
			if ok {
				continue
			}
			var ce websocket.CloseError
			if errors.As(c.readErr, &ce) {
				return ce.Code, ce.Reason
			}
			return -1, c.readErr.Error()
		case <-deadline:
			c.t.Fatalf("the server did not close the connection within %s", timeout)
		}
	}
}
