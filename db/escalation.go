package db

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	sportello "github.com/sportello/sportello"
)

// Escalator is the background worker that escalates tickets as their clocks run out. Any number
// of server instances may run one: each (ticket, threshold) is claimed by inserting its row in
// escalations, whose primary key lets exactly one claim succeed, in the transaction that writes
// the ESCALATED event.
type Escalator struct {
	db *DB
	// Share is the share of a clock after which a ticket is escalated (DefaultEscalationShare
	// when zero).
	Share float64
	// Batch is how many tickets a pass reads at a time (defaultEscalationBatch when zero); a
	// pass reads every page.
	Batch int
}

// defaultEscalationBatch is the page of a pass: large enough that a pass over a town's open
// tickets takes a few statements, small enough that a page's schedules stay cheap to read.
const defaultEscalationBatch = 500

// NewEscalator returns the escalation worker over db.
func NewEscalator(db *DB) *Escalator {
	return &Escalator{db: db, Share: sportello.DefaultEscalationShare, Batch: defaultEscalationBatch}
}

// Run escalates every interval until ctx ends. A failed pass is logged and retried at the next.
func (e *Escalator) Run(ctx context.Context, interval time.Duration) error {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if _, err := e.RunOnce(ctx); err != nil && ctx.Err() == nil {
			slog.ErrorContext(ctx, "escalation pass", "error", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// escalationCandidate is an open ticket with the thresholds it already reached.
type escalationCandidate struct {
	ticketRow
	Done pq.StringArray `db:"done"`
}

// RunOnce escalates, in every tenant, the open tickets that reached a threshold since the last
// pass, and returns how many escalations this worker made (those other workers won are not
// counted).
func (e *Escalator) RunOnce(ctx context.Context) (int, error) {
	ctx = AllTenants(ctx)
	// The tenants are a handful of rows; a tenant without open tickets costs one probe of
	// tickets_open_due. Asking tickets which tenants have open ones scanned the whole table.
	var tenants []string
	if err := e.db.SelectContext(ctx, &tenants, `SELECT id FROM tenants ORDER BY id`); err != nil {
		return 0, fmt.Errorf("escalation tenants: %w", err)
	}
	total := 0
	for _, tenant := range tenants {
		n, err := e.tenantPass(ctx, tenant)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// escalationCandidates reads, after the keyset ($4, $5), the open tickets of tenant $1 that may
// have reached a threshold not yet claimed at $2, with share $3 of their clocks; once a ticket
// is overdue, only its term is left to claim, and once claimed, nothing. The first-response
// clock runs in the office hours of the ticket's office, or of the front desk for a ticket
// without one, and never faster than the calendar: the SQL keeps the tickets without a reply,
// not yet warned, filed by $6 (the share of the tenant's shortest target before $2), whose
// clock has hours at all, and Go decides on the schedule.
//
// The statuses, the thresholds and the page size are written in the query rather than bound,
// and it is planned with its values every time (see tenantPass): a generic plan, which knew
// none of them, sorted every open ticket on disk where this one walks tickets_open_due.
func escalationCandidates(batch int) string {
	open := make([]string, len(sportello.OpenStatuses))
	for i, s := range sportello.OpenStatuses {
		open[i] = "'" + string(s) + "'"
	}
	claimed := func(th sportello.Threshold) string {
		return `EXISTS (SELECT 1 FROM escalations x WHERE x.ticket_id = t.id AND x.threshold = '` + string(th) + `')`
	}
	// Each branch tests the ticket's own columns first, so that most open tickets, neither near
	// their term nor waiting for a first reply, are passed over without a look at escalations.
	// Within the OR, the looks stay filters, which PostgreSQL may answer from one hash of the
	// claims; a NOT EXISTS of its own was planned, under the LIMIT, as a comparison of every
	// open ticket with every claim.
	return `SELECT ` + ticketColumns + `, array(SELECT x.threshold FROM escalations x WHERE x.ticket_id = t.id) AS done
		FROM tickets t
		WHERE t.tenant_id = $1 AND t.status IN (` + strings.Join(open, ", ") + `)
		AND (t.due_at, t.id) > ($4::timestamptz, $5::uuid)
		AND ((t.due_at < $2 AND NOT ` + claimed(sportello.ThresholdOverdue) + `)
			OR (t.due_at >= $2 AND t.created_at + $3::float8 * (t.due_at - t.created_at) <= $2
				AND NOT ` + claimed(sportello.ThresholdTermWarning) + `)
			OR (t.due_at >= $2 AND t.first_responded_at IS NULL AND t.created_at <= $6
				AND NOT ` + claimed(sportello.ThresholdSLAWarning) + `
				AND EXISTS (SELECT 1 FROM office_hours h WHERE h.office_id =
					coalesce(t.office_id, (SELECT o.id FROM offices o WHERE o.tenant_id = $1 AND o.front_desk)))))
		ORDER BY t.due_at, t.id LIMIT ` + strconv.Itoa(batch)
}

// tenantPass escalates the tenant's tickets page by page, nearest term first, until no
// candidate is left: a pass that stopped at its first page would never reach the tickets
// further down, so that a busy office's newest tickets, whose terms are the furthest, would
// get their first-response warning only days before their term.
func (e *Escalator) tenantPass(ctx context.Context, tenantID string) (int, error) {
	share := e.Share
	if share <= 0 || share > 1 {
		share = sportello.DefaultEscalationShare
	}
	batch := e.Batch
	if batch <= 0 {
		batch = defaultEscalationBatch
	}
	query := escalationCandidates(batch)
	now := e.db.now()
	shortest, err := shortestTarget(ctx, e.db, tenantID)
	if err != nil {
		return 0, err
	}
	filedBy := now.Add(-time.Duration(share * float64(time.Duration(shortest)*time.Hour)))
	afterDue, afterID := time.Time{}, "00000000-0000-0000-0000-000000000000"
	n := 0
	for {
		var rows []escalationCandidate
		if err := e.readCandidates(ctx, &rows, query, tenantID, now, share, afterDue, afterID, filedBy); err != nil {
			return n, err
		}
		made, err := e.escalatePage(ctx, tenantID, rows, share, now)
		n += made
		if err != nil || len(rows) < batch {
			return n, err
		}
		last := rows[len(rows)-1]
		afterDue, afterID = last.DueAt, last.ID
	}
}

// shortestTarget returns the tenant's shortest first-response target in hours: the default,
// or a shorter one the managers set for a kind or an office. A target of 0 stops the clock.
func shortestTarget(ctx context.Context, d *DB, tenantID string) (int, error) {
	var hours int
	if err := d.GetContext(ctx, &hours, `SELECT coalesce(min(hours), 0) FROM first_response_targets
		WHERE tenant_id = $1 AND hours > 0`, tenantID); err != nil {
		return 0, fmt.Errorf("escalation targets: %w", err)
	}
	if hours == 0 || hours > sportello.DefaultFirstResponseHours {
		return sportello.DefaultFirstResponseHours, nil
	}
	return hours, nil
}

// readCandidates runs the candidates' query in a transaction of its own, where it may turn
// compilation off: its plan's estimated cost makes PostgreSQL compile it (JIT), which took three
// times as long as running it, for a statement that reads a few rows of each open ticket. Within
// a transaction, the statement is not prepared on the pool either: once a minute, planning costs
// nothing next to a plan chosen without the tenant, the clock or the keyset.
func (e *Escalator) readCandidates(ctx context.Context, rows *[]escalationCandidate, query string, args ...any) error {
	return e.db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `SET LOCAL jit = off`); err != nil {
			return fmt.Errorf("escalation candidates: %w", err)
		}
		if err := tx.SelectContext(ctx, rows, query, args...); err != nil {
			return fmt.Errorf("escalation candidates: %w", err)
		}
		return nil
	})
}

// escalatePage claims the thresholds the page's tickets reached at now.
func (e *Escalator) escalatePage(ctx context.Context, tenantID string, rows []escalationCandidate, share float64, now time.Time) (int, error) {
	if len(rows) == 0 {
		return 0, nil
	}
	// The clocks are read as an anonymous caller of the tenant: opening hours are public.
	sys := sportello.WithUser(ctx, &sportello.User{TenantID: tenantID})
	hours := NewHoursService(e.db)
	officeIDs := []string{}
	keys := []sportello.TargetKey{}
	for i := range rows {
		officeIDs = append(officeIDs, rows[i].OfficeID.String)
		keys = append(keys, sportello.TargetKey{Kind: sportello.Kind(rows[i].Kind), OfficeID: rows[i].OfficeID.String})
	}
	schedules, err := hours.Schedules(sys, officeIDs)
	if err != nil {
		return 0, err
	}
	targets, err := hours.TargetHours(sys, keys)
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range rows {
		t := rows[i].ticket()
		reached := sportello.ReachedThresholds(t, schedules[t.OfficeID], targets[keys[i]], share, now)
		for _, th := range reached {
			if slices.Contains(rows[i].Done, string(th)) {
				continue
			}
			ok, err := e.escalate(ctx, t, th, now)
			if err != nil {
				return n, err
			}
			if ok {
				n++
			}
		}
	}
	return n, nil
}

// escalate claims one (ticket, threshold) and acts on it, reporting false when another worker
// claimed it first.
func (e *Escalator) escalate(ctx context.Context, t *sportello.Ticket, th sportello.Threshold, now time.Time) (bool, error) {
	claimed := false
	err := e.db.inEventTx(ctx, t.TenantID, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO escalations (ticket_id, threshold, tenant_id, at) VALUES ($1, $2, $3, $4)
			ON CONFLICT DO NOTHING`, t.ID, th, t.TenantID, now)
		if err != nil {
			return fmt.Errorf("claim escalation: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		claimed = true
		// Staff learn of escalations from the ticket's events, which their dashboards and the
		// desk feed show live: the event names who is concerned.
		data := sportello.EventData{Threshold: th, OfficeID: t.OfficeID, AssigneeID: t.AssigneeID}
		switch th {
		case sportello.ThresholdOverdue:
			data.Reason = "Termine scaduto: segnalato ai responsabili"
		case sportello.ThresholdSLAWarning:
			data.Reason = "Tempo di prima risposta quasi esaurito: segnalato all'incaricato e al responsabile dell'ufficio"
		default:
			data.Reason = "Termine quasi scaduto: segnalato all'incaricato e al responsabile dell'ufficio"
		}
		if err := appendEvent(ctx, tx, t, routingActor, sportello.EventEscalated, false, data, now); err != nil {
			return err
		}
		if th != sportello.ThresholdOverdue || t.Priority == sportello.PriorityUrgent {
			return nil
		}
		// The ticket row may have changed since the pass read it: raise what is there now.
		var rank int
		if err := tx.GetContext(ctx, &rank, `SELECT priority FROM tickets WHERE id = $1 FOR UPDATE`, t.ID); err != nil {
			return fmt.Errorf("lock ticket: %w", err)
		}
		current := sportello.PriorityOfRank(rank)
		if current == sportello.PriorityUrgent {
			return nil
		}
		_, err = setPriority(ctx, tx, t, routingActor, current.Raised(), "Termine scaduto", now)
		return err
	})
	return claimed, err
}
