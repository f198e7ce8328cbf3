package sportello

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"slices"
	"time"
)

// Position is where an event stands in the feed. Events are ordered by the id of the
// transaction that wrote them, then by their own id. Event ids are handed out at insert time but
// become visible at commit time, out of order; transaction ids are not in commit order either,
// but a reader that reads only events whose transaction is older than every transaction still in
// flight never sees an older position appear after a newer one, so a cursor never skips an event.
type Position struct {
	TxID    uint64
	EventID int64
}

// Less orders positions.
func (p Position) Less(q Position) bool {
	return p.TxID < q.TxID || (p.TxID == q.TxID && p.EventID < q.EventID)
}

// Cursor encodes the position for clients; it is opaque to them.
func (p Position) Cursor() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], p.TxID)
	binary.BigEndian.PutUint64(b[8:], uint64(p.EventID))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ParseCursor reads a cursor a client got from an event. Errors: BAD_USER_INPUT naming field.
func ParseCursor(field, s string) (Position, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 16 {
		return Position{}, InvalidField(field, "is not a cursor of an event")
	}
	return Position{TxID: binary.BigEndian.Uint64(b[:8]), EventID: int64(binary.BigEndian.Uint64(b[8:]))}, nil
}

// EventFilter narrows the events of a feed to tickets of some offices, kinds or statuses (the
// ticket's current values). Zero fields do not filter. With a Topic, the feed carries that
// topic's events instead of ticket events, and the ticket fields are ignored.
type EventFilter struct {
	OfficeIDs []string
	Kinds     []Kind
	Statuses  []Status
	Topic     string
}

// Validate checks the filter; it returns BAD_USER_INPUT naming the field at fault.
func (f *EventFilter) Validate() error {
	for _, k := range f.Kinds {
		if !k.Valid() {
			return InvalidField("filter.kinds", "unknown kind %q", k)
		}
	}
	for _, s := range f.Statuses {
		if !s.Valid() {
			return InvalidField("filter.statuses", "unknown status %q", s)
		}
	}
	return nil
}

// Matches reports whether the event passes the filter: a topic event of the filter's topic, or
// a ticket event, carrying its ticket, whose ticket passes the ticket fields.
func (f *EventFilter) Matches(e *Event) bool {
	if e.Topic != f.Topic {
		return false
	}
	if e.Topic != "" {
		return true
	}
	t := e.Ticket
	return t != nil && (len(f.OfficeIDs) == 0 || slices.Contains(f.OfficeIDs, t.OfficeID)) &&
		(len(f.Kinds) == 0 || slices.Contains(f.Kinds, t.Kind)) &&
		(len(f.Statuses) == 0 || slices.Contains(f.Statuses, t.Status))
}

// Audience is who a feed is for: the staff of a tenant, or one citizen.
type Audience struct {
	TenantID  string
	Staff     bool
	CitizenID string // for citizens: only their own and followed tickets, never internal events
}

// Sees reports whether the audience may receive the event. A ticket event must carry its ticket.
// A topic event for one citizen goes to that citizen only; other topic events go to everyone in
// the tenant, anonymous callers included.
func (a *Audience) Sees(e *Event) bool {
	if e.Topic != "" {
		return e.TenantID == a.TenantID && (e.CitizenID == "" || (a.CitizenID != "" && e.CitizenID == a.CitizenID))
	}
	if e.Ticket == nil || e.Ticket.TenantID != a.TenantID {
		return false
	}
	if a.Staff {
		return true
	}
	return !e.Internal && a.CitizenID != "" &&
		(e.Ticket.CitizenID == a.CitizenID || slices.Contains(e.Ticket.FollowerIDs, a.CitizenID))
}

