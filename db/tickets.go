package db

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	sportello "github.com/sportello/sportello"
)

// TicketService implements sportello.TicketService.
type TicketService struct {
	db *DB
}

// NewTicketService returns the ticket service over db.
func NewTicketService(db *DB) *TicketService { return &TicketService{db: db} }

var _ sportello.TicketService = (*TicketService)(nil)

const ticketColumns = `t.id, t.tenant_id, t.protocol_year, t.protocol_seq, t.kind, t.channel, t.status,
	t.subject, t.body, t.citizen_id, t.contact_name, t.contact_email, t.contact_phone, t.office_id,
	t.assignee_id, t.status_reason, t.created_at, t.updated_at, t.due_at, t.resolved_at, t.first_responded_at,
	t.priority, t.merged_into, t.latitude, t.longitude, t.address`

type ticketRow struct {
	ID           string         `db:"id"`
	TenantID     string         `db:"tenant_id"`
	ProtocolYear int            `db:"protocol_year"`
	ProtocolSeq  int            `db:"protocol_seq"`
	Kind         string         `db:"kind"`
	Channel      string         `db:"channel"`
	Status       string         `db:"status"`
	Subject      string         `db:"subject"`
	Body         string         `db:"body"`
	CitizenID    sql.NullString `db:"citizen_id"`
	ContactName  string         `db:"contact_name"`
	ContactEmail string         `db:"contact_email"`
	ContactPhone string         `db:"contact_phone"`
	OfficeID     sql.NullString `db:"office_id"`
	AssigneeID   sql.NullString `db:"assignee_id"`
	StatusReason string         `db:"status_reason"`
	CreatedAt    time.Time      `db:"created_at"`
	UpdatedAt    time.Time      `db:"updated_at"`
	DueAt        time.Time      `db:"due_at"`
	ResolvedAt   sql.NullTime   `db:"resolved_at"`
	// FirstRespondedAt is when staff first replied to the citizen.
	FirstRespondedAt sql.NullTime    `db:"first_responded_at"`
	Latitude         sql.NullFloat64 `db:"latitude"`
	Longitude        sql.NullFloat64 `db:"longitude"`
	Address          string          `db:"address"`
	Priority         int             `db:"priority"`
	MergedInto       sql.NullString  `db:"merged_into"`
	// Followers is read by the live feed only (see followersColumn).
	Followers pq.StringArray `db:"followers"`
}

func (r *ticketRow) ticket() *sportello.Ticket {
	t := &sportello.Ticket{
		ID: r.ID, TenantID: r.TenantID,
		Protocol: sportello.ProtocolNumber{Year: r.ProtocolYear, Seq: r.ProtocolSeq},
		Kind:     sportello.Kind(r.Kind), Channel: sportello.Channel(r.Channel), Status: sportello.Status(r.Status),
		Subject: r.Subject, Body: r.Body, CitizenID: r.CitizenID.String, OfficeID: r.OfficeID.String,
		AssigneeID: r.AssigneeID.String, StatusReason: r.StatusReason,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, DueAt: r.DueAt,
		Priority: sportello.PriorityOfRank(r.Priority), MergedIntoID: r.MergedInto.String, FollowerIDs: r.Followers,
	}
	if r.ContactName != "" || r.ContactEmail != "" || r.ContactPhone != "" {
		t.Contact = &sportello.Contact{Name: r.ContactName, Email: r.ContactEmail, Phone: r.ContactPhone}
	}
	if r.ResolvedAt.Valid {
		at := r.ResolvedAt.Time
		t.ResolvedAt = &at
	}
	if r.FirstRespondedAt.Valid {
		at := r.FirstRespondedAt.Time
		t.FirstRespondedAt = &at
	}
	if r.Latitude.Valid || r.Address != "" {
		t.Location = &sportello.Location{Latitude: r.Latitude.Float64, Longitude: r.Longitude.Float64, Address: r.Address}
	}
	return t
}

