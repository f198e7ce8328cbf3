package db

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
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

// horizon is the first transaction id whose events are not yet final in this database: the
// oldest transaction in flight that may have written events here, or the next id to be handed
// out when there is none. It is the snapshot's xmin, except that transactions known to run in
// other databases of the server are left out: they cannot write this database's events, and a
// long one (a bulk load, a report, a migration of another municipality's database) would
// otherwise hold back every live event until it ends. A transaction is known to run elsewhere
// when pg_stat_activity shows its id on a backend connected to another database; when that
// cannot be told (it has just ended, or the role may not see other roles' backends), it counts
// as one of ours, which is merely cautious. The snapshot is the statement's own, the one the
// events are read with, so no transaction can slip in between.
const horizon = `(SELECT least(pg_snapshot_xmax(s.snap), (SELECT min(x) FROM pg_snapshot_xip(s.snap) x
		WHERE x::xid NOT IN (SELECT backend_xid FROM pg_stat_activity
			WHERE datname IS DISTINCT FROM current_database() AND backend_xid IS NOT NULL)))
	FROM (SELECT pg_current_snapshot() AS snap) s)`

// safe is the condition that an event's transaction, and every older one that may write here,
// has finished: its position can no longer be overtaken by an event that commits later.
const safe = `e.tx_id < ` + horizon

// feedColumns are the columns of an event as the feed reads it, ticket events and topic events
// alike.
const feedColumns = `e.id, e.tenant_id, e.ticket_id, e.type, e.actor_kind, e.actor_id, e.actor_name, e.at,
	e.internal, e.data, e.tx_id::text AS tx_id, e.topic, e.subject_id, e.citizen_id`

// followersColumn reads the citizens following a ticket aliased t, who receive its public events
// as its author does.
const followersColumn = `array(SELECT f.citizen_id::text FROM ticket_followers f WHERE f.ticket_id = t.id) AS followers`

type feedRow struct {
	eventRow
	TenantID  string         `db:"tenant_id"`
	Topic     sql.NullString `db:"topic"`
	SubjectID sql.NullString `db:"subject_id"`
	CitizenID sql.NullString `db:"citizen_id"`
}

