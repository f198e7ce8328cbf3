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

// eventSub is one subscriber to ticket events. Its goroutine owns the sending side of the
// stream: it replays from the log, then forwards what the dispatcher queued; when it fell behind,
// it catches up from the log and joins the live feed again.
type eventSub struct {
	aud    sportello.Audience
	filter sportello.EventFilter
	// liveAfter is the position after which the dispatcher queues events: the hub's cursor when
	// the subscriber (re)joined the live feed, or the client's cursor when that is further on.
	// Written under the hub's mu, by subscribe and then only by the subscriber's goroutine.
	liveAfter sportello.Position
	// queue is the subscriber's bounded buffer; when an event does not fit, the dispatcher marks
	// the subscriber as behind rather than wait.
	queue chan *sportello.Event
	// lagSince is when (Hub.clock) the subscriber fell behind: an event did not fit in its queue.
	// The dispatcher then queues nothing more for it, and its goroutine, once it has handed over
	// its queue, catches up from the log and clears lagSince as it rejoins. 0 while it keeps up.
	// Written under the hub's mu.
	lagSince atomic.Int64
	// blockedSince is when (Hub.clock) the goroutine began waiting for the transport to take an
	// event, 0 when it is not waiting for it.
	blockedSince atomic.Int64
	ctx          context.Context
	cancel       context.CancelCauseFunc
	result
}

// stuckFor is how long a subscriber that fell behind has been stuck: how long its goroutine has
// been waiting to hand a single event over to the transport, counted from when it fell behind at
// the earliest. A subscriber that keeps up, or whose goroutine is waiting for events or reading
// the log, is not stuck (0): it is not its client's fault that it has nothing to hand over. So a
// client that takes each event within SlowAfter is never dropped, however far behind it is; one
// that stops reading is dropped SlowAfter after it fell behind or stopped reading, whichever is
// later.
func (s *eventSub) stuckFor(now time.Duration) time.Duration {
	lag, blocked := s.lagSince.Load(), s.blockedSince.Load()
	if lag == 0 || blocked == 0 {
		return 0
	}
	return now - time.Duration(max(lag, blocked))
}

// offer queues the event if the subscriber should see it. It returns false when the buffer is
// full.
func (s *eventSub) offer(e *sportello.Event) bool {
	if !s.liveAfter.Less(e.Position) || !s.aud.Sees(e) || !s.filter.Matches(e.Ticket) {
		return true
	}
	select {
	case s.queue <- e:
		return true
	default:
		return false
	}
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

// subscribe registers an event subscriber and starts its goroutine. Errors: ErrShuttingDown,
// ctx.Err().
func (h *Hub) subscribe(ctx context.Context, aud sportello.Audience, filter sportello.EventFilter, from *sportello.Position) (*sportello.Stream[*sportello.Event], error) {
	if err := h.waitReady(ctx); err != nil {
		return nil, err
	}
	s := &eventSub{aud: aud, filter: filter, queue: make(chan *sportello.Event, h.cfg.Buffer)}
	s.ctx, s.cancel = context.WithCancelCause(ctx)

	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		s.cancel(nil)
		return nil, sportello.ErrShuttingDown
	}
	replay, upTo := h.joinLocked(s, from)
	h.wg.Add(1)
	h.mu.Unlock()

	out := make(chan *sportello.Event)
	var start sportello.Position
	if replay {
		start = *from
	}
	go h.runEvents(s, out, replay, start, upTo)
	return &sportello.Stream[*sportello.Event]{C: out, Err: s.Err}, nil
}

