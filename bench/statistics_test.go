package bench

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/lib/pq"
	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
	"github.com/sportello/sportello/db/dbtest"
	"github.com/sportello/sportello/report"
)

// statisticsTickets is the history BenchmarkStatistics queries: a large municipality's four
// years.
const statisticsTickets = 1_000_000

// BenchmarkStatistics measures the statistics of six months (the first half of 2026, about
// 125,000 tickets) grouped by every dimension, over 1,000,000 tickets filed from 2023 to 2026,
// a tenth of them with feedback: the service call (one statement for the figures, one each
// for the office names, the tenant and the access outcomes) and the six-monthly report drawn
// from it as PDF. Generating the history is not measured; the log says how long it took.
func BenchmarkStatistics(b *testing.B) {
	d := dbtest.New(b)
	ctx := context.Background()
	start := time.Now()
	generateHistory(b, d, statisticsTickets)
	b.Logf("generated %d tickets in %s", statisticsTickets, time.Since(start).Round(time.Second))
	manager := sportello.WithUser(ctx, &sportello.User{TenantID: sportello.DefaultTenantID, Subject: "m",
		Roles: []sportello.Role{sportello.RoleManager}})
	svc := db.NewStatisticsService(d)
	period, _ := sportello.HalfYear(2026, 1)

	b.Run("six-months", func(b *testing.B) {
		var st *sportello.Statistics
		for b.Loop() {
			var err error
			if st, err = svc.Statistics(manager, period, report.Dimensions); err != nil {
				b.Fatal(err)
			}
		}
		if st.Total.Tickets < 100_000 || st.Total.Resolution.MedianOfficeHours == nil || st.Total.Satisfaction.Total() == 0 {
			b.Fatalf("unexpected figures: %+v", st.Total)
		}
		b.ReportMetric(float64(st.Total.Tickets), "tickets")
	})
	b.Run("report-pdf", func(b *testing.B) {
		for b.Loop() {
			st, err := svc.Statistics(manager, period, report.Dimensions)
			if err != nil {
				b.Fatal(err)
			}
			var buf bytes.Buffer
			if err := report.PDF(&buf, &report.Semiannual{Year: 2026, Half: 1, Stats: st}, true); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// generateHistory writes n answered and open tickets, spread evenly over 2023-2026 in six
// offices, with their precomputed measures and feedback on a tenth of the answered ones, in a
// few statements; then it vacuums the table, as autovacuum would, so that the statistics'
// index is used as it would be on a settled database, and takes a checkpoint, so that the
// measured queries do not write out the pages the generation left dirty.
func generateHistory(b testing.TB, d *db.DB, n int) {
	b.Helper()
	var offices []string
	for _, name := range []string{"URP", "Anagrafe", "Tributi", "Lavori Pubblici", "Polizia Locale", "Servizi Sociali"} {
		var id string
		if err := d.Get(&id, `INSERT INTO offices (tenant_id, name) VALUES ($1, $2) RETURNING id`, sportello.DefaultTenantID, name); err != nil {
			b.Fatal(err)
		}
		offices = append(offices, id)
	}
	// The full-text index of tickets is dropped while generating: its upkeep would take most of
	// the time, and the statistics never read it.
	stmts := []struct {
		sql  string
		args []any
	}{
		{`DROP INDEX tickets_search`, nil},
		{`INSERT INTO tickets (tenant_id, protocol_year, protocol_seq, kind, channel, status, subject, body, office_id,
			created_at, updated_at, due_at, first_responded_at, answered_at, first_response_office_seconds,
			resolution_office_seconds)
		SELECT $1, extract(year FROM c AT TIME ZONE 'Europe/Rome')::int, i,
			(ARRAY['INFORMATION','ASSISTANCE','PETITION','PROPOSAL','COMPLAINT','REPORT','SUGGESTION'])[1 + i % 7],
			(ARRAY['WEB','APP','COUNTER','PHONE','EMAIL','PEC','POST','SOCIAL'])[1 + (i / 7) % 8],
			s, 'Richiesta', '', ($3::uuid[])[1 + (i / 3) % 6], c, c, c + interval '30 days',
			c + (r * 5) * interval '1 day',
			CASE WHEN s IN ('RESOLVED', 'REJECTED', 'CLOSED') THEN c + (r * 45) * interval '1 day' END,
			(r * 40 * 3600)::int,
			CASE WHEN s IN ('RESOLVED', 'REJECTED', 'CLOSED') THEN (r * 360 * 3600)::int END
		FROM (SELECT i, c, r, CASE WHEN i % 10 = 0 THEN 'IN_PROGRESS' WHEN i % 10 = 1 THEN 'REJECTED'
				WHEN i % 10 < 6 THEN 'CLOSED' ELSE 'RESOLVED' END AS s
			FROM (SELECT i, timestamptz '2023-01-01 00:00+01' + i * ($2::float8 / $4) * interval '1 second' AS c,
				random() AS r FROM generate_series(1, $4) AS i) g) h`,
			[]any{sportello.DefaultTenantID, 4 * 365.25 * 86400, pq.Array(offices), n}},
		{`INSERT INTO ticket_feedback (ticket_id, tenant_id, level, rating, given_by, created_at)
		SELECT id, tenant_id, (ARRAY['POSITIVE','POSITIVE','NEUTRAL','NEGATIVE'])[1 + protocol_seq % 4],
			1 + protocol_seq % 5, 'CITIZEN', answered_at
		FROM tickets WHERE answered_at IS NOT NULL AND protocol_seq % 10 = 3`, nil},
		{`VACUUM ANALYZE tickets`, nil},
		{`VACUUM ANALYZE ticket_feedback`, nil},
		{`CHECKPOINT`, nil},
	}
	for _, s := range stmts {
		if _, err := d.Exec(s.sql, s.args...); err != nil {
			b.Fatalf("generate history: %v", err)
		}
	}
}
