package db

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/lib/pq"
	sportello "github.com/sportello/sportello"
)

// EventLog implements sportello.EventLog: the committed events the live feed is built on.
type EventLog struct {
	db *DB
}

// NewEventLog returns the event log over db.
func NewEventLog(db *DB) *EventLog { return &EventLog{db: db} }

var _ sportello.EventLog = (*EventLog)(nil)

// safe is the condition that an event's transaction, and every older one, has finished: its
// position can no longer be overtaken by an event that commits later.
const safe = `e.tx_id < pg_snapshot_xmin(pg_current_snapshot())`

// feedColumns name the event's columns apart from the ticket's, which share some names.
const feedColumns = `e.id AS event_id, e.tx_id::text AS event_tx_id, e.type AS event_type,
	e.actor_kind AS event_actor_kind, e.actor_id AS event_actor_id, e.actor_name AS event_actor_name,
	e.at AS event_at, e.internal AS event_internal, e.data AS event_data, ` + ticketColumns + `, ` + followersColumn

// followersColumn reads the citizens following the event's ticket, who receive its public
// events as its author does.
const followersColumn = `array(SELECT f.citizen_id::text FROM ticket_followers f WHERE f.ticket_id = t.id) AS followers`

type feedRow struct {
	EventID   int64          `db:"event_id"`
	TxID      string         `db:"event_tx_id"`
	Type      string         `db:"event_type"`
	ActorKind string         `db:"event_actor_kind"`
	ActorID   sql.NullString `db:"event_actor_id"`
	ActorName string         `db:"event_actor_name"`
	At        time.Time      `db:"event_at"`
	Internal  bool           `db:"event_internal"`
	Data      []byte         `db:"event_data"`
	ticketRow
}

// Head returns the first position that is not yet safe to read: every event before it is final.
func (l *EventLog) Head(ctx context.Context) (sportello.Position, error) {
	var xmin string
	if err := l.db.GetContext(ctx, &xmin, `SELECT pg_snapshot_xmin(pg_current_snapshot())::text`); err != nil {
		return sportello.Position{}, fmt.Errorf("feed head: %w", err)
	}
	tx, err := strconv.ParseUint(xmin, 10, 64)
	if err != nil {
		return sportello.Position{}, fmt.Errorf("feed head %q: %w", xmin, err)
	}
	return sportello.Position{TxID: tx}, nil
}

// Tail returns the safe events of every tenant after the position. See sportello.EventLog.
func (l *EventLog) Tail(ctx context.Context, after sportello.Position, limit int) ([]*sportello.Event, error) {
	return l.read(ctx, `SELECT `+feedColumns+` FROM events e JOIN tickets t ON t.id = e.ticket_id
		WHERE (e.tx_id, e.id) > ($1::xid8, $2) AND `+safe+`
		ORDER BY e.tx_id, e.id LIMIT $3`, strconv.FormatUint(after.TxID, 10), after.EventID, limit)
}

// Replay returns the audience's events between two positions. See sportello.EventLog.
func (l *EventLog) Replay(ctx context.Context, a sportello.Audience, after, upTo sportello.Position, limit int) ([]*sportello.Event, error) {
	var args args
	query := `SELECT ` + feedColumns + ` FROM events e JOIN tickets t ON t.id = e.ticket_id
		WHERE e.tenant_id = ` + args.add(a.TenantID) + `
		AND (e.tx_id, e.id) > (` + args.add(strconv.FormatUint(after.TxID, 10)) + `::xid8, ` + args.add(after.EventID) + `)
		AND (e.tx_id, e.id) <= (` + args.add(strconv.FormatUint(upTo.TxID, 10)) + `::xid8, ` + args.add(upTo.EventID) + `)
		AND ` + safe
	if !a.Staff {
		me := args.add(nullID(a.CitizenID))
		query += ` AND NOT e.internal AND (t.citizen_id = ` + me +
			` OR EXISTS (SELECT 1 FROM ticket_followers f WHERE f.ticket_id = t.id AND f.citizen_id = ` + me + `))`
	}
	query += ` ORDER BY e.tx_id, e.id LIMIT ` + args.add(limit)
	return l.read(ctx, query, args...)
}

func (l *EventLog) read(ctx context.Context, query string, args ...any) ([]*sportello.Event, error) {
	var rows []feedRow
	if err := l.db.SelectContext(ctx, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	out := make([]*sportello.Event, len(rows))
	for i := range rows {
		r := &rows[i]
		e, err := (&eventRow{ID: r.EventID, TicketID: r.ticketRow.ID, Type: r.Type, ActorKind: r.ActorKind,
			ActorID: r.ActorID, ActorName: r.ActorName, At: r.At, Internal: r.Internal, Data: r.Data, TxID: r.TxID}).event()
		if err != nil {
			return nil, err
		}
		e.Ticket = r.ticketRow.ticket()
		out[i] = e
	}
	return out, nil
}

// DashboardService implements sportello.DashboardService.
type DashboardService struct {
	db *DB
}

// NewDashboardService returns the dashboard service over db.
func NewDashboardService(db *DB) *DashboardService { return &DashboardService{db: db} }

var _ sportello.DashboardService = (*DashboardService)(nil)

// Dashboard returns the caller's tenant's dashboard. See sportello.DashboardService.
func (s *DashboardService) Dashboard(ctx context.Context) (*sportello.Dashboard, error) {
	c, err := requireStaff(ctx)
	if err != nil {
		return nil, err
	}
	return s.TenantDashboard(ctx, c.tenantID)
}

// TenantDashboard computes a tenant's dashboard. See sportello.DashboardService.
func (s *DashboardService) TenantDashboard(ctx context.Context, tenantID string) (*sportello.Dashboard, error) {
	now := s.db.now()
	d := &sportello.Dashboard{At: now, OpenByStatus: map[sportello.Status]int{}, OpenByOffice: map[string]int{},
		FiledToday: map[sportello.Channel]int{}}
	var open []struct {
		Status   string         `db:"status"`
		OfficeID sql.NullString `db:"office_id"`
		Count    int            `db:"count"`
		Overdue  int            `db:"overdue"`
	}
	if err := s.db.SelectContext(ctx, &open, `SELECT status, office_id, count(*) AS count,
		count(*) FILTER (WHERE due_at < $3) AS overdue
		FROM tickets WHERE tenant_id = $1 AND status = ANY($2) GROUP BY status, office_id`,
		tenantID, pq.Array(sportello.OpenStatuses), now); err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	for _, r := range open {
		d.OpenByStatus[sportello.Status(r.Status)] += r.Count
		d.OpenByOffice[r.OfficeID.String] += r.Count
		d.Overdue += r.Overdue
	}
	r := now.In(sportello.Rome)
	midnight := time.Date(r.Year(), r.Month(), r.Day(), 0, 0, 0, 0, sportello.Rome)
	var today []struct {
		Channel string `db:"channel"`
		Count   int    `db:"count"`
	}
	if err := s.db.SelectContext(ctx, &today, `SELECT channel, count(*) AS count FROM tickets
		WHERE tenant_id = $1 AND created_at >= $2 GROUP BY channel`, tenantID, midnight); err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	for _, r := range today {
		d.FiledToday[sportello.Channel(r.Channel)] = r.Count
	}
	return d, nil
}
