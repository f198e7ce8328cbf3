package sportello

import (
	"strings"
	"testing"
	"time"
)

// day returns 10:00 in Rome on the n-th day after 2 March 2026 (day 0 is the day of filing),
// a span that crosses the change to summer time on 29 March.
func day(n int) *time.Time {
	t := time.Date(2026, 3, 2+n, 10, 0, 0, 0, Rome)
	return &t
}

// endOfDay returns the last instant of the n-th day after 2 March 2026, in Rome.
func endOfDay(n int) time.Time {
	return time.Date(2026, 3, 2+n+1, 0, 0, 0, 0, Rome).Add(-time.Microsecond)
}

func TestAccessClock(t *testing.T) {
	cases := []struct {
		name       string
		clock      AccessClock
		due        time.Time
		stopped    bool
		suspended  int
		events     []ClockEventType
		basisHas   []string
		decidedMsg string
	}{
		{
			name:     "plain 30 days from the protocol date",
			clock:    AccessClock{Type: AccessDocumentale, FiledAt: *day(0)},
			due:      endOfDay(30),
			events:   []ClockEventType{ClockFiled},
			basisHas: []string{"L. 241/1990 art. 25 c. 4"},
		},
		{
			name:     "civic access cites its own law",
			clock:    AccessClock{Type: AccessCivicoGeneralizzato, FiledAt: *day(0)},
			due:      endOfDay(30),
			events:   []ClockEventType{ClockFiled},
			basisHas: []string{"D.lgs 33/2013 art. 5 c. 6"},
		},
		{
			name:    "incomplete, not yet completed: stopped, earliest end from the notice",
			clock:   AccessClock{Type: AccessDocumentale, FiledAt: *day(0), IncompleteNotifiedAt: day(5)},
			due:     endOfDay(35),
			stopped: true,
			events:  []ClockEventType{ClockFiled, ClockIncompleteNotified},
		},
		{
			name:     "incomplete on day 5, completed on day 12: the term restarts from completion",
			clock:    AccessClock{Type: AccessDocumentale, FiledAt: *day(0), IncompleteNotifiedAt: day(5), CompletedAt: day(12)},
			due:      endOfDay(42),
			events:   []ClockEventType{ClockFiled, ClockIncompleteNotified, ClockCompleted},
			basisHas: []string{"DPR 184/2006 art. 6 c. 5"},
		},
		{
			name:     "incomplete notified on the last allowed day",
			clock:    AccessClock{Type: AccessCivicoSemplice, FiledAt: *day(0), IncompleteNotifiedAt: &[]time.Time{endOfDay(10)}[0], CompletedAt: day(11)},
			due:      endOfDay(41),
			events:   []ClockEventType{ClockFiled, ClockIncompleteNotified, ClockCompleted},
			basisHas: []string{"by analogy"},
		},
		{
			name:      "counter-interested parties notified: suspended 10 days",
			clock:     AccessClock{Type: AccessDocumentale, FiledAt: *day(0), CounterNotifiedAt: day(7)},
			due:       endOfDay(40),
			suspended: 10,
			events:    []ClockEventType{ClockFiled, ClockCounterPartiesNotified},
			basisHas:  []string{"DPR 184/2006 art. 3 c. 2"},
		},
		{
			name:      "counter-interested parties of a civic access",
			clock:     AccessClock{Type: AccessCivicoGeneralizzato, FiledAt: *day(0), CounterNotifiedAt: day(30)},
			due:       endOfDay(40),
			suspended: 10,
			events:    []ClockEventType{ClockFiled, ClockCounterPartiesNotified},
			basisHas:  []string{"D.lgs 33/2013 art. 5 c. 5"},
		},
		{
			name: "both: restarted on completion, then suspended",
			clock: AccessClock{Type: AccessDocumentale, FiledAt: *day(0), IncompleteNotifiedAt: day(5), CompletedAt: day(12),
				CounterNotifiedAt: day(15)},
			due:       endOfDay(52),
			suspended: 10,
			events:    []ClockEventType{ClockFiled, ClockIncompleteNotified, ClockCompleted, ClockCounterPartiesNotified},
			basisHas:  []string{"DPR 184/2006 art. 6 c. 5", "DPR 184/2006 art. 3 c. 2"},
		},
		{
			name:       "decided within the term",
			clock:      AccessClock{Type: AccessDocumentale, FiledAt: *day(0), DecidedAt: day(20)},
			due:        endOfDay(30),
			events:     []ClockEventType{ClockFiled, ClockDecided},
			decidedMsg: "decided within the term",
		},
		{
			name:       "decided late",
			clock:      AccessClock{Type: AccessDocumentale, FiledAt: *day(0), DecidedAt: day(31)},
			due:        endOfDay(30),
			events:     []ClockEventType{ClockFiled, ClockDecided},
			decidedMsg: "decided after the term",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := tc.clock.Deadline()
			if err != nil {
				t.Fatalf("Deadline: %v", err)
			}
			if !d.DueAt.Equal(tc.due) {
				t.Errorf("dueAt = %s, want %s", d.DueAt.In(Rome), tc.due.In(Rome))
			}
			if d.Stopped != tc.stopped {
				t.Errorf("stopped = %v, want %v", d.Stopped, tc.stopped)
			}
			if d.SuspendedDays != tc.suspended {
				t.Errorf("suspendedDays = %d, want %d", d.SuspendedDays, tc.suspended)
			}
			var types []ClockEventType
			for _, e := range d.Events {
				types = append(types, e.Type)
			}
			if strings.Join(toStrings(types), ",") != strings.Join(toStrings(tc.events), ",") {
				t.Errorf("events = %v, want %v", types, tc.events)
			}
			if last := d.Events[len(d.Events)-1]; !last.DueAt.Equal(d.DueAt) {
				t.Errorf("the last event leaves dueAt %s, the deadline is %s", last.DueAt.In(Rome), d.DueAt.In(Rome))
			}
			for _, want := range tc.basisHas {
				if !strings.Contains(d.LegalBasis, want) {
					t.Errorf("legalBasis %q does not cite %q", d.LegalBasis, want)
				}
			}
			if tc.decidedMsg != "" && d.Events[len(d.Events)-1].Effect != tc.decidedMsg {
				t.Errorf("decision effect = %q, want %q", d.Events[len(d.Events)-1].Effect, tc.decidedMsg)
			}
		})
	}
}

