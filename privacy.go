package sportello

import (
	"context"
	"time"
)

// AuditAction is what a staff member (or the citizen) did with a citizen's personal data.
type AuditAction string

// The audited actions.
const (
	AuditRead   AuditAction = "READ"
	AuditChange AuditAction = "CHANGE"
	AuditExport AuditAction = "EXPORT"
	AuditErase  AuditAction = "ERASE"
)

// AuditRetention is how long audit entries are kept at least: the database refuses to delete
// younger ones.
const AuditRetention = 183 * 24 * time.Hour

// AuditEntry is one access to a citizen's personal data.
type AuditEntry struct {
	ID           string
	At           time.Time
	ActorSubject string // the identity provider's id of who acted
	ActorName    string
	ActorRoles   []Role
	Action       AuditAction
	// What names the operation, such as "citizens.search" or "tickets.citizen".
	What      string
	CitizenID string
	Origin    Origin
}

// AuditFilter narrows the audit log. Zero fields do not filter.
type AuditFilter struct {
	CitizenID    string
	ActorSubject string
	Action       AuditAction
	From, To     *time.Time
}

// AuditPage is one page of the audit log, newest first.
type AuditPage struct {
	Entries     []*AuditEntry
	Cursors     []string
	HasNextPage bool
}

// PersonalDataExport is everything the office holds about a citizen, as a JSON document.
type PersonalDataExport struct {
	GeneratedAt time.Time
	// JSON is the document: the profile, tickets with their public messages, appointments,
	// notifications, feedback, survey responses, attachments, followed tickets, saved searches
	// and opportunities, notification preferences, and the accesses to the citizen's data
	// recorded in the audit log.
	JSON []byte
}

// ErasureOutcome is what an erasure did to the citizen's account.
type ErasureOutcome string

// The outcomes of an erasure.
const (
	// ErasureErased: nothing the citizen gave us is part of a registered record, so the
	// account's personal data were removed and what remains (appointments' times, for the
	// statistics) no longer names anyone.
	ErasureErased ErasureOutcome = "ERASED"
	// ErasureRestricted: the citizen filed protocolled records, which the law on records
	// (DPR 445/2000) requires the office to keep with their sender. The name and fiscal code stay
	// on those records only; everything else is removed, the account is closed and the record is
	// hidden from searches (GDPR art. 17(3)(b) and art. 18).
	ErasureRestricted ErasureOutcome = "RESTRICTED"
)

// ErasureOutcomeFor decides an erasure from the number of registered records (protocolled
// tickets and appointments) the citizen filed.
func ErasureOutcomeFor(registeredRecords int) ErasureOutcome {
	if registeredRecords > 0 {
		return ErasureRestricted
	}
	return ErasureErased
}

// Erasure is the citizen's receipt of an erasure.
type Erasure struct {
	Outcome ErasureOutcome
	At      time.Time
	// KeptRecords are the protocol numbers of the records kept, restricted.
	KeptRecords []string
	// CancelledAppointments counts the bookings still to come that were cancelled.
	CancelledAppointments int
}

// PrivacyService protects the citizens' personal data: their rights of access and erasure, and
// the log of who read or changed them.
type PrivacyService interface {
	// ExportMyData returns everything the office holds about the signed-in citizen. Errors:
	// UNAUTHENTICATED, FORBIDDEN (not a citizen).
	ExportMyData(ctx context.Context) (*PersonalDataExport, error)
	// RequestErasure erases the signed-in citizen's account as ErasureOutcomeFor decides.
	// Errors: UNAUTHENTICATED, FORBIDDEN (not a citizen).
	RequestErasure(ctx context.Context) (*Erasure, error)
	// AuditLog lists the audit log of the caller's municipality, newest first, for ADMIN.
	// Errors: BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN.
	AuditLog(ctx context.Context, filter AuditFilter, page Page) (*AuditPage, error)
}
