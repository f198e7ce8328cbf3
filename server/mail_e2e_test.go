package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/netip"
	"net/smtp"
	"strings"
	"testing"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/mailin"
)

const (
	intakeEmail = "urp@comune.example.it"
	intakePEC   = "protocollo@pec.comune.example.it"
)

// startMail runs the server's e-mail intake on a loopback port over the test server's database
// and returns its address.
func (s *testServer) startMail(opts ...func(*Config)) string {
	s.t.Helper()
	cfg := Config{EmailIntakeAddress: intakeEmail, PECIntakeAddress: intakePEC}
	for _, o := range opts {
		o(&cfg)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mailin.Serve(ctx, newMailServer(cfg, s.DB), l) }()
	s.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			s.t.Errorf("mail intake: %v", err)
		}
	})
	return l.Addr().String()
}

// sendMail holds a real SMTP conversation with the intake: from is the envelope sender ("" for
// a bounce's null return path), msg the message with CRLF line ends.
func sendMail(t *testing.T, addr, from, to, msg string) error {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(strings.ReplaceAll(msg, "\n", "\r\n"))); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func mustSend(t *testing.T, addr, from, to, msg string) {
	t.Helper()
	if err := sendMail(t, addr, from, to, msg); err != nil {
		t.Fatalf("send: %v", err)
	}
}

func plainMail(id, from, subject, body string) string {
	return fmt.Sprintf("Message-ID: <%s>\nFrom: %s\nTo: %s\nSubject: %s\nContent-Type: text/plain; charset=utf-8\n\n%s\n",
		id, from, intakeEmail, subject, body)
}

func TestEmailBecomesATicketOnceAndRepliesJoinIt(t *testing.T) {
	s := startServer(t)
	addr := s.startMail()
	operator := s.token(sportello.RoleOperator, "op-1")

	// Base64 in lines of 76 characters, as mail programs write it.
	var photo strings.Builder
	for enc := base64.StdEncoding.EncodeToString(pngPhoto); enc != ""; {
		n := min(76, len(enc))
		photo.WriteString(enc[:n] + "\n")
		enc = enc[n:]
	}
	msg := "Message-ID: <m1@example.it>\nFrom: =?utf-8?q?Anna_Bianchi?= <anna@example.it>\nTo: " + intakeEmail + "\n" +
		"Subject: =?utf-8?q?Buca_in_via_Mazzini_davanti_al_civico_4_=E2=80=93_pericolo?=\nMIME-Version: 1.0\n" +
		"Content-Type: multipart/mixed; boundary=XX\n\n--XX\nContent-Type: text/plain; charset=iso-8859-1\n" +
		"Content-Transfer-Encoding: quoted-printable\n\nC'=E8 una buca profonda.\n--XX\nContent-Type: image/png\n" +
		"Content-Disposition: attachment; filename=buca.png\nContent-Transfer-Encoding: base64\n\n" + photo.String() +
		"--XX\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=virus.exe\n\nMZ\x90\n--XX--\n"
	mustSend(t, addr, "anna@example.it", intakeEmail, msg)
	// The relay delivers the same message again: it is recognized.
	mustSend(t, addr, "anna@example.it", intakeEmail, msg)

	const list = `{ tickets(filter: {channels: [EMAIL, PEC]}) { totalCount edges { node { id protocolNumber kind channel status subject body
		citizen { fullName email } attachments { filename contentType } messages { body author { kind } } } } } }`
	type node struct {
		ID, ProtocolNumber, Kind, Channel, Status, Subject, Body string
		Citizen                                                  struct{ FullName, Email string }
		Attachments                                              []struct{ Filename, ContentType string }
		Messages                                                 []struct {
			Body   string
			Author struct{ Kind string }
		}
	}
	var got struct {
		Tickets struct {
			TotalCount int
			Edges      []struct{ Node node }
		}
	}
	s.ok(operator, list, nil, &got)
	if got.Tickets.TotalCount != 1 {
		t.Fatalf("tickets = %+v", got.Tickets)
	}
	tk := got.Tickets.Edges[0].Node
	if tk.Channel != "EMAIL" || tk.Kind != "INFORMATION" || tk.Subject != "Buca in via Mazzini davanti al civico 4 – pericolo" ||
		!strings.HasPrefix(tk.Body, "C'è una buca profonda.") || !strings.Contains(tk.Body, "Allegato non acquisito: virus.exe") ||
		tk.Citizen.FullName != "Anna Bianchi" || tk.Citizen.Email != "anna@example.it" ||
		len(tk.Attachments) != 1 || tk.Attachments[0].ContentType != "image/png" {
		t.Fatalf("ticket = %+v", tk)
	}

	// The office asks; her reply, whose subject carries the protocol number, joins the ticket.
	s.ok(operator, `mutation($id: ID!) { transitionTicket(ticketId: $id, to: IN_PROGRESS) { status } }`, map[string]any{"id": tk.ID}, nil)
	s.ok(operator, `mutation($id: ID!) { transitionTicket(ticketId: $id, to: WAITING_FOR_CITIZEN) { status } }`, map[string]any{"id": tk.ID}, nil)
	mustSend(t, addr, "anna@example.it", intakeEmail,
		plainMail("m2@example.it", "Anna <ANNA@example.it>", "Re: Prot. "+tk.ProtocolNumber+" - Buca", "Ecco la foto richiesta."))
	// Someone else writing the same number makes a ticket of their own.
	mustSend(t, addr, "luca@example.it", intakeEmail,
		plainMail("m3@example.it", "luca@example.it", "Re: Prot. "+tk.ProtocolNumber, "Anche io ho visto la buca."))

	s.ok(operator, list, nil, &got)
	if got.Tickets.TotalCount != 2 {
		t.Fatalf("tickets = %+v", got.Tickets)
	}
	for _, e := range got.Tickets.Edges {
		switch n := e.Node; n.ID {
		case tk.ID:
			if n.Status != "IN_PROGRESS" || len(n.Messages) != 1 || n.Messages[0].Body != "Ecco la foto richiesta." ||
				n.Messages[0].Author.Kind != "CITIZEN" {
				t.Fatalf("replied ticket = %+v", n)
			}
		default:
			if n.Citizen.Email != "luca@example.it" || n.Body != "Anche io ho visto la buca." {
				t.Fatalf("new ticket = %+v", n)
			}
		}
	}
}

