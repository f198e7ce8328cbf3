//go:build linux

package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db/dbtest"
	"github.com/sportello/sportello/server/auth"
)

// ---------------------------------------------------------------------------------------------
// BenchmarkFanout

const (
	// fanoutDeliveries is the load of every case, in events delivered per second over all
	// subscribers: tickets are filed at fanoutDeliveries/N per second (20/s to 1,000
	// subscribers, 2/s to 10,000), so that the cases differ only in how many subscribers share
	// the work. FANOUT_RATE=<tickets per second> overrides the rate of every case.
	fanoutDeliveries = 20000
	// fanoutRound is how long one iteration (b.N) files tickets.
	fanoutRound = 10 * time.Second
	// fanoutDialers is how many subscribers connect at once.
	fanoutDialers = 100
	// fanoutIdle is how long the server is left alone before each reading of its memory.
	fanoutIdle = 2 * time.Second
	// fanoutDeadline is how long after the last filing every event must have arrived.
	fanoutDeadline = 30 * time.Second
	// fanoutOperators and fanoutCitizens are how many distinct users subscribe and file.
	fanoutOperators = 50
	fanoutCitizens  = 4
	// fanoutSecret signs the development tokens of the server process the benchmark starts.
	fanoutSecret = "bench-fanout-development-secret-of-at-least-32-bytes"
	// fanoutRateLimit is the request budget per minute, per address and per user, of the
	// server process: far above what the benchmark sends.
	fanoutRateLimit = "100000000"

	fanoutSubscription = `subscription { ticketEvents { cursor type ticket { id protocolNumber } } }`
	fanoutMutation     = `mutation Submit($input: SubmitTicketInput!) { submitTicket(input: $input) { protocolNumber } }`
)

// BenchmarkFanout measures the live feed end to end: the server runs as its own process, N
// operators' dashboards are subscribed to ticketEvents over their own WebSocket, and citizens
// file tickets over HTTP at a steady rate. It reports the server's memory per idle subscriber
// and the delay from each submitTicket response to each subscriber's event; it fails if any
// subscriber misses an event or gets one twice. See the package documentation.
func BenchmarkFanout(b *testing.B) {
	bin := buildServer(b)
	redisURL := os.Getenv("REDIS_URL")
	if redisURL == "" {
		b.Fatal("REDIS_URL is not set: run the benchmarks with `make bench`, which starts PostgreSQL and Redis")
	}
	var rate float64
	if s := os.Getenv("FANOUT_RATE"); s != "" {
		var err error
		if rate, err = strconv.ParseFloat(s, 64); err != nil || rate <= 0 || rate > 1000 {
			b.Fatalf("FANOUT_RATE=%q: want tickets per second, more than 0 and at most 1000", s)
		}
	}
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			r := rate
			if r == 0 {
				r = float64(fanoutDeliveries) / float64(n)
			}
			benchFanout(b, bin, redisURL, n, r)
		})
	}
}

