// Package mailin is the e-mail and PEC intake: an SMTP listener that the office's mail server
// forwards the messages of its mailboxes to, which become tickets through sportello.MailIntake.
package mailin

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
	sportello "github.com/sportello/sportello"
)

// Config says which messages the intake takes and where they go.
type Config struct {
	// Domain is the name the listener greets with.
	Domain string
	// EmailAddress and PECAddress are the recipients accepted: messages to the first become
	// tickets of channel EMAIL, to the second of channel PEC. Others are refused (550).
	EmailAddress string
	PECAddress   string
	// Relays are the networks of the mail servers allowed to deliver; others are refused
	// (554) before they can say anything. Empty means loopback only.
	Relays []netip.Prefix
	// TenantID is the municipality the mailboxes belong to.
	TenantID string
	// MaxMessageBytes bounds a message: as many attachments as a ticket takes, in base64.
	MaxMessageBytes int64
	Intake          sportello.MailIntake
}

// DefaultMaxMessageBytes fits a ticket's attachments at their largest in base64, and the text.
const DefaultMaxMessageBytes = sportello.MaxAttachments*sportello.MaxAttachmentSize*4/3 + 1<<20

// New returns the intake's SMTP server; Serve it on a listener.
func New(cfg Config) *smtp.Server {
	if len(cfg.Relays) == 0 {
		cfg.Relays = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}
	if cfg.MaxMessageBytes == 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	s := smtp.NewServer(&backend{cfg: cfg})
	s.Domain = cfg.Domain
	s.MaxMessageBytes = cfg.MaxMessageBytes
	s.MaxRecipients = 10
	s.ReadTimeout = time.Minute
	s.WriteTimeout = time.Minute
	return s
}

type backend struct{ cfg Config }

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	addr, _ := netip.ParseAddrPort(c.Conn().RemoteAddr().String())
	ip := addr.Addr().Unmap()
	for _, p := range b.cfg.Relays {
		if p.Contains(ip) {
			return &session{cfg: &b.cfg}, nil
		}
	}
	slog.Warn("mail intake: refused a client that is not a relay", "remote", c.Conn().RemoteAddr().String())
	return nil, &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "not a relay of this office"}
}

type session struct {
	cfg        *Config
	returnPath string
	channel    sportello.Channel
}

func (s *session) Reset() { s.returnPath, s.channel = "", "" }

func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.returnPath = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	switch {
	case s.cfg.PECAddress != "" && strings.EqualFold(to, s.cfg.PECAddress):
		// A message to both mailboxes is a PEC: its delivery has legal value.
		s.channel = sportello.ChannelPEC
	case s.cfg.EmailAddress != "" && strings.EqualFold(to, s.cfg.EmailAddress):
		if s.channel == "" {
			s.channel = sportello.ChannelEmail
		}
	default:
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox here"}
	}
	return nil
}

// Data records the message. A failure to record it is temporary (451): the relay keeps the
// message and delivers it again later, and the second delivery is recognized if the first was
// recorded after all.
func (s *session) Data(r io.Reader) error {
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r); err != nil {
		return err
	}
	in, err := Parse(buf.Bytes(), s.returnPath, s.channel)
	if err != nil {
		slog.Warn("mail intake: unreadable message", "from", s.returnPath, "error", err)
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "the message cannot be read"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ctx = sportello.WithUser(ctx, &sportello.User{TenantID: s.cfg.TenantID})
	receipt, err := s.cfg.Intake.ReceiveMail(ctx, *in)
	if err != nil {
		slog.Error("mail intake: record message", "message_id", in.MessageID, "error", err)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	attrs := []any{"message_id", in.MessageID, "channel", in.Channel, "outcome", receipt.Outcome}
	if receipt.Ticket != nil {
		attrs = append(attrs, "protocol", receipt.Ticket.ProtocolNumber())
	}
	if receipt.Reason != "" {
		attrs = append(attrs, "reason", receipt.Reason)
	}
	slog.Info("mail intake", attrs...)
	return nil
}

// Serve accepts deliveries on l until ctx ends.
func Serve(ctx context.Context, s *smtp.Server, l net.Listener) error {
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s.Shutdown(shutdown)
		case <-done:
		}
	}()
	err := s.Serve(l)
	close(done)
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}
