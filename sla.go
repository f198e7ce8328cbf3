package sportello

import (
	"context"
	"time"
)

// DefaultFirstResponseHours is the office hours within which staff send the first reply to a
// ticket when the municipality has not configured a target for its kind and office: 12 office
// hours are half of the demo URP's 24-hour week, so a request filed on Monday at 9:00 gets its
// first reply by Wednesday at 11:00. It is an operational target, shown beside the legal term.
const DefaultFirstResponseHours = 12

// MaxFirstResponseHours bounds a configured target: a year of a full-time office.
const MaxFirstResponseHours = 2000

// FirstResponseTarget is a configured time, in office hours, for the first reply to tickets of a
// kind, at one office or (without office) at every office of the municipality.
type FirstResponseTarget struct {
	Kind     Kind
	OfficeID string
	Hours    int
}

// ValidateFirstResponseTarget checks a target's kind and hours.
func ValidateFirstResponseTarget(kind Kind, hours int) error {
	if !kind.Valid() {
		return InvalidField("kind", "unknown kind %q", kind)
	}
	if hours < 1 || hours > MaxFirstResponseHours {
		return InvalidField("hours", "must be between 1 and %d", MaxFirstResponseHours)
	}
	return nil
}

// TargetKey names the target that applies to a ticket: its kind and its office ("" when it has
// none yet).
type TargetKey struct {
	Kind     Kind
	OfficeID string
}

// ResolveTarget returns the hours that apply to key among the configured targets: the office's
// own, else the municipality's for the kind, else DefaultFirstResponseHours.
func ResolveTarget(targets []*FirstResponseTarget, key TargetKey) int {
	hours := DefaultFirstResponseHours
	for _, t := range targets {
		if t.Kind != key.Kind {
			continue
		}
		if t.OfficeID == "" {
			hours = t.Hours
		}
		if key.OfficeID != "" && t.OfficeID == key.OfficeID {
			return t.Hours
		}
	}
	return hours
}

// TicketSLA is how a ticket stands against its first-response target.
type TicketSLA struct {
	TargetHours int
	// FirstResponseDueAt is when TargetHours of office time have passed since filing; nil when
	// the ticket's clock has no hours (an office that never opens, or no office and no front
	// desk).
	FirstResponseDueAt *time.Time
	FirstRespondedAt   *time.Time
	// Met: staff replied by the due instant. Breached: they did not, either replying late or not
	// yet having replied after it. Both are false while the target is still ahead.
	Met      bool
	Breached bool
	// OfficeHoursElapsed is the office time from filing to the first reply, or to now.
	OfficeHoursElapsed time.Duration
}

// ComputeSLA returns the SLA of ticket t on the schedule of its office (or of the front desk),
// which may be nil when there is none. The clock stops at the first public reply by staff; a
// ticket closed without one counts as unanswered.
func ComputeSLA(t *Ticket, s *Schedule, targetHours int, now time.Time) *TicketSLA {
	out := &TicketSLA{TargetHours: targetHours, FirstRespondedAt: t.FirstRespondedAt}
	if s == nil {
		return out
	}
	stop := now
	if t.FirstRespondedAt != nil {
		stop = *t.FirstRespondedAt
	}
	out.OfficeHoursElapsed = s.Between(t.CreatedAt, stop)
	due, ok := s.Add(t.CreatedAt, time.Duration(targetHours)*time.Hour)
	if !ok {
		return out
	}
	out.FirstResponseDueAt = &due
	switch {
	case t.FirstRespondedAt != nil:
		out.Met = !t.FirstRespondedAt.After(due)
		out.Breached = !out.Met
	default:
		out.Breached = now.After(due)
	}
	return out
}

// HoursService keeps offices' opening hours, closures and first-response targets, and gives the
// clocks that tickets' SLAs run on. Reads are open to everyone, as opening hours are public;
// changes are for MANAGER and ADMIN, as are response terms: hours and closures are the office's
// public commitments and move every ticket's SLA, so operators, who handle tickets, do not set
// them.
type HoursService interface {
	// Office returns one office of the tenant. Errors: NOT_FOUND.
	Office(ctx context.Context, id string) (*Office, error)
	// Schedules returns the schedule of each office among ids; the empty id stands for the
	// tenant's front desk. Offices that do not exist (and "" without a front desk) are absent.
	Schedules(ctx context.Context, officeIDs []string) (map[string]*Schedule, error)
	// SetOpeningHours replaces the weekly slots of an office. Errors: BAD_USER_INPUT (as
	// ValidateOpeningHours), UNAUTHENTICATED, FORBIDDEN, NOT_FOUND (office).
	SetOpeningHours(ctx context.Context, officeID string, slots []OpeningSlot) (*Office, error)
	// SetFrontDesk makes an office the tenant's front desk, whose clock runs the SLA of tickets
	// without an office; the previous front desk stops being one. Errors: UNAUTHENTICATED,
	// FORBIDDEN, NOT_FOUND.
	SetFrontDesk(ctx context.Context, officeID string) (*Office, error)
	// AddClosure adds a local closure of an office or, without office, of every office.
	// Errors: BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND (office).
	AddClosure(ctx context.Context, in ClosureInput) (*Closure, error)
	// RemoveClosure removes a local closure and returns it. Errors: UNAUTHENTICATED,
	// FORBIDDEN, NOT_FOUND.
	RemoveClosure(ctx context.Context, id string) (*Closure, error)
	// SetFirstResponseTarget sets the office hours for the first reply to tickets of a kind,
	// at an office or (empty officeID) at every office. It applies at once to open tickets.
	// Errors: BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND (office).
	SetFirstResponseTarget(ctx context.Context, kind Kind, officeID string, hours int) (*FirstResponseTarget, error)
	// FirstResponseTargets lists the configured targets. Errors: UNAUTHENTICATED, FORBIDDEN.
	FirstResponseTargets(ctx context.Context) ([]*FirstResponseTarget, error)
	// TargetHours returns the hours that apply to each key, for any caller, so that tickets
	// can show their SLA.
	TargetHours(ctx context.Context, keys []TargetKey) (map[TargetKey]int, error)
}
