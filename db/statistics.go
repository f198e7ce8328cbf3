package db

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	sportello "github.com/sportello/sportello"
)

// answerMeasures are what a status change writes about the ticket's answer: set is false when
// the change leaves them as they are.
type answerMeasures struct {
	set                  bool
	answeredAt           *time.Time
	firstResponseSeconds *int64
	resolutionSeconds    *int64
}

// measureAnswer returns the measures a move of t to status to writes. Answering (resolving or
// rejecting) records the instant and the office time from filing to the first reply (or to
// the answer, when it came first) and to the answer, on the clock of the ticket's office, or
// of the front desk while it has none: statistics then never run that clock themselves. Going
// back in progress clears them, as the answer no longer stands.
func measureAnswer(ctx context.Context, tx *sqlx.Tx, t *sportello.Ticket, to sportello.Status, now time.Time) (answerMeasures, error) {
	switch to {
	case sportello.StatusInProgress:
		return answerMeasures{set: true}, nil
	case sportello.StatusResolved, sportello.StatusRejected:
	default:
		return answerMeasures{}, nil
	}
	m := answerMeasures{set: true, answeredAt: &now}
	schedules, err := loadSchedules(ctx, tx, t.TenantID, []string{t.OfficeID})
	if err != nil {
		return m, err
	}
	sched := schedules[t.OfficeID]
	if sched == nil {
		return m, nil
	}
	first := now
	if t.FirstRespondedAt != nil && t.FirstRespondedAt.Before(now) {
		first = *t.FirstRespondedAt
	}
	fr := int64(sched.Between(t.CreatedAt, first) / time.Second)
	res := int64(sched.Between(t.CreatedAt, now) / time.Second)
	m.firstResponseSeconds, m.resolutionSeconds = &fr, &res
	return m, nil
}

// StatisticsService implements sportello.StatisticsService.
type StatisticsService struct {
	db *DB
}

// NewStatisticsService returns the statistics service over db.
func NewStatisticsService(db *DB) *StatisticsService { return &StatisticsService{db: db} }

var _ sportello.StatisticsService = (*StatisticsService)(nil)

// groupColumns are the expressions each dimension groups by, as text.
var groupColumns = map[sportello.StatsDimension]string{
	sportello.ByKind:    "t.kind",
	sportello.ByChannel: "t.channel",
	sportello.ByOffice:  "coalesce(t.office_id::text, '')",
	sportello.ByStatus:  "t.status",
	sportello.ByMonth:   "to_char(t.created_at AT TIME ZONE 'Europe/Rome', 'YYYY-MM')",
}

type statsRow struct {
	Set            int             `db:"set"`
	Key            sql.NullString  `db:"key"`
	Tickets        int             `db:"tickets"`
	Answered       int             `db:"answered"`
	OnTime         int             `db:"on_time"`
	Open           int             `db:"open"`
	Overdue        int             `db:"overdue"`
	FRMedianHours  sql.NullFloat64 `db:"fr_median_hours"`
	FRP90Hours     sql.NullFloat64 `db:"fr_p90_hours"`
	FRMedianDays   sql.NullFloat64 `db:"fr_median_days"`
	FRP90Days      sql.NullFloat64 `db:"fr_p90_days"`
	ResMedianHours sql.NullFloat64 `db:"res_median_hours"`
	ResP90Hours    sql.NullFloat64 `db:"res_p90_hours"`
	ResMedianDays  sql.NullFloat64 `db:"res_median_days"`
	ResP90Days     sql.NullFloat64 `db:"res_p90_days"`
	Positive       int             `db:"positive"`
	Neutral        int             `db:"neutral"`
	Negative       int             `db:"negative"`
	AverageRating  sql.NullFloat64 `db:"average_rating"`
}

func optFloat(v sql.NullFloat64) *float64 {
	if !v.Valid {
		return nil
	}
	f := v.Float64
	return &f
}

