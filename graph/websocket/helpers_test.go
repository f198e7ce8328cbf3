package websocket

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// waitFor bounds every wait of the tests for something that should happen at once.
const waitFor = 10 * time.Second

const testSchema = `
type Query {
	hello: String!
	whoami: String!
	boom: String!
}
type Mutation {
	echo(text: String!): String!
}
type Subscription {
	ticks: Int!
	kick(code: Int!, reason: String!): Int!
	flood: String!
}
`

type userKey struct{}

// env is a real HTTP server running a gqlgen handler with the transport under test.
type env struct {
	t   *testing.T
	srv *httptest.Server
	tr  *Transport
	hub *hub
	url string
	// floodEnded receives when a flood subscription's context ends.
	floodEnded chan struct{}
}

// newEnv starts a server with tr (its Init defaults to testInit) and stops it, and every
// connection, when the test ends.
func newEnv(t *testing.T, tr *Transport) *env {
	t.Helper()
	if tr.Init == nil {
		tr.Init = testInit
	}
	e := &env{t: t, tr: tr, hub: newHub(), floodEnded: make(chan struct{}, 16)}
	srv := handler.New(e.schema())
	srv.AddTransport(tr)
	// The presenter marks errors, so that tests see that errors went through it.
	srv.SetErrorPresenter(func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		if gqlErr.Extensions == nil {
			gqlErr.Extensions = map[string]any{}
		}
		gqlErr.Extensions["presented"] = true
		return gqlErr
	})
	// Recover quietly: the default prints the stack of panics the tests cause on purpose.
	srv.SetRecoverFunc(func(ctx context.Context, p any) error {
		return fmt.Errorf("internal system error: %v", p)
	})
	e.srv = httptest.NewServer(srv)
	e.url = "ws" + strings.TrimPrefix(e.srv.URL, "http")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := tr.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		e.srv.Close()
	})
	return e
}

// testInit accepts "Bearer <name>" as user name, refuses "Bearer bad", and makes the
// authorization expire after "expiresInMs" when given.
func testInit(ctx context.Context, r *http.Request, payload map[string]any) (context.Context, time.Time, error) {
	auth, _ := payload["Authorization"].(string)
	name, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || name == "" {
		return nil, time.Time{}, errors.New("missing token")
	}
	if name == "bad" {
		return nil, time.Time{}, errors.New("invalid token")
	}
	var expires time.Time
	if ms, ok := payload["expiresInMs"].(float64); ok {
		expires = time.Now().Add(time.Duration(ms) * time.Millisecond)
	}
	return context.WithValue(ctx, userKey{}, name), expires, nil
}

// schema is a small executable schema: queries answer at once, ticks follows the hub, kick
// closes the connection from the resolver, flood sends big results for as long as it may.
func (e *env) schema() graphql.ExecutableSchema {
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: testSchema})
	return &graphql.ExecutableSchemaMock{
		SchemaFunc: func() *ast.Schema { return schema },
		ComplexityFunc: func(context.Context, string, string, int, map[string]any) (int, bool) {
			return 1, true
		},
		ExecFunc: func(ctx context.Context) graphql.ResponseHandler {
			opCtx := graphql.GetOperationContext(ctx)
			field := opCtx.Operation.SelectionSet[0].(*ast.Field)
			args := field.ArgumentMap(opCtx.Variables)
			data := func(v any) *graphql.Response {
				b, err := json.Marshal(map[string]any{field.Alias: v})
				if err != nil {
					panic(err)
				}
				return &graphql.Response{Data: b}
			}
			switch field.Name {
			case "hello":
				return graphql.OneShot(data("world"))
			case "whoami":
				name, _ := ctx.Value(userKey{}).(string)
				return graphql.OneShot(data(name))
			case "boom":
				panic("boom")
			case "echo":
				return graphql.OneShot(data(args["text"]))
			case "ticks":
				ch := e.hub.subscribe(ctx)
				return func(context.Context) *graphql.Response {
					select {
					case <-ctx.Done():
						return nil
					case v, ok := <-ch:
						if !ok {
							return nil
						}
						return data(v)
					}
				}
			case "kick":
				code, _ := args["code"].(int64)
				reason, _ := args["reason"].(string)
				return func(context.Context) *graphql.Response {
					CloseConnection(ctx, int(code), reason)
					<-ctx.Done()
					return nil
				}
			case "flood":
				big := strings.Repeat("x", 256<<10)
				context.AfterFunc(ctx, func() { e.floodEnded <- struct{}{} })
				return func(context.Context) *graphql.Response {
					if ctx.Err() != nil {
						return nil
					}
					return data(big)
				}
			}
			return graphql.OneShot(graphql.ErrorResponse(ctx, "unknown field %s", field.Name))
		},
	}
}

// hub feeds the ticks subscriptions.
type hub struct {
	mu   sync.Mutex
	subs map[chan int]struct{}
}

func newHub() *hub { return &hub{subs: map[chan int]struct{}{}} }

func (h *hub) subscribe(ctx context.Context) chan int {
	ch := make(chan int, 16)
	h.mu.Lock()
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	context.AfterFunc(ctx, func() {
		h.mu.Lock()
		delete(h.subs, ch)
		h.mu.Unlock()
	})
	return ch
}