// benchFanout runs one case: n subscribers, tickets filed at rate per second.
func benchFanout(b *testing.B, bin, redisURL string, n int, rate float64) {
	// Filings are spaced by a fixed interval in an open loop: each starts on schedule whether
	// or not the previous ones have been answered, so that a slow server shows up as latency
	// rather than as fewer filings (no coordinated omission).
	interval := time.Duration(float64(time.Second) / rate)
	tickets := max(1, int(fanoutRound/interval)) * b.N
	srv := startServerProcess(b, bin, dbtest.NewURL(b), redisURL)
	st := &fanoutState{start: time.Now()}
	st.threshold.Store(math.MaxUint64) // nothing counts until the measured filings
	operators := mintTokens(b, sportello.RoleOperator, "fanout-operator", fanoutOperators)
	filer := &fanoutFiler{url: srv.url, state: st, client: newLoopbackClient(),
		tokens: mintTokens(b, sportello.RoleCitizen, "fanout-citizen", fanoutCitizens)}
	defer filer.client.CloseIdleConnections()

	// Warm up: every citizen files once (which creates their profile), and one subscriber sees
	// those events. That the probe received them also means that the feed's cursor has moved
	// past them, so the subscribers connected next will not receive them. The probe has its own
	// state, so that it counts for nothing in the measurement.
	probe, err := dialSubscriber(srv.url, operators[0], &fanoutState{start: st.start}, fanoutCitizens)
	if err != nil {
		b.Fatalf("probe subscriber: %v", err)
	}
	var warmup []uint64
	for i := range fanoutCitizens {
		f := filer.submit(i)
		if f.err != nil {
			b.Fatalf("warm-up filing: %v", f.err)
		}
		warmup = append(warmup, f.key)
	}
	if err := probe.waitFor(warmup, 10*time.Second); err != nil {
		b.Fatalf("probe subscriber: %v", err)
	}
	probe.close()

	time.Sleep(fanoutIdle)
	rssBefore := srv.rssKiB(b)
	connectStart := time.Now()
	subs := connectSubscribers(b, srv.url, operators, n, st, tickets+16)
	connectTime := time.Since(connectStart)
	time.Sleep(fanoutIdle)
	rssAfter := srv.rssKiB(b)
	b.Logf("%d subscribers connected in %v; server RSS %d KiB before, %d KiB after",
		n, connectTime.Round(time.Millisecond), rssBefore, rssAfter)

	// The protocol does not acknowledge a subscribe, so the subscriptions are known to be in
	// place only once an event reaches them: file sentinel tickets until every subscriber has
	// seen one. The measured tickets come after, with higher protocol numbers.
	lastSentinel := armSubscribers(b, filer, subs, st)
	st.threshold.Store(lastSentinel + 1)

	expected := int64(n) * int64(tickets)
	loadBefore := loadAverage()
	cpuBefore := srv.cpuTime(b)
	clientBefore := selfCPUTime()
	b.ResetTimer()
	filings, late := filer.fileAtRate(tickets, interval)
	filed := time.Now()
	waitDelivered(st, expected, filed.Add(fanoutDeadline))
	b.StopTimer()
	drain := time.Since(filed)
	serverCPU := srv.cpuTime(b) - cpuBefore
	clientCPU := selfCPUTime() - clientBefore
	elapsed := time.Since(filed.Add(-time.Duration(tickets) * interval))

	failed := 0
	for _, f := range filings {
		if f.err != nil {
			failed++
		}
	}
	for i, f := range filings {
		if f.err != nil {
			b.Fatalf("%d of %d filings failed; the first, filing %d: %v", failed, tickets, i, f.err)
		}
	}
	time.Sleep(200 * time.Millisecond) // room for a late duplicate to show up
	r := analyse(subs, filings, st.threshold.Load())

	b.ReportMetric(0, "ns/op") // the time per round is set by the rate, not by the server
	b.ReportMetric(float64(rssAfter-rssBefore)/float64(n), "KiB/subscriber")
	b.ReportMetric(ms(r.percentile(0.50)), "p50-ms")
	b.ReportMetric(ms(r.percentile(0.99)), "p99-ms")
	b.ReportMetric(ms(r.percentile(1)), "max-ms")
	b.ReportMetric(float64(r.delivered), "delivered")
	b.ReportMetric(float64(expected), "expected")
	b.Logf("filed %d tickets at %.3g/s (%d filings started more than 10 ms late); all events in %v after the last response",
		tickets, rate, late, drain.Round(time.Millisecond))
	b.Logf("latency over %d deliveries: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, p99.9 %.1f ms, max %.1f ms; %d arrived before the response (counted as 0)",
		len(r.latencies), ms(r.percentile(0.5)), ms(r.percentile(0.9)), ms(r.percentile(0.99)), ms(r.percentile(0.999)),
		ms(r.percentile(1)), r.early)
	b.Logf("per ticket, the first subscriber to get it: p50 %.1f ms, p90 %.1f ms, max %.1f ms; the last: p50 %.1f ms, p90 %.1f ms, max %.1f ms",
		ms(quantile(r.first, 0.5)), ms(quantile(r.first, 0.9)), ms(quantile(r.first, 1)),
		ms(quantile(r.last, 0.5)), ms(quantile(r.last, 0.9)), ms(quantile(r.last, 1)))
	b.Logf("server CPU %.2f s over %.1f s (%.0f%% of one core, %.1f µs per delivered event); benchmark process CPU %.2f s (%d cores)",
		serverCPU.Seconds(), elapsed.Seconds(), 100*serverCPU.Seconds()/elapsed.Seconds(),
		float64(serverCPU.Microseconds())/float64(max(r.delivered, 1)), clientCPU.Seconds(), runtime.NumCPU())
	// Other work on the machine, or long transactions anywhere in the PostgreSQL cluster (which
	// hold back what the feed may read), show up in the latencies: the load average hints whether they did.
	b.Logf("load average before the filings: %s; after: %s", loadBefore, loadAverage())

	for _, s := range subs {
		if err := s.failure(); err != nil {
			b.Errorf("a subscriber's connection ended: %v", err)
			break
		}
	}
	if r.unknown > 0 {
		b.Errorf("%d events of tickets the benchmark did not file", r.unknown)
	}
	if r.duplicates > 0 {
		b.Errorf("%d events delivered twice to the same subscriber", r.duplicates)
	}
	if r.delivered != expected {
		b.Errorf("%d events delivered, %d expected (%d subscribers × %d tickets): %d subscribers missed some within %v of the last filing",
			r.delivered, expected, n, tickets, r.incomplete, fanoutDeadline)
	}
}

