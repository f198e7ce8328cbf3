package sportello

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Kind is what a citizen asks of the office. The first four are requests, the last three are
// complaints in the sense of the register the office keeps.
type Kind string

// The kinds of ticket.
const (
	KindInformation Kind = "INFORMATION"
	KindAssistance  Kind = "ASSISTANCE"
	KindPetition    Kind = "PETITION"
	KindProposal    Kind = "PROPOSAL"
	KindComplaint   Kind = "COMPLAINT"
	KindReport      Kind = "REPORT"
	KindSuggestion  Kind = "SUGGESTION"
	// KindRecordsAccess is a request for access to records (accesso agli atti), with its own
	// details (RecordsAccess) and legal clock.
	KindRecordsAccess Kind = "RECORDS_ACCESS"
)

// Kinds lists every kind.
var Kinds = []Kind{KindInformation, KindAssistance, KindPetition, KindProposal, KindComplaint, KindReport, KindSuggestion,
	KindRecordsAccess}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return slices.Contains(Kinds, k) }

// AnonymousAllowed reports whether someone who did not sign in may file this kind. Reports of
// malfunctions and suggestions need no identity; requests with legal effects do.
func (k Kind) AnonymousAllowed() bool { return k == KindReport || k == KindSuggestion }

// Channel is how a ticket reached the office.
type Channel string

// The channels.
const (
	ChannelWeb     Channel = "WEB"
	ChannelApp     Channel = "APP"
	ChannelCounter Channel = "COUNTER"
	ChannelPhone   Channel = "PHONE"
	ChannelEmail   Channel = "EMAIL"
	ChannelPEC     Channel = "PEC"
	ChannelPost    Channel = "POST"
	ChannelSocial  Channel = "SOCIAL"
)

// Channels lists every channel.
var Channels = []Channel{ChannelWeb, ChannelApp, ChannelCounter, ChannelPhone, ChannelEmail, ChannelPEC, ChannelPost, ChannelSocial,
	ChannelOpen311}

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool { return slices.Contains(Channels, c) }

// SelfService reports whether citizens use this channel themselves (as opposed to an operator
// registering what arrived at the desk, on the phone or by mail).
func (c Channel) SelfService() bool { return c == ChannelWeb || c == ChannelApp }

// DeskChannels are the channels an operator registers tickets from.
var DeskChannels = []Channel{ChannelCounter, ChannelPhone, ChannelEmail, ChannelPEC, ChannelPost}

// Status is where a ticket stands in the workflow.
type Status string

// The statuses.
const (
	StatusSubmitted         Status = "SUBMITTED"
	StatusInProgress        Status = "IN_PROGRESS"
	StatusWaitingForCitizen Status = "WAITING_FOR_CITIZEN"
	StatusResolved          Status = "RESOLVED"
	StatusRejected          Status = "REJECTED"
	StatusClosed            Status = "CLOSED"
)

// Statuses lists every status.
var Statuses = []Status{StatusSubmitted, StatusInProgress, StatusWaitingForCitizen, StatusResolved, StatusRejected, StatusClosed}

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return slices.Contains(Statuses, s) }

// Open reports whether the office still owes the citizen an answer: the deadline runs only then.
func (s Status) Open() bool {
	return s == StatusSubmitted || s == StatusInProgress || s == StatusWaitingForCitizen
}

// OpenStatuses are the statuses of tickets whose deadline is still running.
var OpenStatuses = []Status{StatusSubmitted, StatusInProgress, StatusWaitingForCitizen}

// Limits on ticket text, in characters.
const (
	MaxSubjectLen = 200
	MaxBodyLen    = 10000
	MaxReasonLen  = 2000
)

// Ticket is one request or complaint, from filing to closing.
type Ticket struct {
	ID           string
	TenantID     string
	Protocol     ProtocolNumber
	Kind         Kind
	Channel      Channel
	Status       Status
	Subject      string
	Body         string
	CitizenID    string   // empty for tickets filed anonymously
	Contact      *Contact // the contact details left by an anonymous filer, if any
	OfficeID     string   // empty until the ticket is assigned to an office
	AssigneeID   string   // the staff member handling it, if any
	StatusReason string   // why it was rejected
	CreatedAt    time.Time
	UpdatedAt    time.Time
	DueAt        time.Time
	ResolvedAt   *time.Time
	// FirstRespondedAt is when staff first replied to the citizen (internal notes do not
	// count); the SLA clock stops there.
	FirstRespondedAt *time.Time
	// Location is where the reported problem is, if the filer said.
	Location *Location
	// Priority is how urgently it must be handled (NORMAL unless a rule or staff said otherwise).
	Priority Priority
	// MergedIntoID is the master ticket this duplicate was merged into, if any.
	MergedIntoID string
	// FollowerIDs are the citizens following the ticket, read only by the live feed, which
	// sends them its public events as it does the author.
	FollowerIDs []string
	// Citizen and Office are the ticket's citizen and office when the read that returned it
	// was asked for them (TicketRelations); nil otherwise, and when the caller may not see them.
	Citizen *Citizen
	Office  *Office
}