// SubmitTicket files a ticket from the app or the portal. See sportello.TicketService.
func (s *TicketService) SubmitTicket(ctx context.Context, in sportello.SubmitTicketInput) (*sportello.Submission, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	if !c.user.Anonymous() && !c.citizen {
		return nil, sportello.Errorf(sportello.CodeForbidden, "staff register tickets with registerTicket")
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	if c.user.Anonymous() && !in.Kind.AnonymousAllowed() {
		return nil, sportello.Errorf(sportello.CodeUnauthenticated, "sign in to file a %s; reports and suggestions can be filed anonymously", in.Kind)
	}
	if !c.user.Anonymous() && !in.Contact.Empty() {
		return nil, sportello.InvalidField("contact", "signed-in citizens are reached through their profile")
	}
	files, err := sportello.CheckUploads("attachments", in.Attachments)
	if err != nil {
		return nil, err
	}
	var sub *sportello.Submission
	err = s.db.inEventTx(ctx, c.tenantID, func(tx *sqlx.Tx) error {
		nt := newTicket{kind: in.Kind, channel: in.Channel, subject: in.Subject, body: in.Body,
			officeID: in.OfficeID, contact: in.Contact, recordsAccess: in.RecordsAccess, location: in.Location, files: files}
		who := sportello.Actor{Kind: sportello.ActorAnonymous}
		if c.citizen {
			// A citizen who also works at the office files as a citizen here.
			cit, err := ensureCitizen(ctx, tx, c)
			if err != nil {
				return err
			}
			nt.citizenID = cit.ID
			who = sportello.Actor{Kind: sportello.ActorCitizen, ID: cit.ID, Name: cit.FullName()}
		}
		var err error
		sub, err = s.insertTicket(ctx, tx, c, who, nt)
		return err
	})
	return sub, err
}

// RegisterTicket files a ticket that came to the desk. See sportello.TicketService.
func (s *TicketService) RegisterTicket(ctx context.Context, in sportello.RegisterTicketInput) (*sportello.Submission, error) {
	c, err := requireStaff(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	files, err := sportello.CheckUploads("attachments", in.Attachments)
	if err != nil {
		return nil, err
	}
	var sub *sportello.Submission
	err = s.db.inEventTx(ctx, c.tenantID, func(tx *sqlx.Tx) error {
		if in.CitizenID != "" {
			var n int
			if !validID(in.CitizenID) {
				return sportello.NotFound("citizen")
			}
			if err := tx.GetContext(ctx, &n, `SELECT count(*) FROM citizens WHERE id = $1 AND tenant_id = $2`,
				in.CitizenID, c.tenantID); err != nil {
				return fmt.Errorf("find citizen: %w", err)
			}
			if n == 0 {
				return sportello.NotFound("citizen")
			}
		}
		who, err := actor(ctx, tx, c)
		if err != nil {
			return err
		}
		sub, err = s.insertTicket(ctx, tx, c, who, newTicket{kind: in.Kind, channel: in.Channel,
			subject: in.Subject, body: in.Body, officeID: in.OfficeID, citizenID: in.CitizenID, contact: in.Contact,
			recordsAccess: in.RecordsAccess, location: in.Location, files: files})
		return err
	})
	return sub, err
}

type newTicket struct {
	kind      sportello.Kind
	channel   sportello.Channel
	subject   string
	body      string
	officeID  string
	citizenID string
	contact   *sportello.Contact
	// recordsAccess are the details of a request for access to records.
	recordsAccess *sportello.RecordsAccessInput
	location      *sportello.Location
	// files are the checked attachments filed with the ticket.
	files []*sportello.CheckedUpload
}

// insertTicket stores a validated ticket with its protocol number, deadline and CREATED event.
func (s *TicketService) insertTicket(ctx context.Context, tx *sqlx.Tx, c caller, who sportello.Actor, nt newTicket) (*sportello.Submission, error) {
	if nt.officeID != "" {
		if err := checkOffice(ctx, tx, c.tenantID, nt.officeID, "officeId"); err != nil {
			return nil, err
		}
	}
	// Routing sends a ticket filed without an office to the office (and operator) of the first
	// rule it meets; an office named by the filer is kept.
	var routed *sportello.RoutingDecision
	priority := sportello.PriorityNormal
	if nt.officeID == "" {
		var err error
		if routed, err = routeTicket(ctx, tx, c.tenantID, nt.sample()); err != nil {
			return nil, err
		}
		if routed != nil {
			nt.officeID = routed.Rule.OfficeID
			if routed.Rule.Priority != "" {
				priority = routed.Rule.Priority
			}
		}
	}
	now := s.db.now()
	// A request for access to records starts on its legal clock, which the office cannot
	// configure; its events move the deadline later.
	days := sportello.AccessTermDays
	if nt.kind != sportello.KindRecordsAccess {
		var err error
		if days, err = responseDays(ctx, tx, c.tenantID, nt.kind, nt.officeID); err != nil {
			return nil, err
		}
	}
	sub := &sportello.Submission{}
	var receiptHash []byte
	if nt.citizenID == "" {
		sub.ReceiptCode, receiptHash = newReceiptCode()
	}
	contact := nt.contact
	if contact == nil {
		contact = &sportello.Contact{}
	}
	var lat, long sql.NullFloat64
	var address string
	if l := nt.location; l != nil {
		address = l.Address
		if l.HasCoordinates() {
			lat = sql.NullFloat64{Float64: l.Latitude, Valid: true}
			long = sql.NullFloat64{Float64: l.Longitude, Valid: true}
		}
	}
	// The number is taken last, just before the insert, because its row lock queues every other
	// filing of the tenant until this transaction ends.
	p, err := takeProtocolNumber(ctx, tx, c.tenantID, now)
	if err != nil {
		return nil, err
	}
	var row ticketRow
	if err := tx.GetContext(ctx, &row, `INSERT INTO tickets AS t (tenant_id, protocol_year, protocol_seq, kind, channel,
		status, subject, body, citizen_id, contact_name, contact_email, contact_phone, receipt_hash, office_id,
		created_at, updated_at, due_at, latitude, longitude, address, assignee_id, priority)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $16, $17, $18, $19, $20, $21)
		RETURNING `+ticketColumns,
		c.tenantID, p.Year, p.Seq, nt.kind, nt.channel, sportello.StatusSubmitted, nt.subject, nt.body,
		nullID(nt.citizenID), contact.Name, contact.Email, contact.Phone, receiptHash, nullID(nt.officeID),
		now, sportello.DueAt(now, days), lat, long, address, nullID(decisionAssignee(routed)), priority.Rank()); err != nil {
		return nil, fmt.Errorf("insert ticket: %w", err)
	}
	t := row.ticket()
	if nt.recordsAccess != nil {
		if err := insertRecordsAccess(ctx, tx, t, nt.recordsAccess); err != nil {
			return nil, err
		}
	}
	if err := appendEvent(ctx, tx, t, who, sportello.EventCreated, false, sportello.EventData{
		ToStatus: t.Status, OfficeID: t.OfficeID}, now); err != nil {
		return nil, err
	}
	if routed != nil {
		if err := appendEvent(ctx, tx, t, routingActor, sportello.EventRouted, false, sportello.EventData{
			RuleID: routed.Rule.ID, Reason: routed.Reason, OfficeID: t.OfficeID, AssigneeID: t.AssigneeID,
			Priority: t.Priority}, now); err != nil {
			return nil, err
		}
	}
	if err := s.db.insertAttachments(ctx, tx, t, "", nt.files, now); err != nil {
		return nil, err
	}
	sub.Ticket = t
	return sub, nil
}

// takeProtocolNumber takes the tenant's next protocol number of now's year in tx. The counter's
// row stays locked until tx ends, queueing every other registration of the tenant, so callers
// take it as late as they can; a rollback gives the number back, so numbers have no gaps.
func takeProtocolNumber(ctx context.Context, tx *sqlx.Tx, tenantID string, now time.Time) (sportello.ProtocolNumber, error) {
	year := sportello.ProtocolYear(now)
	var seq int
	if err := tx.GetContext(ctx, &seq, `INSERT INTO protocol_counters (tenant_id, year, last_seq) VALUES ($1, $2, 1)
		ON CONFLICT (tenant_id, year) DO UPDATE SET last_seq = protocol_counters.last_seq + 1
		RETURNING last_seq`, tenantID, year); err != nil {
		return sportello.ProtocolNumber{}, fmt.Errorf("take protocol number: %w", err)
	}
	return sportello.ProtocolNumber{Year: year, Seq: seq}, nil
}

// newReceiptCode returns a receipt code for an anonymous filer and the hash that is stored: the
// code itself is shown once and never kept, so a copy of the database does not reveal it.
func newReceiptCode() (string, []byte) {
	code := readableCode(10, 5)
	return code, hashReceipt(code)
}

// readableCode returns n random characters in groups of group joined by '-'. The alphabet has
// 32 characters, so every byte maps to one without bias, and no 0/O or 1/I: codes are read
// aloud and retyped.
func readableCode(n, group int) string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, n)
	rand.Read(b)
	var code strings.Builder
	for i, v := range b {
		if i > 0 && i%group == 0 {
			code.WriteByte('-')
		}
		code.WriteByte(alphabet[int(v)%len(alphabet)])
	}
	return code.String()
}

