package sportello

import (
	"context"
	"slices"
	"strings"
	"time"
)

// FeedbackLevel is a citizen's quick judgement of how their ticket was handled, on the three
// faces of the Italian public administration's "Mettiamoci la faccia" scheme.
type FeedbackLevel string

// The feedback levels.
const (
	FeedbackPositive FeedbackLevel = "POSITIVE"
	FeedbackNeutral  FeedbackLevel = "NEUTRAL"
	FeedbackNegative FeedbackLevel = "NEGATIVE"
)

// FeedbackLevels lists every level, best first.
var FeedbackLevels = []FeedbackLevel{FeedbackPositive, FeedbackNeutral, FeedbackNegative}

// Valid reports whether l is a known level.
func (l FeedbackLevel) Valid() bool { return slices.Contains(FeedbackLevels, l) }

// MaxFeedbackCommentLen bounds a feedback comment, in characters.
const MaxFeedbackCommentLen = 2000

// Feedback is the one judgement left on a ticket once the office has answered it.
type Feedback struct {
	TicketID string
	Level    FeedbackLevel
	Rating   *int // 1 to 5, optional
	Comment  string
	// GivenBy says who entered it: the citizen (ActorCitizen), an operator at the desk for them
	// (ActorStaff) or the anonymous filer with their receipt code (ActorAnonymous).
	GivenBy   ActorKind
	CreatedAt time.Time
}

// FeedbackInput is a judgement to leave on a ticket.
type FeedbackInput struct {
	TicketID string
	Level    FeedbackLevel
	Rating   *int
	Comment  string
}

// Validate checks and normalizes the input; it returns BAD_USER_INPUT naming the field at fault.
func (in *FeedbackInput) Validate() error {
	if !in.Level.Valid() {
		return InvalidField("level", "unknown level %q", in.Level)
	}
	if in.Rating != nil && (*in.Rating < 1 || *in.Rating > 5) {
		return InvalidField("rating", "must be between 1 and 5")
	}
	in.Comment = strings.TrimSpace(in.Comment)
	return checkLen("comment", in.Comment, 0, MaxFeedbackCommentLen)
}

// CheckFeedbackAllowed returns INVALID_TRANSITION unless the office has answered the ticket
// (RESOLVED, or CLOSED): the input is well formed, but the ticket is not yet in a state that
// takes a judgement, as a message on a closed ticket is not.
func CheckFeedbackAllowed(t *Ticket) error {
	if t.Status != StatusResolved && t.Status != StatusClosed {
		return Errorf(CodeInvalidTransition, "feedback is left once the ticket is resolved or closed (it is %s)", t.Status)
	}
	return nil
}

// FeedbackService takes citizens' feedback on their answered tickets.
type FeedbackService interface {
	// LeaveFeedback records the judgement on a ticket: by the citizen who filed it, or by staff
	// for a ticket registered at the desk (COUNTER, PHONE, EMAIL, PEC, POST). Errors:
	// BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN (staff on a ticket the citizen filed
	// themselves), NOT_FOUND, INVALID_TRANSITION (not resolved or closed), CONFLICT (already
	// given).
	LeaveFeedback(ctx context.Context, in FeedbackInput) (*Feedback, error)
	// LeaveFeedbackByReceipt is LeaveFeedback for an anonymous filing, proved by its protocol
	// number and receipt code. Errors: as LeaveFeedback, with NOT_FOUND for a wrong code.
	LeaveFeedbackByReceipt(ctx context.Context, protocol, receiptCode string, in FeedbackInput) (*Feedback, error)
}
