// Command run is `make bench`: it serves the benchmark's database (bench/datagen) with
// Sportello, the floor (bench/floor) and the peer (PostGraphile, bench/peer), drives every
// workload against each of them with the load generator (bench/load, its own process), and
// writes the results as a Markdown table and an SVG chart under bench/results/, with the
// machine they ran on.
//
// For each workload every target is measured at saturation in -rounds rounds, the three targets
// one after the other in each round, and then, all at the same fixed rate, in an open loop: half
// the lowest saturation throughput of the targets (or -rate), so that every target can keep up
// and the p99 compares like with like. Saturation is where a target's throughput stops rising
// with more clients, which differs between targets: PostGraphile's one Node thread is saturated
// by 16 clients, a Go server on the same two cores is not. So before the rounds each target is
// probed with -conns clients, then twice as many while its throughput still rises by more than
// a twentieth (up to -max-conns), and its rounds run with the clients of its best probe.
//
// A shared machine drifts between runs by more than the differences measured; within a round
// the three targets run a few seconds apart, so the table gives each target's median round and,
// as ratios, the median of the rounds' own ratios with their range.
//
//	. .data/env && go run ./bench/run                       # after go run ./bench/datagen
//	. .data/env && go run ./bench/run -duration 3s -workloads ticket,list   # a quick look
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
)

// Result is what bench/load prints for one run.
type Result struct {
	Target     string  `json:"target"`
	Workload   string  `json:"workload"`
	Rate       float64 `json:"rate"`
	Conns      int     `json:"conns"`
	Seconds    float64 `json:"seconds"`
	OK         int     `json:"ok"`
	Errors     int     `json:"errors"`
	FirstError string  `json:"firstError,omitempty"`
	Throughput float64 `json:"throughput"`
	P50ms      float64 `json:"p50ms"`
	P99ms      float64 `json:"p99ms"`
	MaxMs      float64 `json:"maxMs"`
	CPU        float64 `json:"cpu"`
	RSSMiB     float64 `json:"rssMiB"`
	LoadCPU    float64 `json:"loadCPU"`
	Skipped    string  `json:"skipped,omitempty"`
	// Rounds are the throughputs of every saturation round, of which this is the median.
	Rounds []float64 `json:"rounds,omitempty"`
}

// workloads in the order of the table, with their titles.
var workloads = []struct{ name, title string }{
	{"ticket", "ticket by id"},
	{"list", "operator list, 20 with citizen, office, messages"},
	{"mine", "citizen's own list, 20"},
	{"search", "catalogue search"},
	{"page", "published page by path"},
	{"submit", "submitTicket"},
}

var targets = []string{"graphql", "floor", "peer"}

type options struct {
	duration, warmup, probe time.Duration
	conns, maxConns, rounds int
	rate                    float64
	workloads               []string
	out                     string
	fanout                  bool
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("bench: ")
	var o options
	var names string
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "length of each measured run")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "saturation before each target's first measured run")
	flag.IntVar(&o.conns, "conns", 16, "clients of the first saturation probe and of the fixed-rate runs")
	flag.IntVar(&o.maxConns, "max-conns", 256, "most clients a saturation probe may use")
	flag.DurationVar(&o.probe, "probe", 2*time.Second, "length of each saturation probe")
	flag.IntVar(&o.rounds, "rounds", 3, "saturation runs of each target, interleaved; the table gives the median")
	flag.Float64Var(&o.rate, "rate", 0, "fixed rate of the open-loop runs (default: half the slowest target's saturation throughput)")
	flag.StringVar(&names, "workloads", "", "comma-separated workloads (default: all)")
	flag.StringVar(&o.out, "out", "bench/results", "directory of the results")
	flag.BoolVar(&o.fanout, "fanout", false, "also run BenchmarkFanout and add its figures")
	flag.Parse()
	if o.rounds < 1 {
		log.Fatal("-rounds must be 1 or more")
	}
	if o.conns < 1 || o.maxConns < o.conns {
		log.Fatal("-conns must be 1 or more, and -max-conns at least -conns")
	}
	for _, w := range workloads {
		if names == "" || slices.Contains(strings.Split(names, ","), w.name) {
			o.workloads = append(o.workloads, w.name)
		}
	}
	if err := run(context.Background(), o); err != nil {
		log.Fatal(err)
	}
}

