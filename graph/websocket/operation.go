package websocket

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// codeTooManyOperations is the error code of a subscribe refused for MaxOperations.
const codeTooManyOperations = "TOO_MANY_OPERATIONS"

// startOperation registers the operation under id and runs it in its own goroutine. Over
// MaxOperations, the client gets an error message for id instead, and the connection stays.
func (c *conn) startOperation(id string, params *graphql.RawParams) {
	c.mu.Lock()
	if c.finished {
		c.mu.Unlock()
		return
	}
	if len(c.ops) >= c.t.maxOperations() {
		c.mu.Unlock()
		err := &gqlerror.Error{
			Message:    fmt.Sprintf("Too many operations: at most %d may run at once on one connection", c.t.maxOperations()),
			Extensions: map[string]any{"code": codeTooManyOperations},
		}
		c.writeOperationError(nil, id, gqlerror.List{err})
		return
	}
	op := &operation{id: id, next: nextPrefix(c.legacy, id)}
	op.ctx, op.cancel = context.WithCancel(c.ctx)
	c.ops[id] = op
	c.wg.Add(1)
	c.mu.Unlock()
	go c.run(op, params)
}

// stopOperation ends the operation under id, if any, because the client asked: nothing more is
// sent for it, and the id is free at once. It reports whether there was one.
func (c *conn) stopOperation(id string) bool {
	c.mu.Lock()
	op := c.ops[id]
	delete(c.ops, id)
	c.mu.Unlock()
	if op == nil {
		return false
	}
	op.stopped.Store(true)
	op.cancel()
	return true
}

// detach frees the operation's id because the operation ended on its own; it reports whether
// op was still registered, i.e. the client has not stopped it and may still hear of it.
func (c *conn) detach(op *operation) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ops[op.id] != op {
		return false
	}
	delete(c.ops, op.id)
	return true
}

// run executes one operation through gqlgen's executor, so that its extensions, error
// presenter and recover func apply as for HTTP: it prepares the operation, then hands it to a
// goroutine of its own that sends its results (see deliver).
func (c *conn) run(op *operation, params *graphql.RawParams) {
	defer c.wg.Done()
	if d := c.prepare(op, params); d != nil {
		c.wg.Add(1)
		go c.deliver(d)
	}
}

// delivery is an operation prepared for execution, handed from run to deliver.
type delivery struct {
	op        *operation
	ctx       context.Context
	opCtx     *graphql.OperationContext
	responses graphql.ResponseHandler
	release   func() // ends the operation's contexts
}

// prepare waits for the acknowledgement and creates the operation's context; it returns nil
// when the operation ended already (its error, if any, sent), having released what it made.
func (c *conn) prepare(op *operation, params *graphql.RawParams) (d *delivery) {
	// Legacy clients may start operations before the ack; they wait for it here. (In
	// graphql-transport-ws, operations come only after it.)
	select {
	case <-c.ackCh:
	case <-op.ctx.Done():
		c.detach(op)
		op.cancel()
		return nil
	}
	c.mu.Lock()
	base := c.initCtx
	c.mu.Unlock()

	// The operation runs in Init's context (the user), and ends when the operation or the
	// connection does even if Init's context does not derive from the connection's.
	ctx, cancel := context.WithCancel(base)
	stop := context.AfterFunc(op.ctx, cancel)
	release := func() {
		stop()
		cancel()
		op.cancel()
	}
	ctx = context.WithValue(ctx, connKey{}, c)
	ctx = context.WithValue(ctx, operationKey{}, op)
	ctx = graphql.StartOperationTrace(ctx)

	var opCtx *graphql.OperationContext
	defer func() {
		// A panic outside the resolvers (which gqlgen recovers itself) must not take the whole
		// server down: the client gets it as the operation's error.
		if p := recover(); p != nil {
			c.detach(op)
			c.writeOperationError(op, op.id, gqlerror.List{c.presentPanic(ctx, opCtx, p)})
		}
		if d == nil {
			release()
		}
	}()

	opCtx, errs := c.exec.CreateOperationContext(ctx, params)
	if errs != nil {
		// Errors before execution (parsing, validation, variables, complexity) go out as an
		// error message, without complete, after the error presenter and the response
		// extensions have seen them, as over HTTP.
		resp := c.exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), errs)
		c.detach(op)
		c.writeOperationError(op, op.id, resp.Errors)
		return nil
	}
	responses, ctx := c.exec.DispatchOperation(graphql.WithOperationContext(ctx, opCtx), opCtx)
	return &delivery{op: op, ctx: ctx, opCtx: opCtx, responses: responses, release: release}
}