// fanoutState is what the subscribers' readers share with the benchmark.
type fanoutState struct {
	start time.Time // receipts and responses are times since start, on the monotonic clock
	// threshold is the first protocol key of the measured tickets; events of lower keys are
	// warm-up and sentinels.
	threshold atomic.Uint64
	measured  atomic.Int64 // events of measured tickets received, over all subscribers
	armed     atomic.Int64 // subscribers that have received at least one event
	ended     atomic.Int64 // subscribers whose connection ended
}

func (st *fanoutState) now() time.Duration { return time.Since(st.start) }

// protocolKey turns a protocol number "YYYY/NNNNNNN" into a number that orders like it.
func protocolKey(pn []byte) (uint64, error) {
	year, seq, ok := bytes.Cut(pn, []byte("/"))
	if !ok {
		return 0, fmt.Errorf("protocol number %q", pn)
	}
	y, err1 := strconv.ParseUint(string(year), 10, 32)
	s, err2 := strconv.ParseUint(string(seq), 10, 32)
	if err1 != nil || err2 != nil || s >= 1e9 {
		return 0, fmt.Errorf("protocol number %q", pn)
	}
	return y*1e9 + s, nil
}

// ---------------------------------------------------------------------------------------------
// The server process

// buildServer builds the server binary into a temporary directory.
func buildServer(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "sportello")
	start := time.Now()
	// The benchmark runs in bench/, so the server's package is ../server.
	if out, err := exec.Command("go", "build", "-o", bin, "../server").CombinedOutput(); err != nil {
		b.Fatalf("go build ../server: %v\n%s", err, out)
	}
	b.Logf("built the server in %v", time.Since(start).Round(time.Millisecond))
	return bin
}

// serverProcess is `sportello serve` running as a child process.
type serverProcess struct {
	url  string
	cmd  *exec.Cmd
	out  *tailBuffer
	done chan struct{} // closed when the process has exited and been waited for
}