// TicketRelations names the to-one relations a read of tickets fetches with them in the same
// statement, so that a ticket or a page shown with its citizen and office costs one round trip
// rather than one per relation.
type TicketRelations struct {
	Citizen bool
	Office  bool
	// OfficeHours reads the office's opening hours with it; without, Office.Hours stays empty.
	// They cost a subquery per ticket, and a list shows the office's name.
	OfficeHours bool
	// Brief reads of each ticket only its id, tenant, protocol number, kind, status, subject,
	// dates, priority and the ids of its citizen and office (and its body with BriefBody): the
	// rest of the Ticket stays empty. A list that shows no more leaves most of each row in the
	// database instead of reading, sending and decoding it.
	Brief, BriefBody bool
	// BriefCitizen reads only the citizen's id, names and fiscal code; BriefOffice only the
	// office's id and name.
	BriefCitizen, BriefOffice bool
}

// ProtocolNumber is the ticket's protocol number as written on documents: YYYY/NNNNNNN.
func (t *Ticket) ProtocolNumber() string { return t.Protocol.String() }

// Overdue reports whether the office has let the deadline pass without answering.
func (t *Ticket) Overdue(now time.Time) bool { return t.Status.Open() && now.After(t.DueAt) }

// Contact is how to reach someone who filed without signing in.
type Contact struct {
	Name  string
	Email string
	Phone string
}

// Validate checks the contact's fields, naming them under prefix.
func (c *Contact) Validate(prefix string) error {
	c.Name = strings.TrimSpace(c.Name)
	if err := checkLen(prefix+".name", c.Name, 0, MaxNameLen); err != nil {
		return err
	}
	var err error
	if c.Email, err = NormalizeEmail(prefix+".email", c.Email); err != nil {
		return err
	}
	if c.Phone, err = NormalizePhone(prefix+".phone", c.Phone); err != nil {
		return err
	}
	return nil
}

// Empty reports whether no contact detail was given.
func (c *Contact) Empty() bool { return c == nil || (c.Name == "" && c.Email == "" && c.Phone == "") }

// SubmitTicketInput is what a citizen, or an anonymous caller, files from the app or the portal.
type SubmitTicketInput struct {
	Kind     Kind
	Channel  Channel // WEB or APP
	Subject  string
	Body     string
	OfficeID string   // optional: the office the citizen thinks is concerned
	Contact  *Contact // anonymous callers only
	// RecordsAccess is required for, and only for, KindRecordsAccess.
	RecordsAccess *RecordsAccessInput
	Location      *Location // optional
	// Attachments are files filed with the ticket, checked with CheckUploads.
	Attachments []*Upload
}

// Validate checks and normalizes the input; it returns BAD_USER_INPUT naming the field at fault.
func (in *SubmitTicketInput) Validate() error {
	if in.Channel == "" {
		in.Channel = ChannelWeb
	}
	if !in.Channel.SelfService() {
		return InvalidField("channel", "citizens file through WEB or APP; other channels are registered by the office")
	}
	if err := validateTicketText(in.Kind, &in.Subject, &in.Body); err != nil {
		return err
	}
	if in.Contact != nil {
		if err := in.Contact.Validate("contact"); err != nil {
			return err
		}
	}
	if in.Location != nil {
		if err := in.Location.Validate("location"); err != nil {
			return err
		}
	}
	return checkRecordsAccess(in.Kind, in.RecordsAccess)
}

// RegisterTicketInput is what an operator registers for a citizen who came to the desk, phoned
// or wrote. Exactly one of CitizenID and Contact says who filed it.
type RegisterTicketInput struct {
	Kind      Kind
	Channel   Channel
	Subject   string
	Body      string
	OfficeID  string
	CitizenID string
	Contact   *Contact
	// RecordsAccess is required for, and only for, KindRecordsAccess.
	RecordsAccess *RecordsAccessInput
	Location      *Location // optional
	// Attachments are files filed with the ticket, checked with CheckUploads.
	Attachments []*Upload
}

