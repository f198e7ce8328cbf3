package live

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
)

const tenant1 = sportello.DefaultTenantID

func TestFeedChecksTheCallerAndTheInput(t *testing.T) {
	e := newEnv(t)
	h, _ := startHub(t, e.config(t, sharedRedis(t)))
	anon := sportello.WithUser(context.Background(), &sportello.User{TenantID: tenant1})
	citizen := citizenCtx(tenant1, "alice")
	staff := staffCtx(tenant1, "op")

	_, err := h.TicketEvents(anon, sportello.EventFilter{}, "")
	wantCode(t, err, sportello.CodeUnauthenticated)
	_, err = h.MyTicketEvents(anon, "")
	wantCode(t, err, sportello.CodeUnauthenticated)
	_, err = h.DashboardChanges(anon)
	wantCode(t, err, sportello.CodeUnauthenticated)

	_, err = h.TicketEvents(citizen, sportello.EventFilter{}, "")
	wantCode(t, err, sportello.CodeForbidden)
	_, err = h.DashboardChanges(citizen)
	wantCode(t, err, sportello.CodeForbidden)
	_, err = h.MyTicketEvents(staff, "")
	wantCode(t, err, sportello.CodeForbidden)

	_, err = h.TicketEvents(staff, sportello.EventFilter{}, "not a cursor")
	wantCode(t, err, sportello.CodeBadUserInput)
	_, err = h.MyTicketEvents(citizen, "AAAA")
	wantCode(t, err, sportello.CodeBadUserInput)
	_, err = h.TicketEvents(staff, sportello.EventFilter{Kinds: []sportello.Kind{"NONSENSE"}}, "")
	wantCode(t, err, sportello.CodeBadUserInput)
	_, err = h.TicketEvents(staff, sportello.EventFilter{Statuses: []sportello.Status{"LOST"}}, "")
	wantCode(t, err, sportello.CodeBadUserInput)
	if n := h.subscribers(); n != 0 {
		t.Fatalf("refused subscriptions left %d subscribers", n)
	}
}

