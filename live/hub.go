// Package live is the live feed of ticket events: it implements sportello.Feed for the GraphQL
// subscriptions and sportello.EventNotifier for the stores.
//
// PostgreSQL is the truth and Redis is the fast path. One reader per process follows the events
// table with a cursor (sportello.EventLog.Tail reads only events that can no longer be overtaken
// by a later commit, so the cursor never skips one) and hands each event to the subscribers of
// its tenant. The reader wakes up when this process commits events, when another process says
// through Redis that it did, and on a poll that covers whatever Redis lost: Redis pub/sub is
// at-most-once, so it only ever makes delivery faster, never more complete.
//
// A subscriber's queue is its stream's channel, bounded (Config.Buffer), into which the
// dispatcher sends directly: a subscriber that keeps up has no goroutine of its own. When an
// event does not fit, because a burst of commits or a safe horizon held back by a long
// transaction arrived all at once, the subscriber is not dropped: it falls behind, the dispatcher
// stops handing events to it, and a goroutine started for it waits until its client has taken
// some, catches up from PostgreSQL and rejoins the live feed as a subscription resuming from a
// cursor does, then ends. (A subscription resuming from a cursor has such a goroutine while it
// replays.) Only a subscriber that stays stuck (its client does not take what it is given) for
// Config.SlowAfter is dropped with sportello.ErrSlowConsumer.
package live

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	sportello "github.com/sportello/sportello"
)

// Config configures a Hub. Log is required; the other services are needed by the feed methods
// that use them.
type Config struct {
	Log        sportello.EventLog
	Dashboards sportello.DashboardService
	Citizens   sportello.CitizenService // Me(ctx) gives the subscribing citizen's id
	// Redis carries wake-ups between processes: a *redis.Client (or a Sentinel failover client)
	// or a *redis.ClusterClient. Without it the hub relies on its poll alone, which is enough for
	// a single process.
	Redis redis.UniversalClient
	// Cluster selects sharded pub/sub (SPUBLISH/SSUBSCRIBE) on one channel per tenant, so that a
	// Redis Cluster spreads the fanout over its shards instead of broadcasting every message to
	// every node.
	Cluster bool
	// Prefix starts every channel name; default "sportello".
	Prefix string
	// PollInterval is how often the hub reads PostgreSQL even when nothing woke it up: the
	// longest a Redis outage can delay an event. Default 1s.
	PollInterval time.Duration
	// Buffer is how many events a subscriber may leave unread (the capacity of its stream's
	// channel) before it falls behind: the hub then stops handing events to it, and once its
	// client has taken some, it catches up from PostgreSQL and rejoins the live feed. It bounds a
	// subscriber's memory: its channel, the live events set aside while it replays, and each page
	// of its replays hold at most Buffer events. Default 64: the channel is allocated whole for
	// every subscriber, idle or not (8 bytes an event), and a burst larger than the buffer costs
	// a catch-up from PostgreSQL, not an event.
	Buffer int
	// SlowAfter is how long a subscriber that fell behind may stay stuck before it is dropped with
	// sportello.ErrSlowConsumer. Stuck means that its goroutine has been waiting for SlowAfter to
	// hand one event over to the transport (its channel full), counting at the earliest from when
	// it fell behind: its client is not reading. Time spent waiting for events or reading PostgreSQL to catch up
	// never counts, so a subscriber whose client takes every event within SlowAfter is never
	// dropped, however far behind a burst left it. The hub looks at every dispatch and every poll,
	// so the drop comes at most about PollInterval after SlowAfter. Default 10s.
	SlowAfter time.Duration
	// DashboardInterval is the least time between two recomputations of a tenant's dashboard.
	// Default 1s.
	DashboardInterval time.Duration
	// Logger receives the hub's warnings; default slog.Default().
	Logger *slog.Logger
	// Dispatched, if set, is told of every event the hub dispatches, with the time since the
	// event happened (its At, taken in the transaction that wrote it): the fanout lag, which a
	// slow poll, a Redis outage or a long transaction holding back the feed makes grow. It is
	// called with the hub's lock held, so it must be quick and must not call the hub.
	Dispatched func(lag time.Duration)
}

// Defaults and limits of the hub.
const (
	defaultPrefix            = "sportello"
	defaultPollInterval      = time.Second
	defaultBuffer            = 64
	defaultSlowAfter         = 10 * time.Second
	defaultDashboardInterval = time.Second
	// pageSize is how many events one read of the log returns.
	pageSize = 500
	// logEvery spaces out repeated warnings about the same failing dependency, so that an outage
	// produces a few lines rather than one per event.
	logEvery = 30 * time.Second
)

