// Package bench holds the baseline benchmarks of Sportello's two hot paths, run end to end over
// real HTTP, the real GraphQL handler and a fresh PostgreSQL database:
//
//   - BenchmarkSubmitTicket: a signed-in citizen files a ticket (the submitTicket mutation),
//     serially and from parallel clients.
//   - BenchmarkTicketList50: an operator lists the newest 50 of 1,000 tickets with their citizen
//     and office, optionally with their messages, and the same page read from the service
//     directly, to show what the GraphQL layer costs.
//
// Besides ns/op, B/op and allocs/op the benchmarks report ops/s and stmts/op: the SQL statements
// the database ran per operation. BEGIN and COMMIT are not counted (lib/pq sends them outside
// the driver interfaces the counter wraps), so a write costs two round trips more than stmts/op.
// B/op and allocs/op include the client side of the test (request encoding, response decoding),
// because client and server run in the same process.
//
// The package has only benchmarks. Run them with `make bench`, or:
//
//	. .data/env && go test -run '^$' -bench . -benchmem -benchtime=3s ./bench/
package bench