// startServerProcess runs `serve` on a free loopback port and waits until it is ready. The
// process is stopped when the benchmark ends, and killed by the kernel if the benchmark
// process dies first (a -timeout panic does not run cleanups).
func startServerProcess(b *testing.B, bin, databaseURL, redisURL string) *serverProcess {
	b.Helper()
	addr := freeAddr(b)
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+databaseURL, "REDIS_URL="+redisURL, "LISTEN_ADDR="+addr,
		"AUTH_DEV_SECRET="+fanoutSecret, "APP_ENV=development",
		// The benchmark's few users and its one address would spend the abuse budgets (every
		// WebSocket upgrade counts as an anonymous request of the address) in seconds.
		"RATE_IP_PER_MINUTE="+fanoutRateLimit, "RATE_USER_PER_MINUTE="+fanoutRateLimit)
	p := &serverProcess{url: "http://" + addr, cmd: cmd, out: &tailBuffer{max: 64 << 10}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}

	// Pdeathsig fires when the thread that started the child exits, not the process: the
	// goroutine keeps its thread locked until the child has exited.
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			runtime.UnlockOSThread()
			return
		}
		started <- nil
		cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		b.Fatalf("start the server: %v", err)
	}
	b.Cleanup(func() { p.stop(b) })

	client := newLoopbackClient()
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := client.Get(p.url + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-p.done:
			b.Fatalf("the server exited before it was ready:\n%s", p.out)
		default:
		}
		if time.Now().After(deadline) {
			b.Fatalf("the server was not ready within 30 s:\n%s", p.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and kills the process if it has not exited within 10 s.
func (p *serverProcess) stop(b *testing.B) {
	b.Helper()
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		b.Logf("the server did not exit within 10 s of SIGTERM: killing it")
		p.cmd.Process.Kill()
		<-p.done
	}
	if b.Failed() {
		b.Logf("server output (last 64 KiB):\n%s", p.out)
	}
}

// rssKiB reads the process's resident set size from /proc.
func (p *serverProcess) rssKiB(b *testing.B) int64 {
	b.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		b.Fatalf("read the server's memory: %v", err)
	}
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				b.Fatalf("VmRSS %q: %v", rest, err)
			}
			return kib
		}
	}
	b.Fatalf("no VmRSS in /proc/%d/status", p.cmd.Process.Pid)
	return 0
}

// cpuTime reads the process's user and system CPU time from /proc, in clock ticks of 10 ms
// (USER_HZ is 100 on every Linux architecture Go supports).
func (p *serverProcess) cpuTime(b *testing.B) time.Duration {
	b.Helper()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		b.Fatalf("read the server's CPU time: %v", err)
	}
	// The command name, in parentheses, may contain spaces: the fields after it are fixed.
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(fields) < 13 {
		b.Fatalf("/proc/%d/stat: %q", p.cmd.Process.Pid, stat)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("/proc/%d/stat: %q", p.cmd.Process.Pid, stat)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// loadAverage returns the first three fields of /proc/loadavg.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	fields := strings.Fields(string(data))
	return strings.Join(fields[:min(3, len(fields))], " ")
}

func selfCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func freeAddr(b *testing.B) string {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// newLoopbackClient returns an HTTP client that never goes through a proxy.
func newLoopbackClient() *http.Client {
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{Proxy: nil, MaxIdleConns: 64, MaxIdleConnsPerHost: 64, IdleConnTimeout: time.Minute},
	}
}

// tailBuffer keeps the last max bytes written to it, for the server's output.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

func mintTokens(b *testing.B, role sportello.Role, prefix string, n int) []string {
	b.Helper()
	tokens := make([]string, n)
	for i := range tokens {
		subject := fmt.Sprintf("%s-%03d", prefix, i)
		tok, err := auth.MintDev(fanoutSecret, auth.Claims{Subject: subject, Roles: []sportello.Role{role},
			GivenName: "Nome", FamilyName: fmt.Sprintf("Prova%03d", i), Email: subject + "@example.it"}, 2*time.Hour)
		if err != nil {
			b.Fatal(err)
		}
		tokens[i] = tok
	}
	return tokens
}

// ---------------------------------------------------------------------------------------------
// Filing

// fanoutFiler files tickets over HTTP as the citizens, in turn.
type fanoutFiler struct {
	url    string
	tokens []string
	client *http.Client
	state  *fanoutState
	next   atomic.Int64 // the next ticket text
}

