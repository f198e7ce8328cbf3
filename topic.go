package sportello

import (
	"context"
	"encoding/json"
	"time"
)

// Topics of the events that belong to no ticket. Each is written in the transaction of the
// change it announces, like a ticket event, and reaches subscribers through the same live feed.
const (
	// TopicNotification announces a notification stored for one citizen.
	TopicNotification = "notification"
	// TopicContentPublished announces web content that went online.
	TopicContentPublished = "content.published"
)

// TopicEvent is an event that belongs to no ticket: content published, an alert for a citizen.
type TopicEvent struct {
	Position  Position
	TenantID  string
	Topic     string
	SubjectID string // the id of what the event is about, if any
	// CitizenID, when set, is the only citizen who receives the event.
	CitizenID string
	At        time.Time
	Data      json.RawMessage // what the topic defines; a JSON object
}

// Cursor is the event's position for clients, to resume a feed after it.
func (e *TopicEvent) Cursor() string { return e.Position.Cursor() }

// TopicEventOf returns the topic event an Event of the live feed carries.
func TopicEventOf(e *Event) *TopicEvent {
	return &TopicEvent{Position: e.Position, TenantID: e.TenantID, Topic: e.Topic, SubjectID: e.SubjectID,
		CitizenID: e.CitizenID, At: e.At, Data: e.Payload}
}

// TopicFeed streams topic events.
type TopicFeed interface {
	// TopicEvents streams the events of a topic in the caller's tenant: those for everyone, and
	// for a signed-in citizen also their own, after the cursor (replayed from the store) or from
	// now, then live. Errors: BAD_USER_INPUT (after), INTERNAL (ErrShuttingDown).
	TopicEvents(ctx context.Context, topic string, after string) (*Stream[*TopicEvent], error)
}
