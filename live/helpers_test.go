package live

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
	"github.com/sportello/sportello/db/dbtest"
)

// wait is how long a test waits for something that should happen; it is generous because it
// only bounds failures, never successes.
const wait = 10 * time.Second

// prompt is how soon something is expected when Redis, not the poll, should deliver it.
const prompt = 3 * time.Second

// env is a fresh database with the services the feed is built on.
type env struct {
	d       *db.DB
	tickets *db.TicketService
	log     *db.EventLog
	dash    *db.DashboardService
	cits    *db.CitizenService
}

func newEnv(t *testing.T) *env {
	t.Helper()
	d := dbtest.New(t)
	return &env{d: d, tickets: db.NewTicketService(d), log: db.NewEventLog(d),
		dash: db.NewDashboardService(d), cits: db.NewCitizenService(d)}
}

// config returns a hub configuration over the environment, with a channel prefix of its own so
// that tests and packages sharing a Redis server do not wake each other.
func (e *env) config(t *testing.T, rdb redis.UniversalClient) Config {
	return Config{Log: e.log, Dashboards: e.dash, Citizens: e.cits, Redis: rdb, Prefix: uniquePrefix(),
		PollInterval: 200 * time.Millisecond, Logger: testLogger(t)}
}

func uniquePrefix() string {
	var b [6]byte
	rand.Read(b[:])
	return "sportello-test-" + hex.EncodeToString(b[:])
}

// testLogger sends the hub's log to the test's log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// startHub runs a hub until the test ends or stop is called, and waits until it is ready.
func startHub(t *testing.T, cfg Config, tweak ...func(*Hub)) (h *Hub, stop func()) {
	t.Helper()
	h = New(cfg)
	for _, f := range tweak {
		f(h)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	stop = sync.OnceFunc(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(wait):
			t.Errorf("Run did not return within %s of its context ending", wait)
		}
	})
	t.Cleanup(stop)
	select {
	case <-h.ready:
	case <-time.After(wait):
		t.Fatal("the hub did not read its first cursor")
	}
	return h, stop
}

func citizenCtx(tenantID, subject string) context.Context {
	return sportello.WithUser(context.Background(), &sportello.User{
		TenantID: tenantID, Subject: subject, Roles: []sportello.Role{sportello.RoleCitizen},
		GivenName: "Mario", FamilyName: "Rossi " + subject, Email: subject + "@example.it",
	})
}

func staffCtx(tenantID, subject string) context.Context {
	return sportello.WithUser(context.Background(), &sportello.User{
		TenantID: tenantID, Subject: subject, Roles: []sportello.Role{sportello.RoleOperator},
		GivenName: "Anna", FamilyName: "Operatrice",
	})
}

// file submits a ticket as the citizen.
func (e *env) file(t testing.TB, ctx context.Context, kind sportello.Kind, officeID string) *sportello.Ticket {
	t.Helper()
	sub, err := e.tickets.SubmitTicket(ctx, sportello.SubmitTicketInput{Kind: kind, OfficeID: officeID,
		Subject: "Buca in via Roma", Body: "Una buca pericolosa davanti al civico 12."})
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	return sub.Ticket
}

