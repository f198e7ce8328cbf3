package db_test

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"
	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
)

// TestStatisticsAgreeWithPercentileContOverGroupingSets checks the statistics against the
// straightforward computation they replaced, one statement with GROUPING SETS and
// percentile_cont (referenceStatistics), on a generated history with the edges the fast path
// could get wrong: tickets filed exactly at Rome's midnight at either end of a period and of
// its months (summer and winter time), a microsecond before, reopened tickets (through the
// services and as rows), answers without a first reply or before it, ties, negative times
// from a wrong clock, tickets without an office, feedback without a rating or given before
// the period, and another municipality's tickets.
func TestStatisticsAgreeWithPercentileContOverGroupingSets(t *testing.T) {
	tw := newTown(t)
	mgr := managerCtx(sportello.DefaultTenantID)

	// Through the services: one ticket answered, reopened and answered again, one answered and
	// reopened, one answered without a reply.
	tw.at(2, 9, 0)
	twice := tw.file(t, "c1", sportello.KindComplaint, sportello.ChannelWeb)
	reopened := tw.file(t, "c2", sportello.KindInformation, sportello.ChannelApp)
	unreplied := tw.file(t, "c3", sportello.KindInformation, sportello.ChannelCounter)
	tw.at(2, 11, 0)
	tw.reply(t, twice.ID)
	tw.at(3, 10, 0)
	for _, tk := range []*sportello.Ticket{twice, reopened, unreplied} {
		tw.resolve(t, tk.ID, sportello.StatusResolved)
	}
	tw.at(4, 12, 0)
	tw.move(t, operatorCtx("op"), twice.ID, sportello.StatusInProgress, "")
	tw.move(t, operatorCtx("op"), reopened.ID, sportello.StatusInProgress, "")
	tw.at(5, 9, 30)
	tw.move(t, operatorCtx("op"), twice.ID, sportello.StatusResolved, "")

	generateStatisticsHistory(t, tw.d, tw.office)
	newTenant(t, tw.d)
	other := newOffice(t, tw.d, otherTenant, "Altro ufficio")
	if _, err := tw.d.Exec(`INSERT INTO tickets (tenant_id, protocol_year, protocol_seq, kind, channel, status, subject,
		body, office_id, created_at, updated_at, due_at, answered_at, resolution_office_seconds)
		VALUES ($1, 2026, 1, 'COMPLAINT', 'WEB', 'RESOLVED', 'Altrove', '', $2, '2026-03-10 10:00+01',
		'2026-03-10 10:00+01', '2026-04-10 10:00+02', '2026-03-12 10:00+01', 7200)`, otherTenant, other); err != nil {
		t.Fatal(err)
	}

	tw.now = time.Date(2026, 7, 15, 12, 0, 0, 0, sportello.Rome)
	day := func(y int, m time.Month, d int) sportello.Date { return sportello.Date{Year: y, Month: m, Day: d} }
	periods := []sportello.Period{
		{From: day(2025, 1, 1), To: day(2026, 12, 31)},
		{From: day(2026, 1, 1), To: day(2026, 6, 30)},
		{From: day(2026, 3, 1), To: day(2026, 3, 31)},    // summer time starts on 29 March
		{From: day(2025, 10, 26), To: day(2025, 10, 26)}, // and ends on 26 October 2025
		{From: day(2026, 3, 2), To: day(2026, 3, 2)},
		{From: day(2024, 1, 1), To: day(2024, 12, 31)}, // no ticket
	}
	all := []sportello.StatsDimension{sportello.ByKind, sportello.ByChannel, sportello.ByOffice, sportello.ByStatus, sportello.ByMonth}
	groupings := [][]sportello.StatsDimension{all, nil, {sportello.ByMonth, sportello.ByOffice, sportello.ByMonth}}
	for _, p := range periods {
		for _, dims := range groupings {
			t.Run(fmt.Sprintf("%s..%s by %v", p.From, p.To, dims), func(t *testing.T) {
				got, err := tw.stats.Statistics(mgr, p, dims)
				if err != nil {
					t.Fatal(err)
				}
				wantTotal, wantGroups := referenceStatistics(t, tw.d, p, dims, tw.now)
				sameGroup(t, "total", got.Total, wantTotal)
				if len(got.Groups) != len(wantGroups) {
					t.Fatalf("%d groups, want %d", len(got.Groups), len(wantGroups))
				}
				for i, g := range got.Groups {
					sameGroup(t, fmt.Sprintf("group %d (%s %s)", i, g.Dimension, g.Key), g, wantGroups[i])
				}
			})
		}
	}
}

