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

// RecordsAccessService implements sportello.RecordsAccessService.
type RecordsAccessService struct {
	db *DB
}

// NewRecordsAccessService returns the records access service over db.
func NewRecordsAccessService(db *DB) *RecordsAccessService { return &RecordsAccessService{db: db} }

var _ sportello.RecordsAccessService = (*RecordsAccessService)(nil)

// accessColumns read a request's details with the protocol date of its ticket, aliased t.
const accessColumns = `r.ticket_id, r.tenant_id, r.type, r.interest, r.documents, r.act_text, r.act_id::text AS act_id,
	r.motivation, r.counter_parties, t.created_at AS filed_at, r.incomplete_notified_at, r.completed_at,
	r.counter_notified_at, r.outcome, r.outcome_motivation, r.viewing_from::text AS viewing_from,
	r.viewing_until::text AS viewing_until, r.decided_at, r.public_subject`

type accessRow struct {
	TicketID             string         `db:"ticket_id"`
	TenantID             string         `db:"tenant_id"`
	Type                 string         `db:"type"`
	Interest             string         `db:"interest"`
	Documents            string         `db:"documents"`
	ActText              string         `db:"act_text"`
	ActID                sql.NullString `db:"act_id"`
	Motivation           string         `db:"motivation"`
	CounterParties       pq.StringArray `db:"counter_parties"`
	FiledAt              time.Time      `db:"filed_at"`
	IncompleteNotifiedAt sql.NullTime   `db:"incomplete_notified_at"`
	CompletedAt          sql.NullTime   `db:"completed_at"`
	CounterNotifiedAt    sql.NullTime   `db:"counter_notified_at"`
	Outcome              sql.NullString `db:"outcome"`
	OutcomeMotivation    string         `db:"outcome_motivation"`
	ViewingFrom          dateColumn     `db:"viewing_from"`
	ViewingUntil         dateColumn     `db:"viewing_until"`
	DecidedAt            sql.NullTime   `db:"decided_at"`
	PublicSubject        string         `db:"public_subject"`
}

func (r *accessRow) recordsAccess() (*sportello.RecordsAccess, error) {
	ra := &sportello.RecordsAccess{
		TicketID: r.TicketID, TenantID: r.TenantID, Type: sportello.AccessType(r.Type), Interest: r.Interest,
		Documents: r.Documents, ActReference: r.ActText, ActID: r.ActID.String, Motivation: r.Motivation,
		CounterParties: append([]string{}, r.CounterParties...), FiledAt: r.FiledAt,
		IncompleteNotifiedAt: nullTime(r.IncompleteNotifiedAt), CompletedAt: nullTime(r.CompletedAt),
		CounterNotifiedAt: nullTime(r.CounterNotifiedAt), Outcome: sportello.AccessOutcome(r.Outcome.String),
		OutcomeMotivation: r.OutcomeMotivation, ViewingFrom: r.ViewingFrom.ptr(), ViewingUntil: r.ViewingUntil.ptr(),
		DecidedAt: nullTime(r.DecidedAt), PublicSubject: r.PublicSubject,
	}
	return ra, nil
}

func nullTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	return &t.Time
}

