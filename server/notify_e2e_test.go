package main

import (
	"context"
	"io"
	"mime"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
)

// smtpSink is a local mail server that keeps what it receives, and refuses everything while it
// is down.
type smtpSink struct {
	addr string
	mu   sync.Mutex
	down bool
	got  []*mail.Message
	raw  []string
}

func startSink(t *testing.T) *smtpSink {
	t.Helper()
	sink := &smtpSink{}
	srv := smtp.NewServer(sink)
	srv.Domain = "sink.test"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sink.addr = l.Addr().String()
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return sink
}

func (k *smtpSink) setDown(down bool) {
	k.mu.Lock()
	k.down = down
	k.mu.Unlock()
}

// mails returns the messages received so far whose subject contains s.
func (k *smtpSink) mails(s string) []*mail.Message {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []*mail.Message
	for _, m := range k.got {
		if subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject")); strings.Contains(subject, s) {
			out = append(out, m)
		}
	}
	return out
}

func (k *smtpSink) NewSession(*smtp.Conn) (smtp.Session, error) { return &sinkSession{k: k}, nil }

type sinkSession struct{ k *smtpSink }

func (s *sinkSession) Reset()        {}
func (s *sinkSession) Logout() error { return nil }
func (s *sinkSession) Mail(string, *smtp.MailOptions) error {
	s.k.mu.Lock()
	defer s.k.mu.Unlock()
	if s.k.down {
		return &smtp.SMTPError{Code: 421, Message: "down for maintenance"}
	}
	return nil
}
func (s *sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := mail.ReadMessage(strings.NewReader(string(b)))
	if err != nil {
		return err
	}
	s.k.mu.Lock()
	s.k.got = append(s.k.got, m)
	s.k.raw = append(s.k.raw, string(b))
	s.k.mu.Unlock()
	return nil
}

// notifier returns the server's notifier over the test database, sending to sink, with waits
// short enough for a test.
func (s *testServer) notifier(sink *smtpSink) *db.Notifier {
	n := newNotifier(Config{SMTPRelayAddr: sink.addr, MailFrom: "urp@comune.example.it", PortalURL: "https://portale.example.it"}, s.DB)
	n.RetryBase, n.RetryMax = time.Millisecond, 4*time.Millisecond
	return n
}