func hashReceipt(code string) []byte {
	sum := sha256.Sum256([]byte(strings.ToUpper(strings.TrimSpace(code))))
	return sum[:]
}

// responseDays returns the configured term for a kind at an office, or the tenant's default
// for the kind, or the legal default.
func responseDays(ctx context.Context, q sqlx.QueryerContext, tenantID string, kind sportello.Kind, officeID string) (int, error) {
	var days int
	err := sqlx.GetContext(ctx, q, &days, `SELECT days FROM response_terms
		WHERE tenant_id = $1 AND kind = $2 AND (office_id = $3 OR office_id IS NULL)
		ORDER BY office_id IS NULL LIMIT 1`, tenantID, kind, nullID(officeID))
	if errors.Is(err, sql.ErrNoRows) {
		return sportello.DefaultResponseDays, nil
	}
	if err != nil {
		return 0, fmt.Errorf("find response term: %w", err)
	}
	return days, nil
}

// checkOffice returns NOT_FOUND unless the office exists in the tenant.
func checkOffice(ctx context.Context, q sqlx.QueryerContext, tenantID, officeID, field string) error {
	if !validID(officeID) {
		return &sportello.Error{Code: sportello.CodeNotFound, Field: field, Message: "office not found"}
	}
	var n int
	if err := sqlx.GetContext(ctx, q, &n, `SELECT count(*) FROM offices WHERE id = $1 AND tenant_id = $2`, officeID, tenantID); err != nil {
		return fmt.Errorf("find office: %w", err)
	}
	if n == 0 {
		return &sportello.Error{Code: sportello.CodeNotFound, Field: field, Message: "office not found"}
	}
	return nil
}

