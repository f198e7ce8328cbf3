package sportello

import (
	"encoding/json"
	"time"
)

// EventType says what changed on a ticket.
type EventType string

// The ticket events. Each is written in the same transaction as the change it describes, so the
// history is complete and an event exists only if its change committed.
const (
	EventCreated       EventType = "CREATED"
	EventAssigned      EventType = "ASSIGNED"
	EventStatusChanged EventType = "STATUS_CHANGED"
	EventMessagePosted EventType = "MESSAGE_POSTED"
	EventUpdated       EventType = "UPDATED"
)

// ActorKind says who acted.
type ActorKind string

// The kinds of actor.
const (
	ActorCitizen   ActorKind = "CITIZEN"
	ActorStaff     ActorKind = "STAFF"
	ActorAnonymous ActorKind = "ANONYMOUS"
	ActorSystem    ActorKind = "SYSTEM"
)

// Actor is who made a change or wrote a message, as shown in histories.
type Actor struct {
	Kind ActorKind
	ID   string // the citizen's or staff member's id; empty for anonymous and system actors
	Name string
}

// Event is one entry in a ticket's history, or a topic event (see TopicEvent) as the live feed
// carries it: then Topic is set and TicketID and Ticket are empty.
type Event struct {
	ID       int64    // increases with insertion, across the tenant; not a commit order
	Position Position // where the event stands in the feed
	TenantID string
	TicketID string
	Type     EventType
	Actor    Actor
	At       time.Time
	Internal bool // concerns an internal note: staff only
	Data     EventData
	// Ticket is the ticket the event belongs to, as it is now: read by the live feed with the
	// event and shared by every subscriber it goes to, or the ticket whose history holds it.
	Ticket *Ticket
	// Topic, SubjectID, CitizenID and Payload are those of a topic event.
	Topic     string
	SubjectID string
	CitizenID string
	Payload   json.RawMessage
}

// Cursor is the event's position for clients, to resume a feed after it.
func (e *Event) Cursor() string { return e.Position.Cursor() }

// EventData is what an event records beyond its type.
type EventData struct {
	FromStatus Status   `json:"fromStatus,omitempty"`
	ToStatus   Status   `json:"toStatus,omitempty"`
	Reason     string   `json:"reason,omitempty"`
	OfficeID   string   `json:"officeId,omitempty"`
	AssigneeID string   `json:"assigneeId,omitempty"`
	MessageID  string   `json:"messageId,omitempty"`
	Fields     []string `json:"fields,omitempty"` // for UPDATED: which fields changed
}
