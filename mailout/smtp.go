// Package mailout sends the office's e-mails to citizens through an SMTP relay.
package mailout

import (
	"context"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"strings"
	"time"

	sportello "github.com/sportello/sportello"
)

// SMTP sends through a relay that accepts the office's mail without authentication, such as
// the municipality's mail server on its own network or a local MTA.
type SMTP struct {
	// Addr is the relay, host:port.
	Addr string
	// From is the sender address.
	From string
	// Timeout bounds one delivery.
	Timeout time.Duration
}

var _ sportello.Mailer = (*SMTP)(nil)

// Send delivers m. See sportello.Mailer.
func (s *SMTP) Send(ctx context.Context, m *sportello.OutgoingMail) error {
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("connect to mail relay: %w", err)
	}
	conn.SetDeadline(time.Now().Add(timeout))
	host, _, _ := net.SplitHostPort(s.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("mail relay: %w", err)
	}
	defer c.Close()
	if err := c.Mail(s.From); err != nil {
		return fmt.Errorf("mail relay: MAIL: %w", err)
	}
	if err := c.Rcpt(m.To); err != nil {
		return fmt.Errorf("mail relay: RCPT: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("mail relay: DATA: %w", err)
	}
	if _, err := w.Write(Compose(s.From, m, time.Now())); err != nil {
		return fmt.Errorf("mail relay: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("mail relay: %w", err)
	}
	return c.Quit()
}

// Compose writes m as a MIME message: UTF-8 text in quoted-printable, the subject in RFC 2047,
// and Auto-Submitted so that auto-replies (and our own intake) do not answer it.
func Compose(from string, m *sportello.OutgoingMail, now time.Time) []byte {
	var b strings.Builder
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", from)
	header("To", m.To)
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", now.In(sportello.Rome).Format(time.RFC1123Z))
	header("Message-ID", m.MessageID)
	header("Auto-Submitted", "auto-generated")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	w := quotedprintable.NewWriter(&b)
	w.Write([]byte(strings.ReplaceAll(m.Body, "\n", "\r\n")))
	w.Close()
	return []byte(b.String())
}
