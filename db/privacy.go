package db

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	sportello "github.com/sportello/sportello"
)

// PrivacyService implements sportello.PrivacyService.
type PrivacyService struct {
	db *DB
}

// NewPrivacyService returns the privacy service over db.
func NewPrivacyService(db *DB) *PrivacyService { return &PrivacyService{db: db} }

var _ sportello.PrivacyService = (*PrivacyService)(nil)

// exportQuery builds the citizen's document in PostgreSQL, in one statement: $1 is the tenant,
// $2 the citizen. Internal notes and events are the office's own working papers about the
// request, not data the citizen gave, and are left out as everywhere the citizen reads.
const exportQuery = `SELECT json_build_object(
	'profile', (SELECT json_build_object('id', id, 'givenName', given_name, 'familyName', family_name,
		'fiscalCode', fiscal_code, 'email', email, 'phone', phone, 'createdAt', created_at, 'updatedAt', updated_at)
		FROM citizens WHERE tenant_id = $1 AND id = $2),
	'tickets', coalesce((SELECT json_agg(json_build_object(
		'id', t.id, 'protocolNumber', to_char(t.protocol_year, 'FM0000') || '/' || to_char(t.protocol_seq, 'FM0000000'),
		'kind', t.kind, 'channel', t.channel, 'status', t.status, 'subject', t.subject, 'body', t.body,
		'createdAt', t.created_at, 'dueAt', t.due_at, 'resolvedAt', t.resolved_at,
		'messages', coalesce((SELECT json_agg(json_build_object('author', m.author_kind, 'name', m.author_name,
			'body', m.body, 'createdAt', m.created_at) ORDER BY m.created_at, m.id)
			FROM ticket_messages m WHERE m.ticket_id = t.id AND NOT m.internal), '[]'))
		ORDER BY t.created_at, t.id)
		FROM tickets t WHERE t.tenant_id = $1 AND t.citizen_id = $2), '[]'),
	'appointments', coalesce((SELECT json_agg(json_build_object('id', ap.id, 'officeId', ap.office_id,
		'start', ap.start_at, 'end', ap.end_at, 'topic', ap.topic, 'notes', ap.notes, 'status', ap.status)
		ORDER BY ap.start_at, ap.id)
		FROM appointments ap WHERE ap.tenant_id = $1 AND ap.citizen_id = $2), '[]'),
	'notifications', coalesce((SELECT json_agg(json_build_object('kind', n.kind, 'title', n.title, 'body', n.body,
		'link', n.link, 'createdAt', n.created_at, 'readAt', n.read_at) ORDER BY n.created_at, n.id)
		FROM notifications n WHERE n.tenant_id = $1 AND n.citizen_id = $2), '[]'),
	'feedback', coalesce((SELECT json_agg(json_build_object('ticketId', f.ticket_id, 'level', f.level,
		'rating', f.rating, 'comment', f.comment, 'createdAt', f.created_at) ORDER BY f.created_at)
		FROM ticket_feedback f JOIN tickets t ON t.id = f.ticket_id
		WHERE f.tenant_id = $1 AND t.citizen_id = $2), '[]'),
	'surveyResponses', coalesce((SELECT json_agg(json_build_object('surveyId', r.survey_id, 'channel', r.channel,
		'answers', r.answers, 'createdAt', r.created_at) ORDER BY r.created_at, r.id)
		FROM survey_responses r WHERE r.tenant_id = $1 AND r.citizen_id = $2), '[]'),
	'attachments', coalesce((SELECT json_agg(json_build_object('ticketId', a.ticket_id, 'filename', a.filename,
		'contentType', a.content_type, 'size', a.size, 'sha256', a.sha256, 'createdAt', a.created_at)
		ORDER BY a.created_at, a.position)
		FROM attachments a JOIN tickets t ON t.id = a.ticket_id
		LEFT JOIN ticket_messages m ON m.id = a.message_id
		WHERE a.tenant_id = $1 AND t.citizen_id = $2 AND NOT coalesce(m.internal, false)), '[]'),
	'followedTickets', coalesce((SELECT json_agg(json_build_object('ticketId', fo.ticket_id, 'since', fo.created_at)
		ORDER BY fo.created_at)
		FROM ticket_followers fo WHERE fo.tenant_id = $1 AND fo.citizen_id = $2), '[]'),
	'savedSearches', coalesce((SELECT json_agg(json_build_object('name', ss.name, 'text', ss.text,
		'categories', ss.categories, 'country', ss.country, 'remote', ss.remote, 'age', ss.age,
		'language', ss.language, 'latitude', ss.latitude, 'longitude', ss.longitude,
		'radiusMeters', ss.radius_meters, 'alerts', ss.alerts, 'createdAt', ss.created_at) ORDER BY ss.created_at)
		FROM saved_searches ss WHERE ss.tenant_id = $1 AND ss.citizen_id = $2), '[]'),
	'savedOpportunities', coalesce((SELECT json_agg(json_build_object('opportunityId', so.opportunity_id,
		'savedAt', so.created_at) ORDER BY so.created_at)
		FROM saved_opportunities so WHERE so.tenant_id = $1 AND so.citizen_id = $2), '[]'),
	'notificationPreferences', (SELECT json_build_object('app', np.app, 'emailNotices', np.email_notices,
		'updatedAt', np.updated_at)
		FROM notification_preferences np WHERE np.tenant_id = $1 AND np.citizen_id = $2),
	'accesses', coalesce((SELECT json_agg(json_build_object('at', l.at, 'by', l.actor_name, 'action', l.action,
		'what', l.what) ORDER BY l.id)
		FROM audit_log l WHERE l.tenant_id = $1 AND l.citizen_id = $2), '[]'))`

