package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	sportello "github.com/sportello/sportello"
)

// Notifier tells citizens about their tickets: it reads the event log after a durable cursor
// per tenant, turns the events into notices, stores the app's notifications and queues the
// e-mails in the same transaction as the cursor's move, then sends the queued e-mails with
// retries. Several instances may run at once: a tenant's cursor is claimed with FOR UPDATE SKIP
// LOCKED for the batch, each queued e-mail with a lease taken the same way, and a delivery row,
// unique per event, notice and channel, is the proof that an event was handled.
type Notifier struct {
	db     *DB
	mailer sportello.Mailer
	// PortalURL prefixes the links to tickets, as /pratiche/ID.
	PortalURL string
	// RetryBase is the wait after the first failed attempt; it doubles with every attempt, up
	// to RetryMax. MaxAttempts failed attempts give up on an e-mail.
	RetryBase   time.Duration
	RetryMax    time.Duration
	MaxAttempts int
	// Batch bounds the events and the e-mails one round handles.
	Batch int
}

// NewNotifier returns a notifier that sends e-mail through mailer; with a nil mailer it only
// stores the app's notifications.
func NewNotifier(db *DB, mailer sportello.Mailer, portalURL string) *Notifier {
	return &Notifier{db: db, mailer: mailer, PortalURL: portalURL, RetryBase: 30 * time.Second, RetryMax: time.Hour,
		MaxAttempts: 12, Batch: 100}
}

