package websocket

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// errNotSent tells a writer that its message was dropped on purpose: the connection is closing,
// or the client completed the operation.
var errNotSent = errors.New("message not sent")

// errWriteTimeout is a write that did not end within the write timeout.
var errWriteTimeout = errors.New("write timed out")

// conn is one WebSocket connection. Its goroutines are: the one running serve, which reads the
// client's messages; Init's, while it runs; one per operation; and, only once the connection is
// to end, the closer, which closes the socket. The keep-alive has none: it runs on timers, with a
// goroutine only while a check is under way. All but serve's are counted in wg, and serve waits
// for them.
type conn struct {
	t      *Transport
	ws     *websocket.Conn
	exec   graphql.GraphExecutor
	req    *http.Request
	legacy bool

	// ctx ends when the connection is to end, for whatever reason; every operation's context
	// derives from it. It keeps the request's values but not its cancellation, which belongs to
	// net/http and means nothing for a hijacked connection.
	ctx    context.Context
	cancel context.CancelFunc

	closeMu     sync.Mutex
	closing     bool
	closeCode   websocket.StatusCode // zero: no close frame to send (the socket is already gone)
	closeReason string

	// writeMu serializes writes, so that each message goes out whole and the checks made before
	// writing (is the connection closing, did the client complete the operation) still hold
	// when it does.
	writeMu sync.Mutex
	// writeTimer closes the socket when a write outlasts the write timeout (see send); it is
	// used under writeMu.
	writeTimer *time.Timer

	mu           sync.Mutex
	initReceived bool
	acked        bool
	finished     bool                  // serve is cleaning up: start nothing more
	initCtx      context.Context       // Init's context, set on acknowledgement
	ops          map[string]*operation // by id, from subscribe (or start) until detached
	expiry       *time.Timer
	// The keep-alive (see keepAliveTick): its timer, the generation that tells its current run
	// from a stale one, whether a ping awaits its pong, and when that ping was sent.
	kaTimer   *time.Timer
	kaGen     uint64
	kaWaiting bool
	kaPingAt  time.Time

	ackCh    chan struct{} // closed on acknowledgement; operations wait for it
	lastRead atomic.Int64  // when the last message arrived, in Unix nanoseconds
	wg       sync.WaitGroup
	done     chan struct{} // closed when serve returns
}

// operation is one subscribe (or start) of the client.
type operation struct {
	id     string
	ctx    context.Context
	cancel context.CancelFunc
	// stopped is set when the client completed the operation, or the connection ends: nothing
	// more may be sent for it.
	stopped atomic.Bool
	// next is the beginning of its result messages, up to the payload (see nextPrefix).
	next []byte
	// encodedResp is the response about to be sent and encoded its encoding, when the resolvers
	// have it already (see UseEncoded); only the operation's delivering goroutine uses them.
	encodedResp *graphql.Response
	encoded     []byte
}

func newConn(t *Transport, ws *websocket.Conn, r *http.Request, exec graphql.GraphExecutor) *conn {
	c := &conn{
		t:     t,
		ws:    ws,
		exec:  exec,
		req:   upgradeRequest(r),
		ops:   make(map[string]*operation),
		ackCh: make(chan struct{}),
		done:  make(chan struct{}),
	}
	// The connection is in its own context so that Init's context, derived from it, lets
	// CloseConnection find the connection even from code that runs before any operation.
	c.ctx, c.cancel = context.WithCancel(context.WithValue(context.WithoutCancel(r.Context()), connKey{}, c))
	return c
}

// upgradeRequest returns what the connection keeps of its upgrade request, for Init and for the
// operations' headers: a shallow copy without the body. The body of a hijacked request means
// nothing, and the server's middleware may have wrapped it (http.MaxBytesReader holds the
// ResponseWriter), which would pin net/http's response, with its buffer and headers, and its
// connection state for as long as the socket stays open: kilobytes per idle subscriber.
func upgradeRequest(r *http.Request) *http.Request {
	rc := new(http.Request)
	*rc = *r
	rc.Body = http.NoBody
	rc.GetBody = nil
	return rc
}

