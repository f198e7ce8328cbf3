package sportello

import (
	"context"
	"regexp"
	"strconv"
	"strings"
)

// InboundMail is a message that reached the office's mailbox (EMAIL) or certified mailbox (PEC),
// as the e-mail intake parsed it.
type InboundMail struct {
	Channel Channel // ChannelEmail or ChannelPEC
	// MessageID identifies the message: its Message-ID header, or a hash of its content when it
	// has none. The same message delivered twice is recorded once.
	MessageID string
	// ReturnPath is the envelope sender (MAIL FROM); empty for bounces, which have a null one.
	ReturnPath string
	FromName   string
	From       string // the From header's address
	Subject    string
	Body       string // the text part
	// ContentType is the message's top-level media type, such as "multipart/report".
	ContentType string
	// Headers are the headers that mark automatic messages, by canonical name.
	Headers     map[string]string
	Attachments []*Upload
}

// AutomaticHeaders are the headers Automatic reads; the intake keeps only these.
var AutomaticHeaders = []string{"Auto-Submitted", "X-Autoreply", "X-Autorespond", "Precedence", "X-Auto-Response-Suppress",
	"X-Ricevuta"}

// Automatic says why a message was sent by a machine rather than a person (a bounce, an
// out-of-office reply, a mailing list), or "" when it was not. Automatic messages make no
// tickets: answering them would start a loop of automatic replies (RFC 3834).
func (m *InboundMail) Automatic() string {
	local, _, _ := strings.Cut(strings.ToLower(m.From), "@")
	switch {
	case m.ReturnPath == "":
		return "bounce: null return path"
	case strings.EqualFold(m.ContentType, "multipart/report"):
		return "bounce: delivery report"
	case local == "mailer-daemon" || local == "postmaster":
		return "bounce: from " + local
	}
	if v := strings.ToLower(strings.TrimSpace(m.Headers["Auto-Submitted"])); v != "" && v != "no" {
		return "auto-reply: Auto-Submitted " + v
	}
	if v := strings.TrimSpace(m.Headers["X-Ricevuta"]); v != "" {
		// A PEC provider's receipt (accettazione, consegna, non-accettazione) of a message
		// the office sent.
		return "PEC receipt: " + v
	}
	for _, h := range []string{"X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"} {
		if strings.TrimSpace(m.Headers[h]) != "" {
			return "auto-reply: " + h
		}
	}
	switch p := strings.ToLower(strings.TrimSpace(m.Headers["Precedence"])); p {
	case "bulk", "auto_reply", "junk", "list":
		return "auto-reply: Precedence " + p
	}
	return ""
}

// protocolInSubject finds a protocol number anywhere in a subject, with or without "Prot.":
// "Re: Prot. 2026/0000123 – Rinnovo carta d'identità".
var protocolInSubject = regexp.MustCompile(`(?:^|[^0-9])((?:19|20)\d{2})/(\d{1,7})(?:[^0-9]|$)`)

// ProtocolInSubject returns the protocol number a reply's subject carries, if any.
func ProtocolInSubject(subject string) (ProtocolNumber, bool) {
	m := protocolInSubject.FindStringSubmatch(subject)
	if m == nil {
		return ProtocolNumber{}, false
	}
	year, _ := strconv.Atoi(m[1])
	seq, _ := strconv.Atoi(m[2])
	return ProtocolNumber{Year: year, Seq: seq}, seq > 0
}

// MailOutcome is what the intake did with a message.
type MailOutcome string

// The outcomes of a message.
const (
	MailNewTicket MailOutcome = "TICKET"    // it became a new ticket
	MailReply     MailOutcome = "MESSAGE"   // it was added to the ticket its subject names
	MailDuplicate MailOutcome = "DUPLICATE" // it had already been received
	MailDropped   MailOutcome = "DROPPED"   // a bounce or an auto-reply
)

// MailReceipt says what became of a message.
type MailReceipt struct {
	Outcome MailOutcome
	Ticket  *Ticket // the ticket it made or was added to; nil when dropped
	Reason  string  // why it was dropped
}

// MailIntake turns messages sent to the office's mailboxes into tickets.
type MailIntake interface {
	// ReceiveMail records a message for the tenant in ctx. The sender is matched to a citizen
	// by address, or recorded as a new citizen with what the message says of them; a subject
	// naming the protocol number of a ticket of that sender adds the message to it; bounces and
	// auto-replies are dropped; a message already received is not recorded again. It trusts
	// its caller to be the intake transport, which checks where messages come from. Errors:
	// none but internal ones: every message is accepted or dropped.
	ReceiveMail(ctx context.Context, in InboundMail) (*MailReceipt, error)
}
