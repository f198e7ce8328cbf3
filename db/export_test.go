package db

import (
	"context"

	"github.com/jmoiron/sqlx"
	sportello "github.com/sportello/sportello"
)

// InsertNotification stores a notification in a transaction of its own, for the tests of the
// notification list; the services that notify call insertNotification in their transactions.
func InsertNotification(ctx context.Context, d *DB, tenantID string, n *sportello.Notification) error {
	ctx = ForTenant(ctx, tenantID)
	return d.inEventTx(ctx, tenantID, func(tx *sqlx.Tx) error { return insertNotification(ctx, tx, tenantID, n) })
}

// AppendTopicEvent writes a topic event in a transaction of its own, for tests.
func AppendTopicEvent(ctx context.Context, d *DB, e *sportello.TopicEvent) error {
	ctx = ForTenant(ctx, e.TenantID)
	return d.inEventTx(ctx, e.TenantID, func(tx *sqlx.Tx) error { return appendTopicEvent(ctx, tx, e) })
}

// RecordReadsTogether records a read of citizenID by the caller of each of ctxs in one batch of
// the audit log, led by the first, as concurrent reads end up sharing one. It returns each read's
// outcome.
func RecordReadsTogether(d *DB, citizenID string, ctxs ...context.Context) []error {
	waits := make([]*auditWait, len(ctxs))
	for i, ctx := range ctxs {
		c, err := callerFrom(ctx)
		if err != nil {
			panic(err)
		}
		o := sportello.OriginFrom(ctx)
		waits[i] = &auditWait{done: make(chan error, 1), entry: auditEntry{tenantID: c.tenantID, subject: c.user.Subject,
			roles: "OPERATOR", action: string(sportello.AuditRead), what: "tickets.get", requestID: o.RequestID},
			citizenIDs: []string{citizenID}}
	}
	d.audits.mu.Lock()
	d.audits.pending = append(d.audits.pending, waits[1:]...)
	d.audits.mu.Unlock()
	d.audits.add(ctxs[0], d, waits[0])
	errs := make([]error, len(waits))
	for i, w := range waits {
		errs[i] = <-w.done
	}
	return errs
}
