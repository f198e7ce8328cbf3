// Package websocket serves GraphQL operations over WebSocket as a gqlgen transport.
//
// It speaks two subprotocols:
//
//   - graphql-transport-ws, the protocol of the graphql-ws library (its PROTOCOL.md), followed to
//     the letter, close codes included: operators' dashboards and current clients use it;
//   - graphql-ws, the legacy protocol of apollographql/subscriptions-transport-ws, for older
//     clients that still offer only that.
//
// gqlgen ships a WebSocket transport, but it departs from graphql-transport-ws on several points
// (close codes, completing operations the client already completed, validation errors sent as
// data, no limit on operations, writes without a deadline), so this one replaces it.
package websocket

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/coder/websocket"
)

// Defaults for the zero values of Transport's fields.
const (
	DefaultInitTimeout     = 10 * time.Second
	DefaultPingInterval    = 15 * time.Second
	DefaultPongTimeout     = 15 * time.Second
	DefaultMaxOperations   = 100
	DefaultMaxMessageBytes = 64 << 10
	DefaultWriteTimeout    = 10 * time.Second
)

// Transport is a gqlgen transport for GraphQL over WebSocket. Add it to a handler.Server with
// AddTransport(&Transport{...}); use it by pointer, and only until Shutdown.
type Transport struct {
	// Init authenticates the connection_init payload (e.g. {"Authorization": "Bearer <jwt>"}).
	// It returns the context every operation of the connection runs in (carrying the user; derive
	// it from ctx, which ends with the connection and lets CloseConnection find it), and when the
	// authorization expires (zero: never), at which time the connection is closed with
	// 4401 "Unauthorized: token expired". An error rejects the connection: it is closed with
	// 4403 and the error's text as reason (cut to the 123 bytes a close frame can carry).
	// A nil Init accepts every connection.
	Init func(ctx context.Context, r *http.Request, payload map[string]any) (context.Context, time.Time, error)
	// CheckOrigin decides on the upgrade request's Origin header; a refused request gets
	// 403 Forbidden. It is called for every upgrade: requests without Origin (mobile apps, which
	// are not browsers) must be allowed by the caller's func. When nil, requests without Origin
	// and requests whose Origin host is the request's Host are allowed.
	CheckOrigin func(r *http.Request) bool
	// InitTimeout is how long a new socket has to send connection_init before it is closed
	// with 4408 "Connection initialisation timeout" (default 10s).
	InitTimeout time.Duration
	// PingInterval is how often the server checks that the client is alive (default 15s): a
	// ping message in graphql-transport-ws; a "ka" message and a WebSocket ping frame in the
	// legacy protocol, whose clients have no pong message.
	PingInterval time.Duration
	// PongTimeout is how long the server waits for the answer to its ping (default 15s); a
	// client that does not answer in time, and (legacy) sent nothing else either, is dead: its
	// connection is closed with 1001 and everything it ran is cleaned up.
	PongTimeout time.Duration
	// MaxOperations bounds the operations that may run at once on one connection (default 100);
	// a subscribe over the limit gets an error message for its id, and the connection stays.
	MaxOperations int
	// MaxMessageBytes bounds a message from the client (default 64 KiB); a larger one closes
	// the connection with 1009 Message Too Big.
	MaxMessageBytes int64
	// WriteTimeout bounds every write (default 10s): a client that does not read its socket is
	// disconnected rather than allowed to hold the server's goroutines.
	WriteTimeout time.Duration

	mu       sync.Mutex
	conns    map[*conn]struct{}
	shutdown bool
}

var _ graphql.Transport = (*Transport)(nil)

// Supports reports whether r asks for a WebSocket: a GET with Upgrade: websocket.
func (t *Transport) Supports(r *http.Request) bool {
	return r.Method == http.MethodGet && headerHasToken(r.Header, "Upgrade", "websocket")
}

// Do upgrades the request to a WebSocket and serves GraphQL operations over it, in a goroutine
// of the connection's own: it returns once the connection is established (or refused).
// Shutdown waits for the connections' goroutines.
func (t *Transport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	if !t.originAllowed(r) {
		http.Error(w, "WebSocket origin not allowed", http.StatusForbidden)
		return
	}
	if hj, ok := findHijacker(w); ok {
		w = smallBuffers{ResponseWriter: w, hj: hj}
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		// The order is the preference: a client offering both gets the current protocol.
		Subprotocols: []string{subprotocolTransportWS, subprotocolLegacy},
		// The origin was checked above with the caller's policy, which knows the allowed
		// origins and that apps send none.
		InsecureSkipVerify: true,
	})
	if err != nil {
		// Accept has already answered the request with the reason.
		return
	}
	c := newConn(t, ws, r, exec)
	if !t.track(c) {
		// Shutdown has begun and would not see this connection: send the client away at once,
		// with the code that tells it to come back later.
		_ = ws.Close(websocket.StatusGoingAway, reasonShutdown)
		return
	}
	// The connection is served by a goroutine of its own, and the handler returns: net/http then
	// lets go of its connection state and of the handler's stack, grown by the middleware, which
	// an idle connection would otherwise hold for its whole life. (coder/websocket keeps the
	// hijack's read and write buffers, which smallBuffers makes small.)
	go func() {
		defer t.untrack(c)
		c.serve()
	}()
}