const (
	serverAddr = "127.0.0.1:18090"
	floorAddr  = "127.0.0.1:18091"
	peerAddr   = "127.0.0.1:18092"
)

func run(ctx context.Context, o options) error {
	benchURL, err := benchDatabase(os.Getenv("DATABASE_URL"))
	if err != nil {
		return err
	}
	dataset, err := describeDataset(ctx, benchURL)
	if err != nil {
		return err
	}
	// The tickets filed by earlier runs' submitTicket go, so that every run reads the same data,
	// with what the server wrote about them: their events, the notices it sent for them and
	// their escalations. So do the audit entries of earlier runs' staff reads, a million or more
	// a run, of which the data set itself has none: the log is append-only for the application,
	// and here its owner lifts that for this synthetic database alone.
	// The statements run in every tenant's scope: under row-level security, a connection
	// without a scope sees no ticket, and would delete none.
	if _, err := psql(ctx, benchURL, `BEGIN;
		SELECT set_config('sportello.tenant_id', '*', true);
		CREATE TEMP TABLE filed AS SELECT id FROM tickets WHERE created_at > (SELECT loaded_at FROM bench.dataset);
		DELETE FROM notification_deliveries WHERE event_id IN (SELECT id FROM events WHERE ticket_id IN (SELECT id FROM filed));
		DELETE FROM events WHERE ticket_id IN (SELECT id FROM filed);
		DELETE FROM ticket_notice_state WHERE ticket_id IN (SELECT id FROM filed);
		DELETE FROM escalations WHERE ticket_id IN (SELECT id FROM filed);
		DELETE FROM ticket_messages WHERE ticket_id IN (SELECT id FROM filed);
		DELETE FROM tickets WHERE id IN (SELECT id FROM filed);
		UPDATE protocol_counters c SET last_seq = (SELECT coalesce(max(protocol_seq), 0) FROM tickets t WHERE t.tenant_id = c.tenant_id AND t.protocol_year = c.year);
		ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_truncate;
		TRUNCATE audit_log;
		ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_truncate;
		COMMIT`); err != nil {
		return fmt.Errorf("remove earlier runs' tickets and audit entries: %w", err)
	}
	if err := catchUpEscalations(ctx, benchURL); err != nil {
		return err
	}
	bin, err := os.MkdirTemp("", "sportello-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(bin)
	for _, pkg := range []string{"./server", "./bench/floor", "./bench/load"} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(bin, filepath.Base(pkg)), pkg)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("build %s: %w", pkg, err)
		}
	}
	if err := preparePeer(ctx, benchURL); err != nil {
		return err
	}
	// The load generator is one user and one address sending thousands of requests a second,
	// which the abuse limits would refuse after the first few hundred: the benchmark measures
	// serving, so Sportello runs without them (0 turns a limit off), as the floor and the peer do.
	env := append(os.Environ(), "DATABASE_URL="+benchURL, "RATE_USER_PER_MINUTE=0", "RATE_IP_PER_MINUTE=0")
	procs := map[string]*exec.Cmd{}
	defer func() {
		for _, p := range procs {
			p.Process.Signal(syscall.SIGTERM)
			p.Wait()
		}
	}()
	start := func(name, dir, health string, args ...string) error {
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Dir = dir
		cmd.Env = append(env, "LISTEN_ADDR="+serverAddr)
		logFile, err := os.Create(filepath.Join(bin, name+".log"))
		if err != nil {
			return err
		}
		cmd.Stdout, cmd.Stderr = logFile, logFile
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("start %s: %w", name, err)
		}
		procs[name] = cmd
		if err := waitHealthy(health, 60*time.Second); err != nil {
			out, _ := os.ReadFile(logFile.Name())
			return fmt.Errorf("%s did not start: %w\n%s", name, err, out)
		}
		return nil
	}
	if err := start("graphql", "", "http://"+serverAddr+"/healthz", filepath.Join(bin, "server"), "serve"); err != nil {
		return err
	}
	if err := start("floor", "", "http://"+floorAddr+"/healthz", filepath.Join(bin, "floor"), "-listen", floorAddr); err != nil {
		return err
	}
	host, port, _ := strings.Cut(peerAddr, ":")
	// The peer and the load generator read the tables directly, under the row-level security
	// that confines every connection to a tenant: the peer to the demo town's, as Sportello's
	// requests are, and the load generator, which samples ids from all of them, to every tenant.
	// The peer starts in bench/peer, where its CLI reads the options of .postgraphilerc.js.
	if err := start("peer", "bench/peer", "http://"+peerAddr+"/graphql", "node", "node_modules/postgraphile/cli.js",
		"-c", scopedURL(benchURL, sportello.DefaultTenantID), "--host", host, "--port", port, "--disable-query-log", "--schema", "public,bench_peer"); err != nil {
		return err
	}
	urls := map[string]string{"graphql": "http://" + serverAddr, "floor": "http://" + floorAddr, "peer": "http://" + peerAddr}

	load := func(target, workload string, rate float64, clients int, d time.Duration) (Result, error) {
		cmd := exec.CommandContext(ctx, filepath.Join(bin, "load"), "-target", target, "-url", urls[target],
			"-workload", workload, "-rate", fmt.Sprint(rate), "-conns", fmt.Sprint(clients), "-duration", d.String(),
			"-pid", fmt.Sprint(procs[target].Process.Pid))
		cmd.Env = append(env, "DATABASE_URL="+scopedURL(benchURL, "*"))
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return Result{}, fmt.Errorf("load %s %s: %w", target, workload, err)
		}
		var r Result
		if err := json.Unmarshal(out, &r); err != nil {
			return Result{}, fmt.Errorf("load %s %s: %w: %s", target, workload, err, out)
		}
		return r, nil
	}
	var sat, fixed []Result
	for _, w := range o.workloads {
		if o.warmup > 0 {
			for _, t := range targets {
				if _, err := load(t, w, 0, o.conns, o.warmup); err != nil {
					return err
				}
			}
		}
		clients := make([]int, len(targets))
		for i, t := range targets {
			clients[i], err = saturatingClients(o.conns, o.maxConns, func(n int) (float64, error) {
				r, err := load(t, w, 0, n, o.probe)
				if err == nil && r.Skipped == "" {
					log.Printf("%-7s %-7s probe %3d clients %s", w, t, n, r.summary())
				}
				return r.Throughput, err
			})
			if err != nil {
				return err
			}
		}
		rounds := make([][]Result, len(targets))
		for round := range o.rounds {
			for i, t := range targets {
				r, err := load(t, w, 0, clients[i], o.duration)
				if err != nil {
					return err
				}
				log.Printf("%-7s %-7s saturation %d %s", w, t, round+1, r.summary())
				rounds[i] = append(rounds[i], r)
			}
		}
		var ws []Result
		for i := range targets {
			ws = append(ws, median(rounds[i]))
		}
		sat = append(sat, ws...)
		rate := o.rate
		if rate == 0 {
			lowest := math.Inf(1)
			for _, r := range ws {
				if r.Skipped == "" && r.Throughput > 0 {
					lowest = min(lowest, r.Throughput)
				}
			}
			if math.IsInf(lowest, 1) {
				continue
			}
			rate = math.Max(1, math.Floor(lowest/2))
		}
		for _, t := range targets {
			r, err := load(t, w, rate, o.conns, o.duration)
			if err != nil {
				return err
			}
			log.Printf("%-7s %-7s %4.0f/s      %s", w, t, rate, r.summary())
			fixed = append(fixed, r)
		}
	}
	var fanout string
	if o.fanout {
		if fanout, err = runFanout(ctx); err != nil {
			return err
		}
	}
	return write(o, dataset, sat, fixed, fanout)
}

