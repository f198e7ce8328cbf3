package live

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	sportello "github.com/sportello/sportello"
)

// eventSub is one subscriber to ticket events. While it keeps up, it has no goroutine: the
// dispatcher sends each event it should see straight into the stream's buffered channel, without
// ever waiting. A goroutine (pump) exists only while the subscriber replays from a cursor or
// catches up after it fell behind; meanwhile the dispatcher sets the live events aside in pending
// for it, and when it has handed everything over it leaves the subscriber to the dispatcher
// again. When the subscriber's context ends, context.AfterFunc ends the stream (or the pump
// does, if one runs).
type eventSub struct {
	aud    sportello.Audience
	filter sportello.EventFilter
	// out is the stream's channel, buffered (Config.Buffer): the subscriber's queue.
	out chan *sportello.Event
	// The fields up to lagSince are guarded by the hub's mu.
	//
	// liveAfter is the position after which the dispatcher hands events over: the hub's cursor
	// when the subscriber (re)joined the live feed, or the client's cursor when that is further
	// on.
	liveAfter sportello.Position
	// pumping says that a pump goroutine owns the sending side of out: the dispatcher appends
	// the live events to pending (at most Buffer of them) instead of sending them.
	pumping bool
	pending []*sportello.Event
	// ended: the stream is over and out closed.
	ended bool
	// lagSince is when (Hub.clock) the subscriber fell behind: an event did not fit in its
	// channel (or, while a pump runs, in pending). The dispatcher then hands nothing more over,
	// and the pump, once it has handed over what was set aside, catches up from the log and
	// clears lagSince as it rejoins. 0 while it keeps up. Written under the hub's mu.
	lagSince atomic.Int64
	// blockedSince is when (Hub.clock) the pump began waiting for the transport to take an
	// event, 0 when it is not waiting for it.
	blockedSince atomic.Int64
	ctx          context.Context
	cancel       context.CancelCauseFunc
	stopAfter    func() bool // unregisters the AfterFunc that ends the stream with ctx
	end          func(error) // sportello.StreamEnd of the subscriber's context
	result
}

// stuckFor is how long a subscriber that fell behind has been stuck: how long its pump has been
// waiting to hand a single event over to the transport (its channel full: the client takes
// nothing), counted from when it fell behind at the earliest. A subscriber that keeps up, or
// whose pump is reading the log, is not stuck (0): it is not its client's fault that it has
// nothing to hand over. So a client that takes each event within SlowAfter is never dropped,
// however far behind it is; one that stops reading is dropped SlowAfter after it fell behind or
// stopped reading, whichever is later.
func (s *eventSub) stuckFor(now time.Duration) time.Duration {
	lag, blocked := s.lagSince.Load(), s.blockedSince.Load()
	if lag == 0 || blocked == 0 {
		return 0
	}
	return now - time.Duration(max(lag, blocked))
}

// wants reports whether the subscriber should get the event live.
func (s *eventSub) wants(e *sportello.Event) bool {
	return s.liveAfter.Less(e.Position) && s.aud.Sees(e) && s.filter.Matches(e)
}

// dashSub is one subscriber to a tenant's dashboard. Dashboards are states, not changes, so it
// keeps only the latest one the hub computed: a slow reader skips the intermediate ones and
// is never dropped, and its memory is one pointer.
type dashSub struct {
	mu     sync.Mutex
	latest *sportello.Dashboard
	signal chan struct{} // capacity 1: latest changed
	ctx    context.Context
	cancel context.CancelCauseFunc
	end    func(error) // sportello.StreamEnd of the subscriber's context
	result
}

func (s *dashSub) deliver(d *sportello.Dashboard) {
	s.mu.Lock()
	s.latest = d
	s.mu.Unlock()
	select {
	case s.signal <- struct{}{}:
	default:
	}
}

func (s *dashSub) take() *sportello.Dashboard {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.latest
	s.latest = nil
	return d
}

