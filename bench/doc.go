// Package bench holds Sportello's benchmarks.
//
// # The benchmark (make bench)
//
// `make bench` measures the server as a municipality runs it, on a data set of a large town,
// beside two references on the same data in the same run, and writes bench/results/results.md
// (the table the README shows), results.svg (a chart) and results.json:
//
//   - bench/datagen loads the data set into its own database, sportello_bench: 100,000 citizens,
//     1,000,000 tickets filed over five years with their messages and histories, the demo
//     town's offices, staff and content, and a catalogue of a few thousand services. It is
//     reproducible from its seed (-seed, -scale, -end) and reused when the database already
//     holds it (without -end, whatever day it ended), after the migrations and demo data added
//     since. Each run of bench/run first removes the tickets earlier runs filed.
//   - bench/run builds and starts three servers over that database: Sportello (`server
//     serve`), the floor (bench/floor: net/http calling the same db services and writing the
//     same JSON, without GraphQL) and the peer (PostGraphile 4.14.1, pinned by
//     bench/peer/package-lock.json and installed with npm ci when missing).
//   - bench/load, the load generator, runs as its own process for each run of a target and
//     workload: first at saturation (clients in a closed loop), in -rounds rounds (3) where the
//     three targets take turns, then in an open loop at a fixed rate shared by the three targets,
//     half the slowest one's saturation throughput, with -conns clients (16) and latency
//     measured from each request's scheduled send, so that queueing shows in the p99. Each
//     target saturates at its own number of clients: PostGraphile's one Node thread with 16 or
//     32 in every workload, while Sportello and the floor served a ticket by id fastest with 32
//     to 256, since their work spreads over both cores and their audit entries share an INSERT
//     with more reads the more arrive at once. Before the rounds each target is probed (-probe,
//     2 s) with -conns clients, then twice as many while its throughput rises by more than 5%,
//     up to -max-conns (256), and its rounds run with the clients of its best probe. It reads
//     the server process's CPU time and peak RSS from /proc, and its own CPU time: it shares
//     the machine, so it sends through fasthttp's client, which costs about half of net/http's
//     CPU a request. The table gives each target's median round, and as ratios the median of
//     the rounds' own ratios with their range: a shared machine drifts by a fifth between runs
//     minutes apart, and the targets of a round run seconds apart.
//
// The workloads: a ticket by id with its citizen and office (an operator); the operator's list,
// tickets(first: 20, filter: {statuses: [IN_PROGRESS], officeIds: [one office]}) with citizen,
// office and messages; a citizen's own list of 20 with the office; a catalogue search
// (anonymous); a published page by path (once the server has contentByPath); submitTicket (a
// signed-in citizen); and, with -fanout, BenchmarkFanout below.
//
// What differs on the peer: PostGraphile runs without authentication (the tenant is a condition of
// each query rather than derived from a token), returns the protocol number as its two columns and
// the citizen's name as two fields, filters the list by one status with equality, and finds a
// citizen's tickets by their id rather than by the token's subject. Its list is planned with the
// office and status at every call, as Sportello's is, rather than with the generic plan PostgreSQL
// would keep for the prepared statement (bench/peer/.postgraphilerc.js says why). The search is a
// SQL function created in the schema bench_peer with the same query as Sportello's public search.
// It has no submitTicket (the protocol number and deadline are Sportello's logic), and no pages.
//
//	. .data/env && go run ./bench/datagen -scale 0.01 && go run ./bench/run -duration 3s   # a quick look
//
// # The Go benchmarks (make bench-go)
//
// The baseline benchmarks of Sportello's hot paths, run end to end over real HTTP, the real
// GraphQL handler and a fresh PostgreSQL database:
//
//   - BenchmarkSubmitTicket: a signed-in citizen files a ticket (the submitTicket mutation),
//     serially and from parallel clients.
//   - BenchmarkTicketList50: an operator lists the newest 50 of 1,000 tickets with their citizen
//     and office, optionally with their messages, and the same page read from the service
//     directly, to show what the GraphQL layer costs.
//   - BenchmarkStatistics: a manager's statistics of six months (about 125,000 tickets) by every
//     dimension, over a generated history of 1,000,000 tickets, and the six-monthly report drawn
//     from them as PDF. Generating the history takes a minute or two and is not measured:
//     `go test -run '^$' -bench Statistics -benchtime=10x -timeout 20m ./bench/`.
//   - BenchmarkFanout: the live feed under load. The server runs as its own process (built from
//     ../server and started with `serve` on a fresh database); N operators' dashboards
//     (subscribers=1000 and subscribers=10000), each on its own WebSocket, subscribe to
//     ticketEvents, and citizens file tickets over HTTP on a fixed schedule. See below.
//
// Besides ns/op, B/op and allocs/op the benchmarks report ops/s and stmts/op: the SQL statements
// the database ran per operation. BEGIN and COMMIT are not counted (lib/pq sends them outside
// the driver interfaces the counter wraps), so a write costs two round trips more than stmts/op.
// B/op and allocs/op include the client side of the test (request encoding, response decoding),
// because client and server run in the same process.
//
// # BenchmarkFanout
//
// Every case delivers the same load, 20,000 events a second over all its subscribers: tickets
// are filed at 20 a second to 1,000 subscribers and at 2 a second to 10,000, for 10 s per
// iteration, so that the cases differ only in how many subscribers share each event.
// FANOUT_RATE=<tickets per second> files at that rate in every case instead. Filing is an open
// loop: each submitTicket starts on schedule whether or not the previous ones were answered, so
// a server that falls behind shows up as latency, not as fewer filings. It reports:
//
//   - KiB/subscriber: the server process's resident memory (VmRSS) with all N subscribers
//     connected and idle for 2 s, minus the same before they connected, divided by N. It is
//     what the machine pays, garbage not yet collected included; the server exposes nothing
//     finer.
//   - p50-ms, p99-ms, max-ms: over every (subscriber, ticket), the time from the moment the
//     submitTicket response was read to the moment the subscriber read the event with the same
//     protocol number. An event read before its response counts as 0 (the log says how many).
//   - delivered and expected: distinct events received and subscribers × tickets. The benchmark
//     fails unless they are equal within 30 s of the last filing, and if any subscriber gets an
//     event twice or loses its connection.
//
// The log adds the latency of the first and the last subscriber per ticket (the first shows
// the feed's own delay, the difference the fanout), the server's CPU time per delivered event,
// the benchmark process's CPU time and the load average: the subscribers' client runs on the
// same machine and competes with the server for its CPUs, and long transactions anywhere in the
// PostgreSQL cluster (other databases included) hold back what the feed may read. ns/op is
// suppressed, since the rate, not the server, sets the time of an iteration; B/op and
// allocs/op, with -benchmem, are the client's. The benchmark needs Linux (it reads /proc) and
// a limit of open files above N in both processes (Go raises the soft limit to the hard one).
//
// An iteration takes over 10 s, so each case runs once with -benchtime=1x or any duration up
// to 10s (`make bench` included); a count above 1x runs a one-iteration round first, with its
// own server and subscribers. The whole benchmark takes about a minute, the 1,000 case alone
// about 20 s:
//
//	. .data/env && go test -run '^$' -bench Fanout -benchtime=1x -timeout 20m ./bench/
//	. .data/env && go test -run '^$' -bench 'Fanout/subscribers=1000$' -benchtime=1x ./bench/   # the quick one
//
// The package has only benchmarks. Run them with `make bench-go`, or:
//
//	. .data/env && go test -run '^$' -bench . -benchmem -benchtime=3s ./bench/
package bench
