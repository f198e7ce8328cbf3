package sportello

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// AccessType is the legal ground of a request for access to records (accesso agli atti).
type AccessType string

// The types of access.
const (
	// AccessDocumentale is documentary access (L. 241/1990 art. 22 ff.): the applicant must
	// state a direct, concrete and current interest in the documents.
	AccessDocumentale AccessType = "DOCUMENTALE"
	// AccessCivicoSemplice is simple civic access (D.lgs 33/2013 art. 5 c. 1): anyone may ask
	// for what the municipality should have published and did not.
	AccessCivicoSemplice AccessType = "CIVICO_SEMPLICE"
	// AccessCivicoGeneralizzato is generalized civic access (D.lgs 33/2013 art. 5 c. 2): anyone
	// may ask for any data or document the municipality holds, with no motivation.
	AccessCivicoGeneralizzato AccessType = "CIVICO_GENERALIZZATO"
)

// AccessTypes lists every type of access.
var AccessTypes = []AccessType{AccessDocumentale, AccessCivicoSemplice, AccessCivicoGeneralizzato}

// Valid reports whether t is a known type of access.
func (t AccessType) Valid() bool { return slices.Contains(AccessTypes, t) }

// AccessOutcome is how the office decided a request for access.
type AccessOutcome string

// The outcomes.
const (
	AccessGranted          AccessOutcome = "GRANTED"
	AccessPartiallyGranted AccessOutcome = "PARTIALLY_GRANTED"
	AccessDenied           AccessOutcome = "DENIED"
	// AccessDeferred postpones access to a date the decision sets (DPR 184/2006 art. 9).
	AccessDeferred AccessOutcome = "DEFERRED"
)

// AccessOutcomes lists every outcome.
var AccessOutcomes = []AccessOutcome{AccessGranted, AccessPartiallyGranted, AccessDenied, AccessDeferred}

// Valid reports whether o is a known outcome.
func (o AccessOutcome) Valid() bool { return slices.Contains(AccessOutcomes, o) }

// TicketStatus is the status a decision with this outcome leaves the ticket in. A deferral is
// a decision too: the procedure ends within its term, and the applicant knows from when they
// may see the documents, so the ticket is resolved rather than left open (and overdue).
func (o AccessOutcome) TicketStatus() Status {
	if o == AccessDenied {
		return StatusRejected
	}
	return StatusResolved
}

// The terms of the procedure, in calendar days.
const (
	// AccessTermDays is the term to decide: L. 241/1990 art. 25 c. 4 and DPR 184/2006 art. 6
	// c. 4 for documentary access, D.lgs 33/2013 art. 5 c. 6 for civic access.
	AccessTermDays = 30
	// IncompleteNoticeDays is how long after filing the office may notify that a request is
	// incomplete (DPR 184/2006 art. 6 c. 5); later, the term runs from the filing regardless.
	IncompleteNoticeDays = 10
	// CounterPartySuspensionDays is how long notifying counter-interested parties suspends the
	// term, the time they have to oppose (DPR 184/2006 art. 3 c. 2; D.lgs 33/2013 art. 5 c. 5).
	CounterPartySuspensionDays = 10
	// MinViewingDays is the shortest period a granted documentary access leaves to view the
	// documents (DPR 184/2006 art. 7 c. 4).
	MinViewingDays = 15
)

// Limits on the text of a request for access, in characters.
const (
	MaxAccessTextLen     = 4000
	MaxActReferenceLen   = 500
	MaxCounterParties    = 20
	MaxCounterPartyLen   = 200
	MaxPublicSubjectLen  = MaxSubjectLen
	MaxRegisterRangeDays = 366
)

// RecordsAccessInput is what an applicant asks for in a request for access to records.
type RecordsAccessInput struct {
	Type AccessType
	// Interest is the direct, concrete and current interest a documentary access must state.
	Interest string
	// Documents describes the documents or data asked for.
	Documents string
	// ActReference identifies an act as the applicant wrote it (title, number, year).
	ActReference string
	// ActID is the act asked for, when the applicant found it in the catalogue.
	ActID string
	// Motivation is why the applicant asks; civic access needs none.
	Motivation string
	// CounterParties are people whose interests the access may touch, as the applicant names them.
	CounterParties []string
}