// result is why a stream ended, set before its channel is closed.
type result struct {
	mu  sync.Mutex
	err error
}

func (r *result) set(err error) {
	r.mu.Lock()
	r.err = err
	r.mu.Unlock()
}

// Err returns why the stream ended: nil while it runs and when the subscriber's context ended.
func (r *result) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// why turns the cause of a subscriber's cancellation into the stream's error: the feed's own
// reasons are reported, the subscriber's own cancellation is not an error.
func why(ctx context.Context, failure error) error {
	if failure != nil {
		return failure
	}
	cause := context.Cause(ctx)
	for _, reason := range []error{sportello.ErrSlowConsumer, sportello.ErrShuttingDown} {
		if errors.Is(cause, reason) {
			return reason
		}
	}
	return nil
}

// TicketEvents streams the tenant's events matching the filter to staff, replaying from the
// cursor after when it is given. Errors: UNAUTHENTICATED, FORBIDDEN (not staff), BAD_USER_INPUT
// (filter, after), INTERNAL (ErrShuttingDown when the hub is stopping).
func (h *Hub) TicketEvents(ctx context.Context, filter sportello.EventFilter, after string) (*sportello.Stream[*sportello.Event], error) {
	u := sportello.UserFrom(ctx)
	if u.Anonymous() {
		return nil, sportello.ErrUnauthenticated
	}
	if !u.IsStaff() {
		return nil, sportello.ErrForbidden
	}
	if err := filter.Validate(); err != nil {
		return nil, err
	}
	from, err := parseAfter(after)
	if err != nil {
		return nil, err
	}
	// The filter is copied so that the caller cannot change it under the dispatcher.
	filter = sportello.EventFilter{OfficeIDs: slices.Clone(filter.OfficeIDs), Kinds: slices.Clone(filter.Kinds),
		Statuses: slices.Clone(filter.Statuses)}
	return h.subscribe(ctx, sportello.Audience{TenantID: u.TenantID, Staff: true}, filter, from)
}

// MyTicketEvents streams the signed-in citizen's own events, without internal notes, replaying
// from the cursor after when it is given. Errors: UNAUTHENTICATED, FORBIDDEN (not a citizen),
// BAD_USER_INPUT (after), INTERNAL (ErrShuttingDown when the hub is stopping).
func (h *Hub) MyTicketEvents(ctx context.Context, after string) (*sportello.Stream[*sportello.Event], error) {
	u := sportello.UserFrom(ctx)
	if u.Anonymous() {
		return nil, sportello.ErrUnauthenticated
	}
	if !u.HasRole(sportello.RoleCitizen) {
		return nil, sportello.ErrForbidden
	}
	from, err := parseAfter(after)
	if err != nil {
		return nil, err
	}
	if h.cfg.Citizens == nil {
		return nil, errors.New("live: no citizen service configured")
	}
	me, err := h.cfg.Citizens.Me(ctx)
	if err != nil {
		return nil, fmt.Errorf("find the subscribing citizen: %w", err)
	}
	return h.subscribe(ctx, sportello.Audience{TenantID: u.TenantID, CitizenID: me.ID}, sportello.EventFilter{}, from)
}