func TestLiveEventsReachStaffByFilterAndCitizensOnlyTheirOwnPublicOnes(t *testing.T) {
	e := newEnv(t)
	h, _ := startHub(t, e.config(t, sharedRedis(t)))
	e.d.Notifier = h
	var office string
	if err := e.d.Get(&office, `INSERT INTO offices (tenant_id, name) VALUES ($1, 'Tributi') RETURNING id`, tenant1); err != nil {
		t.Fatal(err)
	}
	staff := staffCtx(tenant1, "op")
	alice, bob := citizenCtx(tenant1, "alice"), citizenCtx(tenant1, "bob")

	all := subscribe(t, h, staff, sportello.EventFilter{}, "")
	byOffice := subscribe(t, h, staff, sportello.EventFilter{OfficeIDs: []string{office}}, "")
	byKind := subscribe(t, h, staff, sportello.EventFilter{Kinds: []sportello.Kind{sportello.KindInformation}}, "")
	byStatus := subscribe(t, h, staff, sportello.EventFilter{Statuses: []sportello.Status{sportello.StatusInProgress}}, "")
	mine := subscribeCitizen(t, h, alice, "")
	other := subscribeCitizen(t, h, citizenCtx(tenant1, "carla"), "")

	bobs := e.file(t, bob, sportello.KindInformation, "")
	alices := e.file(t, alice, sportello.KindComplaint, office)
	// The status filter applies to the ticket as the feed reads it: both tickets must have been
	// read as submitted before one of them moves on.
	created := collect(t, all, 2)
	if _, err := e.tickets.TransitionTicket(staff, sportello.TransitionTicketInput{TicketID: bobs.ID, To: sportello.StatusInProgress}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.tickets.PostMessage(staff, sportello.PostMessageInput{TicketID: alices.ID, Body: "Nota interna", Internal: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.tickets.PostMessage(staff, sportello.PostMessageInput{TicketID: alices.ID, Body: "Gentile cittadina, ..."}); err != nil {
		t.Fatal(err)
	}

	type want struct {
		ticket   string
		typ      sportello.EventType
		internal bool
	}
	check := func(name string, st *sportello.Stream[*sportello.Event], got []*sportello.Event, wants ...want) {
		t.Helper()
		if got == nil {
			got = collect(t, st, len(wants))
		}
		for i, w := range wants {
			g := got[i]
			if g.TicketID != w.ticket || g.Type != w.typ || g.Internal != w.internal {
				t.Fatalf("%s: event %d is %s of %s (internal %v), want %s of %s (internal %v)",
					name, i, g.Type, g.TicketID, g.Internal, w.typ, w.ticket, w.internal)
			}
			if g.Ticket == nil || g.Ticket.ID != g.TicketID {
				t.Fatalf("%s: event %d comes without its ticket", name, i)
			}
		}
		quiet(t, st)
	}
	createdBob := want{bobs.ID, sportello.EventCreated, false}
	createdAlice := want{alices.ID, sportello.EventCreated, false}
	moved := want{bobs.ID, sportello.EventStatusChanged, false}
	note := want{alices.ID, sportello.EventMessagePosted, true}
	reply := want{alices.ID, sportello.EventMessagePosted, false}

	check("all", all, append(created, collect(t, all, 3)...), createdBob, createdAlice, moved, note, reply)
	check("office", byOffice, nil, createdAlice, note, reply)
	check("kind", byKind, nil, createdBob, moved)
	check("status", byStatus, nil, moved)
	check("alice", mine, nil, createdAlice, reply)
	check("carla", other, nil)
}

func TestReplayFromACursorThenLiveHasNoGapAndNoDuplicate(t *testing.T) {
	e := newEnv(t)
	cfg := e.config(t, sharedRedis(t))
	cfg.Buffer = 4096 // the live events that queue up during the replay must all fit
	// The first replay pages each file a ticket; later ones, of the citizen's replay that runs
	// when the test reads it, do not, so that the test knows how many there are.
	const hookMax = 3
	var hookCalls, hookFilings atomic.Int64
	var hookErr atomic.Value
	h, _ := startHub(t, cfg, func(h *Hub) {
		h.pageSize = 5
		// Between replay pages a ticket is filed: its event is committed during the replay
		// and must come once, after the replayed ones.
		h.replayHook = func() {
			if hookCalls.Add(1) > hookMax {
				return
			}
			if _, err := e.tickets.SubmitTicket(citizenCtx(tenant1, "alice"), sportello.SubmitTicketInput{
				Kind: sportello.KindReport, Subject: "Lampione spento", Body: "Via Garibaldi"}); err != nil {
				hookErr.Store(err)
				return
			}
			hookFilings.Add(1)
		}
	})
	e.d.Notifier = h
	staff := staffCtx(tenant1, "op")
	alice := citizenCtx(tenant1, "alice")
	start := e.head(t)
	observer := subscribe(t, h, staff, sportello.EventFilter{}, "")
	aliceID := e.file(t, alice, sportello.KindInformation, "").CitizenID
	const before = 24
	for i := range before - 1 {
		who := alice
		if i%3 == 0 {
			who = citizenCtx(tenant1, "bob")
		}
		e.file(t, who, sportello.KindInformation, "")
	}
	// The hub's cursor is now past them all, so a subscriber from start has them to replay.
	collect(t, observer, before)

	// Meanwhile tickets keep coming.
	stop := make(chan struct{})
	var filed atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			who := alice
			if i%2 == 0 {
				who = citizenCtx(tenant1, "bob")
			}
			if _, err := e.tickets.SubmitTicket(who, sportello.SubmitTicketInput{Kind: sportello.KindReport,
				Subject: "Rifiuti", Body: "Cassonetto pieno"}); err != nil {
				t.Error(err)
				return
			}
			filed.Add(1)
		}
	})
	staffReplay := subscribe(t, h, staff, sportello.EventFilter{}, start.Cursor())
	aliceReplay := subscribeCitizen(t, h, alice, start.Cursor())
	var got []*sportello.Event
	for len(got) < before+10 || (hookFilings.Load() < hookMax && hookErr.Load() == nil) {
		got = append(got, recv(t, staffReplay, wait))
	}
	close(stop)
	wg.Wait()
	if err, _ := hookErr.Load().(error); err != nil {
		t.Fatal(err)
	}
	total := before + int(filed.Load()+hookFilings.Load())
	want := e.tailAll(t, start, total)
	got = append(got, collect(t, staffReplay, total-len(got))...)
	samePositions(t, "staff", got, want)
	quiet(t, staffReplay)

	var wantAlice []*sportello.Event
	for _, ev := range want {
		if ev.Ticket.CitizenID == aliceID {
			wantAlice = append(wantAlice, ev)
		}
	}
	samePositions(t, "alice", collect(t, aliceReplay, len(wantAlice)), wantAlice)
	quiet(t, aliceReplay)
}

func TestACursorAheadOfThisInstanceGetsNeitherDuplicatesNorGaps(t *testing.T) {
	e := newEnv(t)
	fast, _ := startHub(t, e.config(t, nil))
	// The lagging instance has no Redis and polls rarely: its cursor stays behind until it is
	// woken by hand.
	lagCfg := e.config(t, nil)
	lagCfg.PollInterval = time.Minute
	lagging, _ := startHub(t, lagCfg)
	e.d.Notifier = fast
	staff := staffCtx(tenant1, "op")

	st := subscribe(t, fast, staff, sportello.EventFilter{}, "")
	for range 3 {
		e.file(t, citizenCtx(tenant1, "alice"), sportello.KindInformation, "")
	}
	seen := collect(t, st, 3)
	// A client that processed the second event on the fast instance reconnects to the lagging
	// one, whose cursor is before all three.
	lagging.mu.Lock()
	behind := lagging.cursor.Less(seen[0].Position)
	lagging.mu.Unlock()
	if !behind {
		t.Fatal("the lagging instance has read the events already: the test would not exercise a cursor ahead of it")
	}
	resumed := subscribe(t, lagging, staff, sportello.EventFilter{}, seen[1].Position.Cursor())
	lagging.EventsCommitted(context.Background(), tenant1)
	if got := recv(t, resumed, wait); got.Position != seen[2].Position {
		t.Fatalf("resumed at %v, want the third event %v", got.Position, seen[2].Position)
	}
	e.d.Notifier = lagging
	fourth := e.file(t, citizenCtx(tenant1, "alice"), sportello.KindInformation, "")
	if got := recv(t, resumed, wait); got.TicketID != fourth.ID {
		t.Fatalf("then %s, want the fourth ticket", got.TicketID)
	}
	quiet(t, resumed)
}