// EventLog reads committed events from the store: the truth the live feed is built on.
type EventLog interface {
	// Head returns the position up to which every event is safe to read now.
	Head(ctx context.Context) (Position, error)
	// Tail returns up to limit events of every tenant after the position, in order, reading
	// only events that are safe to read (see Position), each with its ticket as it is now.
	Tail(ctx context.Context, after Position, limit int) ([]*Event, error)
	// Replay returns up to limit events after the position and no later than upTo that the
	// audience sees, in order: ticket events, each with its ticket as it is now, or with a topic
	// the events of that topic. upTo must be a position read as safe (from Head or Tail): every
	// event up to it is returned, even if what is safe to read has fallen back below it since.
	Replay(ctx context.Context, a Audience, topic string, after, upTo Position, limit int) ([]*Event, error)
}

// EventNotifier is told, after a transaction that wrote events commits, which tenant's events
// changed, so that the live feed can wake up at once instead of at its next poll.
type EventNotifier interface {
	EventsCommitted(ctx context.Context, tenantID string)
}

// Stream is a subscription: C delivers its values in order and is closed when the subscriber's
// context ends or the feed drops the subscriber; Err then tells why (nil when ctx ended).
type Stream[T any] struct {
	C   <-chan T
	Err func() error
}

// WithStreamEnd returns a context in which the streams a Feed opens call end with the reason
// when the feed ends them on its own (ErrSlowConsumer, ErrShuttingDown, or a failure), just
// before their channel is closed; end is not called when the stream ends because its context
// did. It lets the consumer of C, which sees only a closed channel, act on the reason first (the
// GraphQL layer closes the WebSocket with a code that tells the client to reconnect), without a
// goroutine of its own relaying the stream to wait for the end. end is called at most once per
// stream, possibly while the feed holds its locks: it must not block and must not call the feed.
func WithStreamEnd(ctx context.Context, end func(error)) context.Context {
	return context.WithValue(ctx, streamEndKey{}, end)
}

// StreamEnd returns the function WithStreamEnd put in ctx, or nil. Feeds call it when they end
// a stream on their own.
func StreamEnd(ctx context.Context) func(error) {
	end, _ := ctx.Value(streamEndKey{}).(func(error))
	return end
}

type streamEndKey struct{}

// Why a feed ends a stream on its own.
var (
	// ErrSlowConsumer: the subscriber did not read its events and its buffer filled up. It
	// should reconnect with the cursor of the last event it processed.
	ErrSlowConsumer = &Error{Code: CodeRateLimited, Message: "subscriber too slow: reconnect with the cursor of the last event you processed"}
	// ErrShuttingDown: the server is stopping. Reconnect (to another instance) with the cursor.
	ErrShuttingDown = &Error{Code: CodeInternal, Message: "server shutting down: reconnect with the cursor of the last event you processed"}
)

// Feed streams ticket events to subscribers, replaying from a cursor and then live.
type Feed interface {
	// TicketEvents streams the tenant's events matching the filter to staff, after the cursor
	// (replayed from the store) or from now. Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT.
	TicketEvents(ctx context.Context, filter EventFilter, after string) (*Stream[*Event], error)
	// MyTicketEvents streams a citizen's own events, without internal notes. Errors:
	// UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT.
	MyTicketEvents(ctx context.Context, after string) (*Stream[*Event], error)
	// DashboardChanges streams the tenant's dashboard, first as it is and then whenever it
	// changes (at most about once a second). Errors: UNAUTHENTICATED, FORBIDDEN.
	DashboardChanges(ctx context.Context) (*Stream[*Dashboard], error)
}

// Dashboard is the desk's view of its workload.
type Dashboard struct {
	At           time.Time
	OpenByStatus map[Status]int
	OpenByOffice map[string]int // office id; "" for tickets not yet assigned to an office
	Overdue      int
	FiledToday   map[Channel]int // since midnight in Rome
}

// DashboardService computes dashboards.
type DashboardService interface {
	// Dashboard returns the caller's tenant's dashboard. Errors: UNAUTHENTICATED, FORBIDDEN.
	Dashboard(ctx context.Context) (*Dashboard, error)
	// TenantDashboard returns a tenant's dashboard without checking the caller: for the feed,
	// which computes it once for all the tenant's subscribers.
	TenantDashboard(ctx context.Context, tenantID string) (*Dashboard, error)
}