// TopicEvents streams a topic's events of the caller's tenant: those for everyone and, for a
// signed-in citizen, their own. Anonymous callers may subscribe: what a topic sends to everyone
// is public (announcements of published content). Errors: BAD_USER_INPUT (after), INTERNAL
// (ErrShuttingDown when the hub is stopping).
func (h *Hub) TopicEvents(ctx context.Context, topic string, after string) (*sportello.Stream[*sportello.TopicEvent], error) {
	u := sportello.UserFrom(ctx)
	from, err := parseAfter(after)
	if err != nil {
		return nil, err
	}
	aud := sportello.Audience{TenantID: u.TenantID}
	if u.HasRole(sportello.RoleCitizen) {
		if h.cfg.Citizens == nil {
			return nil, errors.New("live: no citizen service configured")
		}
		me, err := h.cfg.Citizens.Me(ctx)
		if err != nil {
			return nil, fmt.Errorf("find the subscribing citizen: %w", err)
		}
		aud.CitizenID = me.ID
	}
	in, err := h.subscribe(ctx, aud, sportello.EventFilter{Topic: topic}, from)
	if err != nil {
		return nil, err
	}
	// The hub's subscribers carry *sportello.Event; a small relay hands their topic events on.
	// Topic subscribers are few next to ticket subscribers (one per open app or portal), so
	// the goroutine costs little.
	out := make(chan *sportello.TopicEvent)
	go func() {
		defer close(out)
		for e := range in.C {
			select {
			case out <- sportello.TopicEventOf(e):
			case <-ctx.Done():
				// The hub ends the stream now that ctx is done; draining lets it close.
				for range in.C {
				}
				return
			}
		}
	}()
	return &sportello.Stream[*sportello.TopicEvent]{C: out, Err: in.Err}, nil
}

// parseAfter reads the optional cursor. Errors: BAD_USER_INPUT naming "after".
func parseAfter(after string) (*sportello.Position, error) {
	if after == "" {
		return nil, nil
	}
	p, err := sportello.ParseCursor("after", after)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// subscribe registers an event subscriber, with a pump goroutine only when it has events to
// replay. Errors: ErrShuttingDown, ctx.Err().
func (h *Hub) subscribe(ctx context.Context, aud sportello.Audience, filter sportello.EventFilter, from *sportello.Position) (*sportello.Stream[*sportello.Event], error) {
	if err := h.waitReady(ctx); err != nil {
		return nil, err
	}
	s := &eventSub{aud: aud, filter: filter, out: make(chan *sportello.Event, h.cfg.Buffer), end: sportello.StreamEnd(ctx)}
	s.ctx, s.cancel = context.WithCancelCause(ctx)

	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		s.cancel(nil)
		return nil, sportello.ErrShuttingDown
	}
	replay, upTo := h.joinLocked(s, from)
	// Registered under mu, so that the stream cannot end before stopAfter is set; if ctx has
	// ended already, the func runs as soon as mu is released.
	s.stopAfter = context.AfterFunc(s.ctx, func() { h.endedByContext(s) })
	if replay {
		s.pumping = true
		h.wg.Add(1)
		go h.pump(s, *from, upTo, true)
	}
	return &sportello.Stream[*sportello.Event]{C: s.out, Err: s.Err}, nil
}

// joinLocked registers s, a new subscriber or one that caught up, for the live events: the
// dispatcher hands it the events after the hub's cursor, or after from when that is further
// on. It returns whether the events after from and up to upTo must be replayed from the log
// first; from nil means from now, with nothing to replay.
func (h *Hub) joinLocked(s *eventSub, from *sportello.Position) (replay bool, upTo sportello.Position) {
	// Everything up to the cursor has been dispatched already and everything after it will be
	// dispatched to s: the replay reads up to the cursor and pending takes over from there.
	upTo = h.cursor
	s.liveAfter = upTo
	replay = from != nil && from.Less(upTo)
	if from != nil && !replay {
		// A client from a process whose reader is ahead of this one's: nothing to replay, and
		// the events up to its cursor, which it has, must not come again.
		s.liveAfter = *from
	}
	s.lagSince.Store(0)
	delete(h.lagging, s)
	t := h.tenantLocked(s.aud.TenantID)
	t.events[s] = struct{}{}
	return replay, upTo
}