// minGain is how much more a probe with twice the clients must serve for saturatingClients to
// try twice as many again: less is within what two probes seconds apart differ by anyway.
const minGain = 0.05

// saturatingClients returns the number of clients, from from doubling up to most, at which
// probe (the throughput with that many clients) was highest, stopping at the first doubling that
// did not raise it by more than minGain. A target that serves nothing (throughput 0) stays at from.
func saturatingClients(from, most int, probe func(clients int) (float64, error)) (int, error) {
	best, bestAt := 0.0, from
	for n := from; n <= most; n *= 2 {
		v, err := probe(n)
		if err != nil {
			return 0, err
		}
		if v <= best*(1+minGain) {
			break
		}
		best, bestAt = v, n
	}
	return bestAt, nil
}

func (r Result) summary() string {
	if r.Skipped != "" {
		return "skipped: " + r.Skipped
	}
	s := fmt.Sprintf("%7.0f/s p50 %6.2f ms p99 %7.2f ms cpu %4.2f rss %4.0f MiB load cpu %4.2f", r.Throughput, r.P50ms, r.P99ms, r.CPU, r.RSSMiB, r.LoadCPU)
	if r.Errors > 0 {
		s += fmt.Sprintf(" errors %d (%s)", r.Errors, r.FirstError)
	}
	return s
}