func TestAnotherInstanceDeliversThroughRedis(t *testing.T) {
	e := newEnv(t)
	rdb := sharedRedis(t)
	cfg := e.config(t, rdb)
	// A poll of a minute cannot be what delivers within the test.
	cfg.PollInterval = time.Minute
	a, _ := startHub(t, cfg)
	b, _ := startHub(t, cfg)
	waitSubscribers(t, rdb, cfg.Prefix+":events", 2)
	e.d.Notifier = a

	onB := subscribe(t, b, staffCtx(tenant1, "op"), sportello.EventFilter{}, "")
	aliceOnB := subscribeCitizen(t, b, citizenCtx(tenant1, "alice"), "")
	for range 3 {
		tk := e.file(t, citizenCtx(tenant1, "alice"), sportello.KindInformation, "")
		if got := recv(t, onB, prompt); got.TicketID != tk.ID {
			t.Fatalf("instance B got %s, want %s", got.TicketID, tk.ID)
		}
		if got := recv(t, aliceOnB, prompt); got.TicketID != tk.ID {
			t.Fatalf("alice on B got %s, want %s", got.TicketID, tk.ID)
		}
	}
	if b.redisMessages.Load() == 0 {
		t.Fatal("instance B received no message through Redis")
	}
}

func TestNothingIsLostWhileRedisIsDownAndDeliveryIsPromptOnceItIsBack(t *testing.T) {
	e := newEnv(t)
	srv := startRedisServer(t)
	client := func() *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: srv.addr(), DialTimeout: 200 * time.Millisecond})
		t.Cleanup(func() { c.Close() })
		return c
	}
	cfgA := e.config(t, client())
	cfgB := cfgA
	cfgB.Redis = client()
	a, _ := startHub(t, cfgA)
	b, _ := startHub(t, cfgB)
	probe := client()
	waitSubscribers(t, probe, cfgA.Prefix+":events", 2)
	e.d.Notifier = a
	start := e.head(t)

	staff := staffCtx(tenant1, "op")
	subs := map[string]*sportello.Stream[*sportello.Event]{
		"staff on A": subscribe(t, a, staff, sportello.EventFilter{}, ""),
		"staff on B": subscribe(t, b, staff, sportello.EventFilter{}, ""),
		"alice on B": subscribeCitizen(t, b, citizenCtx(tenant1, "alice"), ""),
	}
	got := map[string][]*sportello.Event{}
	receive := func(n int) {
		for name, st := range subs {
			want := n
			if name == "alice on B" {
				want = n / 2 // alice files every other ticket
			}
			got[name] = append(got[name], collect(t, st, want)...)
		}
	}
	fileSome := func(n int) {
		for i := range n {
			who := citizenCtx(tenant1, "alice")
			if i%2 == 1 {
				who = citizenCtx(tenant1, "bob")
			}
			e.file(t, who, sportello.KindInformation, "")
		}
	}

	fileSome(4)
	receive(4)

	srv.stop()
	// Filing does not depend on Redis, and the poll delivers.
	fileSome(6)
	receive(6)

	srv.start()
	waitSubscribers(t, probe, cfgA.Prefix+":events", 2)
	fileSome(2)
	receive(2)
	// Back on the fast path: instance B hears of the next commit through Redis at once.
	heard := b.redisMessages.Load()
	tk := e.file(t, citizenCtx(tenant1, "alice"), sportello.KindInformation, "")
	eventually(t, prompt, "instance B hears of the commit through Redis", func() bool { return b.redisMessages.Load() > heard })
	for name, st := range subs {
		ev := recv(t, st, prompt)
		if ev.TicketID != tk.ID {
			t.Fatalf("%s: got %s, want the last ticket", name, ev.TicketID)
		}
		got[name] = append(got[name], ev)
	}

	all := e.tailAll(t, start, 13)
	for name := range subs {
		want := all
		if name == "alice on B" {
			want = nil
			for _, ev := range all {
				if ev.Ticket.CitizenID == got[name][0].Ticket.CitizenID {
					want = append(want, ev)
				}
			}
		}
		samePositions(t, name, got[name], want)
	}
}