func (r *statsRow) group(d sportello.StatsDimension) *sportello.StatsGroup {
	g := &sportello.StatsGroup{Dimension: d, Key: r.Key.String, Label: r.Key.String, Tickets: r.Tickets,
		Answered: r.Answered, AnsweredOnTime: r.OnTime, OnTimeShare: sportello.Share(r.OnTime, r.Answered),
		Open: r.Open, Overdue: r.Overdue,
		FirstResponse: sportello.Durations{Measured: r.Answered, MedianOfficeHours: optFloat(r.FRMedianHours),
			P90OfficeHours: optFloat(r.FRP90Hours), MedianDays: optFloat(r.FRMedianDays), P90Days: optFloat(r.FRP90Days)},
		Resolution: sportello.Durations{Measured: r.Answered, MedianOfficeHours: optFloat(r.ResMedianHours),
			P90OfficeHours: optFloat(r.ResP90Hours), MedianDays: optFloat(r.ResMedianDays), P90Days: optFloat(r.ResP90Days)},
		Satisfaction: sportello.Satisfaction{Positive: r.Positive, Neutral: r.Neutral, Negative: r.Negative,
			AverageRating: optFloat(r.AverageRating)},
	}
	g.Satisfaction.CSAT = sportello.Share(r.Positive, g.Satisfaction.Total())
	return g
}