func toStrings(ts []ClockEventType) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = string(t)
	}
	return out
}

func TestAccessClockDoesNotCountTheFilingDayAndEndsAtMidnightRome(t *testing.T) {
	// Filed one minute before midnight or one minute after it: a whole day apart in the term,
	// as DueAt counts it. 30 days from 2 March end on 1 April, in summer time.
	for _, filed := range []time.Time{
		time.Date(2026, 3, 2, 0, 1, 0, 0, Rome),
		time.Date(2026, 3, 2, 23, 59, 0, 0, Rome),
		time.Date(2026, 3, 2, 22, 30, 0, 0, time.UTC), // 23:30 in Rome
	} {
		d, err := AccessClock{Type: AccessDocumentale, FiledAt: filed}.Deadline()
		if err != nil {
			t.Fatal(err)
		}
		want := time.Date(2026, 4, 1, 21, 59, 59, 999999000, time.UTC)
		if !d.DueAt.Equal(want) || !d.DueAt.Equal(DueAt(filed, AccessTermDays)) {
			t.Errorf("filed %s: dueAt %s, want %s", filed.In(Rome), d.DueAt.In(Rome), want.In(Rome))
		}
	}
}

func TestAccessClockRefusesSequencesTheLawDoesNotAllow(t *testing.T) {
	after10 := endOfDay(10).Add(time.Microsecond) // midnight starting day 11
	cases := []struct {
		name  string
		clock AccessClock
		says  string
	}{
		{"a notice of incompleteness after day 10 is too late",
			AccessClock{Type: AccessDocumentale, FiledAt: *day(0), IncompleteNotifiedAt: &after10}, "within 10 days"},
		{"a notice of incompleteness on day 11 of a civic access",
			AccessClock{Type: AccessCivicoSemplice, FiledAt: *day(0), IncompleteNotifiedAt: day(11)}, "within 10 days"},
		{"completed without a notice",
			AccessClock{Type: AccessDocumentale, FiledAt: *day(0), CompletedAt: day(3)}, "only a request notified as incomplete"},
		{"completed before the notice",
			AccessClock{Type: AccessDocumentale, FiledAt: *day(0), IncompleteNotifiedAt: day(5), CompletedAt: day(4)}, "after it is notified"},
		{"counter-parties while the request waits to be completed",
			AccessClock{Type: AccessDocumentale, FiledAt: *day(0), IncompleteNotifiedAt: day(2), CounterNotifiedAt: day(4)}, "complete it before"},
		{"counter-parties after the term ended",
			AccessClock{Type: AccessDocumentale, FiledAt: *day(0), CounterNotifiedAt: day(31)}, "can no longer suspend"},
		{"incompleteness after counter-parties",
			AccessClock{Type: AccessDocumentale, FiledAt: *day(0), CounterNotifiedAt: day(2), IncompleteNotifiedAt: day(4)}, "already notified"},
		{"an event before the filing",
			AccessClock{Type: AccessDocumentale, FiledAt: *day(3), DecidedAt: day(2)}, "precede its filing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.clock.Deadline()
			if ErrorCode(err) != CodeInvalidTransition || err == nil {
				t.Fatalf("error = %v, want INVALID_TRANSITION", err)
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("error %q does not say %q", err, tc.says)
			}
		})
	}
}