func TestAutomaticMailMakesNoTicket(t *testing.T) {
	s := startServer(t)
	addr := s.startMail()
	cases := []struct {
		name, from, msg string
	}{
		{"null return path", "", plainMail("b1@mx", "MAILER-DAEMON@mx.example.it", "Undelivered Mail", "returned")},
		{"delivery report", "bounces@mx.example.it", "Message-ID: <b2@mx>\nFrom: postmaster@mx.example.it\nSubject: failure\n" +
			"Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n--B\nContent-Type: text/plain\n\nfailed\n--B--\n"},
		{"mailer daemon", "x@mx.example.it", plainMail("b3@mx", "MAILER-DAEMON@mx.example.it", "failure", "failed")},
		{"out of office", "anna@example.it", "Auto-Submitted: auto-replied\n" + plainMail("b4@x", "anna@example.it", "Fuori ufficio", "Rientro lunedì")},
		{"x-autoreply", "anna@example.it", "X-Autoreply: yes\n" + plainMail("b5@x", "anna@example.it", "Assente", "Assente")},
		{"precedence bulk", "news@example.it", "Precedence: bulk\n" + plainMail("b6@x", "news@example.it", "Newsletter", "Novità")},
		{"outlook auto-reply", "anna@example.it", "X-Auto-Response-Suppress: All\n" + plainMail("b7@x", "anna@example.it", "Automatic reply", "Via")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { mustSend(t, addr, c.from, intakeEmail, c.msg) })
	}
	if n := s.count(`SELECT count(*) FROM tickets`) + s.count(`SELECT count(*) FROM citizens`); n != 0 {
		t.Fatalf("automatic mail wrote %d rows", n)
	}
}

func TestPECIntakeReadsTheCertifiedMessage(t *testing.T) {
	s := startServer(t)
	addr := s.startMail()
	inner := "Message-ID: <inner@pec.example.it>\nFrom: Mario Rossi <mario.rossi@pec.example.it>\nSubject: Istanza di accesso\n" +
		"Content-Type: text/plain; charset=utf-8\n\nChiedo copia della delibera 12/2026.\n"
	msg := "Message-ID: <env@pec.provider.it>\nFrom: \"Per conto di: mario.rossi@pec.example.it\" <posta-certificata@pec.provider.it>\n" +
		"Subject: POSTA CERTIFICATA: Istanza di accesso\nX-Trasporto: posta-certificata\nMIME-Version: 1.0\n" +
		"Content-Type: multipart/mixed; boundary=P\n\n--P\nContent-Type: text/plain\n\nMessaggio di posta certificata\n" +
		"--P\nContent-Type: application/xml; name=daticert.xml\nContent-Disposition: attachment; filename=daticert.xml\n\n<postacert/>\n" +
		"--P\nContent-Type: message/rfc822; name=postacert.eml\nContent-Disposition: attachment; filename=postacert.eml\n\n" + inner + "--P--\n"
	mustSend(t, addr, "posta-certificata@pec.provider.it", intakePEC, msg)
	// The provider's receipt of a PEC the office sent is not a request.
	mustSend(t, addr, "posta-certificata@pec.provider.it", intakePEC,
		"X-Ricevuta: avvenuta-consegna\n"+plainMail("r1@pec.provider.it", "posta-certificata@pec.provider.it", "CONSEGNA: Risposta", "Consegnata"))

	var got struct {
		Tickets struct {
			Edges []struct {
				Node struct {
					Channel, Subject, Body string
					Citizen                struct{ FullName, Email string }
				}
			}
		}
	}
	s.ok(s.token(sportello.RoleOperator, "op-1"), `{ tickets { edges { node { channel subject body citizen { fullName email } } } } }`, nil, &got)
	if len(got.Tickets.Edges) != 1 {
		t.Fatalf("tickets = %+v", got)
	}
	if n := got.Tickets.Edges[0].Node; n.Channel != "PEC" || n.Subject != "Istanza di accesso" ||
		n.Body != "Chiedo copia della delibera 12/2026." || n.Citizen.Email != "mario.rossi@pec.example.it" || n.Citizen.FullName != "Mario Rossi" {
		t.Fatalf("ticket = %+v", n)
	}
}

func TestMailIntakeRefusesStrangersAndOtherMailboxes(t *testing.T) {
	s := startServer(t)
	addr := s.startMail()
	err := sendMail(t, addr, "anna@example.it", "sindaco@comune.example.it", plainMail("x1@x", "anna@example.it", "Ciao", "Ciao"))
	if err == nil || !strings.HasPrefix(err.Error(), "550") {
		t.Fatalf("another mailbox: %v", err)
	}
	far := s.startMail(func(c *Config) { c.SMTPRelays = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")} })
	err = sendMail(t, far, "anna@example.it", intakeEmail, plainMail("x2@x", "anna@example.it", "Ciao", "Ciao"))
	if err == nil || !strings.HasPrefix(err.Error(), "554") {
		t.Fatalf("not a relay: %v", err)
	}
	if n := s.count(`SELECT count(*) FROM tickets`); n != 0 {
		t.Fatalf("%d tickets", n)
	}
}