// serve runs the connection: it reads the client's messages until the connection ends, then
// waits for every goroutine of the connection. When the connection is to end, for whatever
// reason, a closer goroutine stops everything and closes the socket, which ends the read.
func (c *conn) serve() {
	defer close(c.done)
	defer c.wg.Wait()
	defer c.cancel()
	switch proto := c.ws.Subprotocol(); {
	case strings.EqualFold(proto, subprotocolTransportWS):
	case strings.EqualFold(proto, subprotocolLegacy):
		c.legacy = true
	default:
		// The client offered neither protocol: graphql-ws servers accept the socket and close
		// it with 4406, which tells the client what went wrong better than a failed handshake.
		_ = c.ws.Close(closeSubprotocolNotAcceptable, reasonSubprotocol)
		return
	}
	c.ws.SetReadLimit(c.t.maxMessageBytes())
	initTimer := time.AfterFunc(c.t.initTimeout(), func() {
		c.mu.Lock()
		received := c.initReceived
		c.mu.Unlock()
		if !received {
			c.shut(closeConnectionInitTimeout, reasonInitTimeout)
		}
	})
	c.wg.Add(1)
	context.AfterFunc(c.ctx, func() {
		defer c.wg.Done()
		initTimer.Stop()
		c.close()
	})
	c.readLoop()
}

// close ends the connection once its context has ended: it starts nothing more, stops the
// operations and the timers, and closes the socket.
func (c *conn) close() {
	c.mu.Lock()
	c.finished = true
	if c.expiry != nil {
		c.expiry.Stop()
	}
	if c.kaTimer != nil {
		c.kaTimer.Stop()
	}
	for _, op := range c.ops {
		op.stopped.Store(true)
		op.cancel()
	}
	c.mu.Unlock()

	code, reason := c.closeStatus()
	if code == 0 {
		_ = c.ws.CloseNow()
	} else {
		// Close sends the close frame after any write in progress and waits (a few seconds at
		// most) for the client's; the reader sees the end and returns.
		_ = c.ws.Close(code, reason)
	}
}

// shut asks for the connection to end with code and reason; the first request wins. Code zero
// means the socket is already gone and no close frame can be sent. It never blocks, so that any
// goroutine, a resolver's included, may call it.
func (c *conn) shut(code websocket.StatusCode, reason string) {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	if c.closing {
		return
	}
	c.closing = true
	c.closeCode = code
	c.closeReason = truncateReason(strings.ToValidUTF8(reason, "?"))
	c.cancel()
}

func (c *conn) closeStatus() (websocket.StatusCode, string) {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	return c.closeCode, c.closeReason
}

// readLoop reads the client's messages one at a time, in order, and hands each to the
// protocol; the handlers never block for long, so that a pong or a complete is never stuck
// behind an operation.
func (c *conn) readLoop() {
	for {
		_, data, err := c.ws.Read(context.Background())
		if err != nil {
			// The client closed the socket (the library has answered its close frame), the
			// network failed, a message was too big (the library has sent 1009), or the
			// connection is being closed from this side: in every case it is over.
			c.shut(0, "")
			return
		}
		if c.ctx.Err() != nil {
			return
		}
		received := graphql.Now()
		c.lastRead.Store(received.UnixNano())
		if !c.handleAside(data, received) {
			return
		}
	}
}

// handleAside handles one message on a short-lived goroutine and waits for it, so that messages
// are still handled one at a time, in order. Decoding a message and starting what it asks for
// takes several times the stack that waiting for the next message does, and the reader spends
// the connection's life waiting: on its own stack, the handling would grow it for good (a
// goroutine's stack only shrinks back at a GC when less than a quarter of it is in use), for
// every idle connection.
func (c *conn) handleAside(data []byte, received time.Time) bool {
	ok := make(chan bool, 1)
	go func() {
		if c.legacy {
			ok <- c.handleLegacy(data, received)
		} else {
			ok <- c.handle(data, received)
		}
	}()
	return <-ok
}