// Shutdown closes every open connection with 1001 Going Away and waits (up to ctx) for their
// goroutines to finish. http.Server.Shutdown does not close hijacked connections, so call this
// after it. Connections that arrive afterwards are closed with 1001 at once.
func (t *Transport) Shutdown(ctx context.Context) error {
	t.mu.Lock()
	t.shutdown = true
	conns := make([]*conn, 0, len(t.conns))
	for c := range t.conns {
		conns = append(conns, c)
	}
	t.mu.Unlock()
	for _, c := range conns {
		c.shut(websocket.StatusGoingAway, reasonShutdown)
	}
	for _, c := range conns {
		select {
		case <-c.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// CloseConnection ends the WebSocket connection that runs the operation of ctx with code and
// reason; it is a no-op outside a WebSocket operation. Resolvers call it when a subscription's
// source ends with a reason the client must learn, e.g. 1013 Try Again Later for a subscriber
// too slow to keep up, or 1001 Going Away when the server shuts down: a complete message
// alone would read as "there is nothing more". Nothing more is sent on the connection, not even
// complete for the operation. A code that cannot be sent in a close frame becomes 1011; the
// reason is cut to 123 bytes.
func CloseConnection(ctx context.Context, code int, reason string) {
	c, ok := ctx.Value(connKey{}).(*conn)
	if !ok {
		return
	}
	status := websocket.StatusCode(code)
	if !sendableCloseCode(status) {
		status = websocket.StatusInternalError
	}
	c.shut(status, reason)
}

// connKey finds the connection in an operation's context, for CloseConnection.
type connKey struct{}

func (t *Transport) track(c *conn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.shutdown {
		return false
	}
	if t.conns == nil {
		t.conns = make(map[*conn]struct{})
	}
	t.conns[c] = struct{}{}
	return true
}

func (t *Transport) untrack(c *conn) {
	t.mu.Lock()
	delete(t.conns, c)
	t.mu.Unlock()
}

func (t *Transport) originAllowed(r *http.Request) bool {
	if t.CheckOrigin != nil {
		return t.CheckOrigin(r)
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

func (t *Transport) initTimeout() time.Duration {
	return positiveOr(t.InitTimeout, DefaultInitTimeout)
}

func (t *Transport) pingInterval() time.Duration {
	return positiveOr(t.PingInterval, DefaultPingInterval)
}

func (t *Transport) pongTimeout() time.Duration {
	return positiveOr(t.PongTimeout, DefaultPongTimeout)
}

func (t *Transport) writeTimeout() time.Duration {
	return positiveOr(t.WriteTimeout, DefaultWriteTimeout)
}

func (t *Transport) maxOperations() int {
	return positiveOr(t.MaxOperations, DefaultMaxOperations)
}

func (t *Transport) maxMessageBytes() int64 {
	return positiveOr(t.MaxMessageBytes, DefaultMaxMessageBytes)
}

func positiveOr[T int | int64 | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// headerHasToken reports whether one of the comma-separated values of header name is token.
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}

// The buffers of a hijacked connection, which coder/websocket keeps for the connection's life:
// net/http's are 4 KiB each, 8 KiB per connection that is idle nearly all the time. Client
// messages are small (init, subscribe, pongs), and a read larger than the buffer bypasses it. A
// dashboard's event fits the write buffer with its frame header; a larger message goes out in
// two write calls, a small price beside the memory of ten thousand idle connections.
const (
	hijackReadBuffer  = 512
	hijackWriteBuffer = 1 << 10
)

// smallBuffers hands coder/websocket the hijacked connection with buffers of hijackReadBuffer
// and hijackWriteBuffer bytes instead of net/http's, which become garbage.
type smallBuffers struct {
	http.ResponseWriter
	hj http.Hijacker
}

func (w smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := w.hj.Hijack()
	if err != nil {
		return nc, brw, err
	}
	// net/http has flushed the response before handing the connection over; whatever remains
	// buffered goes out first.
	if err := brw.Writer.Flush(); err != nil {
		nc.Close()
		return nil, nil, err
	}
	// What the client sent after the upgrade request and net/http read already is handed on
	// in the new reader's buffer, where coder/websocket looks for it.
	n := brw.Reader.Buffered()
	var src io.Reader = nc
	if n > 0 {
		b, _ := brw.Reader.Peek(n)
		src = io.MultiReader(bytes.NewReader(bytes.Clone(b)), nc)
	}
	br := bufio.NewReaderSize(src, max(hijackReadBuffer, n))
	if n > 0 {
		if _, err := br.Peek(n); err != nil {
			nc.Close()
			return nil, nil, err
		}
	}
	return nc, bufio.NewReadWriter(br, bufio.NewWriterSize(nc, hijackWriteBuffer)), nil
}

// findHijacker finds the http.Hijacker of w, following Unwrap as http.ResponseController and
// coder/websocket do.
func findHijacker(w http.ResponseWriter) (http.Hijacker, bool) {
	for {
		switch t := w.(type) {
		case http.Hijacker:
			return t, true
		case interface{ Unwrap() http.ResponseWriter }:
			w = t.Unwrap()
		default:
			return nil, false
		}
	}
}