// appendEvent writes an event of the ticket in the caller's transaction.
func appendEvent(ctx context.Context, tx *sqlx.Tx, t *sportello.Ticket, who sportello.Actor, typ sportello.EventType, internal bool, data sportello.EventData, at time.Time) error {
	body, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	// The JSON goes as text: with binary_parameters lib/pq would send []byte in jsonb's binary
	// format, which it is not.
	if _, err := tx.ExecContext(ctx, `INSERT INTO events (tenant_id, ticket_id, type, actor_kind, actor_id, actor_name, at, internal, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		t.TenantID, t.ID, typ, who.Kind, nullID(who.ID), who.Name, at, internal, string(body)); err != nil {
		return fmt.Errorf("append event: %w", err)
	}
	return nil
}

// Ticket returns one ticket the caller may see. See sportello.TicketService.
func (s *TicketService) Ticket(ctx context.Context, id string) (*sportello.Ticket, error) {
	return s.TicketWith(ctx, id, sportello.TicketRelations{})
}

// TicketWith returns one ticket the caller may see with its relations, in one statement. See
// sportello.TicketService.
func (s *TicketService) TicketWith(ctx context.Context, id string, with sportello.TicketRelations) (*sportello.Ticket, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, sportello.NotFound("ticket")
	}
	var a args
	query := `SELECT ` + ticketColumnsFor(with) + ` FROM tickets t WHERE t.id = ` + a.add(id) + ` AND ` + c.readScope(&a)
	query, with = joinRelations(c, with, query, "id", &a)
	var found *sportello.Ticket
	if err := queryTickets(ctx, s.db, with, query, a, func(_ *ticketRow, t *sportello.Ticket) { found = t }); err != nil {
		return nil, fmt.Errorf("get ticket: %w", err)
	}
	if found == nil {
		return nil, sportello.NotFound("ticket")
	}
	if err := s.db.recordReads(ctx, c, sportello.AuditRead, "tickets.get", []string{found.CitizenID}); err != nil {
		return nil, err
	}
	return found, nil
}

// getTicket reads a ticket in the caller's scope, optionally locking it for update: a locked
// read is for a change, which followers may not make. A staff member's read is audited, whether
// to show the ticket or to change it.
func getTicket(ctx context.Context, q sqlx.QueryerContext, c caller, id string, lock bool) (*sportello.Ticket, error) {
	if !validID(id) {
		return nil, sportello.NotFound("ticket")
	}
	var a args
	query := `SELECT ` + ticketColumns + ` FROM tickets t WHERE t.id = ` + a.add(id) + ` AND `
	if lock {
		query += c.ticketScope(&a) + ` FOR UPDATE`
	} else {
		query += c.readScope(&a)
	}
	query = audited(ctx, c, sportello.AuditRead, "tickets.get", query, "citizen_id", "id", &a)
	var row ticketRow
	err := sqlx.GetContext(ctx, q, &row, query, a...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sportello.NotFound("ticket")
	}
	if err != nil {
		return nil, fmt.Errorf("get ticket: %w", err)
	}
	return row.ticket(), nil
}

// TicketByReceipt returns an anonymous filing. See sportello.TicketService.
func (s *TicketService) TicketByReceipt(ctx context.Context, protocol, receiptCode string) (*sportello.Ticket, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	p, err := sportello.ParseProtocolNumber("protocolNumber", strings.TrimSpace(protocol))
	if err != nil {
		return nil, err
	}
	var row ticketRow
	err = s.db.GetContext(ctx, &row, `SELECT `+ticketColumns+` FROM tickets t
		WHERE t.tenant_id = $1 AND t.protocol_year = $2 AND t.protocol_seq = $3 AND t.receipt_hash = $4`,
		c.tenantID, p.Year, p.Seq, hashReceipt(receiptCode))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sportello.NotFound("ticket")
	}
	if err != nil {
		return nil, fmt.Errorf("get ticket by receipt: %w", err)
	}
	sportello.GrantTicket(ctx, row.ID)
	return row.ticket(), nil
}

// Tickets lists tickets newest first. See sportello.TicketService.
func (s *TicketService) Tickets(ctx context.Context, f sportello.TicketFilter, page sportello.Page) (*sportello.TicketPage, error) {
	return s.TicketsWith(ctx, f, page, sportello.TicketRelations{})
}

// TicketsWith lists tickets newest first with their relations, in one statement. See
// sportello.TicketService.
func (s *TicketService) TicketsWith(ctx context.Context, f sportello.TicketFilter, page sportello.Page, with sportello.TicketRelations) (*sportello.TicketPage, error) {
	c, err := listCaller(ctx)
	if err != nil {
		return nil, err
	}
	if err := page.Validate(); err != nil {
		return nil, err
	}
	var a args
	where, err := s.filterSQL(c, &f, &a)
	if err != nil {
		return nil, err
	}
	byPriority := f.Order == sportello.OrderPriority
	if page.After != "" {
		prio, at, id, ok := decodeListCursor(page.After, byPriority)
		if !ok {
			return nil, sportello.InvalidField("after", "is not a cursor this list returned")
		}
		if byPriority {
			where += fmt.Sprintf(" AND (t.priority, t.created_at, t.id) < (%s, %s, %s)", a.add(prio), a.add(at), a.add(id))
		} else {
			where += fmt.Sprintf(" AND (t.created_at, t.id) < (%s, %s)", a.add(at), a.add(id))
		}
	}
	order := `created_at DESC, id DESC`
	if byPriority {
		order = `priority DESC, created_at DESC, id DESC`
	}
	// The page's size is written into the statement rather than bound: PostgreSQL then plans
	// the prepared statement once for every call (a generic plan) that reads the page's rows
	// and joins each to its citizen and office, instead of planning it anew at each call, which
	// cost three times the reading; with the size unknown, the generic plan would expect
	// thousands of rows and hash-join whole tables. A size is one of at most 100.
	query := `SELECT ` + ticketColumnsFor(with) + ` FROM tickets t WHERE ` + where + ` ORDER BY t.` + strings.ReplaceAll(order, ", ", ", t.") +
		` LIMIT ` + strconv.Itoa(page.First+1)
	query, with = joinRelations(c, with, query, strings.ReplaceAll(order, ", ", ", t."), &a)
	out := &sportello.TicketPage{Tickets: make([]*sportello.Ticket, 0, page.First), Cursors: make([]string, 0, page.First)}
	var seen []string
	err = queryTickets(ctx, s.db, with, query, a, func(row *ticketRow, t *sportello.Ticket) {
		if len(out.Tickets) == page.First {
			out.HasNextPage = true
			return
		}
		seen = append(seen, t.CitizenID)
		cursor := encodeCursor(row.CreatedAt, row.ID)
		if byPriority {
			cursor = encodePriorityCursor(row.Priority, row.CreatedAt, row.ID)
		}
		out.Tickets = append(out.Tickets, t)
		out.Cursors = append(out.Cursors, cursor)
	})
	if err != nil {
		return nil, fmt.Errorf("list tickets: %w", err)
	}
	if err := s.db.recordReads(ctx, c, sportello.AuditRead, "tickets.list", seen); err != nil {
		return nil, err
	}
	return out, nil
}

// CountTickets counts what Tickets lists. See sportello.TicketService.
func (s *TicketService) CountTickets(ctx context.Context, f sportello.TicketFilter) (int, error) {
	c, err := listCaller(ctx)
	if err != nil {
		return 0, err
	}
	var a args
	where, err := s.filterSQL(c, &f, &a)
	if err != nil {
		return 0, err
	}
	var n int
	if err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM tickets t WHERE `+where, a...); err != nil {
		return 0, fmt.Errorf("count tickets: %w", err)
	}
	return n, nil
}