// scopedURL returns the database URL with the tenant scope of row-level security set for the
// whole session ("*" for every tenant), for clients that are not Sportello and so do not set it
// themselves.
func scopedURL(base, scope string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	q := u.Query()
	q.Set("options", "-c sportello.tenant_id="+scope)
	u.RawQuery = q.Encode()
	return u.String()
}

// catchUpEscalations escalates the data set's tickets whose clocks ran out since it was loaded
// or last measured, as the escalation worker of an office that never stopped would have. The
// server runs the same pass when it starts: a data set fresh from bench/datagen has tens of
// thousands of thresholds to claim, which would otherwise be claimed during the first workload
// and measured as part of it.
func catchUpEscalations(ctx context.Context, benchURL string) error {
	d, err := db.Open(ctx, benchURL)
	if err != nil {
		return err
	}
	defer d.Close()
	start := time.Now()
	n, err := db.NewEscalator(d).RunOnce(ctx)
	if err != nil {
		return fmt.Errorf("escalate the data set's tickets: %w", err)
	}
	if n > 0 {
		log.Printf("escalated %d thresholds the data set's tickets reached, in %s", n, time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// benchDatabase returns the URL of the benchmark's database next to base.
func benchDatabase(base string) (string, error) {
	if base == "" {
		return "", errors.New("DATABASE_URL is not set (. .data/env)")
	}
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" {
		return "", fmt.Errorf("DATABASE_URL is not a URL: %q", base)
	}
	u.Path = "/sportello_bench"
	return u.String(), nil
}

func describeDataset(ctx context.Context, benchURL string) (string, error) {
	out, err := psql(ctx, benchURL, `SELECT description FROM bench.dataset`)
	if err != nil || out == "" {
		return "", fmt.Errorf("no benchmark data set (run go run ./bench/datagen first): %v", err)
	}
	return out, nil
}

// preparePeer installs PostGraphile (pinned by bench/peer/package-lock.json) if it is missing,
// and gives it the catalogue search, which it cannot express over the tables alone, as a
// function running the same SQL as Sportello's search for the public.
func preparePeer(ctx context.Context, benchURL string) error {
	if _, err := os.Stat("bench/peer/node_modules/postgraphile/cli.js"); err != nil {
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = "bench/peer"
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("install PostGraphile: %w", err)
		}
	}
	_, err := psql(ctx, benchURL, `CREATE SCHEMA IF NOT EXISTS bench_peer;
CREATE OR REPLACE FUNCTION bench_peer.search_catalogue(q text, n int)
RETURNS TABLE (type text, ref_id uuid, title text, rank real, snippet text) LANGUAGE sql STABLE AS $$
	WITH query AS (SELECT websearch_to_tsquery('it_unaccent', q) AS q),
	hits AS (
		SELECT d.type, d.ref_id, d.title, d.summary, d.body, ts_rank(d.document, query.q) AS rank
		FROM search_documents d, query
		WHERE d.tenant_id = '00000000-0000-0000-0000-000000000001' AND d.document @@ query.q
		  AND d.status = 'PUBLISHED' AND (d.visible_from IS NULL OR d.visible_from <= current_date)
		ORDER BY rank DESC, d.title, d.ref_id
		LIMIT n)
	SELECT h.type, h.ref_id, h.title, h.rank,
		ts_headline('it_unaccent', concat_ws(' ', h.summary, h.body), query.q,
			'StartSel=<mark>,StopSel=</mark>,MaxWords=30,MinWords=12,MaxFragments=2,FragmentDelimiter=" … "')
	FROM hits h, query
	ORDER BY h.rank DESC, h.title, h.ref_id
$$`)
	return err
}

func psql(ctx context.Context, dbURL, sql string) (string, error) {
	cmd := exec.CommandContext(ctx, "psql", dbURL, "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-c", sql)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("psql: %w: %s", err, stderr.Bytes())
	}
	return strings.TrimSpace(string(out)), nil
}