// filing is one submitTicket: the protocol number it returned and when its response arrived.
type filing struct {
	key uint64
	at  time.Duration
	err error
}

func (f *fanoutFiler) submit(citizen int) filing {
	i := int(f.next.Add(1))
	text := ticketTexts[i%len(ticketTexts)]
	body, _ := json.Marshal(map[string]any{"query": fanoutMutation, "variables": map[string]any{"input": map[string]any{
		"kind": benchKinds[i%len(benchKinds)], "channel": sportello.ChannelApp,
		"subject": text.subject, "body": text.body,
	}}})
	req, err := http.NewRequest(http.MethodPost, f.url+"/graphql", bytes.NewReader(body))
	if err != nil {
		return filing{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+f.tokens[citizen%len(f.tokens)])
	res, err := f.client.Do(req)
	if err != nil {
		return filing{err: err}
	}
	data, err := io.ReadAll(res.Body)
	res.Body.Close()
	at := f.state.now()
	if err != nil {
		return filing{err: err}
	}
	var out struct {
		Data *struct {
			SubmitTicket struct {
				ProtocolNumber string `json:"protocolNumber"`
			} `json:"submitTicket"`
		} `json:"data"`
		Errors []json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(data, &out); err != nil || len(out.Errors) > 0 || out.Data == nil {
		return filing{err: fmt.Errorf("submitTicket: HTTP %d: %s", res.StatusCode, data)}
	}
	key, err := protocolKey([]byte(out.Data.SubmitTicket.ProtocolNumber))
	return filing{key: key, at: at, err: err}
}

// fileAtRate files n tickets on a fixed schedule, one every interval, each in its own
// goroutine. It returns the filings in order and how many started more than 10 ms late.
func (f *fanoutFiler) fileAtRate(n int, interval time.Duration) ([]filing, int) {
	filings := make([]filing, n)
	start := time.Now()
	late := 0
	var wg sync.WaitGroup
	for i := range n {
		due := start.Add(time.Duration(i) * interval)
		time.Sleep(time.Until(due))
		if time.Since(due) > 10*time.Millisecond {
			late++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			filings[i] = f.submit(i)
		}()
	}
	wg.Wait()
	return filings, late
}

// armSubscribers files sentinel tickets until every subscriber has received an event, and
// returns the key of the last sentinel.
func armSubscribers(b *testing.B, f *fanoutFiler, subs []*subscriber, st *fanoutState) uint64 {
	b.Helper()
	deadline := time.Now().Add(fanoutDeadline)
	var last uint64
	for round := 0; ; round++ {
		s := f.submit(round)
		if s.err != nil {
			b.Fatalf("sentinel filing: %v", s.err)
		}
		last = s.key
		wait := time.Now().Add(5 * time.Second)
		for st.armed.Load() < int64(len(subs)) && st.ended.Load() == 0 && time.Now().Before(wait) {
			time.Sleep(5 * time.Millisecond)
		}
		switch {
		case st.ended.Load() > 0:
			for _, s := range subs {
				if err := s.failure(); err != nil {
					b.Fatalf("a subscriber's connection ended before the measurement: %v", err)
				}
			}
		case st.armed.Load() == int64(len(subs)):
			if round > 0 {
				b.Logf("%d sentinel tickets until every subscriber had received an event", round+1)
			}
			return last
		case time.Now().After(deadline):
			b.Fatalf("after %v, %d of %d subscribers have received no event", fanoutDeadline,
				int64(len(subs))-st.armed.Load(), len(subs))
		}
	}
}

// waitDelivered waits until every measured event has arrived, a subscriber's connection ended,
// or the deadline passed.
func waitDelivered(st *fanoutState, expected int64, deadline time.Time) {
	for st.measured.Load() < expected && st.ended.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
}

// ---------------------------------------------------------------------------------------------
// Subscribers

// subscriber is one dashboard: a WebSocket connection with one ticketEvents subscription, and
// one goroutine reading it.
type subscriber struct {
	conn  *websocket.Conn
	state *fanoutState
	acked chan struct{} // closed on connection_ack
	done  chan struct{} // closed when the reader has returned
	err   error         // why the reader returned; set before done is closed

	mu       sync.Mutex
	receipts []receipt
}

// receipt is an event as a subscriber received it.
type receipt struct {
	key uint64        // of the protocol number
	at  time.Duration // since fanoutState.start
}

var protocolField = []byte(`"protocolNumber":"`)

// dialSubscriber connects, authenticates and subscribes.
func dialSubscriber(base, token string, st *fanoutState, capacity int) (*subscriber, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/graphql", &websocket.DialOptions{
		HTTPClient:   dialClient,
		Subprotocols: []string{"graphql-transport-ws"},
	})
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	s := &subscriber{conn: conn, state: st, acked: make(chan struct{}), done: make(chan struct{}),
		receipts: make([]receipt, 0, capacity)}
	go s.read()
	init, _ := json.Marshal(map[string]any{"type": "connection_init", "payload": map[string]string{"Authorization": "Bearer " + token}})
	if err := conn.Write(ctx, websocket.MessageText, init); err != nil {
		s.close()
		return nil, fmt.Errorf("connection_init: %w", err)
	}
	select {
	case <-s.acked:
	case <-s.done:
		return nil, fmt.Errorf("closed before connection_ack: %w", s.err)
	case <-ctx.Done():
		s.close()
		return nil, errors.New("no connection_ack within 30 s")
	}
	sub, _ := json.Marshal(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]string{"query": fanoutSubscription}})
	if err := conn.Write(ctx, websocket.MessageText, sub); err != nil {
		s.close()
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	return s, nil
}

