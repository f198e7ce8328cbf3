package sportello

import (
	"strings"
	"time"
)

// ReopenWindow is how long after resolution a citizen may reopen their ticket.
const ReopenWindow = 30 * 24 * time.Hour

// move is one allowed step of the workflow and who may take it.
type move struct {
	from, to Status
	staff    bool // staff (operators, managers, admins) may take it
	owner    bool // the citizen who filed the ticket may take it
	reason   bool // a reason is required
}

// workflow is the whole table of allowed moves; any other move is INVALID_TRANSITION.
var workflow = []move{
	{from: StatusSubmitted, to: StatusInProgress, staff: true},
	{from: StatusInProgress, to: StatusWaitingForCitizen, staff: true},
	{from: StatusWaitingForCitizen, to: StatusInProgress, staff: true, owner: true},
	{from: StatusInProgress, to: StatusResolved, staff: true},
	{from: StatusInProgress, to: StatusRejected, staff: true, reason: true},
	{from: StatusResolved, to: StatusClosed, staff: true, owner: true},
	{from: StatusRejected, to: StatusClosed, staff: true},
	// Reopening: the owner within ReopenWindow of the resolution, staff at any time.
	{from: StatusResolved, to: StatusInProgress, staff: true, owner: true},
}

// Transition is a requested change of status, checked by CheckTransition.
type Transition struct {
	Ticket *Ticket
	To     Status
	Reason string
	Staff  bool // the caller is staff
	Owner  bool // the caller is the citizen who filed the ticket
	Now    time.Time
}

// CheckTransition returns nil when the caller may move the ticket to the new status, or an
// error: BAD_USER_INPUT (unknown status, missing or long reason), INVALID_TRANSITION (a move the
// workflow does not have, or one this caller may not take).
func CheckTransition(tr *Transition) error {
	if !tr.To.Valid() {
		return InvalidField("to", "unknown status %q", tr.To)
	}
	tr.Reason = strings.TrimSpace(tr.Reason)
	if err := checkLen("reason", tr.Reason, 0, MaxReasonLen); err != nil {
		return err
	}
	from := tr.Ticket.Status
	if err := checkAccessTransition(tr.Ticket, tr.To); err != nil {
		return err
	}
	for _, m := range workflow {
		if m.from != from || m.to != tr.To {
			continue
		}
		if !(tr.Staff && m.staff) && !(tr.Owner && m.owner) {
			return Errorf(CodeInvalidTransition, "you may not move a ticket from %s to %s", from, tr.To)
		}
		if m.reason && tr.Reason == "" {
			return InvalidField("reason", "a reason is required to move a ticket to %s", tr.To)
		}
		if from == StatusResolved && tr.To == StatusInProgress && !tr.Staff {
			if tr.Ticket.ResolvedAt == nil || tr.Now.Sub(*tr.Ticket.ResolvedAt) > ReopenWindow {
				return Errorf(CodeInvalidTransition, "a resolved ticket can be reopened within 30 days of its resolution")
			}
		}
		return nil
	}
	return Errorf(CodeInvalidTransition, "a ticket cannot move from %s to %s", from, tr.To)
}