// Validate checks and normalizes the input; it returns BAD_USER_INPUT naming the field at fault.
func (in *RegisterTicketInput) Validate() error {
	if !slices.Contains(DeskChannels, in.Channel) {
		return InvalidField("channel", "an operator registers tickets from COUNTER, PHONE, EMAIL, PEC or POST")
	}
	if err := validateTicketText(in.Kind, &in.Subject, &in.Body); err != nil {
		return err
	}
	switch {
	case in.CitizenID != "" && !in.Contact.Empty():
		return InvalidField("contact", "give either citizenId or contact, not both")
	case in.CitizenID == "" && !in.Kind.AnonymousAllowed():
		return InvalidField("citizenId", "a %s needs the citizen who filed it", in.Kind)
	}
	if in.Contact != nil {
		if err := in.Contact.Validate("contact"); err != nil {
			return err
		}
	}
	if in.Location != nil {
		if err := in.Location.Validate("location"); err != nil {
			return err
		}
	}
	return checkRecordsAccess(in.Kind, in.RecordsAccess)
}

func validateTicketText(kind Kind, subject, body *string) error {
	if !kind.Valid() {
		return InvalidField("kind", "unknown kind %q", kind)
	}
	*subject = strings.TrimSpace(*subject)
	*body = strings.TrimSpace(*body)
	if err := checkLen("subject", *subject, 1, MaxSubjectLen); err != nil {
		return err
	}
	return checkLen("body", *body, 1, MaxBodyLen)
}

// checkLen bounds a text's length in characters (not bytes: accented Italian letters count one).
func checkLen(field, s string, minLen, maxLen int) error {
	n := utf8.RuneCountInString(s)
	switch {
	case n < minLen && minLen == 1:
		return InvalidField(field, "must not be empty")
	case n < minLen:
		return InvalidField(field, "must be at least %d characters", minLen)
	case n > maxLen:
		return InvalidField(field, "must be at most %d characters (got %d)", maxLen, n)
	}
	if !utf8.ValidString(s) {
		return InvalidField(field, "must be valid UTF-8 text")
	}
	return nil
}

// Submission is the receipt of a filed ticket.
type Submission struct {
	Ticket *Ticket
	// ReceiptCode is the secret an anonymous filer uses, with the protocol number, to follow
	// their ticket. It is shown once and stored only as a hash; empty for signed-in citizens.
	ReceiptCode string
}

// AssignTicketInput moves a ticket to an office and, optionally, a staff member of it.
type AssignTicketInput struct {
	TicketID   string
	OfficeID   string
	AssigneeID string
}

// TransitionTicketInput moves a ticket through the workflow.
type TransitionTicketInput struct {
	TicketID string
	To       Status
	Reason   string
}

// PostMessageInput is a reply on a ticket or, for staff, an internal note.
type PostMessageInput struct {
	TicketID string
	Body     string
	Internal bool
	// Attachments are files sent with the message, checked with CheckUploads.
	Attachments []*Upload
}

// Validate checks and normalizes the message.
func (in *PostMessageInput) Validate() error {
	in.Body = strings.TrimSpace(in.Body)
	return checkLen("body", in.Body, 1, MaxBodyLen)
}

// Message is a reply on a ticket. Internal messages are notes among staff and never reach citizens.
type Message struct {
	ID        string
	TicketID  string
	Author    Actor
	Body      string
	Internal  bool
	CreatedAt time.Time
}

// TicketFilter narrows a list of tickets. Zero fields do not filter.
type TicketFilter struct {
	Statuses    []Status
	Kinds       []Kind
	Channels    []Channel
	OfficeIDs   []string
	AssigneeIDs []string
	CitizenID   string
	Overdue     *bool
	CreatedFrom *time.Time
	CreatedTo   *time.Time
	Text        string
	// Near keeps the tickets whose location lies in the area.
	Near *Area
	// Order is how the list is sorted; empty is OrderNewest. It does not narrow the list.
	Order TicketOrder
}

// MaxFilterTextLen bounds the free-text search.
const MaxFilterTextLen = 200

