package db

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	sportello "github.com/sportello/sportello"
)

// historyTickets is how many tickets of the past year the demo municipality has, so that its
// statistics and six-monthly reports have something to show.
const historyTickets = 360

// historySubjects are subjects of past tickets, by kind.
var historySubjects = map[sportello.Kind][]string{
	sportello.KindInformation: {"Orari dell'anagrafe", "Documenti per il cambio di residenza", "Scadenza della TARI", "Iscrizione al nido comunale"},
	sportello.KindAssistance:  {"Aiuto con SPID", "Compilazione della domanda di bonus", "Pagamento pagoPA non riuscito"},
	sportello.KindPetition:    {"Istanza di rateizzazione IMU", "Richiesta di contributo per disabili"},
	sportello.KindProposal:    {"Una panchina al parco giochi", "Navetta per il mercato"},
	sportello.KindComplaint:   {"Attesa troppo lunga allo sportello", "Rifiuti non raccolti", "Risposta scortese al telefono", "Bolletta TARI errata"},
	sportello.KindReport:      {"Buca in via Roma", "Lampione spento", "Albero pericolante", "Perdita d'acqua in piazza"},
	sportello.KindSuggestion:  {"Orari di apertura serali", "Più prenotazioni online"},
}

// seedHistory files the tickets of the past year, numbered in order of filing, each answered
// (or not) as a real office would: most within their term, some late, some still open, with the
// citizens' feedback on about half of the answered ones. The kinds that need an identity, and a
// fifth of the others, are a registered citizen's; the rest are anonymous. It uses a fixed seed, so every demo municipality has the same history
// relative to the day it is created.
func seedHistory(ctx context.Context, d *DB, officeIDs map[string]string) error {
	rng := rand.New(rand.NewPCG(2026, 7))
	now := d.now()
	kinds := []sportello.Kind{sportello.KindInformation, sportello.KindInformation, sportello.KindInformation,
		sportello.KindAssistance, sportello.KindAssistance, sportello.KindPetition, sportello.KindProposal,
		sportello.KindComplaint, sportello.KindComplaint, sportello.KindReport, sportello.KindReport, sportello.KindReport,
		sportello.KindSuggestion}
	channels := []sportello.Channel{sportello.ChannelWeb, sportello.ChannelWeb, sportello.ChannelApp, sportello.ChannelApp,
		sportello.ChannelApp, sportello.ChannelCounter, sportello.ChannelCounter, sportello.ChannelPhone,
		sportello.ChannelEmail, sportello.ChannelPEC}
	var offices []string
	for _, o := range demoOffices {
		offices = append(offices, officeIDs[o.name])
	}
	created := make([]time.Time, historyTickets)
	for i := range created {
		day := now.AddDate(0, 0, -2-rng.IntN(360))
		created[i] = time.Date(day.Year(), day.Month(), day.Day(), 8+rng.IntN(10), rng.IntN(60), 0, 0, sportello.Rome)
	}
	slices.SortFunc(created, func(a, b time.Time) int { return a.Compare(b) })
	return d.inTx(ctx, func(tx *sqlx.Tx) error {
		schedules, err := loadSchedules(ctx, tx, sportello.DefaultTenantID, offices)
		if err != nil {
			return err
		}
		var citizenID string
		if err := tx.GetContext(ctx, &citizenID, `INSERT INTO citizens (tenant_id, given_name, family_name, email)
			VALUES ($1, 'Lucia', 'Ferri', 'lucia.ferri@example.it') RETURNING id`, sportello.DefaultTenantID); err != nil {
			return fmt.Errorf("seed history citizen: %w", err)
		}
		for i, at := range created {
			kind := kinds[rng.IntN(len(kinds))]
			office := offices[rng.IntN(len(offices))]
			// Offices differ: the later in the list, the slower they answer.
			slowness := 1 + float64(slices.Index(offices, office))/3
			h := history{kind: kind, channel: channels[rng.IntN(len(channels))], office: office,
				subject: historySubjects[kind][rng.IntN(len(historySubjects[kind]))], created: at,
				due: sportello.DueAt(at, sportello.DefaultResponseDays)}
			first := at.Add(time.Duration(float64(2+rng.IntN(96))*slowness) * time.Hour)
			answered := at.Add(time.Duration(float64(24*(1+rng.IntN(24)))*slowness) * time.Hour)
			if first.After(answered) {
				first = answered
			}
			switch {
			case answered.After(now):
				h.status = sportello.StatusInProgress
				if first.Before(now) {
					h.firstResponse = &first
				}
			case rng.IntN(10) == 0:
				h.status = sportello.StatusRejected
			case rng.IntN(2) == 0:
				h.status = sportello.StatusClosed
			default:
				h.status = sportello.StatusResolved
			}
			if h.status != sportello.StatusInProgress {
				h.firstResponse, h.answered = &first, &answered
				if s := schedules[office]; s != nil {
					fr, res := int64(s.Between(at, first)/time.Second), int64(s.Between(at, answered)/time.Second)
					h.firstSeconds, h.answerSeconds = &fr, &res
				}
				if h.status != sportello.StatusRejected && rng.IntN(2) == 0 {
					h.feedback = feedbackFor(rng, answered.After(h.due))
				}
			}
			if i%5 == 0 || !kind.AnonymousAllowed() {
				h.citizenID = citizenID
			}
			if err := h.insert(ctx, tx); err != nil {
				return err
			}
		}
		return nil
	})
}