// Statistics computes the figures of a period in one statement: GROUPING SETS give the total
// and every dimension from a single index-only scan of the period's entries of
// tickets_statistics (see migration 0011), and the percentiles are percentile_cont over the
// measures written when each ticket was answered. See sportello.StatisticsService.
func (s *StatisticsService) Statistics(ctx context.Context, p sportello.Period, groupBy []sportello.StatsDimension) (*sportello.Statistics, error) {
	c, err := requireManager(ctx)
	if err != nil {
		return nil, err
	}
	if err := p.Validate("period."); err != nil {
		return nil, err
	}
	var dims []sportello.StatsDimension
	for _, d := range groupBy {
		if !d.Valid() {
			return nil, sportello.InvalidField("groupBy", "unknown dimension %q", d)
		}
		if !slices.Contains(dims, d) {
			dims = append(dims, d)
		}
	}
	from, to := p.Bounds()
	now := s.db.now()
	var a args
	tenant, fromArg, toArg := a.add(c.tenantID), a.add(from), a.add(to)
	open, nowArg := a.add(pq.Array(sportello.OpenStatuses)), a.add(now)
	// The key of a row is the expression of its grouping set; grouping() tells which set it
	// is, as a bit mask over the dimensions in order (a bit set for each one it does not
	// group by), so the row of set i has every bit but i's.
	sets := []string{"()"}
	key := "NULL::text"
	var exprs []string
	for _, d := range dims {
		sets = append(sets, "("+groupColumns[d]+")")
		exprs = append(exprs, groupColumns[d])
	}
	grouping := "0"
	if len(exprs) > 0 {
		grouping = "grouping(" + strings.Join(exprs, ", ") + ")"
		key = "coalesce(" + strings.Join(exprs, ", ") + ")"
	}
	const days = `extract(epoch FROM %s - t.created_at) / 86400`
	answered := "t.answered_at IS NOT NULL"
	firstDays := fmt.Sprintf(days, "least(t.first_responded_at, t.answered_at)")
	resDays := fmt.Sprintf(days, "t.answered_at")
	query := `SELECT ` + grouping + ` AS set, ` + key + ` AS key,
		count(*) AS tickets,
		count(*) FILTER (WHERE ` + answered + `) AS answered,
		count(*) FILTER (WHERE t.answered_at <= t.due_at) AS on_time,
		count(*) FILTER (WHERE t.status = ANY(` + open + `)) AS open,
		count(*) FILTER (WHERE t.status = ANY(` + open + `) AND t.due_at < ` + nowArg + `) AS overdue,
		percentile_cont(0.5) WITHIN GROUP (ORDER BY t.first_response_office_seconds) / 3600 AS fr_median_hours,
		percentile_cont(0.9) WITHIN GROUP (ORDER BY t.first_response_office_seconds) / 3600 AS fr_p90_hours,
		percentile_cont(0.5) WITHIN GROUP (ORDER BY ` + firstDays + `) FILTER (WHERE ` + answered + `) AS fr_median_days,
		percentile_cont(0.9) WITHIN GROUP (ORDER BY ` + firstDays + `) FILTER (WHERE ` + answered + `) AS fr_p90_days,
		percentile_cont(0.5) WITHIN GROUP (ORDER BY t.resolution_office_seconds) / 3600 AS res_median_hours,
		percentile_cont(0.9) WITHIN GROUP (ORDER BY t.resolution_office_seconds) / 3600 AS res_p90_hours,
		percentile_cont(0.5) WITHIN GROUP (ORDER BY ` + resDays + `) AS res_median_days,
		percentile_cont(0.9) WITHIN GROUP (ORDER BY ` + resDays + `) AS res_p90_days,
		count(*) FILTER (WHERE f.level = 'POSITIVE') AS positive,
		count(*) FILTER (WHERE f.level = 'NEUTRAL') AS neutral,
		count(*) FILTER (WHERE f.level = 'NEGATIVE') AS negative,
		avg(f.rating)::float8 AS average_rating
		FROM tickets t LEFT JOIN ticket_feedback f
			ON f.ticket_id = t.id AND f.tenant_id = t.tenant_id AND f.created_at >= ` + fromArg + `
		WHERE t.tenant_id = ` + tenant + ` AND t.created_at >= ` + fromArg + ` AND t.created_at < ` + toArg + `
		GROUP BY GROUPING SETS (` + strings.Join(sets, ", ") + `)
		ORDER BY 1 DESC, 2`
	var rows []statsRow
	err = s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		// The query reads a few columns of many rows and sorts them once per grouping set and
		// percentile: compiling it (JIT) costs more than it saves, and the sorts fit in memory
		// with a little more than the default.
		if _, err := tx.ExecContext(ctx, `SET LOCAL jit = off; SET LOCAL work_mem = '64MB'`); err != nil {
			return fmt.Errorf("statistics: %w", err)
		}
		if err := tx.SelectContext(ctx, &rows, query, a...); err != nil {
			return fmt.Errorf("statistics: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := &sportello.Statistics{Period: p, At: now}
	all := 1<<len(dims) - 1
	for i := range rows {
		r := &rows[i]
		if r.Set == all {
			out.Total = r.group("")
			continue
		}
		for j, d := range dims {
			if r.Set == all&^(1<<(len(dims)-1-j)) {
				out.Groups = append(out.Groups, r.group(d))
			}
		}
	}
	if out.Total == nil {
		// No ticket was filed in the period: the total is zero everywhere.
		out.Total = &sportello.StatsGroup{}
	}
	if err := s.db.GetContext(ctx, &out.Municipality, `SELECT name FROM tenants WHERE id = $1`, c.tenantID); err != nil {
		return nil, fmt.Errorf("statistics: tenant: %w", err)
	}
	if err := s.labelOffices(ctx, c.tenantID, out.GroupsBy(sportello.ByOffice)); err != nil {
		return nil, err
	}
	out.RecordsAccess, err = s.accessOutcomes(ctx, c.tenantID, from, to)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(out.Groups, func(x, y *sportello.StatsGroup) int {
		return slices.Index(dims, x.Dimension) - slices.Index(dims, y.Dimension)
	})
	return out, nil
}

// labelOffices names the office groups after their offices.
func (s *StatisticsService) labelOffices(ctx context.Context, tenantID string, groups []*sportello.StatsGroup) error {
	if len(groups) == 0 {
		return nil
	}
	var ids []string
	for _, g := range groups {
		ids = append(ids, g.Key)
	}
	var rows []struct {
		ID   string `db:"id"`
		Name string `db:"name"`
	}
	if err := s.db.SelectContext(ctx, &rows, `SELECT id, name FROM offices WHERE tenant_id = $1 AND id = ANY($2::uuid[])`,
		tenantID, pq.Array(validIDs(ids))); err != nil {
		return fmt.Errorf("statistics: office names: %w", err)
	}
	names := map[string]string{}
	for _, r := range rows {
		names[r.ID] = r.Name
	}
	for _, g := range groups {
		g.Label = names[g.Key]
	}
	return nil
}

// accessOutcomes counts the requests for access to records filed in [from, to) by outcome.
func (s *StatisticsService) accessOutcomes(ctx context.Context, tenantID string, from, to time.Time) ([]sportello.AccessOutcomeCount, error) {
	var rows []struct {
		Outcome string `db:"outcome"`
		Count   int    `db:"count"`
	}
	if err := s.db.SelectContext(ctx, &rows, `SELECT coalesce(ra.outcome, '') AS outcome, count(*) AS count
		FROM records_access ra JOIN tickets t ON t.id = ra.ticket_id
		WHERE t.tenant_id = $1 AND t.created_at >= $2 AND t.created_at < $3
		GROUP BY 1 ORDER BY 1`, tenantID, from, to); err != nil {
		return nil, fmt.Errorf("statistics: access outcomes: %w", err)
	}
	out := make([]sportello.AccessOutcomeCount, 0, len(rows))
	for _, r := range rows {
		out = append(out, sportello.AccessOutcomeCount{Outcome: sportello.AccessOutcome(r.Outcome), Count: r.Count})
	}
	return out, nil
}

// ComplaintsRegister lists the complaints, reports and suggestions of a period. See
// sportello.StatisticsService.
func (s *StatisticsService) ComplaintsRegister(ctx context.Context, p sportello.Period) ([]*sportello.RegisterEntry, error) {
	c, err := requireManager(ctx)
	if err != nil {
		return nil, err
	}
	if err := p.Validate(""); err != nil {
		return nil, err
	}
	from, to := p.Bounds()
	var rows []struct {
		Year       int            `db:"protocol_year"`
		Seq        int            `db:"protocol_seq"`
		CreatedAt  time.Time      `db:"created_at"`
		Kind       string         `db:"kind"`
		Channel    string         `db:"channel"`
		Subject    string         `db:"subject"`
		Office     sql.NullString `db:"office"`
		Status     string         `db:"status"`
		DueAt      time.Time      `db:"due_at"`
		AnsweredAt sql.NullTime   `db:"answered_at"`
		Feedback   sql.NullString `db:"feedback"`
	}
	if err := s.db.SelectContext(ctx, &rows, `SELECT t.protocol_year, t.protocol_seq, t.created_at, t.kind, t.channel,
		t.subject, o.name AS office, t.status, t.due_at, t.answered_at, f.level AS feedback
		FROM tickets t LEFT JOIN offices o ON o.id = t.office_id LEFT JOIN ticket_feedback f ON f.ticket_id = t.id
		WHERE t.tenant_id = $1 AND t.created_at >= $2 AND t.created_at < $3 AND t.kind = ANY($4)
		ORDER BY t.created_at, t.protocol_year, t.protocol_seq`,
		c.tenantID, from, to, pq.Array(sportello.RegisterKinds)); err != nil {
		return nil, fmt.Errorf("complaints register: %w", err)
	}
	out := make([]*sportello.RegisterEntry, 0, len(rows))
	for _, r := range rows {
		e := &sportello.RegisterEntry{Protocol: sportello.ProtocolNumber{Year: r.Year, Seq: r.Seq}, FiledAt: r.CreatedAt,
			Kind: sportello.Kind(r.Kind), Channel: sportello.Channel(r.Channel), Subject: r.Subject, Office: r.Office.String,
			Status: sportello.Status(r.Status), DueAt: r.DueAt, Feedback: sportello.FeedbackLevel(r.Feedback.String)}
		if r.AnsweredAt.Valid {
			at := r.AnsweredAt.Time
			onTime := !at.After(r.DueAt)
			e.AnsweredAt, e.OnTime = &at, &onTime
		}
		out = append(out, e)
	}
	return out, nil
}