// listCaller returns the caller of a list: staff or a signed-in citizen.
func listCaller(ctx context.Context) (caller, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return c, err
	}
	if c.user.Anonymous() {
		return c, sportello.ErrUnauthenticated
	}
	if !c.staff && !c.citizen {
		return c, sportello.ErrForbidden
	}
	return c, nil
}

// oneOf returns the condition that column is one of values (of the SQL type typ, or of the
// column's when empty). One value is compared with =, not = ANY: PostgreSQL reads an index in
// its order only for equalities, so the queue of one office in one status (tickets_queue) is
// read newest first and stops at the page, where an array made it read and sort every match.
func oneOf[T ~string](column string, values []T, typ string, a *args) string {
	if len(values) == 1 {
		if typ != "" {
			return column + " = " + a.add(string(values[0])) + "::" + typ
		}
		return column + " = " + a.add(string(values[0]))
	}
	if typ != "" {
		return column + " = ANY(" + a.add(pq.Array(values)) + "::" + typ + "[])"
	}
	return column + " = ANY(" + a.add(pq.Array(values)) + ")"
}

// filterSQL validates the filter and returns the WHERE condition for it in the caller's scope.
func (s *TicketService) filterSQL(c caller, f *sportello.TicketFilter, a *args) (string, error) {
	if err := f.Validate(); err != nil {
		return "", err
	}
	conds := []string{c.ticketScope(a)}
	if len(f.Statuses) > 0 {
		conds = append(conds, oneOf("t.status", f.Statuses, "", a))
	}
	if len(f.Kinds) > 0 {
		conds = append(conds, oneOf("t.kind", f.Kinds, "", a))
	}
	if len(f.Channels) > 0 {
		conds = append(conds, oneOf("t.channel", f.Channels, "", a))
	}
	for _, ids := range []struct {
		field, column string
		ids           []string
	}{{"filter.officeIds", "t.office_id", f.OfficeIDs}, {"filter.assigneeIds", "t.assignee_id", f.AssigneeIDs}} {
		if len(ids.ids) == 0 {
			continue
		}
		if len(validIDs(ids.ids)) != len(ids.ids) {
			return "", sportello.InvalidField(ids.field, "contains an id that is not one")
		}
		conds = append(conds, oneOf(ids.column, ids.ids, "uuid", a))
	}
	if f.CitizenID != "" {
		if !c.staff {
			return "", sportello.InvalidField("filter.citizenId", "only staff filter by citizen")
		}
		if !validID(f.CitizenID) {
			return "", sportello.InvalidField("filter.citizenId", "is not an id")
		}
		conds = append(conds, "t.citizen_id = "+a.add(f.CitizenID))
	}
	if f.Overdue != nil {
		overdue := "(t.status = ANY(" + a.add(pq.Array(sportello.OpenStatuses)) + ") AND t.due_at < " + a.add(s.db.now()) + ")"
		if !*f.Overdue {
			overdue = "NOT " + overdue
		}
		conds = append(conds, overdue)
	}
	if f.CreatedFrom != nil {
		conds = append(conds, "t.created_at >= "+a.add(*f.CreatedFrom))
	}
	if f.CreatedTo != nil {
		conds = append(conds, "t.created_at < "+a.add(*f.CreatedTo))
	}
	if f.Near != nil {
		conds = append(conds, nearCondition(a, "t", f.Near))
	}
	if f.Text != "" {
		if p, err := sportello.ParseProtocolNumber("filter.text", f.Text); err == nil {
			conds = append(conds, fmt.Sprintf("(t.protocol_year = %s AND t.protocol_seq = %s)", a.add(p.Year), a.add(p.Seq)))
		} else {
			conds = append(conds, "t.search @@ websearch_to_tsquery('italian', "+a.add(f.Text)+")")
		}
	}
	return strings.Join(conds, " AND "), nil
}

