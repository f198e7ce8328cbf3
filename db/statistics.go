package db

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
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

// keyColumns are the expressions that read each dimension's key of a ticket. The month is the
// number of the bucket of the period's months (the first is 1) the ticket was filed in: a
// comparison of instants, cheaper than formatting a date in Rome's time zone for every ticket.
var keyColumns = map[sportello.StatsDimension]string{
	sportello.ByKind:    "t.kind",
	sportello.ByChannel: "t.channel",
	sportello.ByOffice:  "t.office_id",
	sportello.ByStatus:  "t.status",
	sportello.ByMonth:   "width_bucket(t.created_at, %s::timestamptz[])",
}

// Statistics computes the figures of a period. One statement reads the facts of each ticket
// filed in it from an index-only scan of tickets_statistics (see migration 0011), and a
// sportello.StatsTally counts them: it sorts each time once for the total and every
// dimension, where grouping sets with percentile_cont in PostgreSQL sorted every time again
// for every grouping set. See sportello.StatisticsService.
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
	monthStarts, monthKeys := p.Months()
	var a args
	tenant, fromArg, toArg := a.add(c.tenantID), a.add(from), a.add(to)
	open, nowArg := a.add(pq.Array(sportello.OpenStatuses)), a.add(now)
	var keys []string
	for _, d := range dims {
		col := keyColumns[d]
		if d == sportello.ByMonth {
			starts := make([]string, len(monthStarts))
			for i, m := range monthStarts {
				starts[i] = m.Format(time.RFC3339)
			}
			col = fmt.Sprintf(col, a.add(pq.Array(starts)))
		}
		keys = append(keys, col)
	}
	// The calendar times come in whole microseconds: date_part's float8 seconds are within a
	// tenth of a microsecond of the exact time for any time shorter than ten years, so rounding
	// them gives the exact number, where extract would compute in numeric, more slowly. The
	// first response counts only for answered tickets.
	query := `SELECT ` + strings.Join(append(keys, ""), ", ") + `
		CASE WHEN t.answered_at <= t.due_at THEN ` + strconv.Itoa(stateOnTime) + ` ELSE 0 END +
		CASE WHEN t.status = ANY(` + open + `) THEN
			CASE WHEN t.due_at < ` + nowArg + ` THEN ` + strconv.Itoa(stateOpen|stateOverdue) + ` ELSE ` + strconv.Itoa(stateOpen) + ` END
		ELSE 0 END AS state,
		t.first_response_office_seconds, t.resolution_office_seconds,
		CASE WHEN t.answered_at IS NOT NULL
			THEN round(date_part('epoch', least(t.first_responded_at, t.answered_at) - t.created_at) * 1e6)::int8
		END AS first_response,
		round(date_part('epoch', t.answered_at - t.created_at) * 1e6)::int8 AS resolution,
		f.level, f.rating
		FROM tickets t LEFT JOIN ticket_feedback f
			ON f.ticket_id = t.id AND f.tenant_id = t.tenant_id AND f.created_at >= ` + fromArg + `
		WHERE t.tenant_id = ` + tenant + ` AND t.created_at >= ` + fromArg + ` AND t.created_at < ` + toArg
	tally := sportello.NewStatsTally(dims)
	err = s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		// The statement reads many rows and computes little on each: compiling it (JIT), which
		// PostgreSQL would do for a long period, costs more than it saves.
		if _, err := tx.ExecContext(ctx, `SET LOCAL jit = off`); err != nil {
			return fmt.Errorf("statistics: %w", err)
		}
		rows, err := tx.QueryContext(ctx, query, a...)
		if err != nil {
			return fmt.Errorf("statistics: %w", err)
		}
		defer rows.Close()
		if err := tallyRows(rows, dims, monthKeys, tally); err != nil {
			return fmt.Errorf("statistics: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := &sportello.Statistics{Period: p, At: now}
	out.Total, out.Groups = tally.Figures()
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
	return out, nil
}

// The bits of the state column of the statistics' statement: one column instead of three, as
// every column costs PostgreSQL and the driver a conversion on each of many rows.
const (
	stateOnTime = 1 << iota
	stateOpen
	stateOverdue
)

// tallyRows counts the rows of the statistics' statement: the key of each of dims (the month as
// the number of its bucket among monthKeys), then the facts. It scans the office ids as raw
// bytes, kept once per office, and the numbers into empty interfaces, which database/sql fills
// with what the driver decoded, without its conversions by reflection: on a hundred thousand
// rows those would cost more than the figures.
func tallyRows(rows *sql.Rows, dims []sportello.StatsDimension, monthKeys []string, tally *sportello.StatsTally) error {
	f := sportello.TicketFacts{Keys: make([]string, len(dims))}
	var (
		month, state, frOffice, resOffice, fr, res, rating any
		level                                              sql.NullString
		office                                             sql.RawBytes
		offices                                            = map[string]string{}
		dest                                               []any
	)
	for i, d := range dims {
		switch d {
		case sportello.ByMonth:
			dest = append(dest, &month)
		case sportello.ByOffice:
			dest = append(dest, &office)
		default:
			dest = append(dest, &f.Keys[i])
		}
	}
	dest = append(dest, &state, &frOffice, &resOffice, &fr, &res, &level, &rating)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		for i, d := range dims {
			switch d {
			case sportello.ByMonth:
				bucket, _ := month.(int64)
				if bucket < 1 || int(bucket) > len(monthKeys) {
					return fmt.Errorf("month bucket %d out of the period", bucket)
				}
				f.Keys[i] = monthKeys[bucket-1]
			case sportello.ByOffice:
				id, ok := offices[string(office)]
				if !ok {
					id = string(office)
					offices[id] = id
				}
				f.Keys[i] = id
			}
		}
		bits, _ := state.(int64)
		f.OnTime, f.Open, f.Overdue = bits&stateOnTime != 0, bits&stateOpen != 0, bits&stateOverdue != 0
		f.FirstResponseOfficeSeconds = measure(frOffice, 1)
		f.ResolutionOfficeSeconds = measure(resOffice, 1)
		f.FirstResponseDays = measure(fr, 86400e6)
		f.ResolutionDays = measure(res, 86400e6)
		f.Answered = f.ResolutionDays.Valid
		f.Feedback = sportello.FeedbackLevel(level.String)
		r, _ := rating.(int64)
		f.Rating = int(r)
		tally.Add(&f)
	}
	return rows.Err()
}

// measure reads an integer column (NULL when not measured) in units of unit.
func measure(v any, unit float64) sportello.Measure {
	n, ok := v.(int64)
	return sportello.Measure{Value: float64(n) / unit, Valid: ok}
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
