package sportello

import (
	"fmt"
	"testing"
	"time"
)

// mover is who may take a move of the workflow.
type mover int

const (
	byStaff mover = 1 << iota
	byOwner
)

// allStatuses lists the statuses by their names in the schema, written out here rather than taken
// from Statuses so that a status added or renamed in the domain shows up as a failure.
var allStatuses = []Status{"SUBMITTED", "IN_PROGRESS", "WAITING_FOR_CITIZEN", "RESOLVED", "REJECTED", "CLOSED"}

// expectedMoves is the workflow as the office runs it, written independently of the table in
// workflow.go: any pair of statuses not listed here must be refused to everyone.
var expectedMoves = map[[2]Status]mover{
	{"SUBMITTED", "IN_PROGRESS"}:           byStaff,
	{"IN_PROGRESS", "WAITING_FOR_CITIZEN"}: byStaff,
	{"WAITING_FOR_CITIZEN", "IN_PROGRESS"}: byStaff | byOwner,
	{"IN_PROGRESS", "RESOLVED"}:            byStaff,
	{"IN_PROGRESS", "REJECTED"}:            byStaff, // with a reason
	{"RESOLVED", "CLOSED"}:                 byStaff | byOwner,
	{"REJECTED", "CLOSED"}:                 byStaff,
	{"RESOLVED", "IN_PROGRESS"}:            byStaff | byOwner, // the owner within 30 days
}

var workflowNow = time.Date(2026, 5, 20, 11, 0, 0, 0, Rome)

// ticketIn returns a ticket in the status; a resolved one was resolved resolvedAgo before
// workflowNow.
func ticketIn(status Status, resolvedAgo time.Duration) *Ticket {
	tk := &Ticket{ID: "t1", Status: status}
	if status == StatusResolved {
		at := workflowNow.Add(-resolvedAgo)
		tk.ResolvedAt = &at
	}
	return tk
}

func TestCheckTransitionFollowsTheWorkflowTable(t *testing.T) {
	callers := []struct {
		name         string
		staff, owner bool
		may          mover
	}{
		{name: "staff", staff: true, may: byStaff},
		{name: "owner", owner: true, may: byOwner},
		{name: "stranger", may: 0},
		{name: "staff who filed the ticket", staff: true, owner: true, may: byStaff | byOwner},
	}
	for _, c := range callers {
		allowed := 0
		for _, from := range allStatuses {
			for _, to := range allStatuses {
				ok := expectedMoves[[2]Status{from, to}]&c.may != 0
				if ok {
					allowed++
				}
				t.Run(fmt.Sprintf("%s/%s->%s", c.name, from, to), func(t *testing.T) {
					err := CheckTransition(&Transition{
						Ticket: ticketIn(from, 24*time.Hour),
						To:     to,
						Reason: "duplicate of 2026/0000042",
						Staff:  c.staff,
						Owner:  c.owner,
						Now:    workflowNow,
					})
					if ok {
						wantNoError(t, err)
					} else {
						wantError(t, err, CodeInvalidTransition, "")
					}
				})
			}
		}
		// Guard the expected table itself against typos that would make it vacuous.
		want := map[string]int{"staff": 8, "owner": 3, "stranger": 0, "staff who filed the ticket": 8}[c.name]
		if allowed != want {
			t.Errorf("%s: the expected table allows %d moves, want %d", c.name, allowed, want)
		}
	}
}

func TestCheckTransitionNeedsNoReasonExceptForRejection(t *testing.T) {
	for pair, who := range expectedMoves {
		if pair[1] == StatusRejected {
			continue
		}
		t.Run(fmt.Sprintf("%s->%s", pair[0], pair[1]), func(t *testing.T) {
			err := CheckTransition(&Transition{
				Ticket: ticketIn(pair[0], time.Hour),
				To:     pair[1],
				Staff:  who&byStaff != 0,
				Owner:  who&byOwner != 0,
				Now:    workflowNow,
			})
			wantNoError(t, err)
		})
	}
}

