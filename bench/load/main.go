// Command load is the benchmark's load generator: it drives one workload against one target
// over HTTP and prints one JSON line with what it measured. It runs as its own process, so its
// CPU and memory are not the server's; bench/run starts it once per target, workload and mode.
//
// Two modes:
//
//   - -rate N: an open loop at N requests a second. Request i is due at start + i/N and is sent
//     then whether or not earlier ones were answered, and its latency runs from that due time,
//     so a server that falls behind shows its queue in the latency (no coordinated omission).
//   - -rate 0: saturation, a closed loop of -conns clients that send as fast as they are
//     answered; latency runs from the send.
//
// Targets: graphql (Sportello's /graphql), floor (bench/floor) and peer (PostGraphile over the
// same tables). The parameters of the requests (ticket ids, citizens, offices) are read from
// the database in a fixed order, so every target and every run gets the same ones.
//
// The generator shares the machine with the servers it measures, so the CPU it spends is CPU
// a busy server lacks. It sends through fasthttp's client, which writes a request and reads
// its answer on the calling goroutine and reuses their buffers: net/http's client hands every
// request to two goroutines of the connection and back, and cost about 130 µs of CPU a request
// against fasthttp's 75 (the citizen's own list). Its own CPU is reported beside the server's.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"
	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/server/auth"
	"github.com/valyala/fasthttp"
)

// devSecret is the server's development secret, used when AUTH_DEV_SECRET is not set.
const devSecret = "sportello-development-secret-do-not-use-in-production"