// insertRecordsAccess stores the details of a request for access filed as ticket t.
func insertRecordsAccess(ctx context.Context, tx *sqlx.Tx, t *sportello.Ticket, in *sportello.RecordsAccessInput) error {
	if in.ActID != "" {
		// Only an act the public can read can be asked for by its catalogue entry; an unknown or
		// unpublished one answers NOT_FOUND, as a lookup would.
		var n int
		if validID(in.ActID) {
			if err := tx.GetContext(ctx, &n, `SELECT count(*) FROM acts WHERE id = $1 AND tenant_id = $2 AND status = 'PUBLISHED'`,
				in.ActID, t.TenantID); err != nil {
				return fmt.Errorf("find act: %w", err)
			}
		}
		if n == 0 {
			return &sportello.Error{Code: sportello.CodeNotFound, Field: "recordsAccess.actId", Message: "act not found"}
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO records_access (ticket_id, tenant_id, type, interest, documents,
		act_text, act_id, motivation, counter_parties) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		t.ID, t.TenantID, in.Type, in.Interest, in.Documents, in.ActReference, nullID(in.ActID), in.Motivation,
		pq.Array(append([]string{}, in.CounterParties...))); err != nil {
		return fmt.Errorf("insert records access: %w", err)
	}
	return nil
}

// RecordsAccessByTicket returns the details of requests the caller may see. See
// sportello.RecordsAccessService.
func (s *RecordsAccessService) RecordsAccessByTicket(ctx context.Context, ticketIDs []string) (map[string]*sportello.RecordsAccess, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	var a args
	query := `SELECT ` + accessColumns + ` FROM records_access r JOIN tickets t ON t.id = r.ticket_id
		WHERE r.ticket_id = ANY(` + a.add(pq.Array(validIDs(ticketIDs))) + `::uuid[]) AND ` + c.ticketScope(&a)
	var rows []accessRow
	if err := s.db.SelectContext(ctx, &rows, query, a...); err != nil {
		return nil, fmt.Errorf("list records access: %w", err)
	}
	out := make(map[string]*sportello.RecordsAccess, len(rows))
	for i := range rows {
		ra, err := rows[i].recordsAccess()
		if err != nil {
			return nil, err
		}
		if !c.staff {
			// The office may have identified counter-interested parties the applicant did not
			// name: who they are is not the applicant's to learn from here.
			ra.CounterParties = nil
		}
		out[ra.TicketID] = ra
	}
	return out, nil
}

// getRecordsAccess reads the details of a ticket already read in the caller's scope.
func getRecordsAccess(ctx context.Context, q sqlx.QueryerContext, ticketID string) (*sportello.RecordsAccess, error) {
	var row accessRow
	err := sqlx.GetContext(ctx, q, &row, `SELECT `+accessColumns+` FROM records_access r JOIN tickets t ON t.id = r.ticket_id
		WHERE r.ticket_id = $1`, ticketID)
	if err != nil {
		return nil, fmt.Errorf("get records access: %w", err)
	}
	return row.recordsAccess()
}

// accessChange is a staff action on a request for access, in its transaction.
type accessChange struct {
	tx  *sqlx.Tx
	t   *sportello.Ticket
	ra  *sportello.RecordsAccess
	who sportello.Actor
	now time.Time
}

// change runs a staff action on an undecided request for access: it locks the ticket in the
// caller's scope, reads its details and hands them to fn, all in one transaction.
func (s *RecordsAccessService) change(ctx context.Context, ticketID string, fn func(ch *accessChange) error) (*sportello.Ticket, error) {
	c, err := requireStaff(ctx)
	if err != nil {
		return nil, err
	}
	var out *sportello.Ticket
	err = s.db.inEventTx(ctx, c.tenantID, func(tx *sqlx.Tx) error {
		t, err := getTicket(ctx, tx, c, ticketID, true)
		if err != nil {
			return err
		}
		if t.Kind != sportello.KindRecordsAccess {
			return sportello.Errorf(sportello.CodeInvalidTransition, "the ticket is a %s, not a request for access to records", t.Kind)
		}
		ra, err := getRecordsAccess(ctx, tx, t.ID)
		if err != nil {
			return err
		}
		if ra.Outcome != "" {
			return sportello.Errorf(sportello.CodeInvalidTransition, "the request was already decided (%s)", ra.Outcome)
		}
		who, err := actor(ctx, tx, c)
		if err != nil {
			return err
		}
		ch := &accessChange{tx: tx, t: t, ra: ra, who: who, now: s.db.now()}
		if err := fn(ch); err != nil {
			return err
		}
		out = ch.t
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// save checks the request's clock with its new events, writes the details, moves the ticket's
// deadline with the clock and records which fields changed.
func (ch *accessChange) save(ctx context.Context, fields ...string) error {
	d, err := ch.ra.Clock().Deadline()
	if err != nil {
		return err
	}
	ra := ch.ra
	if _, err := ch.tx.ExecContext(ctx, `UPDATE records_access SET counter_parties = $2, incomplete_notified_at = $3,
		completed_at = $4, counter_notified_at = $5, outcome = $6, outcome_motivation = $7, viewing_from = $8,
		viewing_until = $9, decided_at = $10, public_subject = $11 WHERE ticket_id = $1`,
		ra.TicketID, pq.Array(append([]string{}, ra.CounterParties...)), ra.IncompleteNotifiedAt, ra.CompletedAt,
		ra.CounterNotifiedAt, nullString(string(ra.Outcome)), ra.OutcomeMotivation, dateArg(ra.ViewingFrom),
		dateArg(ra.ViewingUntil), ra.DecidedAt, ra.PublicSubject); err != nil {
		return fmt.Errorf("update records access: %w", err)
	}
	if !d.DueAt.Equal(ch.t.DueAt) {
		fields = append(fields, "dueAt")
	}
	var row ticketRow
	if err := ch.tx.GetContext(ctx, &row, `UPDATE tickets t SET due_at = $2, updated_at = $3 WHERE id = $1
		RETURNING `+ticketColumns, ch.t.ID, d.DueAt, ch.now); err != nil {
		return fmt.Errorf("move deadline: %w", err)
	}
	ch.t = row.ticket()
	return appendEvent(ctx, ch.tx, ch.t, ch.who, sportello.EventUpdated, false, sportello.EventData{Fields: fields}, ch.now)
}

// setStatus moves the ticket, if it is elsewhere, and records the move.
func (ch *accessChange) setStatus(ctx context.Context, to sportello.Status, reason string) error {
	if ch.t.Status == to {
		return nil
	}
	t, err := setStatus(ctx, ch.tx, ch.t, ch.who, to, reason, ch.now)
	if err != nil {
		return err
	}
	ch.t = t
	return nil
}

// NotifyIncomplete tells the applicant what the request lacks. See
// sportello.RecordsAccessService.
func (s *RecordsAccessService) NotifyIncomplete(ctx context.Context, ticketID, note string) (*sportello.Ticket, error) {
	note, err := sportello.NormalizeNote(note)
	if err != nil {
		return nil, err
	}
	return s.change(ctx, ticketID, func(ch *accessChange) error {
		if ch.ra.IncompleteNotifiedAt != nil {
			return sportello.Errorf(sportello.CodeInvalidTransition, "the request was already notified as incomplete")
		}
		ch.ra.IncompleteNotifiedAt = &ch.now
		if err := ch.save(ctx, "recordsAccess.deadline"); err != nil {
			return err
		}
		if _, err := insertMessage(ctx, ch.tx, ch.t, ch.who, note, false, ch.now); err != nil {
			return err
		}
		return ch.setStatus(ctx, sportello.StatusWaitingForCitizen, "")
	})
}

// CompleteRecordsAccess records that the applicant completed the request. See
// sportello.RecordsAccessService.
func (s *RecordsAccessService) CompleteRecordsAccess(ctx context.Context, ticketID string) (*sportello.Ticket, error) {
	return s.change(ctx, ticketID, func(ch *accessChange) error { return complete(ctx, ch) })
}

// complete restarts the clock of an incomplete request and gives it back to the office.
func complete(ctx context.Context, ch *accessChange) error {
	if ch.ra.IncompleteNotifiedAt == nil {
		return sportello.Errorf(sportello.CodeInvalidTransition, "only a request notified as incomplete can be completed")
	}
	if ch.ra.CompletedAt != nil {
		return sportello.Errorf(sportello.CodeInvalidTransition, "the request was already completed")
	}
	ch.ra.CompletedAt = &ch.now
	if err := ch.save(ctx, "recordsAccess.deadline"); err != nil {
		return err
	}
	if ch.t.Status == sportello.StatusWaitingForCitizen {
		return ch.setStatus(ctx, sportello.StatusInProgress, "")
	}
	return nil
}

// completeByReply completes, in the transaction of the applicant's reply, a request that waits
// to be completed: the reply is the completion, and its time restarts the term. Other tickets
// and requests are left alone.
func completeByReply(ctx context.Context, tx *sqlx.Tx, t *sportello.Ticket, who sportello.Actor, now time.Time) (*sportello.Ticket, error) {
	if t.Kind != sportello.KindRecordsAccess || who.Kind != sportello.ActorCitizen {
		return t, nil
	}
	ra, err := getRecordsAccess(ctx, tx, t.ID)
	if err != nil {
		return nil, err
	}
	if ra.IncompleteNotifiedAt == nil || ra.CompletedAt != nil || ra.Outcome != "" {
		return t, nil
	}
	ch := &accessChange{tx: tx, t: t, ra: ra, who: who, now: now}
	ra.CompletedAt = &now
	if err := ch.save(ctx, "recordsAccess.deadline"); err != nil {
		return nil, err
	}
	return ch.t, nil
}

// NotifyCounterParties records the notice to counter-interested parties. See
// sportello.RecordsAccessService.
func (s *RecordsAccessService) NotifyCounterParties(ctx context.Context, ticketID string, parties []string) (*sportello.Ticket, error) {
	parties, err := sportello.NormalizeCounterParties("counterParties", parties)
	if err != nil {
		return nil, err
	}
	return s.change(ctx, ticketID, func(ch *accessChange) error {
		if ch.ra.CounterNotifiedAt != nil {
			return sportello.Errorf(sportello.CodeInvalidTransition, "the counter-interested parties were already notified: the term is suspended once")
		}
		if len(parties) > 0 {
			ch.ra.CounterParties = parties
		}
		if len(ch.ra.CounterParties) == 0 {
			return sportello.InvalidField("counterParties", "name the counter-interested parties notified: the request names none")
		}
		ch.ra.CounterNotifiedAt = &ch.now
		fields := []string{"recordsAccess.deadline"}
		if len(parties) > 0 {
			fields = append(fields, "recordsAccess.counterParties")
		}
		if err := ch.save(ctx, fields...); err != nil {
			return err
		}
		return ch.setStatus(ctx, sportello.StatusInProgress, "")
	})
}

// DecideRecordsAccess records the decision and resolves the ticket. See
// sportello.RecordsAccessService.
func (s *RecordsAccessService) DecideRecordsAccess(ctx context.Context, in sportello.DecideAccessInput) (*sportello.Ticket, error) {
	return s.change(ctx, in.TicketID, func(ch *accessChange) error {
		if err := in.Validate(ch.ra.Type, ch.now); err != nil {
			return err
		}
		if in.PublicSubject != "" {
			ch.ra.PublicSubject = in.PublicSubject
		}
		if ch.ra.PublicSubject == "" {
			return sportello.InvalidField("publicSubject", "describe the request for the public register of accesses, without personal data")
		}
		ra := ch.ra
		ra.Outcome, ra.OutcomeMotivation = in.Outcome, in.Motivation
		ra.ViewingFrom, ra.ViewingUntil, ra.DecidedAt = in.ViewingFrom, in.ViewingUntil, &ch.now
		if err := ch.save(ctx, "recordsAccess.outcome", "recordsAccess.outcomeMotivation", "recordsAccess.viewingFrom",
			"recordsAccess.viewingUntil", "recordsAccess.publicSubject"); err != nil {
			return err
		}
		reason := ""
		if in.Outcome == sportello.AccessDenied {
			reason = in.Motivation
		}
		return ch.setStatus(ctx, in.Outcome.TicketStatus(), reason)
	})
}

// AccessRegister returns the public register of accesses. See sportello.RecordsAccessService.
func (s *RecordsAccessService) AccessRegister(ctx context.Context, from, to sportello.Date) ([]*sportello.AccessRegisterEntry, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := sportello.CheckRegisterRange(from, to); err != nil {
		return nil, err
	}
	// The register covers the requests filed from midnight of from to midnight after to, in Rome.
	start := time.Date(from.Year, from.Month, from.Day, 0, 0, 0, 0, sportello.Rome)
	end := time.Date(to.Year, to.Month, to.Day+1, 0, 0, 0, 0, sportello.Rome)
	// Only what the register publishes is read: nothing about who asked, what they wrote or
	// whom the request concerns.
	var rows []struct {
		Type          string       `db:"type"`
		FiledAt       time.Time    `db:"created_at"`
		PublicSubject string       `db:"public_subject"`
		Outcome       string       `db:"outcome"`
		DecidedAt     sql.NullTime `db:"decided_at"`
	}
	if err := s.db.SelectContext(ctx, &rows, `SELECT r.type, t.created_at, r.public_subject,
		coalesce(r.outcome, '') AS outcome, r.decided_at
		FROM records_access r JOIN tickets t ON t.id = r.ticket_id
		WHERE t.tenant_id = $1 AND r.tenant_id = $1 AND t.created_at >= $2 AND t.created_at < $3
		ORDER BY t.created_at, t.protocol_year, t.protocol_seq`, c.tenantID, start, end); err != nil {
		return nil, fmt.Errorf("access register: %w", err)
	}
	out := make([]*sportello.AccessRegisterEntry, len(rows))
	for i, r := range rows {
		e := &sportello.AccessRegisterEntry{Type: sportello.AccessType(r.Type), RequestDate: sportello.DateOf(r.FiledAt),
			Subject: r.PublicSubject, Outcome: sportello.AccessOutcome(r.Outcome)}
		if r.DecidedAt.Valid {
			d := sportello.DateOf(r.DecidedAt.Time)
			e.DecisionDate = &d
		}
		out[i] = e
	}
	return out, nil
}
