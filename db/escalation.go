package db

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
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
	// Batch bounds the tickets one pass reads per tenant.
	Batch int
}

// NewEscalator returns the escalation worker over db.
func NewEscalator(db *DB) *Escalator {
	return &Escalator{db: db, Share: sportello.DefaultEscalationShare, Batch: 500}
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
	var tenants []string
	if err := e.db.SelectContext(ctx, &tenants, `SELECT DISTINCT tenant_id FROM tickets WHERE status = ANY($1)`,
		pq.Array(sportello.OpenStatuses)); err != nil {
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

func (e *Escalator) tenantPass(ctx context.Context, tenantID string) (int, error) {
	share := e.Share
	if share <= 0 || share > 1 {
		share = sportello.DefaultEscalationShare
	}
	now := e.db.now()
	// Tickets that are not yet overdue-escalated; the others have nothing left to reach.
	var rows []escalationCandidate
	if err := e.db.SelectContext(ctx, &rows, `SELECT `+ticketColumns+`,
		array(SELECT x.threshold FROM escalations x WHERE x.ticket_id = t.id) AS done
		FROM tickets t WHERE t.tenant_id = $1 AND t.status = ANY($2)
		AND NOT EXISTS (SELECT 1 FROM escalations x WHERE x.ticket_id = t.id AND x.threshold = $3)
		ORDER BY t.due_at LIMIT $4`,
		tenantID, pq.Array(sportello.OpenStatuses), sportello.ThresholdOverdue, e.Batch); err != nil {
		return 0, fmt.Errorf("escalation candidates: %w", err)
	}
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