// runUntil runs the notifiers together, round after round, until done or a generous bound of
// rounds.
func runUntil(t *testing.T, done func() bool, notifiers ...*db.Notifier) {
	t.Helper()
	for range 200 {
		var wg sync.WaitGroup
		for _, n := range notifiers {
			wg.Go(func() {
				if err := n.RunOnce(context.Background()); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if done() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the notifiers never got there")
}

func TestCitizenIsToldByEmailAndInTheAppOnceEvenWhenTheMailServerWasDown(t *testing.T) {
	s := startServer(t)
	sink := startSink(t)
	a, b := s.notifier(sink), s.notifier(sink)
	citizen := s.token(sportello.RoleCitizen, "cit-1")
	operator := s.token(sportello.RoleOperator, "op-1")

	sub := s.submit(citizen, ticketInput("INFORMATION", "Rinnovo carta d'identità"))
	id, protocol := sub.SubmitTicket.Ticket.ID, sub.SubmitTicket.ProtocolNumber
	runUntil(t, func() bool { return len(sink.mails("Richiesta ricevuta")) == 1 }, a, b)
	m := sink.mails("Richiesta ricevuta")[0]
	body, _ := io.ReadAll(m.Body)
	text := strings.ReplaceAll(string(body), "=\r\n", "")
	if m.Header.Get("To") != "cit-1@example.it" ||
		!strings.Contains(text, protocol) || !strings.Contains(text, "https://portale.example.it/pratiche/"+id) ||
		m.Header.Get("Auto-Submitted") != "auto-generated" {
		t.Fatalf("mail: %v\n%s", m.Header, text)
	}

	// An internal note tells the citizen nothing; a reply does.
	s.ok(operator, `mutation($id: ID!) { postTicketMessage(ticketId: $id, body: "Nota interna", internal: true) { id } }`, map[string]any{"id": id}, nil)
	s.ok(operator, `mutation($id: ID!) { postTicketMessage(ticketId: $id, body: "Serve una fototessera") { id } }`, map[string]any{"id": id}, nil)
	runUntil(t, func() bool { return len(sink.mails("Nuova risposta")) == 1 }, a, b)

	// The mail server is down: the notice waits, retried, and goes out once when it is back.
	sink.setDown(true)
	s.ok(operator, `mutation($id: ID!) { transitionTicket(ticketId: $id, to: IN_PROGRESS) { status } }`, map[string]any{"id": id}, nil)
	s.ok(operator, `mutation($id: ID!) { transitionTicket(ticketId: $id, to: WAITING_FOR_CITIZEN) { status } }`, map[string]any{"id": id}, nil)
	runUntil(t, func() bool {
		return s.count(`SELECT count(*) FROM notification_deliveries WHERE notice = 'WAITING_FOR_CITIZEN' AND channel = 'EMAIL' AND attempts >= 3`) == 1
	}, a, b)
	if n := len(sink.mails("attende")); n != 0 {
		t.Fatalf("%d mails while the server was down", n)
	}
	sink.setDown(false)
	runUntil(t, func() bool { return len(sink.mails("attende")) > 0 }, a, b)
	for range 5 {
		a.RunOnce(context.Background())
		b.RunOnce(context.Background())
	}
	if n := len(sink.mails("attende")); n != 1 {
		t.Fatalf("the notice went out %d times", n)
	}
	if n := len(sink.raw); n != 3 {
		t.Fatalf("%d mails in all, want 3", n)
	}

	// The app has a notification for each notice.
	var got struct {
		Notifications struct {
			Edges []struct {
				Node struct{ Kind, Title, Link string }
			}
		}
		UnreadNotificationCount int
	}
	s.ok(citizen, `{ notifications { edges { node { kind title link } } } unreadNotificationCount }`, nil, &got)
	if got.UnreadNotificationCount != 3 || got.Notifications.Edges[0].Node.Kind != sportello.NotificationKindTicket ||
		got.Notifications.Edges[0].Node.Link != "/pratiche/"+id {
		t.Fatalf("notifications = %+v", got)
	}
}

func TestNothingIsSentToACitizenWhoOptedOut(t *testing.T) {
	s := startServer(t)
	sink := startSink(t)
	n := s.notifier(sink)
	citizen := s.token(sportello.RoleCitizen, "cit-1")
	operator := s.token(sportello.RoleOperator, "op-1")
	manager := s.token(sportello.RoleManager, "man-1")

	const set = `mutation($in: NotificationPreferencesInput!) { setNotificationPreferences(input: $in) { emailNotices app } }`
	s.fails(citizen, set, map[string]any{"in": map[string]any{"emailNotices": []string{"SOMETIMES"}, "app": true}}, sportello.CodeBadUserInput, "")
	s.fails(operator, set, map[string]any{"in": map[string]any{"emailNotices": []string{}, "app": true}}, sportello.CodeForbidden, "")
	var prefs struct {
		NotificationPreferences struct {
			EmailNotices []string
			App          bool
		}
	}
	s.ok(citizen, `{ notificationPreferences { emailNotices app } }`, nil, &prefs)
	if len(prefs.NotificationPreferences.EmailNotices) != len(sportello.TicketNotices) || !prefs.NotificationPreferences.App {
		t.Fatalf("default preferences = %+v", prefs)
	}
	// E-mail only for the deadline, nothing in the app.
	s.ok(citizen, set, map[string]any{"in": map[string]any{"emailNotices": []string{"DEADLINE_CHANGED"}, "app": false}}, nil)

	sub := s.submit(citizen, ticketInput("INFORMATION", "Tassa rifiuti"))
	id := sub.SubmitTicket.Ticket.ID
	// The notice of receipt (which this citizen does not want) records the deadline it gives.
	runUntil(t, func() bool { return s.count(`SELECT count(*) FROM ticket_notice_state`) == 1 }, n)
	var officeID string
	if err := s.DB.Get(&officeID, `INSERT INTO offices (tenant_id, name) VALUES ($1, 'Tributi') RETURNING id`, sportello.DefaultTenantID); err != nil {
		t.Fatal(err)
	}
	s.ok(manager, `mutation($o: ID!) { setResponseTerm(kind: INFORMATION, officeId: $o, days: 10) { days } }`, map[string]any{"o": officeID}, nil)
	s.ok(operator, `mutation($id: ID!, $o: ID!) { assignTicket(ticketId: $id, officeId: $o) { dueAt } }`, map[string]any{"id": id, "o": officeID}, nil)
	s.ok(operator, `mutation($id: ID!) { postTicketMessage(ticketId: $id, body: "Risposta") { id } }`, map[string]any{"id": id}, nil)
	runUntil(t, func() bool { return len(sink.mails("Nuova scadenza")) == 1 }, n)
	for range 3 {
		n.RunOnce(context.Background())
	}
	if got := len(sink.raw); got != 1 {
		t.Fatalf("%d mails, want only the deadline's", got)
	}
	if c := s.count(`SELECT count(*) FROM notifications`); c != 0 {
		t.Fatalf("%d app notifications for a citizen who turned them off", c)
	}
}
