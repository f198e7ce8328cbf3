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