// feedbackFor draws a citizen's judgement: mostly positive for answers on time, mostly not for
// late ones.
func feedbackFor(rng *rand.Rand, late bool) sportello.FeedbackLevel {
	n := rng.IntN(10)
	switch {
	case late && n < 5, !late && n == 0:
		return sportello.FeedbackNegative
	case late && n < 8, !late && n < 3:
		return sportello.FeedbackNeutral
	}
	return sportello.FeedbackPositive
}

// history is one past ticket of the demo.
type history struct {
	kind                        sportello.Kind
	channel                     sportello.Channel
	office, subject, citizenID  string
	status                      sportello.Status
	created, due                time.Time
	firstResponse, answered     *time.Time
	firstSeconds, answerSeconds *int64
	feedback                    sportello.FeedbackLevel
}

func (h *history) insert(ctx context.Context, tx *sqlx.Tx) error {
	p, err := takeProtocolNumber(ctx, tx, sportello.DefaultTenantID, h.created)
	if err != nil {
		return err
	}
	var resolved *time.Time
	if h.status == sportello.StatusResolved || h.status == sportello.StatusClosed {
		resolved = h.answered
	}
	updated := h.created
	if h.answered != nil {
		updated = *h.answered
	}
	contactName := ""
	if h.citizenID == "" {
		contactName = "Cittadino"
	}
	var row ticketRow
	if err := tx.GetContext(ctx, &row, `INSERT INTO tickets AS t (tenant_id, protocol_year, protocol_seq, kind, channel, status,
		subject, body, citizen_id, contact_name, office_id, created_at, updated_at, due_at, resolved_at, first_responded_at,
		answered_at, first_response_office_seconds, resolution_office_seconds)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
		RETURNING `+ticketColumns,
		sportello.DefaultTenantID, p.Year, p.Seq, h.kind, h.channel, h.status, h.subject, nullID(h.citizenID), contactName,
		h.office, h.created, updated, h.due, resolved, h.firstResponse, h.answered, h.firstSeconds, h.answerSeconds); err != nil {
		return fmt.Errorf("seed history: %w", err)
	}
	if err := appendEvent(ctx, tx, row.ticket(), sportello.Actor{Kind: sportello.ActorSystem, Name: "Archivio"},
		sportello.EventCreated, false, sportello.EventData{ToStatus: sportello.StatusSubmitted, OfficeID: h.office}, h.created); err != nil {
		return err
	}
	if h.feedback == "" {
		return nil
	}
	givenBy := sportello.ActorCitizen
	if h.citizenID == "" {
		givenBy = sportello.ActorAnonymous
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_feedback (ticket_id, tenant_id, level, rating, comment, given_by, created_at)
		VALUES ($1, $2, $3, NULL, '', $4, $5)`, row.ID, sportello.DefaultTenantID, h.feedback, givenBy,
		h.answered.Add(26*time.Hour)); err != nil {
		return fmt.Errorf("seed feedback: %w", err)
	}
	return nil
}
