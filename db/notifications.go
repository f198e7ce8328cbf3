package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	sportello "github.com/sportello/sportello"
)

// NotificationService implements sportello.NotificationService.
type NotificationService struct {
	db *DB
}

// NewNotificationService returns the notification service over db.
func NewNotificationService(db *DB) *NotificationService { return &NotificationService{db: db} }

var _ sportello.NotificationService = (*NotificationService)(nil)

const notificationColumns = `n.id, n.citizen_id, n.kind, n.title, n.body, n.link, n.subject_type, n.subject_id,
	n.created_at, n.read_at`

type notificationRow struct {
	ID          string         `db:"id"`
	CitizenID   string         `db:"citizen_id"`
	Kind        string         `db:"kind"`
	Title       string         `db:"title"`
	Body        string         `db:"body"`
	Link        string         `db:"link"`
	SubjectType string         `db:"subject_type"`
	SubjectID   sql.NullString `db:"subject_id"`
	CreatedAt   time.Time      `db:"created_at"`
	ReadAt      sql.NullTime   `db:"read_at"`
}

func (r *notificationRow) notification() *sportello.Notification {
	n := &sportello.Notification{ID: r.ID, CitizenID: r.CitizenID, Kind: r.Kind, Title: r.Title, Body: r.Body,
		Link: r.Link, SubjectType: r.SubjectType, SubjectID: r.SubjectID.String, CreatedAt: r.CreatedAt}
	if r.ReadAt.Valid {
		at := r.ReadAt.Time
		n.ReadAt = &at
	}
	return n
}

// insertNotification stores a notification for a citizen in the caller's transaction and
// announces it on the topic sportello.TopicNotification to that citizen only, with the
// notification as the event's data. The transaction must be run with inEventTx. It sets n.ID
// and, when it is zero (callers should pass their service's clock), n.CreatedAt.
func insertNotification(ctx context.Context, tx *sqlx.Tx, tenantID string, n *sportello.Notification) error {
	createdAt := sql.NullTime{Time: n.CreatedAt, Valid: !n.CreatedAt.IsZero()}
	var row struct {
		ID        string    `db:"id"`
		CreatedAt time.Time `db:"created_at"`
	}
	if err := tx.GetContext(ctx, &row, `INSERT INTO notifications (tenant_id, citizen_id, kind, title, body, link,
		subject_type, subject_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, coalesce($9, now()))
		RETURNING id, created_at`,
		tenantID, n.CitizenID, n.Kind, n.Title, n.Body, n.Link, n.SubjectType, nullID(n.SubjectID), createdAt); err != nil {
		return fmt.Errorf("insert notification: %w", err)
	}
	n.ID, n.CreatedAt = row.ID, row.CreatedAt
	return appendTopicEvent(ctx, tx, &sportello.TopicEvent{TenantID: tenantID, Topic: sportello.TopicNotification,
		SubjectID: n.ID, CitizenID: n.CitizenID, At: n.CreatedAt, Data: n.EventData()})
}

// MyNotifications lists the citizen's notifications. See sportello.NotificationService.
func (s *NotificationService) MyNotifications(ctx context.Context, unreadOnly bool, page sportello.Page) (*sportello.NotificationPage, error) {
	c, err := requireCitizen(ctx)
	if err != nil {
		return nil, err
	}
	if err := page.Validate(); err != nil {
		return nil, err
	}
	var a args
	query := `SELECT ` + notificationColumns + ` FROM notifications n JOIN citizens c ON c.id = n.citizen_id
		WHERE c.tenant_id = ` + a.add(c.tenantID) + ` AND c.subject = ` + a.add(c.user.Subject)
	if unreadOnly {
		query += ` AND n.read_at IS NULL`
	}
	if page.After != "" {
		at, id, ok := decodeCursor(page.After)
		if !ok {
			return nil, sportello.InvalidField("after", "is not a cursor of this list")
		}
		query += ` AND (n.created_at, n.id) < (` + a.add(at) + `, ` + a.add(id) + `)`
	}
	query += ` ORDER BY n.created_at DESC, n.id DESC LIMIT ` + a.add(page.First+1)
	var rows []notificationRow
	if err := s.db.SelectContext(ctx, &rows, query, a...); err != nil {
		return nil, fmt.Errorf("list notifications: %w", err)
	}
	p := &sportello.NotificationPage{HasNextPage: len(rows) > page.First}
	rows = rows[:min(len(rows), page.First)]
	for i := range rows {
		p.Notifications = append(p.Notifications, rows[i].notification())
		p.Cursors = append(p.Cursors, encodeCursor(rows[i].CreatedAt, rows[i].ID))
	}
	return p, nil
}

// UnreadNotificationCount counts the unread ones. See sportello.NotificationService.
func (s *NotificationService) UnreadNotificationCount(ctx context.Context) (int, error) {
	c, err := requireCitizen(ctx)
	if err != nil {
		return 0, err
	}
	var n int
	if err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM notifications n JOIN citizens c ON c.id = n.citizen_id
		WHERE c.tenant_id = $1 AND c.subject = $2 AND n.read_at IS NULL`, c.tenantID, c.user.Subject); err != nil {
		return 0, fmt.Errorf("count notifications: %w", err)
	}
	return n, nil
}

// MarkNotificationsRead marks notifications read. See sportello.NotificationService.
func (s *NotificationService) MarkNotificationsRead(ctx context.Context, ids []string) (int, error) {
	c, err := requireCitizen(ctx)
	if err != nil {
		return 0, err
	}
	if len(ids) > sportello.MaxPageSize {
		return 0, sportello.InvalidField("ids", "at most %d at a time", sportello.MaxPageSize)
	}
	var a args
	query := `UPDATE notifications n SET read_at = ` + a.add(s.db.now()) + ` FROM citizens c
		WHERE c.id = n.citizen_id AND c.tenant_id = ` + a.add(c.tenantID) + ` AND c.subject = ` + a.add(c.user.Subject) + `
		AND n.read_at IS NULL`
	if len(ids) > 0 {
		query += ` AND n.id = ANY(` + a.add(pq.Array(validIDs(ids))) + `::uuid[])`
	}
	res, err := s.db.ExecContext(ctx, query, a...)
	if err != nil {
		return 0, fmt.Errorf("mark notifications read: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("mark notifications read: %w", err)
	}
	return int(n), nil
}