// Validate checks and normalizes the input, naming fields under prefix; it returns
// BAD_USER_INPUT naming the field at fault.
func (in *RecordsAccessInput) Validate(prefix string) error {
	if !in.Type.Valid() {
		return InvalidField(prefix+".type", "unknown type of access %q", in.Type)
	}
	in.Interest = strings.TrimSpace(in.Interest)
	in.Documents = strings.TrimSpace(in.Documents)
	in.ActReference = strings.TrimSpace(in.ActReference)
	in.Motivation = strings.TrimSpace(in.Motivation)
	if in.Type == AccessDocumentale && in.Interest == "" {
		return InvalidField(prefix+".interest", "a documentary access must state the applicant's direct, concrete and current interest (L. 241/1990 art. 22)")
	}
	for _, f := range []struct {
		name     string
		value    string
		min, max int
	}{
		{"interest", in.Interest, 0, MaxAccessTextLen},
		{"documents", in.Documents, 1, MaxAccessTextLen},
		{"actReference", in.ActReference, 0, MaxActReferenceLen},
		{"motivation", in.Motivation, 0, MaxAccessTextLen},
	} {
		if err := checkLen(prefix+"."+f.name, f.value, f.min, f.max); err != nil {
			return err
		}
	}
	parties, err := NormalizeCounterParties(prefix+".counterParties", in.CounterParties)
	if err != nil {
		return err
	}
	in.CounterParties = parties
	return nil
}

