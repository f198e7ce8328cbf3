package sportello

import (
	"context"
	"time"
)

// Office is a unit of the municipality that owns services and handles tickets.
type Office struct {
	ID          string
	TenantID    string
	Name        string
	Description string
	Email       string
	PEC         string // certified e-mail (posta elettronica certificata)
	Phone       string
	Address     string
	Head        string // the person in charge
	Hours       []OpeningSlot
	// FrontDesk marks the office (at most one per tenant) whose clock runs the SLA of tickets
	// not yet assigned to an office: the URP.
	FrontDesk bool
}

// OpeningSlot is one span of a weekday during which an office receives the public. An office
// may have several a day (the URP opens on Tuesday morning and afternoon).
type OpeningSlot struct {
	Weekday time.Weekday
	Opens   string // "09:00", Europe/Rome
	Closes  string // "13:00"
}

// Staff is someone who works at the office: an operator, a manager, an administrator.
type Staff struct {
	ID       string
	TenantID string
	Subject  string
	Name     string
	Email    string
	OfficeID string
	// Absent operators are skipped by automatic assignment.
	Absent bool
}

// OfficeService lists the offices and their staff and keeps the response terms.
type OfficeService interface {
	// Offices lists the tenant's offices by name; anyone may call it.
	Offices(ctx context.Context) ([]*Office, error)
	// OfficesByID returns the offices among ids; missing ids are absent from the map.
	OfficesByID(ctx context.Context, ids []string) (map[string]*Office, error)
	// StaffByID returns the staff members among ids; missing ids are absent from the map.
	StaffByID(ctx context.Context, ids []string) (map[string]*Staff, error)
	// Staff lists the staff of an office, or all staff when officeID is empty. Errors:
	// UNAUTHENTICATED, FORBIDDEN.
	Staff(ctx context.Context, officeID string) ([]*Staff, error)
	// SetResponseTerm sets the number of calendar days the office has to answer tickets of a
	// kind; with an empty officeID it sets the tenant's default for the kind. It applies to
	// tickets filed or assigned afterwards. Errors: BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN,
	// NOT_FOUND (office).
	SetResponseTerm(ctx context.Context, kind Kind, officeID string, days int) (*ResponseTerm, error)
	// ResponseTerms lists the configured terms. Errors: UNAUTHENTICATED, FORBIDDEN.
	ResponseTerms(ctx context.Context) ([]*ResponseTerm, error)
}

// ResponseTerm is a configured deadline for tickets of a kind, for one office or the tenant.
type ResponseTerm struct {
	Kind     Kind
	OfficeID string // empty for the tenant-wide default
	Days     int
}

// ValidateResponseTerm checks a term's kind and days.
func ValidateResponseTerm(kind Kind, days int) error {
	if !kind.Valid() {
		return InvalidField("kind", "unknown kind %q", kind)
	}
	if kind == KindRecordsAccess {
		return InvalidField("kind", "the term of a request for access to records is set by law (%d days)", AccessTermDays)
	}
	if days < 1 || days > MaxResponseDays {
		return InvalidField("days", "must be between 1 and %d", MaxResponseDays)
	}
	return nil
}