// followUps are the extra reads after a wake-up. A commit that woke the hub may not be safe to
// read yet, because an older transaction (one that wrote no events, or one in another database
// of the server, since transaction ids are shared) is still in flight; nothing will wake the hub
// when that one ends, so it looks again a few times before leaving the rest to the poll.
var followUps = []time.Duration{20 * time.Millisecond, 100 * time.Millisecond, 500 * time.Millisecond, 2 * time.Second}

// Hub is the live feed of one server process. It implements sportello.Feed and
// sportello.EventNotifier. Create it with New and keep Run running for as long as the process
// serves subscriptions: the feed methods wait until Run has read where the log stands.
type Hub struct {
	cfg      Config
	log      *slog.Logger
	epoch    time.Time     // origin of clock
	pageSize int           // pageSize, smaller in tests to exercise paging
	health   time.Duration // healthInterval, shorter in tests

	wake    chan struct{} // the reader has something to read; capacity 1 coalesces wake-ups
	ready   chan struct{} // closed when the reader has its first cursor
	done    chan struct{} // closed when the hub shuts down
	running atomic.Bool
	runCtx  context.Context // Run's context, for the work the hub does on its own behalf

	// wg counts every goroutine the hub starts, so that Run returns only when all have ended.
	wg sync.WaitGroup

	// mu guards the cursor and the subscribers: an event is dispatched and the cursor moves past
	// it in one critical section, so a subscriber that registers and reads the cursor under mu
	// receives, live, exactly the events after that cursor.
	mu      sync.Mutex
	cursor  sportello.Position
	closed  bool
	tenants map[string]*tenant
	// lagging are the event subscribers that fell behind and have not rejoined yet, with their
	// tenants: the ones to look at for being stuck.
	lagging map[*eventSub]*tenant

	// pending are the tenants whose commits are still to be announced through Redis.
	pubMu   sync.Mutex
	pending map[string]struct{}
	pubWake chan struct{}

	// interest says that the set of tenants with local subscribers changed, for the cluster
	// mode's subscription manager.
	interest chan struct{}
	shardMu  sync.Mutex
	shards   map[int]*shard // by hash slot in cluster mode; the one shard under -1 otherwise

	redisLog throttle
	pgLog    throttle

	// Counters for tests and diagnostics.
	redisMessages atomic.Int64 // wake-ups received through Redis
	subscriptions atomic.Int64 // confirmed (re)subscriptions to Redis channels
	catchUps      atomic.Int64 // catch-ups from the log of subscribers that fell behind
	replayHook    func()       // called between replay pages, in tests
}

// tenant holds a tenant's local subscribers and the state of its shared dashboard.
type tenant struct {
	id     string
	events map[*eventSub]struct{}
	dashes map[*dashSub]struct{}

	dashTimer *time.Timer // a recomputation is scheduled or running
	dashDirty bool        // events arrived since the last recomputation started
	dashLast  time.Time   // when the last recomputation started
}

var (
	_ sportello.Feed          = (*Hub)(nil)
	_ sportello.EventNotifier = (*Hub)(nil)
)