// dialClient opens the subscribers' connections (each WebSocket takes its TCP connection over,
// so nothing is pooled).
var dialClient = &http.Client{Transport: &http.Transport{Proxy: nil}}

// connectSubscribers connects n subscribers, fanoutDialers at a time, and closes them when the
// benchmark ends.
func connectSubscribers(b *testing.B, base string, tokens []string, n int, st *fanoutState, capacity int) []*subscriber {
	b.Helper()
	subs := make([]*subscriber, n)
	b.Cleanup(func() {
		var wg sync.WaitGroup
		for _, s := range subs {
			if s != nil {
				wg.Go(s.close)
			}
		}
		wg.Wait()
	})
	jobs := make(chan int)
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	for range fanoutDialers {
		wg.Go(func() {
			for i := range jobs {
				if failed.Load() != nil {
					continue
				}
				s, err := dialSubscriber(base, tokens[i%len(tokens)], st, capacity)
				if err != nil {
					err = fmt.Errorf("subscriber %d: %w", i, err)
					failed.CompareAndSwap(nil, &err)
					continue
				}
				subs[i] = s
			}
		})
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if err := failed.Load(); err != nil {
		b.Fatalf("connect %d subscribers: %v", n, *err)
	}
	return subs
}

// read reads the connection until it ends: it notes the time of every event, answers the
// server's pings and flags anything unexpected. It decodes as little as it can, because with
// thousands of subscribers the client shares the machine's CPUs with the server.
func (s *subscriber) read() {
	defer close(s.done)
	var buf bytes.Buffer
	ctx := context.Background()
	for {
		_, r, err := s.conn.Reader(ctx)
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(r)
		}
		if err != nil {
			s.end(err)
			return
		}
		at := s.state.now()
		data := buf.Bytes()
		if i := bytes.Index(data, protocolField); i >= 0 {
			pn := data[i+len(protocolField):]
			key, err := protocolKey(pn[:max(bytes.IndexByte(pn, '"'), 0)])
			if err != nil {
				s.end(fmt.Errorf("event %s: %w", data, err))
				return
			}
			s.mu.Lock()
			s.receipts = append(s.receipts, receipt{key: key, at: at})
			first := len(s.receipts) == 1
			s.mu.Unlock()
			if first {
				s.state.armed.Add(1)
			}
			if key >= s.state.threshold.Load() {
				s.state.measured.Add(1)
			}
			continue
		}
		var m struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(data, &m); err != nil {
			s.end(fmt.Errorf("decode %q: %w", data, err))
			return
		}
		switch m.Type {
		case "ping":
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := s.conn.Write(wctx, websocket.MessageText, []byte(`{"type":"pong"}`))
			cancel()
			if err != nil {
				s.end(fmt.Errorf("pong: %w", err))
				return
			}
		case "pong":
		case "connection_ack":
			close(s.acked)
		default:
			s.end(fmt.Errorf("unexpected message %s", data))
			return
		}
	}
}