// handOverLocked gives a live event to a subscriber that should see it, for the dispatcher:
// straight into its channel, or to pending while a pump runs. after is a position up to which
// the subscriber has had every event it should see (the cursor before e). When the event does
// not fit, the subscriber falls behind, and a pump catches it up from the log.
func (h *Hub) handOverLocked(t *tenant, s *eventSub, e *sportello.Event, after sportello.Position, now *time.Duration) {
	if s.pumping {
		if len(s.pending) < h.cfg.Buffer {
			s.pending = append(s.pending, e)
			return
		}
	} else {
		select {
		case s.out <- e:
			return
		default:
		}
	}
	if *now == 0 {
		*now = h.clock()
	}
	s.lagSince.Store(int64(*now))
	h.lagging[s] = t
	if !s.pumping {
		// Everything up to after is in the channel; the pump catches up from there once the
		// client has taken some.
		if after.Less(s.liveAfter) {
			after = s.liveAfter
		}
		s.pumping = true
		h.wg.Add(1)
		go h.pump(s, after, sportello.Position{}, false)
	}
}

// pump is the goroutine of an event subscriber that replays or catches up. It starts with
// every event the subscriber should see up to last handed over (or, with replay, to be replayed
// up to upTo). It hands over what the dispatcher set aside, catches up from the log when the
// subscriber fell behind, and returns when the subscriber is live again, leaving it to the
// dispatcher, or when the stream ends, which it then ends.
func (h *Hub) pump(s *eventSub, last, upTo sportello.Position, replay bool) {
	defer h.wg.Done()
	var failure error
	if replay {
		failure = h.replay(s, last, upTo)
		last = upTo
	}
	for failure == nil && s.ctx.Err() == nil {
		h.mu.Lock()
		if h.closed || s.ctx.Err() != nil {
			h.mu.Unlock()
			break
		}
		if len(s.pending) > 0 {
			batch := s.pending
			s.pending = nil
			h.mu.Unlock()
			for _, e := range batch {
				if !h.send(s, e) {
					break
				}
				last = e.Position
			}
			continue
		}
		if s.lagSince.Load() != 0 {
			// It fell behind, so nothing more was set aside: the events after last are in the
			// log.
			h.mu.Unlock()
			last, failure = h.catchUp(s, last)
			continue
		}
		// Everything dispatched so far is in the channel: the dispatcher takes over.
		s.pumping = false
		h.mu.Unlock()
		return
	}
	h.mu.Lock()
	s.pumping = false
	h.endLocked(s, failure)
	h.mu.Unlock()
}

