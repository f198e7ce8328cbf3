package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	sportello "github.com/sportello/sportello"
)

// FeedbackService implements sportello.FeedbackService.
type FeedbackService struct {
	db *DB
}

// NewFeedbackService returns the feedback service over db.
func NewFeedbackService(db *DB) *FeedbackService { return &FeedbackService{db: db} }

var _ sportello.FeedbackService = (*FeedbackService)(nil)

// LeaveFeedback records a citizen's judgement. See sportello.FeedbackService.
func (s *FeedbackService) LeaveFeedback(ctx context.Context, in sportello.FeedbackInput) (*sportello.Feedback, error) {
	c, err := listCaller(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var fb *sportello.Feedback
	err = s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		t, err := getTicket(ctx, tx, c, in.TicketID, true)
		if err != nil {
			return err
		}
		// Staff enter the judgement of a citizen who answered at the desk or on the phone; a
		// citizen who filed from the app or the portal gives their own.
		if c.staff && !slices.Contains(sportello.DeskChannels, t.Channel) {
			return sportello.Errorf(sportello.CodeForbidden, "the citizen filed this ticket from %s and leaves feedback there", t.Channel)
		}
		if err := sportello.CheckFeedbackAllowed(t); err != nil {
			return err
		}
		who, err := actor(ctx, tx, c)
		if err != nil {
			return err
		}
		fb, err = s.insert(ctx, tx, t, in, who)
		return err
	})
	return fb, err
}

// LeaveFeedbackByReceipt records an anonymous filer's judgement. See sportello.FeedbackService.
func (s *FeedbackService) LeaveFeedbackByReceipt(ctx context.Context, protocol, receiptCode string, in sportello.FeedbackInput) (*sportello.Feedback, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	p, err := sportello.ParseProtocolNumber("protocolNumber", strings.TrimSpace(protocol))
	if err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var fb *sportello.Feedback
	err = s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		var row ticketRow
		err := tx.GetContext(ctx, &row, `SELECT `+ticketColumns+` FROM tickets t
			WHERE t.tenant_id = $1 AND t.protocol_year = $2 AND t.protocol_seq = $3 AND t.receipt_hash = $4 FOR UPDATE`,
			c.tenantID, p.Year, p.Seq, hashReceipt(receiptCode))
		if errors.Is(err, sql.ErrNoRows) {
			return sportello.NotFound("ticket")
		}
		if err != nil {
			return fmt.Errorf("get ticket by receipt: %w", err)
		}
		t := row.ticket()
		if err := sportello.CheckFeedbackAllowed(t); err != nil {
			return err
		}
		in.TicketID = t.ID
		fb, err = s.insert(ctx, tx, t, in, sportello.Actor{Kind: sportello.ActorAnonymous})
		return err
	})
	return fb, err
}

// insert stores the feedback; a second one on the ticket is CONFLICT.
func (s *FeedbackService) insert(ctx context.Context, tx *sqlx.Tx, t *sportello.Ticket, in sportello.FeedbackInput, who sportello.Actor) (*sportello.Feedback, error) {
	now := s.db.now()
	var created time.Time
	err := tx.GetContext(ctx, &created, `INSERT INTO ticket_feedback (ticket_id, tenant_id, level, rating, comment, given_by, staff_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (ticket_id) DO NOTHING RETURNING created_at`,
		t.ID, t.TenantID, in.Level, in.Rating, in.Comment, who.Kind, nullID(staffActorID(who)), now)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sportello.Errorf(sportello.CodeConflict, "feedback on this ticket was already given")
	}
	if err != nil {
		return nil, fmt.Errorf("insert feedback: %w", err)
	}
	return &sportello.Feedback{TicketID: t.ID, Level: in.Level, Rating: in.Rating, Comment: in.Comment,
		GivenBy: who.Kind, CreatedAt: created}, nil
}