func waitHealthy(u string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %v", u, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// runFanout runs the live feed's BenchmarkFanout and returns its result lines.
func runFanout(ctx context.Context) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "Fanout", "-benchtime", "1x", "-timeout", "20m", "./bench/")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("fanout: %w: %s", err, out)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "BenchmarkFanout") {
			lines = append(lines, strings.Join(strings.Fields(sc.Text()), " "))
		}
	}
	return strings.Join(lines, "\n"), nil
}

// machine describes the machine the benchmark ran on.
func machine(ctx context.Context) string {
	cpu := "unknown CPU"
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(raw), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	mem := ""
	if raw, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kib int64
		fmt.Sscanf(strings.SplitN(string(raw), "\n", 2)[0], "MemTotal: %d kB", &kib)
		mem = fmt.Sprintf(", %.0f GiB RAM", float64(kib)/(1<<20))
	}
	var uts syscall.Utsname
	kernel := ""
	if syscall.Uname(&uts) == nil {
		b := make([]byte, 0, len(uts.Release))
		for _, c := range uts.Release {
			if c == 0 {
				break
			}
			b = append(b, byte(c))
		}
		kernel = ", Linux " + string(b)
	}
	pg, _ := psql(ctx, os.Getenv("DATABASE_URL"), `SHOW server_version`)
	node, _ := exec.CommandContext(ctx, "node", "--version").Output()
	return fmt.Sprintf("%d × %s%s%s; %s, PostgreSQL %s, Node %s; PostgreSQL, Redis, the three servers and the load generator on the same machine",
		runtime.NumCPU(), cpu, mem, kernel, runtime.Version(), pg, strings.TrimSpace(string(node)))
}