// NormalizeCounterParties trims the names of counter-interested parties, drops repeats and
// bounds the list. Errors: BAD_USER_INPUT naming field.
func NormalizeCounterParties(field string, names []string) ([]string, error) {
	if len(names) > MaxCounterParties {
		return nil, InvalidField(field, "at most %d counter-interested parties", MaxCounterParties)
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		n = strings.TrimSpace(n)
		if err := checkLen(field, n, 1, MaxCounterPartyLen); err != nil {
			return nil, err
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// NormalizeNote checks the note that tells an applicant what their request lacks, a reply they
// read. Errors: BAD_USER_INPUT on "note".
func NormalizeNote(note string) (string, error) {
	note = strings.TrimSpace(note)
	return note, checkLen("note", note, 1, MaxBodyLen)
}

// checkRecordsAccess checks that the details of a request for access come with that kind and
// only with it.
func checkRecordsAccess(kind Kind, in *RecordsAccessInput) error {
	switch {
	case kind == KindRecordsAccess && in == nil:
		return InvalidField("recordsAccess", "a %s needs its details: type, documents and, for DOCUMENTALE, the interest", kind)
	case kind != KindRecordsAccess && in != nil:
		return InvalidField("recordsAccess", "only a %s has these details, not a %s", KindRecordsAccess, kind)
	case in == nil:
		return nil
	}
	return in.Validate("recordsAccess")
}

// RecordsAccess is the request-specific part of a ticket of kind RECORDS_ACCESS: what is asked
// for, the events that move its legal clock, and the decision.
type RecordsAccess struct {
	TicketID       string
	TenantID       string
	Type           AccessType
	Interest       string
	Documents      string
	ActReference   string
	ActID          string // the act in the catalogue, once linked
	Motivation     string
	CounterParties []string // nil when the caller may not see them (citizens)

	FiledAt              time.Time // the protocol date: when the ticket was filed
	IncompleteNotifiedAt *time.Time
	CompletedAt          *time.Time
	CounterNotifiedAt    *time.Time

	Outcome           AccessOutcome // empty until decided
	OutcomeMotivation string
	ViewingFrom       *Date
	ViewingUntil      *Date
	DecidedAt         *time.Time
	// PublicSubject is the subject of the request as the office describes it in the public
	// register of accesses, written by staff so that no personal data is published.
	PublicSubject string
}

// Clock returns the events of the request that move its legal clock.
func (r *RecordsAccess) Clock() AccessClock {
	return AccessClock{Type: r.Type, FiledAt: r.FiledAt, IncompleteNotifiedAt: r.IncompleteNotifiedAt,
		CompletedAt: r.CompletedAt, CounterNotifiedAt: r.CounterNotifiedAt, DecidedAt: r.DecidedAt}
}

// AccessClock is the events of a request for access that decide its deadline.
type AccessClock struct {
	Type                 AccessType
	FiledAt              time.Time
	IncompleteNotifiedAt *time.Time
	CompletedAt          *time.Time
	CounterNotifiedAt    *time.Time
	DecidedAt            *time.Time
}

// ClockEventType is what happened to the legal clock of a request for access.
type ClockEventType string

// The clock events.
const (
	ClockFiled                  ClockEventType = "FILED"
	ClockIncompleteNotified     ClockEventType = "INCOMPLETE_NOTIFIED"
	ClockCompleted              ClockEventType = "COMPLETED"
	ClockCounterPartiesNotified ClockEventType = "COUNTER_PARTIES_NOTIFIED"
	ClockDecided                ClockEventType = "DECIDED"
)

// ClockEvent is one step of the computation of a deadline.
type ClockEvent struct {
	Type ClockEventType
	At   time.Time
	// DueAt is the deadline as it stood after the event.
	DueAt time.Time
	// Effect says, in words, what the event did to the term.
	Effect string
}

// AccessDeadline is the deadline of a request for access and how it was computed.
type AccessDeadline struct {
	// DueAt is the end of the term: midnight, Europe/Rome, of its last day. While the request
	// waits to be completed (Stopped) the term does not run, and DueAt is the earliest it can
	// end: the deadline if the request had been completed on the day of the notice.
	DueAt         time.Time
	Stopped       bool
	LegalBasis    string
	SuspendedDays int
	Events        []ClockEvent
}

// Deadline computes the deadline from the clock's events. It is also the check of each new
// event: it returns INVALID_TRANSITION, with the reason, for a sequence the law does not allow
// (a notice of incompleteness after its 10 days, a completion without a notice, a suspension
// of a term that is not running), because the same request could not make it valid at another
// time, whatever its input.
func (c AccessClock) Deadline() (*AccessDeadline, error) {
	for _, at := range []*time.Time{c.IncompleteNotifiedAt, c.CompletedAt, c.CounterNotifiedAt, c.DecidedAt} {
		if at != nil && at.Before(c.FiledAt) {
			return nil, Errorf(CodeInvalidTransition, "an event of the request cannot precede its filing")
		}
	}
	civic := c.Type != AccessDocumentale
	d := &AccessDeadline{}
	start, days := c.FiledAt, AccessTermDays
	basis := []string{"30 days from the protocol date, the day of filing not counted (L. 241/1990 art. 25 c. 4; DPR 184/2006 art. 6 c. 4)"}
	if civic {
		basis[0] = "30 days from the protocol date, the day of filing not counted (D.lgs 33/2013 art. 5 c. 6)"
	}
	d.Events = append(d.Events, ClockEvent{Type: ClockFiled, At: c.FiledAt, DueAt: DueAt(start, days),
		Effect: "the term of 30 calendar days starts the day after the protocol date"})

	switch {
	case c.IncompleteNotifiedAt != nil:
		notified := *c.IncompleteNotifiedAt
		if limit := DueAt(c.FiledAt, IncompleteNoticeDays); notified.After(limit) {
			return nil, Errorf(CodeInvalidTransition, "a request can be notified as incomplete only within %d days of its protocol date (by %s): the term runs from the filing",
				IncompleteNoticeDays, limit.In(Rome).Format("02/01/2006"))
		}
		if c.CounterNotifiedAt != nil && c.CounterNotifiedAt.Before(notified) {
			return nil, Errorf(CodeInvalidTransition, "counter-interested parties were already notified: a request is notified as incomplete before that")
		}
		start = notified
		d.Stopped = true
		d.Events = append(d.Events, ClockEvent{Type: ClockIncompleteNotified, At: notified, DueAt: DueAt(start, days),
			Effect: "the request is incomplete: the term stops and starts again, in full, when the request is completed"})
		if c.CompletedAt != nil {
			if c.CompletedAt.Before(notified) {
				return nil, Errorf(CodeInvalidTransition, "a request is completed after it is notified as incomplete")
			}
			start = *c.CompletedAt
			d.Stopped = false
			d.Events = append(d.Events, ClockEvent{Type: ClockCompleted, At: start, DueAt: DueAt(start, days),
				Effect: "the request is complete: the term of 30 days starts again the day after"})
			if civic {
				basis = append(basis, "restarted from the completion of the request (DPR 184/2006 art. 6 c. 5, applied to civic access by analogy)")
			} else {
				basis = append(basis, "restarted from the completion of the request (DPR 184/2006 art. 6 c. 5)")
			}
		}
	case c.CompletedAt != nil:
		return nil, Errorf(CodeInvalidTransition, "only a request notified as incomplete can be completed")
	}

	if c.CounterNotifiedAt != nil {
		at := *c.CounterNotifiedAt
		if d.Stopped {
			return nil, Errorf(CodeInvalidTransition, "the request waits to be completed and its term is not running: complete it before notifying counter-interested parties")
		}
		if due := DueAt(start, days); at.After(due) {
			return nil, Errorf(CodeInvalidTransition, "the term ended on %s: notifying counter-interested parties can no longer suspend it",
				due.In(Rome).Format("02/01/2006"))
		}
		days += CounterPartySuspensionDays
		d.SuspendedDays = CounterPartySuspensionDays
		d.Events = append(d.Events, ClockEvent{Type: ClockCounterPartiesNotified, At: at, DueAt: DueAt(start, days),
			Effect: fmt.Sprintf("counter-interested parties notified: the term is suspended for the %d days they have to oppose", CounterPartySuspensionDays)})
		if civic {
			basis = append(basis, "suspended 10 days for the counter-interested parties (D.lgs 33/2013 art. 5 c. 5)")
		} else {
			basis = append(basis, "suspended 10 days for the counter-interested parties (DPR 184/2006 art. 3 c. 2)")
		}
	}

	d.DueAt = DueAt(start, days)
	if c.DecidedAt != nil {
		effect := "decided within the term"
		if c.DecidedAt.After(d.DueAt) {
			effect = "decided after the term"
		}
		d.Events = append(d.Events, ClockEvent{Type: ClockDecided, At: *c.DecidedAt, DueAt: d.DueAt, Effect: effect})
	}
	d.LegalBasis = strings.Join(basis, "; ")
	return d, nil
}

// DecideAccessInput is the office's decision on a request for access.
type DecideAccessInput struct {
	TicketID   string
	Outcome    AccessOutcome
	Motivation string
	// ViewingFrom and ViewingUntil are the days of the period to view the documents; for a
	// deferral, ViewingFrom is the day access becomes possible.
	ViewingFrom  *Date
	ViewingUntil *Date
	// PublicSubject describes the request in the public register of accesses, with no
	// personal data. Required unless the request already has one.
	PublicSubject string
}

// Validate checks the decision on a request of type typ decided at decidedAt; it returns
// BAD_USER_INPUT naming the field at fault. Anything but GRANTED needs a motivation (L.
// 241/1990 art. 25 c. 3); a documentary access granted in full or in part gives at least 15
// days to view the documents; a deferral says when access becomes possible.
func (in *DecideAccessInput) Validate(typ AccessType, decidedAt time.Time) error {
	if !in.Outcome.Valid() {
		return InvalidField("outcome", "unknown outcome %q", in.Outcome)
	}
	in.Motivation = strings.TrimSpace(in.Motivation)
	in.PublicSubject = strings.TrimSpace(in.PublicSubject)
	if err := checkLen("motivation", in.Motivation, 0, MaxAccessTextLen); err != nil {
		return err
	}
	if err := checkLen("publicSubject", in.PublicSubject, 0, MaxPublicSubjectLen); err != nil {
		return err
	}
	if in.Outcome != AccessGranted && in.Motivation == "" {
		return InvalidField("motivation", "a decision other than GRANTED must give its reasons")
	}
	today := DateOf(decidedAt)
	from, until := in.ViewingFrom, in.ViewingUntil
	switch in.Outcome {
	case AccessDenied:
		if from != nil {
			return InvalidField("viewingFrom", "a denied access has no viewing period")
		}
		if until != nil {
			return InvalidField("viewingUntil", "a denied access has no viewing period")
		}
		return nil
	case AccessDeferred:
		if from == nil {
			return InvalidField("viewingFrom", "a deferral must say from which day access is possible (DPR 184/2006 art. 9 c. 3)")
		}
		if from.Compare(today) <= 0 {
			return InvalidField("viewingFrom", "a deferral postpones access to a day after the decision")
		}
	default:
		if typ == AccessDocumentale && from == nil {
			return InvalidField("viewingFrom", "a granted documentary access gives a period to view the documents")
		}
		if typ == AccessDocumentale && until == nil {
			return InvalidField("viewingUntil", "a granted documentary access gives a period to view the documents")
		}
		if from != nil && from.Compare(today) < 0 {
			return InvalidField("viewingFrom", "must not be before the day of the decision")
		}
	}
	if until != nil && from == nil {
		return InvalidField("viewingFrom", "give the first day of the viewing period with its last")
	}
	if until != nil && from.DaysUntil(*until) < 0 {
		return InvalidField("viewingUntil", "must not be before viewingFrom")
	}
	if typ == AccessDocumentale && until != nil && from.DaysUntil(*until)+1 < MinViewingDays {
		return InvalidField("viewingUntil", "the period to view the documents is at least %d days (DPR 184/2006 art. 7 c. 4)", MinViewingDays)
	}
	return nil
}

// AccessRegisterEntry is one line of the public register of accesses (registro degli accessi):
// what was asked, when and with what outcome, and nothing about who asked.
type AccessRegisterEntry struct {
	Type        AccessType
	RequestDate Date // the day the request was filed, in Rome
	// Subject is the request's public subject, written by the office; empty until the office
	// describes the request.
	Subject      string
	Outcome      AccessOutcome // empty while the request is pending
	DecisionDate *Date         // the day of the decision, in Rome
}

// CheckRegisterRange checks the days of a register: from and to are dates, both included. It
// returns BAD_USER_INPUT naming the field at fault.
func CheckRegisterRange(from, to Date) error {
	n := from.DaysUntil(to)
	if n < 0 {
		return InvalidField("to", "must not be before from")
	}
	if n+1 > MaxRegisterRangeDays {
		return InvalidField("to", "a register covers at most %d days", MaxRegisterRangeDays)
	}
	return nil
}

// RecordsAccessService handles requests for access to records and publishes their register.
// Requests are filed as tickets of kind RECORDS_ACCESS through TicketService. Every method
// authorizes the caller in ctx; a ticket the caller may not see is NOT_FOUND.
type RecordsAccessService interface {
	// RecordsAccessByTicket returns the details of the requests among ticketIDs that the caller
	// may see; other tickets are absent. Counter-interested parties are shown to staff only.
	RecordsAccessByTicket(ctx context.Context, ticketIDs []string) (map[string]*RecordsAccess, error)
	// NotifyIncomplete tells the applicant what the request lacks: the note is a reply on the
	// ticket, the ticket waits for the citizen and the term stops until the request is
	// completed. Errors: BAD_USER_INPUT (note), UNAUTHENTICATED, FORBIDDEN, NOT_FOUND,
	// INVALID_TRANSITION (not a request for access, decided, already notified, or after the
	// 10 days the law allows).
	NotifyIncomplete(ctx context.Context, ticketID, note string) (*Ticket, error)
	// CompleteRecordsAccess records that the applicant completed the request (at the desk, by
	// PEC or post; a citizen's reply in the app completes it by itself): the term starts
	// again. Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, INVALID_TRANSITION.
	CompleteRecordsAccess(ctx context.Context, ticketID string) (*Ticket, error)
	// NotifyCounterParties records that the counter-interested parties were notified, which
	// suspends the term for 10 days; parties, when given, replace the list. Errors:
	// BAD_USER_INPUT (parties), UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, INVALID_TRANSITION
	// (already notified, term stopped or ended, decided).
	NotifyCounterParties(ctx context.Context, ticketID string, parties []string) (*Ticket, error)
	// DecideRecordsAccess records the decision and resolves the ticket: RESOLVED for GRANTED,
	// PARTIALLY_GRANTED and DEFERRED, REJECTED (with the motivation) for DENIED. Errors:
	// BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, INVALID_TRANSITION (already
	// decided, ticket no longer open).
	DecideRecordsAccess(ctx context.Context, in DecideAccessInput) (*Ticket, error)
	// AccessRegister returns the register of the requests filed from one day to another (both
	// included, Europe/Rome), oldest first. Anyone may read it. Errors: BAD_USER_INPUT.
	AccessRegister(ctx context.Context, from, to Date) ([]*AccessRegisterEntry, error)
}

// checkAccessTransition keeps the outcome of a request for access in its decision: such a
// ticket is resolved or rejected only by DecideRecordsAccess, which records the outcome the
// register publishes, and a decision is not reopened (the remedies are a review or an appeal).
// It returns INVALID_TRANSITION.
func checkAccessTransition(t *Ticket, to Status) error {
	if t.Kind != KindRecordsAccess {
		return nil
	}
	if to == StatusResolved || to == StatusRejected {
		return Errorf(CodeInvalidTransition, "a request for access to records is resolved or rejected by its decision: use decideRecordsAccess")
	}
	if !t.Status.Open() && to.Open() {
		return Errorf(CodeInvalidTransition, "a decision on access to records is not reopened: the applicant may ask for a review or appeal")
	}
	return nil
}