func (h *hub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// waitSubscribers waits until n ticks subscriptions run.
func (h *hub) waitSubscribers(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for h.count() != n {
		if time.Now().After(deadline) {
			t.Fatalf("want %d subscribers, have %d", n, h.count())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// publish sends v to every ticks subscription.
func (h *hub) publish(v int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		ch <- v
	}
}

// end ends every ticks subscription's source.
func (h *hub) end() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		close(ch)
		delete(h.subs, ch)
	}
}

// frame is a message the client received.
type frame struct {
	Type    string          `json:"type"`
	ID      string          `json:"id"`
	Payload json.RawMessage `json:"payload"`
}

// client is a WebSocket client whose reader runs in the background, so that it answers the
// server's close frames and pings while the test waits, and so that tests can wait with a
// deadline without the library dropping the connection.
type client struct {
	t      *testing.T
	ws     *websocket.Conn
	in     chan frame
	done   chan struct{}
	err    error // why the reader stopped; read after done
	skipKA bool
}

// dial opens a connection offering subprotocols.
func (e *env) dial(subprotocols ...string) *client {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, e.url, &websocket.DialOptions{Subprotocols: subprotocols})
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	if resp.Body != nil {
		resp.Body.Close()
	}
	c := &client{t: e.t, ws: ws, in: make(chan frame, 64), done: make(chan struct{})}
	go c.read()
	e.t.Cleanup(func() { _ = ws.CloseNow(); <-c.done })
	return c
}

func (c *client) read() {
	defer close(c.done)
	for {
		_, data, err := c.ws.Read(context.Background())
		if err != nil {
			c.err = err
			return
		}
		var f frame
		if err := json.Unmarshal(data, &f); err != nil {
			c.err = fmt.Errorf("bad frame %q: %w", data, err)
			return
		}
		c.in <- f
	}
}

func (c *client) send(msg string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		c.t.Fatalf("send %s: %v", msg, err)
	}
}

// recv returns the next message (skipping legacy keep-alives if skipKA is set).
func (c *client) recv() frame {
	c.t.Helper()
	timeout := time.After(waitFor)
	for {
		select {
		case f := <-c.in:
			if c.skipKA && f.Type == msgKeepAlive {
				continue
			}
			return f
		case <-c.done:
			// Messages that arrived before the end come first.
			select {
			case f := <-c.in:
				if c.skipKA && f.Type == msgKeepAlive {
					continue
				}
				return f
			default:
			}
			c.t.Fatalf("connection ended while waiting for a message: %v", c.err)
		case <-timeout:
			c.t.Fatalf("no message within %v", waitFor)
		}
	}
}

// expect receives the next message and checks its type and id.
func (c *client) expect(typ, id string) frame {
	c.t.Helper()
	f := c.recv()
	if f.Type != typ || f.ID != id {
		c.t.Fatalf("got %s id=%q payload=%s, want %s id=%q", f.Type, f.ID, f.Payload, typ, id)
	}
	return f
}

// expectData receives a next (or legacy data) message for id and checks its data.
func (c *client) expectData(typ, id, data string) {
	c.t.Helper()
	f := c.expect(typ, id)
	var payload struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(f.Payload, &payload); err != nil || string(payload.Data) != data {
		c.t.Fatalf("got payload %s, want data %s", f.Payload, data)
	}
}

// expectClose waits for the server to close the connection with code and reason, ignoring the
// messages before it.
func (c *client) expectClose(code websocket.StatusCode, reason string) {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(waitFor):
		c.t.Fatalf("connection still open after %v, want close %d %q", waitFor, code, reason)
	}
	var ce websocket.CloseError
	if !errors.As(c.err, &ce) {
		c.t.Fatalf("connection ended with %v, want close %d %q", c.err, code, reason)
	}
	if ce.Code != code || ce.Reason != reason {
		c.t.Fatalf("closed with %d %q, want %d %q", ce.Code, ce.Reason, code, reason)
	}
}

// expectOpen checks that the connection still works and that nothing was sent before the pong
// to a ping: in particular nothing for an operation the client completed.
func (c *client) expectOpen() {
	c.t.Helper()
	c.send(`{"type":"ping","payload":{"check":"open"}}`)
	f := c.recv()
	if f.Type != msgPong || string(f.Payload) != `{"check":"open"}` {
		c.t.Fatalf("got %s id=%q payload=%s, want the pong", f.Type, f.ID, f.Payload)
	}
}

// init sends connection_init with the token and waits for the ack.
func (c *client) init(token string) {
	c.t.Helper()
	c.send(fmt.Sprintf(`{"type":"connection_init","payload":{"Authorization":"Bearer %s"}}`, token))
	c.expect(msgConnectionAck, "")
}

// connect dials with graphql-transport-ws and goes through connection_init as user "ada".
func (e *env) connect() *client {
	e.t.Helper()
	c := e.dial(subprotocolTransportWS)
	c.init("ada")
	return c
}

// subscribe sends a subscribe message for query.
func (c *client) subscribe(id, query string) {
	c.t.Helper()
	payload, _ := json.Marshal(map[string]any{"query": query})
	c.send(fmt.Sprintf(`{"type":"subscribe","id":%q,"payload":%s}`, id, payload))
}