func TestATransactionThatCommitsLateIsNotSkipped(t *testing.T) {
	e := newEnv(t)
	h, _ := startHub(t, e.config(t, sharedRedis(t)))
	e.d.Notifier = h
	ctx := context.Background()
	staff := staffCtx(tenant1, "op")
	live := subscribe(t, h, staff, sportello.EventFilter{}, "")
	first := e.file(t, citizenCtx(tenant1, "alice"), sportello.KindInformation, "")
	firstEvent := recv(t, live, wait)

	// A slow transaction takes an event id and holds it uncommitted while a later one commits.
	// It writes an event of the tenant itself, as a system would.
	sys := db.ForTenant(ctx, tenant1)
	slow, err := e.d.BeginTx(sys, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Rollback()
	if _, err := slow.ExecContext(sys, `INSERT INTO events (tenant_id, ticket_id, type, actor_kind, at)
		VALUES ($1, $2, 'UPDATED', 'SYSTEM', now())`, tenant1, first.ID); err != nil {
		t.Fatal(err)
	}
	fast := e.file(t, citizenCtx(tenant1, "bob"), sportello.KindInformation, "")
	// A subscriber that resumes meanwhile from the first event must get both as well.
	resumed := subscribe(t, h, staff, sportello.EventFilter{}, firstEvent.Position.Cursor())
	// The hub woke up for the fast commit, but nothing after the slow transaction is safe. The
	// check is short because the open transaction holds back the safe horizon of every database
	// on the server, and so the live feeds of tests running in parallel.
	quietFor(t, live, 50*time.Millisecond)
	if err := slow.Commit(); err != nil {
		t.Fatal(err)
	}
	for name, st := range map[string]*sportello.Stream[*sportello.Event]{"live": live, "resumed": resumed} {
		got := collect(t, st, 2)
		if got[0].TicketID != first.ID || got[0].Type != sportello.EventUpdated || got[1].TicketID != fast.ID {
			t.Fatalf("%s: got %s of %s then %s of %s, want the late event first", name,
				got[0].Type, got[0].TicketID, got[1].Type, got[1].TicketID)
		}
		if !firstEvent.Position.Less(got[0].Position) || !got[0].Position.Less(got[1].Position) {
			t.Fatalf("%s: positions out of order", name)
		}
		quiet(t, st)
	}
}

func TestASubscriberThatDoesNotReadIsDroppedAfterSlowAfterAndTheOthersGetEverything(t *testing.T) {
	e := newEnv(t)
	cfg := e.config(t, sharedRedis(t))
	cfg.Buffer = 8
	cfg.SlowAfter = 300 * time.Millisecond
	h, _ := startHub(t, cfg)
	e.d.Notifier = h
	staff := staffCtx(tenant1, "op")
	slow := subscribe(t, h, staff, sportello.EventFilter{}, "")
	slowSub := eventSubs(h, tenant1)[0]
	reader := subscribe(t, h, staff, sportello.EventFilter{}, "")
	var got []*sportello.Event
	var mu sync.Mutex
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for ev := range reader.C {
			mu.Lock()
			got = append(got, ev)
			mu.Unlock()
		}
	}()
	start := e.head(t)

	// The tickets are filed at once: a reader that falls behind in a burst catches up.
	const n = 20
	for range n {
		e.file(t, citizenCtx(tenant1, "alice"), sportello.KindInformation, "")
	}
	eventually(t, wait, "the reader reads every event", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == n
	})
	eventually(t, wait, "the slow subscriber is dropped", func() bool { return slow.Err() != nil })
	dropped := time.Now()
	if !errors.Is(slow.Err(), sportello.ErrSlowConsumer) {
		t.Fatalf("slow subscriber ended with %v, want ErrSlowConsumer", slow.Err())
	}
	// It is dropped SlowAfter after it fell behind, at the first dispatch or poll after that:
	// the last filing is long past by then, so it is a poll that ends it.
	behind := h.epoch.Add(time.Duration(slowSub.lagSince.Load()))
	if after := dropped.Sub(behind); after < cfg.SlowAfter || after > cfg.SlowAfter+cfg.PollInterval+time.Second {
		t.Fatalf("the slow subscriber was dropped %s after it fell behind, want SlowAfter (%s) and at most a poll more", after, cfg.SlowAfter)
	}
	t.Logf("the slow subscriber was dropped %s after it fell behind", dropped.Sub(behind).Round(time.Millisecond))
	// What it had not read is at most its buffer (and the one event its goroutine held), and
	// then its stream is closed.
	kept := 0
	for range slow.C {
		kept++
	}
	if kept > cfg.Buffer+1 {
		t.Fatalf("the dropped subscriber still had %d events, more than its buffer of %d", kept, cfg.Buffer)
	}
	mu.Lock()
	samePositions(t, "reader", got, e.tailAll(t, start, n))
	mu.Unlock()
	if s := h.subscribers(); s != 1 {
		t.Fatalf("the hub holds %d subscribers, want only the reader", s)
	}
	if l := laggingCount(h); l != 0 {
		t.Fatalf("the hub still counts %d subscribers as behind", l)
	}
	if reader.Err() != nil {
		t.Fatalf("reader: %v", reader.Err())
	}
}

// eventSubs returns the tenant's event subscribers.
func eventSubs(h *Hub, tenantID string) []*eventSub {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*eventSub
	if t := h.tenants[tenantID]; t != nil {
		for s := range t.events {
			out = append(out, s)
		}
	}
	return out
}

func laggingCount(h *Hub) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.lagging)
}

