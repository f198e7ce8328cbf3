package db

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

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
	return a.add(c.tenantID) + `::uuid, ` + a.add(c.user.Subject) + `, ` + a.add(c.user.DisplayName()) + `, ` +
		a.add(pq.Array(roleNames(c))) + `::text[], ` + a.add(string(action)) + `, ` + a.add(what) + `, ` +
		a.add(o.Addr) + `, ` + a.add(o.RequestID)
}

// roleNames are the caller's roles as the audit log writes them.
func roleNames(c caller) []string {
	roles := make([]string, len(c.user.Roles))
	for i, r := range c.user.Roles {
		roles[i] = string(r)
	}
	return roles
}

// audited wraps a staff member's statement that writes citizens' personal data (with RETURNING),
// or reads it inside a transaction, so that the same statement records the action on every
// citizen it returns: no extra round trip, and no access that escapes the log, since the entry
// commits or fails with the statement. Reads outside a transaction go through recordReads. citizenColumn names the
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

// recordReads records a staff member's read of citizens' personal data that ran outside a
// transaction, and returns once the entries are committed: the caller returns the data only
// then, so no read escapes the log, as with audited. Concurrent reads share one INSERT (group
// commit): a read alone with its entries cost twice the PostgreSQL time of the read without
// them, while a batch of eight entries costs about what two single ones do. Other callers, and
// reads that returned no citizen, record nothing.
func (db *DB) recordReads(ctx context.Context, c caller, action sportello.AuditAction, what string, citizenIDs []string) error {
	if !c.staff {
		return nil
	}
	ids := slices.Compact(slices.Sorted(slices.Values(citizenIDs)))
	if len(ids) > 0 && ids[0] == "" {
		ids = ids[1:]
	}
	if len(ids) == 0 {
		return nil
	}
	o := sportello.OriginFrom(ctx)
	w := &auditWait{done: make(chan error, 1), entry: auditEntry{tenantID: c.tenantID, subject: c.user.Subject,
		name: c.user.DisplayName(), roles: strings.Join(roleNames(c), ","), action: string(action), what: what,
		addr: o.Addr, requestID: o.RequestID}, citizenIDs: ids}
	db.audits.add(ctx, db, w)
	select {
	case err := <-w.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// auditEntry is who read, what and from where: one row of audit_log per citizen.
type auditEntry struct {
	tenantID, subject, name, roles, action, what, addr, requestID string
}

// auditWait is one read's entries waiting for their INSERT, and where its outcome goes.
type auditWait struct {
	entry      auditEntry
	citizenIDs []string
	done       chan error
}

// auditQueue batches the entries of concurrent reads. The read that finds no INSERT running
// writes the queue's entries itself, its own among them; reads that arrive meanwhile wait, and
// the queue left behind is written by a goroutine that lives while reads keep arriving. Idle, a
// read pays one INSERT as before; under load, one INSERT carries every read that came during the
// previous one.
type auditQueue struct {
	mu      sync.Mutex
	pending []*auditWait
	busy    bool
}

// auditTimeout bounds a batch's INSERT, which no single request's context may cancel since it
// carries other requests' entries.
const auditTimeout = 10 * time.Second

func (q *auditQueue) add(ctx context.Context, db *DB, w *auditWait) {
	q.mu.Lock()
	q.pending = append(q.pending, w)
	lead := !q.busy
	q.busy = true
	q.mu.Unlock()
	if !lead {
		return
	}
	// The batch may carry other requests' entries, of other tenants too: it runs outside this
	// request's cancellation and without its user, whose tenant would otherwise be the scope of
	// every entry (see flush). Tracing and the like still come from ctx.
	q.flush(sportello.WithUser(context.WithoutCancel(ctx), nil), db)
	q.mu.Lock()
	more := len(q.pending) > 0
	q.busy = more
	q.mu.Unlock()
	if more {
		// The batches after this one carry other requests' entries: they are not this
		// request's work, and are not traced as such.
		go q.drain(context.Background(), db)
	}
}

// drain writes batches until the queue is empty.
func (q *auditQueue) drain(ctx context.Context, db *DB) {
	for {
		q.flush(ctx, db)
		q.mu.Lock()
		if len(q.pending) == 0 {
			q.busy = false
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
	}
}

// auditBatchInsert writes a batch of entries, given column by column.
const auditBatchInsert = `INSERT INTO audit_log (` + auditColumns + `)
	SELECT tenant_id, subject, name, string_to_array(roles, ','), action, what, addr, request_id, citizen_id
	FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::uuid[])
		AS u(tenant_id, subject, name, roles, action, what, addr, request_id, citizen_id)`

// flush writes the entries queued so far in one statement and tells each read the outcome. The
// statement runs in the scope of the batch's tenant when it has one, as it always has in a
// municipality's own deployment, so that the connection keeps the scope of the reads around it
// instead of switching to every tenant's and back; and in every tenant's scope otherwise.
func (q *auditQueue) flush(ctx context.Context, db *DB) {
	q.mu.Lock()
	batch := q.pending
	q.pending = nil
	q.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	var cols [9]arrayLiteral
	rows := 0
	for _, w := range batch {
		rows += len(w.citizenIDs)
	}
	// A quoted uuid and its comma take 39 bytes, more than most names and roles: one guess per
	// column spares the builders most of their growing.
	for i := range cols {
		cols[i].b.Grow(rows * 40)
	}
	tenant := batch[0].entry.tenantID
	for _, w := range batch {
		e := w.entry
		if e.tenantID != tenant {
			tenant = allScope
		}
		for _, id := range w.citizenIDs {
			for i, v := range [9]string{e.tenantID, e.subject, e.name, e.roles, e.action, e.what, e.addr, e.requestID, id} {
				cols[i].add(v)
			}
		}
	}
	if tenant == allScope {
		ctx = AllTenants(ctx)
	} else {
		ctx = ForTenant(ctx, tenant)
	}
	ctx, cancel := context.WithTimeout(ctx, auditTimeout)
	defer cancel()
	args := make([]any, len(cols))
	for i := range cols {
		args[i] = cols[i].String()
	}
	var err error
	// Prepared like the reads it records, so that PostgreSQL does not parse it every time.
	if stmt := db.stmt(ctx, auditBatchInsert); stmt != nil {
		_, err = stmt.ExecContext(ctx, args...)
	} else {
		_, err = db.ExecContext(ctx, auditBatchInsert, args...)
	}
	if err != nil {
		err = fmt.Errorf("audit: %w", err)
	}
	for _, w := range batch {
		w.done <- err
	}
}

// arrayLiteral writes a PostgreSQL array of strings in its text form, each element quoted, as
// pq.Array does, into one buffer: a batch's nine columns then cost nine strings, where pq.Array
// allocated for every element of each.
type arrayLiteral struct{ b strings.Builder }

func (a *arrayLiteral) add(v string) {
	if a.b.Len() == 0 {
		a.b.WriteByte('{')
	} else {
		a.b.WriteByte(',')
	}
	a.b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		// Inside quotes only the quote and the backslash need escaping.
		if v[i] == '"' || v[i] == '\\' {
			a.b.WriteByte('\\')
		}
		a.b.WriteByte(v[i])
	}
	a.b.WriteByte('"')
}

// String returns the literal: {} for no elements.
func (a *arrayLiteral) String() string {
	if a.b.Len() == 0 {
		return "{}"
	}
	return a.b.String() + "}"
}