// send hands an event over to the transport, noting how long it waits (see stuckFor). It
// returns false when the subscriber's context ends first.
func (h *Hub) send(s *eventSub, e *sportello.Event) bool {
	select {
	case s.out <- e: // there is room: no need to read the clock
		return true
	default:
	}
	s.blockedSince.Store(int64(h.clock()))
	defer s.blockedSince.Store(0)
	select {
	case s.out <- e:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// catchUp brings a subscriber that fell behind, and whose set-aside events have been handed
// over, back to the live feed. It first replays from the log, while the dispatcher still skips
// it, the events after last up to the hub's cursor now, however many there are; then it joins
// the live feed again as a subscription resuming from that cursor does, replaying what the
// reader dispatched meanwhile while pending takes the events after. It returns the position up
// to which the subscriber has had its events, and an error when the log keeps failing.
func (h *Hub) catchUp(s *eventSub, last sportello.Position) (sportello.Position, error) {
	h.catchUps.Add(1)
	h.mu.Lock()
	upTo := h.cursor
	h.mu.Unlock()
	if last.Less(upTo) {
		if err := h.replay(s, last, upTo); err != nil || s.ctx.Err() != nil {
			return last, err
		}
		last = upTo
	}
	h.mu.Lock()
	if h.closed || s.ctx.Err() != nil {
		// Shut down, dropped or gone: the context says which, and s must not be registered
		// again.
		h.mu.Unlock()
		return last, nil
	}
	replay, upTo := h.joinLocked(s, &last)
	h.mu.Unlock()
	if replay {
		if err := h.replay(s, last, upTo); err != nil {
			return last, err
		}
		last = upTo
	}
	return last, nil
}

// replay sends the subscriber's events after from and up to upTo, page by page, while the
// dispatcher sets the live ones aside. It returns an error when the log keeps failing; the
// client then reconnects with its last cursor.
func (h *Hub) replay(s *eventSub, from, upTo sportello.Position) error {
	limit := h.replayPageSize()
	for {
		page, err := h.replayPage(s, from, upTo, limit)
		if err != nil {
			return err
		}
		for _, e := range page {
			from = e.Position
			// The log applies the audience already; checking again costs nothing and keeps an
			// internal note from ever reaching a citizen through a mistake in a query.
			if !s.aud.Sees(e) || !s.filter.Matches(e) {
				continue
			}
			if !h.send(s, e) {
				return nil
			}
		}
		if len(page) < limit {
			return nil
		}
		if h.replayHook != nil {
			h.replayHook()
		}
	}
}

// replayPageSize is how many events a page of a replay holds: no more than the subscriber's
// buffer, so that a subscriber catching up from the log holds no more than one that keeps up.
func (h *Hub) replayPageSize() int {
	return min(h.pageSize, h.cfg.Buffer)
}

// replayPage reads one page of a replay, retrying briefly when PostgreSQL fails.
func (h *Hub) replayPage(s *eventSub, from, upTo sportello.Position, limit int) ([]*sportello.Event, error) {
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		page, err := h.cfg.Log.Replay(s.ctx, s.aud, s.filter.Topic, from, upTo, limit)
		if err == nil || s.ctx.Err() != nil {
			return page, nil
		}
		if attempt == 3 {
			return nil, fmt.Errorf("live: replay: %w", err)
		}
		h.warnPostgres("replay a subscriber's events", err)
		select {
		case <-s.ctx.Done():
			return nil, nil
		case <-time.After(backoff):
		}
		backoff *= 4
	}
}

// endedByContext ends the stream of a subscriber whose context ended (its client went away, or
// the hub dropped it or shut down), unless a pump runs, which ends it itself.
func (h *Hub) endedByContext(s *eventSub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !s.pumping {
		h.endLocked(s, nil)
	}
}

// endLocked ends an event subscriber's stream, once: it removes the subscriber, sets why the
// stream ended, tells the subscriber's StreamEnd func when the feed ended it on its own, and
// closes the channel. Nothing sends to the channel any more: the dispatcher sends only to the
// registered subscribers, under mu, and no pump runs.
func (h *Hub) endLocked(s *eventSub, failure error) {
	if s.ended {
		return
	}
	s.ended = true
	delete(h.lagging, s)
	if t := h.tenants[s.aud.TenantID]; t != nil {
		delete(t.events, s)
		h.forgetLocked(t)
	}
	s.pending = nil
	s.stopAfter()
	err := why(s.ctx, failure)
	s.set(err)
	if err != nil && s.end != nil {
		s.end(err)
	}
	close(s.out)
	s.cancel(nil) // releases the context once the stream is over
}

// DashboardChanges streams the staff member's tenant's dashboard: at once, then after events of
// the tenant, recomputed at most once per DashboardInterval for all the tenant's subscribers and
// sent only when it differs from the last one sent. The dashboards are shared between
// subscribers and must not be modified. Errors: UNAUTHENTICATED, FORBIDDEN (not staff),
// INTERNAL (ErrShuttingDown when the hub is stopping).
func (h *Hub) DashboardChanges(ctx context.Context) (*sportello.Stream[*sportello.Dashboard], error) {
	u := sportello.UserFrom(ctx)
	if u.Anonymous() {
		return nil, sportello.ErrUnauthenticated
	}
	if !u.IsStaff() {
		return nil, sportello.ErrForbidden
	}
	if h.cfg.Dashboards == nil {
		return nil, errors.New("live: no dashboard service configured")
	}
	if err := h.waitReady(ctx); err != nil {
		return nil, err
	}
	s := &dashSub{signal: make(chan struct{}, 1), end: sportello.StreamEnd(ctx)}
	s.ctx, s.cancel = context.WithCancelCause(ctx)
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		s.cancel(nil)
		return nil, sportello.ErrShuttingDown
	}
	t := h.tenantLocked(u.TenantID)
	t.dashes[s] = struct{}{}
	h.wg.Add(1)
	h.mu.Unlock()

	out := make(chan *sportello.Dashboard)
	go h.runDashboard(s, t, out)
	return &sportello.Stream[*sportello.Dashboard]{C: out, Err: s.Err}, nil
}