// generateStatisticsHistory writes 3,000 tickets of the default tenant filed from 2025 to 2026
// at random instants to the microsecond, with random histories, and then the edge cases, as
// rows.
func generateStatisticsHistory(t *testing.T, d *db.DB, office string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 2026))
	statuses := []sportello.Status{sportello.StatusSubmitted, sportello.StatusInProgress, sportello.StatusWaitingForCitizen,
		sportello.StatusResolved, sportello.StatusRejected, sportello.StatusClosed}
	levels := []string{"POSITIVE", "NEUTRAL", "NEGATIVE"}
	type row struct {
		kind, channel, status  string
		office                 any
		created, due           time.Time
		firstReply, answered   *time.Time
		firstOffice, resOffice *int
		level                  string
		rating                 *int
		feedbackAt             time.Time
	}
	var rows []row
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, sportello.Rome)
	span := time.Date(2027, 1, 1, 0, 0, 0, 0, sportello.Rome).Sub(start)
	for range 3000 {
		created := start.Add(time.Duration(rng.Int64N(int64(span/time.Microsecond))) * time.Microsecond)
		r := row{kind: string(sportello.Kinds[rng.IntN(len(sportello.Kinds))]),
			channel: string(sportello.Channels[rng.IntN(4)]), status: string(statuses[rng.IntN(len(statuses))]),
			office: office, created: created, due: created.Add(time.Duration(rng.IntN(40)) * 24 * time.Hour)}
		if rng.IntN(8) == 0 {
			r.office = nil
		}
		// Times are whole minutes half of the time, so that values tie.
		after := func(limit time.Duration) *time.Time {
			d := time.Duration(rng.Int64N(int64(limit)))
			if rng.IntN(2) == 0 {
				d = d.Truncate(time.Minute)
			}
			at := created.Add(d)
			return &at
		}
		if rng.IntN(3) > 0 {
			r.firstReply = after(10 * 24 * time.Hour)
		}
		if rng.IntN(4) > 0 {
			fr := rng.IntN(5000) / 60 * 60
			r.firstOffice = &fr
		}
		switch sportello.Status(r.status) {
		case sportello.StatusResolved, sportello.StatusRejected, sportello.StatusClosed:
			r.answered = after(60 * 24 * time.Hour)
			if rng.IntN(10) > 0 {
				res := rng.IntN(200_000) / 60 * 60
				r.resOffice = &res
			}
			if rng.IntN(3) == 0 {
				r.level = levels[rng.IntN(len(levels))]
				r.feedbackAt = r.answered.Add(time.Hour)
				if rng.IntN(2) == 0 {
					rating := 1 + rng.IntN(5)
					r.rating = &rating
				}
			}
		}
		rows = append(rows, r)
	}
	at := func(y int, m time.Month, d, h, min, s, us int) time.Time {
		return time.Date(y, m, d, h, min, s, us*1000, sportello.Rome)
	}
	ptr := func(t time.Time) *time.Time { return &t }
	num := func(n int) *int { return &n }
	edges := []row{
		// At Rome's midnight that starts a period, the one that ends it, a microsecond before,
		// and at the midnights of a month boundary, in winter and in summer time.
		{created: at(2026, 1, 1, 0, 0, 0, 0)}, {created: at(2025, 12, 31, 23, 59, 59, 999999)},
		{created: at(2026, 7, 1, 0, 0, 0, 0)}, {created: at(2026, 6, 30, 23, 59, 59, 999999)},
		{created: at(2026, 3, 1, 0, 0, 0, 0)}, {created: at(2026, 2, 28, 23, 59, 59, 999999)},
		{created: at(2026, 4, 1, 0, 0, 0, 0)}, {created: at(2026, 3, 31, 23, 59, 59, 999999)},
		{created: at(2026, 3, 3, 0, 0, 0, 0)}, {created: at(2026, 3, 2, 23, 59, 59, 999999)},
		{created: at(2025, 10, 26, 0, 0, 0, 0)}, {created: at(2025, 10, 26, 23, 59, 59, 999999)},
		{created: at(2025, 10, 27, 0, 0, 0, 0)},
		// Reopened: a reply, no answer and its office times cleared.
		{created: at(2026, 3, 2, 10, 0, 0, 0), status: "IN_PROGRESS", firstReply: ptr(at(2026, 3, 2, 11, 0, 0, 0))},
		// Answered without a reply, and answered before the reply came.
		{created: at(2026, 3, 2, 10, 0, 0, 0), status: "RESOLVED", answered: ptr(at(2026, 3, 4, 10, 0, 0, 0)), firstOffice: num(7200), resOffice: num(7200)},
		{created: at(2026, 3, 2, 10, 0, 0, 0), status: "REJECTED", firstReply: ptr(at(2026, 3, 9, 10, 0, 0, 0)),
			answered: ptr(at(2026, 3, 4, 10, 0, 0, 1)), firstOffice: num(7200), resOffice: num(7200)},
		// Answered exactly at the deadline (on time) and a microsecond after it (late).
		{created: at(2026, 3, 2, 12, 0, 0, 0), status: "CLOSED", due: at(2026, 3, 5, 12, 0, 0, 0), answered: ptr(at(2026, 3, 5, 12, 0, 0, 0))},
		{created: at(2026, 3, 2, 12, 0, 0, 0), status: "CLOSED", due: at(2026, 3, 5, 12, 0, 0, 0), answered: ptr(at(2026, 3, 5, 12, 0, 0, 1))},
		// A wrong clock: answered before filing.
		{created: at(2026, 3, 2, 12, 0, 0, 0), status: "RESOLVED", answered: ptr(at(2026, 3, 1, 12, 0, 0, 0)), firstOffice: num(0), resOffice: num(0)},
		// Feedback given before the period it counts in (kept out by the statistics) and
		// feedback without a rating.
		{created: at(2026, 1, 1, 0, 0, 0, 0), status: "RESOLVED", answered: ptr(at(2026, 1, 2, 0, 0, 0, 0)), level: "NEGATIVE",
			rating: num(1), feedbackAt: at(2025, 12, 31, 12, 0, 0, 0)},
		{created: at(2026, 3, 2, 9, 0, 0, 0), status: "RESOLVED", answered: ptr(at(2026, 3, 2, 10, 0, 0, 0)), level: "POSITIVE",
			feedbackAt: at(2026, 3, 2, 11, 0, 0, 0)},
		// An open ticket due exactly now is not overdue yet; one due a microsecond before is.
		{created: at(2026, 7, 1, 9, 0, 0, 0), status: "SUBMITTED", due: at(2026, 7, 15, 12, 0, 0, 0)},
		{created: at(2026, 7, 1, 9, 0, 0, 0), status: "WAITING_FOR_CITIZEN", due: at(2026, 7, 15, 11, 59, 59, 999999)},
	}
	for _, e := range edges {
		if e.kind == "" {
			e.kind, e.channel = "REPORT", "PHONE"
		}
		if e.status == "" {
			e.status = "SUBMITTED"
		}
		if e.due.IsZero() {
			e.due = e.created.Add(30 * 24 * time.Hour)
		}
		e.office = office
		rows = append(rows, e)
	}
	for i, r := range rows {
		var id string
		if err := d.Get(&id, `INSERT INTO tickets (tenant_id, protocol_year, protocol_seq, kind, channel, status, subject,
			body, office_id, created_at, updated_at, due_at, first_responded_at, answered_at, first_response_office_seconds,
			resolution_office_seconds)
			VALUES ($1, 2000, $2, $3, $4, $5, 'Generata', '', $6, $7, $7, $8, $9, $10, $11, $12) RETURNING id`,
			sportello.DefaultTenantID, i+1, r.kind, r.channel, r.status, r.office, r.created, r.due, r.firstReply,
			r.answered, r.firstOffice, r.resOffice); err != nil {
			t.Fatal(err)
		}
		if r.level == "" {
			continue
		}
		if _, err := d.Exec(`INSERT INTO ticket_feedback (ticket_id, tenant_id, level, rating, given_by, created_at)
			VALUES ($1, $2, $3, $4, 'CITIZEN', $5)`, id, sportello.DefaultTenantID, r.level, r.rating, r.feedbackAt); err != nil {
			t.Fatal(err)
		}
	}
}