// joinLocked registers s, a new subscriber or one that caught up, for the live events: the
// dispatcher queues for it the events after the hub's cursor, or after from when that is further
// on. It returns whether the events after from and up to upTo must be replayed from the log
// first; from nil means from now, with nothing to replay.
func (h *Hub) joinLocked(s *eventSub, from *sportello.Position) (replay bool, upTo sportello.Position) {
	// Everything up to the cursor has been dispatched already and everything after it will be
	// dispatched to s: the replay reads up to the cursor and the queue takes over from there.
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

// runEvents is the goroutine of an event subscriber.
func (h *Hub) runEvents(s *eventSub, out chan<- *sportello.Event, replay bool, from, upTo sportello.Position) {
	defer h.wg.Done()
	defer close(out)
	var failure error
	defer func() {
		h.unsubscribe(s)
		s.set(why(s.ctx, failure))
		s.cancel(nil) // releases the context once the stream is over
	}()

	if replay {
		if failure = h.replay(s, out, from, upTo); failure != nil || s.ctx.Err() != nil {
			return
		}
	}
	// last is a position up to which the subscriber has had every event it should see: where a
	// catch-up starts. The dispatcher reads liveAfter too, but only this goroutine writes it now.
	last := s.liveAfter
	for {
		// Once the subscriber fell behind the dispatcher queues nothing more for it, so an empty
		// queue then stays empty: the events after the last one handed over are in the log.
		if s.lagSince.Load() != 0 && len(s.queue) == 0 {
			if failure = h.catchUp(s, out, last); failure != nil || s.ctx.Err() != nil {
				return
			}
			last = s.liveAfter
			continue
		}
		select {
		case e := <-s.queue:
			if !h.send(s, out, e) {
				return
			}
			last = e.Position
		case <-s.ctx.Done():
			return
		}
	}
}

// send hands an event over to the transport, noting how long it waits (see stuckFor). It
// returns false when the subscriber's context ends first.
func (h *Hub) send(s *eventSub, out chan<- *sportello.Event, e *sportello.Event) bool {
	select {
	case out <- e: // the client is waiting: no need to read the clock
		return true
	default:
	}
	s.blockedSince.Store(int64(h.clock()))
	defer s.blockedSince.Store(0)
	select {
	case out <- e:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// catchUp brings a subscriber that fell behind, whose queue is empty, back to the live feed. It
// first replays from the log, while the dispatcher still skips it, the events after last up to
// the hub's cursor now, however many there are; then it joins the live feed again as a
// subscription resuming from that cursor does, replaying what the reader dispatched meanwhile
// while the queue takes the events after. It returns an error when the log keeps failing.
func (h *Hub) catchUp(s *eventSub, out chan<- *sportello.Event, last sportello.Position) error {
	h.catchUps.Add(1)
	h.mu.Lock()
	upTo := h.cursor
	h.mu.Unlock()
	if last.Less(upTo) {
		if err := h.replay(s, out, last, upTo); err != nil || s.ctx.Err() != nil {
			return err
		}
		last = upTo
	}
	h.mu.Lock()
	if h.closed || s.ctx.Err() != nil {
		// Shut down, dropped or gone: the context says which, and s must not be registered
		// again.
		h.mu.Unlock()
		return nil
	}
	replay, upTo := h.joinLocked(s, &last)
	h.mu.Unlock()
	if replay {
		return h.replay(s, out, last, upTo)
	}
	return nil
}

// replay sends the subscriber's events after from and up to upTo, page by page, while the
// dispatcher queues the live ones. It returns an error when the log keeps failing; the client
// then reconnects with its last cursor.
func (h *Hub) replay(s *eventSub, out chan<- *sportello.Event, from, upTo sportello.Position) error {
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
			if !s.aud.Sees(e) || !s.filter.Matches(e.Ticket) {
				continue
			}
			if !h.send(s, out, e) {
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
// queue, so that a subscriber catching up from the log holds no more than one that keeps up.
func (h *Hub) replayPageSize() int {
	return min(h.pageSize, h.cfg.Buffer)
}

// replayPage reads one page of a replay, retrying briefly when PostgreSQL fails.
func (h *Hub) replayPage(s *eventSub, from, upTo sportello.Position, limit int) ([]*sportello.Event, error) {
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		page, err := h.cfg.Log.Replay(s.ctx, s.aud, from, upTo, limit)
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

// unsubscribe removes an event subscriber that ended; it may have been removed already.
func (h *Hub) unsubscribe(s *eventSub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.lagging, s)
	if t := h.tenants[s.aud.TenantID]; t != nil {
		delete(t.events, s)
		h.forgetLocked(t)
	}
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
	s := &dashSub{signal: make(chan struct{}, 1)}
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
		s.set(why(s.ctx, failure))
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
