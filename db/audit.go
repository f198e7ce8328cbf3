package db

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	sportello "github.com/sportello/sportello"
)

// auditColumns are the columns every audit entry writes, in the order auditValues gives them.
const auditColumns = `tenant_id, actor_subject, actor_name, actor_roles, action, what, client_addr, request_id, citizen_id`

// auditValues adds who acts, what they do and from where, and returns the SQL of those values
// without the citizen, which the caller adds last.
func auditValues(ctx context.Context, c caller, action sportello.AuditAction, what string, a *args) string {
	o := sportello.OriginFrom(ctx)
	roles := make([]string, len(c.user.Roles))
	for i, r := range c.user.Roles {
		roles[i] = string(r)
	}
	return a.add(c.tenantID) + `::uuid, ` + a.add(c.user.Subject) + `, ` + a.add(c.user.DisplayName()) + `, ` +
		a.add(pq.Array(roles)) + `::text[], ` + a.add(string(action)) + `, ` + a.add(what) + `, ` +
		a.add(o.Addr) + `, ` + a.add(o.RequestID)
}

// audited wraps a staff member's statement that reads (or writes, with RETURNING) citizens'
// personal data so that the same statement records the action on every citizen it returns: no extra round trip, and no read that
// escapes the log, since the entry commits or fails with the read. citizenColumn names the
// column of query's rows that holds the citizen's id; order is the ORDER BY of the result, which
// a CTE does not keep. Other callers' queries are returned unchanged: citizens reading their own
// data are not audited.
func audited(ctx context.Context, c caller, action sportello.AuditAction, what, query, citizenColumn, order string, a *args) string {
	if !c.staff {
		return query
	}
	return `WITH found AS (` + query + `), audit AS (INSERT INTO audit_log (` + auditColumns + `)
		SELECT DISTINCT ` + auditValues(ctx, c, action, what, a) + `, found.` + citizenColumn + `
		FROM found WHERE found.` + citizenColumn + ` IS NOT NULL)
		SELECT * FROM found ORDER BY ` + order
}

// appendAudit records an action on citizens' data in the caller's transaction.
func appendAudit(ctx context.Context, q sqlx.ExecerContext, c caller, action sportello.AuditAction, what string, citizenIDs ...string) error {
	var a args
	values := auditValues(ctx, c, action, what, &a)
	query := `INSERT INTO audit_log (` + auditColumns + `) SELECT ` + values + `, unnest(` + a.add(pq.Array(citizenIDs)) + `::uuid[])`
	if _, err := q.ExecContext(ctx, query, a...); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}