// write writes results.md, results.svg and results.json under o.out.
func write(o options, dataset string, sat, fixed []Result, fanout string) error {
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	find := func(rs []Result, t, w string) *Result {
		for i := range rs {
			if rs[i].Target == t && rs[i].Workload == w {
				return &rs[i]
			}
		}
		return nil
	}
	var md strings.Builder
	fmt.Fprintf(&md, "# Benchmark results\n\n%s. Machine: %s.\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), machine(context.Background()))
	fmt.Fprintf(&md, "Data set: %s. Command: `make bench` (`go run ./bench/run -duration %s -conns %d -max-conns %d -probe %s -rounds %d`).\n\n",
		dataset, o.duration, o.conns, o.maxConns, o.probe, o.rounds)
	md.WriteString("Saturation: requests a second, the server process's CPU (cores) and peak RSS, and the load generator's CPU, " +
		"of each target's median round of " + fmt.Sprint(o.rounds) + " (the targets take turns in each round), " +
		"with the clients at which the target's throughput stopped rising: probes of " + o.probe.String() + " from " + fmt.Sprint(o.conns) +
		" clients, doubling while throughput rose by more than " + fmt.Sprintf("%.0f%%", minGain*100) + ". " +
		"Fixed rate: an open loop with " + fmt.Sprint(o.conns) + " clients at half the slowest target's saturation throughput, latency from the scheduled send. " +
		"Ratios are Sportello's throughput over the floor's and the peer's: the median of the rounds' ratios, and their range.\n\n")
	md.WriteString("| workload | target | req/s (saturation) | clients | rounds | p50 ms | p99 ms | fixed rate | p50 ms | p99 ms | CPU | RSS MiB | load CPU | vs floor | vs peer |\n")
	md.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, w := range workloads {
		if !slices.Contains(o.workloads, w.name) {
			continue
		}
		for _, t := range targets {
			s, f := find(sat, t, w.name), find(fixed, t, w.name)
			if s == nil {
				continue
			}
			if s.Skipped != "" {
				fmt.Fprintf(&md, "| %s | %s | — (%s) | | | | | | | | | | | | |\n", w.title, t, s.Skipped)
				continue
			}
			row := fmt.Sprintf("| %s | %s | %.0f | %d | %s | %.2f | %.2f |", w.title, t, s.Throughput, s.Conns, spread(s.Rounds), s.P50ms, s.P99ms)
			if f != nil && f.Skipped == "" {
				row += fmt.Sprintf(" %.0f/s | %.2f | %.2f |", f.Rate, f.P50ms, f.P99ms)
			} else {
				row += " | | |"
			}
			row += fmt.Sprintf(" %.2f | %.0f | %.2f |", s.CPU, s.RSSMiB, s.LoadCPU)
			if t == "graphql" {
				row += ratio(s, find(sat, "floor", w.name)) + ratio(s, find(sat, "peer", w.name))
			} else {
				row += " | |"
			}
			if s.Errors > 0 {
				row += fmt.Sprintf(" %d errors: %s", s.Errors, s.FirstError)
			}
			md.WriteString(row + "\n")
		}
	}
	if fanout != "" {
		md.WriteString("\nFanout (BenchmarkFanout, `go test -run '^$' -bench Fanout -benchtime=1x ./bench/`):\n\n```\n" + fanout + "\n```\n")
	}
	md.WriteString("\n![throughput](results.svg)\n")
	if err := os.WriteFile(filepath.Join(o.out, "results.md"), []byte(md.String()), 0o644); err != nil {
		return err
	}
	raw, _ := json.MarshalIndent(map[string]any{"dataset": dataset, "saturation": sat, "fixedRate": fixed}, "", "  ")
	if err := os.WriteFile(filepath.Join(o.out, "results.json"), append(raw, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(o.out, "results.svg"), chart(o, sat), 0o644)
}

// median returns the round of median throughput (the lower of the middle two for an even
// count), with the throughputs of every round.
func median(rounds []Result) Result {
	sorted := slices.Clone(rounds)
	slices.SortStableFunc(sorted, func(a, b Result) int { return cmp.Compare(a.Throughput, b.Throughput) })
	m := sorted[(len(sorted)-1)/2]
	for _, r := range rounds {
		m.Rounds = append(m.Rounds, r.Throughput)
	}
	return m
}

// spread writes the lowest and highest throughput of the rounds.
func spread(rounds []float64) string {
	if len(rounds) < 2 {
		return ""
	}
	return fmt.Sprintf("%.0f–%.0f", slices.Min(rounds), slices.Max(rounds))
}

// ratio writes the median of the rounds' ratios of s's throughput to ref's, each round's two
// runs having been a few seconds apart, with their range when there are several.
func ratio(s, ref *Result) string {
	if ref == nil || ref.Skipped != "" || len(ref.Rounds) != len(s.Rounds) || len(s.Rounds) == 0 {
		return " |"
	}
	var ratios []float64
	for i, v := range s.Rounds {
		if ref.Rounds[i] == 0 {
			return " |"
		}
		ratios = append(ratios, v/ref.Rounds[i])
	}
	slices.Sort(ratios)
	out := fmt.Sprintf(" %.2f×", ratios[(len(ratios)-1)/2])
	if len(ratios) > 1 {
		out += fmt.Sprintf(" (%.2f–%.2f)", ratios[0], ratios[len(ratios)-1])
	}
	return out + " |"
}

// chart draws the saturation throughput of each workload as grouped horizontal bars.
func chart(o options, sat []Result) []byte {
	colors := map[string]string{"graphql": "#1f77b4", "floor": "#7f7f7f", "peer": "#ff7f0e"}
	top := 0.0
	for _, r := range sat {
		top = math.Max(top, r.Throughput)
	}
	const left, width, bar, gap = 300, 460, 14, 14
	var b bytes.Buffer
	rows := 0
	for _, w := range workloads {
		if slices.Contains(o.workloads, w.name) {
			rows++
		}
	}
	height := 40 + rows*(3*bar+gap) + 30
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", left+width+80, height)
	fmt.Fprintf(&b, `<text x="10" y="20" font-size="14">Throughput at saturation (requests a second)</text>`+"\n")
	y := 40
	for _, w := range workloads {
		if !slices.Contains(o.workloads, w.name) {
			continue
		}
		fmt.Fprintf(&b, `<text x="10" y="%d">%s</text>`+"\n", y+bar*3/2+4, escape(w.title))
		for i, t := range targets {
			var v float64
			for _, r := range sat {
				if r.Target == t && r.Workload == w.name {
					v = r.Throughput
				}
			}
			wpx := 0.0
			if top > 0 {
				wpx = v / top * width
			}
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`, left, y+i*bar, wpx, bar-2, colors[t])
			fmt.Fprintf(&b, `<text x="%.1f" y="%d">%.0f</text>`+"\n", float64(left)+wpx+4, y+i*bar+bar-4, v)
		}
		y += 3*bar + gap
	}
	for i, t := range targets {
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n",
			left+i*120, y+4, colors[t], left+i*120+16, y+14, map[string]string{"graphql": "Sportello", "floor": "floor", "peer": "PostGraphile"}[t])
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "'", "&#39;").Replace(s)
}
