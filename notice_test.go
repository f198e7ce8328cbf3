package sportello

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestNoticesOfTellTheCitizenWhatTheOfficeDid(t *testing.T) {
	due := time.Date(2026, 12, 26, 23, 59, 59, 0, Rome)
	mine := &Ticket{CitizenID: "c1", Status: StatusInProgress, DueAt: due}
	staff := Actor{Kind: ActorStaff, ID: "s1"}
	citizen := Actor{Kind: ActorCitizen, ID: "c1"}
	cases := []struct {
		name    string
		event   Event
		ticket  *Ticket
		toldDue time.Time
		want    []TicketNotice
	}{
		{"filed", Event{Type: EventCreated, Actor: citizen}, mine, time.Time{}, []TicketNotice{NoticeReceived}},
		{"staff reply", Event{Type: EventMessagePosted, Actor: staff}, mine, due, []TicketNotice{NoticeAnswered}},
		{"internal note", Event{Type: EventMessagePosted, Actor: staff, Internal: true}, mine, due, nil},
		{"the citizen's own reply", Event{Type: EventMessagePosted, Actor: citizen}, mine, due, nil},
		{"waiting", Event{Type: EventStatusChanged, Actor: staff, Data: EventData{ToStatus: StatusWaitingForCitizen}}, mine, due, []TicketNotice{NoticeWaiting}},
		{"resolved", Event{Type: EventStatusChanged, Actor: staff, Data: EventData{ToStatus: StatusResolved}}, mine, due, []TicketNotice{NoticeResolved}},
		{"rejected", Event{Type: EventStatusChanged, Actor: staff, Data: EventData{ToStatus: StatusRejected}}, mine, due, []TicketNotice{NoticeResolved}},
		{"taken in hand", Event{Type: EventStatusChanged, Actor: staff, Data: EventData{ToStatus: StatusInProgress}}, mine, due, nil},
		{"assigned, new deadline", Event{Type: EventAssigned, Actor: staff}, mine, due.AddDate(0, 0, -20), []TicketNotice{NoticeDeadlineChanged}},
		{"anonymous filing", Event{Type: EventCreated}, &Ticket{Status: StatusSubmitted}, time.Time{}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := NoticesOf(&c.event, c.ticket, c.toldDue); !slices.Equal(got, c.want) {
				t.Fatalf("NoticesOf = %v, want %v", got, c.want)
			}
		})
	}
}

func TestRenderNoticeWritesItalianWithTheProtocolNumberAndLink(t *testing.T) {
	for _, n := range TicketNotices {
		title, text, subject, body, err := RenderNotice(NoticeData{Notice: n, Name: "Anna Bianchi", Protocol: "2026/0000042",
			Subject: "Buca", Status: StatusRejected, DueAt: time.Date(2026, 12, 26, 23, 0, 0, 0, Rome), Link: "https://portale/pratiche/1"})
		if err != nil {
			t.Fatal(err)
		}
		if title == "" || !strings.Contains(text, "2026/0000042") || !strings.HasPrefix(subject, "Prot. 2026/0000042") ||
			!strings.HasPrefix(body, "Gentile Anna Bianchi,") || !strings.Contains(body, "https://portale/pratiche/1") {
			t.Fatalf("%s: %q %q %q\n%s", n, title, text, subject, body)
		}
	}
	_, text, _, _, _ := RenderNotice(NoticeData{Notice: NoticeResolved, Protocol: "2026/0000042", Status: StatusRejected})
	if !strings.Contains(text, "respinta") {
		t.Fatalf("rejected: %q", text)
	}
	_, text, _, _, _ = RenderNotice(NoticeData{Notice: NoticeReceived, Protocol: "1", DueAt: time.Date(2026, 12, 26, 23, 0, 0, 0, Rome)})
	if !strings.Contains(text, "26/12/2026") {
		t.Fatalf("received: %q", text)
	}
}