// Run handles events and sends e-mails every interval until ctx ends.
func (n *Notifier) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := n.RunOnce(ctx); err != nil && ctx.Err() == nil {
			slog.ErrorContext(ctx, "notifications", "error", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// RunOnce handles the events that are safe to read, for every tenant no other instance is
// handling, then sends the e-mails that are due.
func (n *Notifier) RunOnce(ctx context.Context) error {
	// The notifier serves every tenant: it reads their cursors and events and delivers to their
	// citizens, each row carrying its tenant.
	ctx = AllTenants(ctx)
	// Tenants created after the cursors were first set start from the beginning of the log,
	// which for them holds only their own events.
	if _, err := n.db.ExecContext(ctx, `INSERT INTO notification_cursors (tenant_id, tx_id, event_id)
		SELECT id, '0', 0 FROM tenants ON CONFLICT (tenant_id) DO NOTHING`); err != nil {
		return fmt.Errorf("notification cursors: %w", err)
	}
	var tenants []string
	if err := n.db.SelectContext(ctx, &tenants, `SELECT tenant_id FROM notification_cursors ORDER BY tenant_id`); err != nil {
		return fmt.Errorf("notification cursors: %w", err)
	}
	for _, tenant := range tenants {
		for {
			more, err := n.handleEvents(ctx, tenant)
			if err != nil {
				return err
			}
			if !more {
				break
			}
		}
	}
	for {
		sent, err := n.sendDue(ctx)
		if err != nil || sent < n.Batch {
			return err
		}
	}
}

// handleEvents handles a batch of a tenant's events after its cursor, unless another instance
// holds the cursor; it reports whether there may be more.
func (n *Notifier) handleEvents(ctx context.Context, tenantID string) (bool, error) {
	more := false
	err := n.db.inEventTx(ctx, tenantID, func(tx *sqlx.Tx) error {
		var cur struct {
			TxID    string `db:"tx_id"`
			EventID int64  `db:"event_id"`
		}
		err := tx.GetContext(ctx, &cur, `SELECT tx_id::text AS tx_id, event_id FROM notification_cursors
			WHERE tenant_id = $1 FOR UPDATE SKIP LOCKED`, tenantID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // another instance is on it
		}
		if err != nil {
			return fmt.Errorf("claim notification cursor: %w", err)
		}
		var rows []feedRow
		if err := tx.SelectContext(ctx, &rows, `SELECT `+feedColumns+` FROM events e
			WHERE e.tenant_id = $1 AND e.topic IS NULL AND (e.tx_id, e.id) > ($2::xid8, $3) AND `+safe+`
			ORDER BY e.tx_id, e.id LIMIT $4`, tenantID, cur.TxID, cur.EventID, n.Batch); err != nil {
			return fmt.Errorf("read events to notify: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		more = len(rows) == n.Batch
		for i := range rows {
			e, err := rows[i].event()
			if err != nil {
				return err
			}
			if err := n.handle(ctx, tx, tenantID, e); err != nil {
				return err
			}
		}
		last := rows[len(rows)-1]
		_, err = tx.ExecContext(ctx, `UPDATE notification_cursors SET tx_id = $2::xid8, event_id = $3 WHERE tenant_id = $1`,
			tenantID, last.TxID, last.ID)
		return err
	})
	return more, err
}

type noticeTarget struct {
	ticketRow
	GivenName  sql.NullString `db:"given_name"`
	FamilyName sql.NullString `db:"family_name"`
	Email      sql.NullString `db:"email"`
	ToldDue    sql.NullTime   `db:"told_due"`
	Prefs      sql.NullBool   `db:"app"`
	EmailPrefs pq.StringArray `db:"email_notices"`
}

// handle turns one event into the notices its citizen wants.
func (n *Notifier) handle(ctx context.Context, tx *sqlx.Tx, tenantID string, e *sportello.Event) error {
	var row noticeTarget
	err := tx.GetContext(ctx, &row, `SELECT `+ticketColumns+`, c.given_name, c.family_name, c.email,
		s.due_at AS told_due, p.app, p.email_notices
		FROM tickets t LEFT JOIN citizens c ON c.id = t.citizen_id
		LEFT JOIN ticket_notice_state s ON s.ticket_id = t.id
		LEFT JOIN notification_preferences p ON p.citizen_id = t.citizen_id
		WHERE t.id = $1`, e.TicketID)
	if err != nil {
		return fmt.Errorf("read ticket to notify: %w", err)
	}
	t := row.ticket()
	notices := sportello.NoticesOf(e, t, row.ToldDue.Time)
	if len(notices) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_notice_state (ticket_id, due_at) VALUES ($1, $2)
		ON CONFLICT (ticket_id) DO UPDATE SET due_at = excluded.due_at`, t.ID, t.DueAt); err != nil {
		return fmt.Errorf("record notice state: %w", err)
	}
	prefs := sportello.DefaultNotificationPreferences()
	if row.Prefs.Valid {
		prefs = &sportello.NotificationPreferences{App: row.Prefs.Bool}
		for _, v := range row.EmailPrefs {
			prefs.EmailNotices = append(prefs.EmailNotices, sportello.TicketNotice(v))
		}
	}
	name := (&sportello.Citizen{GivenName: row.GivenName.String, FamilyName: row.FamilyName.String}).FullName()
	for _, notice := range notices {
		d := sportello.NoticeData{Notice: notice, Name: name, Protocol: t.ProtocolNumber(), Subject: t.Subject,
			Status: t.Status, DueAt: t.DueAt, Link: n.PortalURL + "/pratiche/" + t.ID}
		title, text, subject, body, err := sportello.RenderNotice(d)
		if err != nil {
			return fmt.Errorf("render notice: %w", err)
		}
		if prefs.App {
			if err := insertNotification(ctx, tx, tenantID, &sportello.Notification{CitizenID: t.CitizenID,
				Kind: sportello.NotificationKindTicket, Title: title, Body: text, Link: "/pratiche/" + t.ID,
				SubjectType: "Ticket", SubjectID: t.ID, CreatedAt: n.db.now()}); err != nil {
				return err
			}
			if err := n.deliver(ctx, tx, tenantID, e.ID, notice, "APP", "", "", "", "SENT"); err != nil {
				return err
			}
		}
		if n.mailer != nil && row.Email.String != "" && slices.Contains(prefs.EmailNotices, notice) {
			if err := n.deliver(ctx, tx, tenantID, e.ID, notice, "EMAIL", row.Email.String, subject, body, "PENDING"); err != nil {
				return err
			}
		}
	}
	return nil
}

// deliver records a delivery of a notice of an event on a channel. The unique key would refuse
// a second one, which the claimed cursor already prevents.
func (n *Notifier) deliver(ctx context.Context, tx *sqlx.Tx, tenantID string, eventID int64, notice sportello.TicketNotice,
	channel, to, subject, body, status string) error {
	now := n.db.now()
	sentAt := sql.NullTime{Time: now, Valid: status == "SENT"}
	if _, err := tx.ExecContext(ctx, `INSERT INTO notification_deliveries (tenant_id, event_id, notice, channel,
		recipient, subject, body, status, next_attempt_at, created_at, sent_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10)`,
		tenantID, eventID, notice, channel, to, subject, body, status, now, sentAt); err != nil {
		return fmt.Errorf("record delivery: %w", err)
	}
	return nil
}

type pendingMail struct {
	ID       string    `db:"id"`
	To       string    `db:"recipient"`
	Subject  string    `db:"subject"`
	Body     string    `db:"body"`
	Attempts int       `db:"attempts"`
	Lease    time.Time `db:"claimed_until"`
}

// sendLease is how long an instance holds an e-mail it is sending: longer than a delivery may
// take, after which another instance may take it over.
const sendLease = 2 * time.Minute

// sendDue sends up to a batch of the e-mails that are due and returns how many it sent or
// tried. An e-mail the mail server refuses is tried again after a wait that doubles each time.
func (n *Notifier) sendDue(ctx context.Context) (int, error) {
	for i := range n.Batch {
		m, err := n.claimMail(ctx)
		if err != nil || m == nil {
			return i, err
		}
		sendErr := n.mailer.Send(ctx, &sportello.OutgoingMail{To: m.To, Subject: m.Subject, Body: m.Body,
			MessageID: "<notice-" + m.ID + "@sportello>"})
		now := n.db.now()
		if sendErr == nil {
			_, err = n.db.ExecContext(ctx, `UPDATE notification_deliveries SET status = 'SENT', sent_at = $3,
				attempts = attempts + 1, claimed_until = NULL WHERE id = $1 AND claimed_until = $2`, m.ID, m.Lease, now)
		} else {
			status := "PENDING"
			if m.Attempts+1 >= n.MaxAttempts {
				status = "FAILED"
			}
			slog.WarnContext(ctx, "notification e-mail not sent", "delivery", m.ID, "attempt", m.Attempts+1, "error", sendErr)
			_, err = n.db.ExecContext(ctx, `UPDATE notification_deliveries SET status = $3, attempts = attempts + 1,
				next_attempt_at = $4, last_error = $5, claimed_until = NULL WHERE id = $1 AND claimed_until = $2`,
				m.ID, m.Lease, status, now.Add(n.backoff(m.Attempts+1)), clip(sendErr.Error(), 500))
		}
		if err != nil {
			return i, fmt.Errorf("record e-mail attempt: %w", err)
		}
	}
	return n.Batch, nil
}

// claimMail takes the next e-mail that is due, for sendLease, or returns nil when there is
// none. The claim commits at once: no transaction stays open while the mail server is slow,
// which would also hold back the live feed, whose horizon is the oldest open transaction.
func (n *Notifier) claimMail(ctx context.Context) (*pendingMail, error) {
	now := n.db.now()
	var m pendingMail
	err := n.db.GetContext(ctx, &m, `UPDATE notification_deliveries SET claimed_until = $2
		WHERE id = (SELECT id FROM notification_deliveries
			WHERE status = 'PENDING' AND next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until < $1)
			ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
		RETURNING id, recipient, subject, body, attempts, claimed_until`, now, now.Add(sendLease))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("claim e-mail: %w", err)
	}
	return &m, nil
}

// backoff is the wait after the attempt-th failed attempt.
func (n *Notifier) backoff(attempt int) time.Duration {
	d := n.RetryBase
	for i := 1; i < attempt && d < n.RetryMax; i++ {
		d *= 2
	}
	return min(d, n.RetryMax)
}

// NotificationPreferenceService implements sportello.NotificationPreferenceService.
type NotificationPreferenceService struct {
	db *DB
}

// NewNotificationPreferenceService returns the preference service over db.
func NewNotificationPreferenceService(db *DB) *NotificationPreferenceService {
	return &NotificationPreferenceService{db: db}
}

var _ sportello.NotificationPreferenceService = (*NotificationPreferenceService)(nil)

// NotificationPreferences returns the citizen's preferences. See
// sportello.NotificationPreferenceService.
func (s *NotificationPreferenceService) NotificationPreferences(ctx context.Context) (*sportello.NotificationPreferences, error) {
	c, err := requireCitizen(ctx)
	if err != nil {
		return nil, err
	}
	var out *sportello.NotificationPreferences
	err = s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		cit, err := ensureCitizen(ctx, tx, c)
		if err != nil {
			return err
		}
		var row struct {
			App    bool           `db:"app"`
			Emails pq.StringArray `db:"email_notices"`
		}
		err = tx.GetContext(ctx, &row, `SELECT app, email_notices FROM notification_preferences WHERE citizen_id = $1`, cit.ID)
		if errors.Is(err, sql.ErrNoRows) {
			out = sportello.DefaultNotificationPreferences()
			return nil
		}
		if err != nil {
			return fmt.Errorf("read preferences: %w", err)
		}
		out = &sportello.NotificationPreferences{App: row.App, EmailNotices: []sportello.TicketNotice{}}
		for _, v := range row.Emails {
			out.EmailNotices = append(out.EmailNotices, sportello.TicketNotice(v))
		}
		return nil
	})
	return out, err
}

// SetNotificationPreferences replaces the citizen's preferences. See
// sportello.NotificationPreferenceService.
func (s *NotificationPreferenceService) SetNotificationPreferences(ctx context.Context, p sportello.NotificationPreferences) (*sportello.NotificationPreferences, error) {
	c, err := requireCitizen(ctx)
	if err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if p.EmailNotices == nil {
		p.EmailNotices = []sportello.TicketNotice{}
	}
	err = s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		cit, err := ensureCitizen(ctx, tx, c)
		if err != nil {
			return err
		}
		notices := make([]string, len(p.EmailNotices))
		for i, v := range p.EmailNotices {
			notices[i] = string(v)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO notification_preferences (citizen_id, tenant_id, app, email_notices, updated_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (citizen_id) DO UPDATE
			SET app = excluded.app, email_notices = excluded.email_notices, updated_at = excluded.updated_at`,
			cit.ID, c.tenantID, p.App, pq.Array(notices), s.db.now())
		if err != nil {
			return fmt.Errorf("set preferences: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &p, nil
}