// handle processes one graphql-transport-ws message; it returns false when the connection is
// to end.
func (c *conn) handle(data []byte, received time.Time) bool {
	m, err := parseMessage(data)
	if err != nil {
		c.shut(closeBadRequest, err.Error())
		return false
	}
	switch m.Type {
	case msgConnectionInit:
		if err := checkObjectPayload(m); err != nil {
			c.shut(closeBadRequest, err.Error())
			return false
		}
		c.mu.Lock()
		again := c.initReceived
		c.initReceived = true
		c.mu.Unlock()
		if again {
			c.shut(closeTooManyInitialisationReqs, reasonTooManyInits)
			return false
		}
		c.startInit(m.Payload)
	case msgPing:
		if err := checkObjectPayload(m); err != nil {
			c.shut(closeBadRequest, err.Error())
			return false
		}
		// A ping may come at any time, even before connection_init; the pong echoes its
		// payload.
		_ = c.write(nil, outbound{Type: msgPong, Payload: m.Payload})
	case msgPong:
		if err := checkObjectPayload(m); err != nil {
			c.shut(closeBadRequest, err.Error())
			return false
		}
		// Pongs may also come unsolicited, as a one-way heartbeat; any of them proves the
		// client alive.
		c.ponged()
	case msgSubscribe:
		if err := checkID(m); err != nil {
			c.shut(closeBadRequest, err.Error())
			return false
		}
		params, err := parseParams(m.Payload)
		if err != nil {
			c.shut(closeBadRequest, err.Error())
			return false
		}
		params.ReadTime = graphql.TraceTiming{Start: received, End: graphql.Now()}
		c.mu.Lock()
		acked := c.acked
		_, exists := c.ops[m.ID]
		c.mu.Unlock()
		if !acked {
			c.shut(closeUnauthorized, reasonUnauthorized)
			return false
		}
		if exists {
			// The protocol asks this for every operation, not only streaming ones: ids are
			// reserved until the operation completes.
			c.shut(closeSubscriberAlreadyExists, fmt.Sprintf("Subscriber for %s already exists", m.ID))
			return false
		}
		c.startOperation(m.ID, params)
	case msgComplete:
		if err := checkID(m); err != nil {
			c.shut(closeBadRequest, err.Error())
			return false
		}
		// The client stopped listening: nothing more goes out for the id, not even complete,
		// and the id is free again. A complete for an unknown id (one that already ended) is
		// no error.
		c.stopOperation(m.ID)
	default:
		c.shut(closeBadRequest, fmt.Sprintf("Invalid message received: unexpected message of type %q", m.Type))
		return false
	}
	return true
}

// handleLegacy processes one subscriptions-transport-ws message. That protocol answers a bad
// message with an error message and keeps the connection, so only a few cases end it.
func (c *conn) handleLegacy(data []byte, received time.Time) bool {
	m, err := parseMessage(data)
	if err != nil {
		c.writeConnectionError(err.Error())
		return true
	}
	switch m.Type {
	case msgConnectionInit:
		if err := checkObjectPayload(m); err != nil {
			c.writeConnectionError(err.Error())
			return true
		}
		c.mu.Lock()
		again := c.initReceived
		c.initReceived = true
		c.mu.Unlock()
		if again {
			c.writeConnectionError(reasonTooManyInits)
			return true
		}
		c.startInit(m.Payload)
	case msgStart:
		if err := checkID(m); err != nil {
			c.writeConnectionError(err.Error())
			return true
		}
		c.mu.Lock()
		initReceived := c.initReceived
		c.mu.Unlock()
		if !initReceived {
			// Every operation needs the user that connection_init authenticates. (Legacy
			// clients send their first start right after connection_init, without waiting
			// for the ack: those starts wait for it.)
			c.shut(closeUnauthorized, reasonUnauthorized)
			return false
		}
		params, err := parseParams(m.Payload)
		if err != nil {
			c.writeOperationError(nil, m.ID, gqlerror.List{{Message: err.Error()}})
			return true
		}
		params.ReadTime = graphql.TraceTiming{Start: received, End: graphql.Now()}
		// A start with the id of a running operation replaces it, as the reference server
		// does; the old one ends silently.
		c.stopOperation(m.ID)
		c.startOperation(m.ID, params)
	case msgStop:
		if err := checkID(m); err != nil {
			c.writeConnectionError(err.Error())
			return true
		}
		// In this protocol the server confirms a stop with complete.
		if c.stopOperation(m.ID) {
			_ = c.write(nil, outbound{Type: msgComplete, ID: m.ID})
		}
	case msgConnectionTerminate:
		c.shut(websocket.StatusNormalClosure, reasonTerminated)
		return false
	default:
		text := fmt.Sprintf("Invalid message received: unexpected message of type %q", m.Type)
		if m.HasID && m.ID != "" {
			c.writeOperationError(nil, m.ID, gqlerror.List{{Message: text}})
		} else {
			c.writeConnectionError(text)
		}
	}
	return true
}

// startInit runs Init in its own goroutine, so that the reader goes on meanwhile: a second
// connection_init, or a subscribe before the ack, must be answered while Init still runs.
func (c *conn) startInit(payload json.RawMessage) {
	var p map[string]any
	if payload != nil {
		// The payload was checked to be an object.
		_ = json.Unmarshal(payload, &p)
	}
	c.wg.Add(1)
	go c.initialise(p)
}

