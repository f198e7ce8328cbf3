package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/graph/websocket"
	"github.com/vektah/gqlparser/v2/ast"
)

// Subscribers that run the same operation with the same variables, as the same audience, get
// the same response for an event the feed hands to all of them: the dispatcher hands every
// subscriber the same *sportello.Event (or *sportello.Dashboard). Executing the selection and
// encoding the response once per event for all of them, instead of once per subscriber, is most
// of the server's work at a large fanout. So the subscribers are grouped by what decides their
// response (see groupKey), and for each event the first member of the group to take it executes
// the selection as usual, through every middleware and the error presenter; the others wait for
// its response and send it as it is encoded (websocket.UseEncoded).
//
// Each subscriber still takes its events from its own stream, in its own order, on its own
// goroutine: replays from a cursor, catching up after falling behind, slow-consumer drops and
// connection closes are the feed's and the transport's as before. Only responses without
// errors are shared: an error is about one execution (and its request id), so a member that
// finds the group's execution failed runs its own.
//
// The selection of an event is taken between the stream and gqlgen: the resolver hands gqlgen a
// relay channel instead of the stream's, and the response middleware takes each value from the
// stream, looks for the group's response to it, and only when it must execute passes the value
// on to the relay, from which gqlgen reads it at once.

// shareRecent is how many events' responses a group remembers: members a burst of events apart
// still find the response of the one they take, while a group keeps a bounded amount of memory.
const shareRecent = 16

// shares groups the subscriptions of one GraphQL handler.
type shares struct {
	mu     sync.Mutex
	groups map[string]*shareGroup
}

// shareGroup is the subscriptions that get the same response for an event.
type shareGroup struct {
	key     string
	members atomic.Int32 // changed under shares.mu

	mu     sync.Mutex
	recent [shareRecent]*sharedResponse
	next   int // where the next event goes in recent
}

// sharedResponse is the group's response to one event, filled by the member that executes it.
type sharedResponse struct {
	// event is what the stream handed over; holding it keeps its address from being reused by
	// another event while it is remembered.
	event any
	done  chan struct{} // closed once data and payload are set, or the execution failed
	// data is the response's data and payload its encoding; both nil when the execution
	// failed or had errors, and each member must execute for itself.
	data    json.RawMessage
	payload []byte
}

// subscription is the state of one subscription for sharing, in its operation's context:
// created for every subscription by the operation middleware, given a stream and a group by the
// resolver when the subscription's events can be shared.
type subscription struct {
	shares *shares
	stream relayStream
	group  *shareGroup
}

type subscriptionKey struct{}

// relayStream is a feed's stream of one type with the relay gqlgen reads from.
type relayStream interface {
	// take waits for the stream's next value; ok is false when the stream or ctx has ended.
	take(ctx context.Context) (v any, ok bool)
	// pass hands a value taken to gqlgen, which reads it right after.
	pass(v any)
}

type relay[T any] struct {
	in  <-chan T
	out chan T // capacity 1: pass never waits
}

func (r *relay[T]) take(ctx context.Context) (any, bool) {
	select {
	case v, ok := <-r.in:
		return v, ok
	case <-ctx.Done():
		return nil, false
	}
}

func (r *relay[T]) pass(v any) { r.out <- v.(T) }

func newShares() *shares {
	return &shares{groups: map[string]*shareGroup{}}
}

// aroundOperations gives every subscription its sharing state; other operations pass through.
func (s *shares) aroundOperations(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if op := graphql.GetOperationContext(ctx).Operation; op == nil || op.Operation != ast.Subscription {
		return next(ctx)
	}
	return next(context.WithValue(ctx, subscriptionKey{}, &subscription{shares: s}))
}

// shareStream returns the channel the subscription's resolver hands gqlgen for the feed's
// stream in: a relay through which the response middleware shares the execution of each event
// with the subscription's group, or in itself when the subscription cannot share (outside the
// handler, or an anonymous caller).
func shareStream[T comparable](ctx context.Context, in <-chan T) <-chan T {
	sub, ok := ctx.Value(subscriptionKey{}).(*subscription)
	if !ok {
		return in
	}
	key, ok := groupKey(ctx)
	if !ok {
		return in
	}
	r := &relay[T]{in: in, out: make(chan T, 1)}
	sub.stream = r
	sub.group = sub.shares.join(key)
	// The resolver's context ends with the subscription: it leaves its group then.
	context.AfterFunc(ctx, func() { sub.shares.leave(sub.group) })
	return r.out
}

// aroundResponses produces each response of a sharing subscription: the group's, or its own
// execution, which it then offers to the group.
func (s *shares) aroundResponses(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	sub, ok := ctx.Value(subscriptionKey{}).(*subscription)
	if !ok || sub.stream == nil {
		return next(ctx)
	}
	v, ok := sub.stream.take(ctx)
	if !ok {
		// The stream ended (the feed said why, through the stream's end func) or the
		// subscription did: nothing more to send.
		return nil
	}
	g := sub.group
	if g.members.Load() < 2 {
		// Alone in its group (a citizen's own stream, mostly): nobody to share with, nothing
		// worth remembering.
		sub.stream.pass(v)
		return next(ctx)
	}
	shared, mine := g.claim(v)
	if !mine {
		select {
		case <-shared.done:
		case <-ctx.Done():
			return nil
		}
		if shared.payload != nil {
			resp := &graphql.Response{Data: shared.data}
			websocket.UseEncoded(ctx, resp, shared.payload)
			return resp
		}
		sub.stream.pass(v)
		return next(ctx)
	}
	// Closed however the execution ends, a panic included, so that the members waiting for it
	// carry on by themselves.
	defer close(shared.done)
	sub.stream.pass(v)
	resp := next(ctx)
	if resp == nil || len(resp.Errors) > 0 || len(resp.Extensions) > 0 || resp.Data == nil {
		return resp
	}
	payload, err := json.Marshal(resp)
	if err != nil {
		return resp
	}
	// The executor reuses the buffer of Data for the subscription's next event.
	shared.data, shared.payload = bytes.Clone(resp.Data), payload
	websocket.UseEncoded(ctx, resp, payload)
	return resp
}

