package db

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	sportello "github.com/sportello/sportello"
)

// insertNotifications is insertNotification for many notifications at once, all created at at:
// two statements whatever their number (the notifications, then the topic events that announce
// them, with the same data as insertNotification's), so that publishing an opportunity that
// alerts hundreds of citizens stays one short transaction. The transaction must be run with
// inEventTx. It sets each notification's ID and CreatedAt.
func insertNotifications(ctx context.Context, tx *sqlx.Tx, tenantID string, ns []*sportello.Notification, at time.Time) error {
	if len(ns) == 0 {
		return nil
	}
	n := len(ns)
	citizens, kinds, titles, bodies, links, subjectTypes := make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n)
	subjects := make([]any, n)
	for i, x := range ns {
		citizens[i], kinds[i], titles[i], bodies[i], links[i], subjectTypes[i] = x.CitizenID, x.Kind, x.Title, x.Body, x.Link, x.SubjectType
		subjects[i] = nullID(x.SubjectID)
	}
	// The ids are drawn in a CTE, which PostgreSQL evaluates once because gen_random_uuid is
	// volatile, so the ids read back are those inserted, in the order of ns.
	var ids []string
	if err := tx.SelectContext(ctx, &ids, `WITH u AS (
			SELECT gen_random_uuid() AS id, u.* FROM unnest($3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[],
				$8::text[], $9::uuid[]) WITH ORDINALITY AS u(citizen_id, kind, title, body, link, subject_type, subject_id, ord)),
		ins AS (
			INSERT INTO notifications (id, tenant_id, citizen_id, kind, title, body, link, subject_type, subject_id, created_at)
			SELECT id, $1, citizen_id, kind, title, body, link, subject_type, subject_id, $2 FROM u)
		SELECT id FROM u ORDER BY ord`,
		tenantID, at, pq.Array(citizens), pq.Array(kinds), pq.Array(titles), pq.Array(bodies), pq.Array(links),
		pq.Array(subjectTypes), pq.Array(subjects)); err != nil {
		return fmt.Errorf("insert notifications: %w", err)
	}
	data := make([]string, n)
	for i, x := range ns {
		x.ID, x.CreatedAt = ids[i], at
		data[i] = string(x.EventData())
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO events (tenant_id, topic, subject_id, citizen_id, type, actor_kind, at, data)
		SELECT $1, $2, u.subject_id, u.citizen_id, $2, $3, $4, u.data::jsonb
		FROM unnest($5::uuid[], $6::uuid[], $7::text[]) AS u(subject_id, citizen_id, data)`,
		tenantID, sportello.TopicNotification, sportello.ActorSystem, at, pq.Array(ids), pq.Array(citizens), pq.Array(data)); err != nil {
		return fmt.Errorf("announce notifications: %w", err)
	}
	return nil
}