// initialise authenticates the connection and acknowledges it, or closes it.
func (c *conn) initialise(payload map[string]any) {
	defer c.wg.Done()
	ctx, expires, err, panicked := c.callInit(payload)
	if c.ctx.Err() != nil {
		return
	}
	if panicked {
		c.shut(closeInternalServerError, reasonInternalServerError)
		return
	}
	if err != nil {
		reason := err.Error()
		if reason == "" {
			reason = reasonForbidden
		}
		if c.legacy {
			// Legacy clients learn of the refusal from connection_error; the close follows.
			c.writeConnectionError(reason)
		}
		c.shut(closeForbidden, reason)
		return
	}
	if ctx == nil {
		ctx = c.ctx
	}
	if !expires.IsZero() && !time.Now().Before(expires) {
		c.shut(closeUnauthorized, reasonTokenExpired)
		return
	}

	// The acknowledgement is written under writeMu, with the state flipped inside it, so that
	// nothing (a result of an operation the ack lets through, a ping) goes out before it.
	c.writeMu.Lock()
	c.mu.Lock()
	if c.finished {
		c.mu.Unlock()
		c.writeMu.Unlock()
		return
	}
	c.acked = true
	c.initCtx = ctx
	if !expires.IsZero() {
		c.expiry = time.AfterFunc(time.Until(expires), func() {
			c.shut(closeUnauthorized, reasonTokenExpired)
		})
	}
	c.mu.Unlock()
	err = c.writeLocked(outbound{Type: msgConnectionAck})
	if err == nil && c.legacy {
		// The legacy protocol sends a keep-alive right after the ack, which tells the client
		// to start watching for them.
		err = c.writeLocked(outbound{Type: msgKeepAlive})
	}
	c.writeMu.Unlock()
	close(c.ackCh)
	if err != nil {
		return
	}
	c.mu.Lock()
	if !c.finished {
		c.armKeepAliveLocked(c.t.pingInterval())
	}
	c.mu.Unlock()
}

// callInit calls Init, turning a panic into a refusal rather than a crash of the server.
func (c *conn) callInit(payload map[string]any) (ctx context.Context, expires time.Time, err error, panicked bool) {
	// Init is the only reader of the upgrade request (a second connection_init is refused
	// without it), so the connection lets go of its headers, a few KiB on every idle connection.
	req := c.req
	c.req = nil
	if c.t.Init == nil {
		return c.ctx, time.Time{}, nil, false
	}
	defer func() {
		if p := recover(); p != nil {
			panicked = true
		}
	}()
	ctx, expires, err = c.t.Init(c.ctx, req, payload)
	return ctx, expires, err, false
}

// The keep-alive checks every PingInterval that the client is alive, and ends the connection
// when it is not: a dead peer (a phone that lost its network) never closes its socket, and its
// subscriptions would run for nothing. It runs on a timer rather than in a goroutine of its own,
// so that an idle connection costs none: in graphql-transport-ws, a tick sends a ping and arms
// the timer for PongTimeout; the pong re-arms it for the next tick, PingInterval after the ping,
// and a timer that fires with the ping unanswered ends the connection. In the legacy protocol a
// tick waits for the answer to a ping frame (see checkLegacy), then re-arms the timer.

// armKeepAliveLocked makes the keep-alive tick after d, replacing what was armed; c.mu must be
// held.
func (c *conn) armKeepAliveLocked(d time.Duration) {
	if c.kaTimer != nil {
		c.kaTimer.Stop()
	}
	c.kaGen++
	gen := c.kaGen
	c.kaTimer = time.AfterFunc(max(d, 0), func() { c.keepAliveTick(gen) })
}

// keepAliveTick is the keep-alive timer's run of generation gen; a stale run (the timer was
// re-armed meanwhile) does nothing.
func (c *conn) keepAliveTick(gen uint64) {
	c.mu.Lock()
	if c.finished || gen != c.kaGen {
		c.mu.Unlock()
		return
	}
	if c.kaWaiting {
		// The ping went unanswered for PongTimeout.
		c.mu.Unlock()
		c.shut(websocket.StatusGoingAway, reasonPongTimeout)
		return
	}
	// Counted, so that serve waits for a check under way.
	c.wg.Add(1)
	defer c.wg.Done()
	start := time.Now()
	if !c.legacy {
		// A pong that came before this ping answers nothing.
		c.kaWaiting = true
		c.kaPingAt = start
		c.armKeepAliveLocked(c.t.pongTimeout())
		c.mu.Unlock()
		if err := c.write(nil, outbound{Type: msgPing}); err != nil {
			// The socket is lost or the connection is closing: it is ending already.
			return
		}
		return
	}
	c.mu.Unlock()
	if !c.checkLegacy() {
		if c.ctx.Err() == nil {
			c.shut(websocket.StatusGoingAway, reasonPongTimeout)
		}
		return
	}
	c.mu.Lock()
	if !c.finished && gen == c.kaGen {
		c.armKeepAliveLocked(time.Until(start.Add(c.t.pingInterval())))
	}
	c.mu.Unlock()
}