func TestRecordsAccessInputValidation(t *testing.T) {
	long := strings.Repeat("a", MaxAccessTextLen+1)
	cases := []struct {
		name  string
		in    RecordsAccessInput
		field string
	}{
		{"documentary access needs the interest", RecordsAccessInput{Type: AccessDocumentale, Documents: "Pratica edilizia 12/2025"}, "recordsAccess.interest"},
		{"blank interest is no interest", RecordsAccessInput{Type: AccessDocumentale, Interest: "   ", Documents: "x"}, "recordsAccess.interest"},
		{"unknown type", RecordsAccessInput{Type: "FOIA", Documents: "x"}, "recordsAccess.type"},
		{"documents required", RecordsAccessInput{Type: AccessCivicoGeneralizzato, Documents: " "}, "recordsAccess.documents"},
		{"documents bounded", RecordsAccessInput{Type: AccessCivicoGeneralizzato, Documents: long}, "recordsAccess.documents"},
		{"interest bounded", RecordsAccessInput{Type: AccessDocumentale, Interest: long, Documents: "x"}, "recordsAccess.interest"},
		{"motivation bounded", RecordsAccessInput{Type: AccessCivicoSemplice, Documents: "x", Motivation: long}, "recordsAccess.motivation"},
		{"act reference bounded", RecordsAccessInput{Type: AccessCivicoSemplice, Documents: "x", ActReference: long}, "recordsAccess.actReference"},
		{"empty counter-party", RecordsAccessInput{Type: AccessCivicoSemplice, Documents: "x", CounterParties: []string{" "}}, "recordsAccess.counterParties"},
		{"too many counter-parties", RecordsAccessInput{Type: AccessCivicoSemplice, Documents: "x", CounterParties: make([]string, MaxCounterParties+1)}, "recordsAccess.counterParties"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.in.Validate("recordsAccess")
			if e, ok := err.(*Error); !ok || e.Code != CodeBadUserInput || e.Field != tc.field {
				t.Fatalf("error = %v, want BAD_USER_INPUT on %s", err, tc.field)
			}
		})
	}

	civic := RecordsAccessInput{Type: AccessCivicoGeneralizzato, Documents: " Determine 2025 ", CounterParties: []string{" Ditta Alfa ", "Ditta Alfa", "Beta"}}
	if err := civic.Validate("recordsAccess"); err != nil {
		t.Fatalf("civic access without interest or motivation: %v", err)
	}
	if civic.Documents != "Determine 2025" || strings.Join(civic.CounterParties, "|") != "Ditta Alfa|Beta" {
		t.Errorf("normalized to %+v", civic)
	}
}