// runDashboard is the goroutine of a dashboard subscriber. The first dashboard is computed for
// it alone, after it registered, so that no change between the two is missed; later ones are
// the tenant's shared recomputations.
func (h *Hub) runDashboard(s *dashSub, t *tenant, out chan<- *sportello.Dashboard) {
	defer h.wg.Done()
	defer close(out)
	var failure error
	defer func() {
		h.mu.Lock()
		delete(t.dashes, s)
		h.forgetLocked(t)
		h.mu.Unlock()
		err := why(s.ctx, failure)
		s.set(err)
		if err != nil && s.end != nil {
			s.end(err) // before the channel is closed
		}
		s.cancel(nil)
	}()

	last, err := h.cfg.Dashboards.TenantDashboard(s.ctx, t.id)
	if err != nil {
		if s.ctx.Err() == nil {
			failure = fmt.Errorf("live: dashboard: %w", err)
		}
		return
	}
	for d := last; ; {
		if d != nil {
			select {
			case out <- d:
				last = d
			case <-s.ctx.Done():
				return
			}
		}
		select {
		case <-s.signal:
			d = s.take()
			// A shared recomputation that started before this subscriber's own is older than
			// what it has, and one that found nothing new is not a change.
			if d == nil || d.At.Before(last.At) || sameDashboard(d, last) {
				d = nil
			}
		case <-s.ctx.Done():
			return
		}
	}
}

// sameDashboard reports whether two dashboards show the same counts.
func sameDashboard(a, b *sportello.Dashboard) bool {
	return a.Overdue == b.Overdue && maps.Equal(a.OpenByStatus, b.OpenByStatus) &&
		maps.Equal(a.OpenByOffice, b.OpenByOffice) && maps.Equal(a.FiledToday, b.FiledToday)
}

// dashboardChangedLocked notes that a tenant with dashboard subscribers has new events and
// schedules a recomputation no sooner than DashboardInterval after the last one began.
func (h *Hub) dashboardChangedLocked(t *tenant) {
	t.dashDirty = true
	if t.dashTimer != nil || h.closed {
		return
	}
	delay := max(0, time.Until(t.dashLast.Add(h.cfg.DashboardInterval)))
	h.wg.Add(1)
	t.dashTimer = time.AfterFunc(delay, func() { h.recomputeDashboard(t) })
}

// recomputeDashboard computes a tenant's dashboard once and hands it to every subscriber.
func (h *Hub) recomputeDashboard(t *tenant) {
	defer h.wg.Done()
	h.mu.Lock()
	if h.closed || len(t.dashes) == 0 {
		t.dashTimer, t.dashDirty = nil, false
		h.forgetLocked(t)
		h.mu.Unlock()
		return
	}
	t.dashDirty, t.dashLast = false, time.Now()
	h.mu.Unlock()

	d, err := h.cfg.Dashboards.TenantDashboard(h.runCtx, t.id)

	h.mu.Lock()
	defer h.mu.Unlock()
	t.dashTimer = nil
	if err != nil {
		if h.runCtx.Err() == nil {
			h.warnPostgres("compute a dashboard", err)
		}
		t.dashDirty = true
	} else {
		for s := range t.dashes {
			s.deliver(d)
		}
	}
	if t.dashDirty && !h.closed && len(t.dashes) > 0 {
		t.dashDirty = false
		h.dashboardChangedLocked(t)
		return
	}
	h.forgetLocked(t)
}