// ponged notes a pong of graphql-transport-ws: it answers the ping awaiting one, and the next
// ping goes out PingInterval after that one.
func (c *conn) ponged() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.kaWaiting || c.finished {
		return
	}
	c.kaWaiting = false
	c.armKeepAliveLocked(time.Until(c.kaPingAt.Add(c.t.pingInterval())))
}

// checkLegacy sends the legacy protocol's keep-alive. Legacy clients have no pong message, so
// liveness is asked with a WebSocket ping frame, which every RFC 6455 client answers on its own;
// a message from the client during the wait proves it alive as well.
func (c *conn) checkLegacy() bool {
	if err := c.write(nil, outbound{Type: msgKeepAlive}); err != nil {
		return false
	}
	start := time.Now()
	// Not derived from c.ctx: a write cut short by a cancelled context makes the library drop
	// the socket at once, before the close frame that is about to be sent.
	ctx, cancel := context.WithTimeout(context.Background(), c.t.pongTimeout())
	defer cancel()
	if err := c.ws.Ping(ctx); err == nil {
		return true
	}
	return c.ctx.Err() == nil && c.lastRead.Load() >= start.UnixNano()
}

// write sends a message unless the connection is closing or, for a message of op, the client
// completed op.
func (c *conn) write(op *operation, m outbound) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.ctx.Err() != nil || (op != nil && op.stopped.Load()) {
		return errNotSent
	}
	return c.writeLocked(m)
}

// writeResult sends a result of op, whose payload is the encoded response, unless the
// connection is closing or the client completed op. The message is the operation's prefix, the
// payload and the closing brace, which is what encoding an outbound would give, without encoding
// the payload again: the payload may be shared by every subscriber of an event.
func (c *conn) writeResult(op *operation, payload []byte) error {
	bp := messageBuffers.Get().(*[]byte)
	b := append((*bp)[:0], op.next...)
	b = append(b, payload...)
	b = append(b, '}')
	defer func() {
		// A buffer grown by a large result is left to the collector rather than kept.
		if cap(b) <= maxPooledMessage {
			*bp = b
			messageBuffers.Put(bp)
		}
	}()
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.ctx.Err() != nil || op.stopped.Load() {
		return errNotSent
	}
	return c.send(b)
}

// messageBuffers hold result messages while they are written, so that a burst of events does
// not allocate a message per subscriber; maxPooledMessage bounds what they keep.
var messageBuffers = sync.Pool{New: func() any { return new([]byte) }}

const maxPooledMessage = 64 << 10

// writeLocked sends a message within the write timeout; writeMu must be held.
func (c *conn) writeLocked(m outbound) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return c.send(b)
}

// send writes an encoded message within the write timeout; writeMu must be held. A write that
// fails or times out has lost the socket, so the connection ends.
//
// The timeout is one timer per connection, armed for each write, which closes the socket if it
// fires, and so ends the write: a context with a deadline for each write, which the library
// watches with a callback of its own, cost a tenth of the server's CPU at 10,000 subscribers.
func (c *conn) send(b []byte) error {
	if c.writeTimer == nil {
		c.writeTimer = time.AfterFunc(c.t.writeTimeout(), func() { _ = c.ws.CloseNow() })
	} else {
		c.writeTimer.Reset(c.t.writeTimeout())
	}
	err := c.ws.Write(context.Background(), websocket.MessageText, b)
	if !c.writeTimer.Stop() && err == nil {
		// The timer fired as the write ended: the socket is closed all the same.
		err = errWriteTimeout
	}
	if err != nil {
		c.shut(0, "")
		return err
	}
	return nil
}

// writeConnectionError sends a legacy connection_error.
func (c *conn) writeConnectionError(text string) {
	payload, _ := json.Marshal(&gqlerror.Error{Message: text})
	_ = c.write(nil, outbound{Type: msgConnectionError, Payload: payload})
}