// Head returns the first position that is not yet safe to read: every event before it is final.
func (l *EventLog) Head(ctx context.Context) (sportello.Position, error) {
	var xmin string
	if err := l.db.GetContext(ctx, &xmin, `SELECT `+horizon+`::text`); err != nil {
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
	return l.read(AllTenants(ctx), `SELECT `+feedColumns+` FROM events e
		WHERE (e.tx_id, e.id) > ($1::xid8, $2) AND `+safe+`
		ORDER BY e.tx_id, e.id LIMIT $3`, strconv.FormatUint(after.TxID, 10), after.EventID, limit)
}

// Replay returns the audience's events between two positions. See sportello.EventLog.
//
// It does not read the horizon: upTo was safe when the hub read it, so every event up to it is
// final, and the horizon may fall back below it for a moment. A transaction of another database
// whose backend pg_stat_activity no longer shows while it ends counts as one of ours (see
// horizon), and a catch-up that read up to the horizon then would skip, as replayed, events it
// never sent: under the load of other databases' tests a subscriber that fell behind lost three
// events of sixty.
func (l *EventLog) Replay(ctx context.Context, a sportello.Audience, topic string, after, upTo sportello.Position, limit int) ([]*sportello.Event, error) {
	// The hub replays for a subscriber from its own goroutine, whose context names no user.
	ctx = ForTenant(ctx, a.TenantID)
	var args args
	query := `SELECT ` + feedColumns + ` FROM events e LEFT JOIN tickets t ON t.id = e.ticket_id
		WHERE e.tenant_id = ` + args.add(a.TenantID) + `
		AND (e.tx_id, e.id) > (` + args.add(strconv.FormatUint(after.TxID, 10)) + `::xid8, ` + args.add(after.EventID) + `)
		AND (e.tx_id, e.id) <= (` + args.add(strconv.FormatUint(upTo.TxID, 10)) + `::xid8, ` + args.add(upTo.EventID) + `)`
	switch {
	case topic != "" && a.CitizenID != "":
		query += ` AND e.topic = ` + args.add(topic) + ` AND (e.citizen_id IS NULL OR e.citizen_id = ` + args.add(a.CitizenID) + `)`
	case topic != "":
		query += ` AND e.topic = ` + args.add(topic) + ` AND e.citizen_id IS NULL`
	case a.Staff:
		query += ` AND e.topic IS NULL`
	default:
		me := args.add(nullID(a.CitizenID))
		query += ` AND e.topic IS NULL AND NOT e.internal AND (t.citizen_id = ` + me +
			` OR EXISTS (SELECT 1 FROM ticket_followers f WHERE f.ticket_id = t.id AND f.citizen_id = ` + me + `))`
	}
	query += ` ORDER BY e.tx_id, e.id LIMIT ` + args.add(limit)
	return l.read(ctx, query, args...)
}

// read runs a query of feedColumns and attaches to the ticket events their tickets as they are
// now, read in one more statement.
func (l *EventLog) read(ctx context.Context, query string, args ...any) ([]*sportello.Event, error) {
	var rows []feedRow
	if err := l.db.SelectContext(ctx, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	out := make([]*sportello.Event, len(rows))
	var ticketIDs []string
	for i := range rows {
		r := &rows[i]
		if r.Topic.Valid {
			e, err := r.topicEvent()
			if err != nil {
				return nil, err
			}
			out[i] = e
			continue
		}
		e, err := r.event()
		if err != nil {
			return nil, err
		}
		e.TenantID = r.TenantID
		out[i] = e
		ticketIDs = append(ticketIDs, e.TicketID)
	}
	if len(ticketIDs) == 0 {
		return out, nil
	}
	var tickets []ticketRow
	if err := l.db.SelectContext(ctx, &tickets, `SELECT `+ticketColumns+`, `+followersColumn+` FROM tickets t WHERE t.id = ANY($1::uuid[])`,
		pq.Array(ticketIDs)); err != nil {
		return nil, fmt.Errorf("read the events' tickets: %w", err)
	}
	byID := make(map[string]*sportello.Ticket, len(tickets))
	for i := range tickets {
		byID[tickets[i].ID] = tickets[i].ticket()
	}
	for _, e := range out {
		if e.Topic == "" {
			e.Ticket = byID[e.TicketID]
		}
	}
	return out, nil
}

func (r *feedRow) topicEvent() (*sportello.Event, error) {
	tx, err := strconv.ParseUint(r.TxID, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("event %d: transaction id %q: %w", r.ID, r.TxID, err)
	}
	return &sportello.Event{ID: r.ID, Position: sportello.Position{TxID: tx, EventID: r.ID}, TenantID: r.TenantID,
		At: r.At, Topic: r.Topic.String, SubjectID: r.SubjectID.String, CitizenID: r.CitizenID.String,
		Payload: r.Data, Actor: sportello.Actor{Kind: sportello.ActorKind(r.ActorKind)}}, nil
}

// appendTopicEvent writes a topic event in the caller's transaction. The transaction must be
// run with inEventTx, so that the live feed wakes up after the commit.
func appendTopicEvent(ctx context.Context, tx *sqlx.Tx, e *sportello.TopicEvent) error {
	data := []byte(e.Data)
	if len(data) == 0 {
		data = []byte("{}")
	}
	var row struct {
		ID   int64  `db:"id"`
		TxID string `db:"tx_id"`
	}
	// The payload goes as text: with binary parameters lib/pq would send bytes as bytea.
	if err := tx.GetContext(ctx, &row, `INSERT INTO events (tenant_id, topic, subject_id, citizen_id, type, actor_kind, at, data)
		VALUES ($1, $2, $3, $4, $2, $5, $6, $7::jsonb) RETURNING id, tx_id::text AS tx_id`,
		e.TenantID, e.Topic, nullID(e.SubjectID), nullID(e.CitizenID), sportello.ActorSystem, e.At, string(data)); err != nil {
		return fmt.Errorf("append %s event: %w", e.Topic, err)
	}
	txID, err := strconv.ParseUint(row.TxID, 10, 64)
	if err != nil {
		return fmt.Errorf("append %s event: transaction id %q: %w", e.Topic, row.TxID, err)
	}
	e.Position = sportello.Position{TxID: txID, EventID: row.ID}
	return nil
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
	// The hub recomputes a tenant's dashboard from its own goroutine, whose context names no user.
	ctx = ForTenant(ctx, tenantID)
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