// ExportMyData returns the citizen's data. See sportello.PrivacyService.
func (s *PrivacyService) ExportMyData(ctx context.Context) (*sportello.PersonalDataExport, error) {
	c, err := requireCitizen(ctx)
	if err != nil {
		return nil, err
	}
	out := &sportello.PersonalDataExport{GeneratedAt: s.db.now()}
	err = s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		cit, err := ensureCitizen(ctx, tx, c)
		if err != nil {
			return err
		}
		var doc string
		if err := tx.GetContext(ctx, &doc, exportQuery, c.tenantID, cit.ID); err != nil {
			return fmt.Errorf("export personal data: %w", err)
		}
		out.JSON = []byte(doc)
		return appendAudit(ctx, tx, c, sportello.AuditExport, "privacy.export", cit.ID)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RequestErasure erases the citizen's account. See sportello.PrivacyService.
func (s *PrivacyService) RequestErasure(ctx context.Context) (*sportello.Erasure, error) {
	c, err := requireCitizen(ctx)
	if err != nil {
		return nil, err
	}
	now := s.db.now()
	out := &sportello.Erasure{At: now}
	err = s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		cit, err := ensureCitizen(ctx, tx, c)
		if err != nil {
			return err
		}
		var records []struct {
			Year int `db:"protocol_year"`
			Seq  int `db:"protocol_seq"`
		}
		if err := tx.SelectContext(ctx, &records, `SELECT protocol_year, protocol_seq FROM tickets WHERE tenant_id = $1 AND citizen_id = $2
			UNION ALL
			SELECT protocol_year, protocol_seq FROM appointments WHERE tenant_id = $1 AND citizen_id = $2 AND protocol_year IS NOT NULL
			ORDER BY 1, 2`, c.tenantID, cit.ID); err != nil {
			return fmt.Errorf("find records: %w", err)
		}
		for _, r := range records {
			out.KeptRecords = append(out.KeptRecords, sportello.ProtocolNumber{Year: r.Year, Seq: r.Seq}.String())
		}
		out.Outcome = sportello.ErasureOutcomeFor(len(records))

		// The account is closed either way: the identity provider's subject goes, so signing in
		// again starts a new, empty profile, and the contact details go.
		identity := `subject = NULL, email = '', phone = '', erased_at = $3, updated_at = $3`
		if out.Outcome == sportello.ErasureErased {
			identity += `, given_name = '', family_name = '', fiscal_code = NULL`
		}
		if _, err := tx.ExecContext(ctx, `UPDATE citizens SET `+identity+` WHERE tenant_id = $1 AND id = $2`,
			c.tenantID, cit.ID, now); err != nil {
			return fmt.Errorf("erase citizen: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO erased_accounts (tenant_id, subject_hash, erased_at) VALUES ($1, $2, $3)
			ON CONFLICT (tenant_id, subject_hash) DO UPDATE SET erased_at = excluded.erased_at`,
			c.tenantID, subjectHash(c.user.Subject), now); err != nil {
			return fmt.Errorf("remember erasure: %w", err)
		}
		// How to reach the citizen is not part of a record.
		if _, err := tx.ExecContext(ctx, `UPDATE tickets SET contact_name = '', contact_email = '', contact_phone = ''
			WHERE tenant_id = $1 AND citizen_id = $2`, c.tenantID, cit.ID); err != nil {
			return fmt.Errorf("erase ticket contacts: %w", err)
		}
		// Notifications are messages to the account, which is gone, and so are their live
		// announcements, what the citizen saved or follows, and how they wished to be told.
		for _, del := range []struct{ what, query string }{
			{"notifications", `DELETE FROM notifications WHERE tenant_id = $1 AND citizen_id = $2`},
			{"topic events", `DELETE FROM events WHERE tenant_id = $1 AND citizen_id = $2 AND topic IS NOT NULL`},
			{"saved searches", `DELETE FROM saved_searches WHERE tenant_id = $1 AND citizen_id = $2`},
			{"saved opportunities", `DELETE FROM saved_opportunities WHERE tenant_id = $1 AND citizen_id = $2`},
			{"followed tickets", `DELETE FROM ticket_followers WHERE tenant_id = $1 AND citizen_id = $2`},
			{"notification preferences", `DELETE FROM notification_preferences WHERE tenant_id = $1 AND citizen_id = $2`},
		} {
			if _, err := tx.ExecContext(ctx, del.query, c.tenantID, cit.ID); err != nil {
				return fmt.Errorf("erase %s: %w", del.what, err)
			}
		}
		// Survey answers stay in the results, which must not change, but no longer say whose
		// they are.
		if _, err := tx.ExecContext(ctx, `UPDATE survey_responses SET citizen_id = NULL WHERE tenant_id = $1 AND citizen_id = $2`,
			c.tenantID, cit.ID); err != nil {
			return fmt.Errorf("unlink survey responses: %w", err)
		}
		// Bookings to come are cancelled, freeing their slots; the times of past ones stay for
		// the offices' statistics, without the citizen's words unless they are a record.
		var cancelled int
		if err := tx.GetContext(ctx, &cancelled, `WITH cancelled AS (UPDATE appointments SET status = 'CANCELLED'
			WHERE tenant_id = $1 AND citizen_id = $2 AND status = 'BOOKED' AND start_at > $3 RETURNING 1)
			SELECT count(*) FROM cancelled`, c.tenantID, cit.ID, now); err != nil {
			return fmt.Errorf("cancel appointments: %w", err)
		}
		out.CancelledAppointments = cancelled
		if _, err := tx.ExecContext(ctx, `UPDATE appointments SET topic = '', notes = ''
			WHERE tenant_id = $1 AND citizen_id = $2 AND protocol_year IS NULL`, c.tenantID, cit.ID); err != nil {
			return fmt.Errorf("erase appointments: %w", err)
		}
		return appendAudit(ctx, tx, c, sportello.AuditErase, "privacy.erase:"+string(out.Outcome), cit.ID)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AuditLog lists the audit log for ADMIN. See sportello.PrivacyService.
func (s *PrivacyService) AuditLog(ctx context.Context, f sportello.AuditFilter, page sportello.Page) (*sportello.AuditPage, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	if c.user.Anonymous() {
		return nil, sportello.ErrUnauthenticated
	}
	if !c.user.HasRole(sportello.RoleAdmin) {
		return nil, sportello.ErrForbidden
	}
	if err := page.Validate(); err != nil {
		return nil, err
	}
	var a args
	where := "tenant_id = " + a.add(c.tenantID)
	if f.CitizenID != "" {
		if !validID(f.CitizenID) {
			return &sportello.AuditPage{}, nil
		}
		where += " AND citizen_id = " + a.add(f.CitizenID)
	}
	if f.ActorSubject != "" {
		where += " AND actor_subject = " + a.add(f.ActorSubject)
	}
	if f.Action != "" {
		where += " AND action = " + a.add(string(f.Action))
	}
	if f.From != nil {
		where += " AND at >= " + a.add(*f.From)
	}
	if f.To != nil {
		where += " AND at < " + a.add(*f.To)
	}
	if page.After != "" {
		after, err := strconv.ParseInt(page.After, 10, 64)
		if err != nil || after <= 0 {
			return nil, sportello.InvalidField("after", "is not a cursor this list returned")
		}
		where += " AND id < " + a.add(after)
	}
	var rows []struct {
		ID           int64          `db:"id"`
		At           time.Time      `db:"at"`
		ActorSubject string         `db:"actor_subject"`
		ActorName    string         `db:"actor_name"`
		ActorRoles   pq.StringArray `db:"actor_roles"`
		Action       string         `db:"action"`
		What         string         `db:"what"`
		CitizenID    *string        `db:"citizen_id"`
		ClientAddr   string         `db:"client_addr"`
		RequestID    string         `db:"request_id"`
	}
	if err := s.db.SelectContext(ctx, &rows, `SELECT id, at, actor_subject, actor_name, actor_roles, action, what, citizen_id,
		client_addr, request_id FROM audit_log WHERE `+where+` ORDER BY id DESC LIMIT `+a.add(page.First+1), a...); err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	out := &sportello.AuditPage{HasNextPage: len(rows) > page.First}
	if out.HasNextPage {
		rows = rows[:page.First]
	}
	for _, r := range rows {
		e := &sportello.AuditEntry{ID: strconv.FormatInt(r.ID, 10), At: r.At, ActorSubject: r.ActorSubject,
			ActorName: r.ActorName, Action: sportello.AuditAction(r.Action), What: r.What,
			Origin: sportello.Origin{Addr: r.ClientAddr, RequestID: r.RequestID}}
		for _, role := range r.ActorRoles {
			e.ActorRoles = append(e.ActorRoles, sportello.Role(role))
		}
		if r.CitizenID != nil {
			e.CitizenID = *r.CitizenID
		}
		out.Entries = append(out.Entries, e)
		out.Cursors = append(out.Cursors, e.ID)
	}
	return out, nil
}

// retentionLock is the advisory lock under which the retention job runs, so that of several
// instances starting it at once only one works.
const retentionLock = 727_274_014

// PseudonymiseClosedTickets removes the personal data of every municipality's tickets closed
// (resolved, rejected or closed) before the cutoff: contact details, the receipt code, the link
// to the citizen and the citizen's name on messages and in the history. What remains is the
// record's content and its dates, kind, office and outcome, so statistics stay whole. It
// returns how many tickets it pseudonymised; when another instance is running it, none.
func (s *PrivacyService) PseudonymiseClosedTickets(ctx context.Context, cutoff time.Time) (int, error) {
	ctx = AllTenants(ctx)
	var n int
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		var locked bool
		if err := tx.GetContext(ctx, &locked, `SELECT pg_try_advisory_xact_lock($1)`, retentionLock); err != nil {
			return fmt.Errorf("retention lock: %w", err)
		}
		if !locked {
			return nil
		}
		var ids []string
		if err := tx.SelectContext(ctx, &ids, `UPDATE tickets SET contact_name = '', contact_email = '', contact_phone = '',
			receipt_hash = NULL, citizen_id = NULL, pseudonymised_at = $2
			WHERE pseudonymised_at IS NULL AND status IN ('RESOLVED', 'REJECTED', 'CLOSED')
			AND coalesce(resolved_at, updated_at) < $1
			RETURNING id`, cutoff, s.db.now()); err != nil {
			return fmt.Errorf("pseudonymise tickets: %w", err)
		}
		n = len(ids)
		if n == 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE ticket_messages SET author_name = '', author_citizen_id = NULL
			WHERE ticket_id = ANY($1::uuid[]) AND author_kind = 'CITIZEN'`, pq.Array(ids)); err != nil {
			return fmt.Errorf("pseudonymise messages: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE events SET actor_name = '', actor_id = NULL
			WHERE ticket_id = ANY($1::uuid[]) AND actor_kind = 'CITIZEN'`, pq.Array(ids)); err != nil {
			return fmt.Errorf("pseudonymise history: %w", err)
		}
		return nil
	})
	return n, err
}
