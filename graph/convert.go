package graph

import (
	"time"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/graph/model"
)

var weekdays = [...]model.Weekday{
	time.Sunday: model.WeekdaySunday, time.Monday: model.WeekdayMonday, time.Tuesday: model.WeekdayTuesday,
	time.Wednesday: model.WeekdayWednesday, time.Thursday: model.WeekdayThursday, time.Friday: model.WeekdayFriday,
	time.Saturday: model.WeekdaySaturday,
}

func optionalStatus(s sportello.Status) *sportello.Status {
	if s == "" {
		return nil
	}
	return &s
}

func contactInput(c *model.ContactInput) *sportello.Contact {
	if c == nil {
		return nil
	}
	return &sportello.Contact{Name: deref(c.Name), Email: deref(c.Email), Phone: deref(c.Phone)}
}

func submissionPayload(sub *sportello.Submission) *model.SubmitTicketPayload {
	return &model.SubmitTicketPayload{Ticket: sub.Ticket, ProtocolNumber: sub.Ticket.Protocol.String(),
		ReceiptCode: optional(sub.ReceiptCode)}
}

func ticketFilter(f *model.TicketFilter) sportello.TicketFilter {
	if f == nil {
		return sportello.TicketFilter{}
	}
	return sportello.TicketFilter{
		Statuses: f.Statuses, Kinds: f.Kinds, Channels: f.Channels, OfficeIDs: f.OfficeIds,
		AssigneeIDs: f.AssigneeIds, CitizenID: deref(f.CitizenID), Overdue: f.Overdue,
		CreatedFrom: f.CreatedFrom, CreatedTo: f.CreatedTo, Text: deref(f.Text), Near: area(f.Near),
	}
}

func area(a *model.AreaInput) *sportello.Area {
	if a == nil {
		return nil
	}
	return &sportello.Area{Latitude: a.Latitude, Longitude: a.Longitude, RadiusMeters: a.RadiusMeters}
}

// locationInput maps a location argument. The domain has no "half a coordinate pair", so one
// coordinate without the other is refused here, naming the one missing.
func locationInput(in *model.LocationInput) (*sportello.Location, error) {
	if in == nil {
		return nil, nil
	}
	switch {
	case in.Latitude != nil && in.Longitude == nil:
		return nil, sportello.InvalidField("location.longitude", "give latitude and longitude together")
	case in.Latitude == nil && in.Longitude != nil:
		return nil, sportello.InvalidField("location.latitude", "give latitude and longitude together")
	}
	l := &sportello.Location{Address: deref(in.Address)}
	if in.Latitude != nil {
		l.Latitude, l.Longitude = *in.Latitude, *in.Longitude
		if !l.HasCoordinates() {
			return nil, sportello.InvalidField("location", "0,0 is not a place in a municipality")
		}
	}
	return l, nil
}

// weekdayOf is the inverse of weekdays.
func weekdayOf(w model.Weekday) time.Weekday {
	for d, name := range weekdays {
		if name == w {
			return time.Weekday(d)
		}
	}
	return -1 // refused by validation, as no schema value maps here
}

// orNow returns the instant given, or now when the argument was left out.
func orNow(t *time.Time, now func() time.Time) time.Time {
	if t == nil {
		return now()
	}
	return *t
}

func optionalOutcome(o sportello.AccessOutcome) *sportello.AccessOutcome {
	if o == "" {
		return nil
	}
	return &o
}

func recordsAccessInput(in *model.RecordsAccessInput) *sportello.RecordsAccessInput {
	if in == nil {
		return nil
	}
	return &sportello.RecordsAccessInput{Type: in.Type, Interest: deref(in.Interest), Documents: in.Documents,
		ActReference: deref(in.ActReference), ActID: deref(in.ActID), Motivation: deref(in.Motivation),
		CounterParties: in.CounterParties}
}