// referenceStatistics computes the figures of the default tenant's tickets filed in the period
// in one statement, as the statistics did before they were counted in Go: a grouping set for
// the total and for each dimension, percentile_cont for the percentiles. Its groups are in
// the order of dims, each dimension's keys ascending.
func referenceStatistics(t *testing.T, d *db.DB, p sportello.Period, groupBy []sportello.StatsDimension, now time.Time) (*sportello.StatsGroup, []*sportello.StatsGroup) {
	t.Helper()
	columns := map[sportello.StatsDimension]string{
		sportello.ByKind:    "t.kind",
		sportello.ByChannel: "t.channel",
		sportello.ByOffice:  "coalesce(t.office_id::text, '')",
		sportello.ByStatus:  "t.status",
		sportello.ByMonth:   "to_char(t.created_at AT TIME ZONE 'Europe/Rome', 'YYYY-MM')",
	}
	var dims []sportello.StatsDimension
	for _, dim := range groupBy {
		if !slices.Contains(dims, dim) {
			dims = append(dims, dim)
		}
	}
	sets, exprs := []string{"()"}, []string{}
	for _, dim := range dims {
		sets = append(sets, "("+columns[dim]+")")
		exprs = append(exprs, columns[dim])
	}
	grouping, key := "0", "NULL::text"
	if len(exprs) > 0 {
		grouping = "grouping(" + strings.Join(exprs, ", ") + ")"
		key = "coalesce(" + strings.Join(exprs, ", ") + ")"
	}
	const firstDays = `extract(epoch FROM least(t.first_responded_at, t.answered_at) - t.created_at) / 86400`
	const resDays = `extract(epoch FROM t.answered_at - t.created_at) / 86400`
	query := `SELECT ` + grouping + ` AS set, ` + key + ` AS key, count(*),
		count(*) FILTER (WHERE t.answered_at IS NOT NULL),
		count(*) FILTER (WHERE t.answered_at <= t.due_at),
		count(*) FILTER (WHERE t.status = ANY($4)),
		count(*) FILTER (WHERE t.status = ANY($4) AND t.due_at < $5),
		percentile_cont(0.5) WITHIN GROUP (ORDER BY t.first_response_office_seconds) / 3600,
		percentile_cont(0.9) WITHIN GROUP (ORDER BY t.first_response_office_seconds) / 3600,
		percentile_cont(0.5) WITHIN GROUP (ORDER BY ` + firstDays + `) FILTER (WHERE t.answered_at IS NOT NULL),
		percentile_cont(0.9) WITHIN GROUP (ORDER BY ` + firstDays + `) FILTER (WHERE t.answered_at IS NOT NULL),
		percentile_cont(0.5) WITHIN GROUP (ORDER BY t.resolution_office_seconds) / 3600,
		percentile_cont(0.9) WITHIN GROUP (ORDER BY t.resolution_office_seconds) / 3600,
		percentile_cont(0.5) WITHIN GROUP (ORDER BY ` + resDays + `),
		percentile_cont(0.9) WITHIN GROUP (ORDER BY ` + resDays + `),
		count(*) FILTER (WHERE f.level = 'POSITIVE'),
		count(*) FILTER (WHERE f.level = 'NEUTRAL'),
		count(*) FILTER (WHERE f.level = 'NEGATIVE'),
		avg(f.rating)::float8
		FROM tickets t LEFT JOIN ticket_feedback f ON f.ticket_id = t.id AND f.tenant_id = t.tenant_id AND f.created_at >= $2
		WHERE t.tenant_id = $1 AND t.created_at >= $2 AND t.created_at < $3
		GROUP BY GROUPING SETS (` + strings.Join(sets, ", ") + `)
		ORDER BY 1 DESC, 2`
	from, to := p.Bounds()
	rows, err := d.QueryContext(db.AllTenants(context.Background()), query, sportello.DefaultTenantID, from, to, pq.Array(sportello.OpenStatuses), now)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	total := &sportello.StatsGroup{}
	var groups []*sportello.StatsGroup
	all := 1<<len(dims) - 1
	for rows.Next() {
		var set int
		var k sql.NullString
		var pct [8]sql.NullFloat64
		var avg sql.NullFloat64
		g := &sportello.StatsGroup{}
		s := &g.Satisfaction
		if err := rows.Scan(&set, &k, &g.Tickets, &g.Answered, &g.AnsweredOnTime, &g.Open, &g.Overdue,
			&pct[0], &pct[1], &pct[2], &pct[3], &pct[4], &pct[5], &pct[6], &pct[7],
			&s.Positive, &s.Neutral, &s.Negative, &avg); err != nil {
			t.Fatal(err)
		}
		opt := func(v sql.NullFloat64) *float64 {
			if !v.Valid {
				return nil
			}
			return &v.Float64
		}
		g.Key, g.OnTimeShare, s.CSAT, s.AverageRating = k.String, sportello.Share(g.AnsweredOnTime, g.Answered),
			sportello.Share(s.Positive, s.Total()), opt(avg)
		g.FirstResponse = sportello.Durations{Measured: g.Answered, MedianOfficeHours: opt(pct[0]), P90OfficeHours: opt(pct[1]),
			MedianDays: opt(pct[2]), P90Days: opt(pct[3])}
		g.Resolution = sportello.Durations{Measured: g.Answered, MedianOfficeHours: opt(pct[4]), P90OfficeHours: opt(pct[5]),
			MedianDays: opt(pct[6]), P90Days: opt(pct[7])}
		if set == all {
			total = g
			continue
		}
		for j, dim := range dims {
			if set == all&^(1<<(len(dims)-1-j)) {
				g.Dimension = dim
				groups = append(groups, g)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.SortStableFunc(groups, func(x, y *sportello.StatsGroup) int {
		return slices.Index(dims, x.Dimension) - slices.Index(dims, y.Dimension)
	})
	return total, groups
}

// sameGroup fails unless got has want's dimension, key and counts, and its figures to within
// a few units of the last of their sixteen digits: the reference computes the calendar days
// in numeric before it rounds them to float8.
func sameGroup(t *testing.T, what string, got, want *sportello.StatsGroup) {
	t.Helper()
	if got.Dimension != want.Dimension || got.Key != want.Key || got.Tickets != want.Tickets || got.Answered != want.Answered ||
		got.AnsweredOnTime != want.AnsweredOnTime || got.Open != want.Open || got.Overdue != want.Overdue ||
		got.FirstResponse.Measured != want.FirstResponse.Measured || got.Resolution.Measured != want.Resolution.Measured ||
		got.Satisfaction.Positive != want.Satisfaction.Positive || got.Satisfaction.Neutral != want.Satisfaction.Neutral ||
		got.Satisfaction.Negative != want.Satisfaction.Negative {
		t.Errorf("%s = %+v\nwant %+v", what, got, want)
		return
	}
	figures := []struct {
		name      string
		got, want *float64
	}{
		{"on-time share", got.OnTimeShare, want.OnTimeShare},
		{"first response median hours", got.FirstResponse.MedianOfficeHours, want.FirstResponse.MedianOfficeHours},
		{"first response p90 hours", got.FirstResponse.P90OfficeHours, want.FirstResponse.P90OfficeHours},
		{"first response median days", got.FirstResponse.MedianDays, want.FirstResponse.MedianDays},
		{"first response p90 days", got.FirstResponse.P90Days, want.FirstResponse.P90Days},
		{"resolution median hours", got.Resolution.MedianOfficeHours, want.Resolution.MedianOfficeHours},
		{"resolution p90 hours", got.Resolution.P90OfficeHours, want.Resolution.P90OfficeHours},
		{"resolution median days", got.Resolution.MedianDays, want.Resolution.MedianDays},
		{"resolution p90 days", got.Resolution.P90Days, want.Resolution.P90Days},
		{"csat", got.Satisfaction.CSAT, want.Satisfaction.CSAT},
		{"average rating", got.Satisfaction.AverageRating, want.Satisfaction.AverageRating},
	}
	for _, f := range figures {
		switch {
		case (f.got == nil) != (f.want == nil):
			t.Errorf("%s: %s = %v, want %v", what, f.name, deref(f.got), deref(f.want))
		case f.got != nil && math.Abs(*f.got-*f.want) > 1e-14*math.Max(1, math.Abs(*f.want)):
			t.Errorf("%s: %s = %v, want %v", what, f.name, *f.got, *f.want)
		}
	}
}