func TestRecordsAccessDetailsGoWithTheirKindOnly(t *testing.T) {
	details := &RecordsAccessInput{Type: AccessCivicoSemplice, Documents: "Bilancio 2025"}
	cases := []struct {
		name string
		in   SubmitTicketInput
		ok   bool
	}{
		{"records access with details", SubmitTicketInput{Kind: KindRecordsAccess, Subject: "s", Body: "b", RecordsAccess: details}, true},
		{"records access without details", SubmitTicketInput{Kind: KindRecordsAccess, Subject: "s", Body: "b"}, false},
		{"another kind with details", SubmitTicketInput{Kind: KindInformation, Subject: "s", Body: "b", RecordsAccess: details}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.in.Validate()
			if tc.ok && err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if !tc.ok {
				if e, ok := err.(*Error); !ok || e.Code != CodeBadUserInput || e.Field != "recordsAccess" {
					t.Fatalf("error = %v, want BAD_USER_INPUT on recordsAccess", err)
				}
			}
			reg := RegisterTicketInput{Kind: tc.in.Kind, Channel: ChannelPEC, Subject: "s", Body: "b", CitizenID: "c", RecordsAccess: tc.in.RecordsAccess}
			if err := reg.Validate(); (err == nil) != tc.ok {
				t.Fatalf("RegisterTicketInput.Validate = %v, want ok %v", err, tc.ok)
			}
		})
	}
	if KindRecordsAccess.AnonymousAllowed() {
		t.Error("a request for access with legal effects needs the applicant's identity")
	}
}

func TestDecisionRules(t *testing.T) {
	decided := time.Date(2026, 5, 4, 16, 0, 0, 0, Rome)
	date := func(y int, m time.Month, d int) *Date {
		return &Date{y, m, d}
	}
	cases := []struct {
		name  string
		typ   AccessType
		in    DecideAccessInput
		field string // empty: valid
	}{
		{"granted documentary with 15 days", AccessDocumentale,
			DecideAccessInput{Outcome: AccessGranted, ViewingFrom: date(2026, 5, 4), ViewingUntil: date(2026, 5, 18)}, ""},
		{"granted documentary with 14 days", AccessDocumentale,
			DecideAccessInput{Outcome: AccessGranted, ViewingFrom: date(2026, 5, 4), ViewingUntil: date(2026, 5, 17)}, "viewingUntil"},
		{"granted documentary without a period", AccessDocumentale, DecideAccessInput{Outcome: AccessGranted}, "viewingFrom"},
		{"granted documentary without its end", AccessDocumentale,
			DecideAccessInput{Outcome: AccessGranted, ViewingFrom: date(2026, 5, 5)}, "viewingUntil"},
		{"viewing before the decision", AccessDocumentale,
			DecideAccessInput{Outcome: AccessGranted, ViewingFrom: date(2026, 5, 3), ViewingUntil: date(2026, 6, 3)}, "viewingFrom"},
		{"granted civic without a period", AccessCivicoGeneralizzato, DecideAccessInput{Outcome: AccessGranted}, ""},
		{"civic period backwards", AccessCivicoGeneralizzato,
			DecideAccessInput{Outcome: AccessGranted, ViewingFrom: date(2026, 5, 10), ViewingUntil: date(2026, 5, 9)}, "viewingUntil"},
		{"partially granted needs reasons", AccessDocumentale,
			DecideAccessInput{Outcome: AccessPartiallyGranted, ViewingFrom: date(2026, 5, 5), ViewingUntil: date(2026, 5, 30)}, "motivation"},
		{"partially granted with reasons", AccessDocumentale,
			DecideAccessInput{Outcome: AccessPartiallyGranted, Motivation: "Dati di terzi oscurati", ViewingFrom: date(2026, 5, 5), ViewingUntil: date(2026, 5, 30)}, ""},
		{"denied needs reasons", AccessCivicoSemplice, DecideAccessInput{Outcome: AccessDenied, Motivation: " "}, "motivation"},
		{"denied with reasons", AccessCivicoSemplice, DecideAccessInput{Outcome: AccessDenied, Motivation: "Documento già pubblicato"}, ""},
		{"denied has no viewing", AccessDocumentale,
			DecideAccessInput{Outcome: AccessDenied, Motivation: "m", ViewingFrom: date(2026, 5, 5)}, "viewingFrom"},
		{"deferred needs the day access becomes possible", AccessDocumentale,
			DecideAccessInput{Outcome: AccessDeferred, Motivation: "Indagini in corso"}, "viewingFrom"},
		{"deferred to the day of the decision is no deferral", AccessDocumentale,
			DecideAccessInput{Outcome: AccessDeferred, Motivation: "m", ViewingFrom: date(2026, 5, 4)}, "viewingFrom"},
		{"deferred", AccessDocumentale,
			DecideAccessInput{Outcome: AccessDeferred, Motivation: "Gara in corso", ViewingFrom: date(2026, 7, 1)}, ""},
		{"unknown outcome", AccessDocumentale, DecideAccessInput{Outcome: "MAYBE"}, "outcome"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.in.Validate(tc.typ, decided)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if e, ok := err.(*Error); !ok || e.Code != CodeBadUserInput || e.Field != tc.field {
				t.Fatalf("error = %v, want BAD_USER_INPUT on %s", err, tc.field)
			}
		})
	}
	for o, want := range map[AccessOutcome]Status{AccessGranted: StatusResolved, AccessPartiallyGranted: StatusResolved,
		AccessDeferred: StatusResolved, AccessDenied: StatusRejected} {
		if got := o.TicketStatus(); got != want {
			t.Errorf("%s leaves the ticket %s, want %s", o, got, want)
		}
	}
}

