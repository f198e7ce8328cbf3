package sportello

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Notification is an entry in the list of news a citizen's app shows: an alert about a new
// opportunity, an update of one of their tickets. Each is announced live on the topic
// TopicNotification to that citizen only.
type Notification struct {
	ID        string
	CitizenID string
	// Kind says what the notification is about, in the words of the part of the system that
	// sends it (OPPORTUNITY_ALERT, TICKET_UPDATE ...), so that the app can pick an icon.
	Kind  string
	Title string
	Body  string
	// Link is where the app or the portal shows the subject: a path such as
	// /opportunita/ID, or a full URL.
	Link        string
	SubjectType string
	SubjectID   string
	CreatedAt   time.Time
	ReadAt      *time.Time
}

// NotificationPage is one page of a citizen's notifications, newest first.
type NotificationPage struct {
	Notifications []*Notification
	Cursors       []string
	HasNextPage   bool
}

// NotificationService serves a citizen their notifications.
type NotificationService interface {
	// MyNotifications lists the signed-in citizen's notifications, newest first, optionally
	// only the unread ones. Errors: UNAUTHENTICATED, FORBIDDEN (not a citizen), BAD_USER_INPUT
	// (first, after).
	MyNotifications(ctx context.Context, unreadOnly bool, page Page) (*NotificationPage, error)
	// UnreadNotificationCount counts the signed-in citizen's unread notifications. Errors:
	// UNAUTHENTICATED, FORBIDDEN.
	UnreadNotificationCount(ctx context.Context) (int, error)
	// MarkNotificationsRead marks the citizen's notifications with these ids as read (all of
	// them when ids is empty) and returns how many were unread. Ids of notifications that are
	// not theirs are ignored, so nobody learns that they exist. Errors: UNAUTHENTICATED,
	// FORBIDDEN, BAD_USER_INPUT (more than MaxPageSize ids).
	MarkNotificationsRead(ctx context.Context, ids []string) (int, error)
}

// notificationJSON is a notification as the data of its topic event.
type notificationJSON struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind"`
	Title       string    `json:"title"`
	Body        string    `json:"body,omitempty"`
	Link        string    `json:"link,omitempty"`
	SubjectType string    `json:"subjectType,omitempty"`
	SubjectID   string    `json:"subjectId,omitempty"`
	CreatedAt   time.Time `json:"createdAt"`
}

// EventData returns the notification as the data of the topic event that announces it.
func (n *Notification) EventData() json.RawMessage {
	// Marshalling a struct of strings and a time cannot fail.
	b, _ := json.Marshal(notificationJSON{ID: n.ID, Kind: n.Kind, Title: n.Title, Body: n.Body, Link: n.Link,
		SubjectType: n.SubjectType, SubjectID: n.SubjectID, CreatedAt: n.CreatedAt})
	return b
}

// NotificationOf returns the notification a topic event of TopicNotification announces.
func NotificationOf(e *TopicEvent) (*Notification, error) {
	var n notificationJSON
	if err := json.Unmarshal(e.Data, &n); err != nil {
		return nil, fmt.Errorf("decode notification event %s: %w", e.Cursor(), err)
	}
	return &Notification{ID: n.ID, CitizenID: e.CitizenID, Kind: n.Kind, Title: n.Title, Body: n.Body,
		Link: n.Link, SubjectType: n.SubjectType, SubjectID: n.SubjectID, CreatedAt: n.CreatedAt}, nil
}