// deliver sends the results of a prepared operation until it ends. It runs on a goroutine of
// its own, started after the preparation, with a small frame: a subscription spends its life
// waiting in here for its next event, and a goroutine's stack, grown by the preparation (or by
// starting the subscription, which the first wait does), only shrinks back at a GC when the
// goroutine uses less than a quarter of it. The deeper the waiting goroutine's stack, the more
// every idle subscriber keeps.
func (c *conn) deliver(d *delivery) {
	defer c.wg.Done()
	defer d.release()
	op := d.op
	defer func() {
		if p := recover(); p != nil {
			c.detach(op)
			c.writeOperationError(op, op.id, gqlerror.List{c.presentPanic(d.ctx, d.opCtx, p)})
		}
	}()
	for {
		resp := d.responses(d.ctx)
		if resp == nil {
			break
		}
		payload := op.takeEncoded(resp)
		if payload == nil {
			var err error
			if payload, err = json.Marshal(resp); err != nil {
				panic(fmt.Errorf("marshal response: %w", err))
			}
		}
		if c.writeResult(op, payload) != nil {
			// The client completed the operation, or the connection is closing.
			c.detach(op)
			return
		}
	}
	// The id is freed before complete goes out: a client may reuse it as soon as it reads
	// complete. A client that completed the operation itself hears nothing more.
	if c.detach(op) {
		_ = c.write(op, outbound{Type: msgComplete, ID: op.id})
	}
}

// writeOperationError sends the error message of an operation: GraphQLError[] in
// graphql-transport-ws; in the legacy protocol, whose text makes the payload one error object
// (and whose clients, Apollo Kotlin's for one, read it as an object), the first error.
func (c *conn) writeOperationError(op *operation, id string, errs gqlerror.List) {
	if len(errs) == 0 {
		errs = gqlerror.List{{Message: "operation failed"}}
	}
	var payload []byte
	var err error
	if c.legacy {
		payload, err = json.Marshal(errs[0])
	} else {
		payload, err = json.Marshal(errs)
	}
	if err != nil {
		payload, _ = json.Marshal(gqlerror.List{{Message: "operation failed"}})
		if c.legacy {
			payload, _ = json.Marshal(&gqlerror.Error{Message: "operation failed"})
		}
	}
	_ = c.write(op, outbound{Type: msgError, ID: id, Payload: payload})
}

// presentPanic turns a recovered panic into the client's error through the server's recover
// func and error presenter, as gqlgen's handler does for HTTP.
func (c *conn) presentPanic(ctx context.Context, opCtx *graphql.OperationContext, p any) *gqlerror.Error {
	var err error
	if presenter, ok := c.exec.(interface {
		PresentRecoveredError(ctx context.Context, err any) error
	}); ok {
		err = presenter.PresentRecoveredError(ctx, p)
	} else if opCtx != nil && opCtx.RecoverFunc != nil {
		err = opCtx.RecoverFunc(ctx, p)
	} else {
		err = graphql.DefaultRecover(ctx, p)
	}
	var gqlErr *gqlerror.Error
	if errors.As(err, &gqlErr) && gqlErr != nil {
		return gqlErr
	}
	if err == nil {
		return &gqlerror.Error{Message: "internal system error"}
	}
	return &gqlerror.Error{Message: err.Error()}
}

// operationKey finds the operation in its context, for UseEncoded.
type operationKey struct{}

// UseEncoded tells the transport that resp, the response the operation of ctx is about to
// produce, is already encoded as payload (the json.Marshal of resp), so that it is sent as it is.
// Subscribers that run the same selection for the same event share one encoding this way, and
// each only adds its own envelope. Neither resp nor payload may change afterwards. It is a no-op
// outside a WebSocket operation; a response other than resp is encoded as usual.
func UseEncoded(ctx context.Context, resp *graphql.Response, payload []byte) {
	if op, ok := ctx.Value(operationKey{}).(*operation); ok {
		op.encodedResp, op.encoded = resp, payload
	}
}

// takeEncoded returns the encoding UseEncoded gave for resp, or nil, and forgets it, so that an
// idle subscriber does not keep the last event's bytes.
func (op *operation) takeEncoded(resp *graphql.Response) []byte {
	payload := op.encoded
	if op.encodedResp != resp {
		payload = nil
	}
	op.encodedResp, op.encoded = nil, nil
	return payload
}

// nextPrefix is the beginning of the operation's result messages, up to their payload: the
// message type ("next", or "data" in the legacy protocol) and the id, which the client chose.
func nextPrefix(legacy bool, id string) []byte {
	typ := msgNext
	if legacy {
		typ = msgData
	}
	quotedID, _ := json.Marshal(id) // a string always encodes
	b := make([]byte, 0, len(`{"type":"","id":,"payload":`)+len(typ)+len(quotedID))
	b = append(b, `{"type":"`...)
	b = append(b, typ...)
	b = append(b, `","id":`...)
	b = append(b, quotedID...)
	return append(b, `,"payload":`...)
}