func TestRecordsAccessTicketsMoveByTheirDecisionOnly(t *testing.T) {
	open := &Ticket{Kind: KindRecordsAccess, Status: StatusInProgress}
	for _, to := range []Status{StatusResolved, StatusRejected} {
		err := CheckTransition(&Transition{Ticket: open, To: to, Reason: "r", Staff: true})
		if ErrorCode(err) != CodeInvalidTransition {
			t.Errorf("IN_PROGRESS -> %s by transition: %v, want INVALID_TRANSITION", to, err)
		}
	}
	resolved := &Ticket{Kind: KindRecordsAccess, Status: StatusResolved}
	if err := CheckTransition(&Transition{Ticket: resolved, To: StatusInProgress, Staff: true}); ErrorCode(err) != CodeInvalidTransition {
		t.Errorf("reopening a decision: %v, want INVALID_TRANSITION", err)
	}
	if err := CheckTransition(&Transition{Ticket: resolved, To: StatusClosed, Staff: true}); err != nil {
		t.Errorf("closing a decided request: %v", err)
	}
	if err := CheckTransition(&Transition{Ticket: open, To: StatusWaitingForCitizen, Staff: true}); err != nil {
		t.Errorf("waiting for the citizen: %v", err)
	}
}

func TestRegisterRangeAndDates(t *testing.T) {
	from, err := ParseDate("from", "2026-01-01")
	if err != nil {
		t.Fatal(err)
	}
	if from != (Date{2026, 1, 1}) {
		t.Errorf("from = %s", from)
	}
	for _, bad := range []string{"", "2026-1-1", "01/01/2026", "2026-02-30", "2026-01-01T00:00:00Z"} {
		if _, err := ParseDate("to", bad); ErrorCode(err) != CodeBadUserInput {
			t.Errorf("ParseDate(%q) = %v, want BAD_USER_INPUT", bad, err)
		}
	}
	halfYear, _ := ParseDate("to", "2026-06-30")
	if err := CheckRegisterRange(from, halfYear); err != nil {
		t.Errorf("a semester: %v", err)
	}
	if err := CheckRegisterRange(halfYear, from); ErrorCode(err) != CodeBadUserInput {
		t.Errorf("backwards: %v", err)
	}
	tooLong, _ := ParseDate("to", "2027-01-02")
	if err := CheckRegisterRange(from, tooLong); ErrorCode(err) != CodeBadUserInput {
		t.Errorf("over a year: %v", err)
	}
	// 29 March 2026 has 23 hours in Rome: still one calendar day.
	if n := (Date{2026, 3, 29}).DaysUntil(Date{2026, 3, 30}); n != 1 {
		t.Errorf("DaysUntil across the change to summer time = %d", n)
	}
}