// Validate checks the filter; it returns BAD_USER_INPUT naming the field at fault.
func (f *TicketFilter) Validate() error {
	for _, s := range f.Statuses {
		if !s.Valid() {
			return InvalidField("filter.statuses", "unknown status %q", s)
		}
	}
	for _, k := range f.Kinds {
		if !k.Valid() {
			return InvalidField("filter.kinds", "unknown kind %q", k)
		}
	}
	for _, c := range f.Channels {
		if !c.Valid() {
			return InvalidField("filter.channels", "unknown channel %q", c)
		}
	}
	if f.CreatedFrom != nil && f.CreatedTo != nil && f.CreatedTo.Before(*f.CreatedFrom) {
		return InvalidField("filter.createdTo", "must not be before createdFrom")
	}
	if f.Near != nil {
		if err := f.Near.Validate("filter.near"); err != nil {
			return err
		}
	}
	if f.Order == "" {
		f.Order = OrderNewest
	}
	if f.Order != OrderNewest && f.Order != OrderPriority {
		return InvalidField("orderBy", "unknown order %q", f.Order)
	}
	f.Text = strings.TrimSpace(f.Text)
	return checkLen("filter.text", f.Text, 0, MaxFilterTextLen)
}

// Page asks for a slice of a list: the first N items after a cursor.
type Page struct {
	First int
	After string
}

// Page sizes.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// Validate applies the default size to a zero First and bounds it.
func (p *Page) Validate() error {
	if p.First == 0 {
		p.First = DefaultPageSize
	}
	if p.First < 1 || p.First > MaxPageSize {
		return InvalidField("first", "must be between 1 and %d", MaxPageSize)
	}
	return nil
}

// TicketPage is one page of tickets in list order (newest first).
type TicketPage struct {
	Tickets     []*Ticket
	Cursors     []string
	HasNextPage bool
}

// TicketService files and handles tickets. Every method authorizes the caller in ctx: citizens
// reach only their own tickets and never internal notes; a ticket the caller may not see is
// NOT_FOUND.
type TicketService interface {
	// SubmitTicket files a ticket as the signed-in citizen or anonymously. Errors:
	// BAD_USER_INPUT, UNAUTHENTICATED (a kind that needs identity), FORBIDDEN (staff use
	// RegisterTicket), NOT_FOUND (office).
	SubmitTicket(ctx context.Context, in SubmitTicketInput) (*Submission, error)
	// RegisterTicket files a ticket for a citizen at the desk. Errors: BAD_USER_INPUT,
	// UNAUTHENTICATED, FORBIDDEN, NOT_FOUND (citizen, office).
	RegisterTicket(ctx context.Context, in RegisterTicketInput) (*Submission, error)
	// Ticket returns one ticket. Errors: NOT_FOUND.
	Ticket(ctx context.Context, id string) (*Ticket, error)
	// TicketWith returns one ticket with the relations asked for. Errors: NOT_FOUND.
	TicketWith(ctx context.Context, id string, with TicketRelations) (*Ticket, error)
	// TicketByReceipt returns the ticket an anonymous caller filed. Errors: NOT_FOUND.
	TicketByReceipt(ctx context.Context, protocol, receiptCode string) (*Ticket, error)
	// Tickets lists tickets newest first: all of the tenant's for staff, their own for
	// citizens. Errors: BAD_USER_INPUT, UNAUTHENTICATED.
	Tickets(ctx context.Context, filter TicketFilter, page Page) (*TicketPage, error)
	// TicketsWith is Tickets with the relations asked for on every ticket. Errors: as Tickets.
	TicketsWith(ctx context.Context, filter TicketFilter, page Page, with TicketRelations) (*TicketPage, error)
	// CountTickets counts the tickets Tickets would list. Errors: as Tickets.
	CountTickets(ctx context.Context, filter TicketFilter) (int, error)
	// AssignTicket gives a ticket to an office and optionally a staff member. Errors:
	// BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, INVALID_TRANSITION (closed tickets).
	AssignTicket(ctx context.Context, in AssignTicketInput) (*Ticket, error)
	// TransitionTicket moves a ticket through the workflow. Errors: BAD_USER_INPUT,
	// UNAUTHENTICATED, NOT_FOUND, INVALID_TRANSITION.
	TransitionTicket(ctx context.Context, in TransitionTicketInput) (*Ticket, error)
	// PostMessage adds a reply or, for staff, an internal note. A citizen's reply to a ticket
	// waiting for them puts it back in progress. Errors: BAD_USER_INPUT, UNAUTHENTICATED,
	// FORBIDDEN (internal notes by citizens), NOT_FOUND, INVALID_TRANSITION (closed tickets).
	PostMessage(ctx context.Context, in PostMessageInput) (*Message, error)
	// MessagesByTicket returns the messages of each ticket the caller may see, oldest first,
	// without internal notes for citizens.
	MessagesByTicket(ctx context.Context, ticketIDs []string) (map[string][]*Message, error)
	// EventsByTicket returns the history of each ticket the caller may see, oldest first,
	// without internal notes for citizens.
	EventsByTicket(ctx context.Context, ticketIDs []string) (map[string][]*Event, error)
}