// readInBackground reads n events from the stream, pausing after each, and returns a function
// that waits for them.
func readInBackground(t *testing.T, st *sportello.Stream[*sportello.Event], n int, pause time.Duration) func() []*sportello.Event {
	done := make(chan struct{})
	var got []*sportello.Event
	var ended error
	go func() {
		defer close(done)
		for len(got) < n {
			ev, ok := <-st.C
			if !ok {
				ended = fmt.Errorf("the stream ended after %d events: %v", len(got), st.Err())
				return
			}
			got = append(got, ev)
			time.Sleep(pause)
		}
	}()
	return func() []*sportello.Event {
		t.Helper()
		select {
		case <-done:
		case <-time.After(wait):
			t.Fatalf("%d events not received within %s", n, wait)
		}
		if ended != nil {
			t.Fatal(ended)
		}
		return got
	}
}

func TestABurstLargerThanTheBufferReachesEverySubscriberThatReads(t *testing.T) {
	e := newEnv(t)
	cfg := e.config(t, sharedRedis(t))
	cfg.Buffer = 8
	// Shorter than the steady reader takes to read the burst: it must not matter.
	cfg.SlowAfter = 300 * time.Millisecond
	h, _ := startHub(t, cfg)
	e.d.Notifier = h
	ctx := context.Background()
	staff := staffCtx(tenant1, "op")
	alice, bob := citizenCtx(tenant1, "alice"), citizenCtx(tenant1, "bob")
	subs := map[string]*sportello.Stream[*sportello.Event]{
		"prompt": subscribe(t, h, staff, sportello.EventFilter{}, ""),
		"steady": subscribe(t, h, staff, sportello.EventFilter{}, ""),
		"alice":  subscribeCitizen(t, h, alice, ""),
	}
	first := e.file(t, alice, sportello.KindInformation, "")
	var start sportello.Position
	for _, st := range subs {
		start = recv(t, st, wait).Position
	}

	// A transaction holds back the safe horizon while the tickets are filed: when it commits,
	// they all become safe at once and reach the hub in one dispatch, five times the buffer.
	// It writes an event of the tenant itself, as a system would.
	sys := db.ForTenant(ctx, tenant1)
	slow, err := e.d.BeginTx(sys, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Rollback()
	if _, err := slow.ExecContext(sys, `INSERT INTO events (tenant_id, ticket_id, type, actor_kind, at)
		VALUES ($1, $2, 'UPDATED', 'SYSTEM', now())`, tenant1, first.ID); err != nil {
		t.Fatal(err)
	}
	const n = 40
	for i := range n {
		who := alice
		if i%2 == 1 {
			who = bob
		}
		e.file(t, who, sportello.KindInformation, "")
	}
	// The prompt readers read as fast as they can; the steady one takes 20ms per event, 800ms
	// for the burst.
	results := map[string]func() []*sportello.Event{
		"prompt": readInBackground(t, subs["prompt"], n+1, 0),
		"steady": readInBackground(t, subs["steady"], n+1, 20*time.Millisecond),
		"alice":  readInBackground(t, subs["alice"], n/2+1, 0),
	}
	if err := slow.Commit(); err != nil {
		t.Fatal(err)
	}

	want := e.tailAll(t, start, n+1)
	var wantAlice []*sportello.Event
	for _, ev := range want {
		if ev.Ticket.CitizenID == first.CitizenID {
			wantAlice = append(wantAlice, ev)
		}
	}
	if want[0].Type != sportello.EventUpdated || len(wantAlice) != n/2+1 {
		t.Fatalf("the log has %s first and %d events of alice: not the burst the test made", want[0].Type, len(wantAlice))
	}
	for name, result := range results {
		w := want
		if name == "alice" {
			w = wantAlice
		}
		samePositions(t, name, result(), w)
	}
	if c := h.catchUps.Load(); c == 0 {
		t.Fatal("no subscriber fell behind: the test did not exercise a burst")
	} else {
		t.Logf("%d catch-ups from the log", c)
	}
	// Nobody was dropped, and everybody is live again.
	eventually(t, wait, "every subscriber rejoins the live feed", func() bool { return laggingCount(h) == 0 })
	if s := h.subscribers(); s != len(subs) {
		t.Fatalf("the hub holds %d subscribers, want %d", s, len(subs))
	}
	last := e.file(t, alice, sportello.KindInformation, "")
	for name, st := range subs {
		if st.Err() != nil {
			t.Fatalf("%s: %v", name, st.Err())
		}
		if got := recv(t, st, wait); got.TicketID != last.ID {
			t.Fatalf("%s: got %s after the burst, want the last ticket %s", name, got.TicketID, last.ID)
		}
		quiet(t, st)
	}
}

func TestASubscriberThatFallsBehindAgainAndAgainGetsEveryEventOnceInOrder(t *testing.T) {
	e := newEnv(t)
	cfg := e.config(t, sharedRedis(t))
	cfg.Buffer = 2
	h, _ := startHub(t, cfg, func(h *Hub) { h.pageSize = 3 })
	e.d.Notifier = h
	staff := staffCtx(tenant1, "op")
	st := subscribe(t, h, staff, sportello.EventFilter{}, "")
	e.file(t, citizenCtx(tenant1, "alice"), sportello.KindInformation, "")
	start := recv(t, st, wait).Position

	// Three citizens file at once while the subscriber reads a little slower than they file: it
	// falls behind, catches up and rejoins while events keep being dispatched, again and again.
	const filers, each = 3, 20
	var wg sync.WaitGroup
	for i := range filers {
		who := citizenCtx(tenant1, "c"+string(rune('a'+i)))
		wg.Go(func() {
			for range each {
				if _, err := e.tickets.SubmitTicket(who, sportello.SubmitTicketInput{Kind: sportello.KindReport,
					Subject: "Rifiuti", Body: "Cassonetto pieno"}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	var got []*sportello.Event
	for len(got) < filers*each {
		got = append(got, recv(t, st, wait))
		time.Sleep(3 * time.Millisecond)
	}
	wg.Wait()
	samePositions(t, "subscriber", got, e.tailAll(t, start, filers*each))
	quiet(t, st)
	if c := h.catchUps.Load(); c == 0 {
		t.Fatal("the subscriber never fell behind: the test did not exercise a catch-up")
	} else {
		t.Logf("%d catch-ups from the log", c)
	}
	if st.Err() != nil {
		t.Fatalf("subscriber: %v", st.Err())
	}
}

func TestAThousandSubscriptionsOpenedAndClosedLeaveNoGoroutineBehind(t *testing.T) {
	e := newEnv(t)
	h, _ := startHub(t, e.config(t, sharedRedis(t)))
	e.d.Notifier = h
	staff := staffCtx(tenant1, "op")
	old := e.head(t).Cursor()
	// Profiles exist before the measure, so that only the subscriptions are counted.
	citizens := make([]context.Context, 10)
	for i := range citizens {
		citizens[i] = citizenCtx(tenant1, "c"+string(rune('a'+i)))
		if _, err := e.cits.Me(citizens[i]); err != nil {
			t.Fatal(err)
		}
	}
	settle()
	baseline := runtime.NumGoroutine()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	const n = 1000
	cancels := make([]context.CancelFunc, 0, n)
	var streams []*sportello.Stream[*sportello.Event]
	var dashboards []*sportello.Stream[*sportello.Dashboard]
	for i := range n {
		parent := staff
		if i%10 == 1 {
			parent = citizens[i/10%len(citizens)]
		}
		ctx, cancel := context.WithCancel(parent)
		cancels = append(cancels, cancel)
		var err error
		switch i % 10 {
		case 0: // from an old cursor: an empty replay, then live
			var st *sportello.Stream[*sportello.Event]
			st, err = h.TicketEvents(ctx, sportello.EventFilter{}, old)
			streams = append(streams, st)
		case 1:
			var st *sportello.Stream[*sportello.Event]
			st, err = h.MyTicketEvents(ctx, "")
			streams = append(streams, st)
		case 2:
			var st *sportello.Stream[*sportello.Dashboard]
			st, err = h.DashboardChanges(ctx)
			dashboards = append(dashboards, st)
		default:
			var st *sportello.Stream[*sportello.Event]
			st, err = h.TicketEvents(ctx, sportello.EventFilter{Kinds: []sportello.Kind{sportello.KindReport}}, "")
			streams = append(streams, st)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, st := range dashboards {
		recv(t, st, wait)
	}
	if got := h.subscribers(); got != n {
		t.Fatalf("the hub holds %d subscribers, want %d", got, n)
	}
	settle()
	var during runtime.MemStats
	runtime.ReadMemStats(&during)
	perSub := (int64(during.HeapAlloc+during.StackInuse) - int64(before.HeapAlloc+before.StackInuse)) / n
	t.Logf("%d goroutines for %d subscriptions; about %d bytes each, stack included", runtime.NumGoroutine()-baseline, n, perSub)
	if perSub > 30<<10 {
		t.Errorf("an idle subscription takes %d bytes, more than 30 KiB", perSub)
	}

	for _, cancel := range cancels {
		cancel()
	}
	for _, st := range streams {
		for range st.C {
		}
		if err := st.Err(); err != nil {
			t.Fatalf("a stream whose context ended reports %v", err)
		}
	}
	for _, st := range dashboards {
		for range st.C {
		}
	}
	eventually(t, wait, "every subscription leaves the hub", func() bool { return h.subscribers() == 0 })
	eventually(t, wait, "the goroutines return to the baseline", func() bool {
		return runtime.NumGoroutine() <= baseline+3
	})
}

// settle lets goroutines that are finishing finish and collects garbage, before a measure.
func settle() {
	for range 3 {
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
	}
}

func TestShutdownEndsEveryStreamWithItsReason(t *testing.T) {
	e := newEnv(t)
	rdb := sharedRedis(t)
	cfg := e.config(t, rdb)
	h, stop := startHub(t, cfg)
	e.d.Notifier = h
	staff := staffCtx(tenant1, "op")
	e.file(t, citizenCtx(tenant1, "alice"), sportello.KindInformation, "")
	events := []*sportello.Stream[*sportello.Event]{
		subscribe(t, h, staff, sportello.EventFilter{}, ""),
		subscribe(t, h, staff, sportello.EventFilter{}, sportello.Position{}.Cursor()),
		subscribeCitizen(t, h, citizenCtx(tenant1, "alice"), ""),
	}
	dash, err := h.DashboardChanges(staff)
	if err != nil {
		t.Fatal(err)
	}
	recv(t, dash, wait)
	waitSubscribers(t, rdb, cfg.Prefix+":events", 1)

	stop() // returns once Run has returned, or fails the test
	for i, st := range events {
		for range st.C {
		}
		if !errors.Is(st.Err(), sportello.ErrShuttingDown) {
			t.Fatalf("stream %d ended with %v, want ErrShuttingDown", i, st.Err())
		}
	}
	for range dash.C {
	}
	if !errors.Is(dash.Err(), sportello.ErrShuttingDown) {
		t.Fatalf("dashboard stream ended with %v, want ErrShuttingDown", dash.Err())
	}
	_, err = h.TicketEvents(staff, sportello.EventFilter{}, "")
	if !errors.Is(err, sportello.ErrShuttingDown) {
		t.Fatalf("subscribing after shutdown: %v, want ErrShuttingDown", err)
	}
	n, err := rdb.PubSubNumSub(context.Background(), cfg.Prefix+":events").Result()
	if err != nil || n[cfg.Prefix+":events"] != 0 {
		t.Fatalf("the hub is still subscribed to Redis after Run returned: %v %v", n, err)
	}
	// A commit after the shutdown must not block or panic.
	e.file(t, citizenCtx(tenant1, "alice"), sportello.KindInformation, "")
}

// countingDashboards counts the dashboards computed.
type countingDashboards struct {
	sportello.DashboardService
	n atomic.Int64
}

func (c *countingDashboards) TenantDashboard(ctx context.Context, tenantID string) (*sportello.Dashboard, error) {
	c.n.Add(1)
	return c.DashboardService.TenantDashboard(ctx, tenantID)
}

func TestDashboardsAreComputedOncePerIntervalForAllTheTenantsSubscribers(t *testing.T) {
	e := newEnv(t)
	cfg := e.config(t, sharedRedis(t))
	counting := &countingDashboards{DashboardService: e.dash}
	cfg.Dashboards = counting
	cfg.DashboardInterval = 200 * time.Millisecond
	h, _ := startHub(t, cfg)
	e.d.Notifier = h

	const subs, tickets = 5, 12
	var streams []*sportello.Stream[*sportello.Dashboard]
	for i := range subs {
		st, err := h.DashboardChanges(staffCtx(tenant1, "op"+string(rune('a'+i))))
		if err != nil {
			t.Fatal(err)
		}
		if d := recv(t, st, wait); d.OpenByStatus[sportello.StatusSubmitted] != 0 {
			t.Fatalf("first dashboard = %+v, want an empty desk", d)
		}
		streams = append(streams, st)
	}
	began := time.Now()
	initial := counting.n.Load()
	for range tickets {
		e.file(t, citizenCtx(tenant1, "alice"), sportello.KindInformation, "")
	}
	for i, st := range streams {
		last := 0
		for last != tickets {
			d := recv(t, st, wait)
			got := d.OpenByStatus[sportello.StatusSubmitted]
			if got <= last {
				t.Fatalf("subscriber %d: %d submitted after %d: not a change, or going back", i, got, last)
			}
			last = got
		}
	}
	recomputed := counting.n.Load() - initial
	// At most one recomputation per interval since the first event, plus the one that may be
	// under way: never one per subscriber or per event.
	limit := int64(time.Since(began)/cfg.DashboardInterval) + 2
	t.Logf("%d tickets, %d subscribers: %d recomputations", tickets, subs, recomputed)
	if recomputed > limit {
		t.Fatalf("%d recomputations for %d subscribers, more than one per interval (%d)", recomputed, subs, limit)
	}
}

// countingLog counts the reader's reads.
type countingLog struct {
	sportello.EventLog
	tails atomic.Int64
}

func (c *countingLog) Tail(ctx context.Context, after sportello.Position, limit int) ([]*sportello.Event, error) {
	c.tails.Add(1)
	return c.EventLog.Tail(ctx, after, limit)
}

func TestABurstOfCommitsIsCoalesced(t *testing.T) {
	e := newEnv(t)
	rdb := sharedRedis(t)
	cfg := e.config(t, rdb)
	cfg.PollInterval = time.Minute
	counting := &countingLog{EventLog: e.log}
	cfg.Log = counting
	h, _ := startHub(t, cfg)
	listen := rdb.Subscribe(context.Background(), cfg.Prefix+":events")
	defer listen.Close()
	if _, err := listen.Receive(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitSubscribers(t, rdb, cfg.Prefix+":events", 2)

	before := counting.tails.Load()
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			for range 10 {
				h.EventsCommitted(context.Background(), tenant1)
			}
		})
	}
	wg.Wait()
	// One announcement at least goes out. The reads are counted once the reader's follow-ups
	// are over (they end 2.62s after the last wake-up, and the poll is a minute away); a reader
	// that did not coalesce would have read about a hundred times during the burst itself.
	msg, err := listen.ReceiveMessage(context.Background())
	if err != nil || msg.Payload != tenant1 {
		t.Fatalf("announcement %v, %v", msg, err)
	}
	time.Sleep(3 * time.Second)
	announcements := 1
	for {
		m, err := listen.ReceiveTimeout(context.Background(), 100*time.Millisecond)
		if err != nil {
			break
		}
		if _, ok := m.(*redis.Message); ok {
			announcements++
		}
	}
	reads := counting.tails.Load() - before
	t.Logf("100 commits: %d reads, %d announcements", reads, announcements)
	if reads > 15 || announcements > 10 {
		t.Fatalf("100 commits caused %d reads and %d announcements: not coalesced", reads, announcements)
	}
}

func TestASubscriptionThatGoesSilentIsReplaced(t *testing.T) {
	e := newEnv(t)
	rdb := sharedRedis(t)
	p := startProxy(t, rdb.Options().Addr)
	cfgA := e.config(t, rdb)
	cfgA.PollInterval = time.Minute // what arrives within the test came through Redis
	cfgB := cfgA
	viaProxy := *rdb.Options()
	viaProxy.Addr = p.addr()
	cfgB.Redis = redis.NewClient(&viaProxy)
	t.Cleanup(func() { cfgB.Redis.Close() })
	a, _ := startHub(t, cfgA)
	b, _ := startHub(t, cfgB, func(h *Hub) { h.health = 200 * time.Millisecond })
	waitSubscribers(t, rdb, cfgA.Prefix+":events", 2)
	e.d.Notifier = a
	st := subscribe(t, b, staffCtx(tenant1, "op"), sportello.EventFilter{}, "")
	tk := e.file(t, citizenCtx(tenant1, "alice"), sportello.KindInformation, "")
	if got := recv(t, st, prompt); got.TicketID != tk.ID {
		t.Fatalf("got %s, want %s", got.TicketID, tk.ID)
	}

	// B's connection dies silently: its announcement is lost, but B notices that its ping goes
	// unanswered, subscribes on a new connection and reads what it missed.
	subscribed := b.subscriptions.Load()
	p.freeze()
	tk = e.file(t, citizenCtx(tenant1, "alice"), sportello.KindInformation, "")
	if got := recv(t, st, prompt); got.TicketID != tk.ID {
		t.Fatalf("got %s, want %s", got.TicketID, tk.ID)
	}
	eventually(t, prompt, "B subscribes on a new connection", func() bool { return b.subscriptions.Load() > subscribed })
	heard := b.redisMessages.Load()
	tk = e.file(t, citizenCtx(tenant1, "alice"), sportello.KindInformation, "")
	eventually(t, prompt, "B hears of commits through Redis again", func() bool { return b.redisMessages.Load() > heard })
	if got := recv(t, st, prompt); got.TicketID != tk.ID {
		t.Fatalf("got %s, want %s", got.TicketID, tk.ID)
	}
}

func TestStreamEndIsCalledWithTheReasonBeforeTheChannelCloses(t *testing.T) {
	e := newEnv(t)
	cfg := e.config(t, nil)
	h, stop := startHub(t, cfg)
	e.d.Notifier = h
	type ended struct {
		err    error
		closed bool // the channel was already closed when end was called
	}
	var mu sync.Mutex
	calls := map[string][]ended{}
	withEnd := func(ctx context.Context, name string, c func() <-chan *sportello.Event) context.Context {
		return sportello.WithStreamEnd(ctx, func(err error) {
			closed := false
			if c != nil {
				select {
				case _, ok := <-c():
					closed = !ok
				default:
				}
			}
			mu.Lock()
			calls[name] = append(calls[name], ended{err, closed})
			mu.Unlock()
		})
	}
	staff := staffCtx(tenant1, "op")
	var liveC, gone, replayC <-chan *sportello.Event
	live := subscribe(t, h, withEnd(staff, "live", func() <-chan *sportello.Event { return liveC }), sportello.EventFilter{}, "")
	liveC = live.C
	cancelCtx, cancel := context.WithCancel(staff)
	cancelled := subscribe(t, h, withEnd(cancelCtx, "cancelled", func() <-chan *sportello.Event { return gone }), sportello.EventFilter{}, "")
	gone = cancelled.C
	replaying := subscribe(t, h, withEnd(staff, "replaying", func() <-chan *sportello.Event { return replayC }), sportello.EventFilter{}, sportello.Position{}.Cursor())
	replayC = replaying.C
	dash, err := h.DashboardChanges(withEnd(staff, "dashboard", nil))
	if err != nil {
		t.Fatal(err)
	}
	recv(t, dash, wait)

	cancel()
	for range cancelled.C {
	}
	if cancelled.Err() != nil {
		t.Fatalf("a stream whose context ended reports %v", cancelled.Err())
	}
	stop()
	for _, st := range []*sportello.Stream[*sportello.Event]{live, replaying} {
		for range st.C {
		}
	}
	for range dash.C {
	}
	mu.Lock()
	defer mu.Unlock()
	if c := calls["cancelled"]; len(c) != 0 {
		t.Fatalf("end was called for a stream whose context ended: %v", c)
	}
	for _, name := range []string{"live", "replaying", "dashboard"} {
		c := calls[name]
		if len(c) != 1 || !errors.Is(c[0].err, sportello.ErrShuttingDown) || c[0].closed {
			t.Fatalf("%s: end calls %+v, want one with ErrShuttingDown before the channel closed", name, c)
		}
	}
}