// Result is what one run measured; bench/run reads it.
type Result struct {
	Target   string  `json:"target"`
	Workload string  `json:"workload"`
	Rate     float64 `json:"rate"` // requests a second asked for; 0 at saturation
	Conns    int     `json:"conns"`
	Seconds  float64 `json:"seconds"`
	OK       int     `json:"ok"`
	Errors   int     `json:"errors"`
	// FirstError is the first failure, to tell a broken workload from a slow one.
	FirstError string  `json:"firstError,omitempty"`
	Throughput float64 `json:"throughput"` // successful requests a second
	P50ms      float64 `json:"p50ms"`
	P99ms      float64 `json:"p99ms"`
	MaxMs      float64 `json:"maxMs"`
	// CPU is the server process's CPU time over the run per wall second (1 = one core busy).
	CPU float64 `json:"cpu"`
	// RSSMiB is the server process's largest resident memory seen during the run.
	RSSMiB float64 `json:"rssMiB"`
	// LoadCPU is this process's own CPU time over the run per wall second: what the generator
	// took from the machine it shares with the server.
	LoadCPU float64 `json:"loadCPU"`
	// Skipped says why the workload did not run against this target.
	Skipped string `json:"skipped,omitempty"`
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("load: ")
	target := flag.String("target", "graphql", "graphql, floor or peer")
	base := flag.String("url", "http://127.0.0.1:8080", "base URL of the target")
	workload := flag.String("workload", "ticket", "ticket, list, mine, search, page or submit")
	rate := flag.Float64("rate", 0, "requests a second (open loop); 0 for saturation")
	conns := flag.Int("conns", 16, "clients at saturation; connections at most, open loop")
	duration := flag.Duration("duration", 10*time.Second, "how long to send")
	pid := flag.Int("pid", 0, "the server process, whose CPU and memory are measured")
	flag.Parse()

	ctx := context.Background()
	p, err := readParams(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	res := Result{Target: *target, Workload: *workload, Rate: *rate, Conns: *conns}
	client := newClient(*conns)
	next, skip, err := requests(ctx, client, *target, strings.TrimRight(*base, "/"), *workload, p)
	if err != nil {
		log.Fatal(err)
	}
	if skip != "" {
		res.Skipped = skip
		json.NewEncoder(os.Stdout).Encode(res)
		return
	}
	// One request before measuring, so that a broken workload fails loudly instead of
	// measuring error responses.
	if err := send(client, next(0)); err != nil {
		log.Fatalf("%s %s: %v", *target, *workload, err)
	}
	run(client, next, *rate, *conns, *duration, *pid, &res)
	json.NewEncoder(os.Stdout).Encode(res)
}

// newClient returns the client of a run with at most conns connections: in the open loop, a
// request due while all of them are busy waits for one, and its latency counts the wait.
func newClient(conns int) *fasthttp.Client {
	return &fasthttp.Client{MaxConnsPerHost: max(conns, 1), MaxConnWaitTimeout: 30 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, NoDefaultUserAgentHeader: true}
}

// params are the request parameters read from the database.
type params struct {
	tickets   []string
	citizens  []citizen
	offices   []string
	operator  string // token
	citTokens []string
}

type citizen struct {
	ID      string `db:"id"`
	Subject string `db:"subject"`
}

func readParams(ctx context.Context, url string) (*params, error) {
	d, err := sqlx.Open("postgres", url)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	p := &params{}
	// Ids are md5 hashes, so the first ones in id order are a spread-out sample of the years.
	if err := d.SelectContext(ctx, &p.tickets, `SELECT id FROM tickets ORDER BY id LIMIT 5000`); err != nil {
		return nil, fmt.Errorf("read tickets: %w", err)
	}
	if err := d.SelectContext(ctx, &p.citizens, `SELECT id, subject FROM citizens
		WHERE subject LIKE 'bench-citizen-%' ORDER BY id LIMIT 2000`); err != nil {
		return nil, fmt.Errorf("read citizens: %w", err)
	}
	if err := d.SelectContext(ctx, &p.offices, `SELECT id FROM offices ORDER BY name`); err != nil {
		return nil, fmt.Errorf("read offices: %w", err)
	}
	if len(p.tickets) == 0 || len(p.citizens) == 0 || len(p.offices) == 0 {
		return nil, errors.New("the database has no benchmark data: run bench/datagen")
	}
	secret := os.Getenv("AUTH_DEV_SECRET")
	if secret == "" {
		secret = devSecret
	}
	p.operator, err = auth.MintDev(secret, auth.Claims{Subject: "demo-operator", Roles: []sportello.Role{sportello.RoleOperator}}, 24*time.Hour)
	if err != nil {
		return nil, err
	}
	for _, c := range p.citizens {
		t, err := auth.MintDev(secret, auth.Claims{Subject: c.Subject, Roles: []sportello.Role{sportello.RoleCitizen}}, 24*time.Hour)
		if err != nil {
			return nil, err
		}
		p.citTokens = append(p.citTokens, t)
	}
	return p, nil
}

// The GraphQL operations of the workloads on Sportello.
const (
	ticketQuery = `query Ticket($id: ID!) { ticket(id: $id) { id protocolNumber kind status subject body createdAt dueAt
  citizen { fullName fiscalCode } office { name } } }`
	listQuery = `query Queue($filter: TicketFilter) { tickets(first: 20, filter: $filter) {
  edges { node { id protocolNumber kind status subject createdAt dueAt
    citizen { fullName fiscalCode } office { name } messages { body createdAt } } }
  pageInfo { hasNextPage endCursor } } }`
	mineQuery = `query Mine { tickets(first: 20) {
  edges { node { id protocolNumber kind status subject createdAt dueAt office { name } } }
  pageInfo { hasNextPage endCursor } } }`
	searchQuery = `query Search($q: String!) { search(query: $q, first: 10) { type id title snippet score } }`
	pageQuery   = `query Page($path: String!) { contentByPath(path: $path) { id title summary bodyHtml path office { name } } }`
	submitQuery = `mutation Submit($input: SubmitTicketInput!) { submitTicket(input: $input) {
  protocolNumber ticket { id status createdAt dueAt } } }`
)

// The same reads on PostGraphile: its generated names over the same tables, the same columns,
// relations and order. The protocol number comes as its two columns, and the tenant is a
// condition of the query rather than of the caller's token (PostGraphile runs without
// authentication here).
const (
	peerTicketQuery = `query Ticket($id: UUID!) { ticketById(id: $id) { id protocolYear protocolSeq kind status subject body createdAt dueAt
  citizenByCitizenId { givenName familyName fiscalCode } officeByOfficeId { name } } }`
	peerListQuery = `query Queue($tenant: UUID!, $office: UUID!) { allTickets(first: 20, orderBy: [CREATED_AT_DESC, ID_DESC],
  condition: {tenantId: $tenant, status: "IN_PROGRESS", officeId: $office}) {
  edges { node { id protocolYear protocolSeq kind status subject createdAt dueAt
    citizenByCitizenId { givenName familyName fiscalCode } officeByOfficeId { name }
    ticketMessagesByTicketId(orderBy: [CREATED_AT_ASC, ID_ASC]) { nodes { body createdAt } } } }
  pageInfo { hasNextPage endCursor } } }`
	peerMineQuery = `query Mine($tenant: UUID!, $citizen: UUID!) { allTickets(first: 20, orderBy: [CREATED_AT_DESC, ID_DESC],
  condition: {tenantId: $tenant, citizenId: $citizen}) {
  edges { node { id protocolYear protocolSeq kind status subject createdAt dueAt officeByOfficeId { name } } }
  pageInfo { hasNextPage endCursor } } }`
	peerSearchQuery = `query Search($q: String!) { searchCatalogue(q: $q, n: 10) { nodes { type refId title snippet rank } } }`
)

// searches are what citizens type in the portal's search box.
var searches = []string{"carta identita", "rifiuti", "tari rimborso", "mensa scolastica", "residenza", "asilo nido",
	"passo carrabile", "contributo affitto", "ztl permesso", "certificato"}

type request struct {
	method, url, token string
	body               []byte
}

// requests returns the i-th request of the workload on the target, or why the workload does
// not apply to it.
func requests(ctx context.Context, client *fasthttp.Client, target, base, workload string, p *params) (func(i int) request, string, error) {
	// The operation is encoded once: escaping it at every request cost the generator more
	// than encoding the variables.
	gql := func(token func(i int) string, query string, vars func(i int) map[string]any) func(i int) request {
		q, _ := json.Marshal(query)
		prefix := append(append([]byte(`{"query":`), q...), `,"variables":`...)
		return func(i int) request {
			v, _ := json.Marshal(vars(i))
			body := append(append(slices.Clip(prefix), v...), '}')
			return request{method: http.MethodPost, url: base + "/graphql", token: token(i), body: body}
		}
	}
	get := func(token func(i int) string, path func(i int) string) func(i int) request {
		return func(i int) request { return request{method: http.MethodGet, url: base + path(i), token: token(i)} }
	}
	operator := func(int) string { return p.operator }
	anonymous := func(int) string { return "" }
	citizenToken := func(i int) string { return p.citTokens[i%len(p.citTokens)] }
	office := func(i int) string { return p.offices[i%len(p.offices)] }
	ticket := func(i int) string { return p.tickets[i%len(p.tickets)] }
	search := func(i int) string { return searches[i%len(searches)] }
	none := func(int) map[string]any { return nil }
	submitInput := func(i int) map[string]any {
		return map[string]any{"kind": "INFORMATION", "channel": "APP", "subject": "Orari dello sportello anagrafe",
			"body":     "Vorrei sapere se lo sportello anagrafe è aperto il sabato mattina e se serve un appuntamento.",
			"officeId": office(i)}
	}
	switch target + "/" + workload {
	case "graphql/ticket":
		return gql(operator, ticketQuery, func(i int) map[string]any { return map[string]any{"id": ticket(i)} }), "", nil
	case "graphql/list":
		return gql(operator, listQuery, func(i int) map[string]any {
			return map[string]any{"filter": map[string]any{"statuses": []string{"IN_PROGRESS"}, "officeIds": []string{office(i)}}}
		}), "", nil
	case "graphql/mine":
		return gql(citizenToken, mineQuery, none), "", nil
	case "graphql/search":
		return gql(anonymous, searchQuery, func(i int) map[string]any { return map[string]any{"q": search(i)} }), "", nil
	case "graphql/page":
		paths, err := pagePaths(ctx, client, base)
		if err != nil {
			return nil, "cannot find pages: " + err.Error(), nil
		}
		if len(paths) == 0 {
			return nil, "no contentByPath field or no published page", nil
		}
		return gql(anonymous, pageQuery, func(i int) map[string]any { return map[string]any{"path": paths[i%len(paths)]} }), "", nil
	case "graphql/submit":
		return gql(citizenToken, submitQuery, func(i int) map[string]any { return map[string]any{"input": submitInput(i)} }), "", nil

	case "floor/ticket":
		return get(operator, func(i int) string { return "/ticket?id=" + ticket(i) }), "", nil
	case "floor/list":
		return get(operator, func(i int) string { return "/tickets?with=messages&status=IN_PROGRESS&office=" + office(i) }), "", nil
	case "floor/mine":
		return get(citizenToken, func(int) string { return "/tickets" }), "", nil
	case "floor/search":
		return get(anonymous, func(i int) string { return "/search?q=" + strings.ReplaceAll(search(i), " ", "+") }), "", nil
	case "floor/submit":
		return func(i int) request {
			body, _ := json.Marshal(submitInput(i))
			return request{method: http.MethodPost, url: base + "/submit", token: citizenToken(i), body: body}
		}, "", nil

	case "peer/ticket":
		return gql(anonymous, peerTicketQuery, func(i int) map[string]any { return map[string]any{"id": ticket(i)} }), "", nil
	case "peer/list":
		return gql(anonymous, peerListQuery, func(i int) map[string]any {
			return map[string]any{"tenant": sportello.DefaultTenantID, "office": office(i)}
		}), "", nil
	case "peer/mine":
		return gql(anonymous, peerMineQuery, func(i int) map[string]any {
			return map[string]any{"tenant": sportello.DefaultTenantID, "citizen": p.citizens[i%len(p.citizens)].ID}
		}), "", nil
	case "peer/search":
		return gql(anonymous, peerSearchQuery, func(i int) map[string]any { return map[string]any{"q": search(i)} }), "", nil
	case "floor/page", "peer/page", "peer/submit":
		return nil, "no equivalent", nil
	}
	return nil, "", fmt.Errorf("unknown target or workload: %s/%s", target, workload)
}

// pagePaths returns paths of published pages if the server has the content area (contentByPath),
// which is built in parallel with the benchmark: the workload starts running once it exists.
func pagePaths(ctx context.Context, client *fasthttp.Client, base string) ([]string, error) {
	body, _ := json.Marshal(map[string]any{"query": `{ __type(name: "Query") { fields { name } } }`})
	var found bool
	if err := do(client, request{method: http.MethodPost, url: base + "/graphql", body: body}, func(_ int, raw []byte) error {
		found = bytes.Contains(raw, []byte(`"contentByPath"`))
		return nil
	}); err != nil {
		return nil, err
	}
	if !found {
		return nil, nil
	}
	d, err := sqlx.Open("postgres", os.Getenv("DATABASE_URL"))
	if err != nil {
		return nil, err
	}
	defer d.Close()
	var paths []string
	if err := d.SelectContext(ctx, &paths, `SELECT path FROM contents
		WHERE type = 'PAGE' AND language = 'it' AND live_revision IS NOT NULL ORDER BY path LIMIT 200`); err != nil {
		return nil, fmt.Errorf("read pages: %w", err)
	}
	return paths, nil
}

// send sends one request and checks its answer: HTTP 200 and no GraphQL errors.
func send(client *fasthttp.Client, r request) error {
	return do(client, r, func(status int, raw []byte) error {
		if status != http.StatusOK {
			return fmt.Errorf("HTTP %d: %.300s", status, raw)
		}
		if bytes.Contains(raw, []byte(`"errors"`)) || !bytes.Contains(raw, []byte(`"data"`)) {
			return fmt.Errorf("%.300s", raw)
		}
		return nil
	})
}

// do sends r and hands the status and body of its answer to read, which must not keep the
// body: it is the client's buffer, reused by the next request.
func do(client *fasthttp.Client, r request, read func(status int, body []byte) error) error {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(r.url)
	req.Header.SetMethod(r.method)
	if r.body != nil {
		req.Header.SetContentType("application/json")
		req.SetBodyRaw(r.body)
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	if err := client.Do(req, resp); err != nil {
		return err
	}
	return read(resp.StatusCode(), resp.Body())
}

// run sends the requests for d and fills in res.
func run(client *fasthttp.Client, next func(i int) request, rate float64, conns int, d time.Duration, pid int, res *Result) {
	var (
		mu        sync.Mutex
		latencies []time.Duration
		failures  atomic.Int64
		firstErr  atomic.Value
	)
	record := func(lat time.Duration, err error) {
		if err != nil {
			failures.Add(1)
			firstErr.CompareAndSwap(nil, err.Error())
			return
		}
		mu.Lock()
		latencies = append(latencies, lat)
		mu.Unlock()
	}
	sampler := startSampler(pid)
	self := cpuSeconds(os.Getpid())
	start := time.Now()
	var wg sync.WaitGroup
	if rate > 0 {
		n := int(rate * d.Seconds())
		for i := range n {
			due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
			time.Sleep(time.Until(due))
			r := next(i + 1)
			wg.Go(func() {
				err := send(client, r)
				record(time.Since(due), err)
			})
		}
	} else {
		var counter atomic.Int64
		for range conns {
			wg.Go(func() {
				for time.Since(start) < d {
					r := next(int(counter.Add(1)))
					t := time.Now()
					err := send(client, r)
					record(time.Since(t), err)
				}
			})
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	res.CPU, res.RSSMiB = sampler.stop(elapsed)
	res.LoadCPU = (cpuSeconds(os.Getpid()) - self) / elapsed.Seconds()
	res.Seconds = elapsed.Seconds()
	res.OK = len(latencies)
	res.Errors = int(failures.Load())
	if e, ok := firstErr.Load().(string); ok {
		res.FirstError = e
	}
	res.Throughput = float64(res.OK) / elapsed.Seconds()
	if len(latencies) > 0 {
		slices.Sort(latencies)
		ms := func(q float64) float64 {
			return float64(latencies[min(int(q*float64(len(latencies))), len(latencies)-1)]) / float64(time.Millisecond)
		}
		res.P50ms, res.P99ms, res.MaxMs = ms(0.50), ms(0.99), ms(1)
	}
}

// sampler measures a process's CPU time and peak resident memory from /proc.
type sampler struct {
	pid     int
	cpu0    float64
	done    chan struct{}
	stopped chan struct{}
	peakKiB atomic.Int64
}

func startSampler(pid int) *sampler {
	s := &sampler{pid: pid, done: make(chan struct{}), stopped: make(chan struct{})}
	if pid == 0 {
		close(s.stopped)
		return s
	}
	s.cpu0 = cpuSeconds(pid)
	go func() {
		defer close(s.stopped)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			if kib := rssKiB(s.pid); kib > s.peakKiB.Load() {
				s.peakKiB.Store(kib)
			}
			select {
			case <-s.done:
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

// stop returns the CPU time used per wall second and the peak RSS in MiB.
func (s *sampler) stop(elapsed time.Duration) (float64, float64) {
	if s.pid == 0 {
		return 0, 0
	}
	close(s.done)
	<-s.stopped
	return (cpuSeconds(s.pid) - s.cpu0) / elapsed.Seconds(), float64(s.peakKiB.Load()) / 1024
}

// cpuSeconds returns the user and system CPU time of a process, from /proc/PID/stat.
func cpuSeconds(pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces: fields are counted after it.
	fields := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	const clockTicks = 100 // USER_HZ, 100 on every Linux architecture Go supports
	return (utime + stime) / clockTicks
}

// rssKiB returns a process's resident memory, from /proc/PID/status.
func rssKiB(pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
