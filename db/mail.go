package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
	sportello "github.com/sportello/sportello"
)

// MailIntake implements sportello.MailIntake.
type MailIntake struct {
	db      *DB
	tickets *TicketService
}

// NewMailIntake returns the e-mail intake over db.
func NewMailIntake(db *DB) *MailIntake { return &MailIntake{db: db, tickets: NewTicketService(db)} }

var _ sportello.MailIntake = (*MailIntake)(nil)

// ReceiveMail records a message. See sportello.MailIntake.
func (s *MailIntake) ReceiveMail(ctx context.Context, in sportello.InboundMail) (*sportello.MailReceipt, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	if reason := in.Automatic(); reason != "" {
		return &sportello.MailReceipt{Outcome: sportello.MailDropped, Reason: reason}, nil
	}
	from, err := sportello.NormalizeEmail("from", in.From)
	if err != nil || from == "" {
		return &sportello.MailReceipt{Outcome: sportello.MailDropped, Reason: "no valid sender address"}, nil
	}
	subject := clip(strings.Join(strings.Fields(in.Subject), " "), sportello.MaxSubjectLen)
	if subject == "" {
		subject = "(senza oggetto)"
	}
	// A file the limits refuse does not lose the message: the office reads which file was
	// left out, and can ask for it again.
	body := strings.TrimSpace(in.Body)
	var files []*sportello.CheckedUpload
	for _, u := range in.Attachments {
		if len(files) == sportello.MaxAttachments {
			body += fmt.Sprintf("\n\n[Allegato non acquisito: %s (più di %d allegati)]", sportello.CleanFilename(u.Filename), sportello.MaxAttachments)
			continue
		}
		checked, err := sportello.CheckUploads("attachment", []*sportello.Upload{u})
		if err != nil {
			var de *sportello.Error
			errors.As(err, &de)
			body += fmt.Sprintf("\n\n[Allegato non acquisito: %s (%s)]", sportello.CleanFilename(u.Filename), de.Message)
			continue
		}
		files = append(files, checked...)
	}
	if body == "" {
		body = "(messaggio senza testo)"
	}
	body = clip(body, sportello.MaxBodyLen)

	out := &sportello.MailReceipt{}
	err = s.db.inEventTx(ctx, c.tenantID, func(tx *sqlx.Tx) error {
		now := s.db.now()
		// The unique key makes a second delivery of the message, even a concurrent one, wait
		// for the first and then find it recorded.
		res, err := tx.ExecContext(ctx, `INSERT INTO inbound_mails (tenant_id, message_id, channel, sender, received_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, message_id) DO NOTHING`,
			c.tenantID, in.MessageID, in.Channel, from, now)
		if err != nil {
			return fmt.Errorf("record mail: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			out.Outcome = sportello.MailDuplicate
			return err
		}
		if p, ok := sportello.ProtocolInSubject(subject); ok {
			t, who, err := senderTicket(ctx, tx, c, p, from, in.FromName)
			if err != nil {
				return err
			}
			if t != nil {
				out.Outcome, out.Ticket = sportello.MailReply, t
				return s.reply(ctx, tx, t, who, in.MessageID, body, files)
			}
		}
		cit, err := citizenByEmail(ctx, tx, c.tenantID, from, in.FromName)
		if err != nil {
			return err
		}
		who := sportello.Actor{Kind: sportello.ActorCitizen, ID: cit.ID, Name: cit.FullName()}
		sub, err := s.tickets.insertTicket(ctx, tx, c, who, newTicket{kind: sportello.KindInformation, channel: in.Channel,
			subject: subject, body: body, citizenID: cit.ID, files: files})
		if err != nil {
			return err
		}
		out.Outcome, out.Ticket = sportello.MailNewTicket, sub.Ticket
		_, err = tx.ExecContext(ctx, `UPDATE inbound_mails SET ticket_id = $3 WHERE tenant_id = $1 AND message_id = $2`,
			c.tenantID, in.MessageID, sub.Ticket.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// reply adds a message to the ticket its subject names, as PostMessage does for a citizen: a
// ticket waiting for the citizen goes back to the office.
func (s *MailIntake) reply(ctx context.Context, tx *sqlx.Tx, t *sportello.Ticket, who sportello.Actor, messageID, body string, files []*sportello.CheckedUpload) error {
	now := s.db.now()
	msg, err := insertMessage(ctx, tx, t, who, body, false, now)
	if err != nil {
		return err
	}
	if err := s.db.insertAttachments(ctx, tx, t, msg.ID, files, now); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE inbound_mails SET ticket_id = $3 WHERE tenant_id = $1 AND message_id = $2`,
		t.TenantID, messageID, t.ID); err != nil {
		return fmt.Errorf("record mail: %w", err)
	}
	if t.Status != sportello.StatusWaitingForCitizen {
		_, err := tx.ExecContext(ctx, `UPDATE tickets SET updated_at = $2 WHERE id = $1`, t.ID, now)
		return err
	}
	if t, err = completeByReply(ctx, tx, t, who, now); err != nil {
		return err
	}
	_, err = setStatus(ctx, tx, t, who, sportello.StatusInProgress, "", now)
	return err
}

// senderTicket returns the open ticket with the protocol number if the sender filed it (as the
// citizen with that address or as its contact), locked, with the sender as its actor; nil
// otherwise, and the message then makes a new ticket: nobody adds to another person's ticket
// by writing its number.
func senderTicket(ctx context.Context, tx *sqlx.Tx, c caller, p sportello.ProtocolNumber, from, fromName string) (*sportello.Ticket, sportello.Actor, error) {
	var row ticketRow
	err := tx.GetContext(ctx, &row, `SELECT `+ticketColumns+` FROM tickets t
		WHERE t.tenant_id = $1 AND t.protocol_year = $2 AND t.protocol_seq = $3 AND t.status <> $4
		AND (t.citizen_id IN (SELECT id FROM citizens WHERE tenant_id = $1 AND lower(email) = lower($5))
			OR lower(t.contact_email) = lower($5))
		FOR UPDATE`, c.tenantID, p.Year, p.Seq, sportello.StatusClosed, from)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sportello.Actor{}, nil
	}
	if err != nil {
		return nil, sportello.Actor{}, fmt.Errorf("find ticket of sender: %w", err)
	}
	t := row.ticket()
	if t.CitizenID == "" {
		return t, sportello.Actor{Kind: sportello.ActorAnonymous, Name: fromName}, nil
	}
	var cit citizenRow
	if err := tx.GetContext(ctx, &cit, `SELECT `+citizenColumns+` FROM citizens WHERE id = $1`, t.CitizenID); err != nil {
		return nil, sportello.Actor{}, fmt.Errorf("find citizen: %w", err)
	}
	return t, sportello.Actor{Kind: sportello.ActorCitizen, ID: cit.ID, Name: cit.citizen().FullName()}, nil
}

// citizenByEmail returns the citizen with the address, preferring one who signs in, or records
// a new one with the name the message gives.
func citizenByEmail(ctx context.Context, tx *sqlx.Tx, tenantID, email, name string) (*sportello.Citizen, error) {
	var row citizenRow
	err := tx.GetContext(ctx, &row, `SELECT `+citizenColumns+` FROM citizens
		WHERE tenant_id = $1 AND lower(email) = lower($2) ORDER BY subject IS NULL, created_at LIMIT 1`, tenantID, email)
	if err == nil {
		return row.citizen(), nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("find citizen by e-mail: %w", err)
	}
	given, family := splitName(name)
	if given == "" && family == "" {
		given = email[:strings.LastIndexByte(email, '@')]
	}
	if err := tx.GetContext(ctx, &row, `INSERT INTO citizens (tenant_id, given_name, family_name, email)
		VALUES ($1, $2, $3, $4) RETURNING `+citizenColumns,
		tenantID, clip(given, sportello.MaxNameLen), clip(family, sportello.MaxNameLen), email); err != nil {
		return nil, fmt.Errorf("record citizen: %w", err)
	}
	return row.citizen(), nil
}

// splitName reads "Mario Rossi" as given name Mario and family name Rossi, and "Rossi, Mario"
// the other way round.
func splitName(name string) (string, string) {
	name = strings.Join(strings.Fields(strings.Trim(name, `"' `)), " ")
	if family, given, ok := strings.Cut(name, ","); ok {
		return strings.TrimSpace(given), strings.TrimSpace(family)
	}
	if i := strings.LastIndexByte(name, ' '); i > 0 {
		return name[:i], name[i+1:]
	}
	return name, ""
}

// clip shortens s to at most n characters.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}