func TestCheckTransitionToRejectedRequiresAReason(t *testing.T) {
	cases := []struct {
		name, reason, want string
		code               Code
	}{
		{name: "missing", reason: "", code: CodeBadUserInput},
		{name: "blank", reason: " \t\n ", code: CodeBadUserInput},
		{name: "given", reason: "  Non è di competenza del Comune. \n", want: "Non è di competenza del Comune."},
		{name: "2000 characters", reason: chars(2000), want: chars(2000)},
		{name: "2001 characters", reason: chars(2001), code: CodeBadUserInput},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := &Transition{Ticket: ticketIn(StatusInProgress, 0), To: StatusRejected, Reason: tc.reason, Staff: true, Now: workflowNow}
			err := CheckTransition(tr)
			check(t, err, tc.code, "reason")
			if tc.code == "" && tr.Reason != tc.want {
				t.Errorf("Reason = %q, want it trimmed to %q", tr.Reason, tc.want)
			}
		})
	}
}

func TestCheckTransitionRefusesLongReasonsOnAnyMove(t *testing.T) {
	tr := &Transition{Ticket: ticketIn(StatusSubmitted, 0), To: StatusInProgress, Reason: chars(2001), Staff: true, Now: workflowNow}
	wantError(t, CheckTransition(tr), CodeBadUserInput, "reason")
}

func TestOwnerMayReopenAResolvedTicketOnlyWithin30Days(t *testing.T) {
	day := 24 * time.Hour
	cases := []struct {
		name         string
		resolvedAgo  time.Duration
		staff, owner bool
		ok           bool
	}{
		{name: "owner after a minute", resolvedAgo: time.Minute, owner: true, ok: true},
		{name: "owner after 29 days", resolvedAgo: 29 * day, owner: true, ok: true},
		{name: "owner after exactly 30 days", resolvedAgo: 30 * day, owner: true, ok: true},
		{name: "owner 1s after 30 days", resolvedAgo: 30*day + time.Second, owner: true},
		{name: "owner after 31 days", resolvedAgo: 31 * day, owner: true},
		{name: "owner after a year", resolvedAgo: 365 * day, owner: true},
		{name: "staff after 29 days", resolvedAgo: 29 * day, staff: true, ok: true},
		{name: "staff after 31 days", resolvedAgo: 31 * day, staff: true, ok: true},
		{name: "staff after a year", resolvedAgo: 365 * day, staff: true, ok: true},
		{name: "stranger after a day", resolvedAgo: day},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckTransition(&Transition{
				Ticket: ticketIn(StatusResolved, tc.resolvedAgo),
				To:     StatusInProgress,
				Staff:  tc.staff,
				Owner:  tc.owner,
				Now:    workflowNow,
			})
			if tc.ok {
				wantNoError(t, err)
			} else {
				wantError(t, err, CodeInvalidTransition, "")
			}
		})
	}
}

func TestOwnerMayNotReopenATicketWithoutAResolutionTime(t *testing.T) {
	tk := &Ticket{ID: "t1", Status: StatusResolved}
	wantError(t, CheckTransition(&Transition{Ticket: tk, To: StatusInProgress, Owner: true, Now: workflowNow}), CodeInvalidTransition, "")
	wantNoError(t, CheckTransition(&Transition{Ticket: tk, To: StatusInProgress, Staff: true, Now: workflowNow}))
}

func TestOwnerMayCloseAResolvedTicketAfterTheReopenWindow(t *testing.T) {
	err := CheckTransition(&Transition{Ticket: ticketIn(StatusResolved, 365*24*time.Hour), To: StatusClosed, Owner: true, Now: workflowNow})
	wantNoError(t, err)
}

func TestCheckTransitionRefusesAnUnknownTargetStatus(t *testing.T) {
	for _, to := range []Status{"", "OPEN", "in_progress", "DELETED", "CLOSED "} {
		for _, c := range []struct {
			name         string
			staff, owner bool
		}{{"staff", true, false}, {"owner", false, true}, {"stranger", false, false}} {
			t.Run(fmt.Sprintf("%s/%q", c.name, to), func(t *testing.T) {
				err := CheckTransition(&Transition{Ticket: ticketIn(StatusInProgress, 0), To: to, Staff: c.staff, Owner: c.owner, Now: workflowNow})
				wantError(t, err, CodeBadUserInput, "to")
			})
		}
	}
}