// end records why the reader stopped and closes the connection.
func (s *subscriber) end(err error) {
	s.err = err
	s.state.ended.Add(1)
	s.conn.CloseNow()
}

// close closes the connection and waits for the reader.
func (s *subscriber) close() {
	s.conn.CloseNow()
	<-s.done
}

// failure returns why the connection ended, or nil while it is open.
func (s *subscriber) failure() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// waitFor waits until the subscriber has received the events of every key.
func (s *subscriber) waitFor(keys []uint64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		s.mu.Lock()
		missing := 0
		for _, k := range keys {
			if !slices.ContainsFunc(s.receipts, func(r receipt) bool { return r.key == k }) {
				missing++
			}
		}
		s.mu.Unlock()
		switch {
		case missing == 0:
			return nil
		case s.failure() != nil:
			return s.failure()
		case time.Now().After(deadline):
			return fmt.Errorf("%d of %d events not received within %v", missing, len(keys), timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ---------------------------------------------------------------------------------------------
// Results

type fanoutResult struct {
	latencies  []time.Duration // sorted, one per delivery of a measured event
	delivered  int64           // distinct (subscriber, ticket) deliveries
	duplicates int             // deliveries of an event the subscriber already had
	unknown    int             // events of tickets not filed by the measurement
	early      int             // events received before their filing's response
	incomplete int             // subscribers that missed at least one event

	// Per ticket (sorted), the latency of the first and of the last subscriber to get it: the
	// first is the feed's delay, the difference the fanout's.
	first, last []time.Duration
}

func analyse(subs []*subscriber, filings []filing, threshold uint64) *fanoutResult {
	index := make(map[uint64]int, len(filings))
	for i, f := range filings {
		index[f.key] = i
	}
	r := &fanoutResult{latencies: make([]time.Duration, 0, len(subs)*len(filings))}
	first := make([]time.Duration, len(filings))
	last := make([]time.Duration, len(filings))
	for i := range first {
		first[i] = math.MaxInt64 // stays so only for a ticket nobody received, which fails anyway
	}
	got := make([]bool, len(filings))
	for _, s := range subs {
		clear(got)
		s.mu.Lock()
		receipts := s.receipts
		s.mu.Unlock()
		seen := make(map[uint64]bool, len(receipts))
		n := 0
		for _, rc := range receipts {
			if seen[rc.key] {
				r.duplicates++
				continue
			}
			seen[rc.key] = true
			if rc.key < threshold {
				continue // a sentinel
			}
			i, ok := index[rc.key]
			if !ok {
				r.unknown++
				continue
			}
			got[i] = true
			n++
			lat := rc.at - filings[i].at
			if lat < 0 {
				r.early++
				lat = 0
			}
			r.latencies = append(r.latencies, lat)
			first[i] = min(first[i], lat)
			last[i] = max(last[i], lat)
		}
		r.delivered += int64(n)
		if n < len(filings) {
			r.incomplete++
		}
	}
	slices.Sort(r.latencies)
	slices.Sort(first)
	slices.Sort(last)
	r.first, r.last = first, last
	return r
}

// percentile returns the nearest-rank percentile p (0 < p ≤ 1) of the latencies.
func (r *fanoutResult) percentile(p float64) time.Duration { return quantile(r.latencies, p) }

// quantile returns the nearest-rank quantile p (0 < p ≤ 1) of sorted durations.
func quantile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