// New returns a hub that does nothing until Run is called. It panics if cfg.Log is nil, which is
// a wiring mistake.
func New(cfg Config) *Hub {
	if cfg.Log == nil {
		panic("live: Config.Log is required")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = defaultPrefix
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = defaultPollInterval
	}
	if cfg.Buffer <= 0 {
		cfg.Buffer = defaultBuffer
	}
	if cfg.SlowAfter <= 0 {
		cfg.SlowAfter = defaultSlowAfter
	}
	if cfg.DashboardInterval <= 0 {
		cfg.DashboardInterval = defaultDashboardInterval
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Hub{
		cfg:      cfg,
		log:      log.With("component", "live"),
		epoch:    time.Now(),
		pageSize: pageSize,
		health:   healthInterval,
		wake:     make(chan struct{}, 1),
		ready:    make(chan struct{}),
		done:     make(chan struct{}),
		tenants:  map[string]*tenant{},
		lagging:  map[*eventSub]*tenant{},
		pending:  map[string]struct{}{},
		pubWake:  make(chan struct{}, 1),
		interest: make(chan struct{}, 1),
		shards:   map[int]*shard{},
		redisLog: throttle{every: logEvery},
		pgLog:    throttle{every: logEvery},
	}
}

// Run reads the log and feeds the subscribers until ctx ends; then it ends every stream with
// sportello.ErrShuttingDown, closes its Redis subscriptions, waits for its goroutines and returns
// nil. It returns an error only if it is called twice.
func (h *Hub) Run(ctx context.Context) error {
	if !h.running.CompareAndSwap(false, true) {
		return errors.New("live: Run called twice")
	}
	h.runCtx = ctx
	if h.cfg.Redis != nil {
		h.startRedis(ctx)
	}
	if cursor, ok := h.head(ctx); ok {
		h.mu.Lock()
		h.cursor = cursor
		h.mu.Unlock()
		close(h.ready)
		h.read(ctx)
	}
	h.shutdown()
	h.wg.Wait()
	return nil
}

// head returns the first cursor, retrying until PostgreSQL answers or ctx ends.
func (h *Hub) head(ctx context.Context) (sportello.Position, bool) {
	backoff := 100 * time.Millisecond
	for {
		p, err := h.cfg.Log.Head(ctx)
		if err == nil {
			return p, true
		}
		if ctx.Err() != nil {
			return sportello.Position{}, false
		}
		h.warnPostgres("read the feed's head", err)
		select {
		case <-ctx.Done():
			return sportello.Position{}, false
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// read is the reader loop: it reads the log on every wake-up, follow-up and poll.
func (h *Hub) read(ctx context.Context) {
	poll := time.NewTicker(h.cfg.PollInterval)
	defer poll.Stop()
	follow := time.NewTimer(time.Hour)
	follow.Stop()
	defer follow.Stop()
	step := 0
	schedule := func() {
		if step < len(followUps) && followUps[step] < h.cfg.PollInterval {
			follow.Reset(followUps[step])
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.wake:
			h.drain(ctx)
			step = 0
			schedule()
		case <-follow.C:
			h.drain(ctx)
			step++
			schedule()
		case <-poll.C:
			h.drain(ctx)
			// Also when PostgreSQL cannot be read: a stuck subscriber is dropped all the same.
			h.dropStuck()
		}
	}
}

// drain reads the log from the cursor until it is exhausted. On an error the cursor stays where
// it is and the next wake-up or poll tries again.
func (h *Hub) drain(ctx context.Context) {
	for {
		h.mu.Lock()
		cursor := h.cursor
		h.mu.Unlock()
		events, err := h.cfg.Log.Tail(ctx, cursor, h.pageSize)
		if err != nil {
			if ctx.Err() == nil {
				h.warnPostgres("read the feed", err)
			}
			return
		}
		h.pgRecovered()
		h.dispatch(events)
		if len(events) < h.pageSize {
			return
		}
	}
}

// dispatch hands events to the subscribers of their tenants and moves the cursor past them. It
// never blocks: a subscriber whose buffer is full falls behind (see eventSub.lagSince), and is
// skipped until its pump has caught it up from the log. Then it drops the subscribers that are stuck.
func (h *Hub) dispatch(events []*sportello.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	defer func() { h.dropStuckLocked(h.clock()) }()
	var now time.Duration // when a subscriber first fell behind in this dispatch
	for _, e := range events {
		// The log returns positions after the cursor in order; checking keeps a misbehaving log
		// from causing duplicates.
		if !h.cursor.Less(e.Position) {
			continue
		}
		prev := h.cursor
		h.cursor = e.Position
		if h.cfg.Dispatched != nil {
			h.cfg.Dispatched(time.Since(e.At))
		}
		t := h.tenants[e.TenantID]
		if t == nil {
			continue
		}
		for s := range t.events {
			if s.lagSince.Load() != 0 {
				continue // it reads this event from the log when it catches up
			}
			if s.wants(e) {
				h.handOverLocked(t, s, e, prev, &now)
			}
		}
		if len(t.dashes) > 0 && e.Topic == "" {
			h.dashboardChangedLocked(t)
		}
	}
}

// dropStuck drops the subscribers that are stuck; the reader calls it at every poll.
func (h *Hub) dropStuck() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.dropStuckLocked(h.clock())
	}
}

// dropStuckLocked drops the subscribers that fell behind and have been stuck since for longer
// than SlowAfter (see Config.SlowAfter and eventSub.stuckFor).
func (h *Hub) dropStuckLocked(now time.Duration) {
	for s, t := range h.lagging {
		if s.stuckFor(now) > h.cfg.SlowAfter {
			h.dropLocked(t, s)
		}
	}
}

// dropLocked removes a stuck subscriber and ends its stream with sportello.ErrSlowConsumer.
func (h *Hub) dropLocked(t *tenant, s *eventSub) {
	delete(t.events, s)
	delete(h.lagging, s)
	s.cancel(sportello.ErrSlowConsumer)
	h.forgetLocked(t)
	if !s.pumping {
		h.endLocked(s, nil)
	} // else its pump sees the context end, and ends the stream
}

// clock is the time elapsed since the hub was created, on the monotonic clock; it is never 0, so
// that 0 can mean "never".
func (h *Hub) clock() time.Duration {
	return max(time.Since(h.epoch), 1)
}

// wakeUp asks the reader to read the log; wake-ups that arrive while one is pending merge.
func (h *Hub) wakeUp() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// EventsCommitted wakes this process's reader and announces the commit to the other processes
// through Redis. It never blocks and never fails the caller's request: the announcement is
// queued for a background goroutine, coalesced per tenant, and dropped when the queue is full,
// since the poll reads the events anyway.
func (h *Hub) EventsCommitted(ctx context.Context, tenantID string) {
	h.wakeUp()
	if h.cfg.Redis == nil {
		return
	}
	h.pubMu.Lock()
	if _, ok := h.pending[tenantID]; !ok && len(h.pending) < maxPending {
		h.pending[tenantID] = struct{}{}
	}
	h.pubMu.Unlock()
	select {
	case h.pubWake <- struct{}{}:
	default:
	}
}

// tenantLocked returns the tenant's local state, creating it.
func (h *Hub) tenantLocked(id string) *tenant {
	t := h.tenants[id]
	if t == nil {
		t = &tenant{id: id, events: map[*eventSub]struct{}{}, dashes: map[*dashSub]struct{}{}}
		h.tenants[id] = t
		h.interestChanged()
	}
	return t
}

// forgetLocked drops a tenant's state once nothing refers to it.
func (h *Hub) forgetLocked(t *tenant) {
	if len(t.events) == 0 && len(t.dashes) == 0 && t.dashTimer == nil && h.tenants[t.id] == t {
		delete(h.tenants, t.id)
		h.interestChanged()
	}
}

// hasSubscribers reports whether the tenant has local subscribers.
func (h *Hub) hasSubscribers(tenantID string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.tenants[tenantID] != nil
}

// shutdown ends every stream with sportello.ErrShuttingDown and refuses new ones.
func (h *Hub) shutdown() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	close(h.done)
	for _, t := range h.tenants {
		for s := range t.events {
			s.cancel(sportello.ErrShuttingDown)
			if !s.pumping {
				// At once rather than from the context's AfterFunc, so that every stream
				// without a pump has ended when Run returns; pumps are waited for.
				h.endLocked(s, nil)
			}
		}
		for s := range t.dashes {
			s.cancel(sportello.ErrShuttingDown)
		}
		// A timer that has not fired will not: its goroutine is not counted any more.
		if t.dashTimer != nil && t.dashTimer.Stop() {
			h.wg.Done()
		}
	}
	clear(h.tenants)
	clear(h.lagging)
}

// waitReady waits until the reader has its cursor. Errors: ErrShuttingDown, ctx.Err().
func (h *Hub) waitReady(ctx context.Context) error {
	select {
	case <-h.ready:
		return nil
	case <-h.done:
		return sportello.ErrShuttingDown
	case <-ctx.Done():
		return ctx.Err()
	}
}

// subscribers counts the local subscribers, for tests.
func (h *Hub) subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, t := range h.tenants {
		n += len(t.events) + len(t.dashes)
	}
	return n
}

func (h *Hub) warnPostgres(what string, err error) {
	if n, ok := h.pgLog.allow(); ok {
		h.log.Warn("live feed cannot "+what+"; retrying at the next wake-up or poll",
			"error", err, "suppressed", n)
	}
}

func (h *Hub) pgRecovered() {
	if h.pgLog.recovered() {
		h.log.Info("live feed reads PostgreSQL again")
	}
}

// throttle lets a repeated warning through at most once per period and counts what it held
// back.
type throttle struct {
	every time.Duration

	mu         sync.Mutex
	last       time.Time
	suppressed int
	failing    bool
}

// allow reports whether to log now, and how many warnings were held back since the last one.
func (t *throttle) allow() (int, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.failing = true
	if now := time.Now(); t.last.IsZero() || now.Sub(t.last) >= t.every {
		n := t.suppressed
		t.last, t.suppressed = now, 0
		return n, true
	}
	t.suppressed++
	return 0, false
}

// recovered reports whether this success ends a run of failures, and resets the throttle so the
// next outage is reported at once.
func (t *throttle) recovered() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.failing {
		return false
	}
	t.failing, t.last, t.suppressed = false, time.Time{}, 0
	return true
}