// tailAll reads every event after the position, waiting until there are n: transaction ids are
// shared by the databases of the server, so another test's transaction can hold back the safe
// horizon for a moment.
func (e *env) tailAll(t *testing.T, from sportello.Position, n int) []*sportello.Event {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		var all []*sportello.Event
		cursor := from
		for {
			page, err := e.log.Tail(context.Background(), cursor, 100)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, page...)
			if len(page) < 100 {
				break
			}
			cursor = page[len(page)-1].Position
		}
		if len(all) >= n || time.Now().After(deadline) {
			if len(all) != n {
				t.Fatalf("the log has %d events after %v, want %d", len(all), from, n)
			}
			return all
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (e *env) head(t *testing.T) sportello.Position {
	t.Helper()
	p, err := e.log.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// recv returns the stream's next value, failing if it does not come within d or the stream ends.
func recv[T any](t *testing.T, st *sportello.Stream[T], d time.Duration) T {
	t.Helper()
	select {
	case v, ok := <-st.C:
		if !ok {
			t.Fatalf("the stream ended: %v", st.Err())
		}
		return v
	case <-time.After(d):
		t.Fatalf("nothing received within %s", d)
	}
	panic("unreachable")
}

// collect returns the stream's next n events.
func collect(t *testing.T, st *sportello.Stream[*sportello.Event], n int) []*sportello.Event {
	t.Helper()
	out := make([]*sportello.Event, 0, n)
	for len(out) < n {
		out = append(out, recv(t, st, wait))
	}
	return out
}

// quiet checks that nothing more arrives for a moment. It can only miss a failure, never
// invent one.
func quiet(t *testing.T, st *sportello.Stream[*sportello.Event]) {
	t.Helper()
	quietFor(t, st, 150*time.Millisecond)
}

func quietFor(t *testing.T, st *sportello.Stream[*sportello.Event], d time.Duration) {
	t.Helper()
	select {
	case e, ok := <-st.C:
		if ok {
			t.Fatalf("unexpected event %s of ticket %s (internal %v)", e.Type, e.TicketID, e.Internal)
		}
		t.Fatalf("the stream ended: %v", st.Err())
	case <-time.After(d):
	}
}

// samePositions checks that got is exactly want, in order.
func samePositions(t *testing.T, name string, got, want []*sportello.Event) {
	t.Helper()
	for i := 1; i < len(got); i++ {
		if !got[i-1].Position.Less(got[i].Position) {
			t.Fatalf("%s: position %d (%v) does not follow %v: a duplicate or a reordering", name, i, got[i].Position, got[i-1].Position)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%s: received %d events, the log has %d", name, len(got), len(want))
	}
	for i := range want {
		if got[i].Position != want[i].Position {
			t.Fatalf("%s: event %d is at %v, the log has %v there: a gap", name, i, got[i].Position, want[i].Position)
		}
	}
}

func subscribe(t *testing.T, h *Hub, ctx context.Context, f sportello.EventFilter, after string) *sportello.Stream[*sportello.Event] {
	t.Helper()
	st, err := h.TicketEvents(ctx, f, after)
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	return st
}

func subscribeCitizen(t *testing.T, h *Hub, ctx context.Context, after string) *sportello.Stream[*sportello.Event] {
	t.Helper()
	st, err := h.MyTicketEvents(ctx, after)
	if err != nil {
		t.Fatalf("subscribe citizen: %v", err)
	}
	return st
}

// eventually waits until cond holds.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func wantCode(t *testing.T, err error, code sportello.Code) {
	t.Helper()
	if got := sportello.ErrorCode(err); err == nil || got != code {
		t.Fatalf("error = %v, want code %s", err, code)
	}
}

// sharedRedis connects to the Redis of REDIS_URL.
func sharedRedis(t *testing.T) *redis.Client {
	t.Helper()
	u := os.Getenv("REDIS_URL")
	if u == "" {
		t.Fatal("REDIS_URL is not set: run the tests with `make test`, or `. .data/env` first, which points them at the local Redis")
	}
	opts, err := redis.ParseURL(u)
	if err != nil {
		t.Fatalf("REDIS_URL: %v", err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("REDIS_URL does not answer: %v", err)
	}
	return rdb
}

// waitSubscribers waits until the channel has n subscribers, so that a test does not publish
// before a hub listens.
func waitSubscribers(t *testing.T, rdb *redis.Client, channel string, n int64) {
	t.Helper()
	eventually(t, wait, fmt.Sprintf("%d subscribers on %s", n, channel), func() bool {
		got, err := rdb.PubSubNumSub(context.Background(), channel).Result()
		return err == nil && got[channel] >= n
	})
}

// redisServer is a redis-server process of the test's own, which it can stop and restart.
type redisServer struct {
	t    *testing.T
	port int
	args []string
	cmd  *exec.Cmd
}

func redisServerPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal("redis-server is not on PATH: the fault tests start their own Redis servers (apt-get install redis-server)")
	}
	return p
}

// startRedisServer starts a redis-server on a free port, killed when the test ends.
func startRedisServer(t *testing.T, extra ...string) *redisServer {
	t.Helper()
	redisServerPath(t)
	port := freePort(t)
	r := &redisServer{t: t, port: port, args: append([]string{"--port", strconv.Itoa(port), "--save", "",
		"--appendonly", "no", "--bind", "127.0.0.1", "--dir", t.TempDir()}, extra...)}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

func (r *redisServer) start() {
	r.t.Helper()
	r.cmd = exec.Command(redisServerPath(r.t), r.args...)
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("start redis-server: %v", err)
	}
	c := redis.NewClient(&redis.Options{Addr: r.addr(), MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	eventually(r.t, wait, "redis-server on "+r.addr()+" answers", func() bool {
		return c.Ping(context.Background()).Err() == nil
	})
}

func (r *redisServer) stop() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Kill()
	r.cmd.Wait()
	r.cmd = nil
}

// freePort returns a port that is free, and whose cluster bus port (10000 above) is free too.
func freePort(t *testing.T) int {
	t.Helper()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if port+10000 > 65535 {
			continue
		}
		bus, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+10000))
		if err != nil {
			continue
		}
		bus.Close()
		return port
	}
	t.Fatal("no free port")
	return 0
}

// startCluster starts a three-node Redis Cluster and returns its nodes' addresses.
func startCluster(t *testing.T) []string {
	t.Helper()
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Fatal("redis-cli is not on PATH: the cluster test creates its cluster with it")
	}
	dir := t.TempDir()
	var addrs []string
	for i := range 3 {
		r := startRedisServer(t, "--cluster-enabled", "yes", "--cluster-config-file",
			filepath.Join(dir, fmt.Sprintf("nodes-%d.conf", i)), "--cluster-node-timeout", "5000")
		addrs = append(addrs, r.addr())
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	began := time.Now()
	defer func() { t.Logf("cluster ready in %s", time.Since(began)) }()
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a})
		eventually(t, wait, "cluster_state:ok on "+a, func() bool {
			info, err := c.ClusterInfo(context.Background()).Result()
			return err == nil && strings.Contains(info, "cluster_state:ok")
		})
		c.Close()
	}
	return addrs
}

// proxy forwards TCP connections to a target and can freeze the ones it holds: they stay open
// but carry nothing either way, as when a network path dies without a reset. New connections
// are forwarded normally.
type proxy struct {
	l      net.Listener
	target string

	mu    sync.Mutex
	conns []*proxyConn
}

type proxyConn struct {
	client, server net.Conn
	frozen         atomic.Bool
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l, target: target}
	go p.serve()
	t.Cleanup(func() {
		l.Close()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, c := range p.conns {
			c.client.Close()
			c.server.Close()
		}
	})
	return p
}

func (p *proxy) addr() string { return p.l.Addr().String() }

func (p *proxy) serve() {
	for {
		client, err := p.l.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		c := &proxyConn{client: client, server: server}
		p.mu.Lock()
		p.conns = append(p.conns, c)
		p.mu.Unlock()
		go c.pipe(client, server)
		go c.pipe(server, client)
	}
}

// pipe copies from src to dst, dropping what it reads while the connection is frozen.
func (c *proxyConn) pipe(src, dst net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !c.frozen.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// freeze makes every connection open now silent.
func (p *proxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.frozen.Store(true)
	}
}
