package sportello

import (
	"context"
	"slices"
	"strings"
	"text/template"
	"time"
)

// TicketNotice is a change of a ticket that its citizen is told about.
type TicketNotice string

// The notices.
const (
	NoticeReceived        TicketNotice = "RECEIVED"
	NoticeAnswered        TicketNotice = "ANSWERED"
	NoticeWaiting         TicketNotice = "WAITING_FOR_CITIZEN"
	NoticeResolved        TicketNotice = "RESOLVED"
	NoticeDeadlineChanged TicketNotice = "DEADLINE_CHANGED"
)

// TicketNotices lists every notice.
var TicketNotices = []TicketNotice{NoticeReceived, NoticeAnswered, NoticeWaiting, NoticeResolved, NoticeDeadlineChanged}

// NotificationKindTicket is the Kind of the app notifications about tickets.
const NotificationKindTicket = "TICKET_UPDATE"

// NoticesOf returns what the ticket's citizen is told of an event: nothing for internal events
// and for what the citizen did themselves, a notice for the replies and moves of the office,
// and DEADLINE_CHANGED when the ticket's deadline is no longer the one last told (toldDue; zero
// when none was).
func NoticesOf(e *Event, t *Ticket, toldDue time.Time) []TicketNotice {
	if e.Internal || t.CitizenID == "" {
		return nil
	}
	var out []TicketNotice
	switch {
	case e.Type == EventCreated:
		return []TicketNotice{NoticeReceived}
	case e.Type == EventMessagePosted && e.Actor.Kind == ActorStaff:
		out = append(out, NoticeAnswered)
	case e.Type == EventStatusChanged && e.Data.ToStatus == StatusWaitingForCitizen:
		out = append(out, NoticeWaiting)
	case e.Type == EventStatusChanged && (e.Data.ToStatus == StatusResolved || e.Data.ToStatus == StatusRejected):
		out = append(out, NoticeResolved)
	}
	if !toldDue.IsZero() && !toldDue.Equal(t.DueAt) && t.Status.Open() {
		out = append(out, NoticeDeadlineChanged)
	}
	return out
}

// NotificationPreferences are how a citizen wants to hear of their tickets.
type NotificationPreferences struct {
	// EmailNotices are the notices sent by e-mail.
	EmailNotices []TicketNotice
	// App says whether notices are stored for the app.
	App bool
}

// DefaultNotificationPreferences are those of a citizen who set none: everything, everywhere.
func DefaultNotificationPreferences() *NotificationPreferences {
	return &NotificationPreferences{EmailNotices: slices.Clone(TicketNotices), App: true}
}

// Validate checks the notices. Errors: BAD_USER_INPUT.
func (p *NotificationPreferences) Validate() error {
	for _, n := range p.EmailNotices {
		if !slices.Contains(TicketNotices, n) {
			return InvalidField("emailNotices", "unknown notice %q", n)
		}
	}
	slices.Sort(p.EmailNotices)
	p.EmailNotices = slices.Compact(p.EmailNotices)
	return nil
}

// NotificationPreferenceService keeps citizens' notification preferences.
type NotificationPreferenceService interface {
	// NotificationPreferences returns the signed-in citizen's preferences. Errors:
	// UNAUTHENTICATED, FORBIDDEN.
	NotificationPreferences(ctx context.Context) (*NotificationPreferences, error)
	// SetNotificationPreferences replaces them. Errors: BAD_USER_INPUT, UNAUTHENTICATED,
	// FORBIDDEN.
	SetNotificationPreferences(ctx context.Context, p NotificationPreferences) (*NotificationPreferences, error)
}

// OutgoingMail is an e-mail to a citizen.
type OutgoingMail struct {
	To      string
	Subject string
	Body    string
	// MessageID is the same for every attempt to send one delivery, so that a mail server or
	// program that receives it twice can tell.
	MessageID string
}

// Mailer sends e-mail. An error means the message was not accepted and may be tried again.
type Mailer interface {
	Send(ctx context.Context, m *OutgoingMail) error
}

// NoticeData is what the texts of a notice say.
type NoticeData struct {
	Notice   TicketNotice
	Name     string // the citizen's
	Protocol string
	Subject  string // the ticket's
	Status   Status
	DueAt    time.Time
	Link     string
}

// DueDate is the deadline as Italians write it, in Rome.
func (d NoticeData) DueDate() string { return d.DueAt.In(Rome).Format("02/01/2006") }

var noticeTitles = map[TicketNotice]string{
	NoticeReceived:        "Richiesta ricevuta",
	NoticeAnswered:        "Nuova risposta dell'ufficio",
	NoticeWaiting:         "L'ufficio attende una sua risposta",
	NoticeResolved:        "Richiesta conclusa",
	NoticeDeadlineChanged: "Nuova scadenza",
}

var noticeLines = map[TicketNotice]*template.Template{
	NoticeReceived: template.Must(template.New("").Parse(
		`abbiamo ricevuto la sua richiesta e l'abbiamo protocollata con il numero {{.Protocol}}. L'ufficio risponderà entro il {{.DueDate}}.`)),
	NoticeAnswered: template.Must(template.New("").Parse(
		`l'ufficio ha risposto alla sua richiesta n. {{.Protocol}}.`)),
	NoticeWaiting: template.Must(template.New("").Parse(
		`per proseguire con la sua richiesta n. {{.Protocol}} l'ufficio attende una sua risposta o un'integrazione.`)),
	NoticeResolved: template.Must(template.New("").Parse(
		`la sua richiesta n. {{.Protocol}} è stata {{if eq .Status "REJECTED"}}respinta{{else}}conclusa{{end}}.`)),
	NoticeDeadlineChanged: template.Must(template.New("").Parse(
		`la scadenza della sua richiesta n. {{.Protocol}} è ora il {{.DueDate}}.`)),
}

var noticeMail = template.Must(template.New("").Parse(`Gentile {{.Name}},

{{.Line}}

Oggetto: {{.Subject}}
Protocollo: {{.Protocol}}

Può leggere la richiesta e rispondere qui:
{{.Link}}

Può anche rispondere a questa e-mail lasciando il numero di protocollo nell'oggetto.

Ufficio Relazioni con il Pubblico
Per non ricevere più questi messaggi, cambi le preferenze di notifica nell'app o sul portale.
`))

// RenderNotice returns the title and text of a notice, for the app, and the subject and body of
// its e-mail, in Italian.
func RenderNotice(d NoticeData) (title, text, mailSubject, mailBody string, err error) {
	var line strings.Builder
	if err := noticeLines[d.Notice].Execute(&line, d); err != nil {
		return "", "", "", "", err
	}
	title = noticeTitles[d.Notice]
	l := line.String()
	text = strings.ToUpper(l[:1]) + l[1:]
	var body strings.Builder
	if err := noticeMail.Execute(&body, struct {
		NoticeData
		Line string
	}{d, l}); err != nil {
		return "", "", "", "", err
	}
	return title, text, "Prot. " + d.Protocol + " – " + title, body.String(), nil
}