// join adds a member to the group of key, creating it.
func (s *shares) join(key string) *shareGroup {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[key]
	if g == nil {
		g = &shareGroup{key: key}
		s.groups[key] = g
	}
	g.members.Add(1)
	return g
}

// leave removes a member from its group, which is forgotten with its last member.
func (s *shares) leave(g *shareGroup) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g.members.Add(-1) == 0 && s.groups[g.key] == g {
		delete(s.groups, g.key)
	}
}

// claim returns the group's response to event and whether the caller is the member to execute
// it: the first to take the event, or one that finds it forgotten already.
func (g *shareGroup) claim(event any) (*sharedResponse, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, r := range g.recent {
		if r != nil && r.event == event {
			return r, false
		}
	}
	r := &sharedResponse{event: event, done: make(chan struct{})}
	g.recent[g.next] = r
	g.next = (g.next + 1) % shareRecent
	return r, true
}

// groupKey is what decides a subscription's responses to an event, other than the event: the
// operation (its text, which includes the arguments written in it, and its name), the variables,
// and the audience. Staff see a tenant's tickets alike, by role; anyone else may see an event
// differently from another person (a citizen following someone else's ticket does not see its
// author), so each of them is an audience of their own. The variable of the root field's
// "after" cursor, if used nowhere else, is left out: it chooses the events replayed, not how an
// event looks, so clients resuming from different cursors still share the live events. It
// reports false when the caller is anonymous.
func groupKey(ctx context.Context) (string, bool) {
	u := sportello.UserFrom(ctx)
	oc := graphql.GetOperationContext(ctx)
	fc := graphql.GetFieldContext(ctx)
	if u.Anonymous() || oc == nil || fc == nil {
		return "", false
	}
	vars := oc.Variables
	if name := cursorVariable(fc.Field.Field); name != "" {
		vars = maps.Clone(vars)
		delete(vars, name)
	}
	roles := make([]string, 0, len(u.Roles))
	for _, r := range u.Roles {
		roles = append(roles, string(r))
	}
	slices.Sort(roles)
	roles = slices.Compact(roles)
	who := ""
	if !u.IsStaff() || u.HasRole(sportello.RoleCitizen) {
		who = u.Subject
	}
	// Encoding the parts as one JSON array keeps them apart whatever they contain; the
	// variables' maps encode with sorted keys.
	key, err := json.Marshal([]any{u.TenantID, roles, who, oc.OperationName, oc.RawQuery, vars})
	if err != nil {
		return "", false
	}
	return string(key), true
}

// cursorVariable returns the variable given as the field's "after" argument when the operation
// uses it nowhere else, or "".
func cursorVariable(f *ast.Field) string {
	after := f.Arguments.ForName("after")
	if after == nil || after.Value == nil || after.Value.Kind != ast.Variable {
		return ""
	}
	name := after.Value.Raw
	for _, a := range f.Arguments {
		if a != after && usesVariable(a.Value, name) {
			return ""
		}
	}
	if directivesUse(f.Directives, name) || selectionsUse(f.SelectionSet, name, map[string]bool{}) {
		return ""
	}
	return name
}

// selectionsUse reports whether a selection set uses the variable; seen stops fragment cycles.
func selectionsUse(set ast.SelectionSet, name string, seen map[string]bool) bool {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			for _, a := range sel.Arguments {
				if usesVariable(a.Value, name) {
					return true
				}
			}
			if directivesUse(sel.Directives, name) || selectionsUse(sel.SelectionSet, name, seen) {
				return true
			}
		case *ast.InlineFragment:
			if directivesUse(sel.Directives, name) || selectionsUse(sel.SelectionSet, name, seen) {
				return true
			}
		case *ast.FragmentSpread:
			if directivesUse(sel.Directives, name) {
				return true
			}
			if sel.Definition != nil && !seen[sel.Name] {
				seen[sel.Name] = true
				if selectionsUse(sel.Definition.SelectionSet, name, seen) {
					return true
				}
			}
		}
	}
	return false
}

func directivesUse(ds ast.DirectiveList, name string) bool {
	for _, d := range ds {
		for _, a := range d.Arguments {
			if usesVariable(a.Value, name) {
				return true
			}
		}
	}
	return false
}

func usesVariable(v *ast.Value, name string) bool {
	if v == nil {
		return false
	}
	if v.Kind == ast.Variable {
		return v.Raw == name
	}
	for _, c := range v.Children {
		if usesVariable(c.Value, name) {
			return true
		}
	}
	return false
}