// A cursor is the position of a ticket in list order: its creation instant and id, opaque to
// clients.
func encodeCursor(at time.Time, id string) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(at.UnixMicro()))
	return base64.RawURLEncoding.EncodeToString(append(b[:], id...))
}

func decodeCursor(s string) (time.Time, string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 9 || !validID(string(b[8:])) {
		return time.Time{}, "", false
	}
	return time.UnixMicro(int64(binary.BigEndian.Uint64(b[:8]))), string(b[8:]), true
}

// A cursor of the list by priority leads with the ticket's priority rank.
func encodePriorityCursor(priority int, at time.Time, id string) string {
	var b [9]byte
	b[0] = byte(priority)
	binary.BigEndian.PutUint64(b[1:], uint64(at.UnixMicro()))
	return base64.RawURLEncoding.EncodeToString(append(b[:], id...))
}

// decodeListCursor reads a cursor of the list in either order.
func decodeListCursor(s string, byPriority bool) (int, time.Time, string, bool) {
	if !byPriority {
		at, id, ok := decodeCursor(s)
		return 0, at, id, ok
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 10 || int(b[0]) >= len(sportello.Priorities) {
		return 0, time.Time{}, "", false
	}
	at, id, ok := decodeCursor(base64.RawURLEncoding.EncodeToString(b[1:]))
	return int(b[0]), at, id, ok
}
