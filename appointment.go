package sportello

import (
	"context"
	"strings"
	"time"
)

// BookingSettings are how an office takes appointments at its desk: the length of a slot, how
// many counters receive at once, how far ahead and how late citizens may book, and whether a
// booking is registered with a protocol number. Offices that never set them use
// DefaultBookingSettings.
type BookingSettings struct {
	OfficeID          string
	SlotMinutes       int
	Counters          int  // desks receiving in parallel: a slot takes that many bookings
	HorizonDays       int  // the last day that can be booked is today plus HorizonDays
	MinNoticeMinutes  int  // a slot must start at least this long after the booking
	ProtocolOnBooking bool // each booking takes a protocol number, as a ticket does
}

// Defaults and limits of booking settings.
const (
	DefaultSlotMinutes      = 20
	DefaultCounters         = 1
	DefaultHorizonDays      = 30
	DefaultMinNoticeMinutes = 120

	MinSlotMinutes      = 5
	MaxSlotMinutes      = 240
	MaxCounters         = 50
	MaxHorizonDays      = 366
	MaxMinNoticeMinutes = 14 * 24 * 60
)

// DefaultBookingSettings returns the settings of an office that has not set its own.
func DefaultBookingSettings(officeID string) *BookingSettings {
	return &BookingSettings{OfficeID: officeID, SlotMinutes: DefaultSlotMinutes, Counters: DefaultCounters,
		HorizonDays: DefaultHorizonDays, MinNoticeMinutes: DefaultMinNoticeMinutes}
}

// Validate checks the settings' bounds; it returns BAD_USER_INPUT naming the field as
// input.<name>.
func (b *BookingSettings) Validate() error {
	for _, f := range []struct {
		field    string
		v, lo, h int
	}{
		{"input.slotMinutes", b.SlotMinutes, MinSlotMinutes, MaxSlotMinutes},
		{"input.counters", b.Counters, 1, MaxCounters},
		{"input.horizonDays", b.HorizonDays, 1, MaxHorizonDays},
		{"input.minNoticeMinutes", b.MinNoticeMinutes, 0, MaxMinNoticeMinutes},
	} {
		if f.v < f.lo || f.v > f.h {
			return InvalidField(f.field, "must be between %d and %d", f.lo, f.h)
		}
	}
	return nil
}

// BookingSettingsInput changes some of an office's settings; nil fields keep their value.
type BookingSettingsInput struct {
	SlotMinutes       *int
	Counters          *int
	HorizonDays       *int
	MinNoticeMinutes  *int
	ProtocolOnBooking *bool
}

// Apply returns b with the input's fields set.
func (in BookingSettingsInput) Apply(b BookingSettings) BookingSettings {
	for _, f := range []struct{ dst, src *int }{
		{&b.SlotMinutes, in.SlotMinutes}, {&b.Counters, in.Counters}, {&b.HorizonDays, in.HorizonDays},
		{&b.MinNoticeMinutes, in.MinNoticeMinutes},
	} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	if in.ProtocolOnBooking != nil {
		b.ProtocolOnBooking = *in.ProtocolOnBooking
	}
	return b
}

// SlotLength is the length of one slot.
func (b *BookingSettings) SlotLength() time.Duration {
	return time.Duration(b.SlotMinutes) * time.Minute
}

// Slot is one bookable piece of an opening, [Start, End).
type Slot struct {
	Start time.Time
	End   time.Time
	// Free is how many counters are still free: a slot is offered while it is above zero.
	Free int
}

// Slots cuts the openings of the days from..to (closures and national holidays left out) into
// consecutive pieces of length from each opening's start; a remainder shorter than length is
// not offered. The pieces follow the instants of the opening, so on the night the clocks go
// back a 01:00-04:00 opening gives four one-hour slots, two of them starting at 02:00 on the
// clock.
func (s *Schedule) Slots(from, to Date, length time.Duration) []Slot {
	if length <= 0 {
		return nil
	}
	var out []Slot
	var buf []interval
	for d := from; d.Compare(to) <= 0; d = d.AddDays(1) {
		buf = s.openings(d, buf)
		for _, iv := range buf {
			for start := iv.from; !start.Add(length).After(iv.to); start = start.Add(length) {
				out = append(out, Slot{Start: start, End: start.Add(length)})
			}
		}
	}
	return out
}

// MaxSlotRangeDays bounds the days one search for free slots may span.
const MaxSlotRangeDays = 31

// ValidateSlotRange checks a range of days to search for slots: to not before from, at most
// MaxSlotRangeDays days in all. Errors: BAD_USER_INPUT on "to".
func ValidateSlotRange(from, to Date) error {
	if to.Compare(from) < 0 {
		return InvalidField("to", "must not be before from")
	}
	if from.DaysUntil(to) >= MaxSlotRangeDays {
		return InvalidField("to", "at most %d days from from, included", MaxSlotRangeDays)
	}
	return nil
}

// BookableSlots returns the slots of the days from..to that can be booked at now: those that
// start after the minimum notice and no later than the horizon's last day. Free is left zero
// for the caller to fill from the bookings.
func BookableSlots(s *Schedule, b *BookingSettings, from, to Date, now time.Time) []Slot {
	earliest := now.Add(time.Duration(b.MinNoticeMinutes) * time.Minute)
	last := DateOf(now).AddDays(b.HorizonDays)
	if to.Compare(last) > 0 {
		to = last
	}
	if first := DateOf(earliest); from.Compare(first) < 0 {
		from = first
	}
	all := s.Slots(from, to, b.SlotLength())
	out := all[:0]
	for _, sl := range all {
		if !sl.Start.Before(earliest) {
			out = append(out, sl)
		}
	}
	return out
}

// CheckSlotStart returns the slot that starts at start if it can be booked at now, and
// BAD_USER_INPUT naming field otherwise: start is not the start of one of the office's slots
// (outside its hours, on a closure, not on the slot grid), or it is too soon or too far ahead.
func CheckSlotStart(s *Schedule, b *BookingSettings, start, now time.Time, field string) (Slot, error) {
	day := DateOf(start)
	if start.Before(now.Add(time.Duration(b.MinNoticeMinutes) * time.Minute)) {
		return Slot{}, InvalidField(field, "must be at least %d minutes from now", b.MinNoticeMinutes)
	}
	if day.Compare(DateOf(now).AddDays(b.HorizonDays)) > 0 {
		return Slot{}, InvalidField(field, "can be booked at most %d days ahead", b.HorizonDays)
	}
	for _, sl := range s.Slots(day, day, b.SlotLength()) {
		if sl.Start.Equal(start) {
			return sl, nil
		}
	}
	return Slot{}, InvalidField(field, "is not the start of a free slot of the office: ask availableSlots")
}

// AppointmentStatus is where an appointment stands.
type AppointmentStatus string

// The statuses of an appointment. Only BOOKED moves: to CANCELLED before the start, to
// ATTENDED or NO_SHOW after it.
const (
	AppointmentBooked    AppointmentStatus = "BOOKED"
	AppointmentCancelled AppointmentStatus = "CANCELLED"
	AppointmentAttended  AppointmentStatus = "ATTENDED"
	AppointmentNoShow    AppointmentStatus = "NO_SHOW"
)

// Appointment is a citizen's booking of a slot at an office's desk.
type Appointment struct {
	ID        string
	TenantID  string
	OfficeID  string
	CitizenID string
	ServiceID string // empty when the booking names a topic only
	Topic     string
	Notes     string
	Start     time.Time
	End       time.Time
	// Counter is the desk (1 to the office's counters) the booking holds in its slot.
	Counter int
	Status  AppointmentStatus
	// ConfirmationCode is the short code the citizen shows at the desk.
	ConfirmationCode string
	// Protocol is set when the office registers bookings (BookingSettings.ProtocolOnBooking).
	Protocol  *ProtocolNumber
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Limits on what a booking says.
const (
	MaxAppointmentTopicLen = 200
	MaxAppointmentNotesLen = 2000
)

// BookAppointmentInput is a booking, by a citizen for themselves or by staff for CitizenID.
type BookAppointmentInput struct {
	OfficeID  string
	Start     time.Time
	ServiceID string
	Topic     string
	Notes     string
	CitizenID string // staff only: the citizen the booking is for
}

// Validate trims and checks the topic and notes: a booking names a service, a topic or both.
// Errors: BAD_USER_INPUT naming the field.
func (in *BookAppointmentInput) Validate() error {
	in.Topic = strings.TrimSpace(in.Topic)
	in.Notes = strings.TrimSpace(in.Notes)
	if in.ServiceID == "" && in.Topic == "" {
		return InvalidField("input.topic", "name a topic or a service")
	}
	if err := checkLen("input.topic", in.Topic, 0, MaxAppointmentTopicLen); err != nil {
		return err
	}
	return checkLen("input.notes", in.Notes, 0, MaxAppointmentNotesLen)
}

// CheckAppointmentMove returns INVALID_TRANSITION unless an appointment in status from, starting
// at start, may move to status to at now. Cancelling and rescheduling (to BOOKED) are for
// before the start, except that staff may cancel a booking still open after it; attendance and
// no-shows are recorded after the start.
func CheckAppointmentMove(from, to AppointmentStatus, start, now time.Time, staff bool) error {
	if from != AppointmentBooked {
		return Errorf(CodeInvalidTransition, "the appointment is %s", from)
	}
	started := !now.Before(start)
	switch to {
	case AppointmentCancelled, AppointmentBooked:
		if started && !(staff && to == AppointmentCancelled) {
			return Errorf(CodeInvalidTransition, "the appointment has started")
		}
	case AppointmentAttended, AppointmentNoShow:
		if !started {
			return Errorf(CodeInvalidTransition, "the appointment has not started yet")
		}
	default:
		return Errorf(CodeInvalidTransition, "unknown status %s", to)
	}
	return nil
}

// AppointmentService books the desks of offices. Settings and free slots are public; citizens
// book, cancel and reschedule their own appointments; staff (OPERATOR, MANAGER, ADMIN) book for
// citizens, read every office's agenda and record attendance; MANAGER and ADMIN set the
// settings. A citizen asking for another citizen's appointment gets NOT_FOUND.
type AppointmentService interface {
	// BookingSettings returns the settings of each office among ids, defaults for offices
	// without their own; offices that do not exist are absent.
	BookingSettings(ctx context.Context, officeIDs []string) (map[string]*BookingSettings, error)
	// SetBookingSettings changes an office's settings; they apply to bookings made afterwards,
	// and bookings already made keep their slots. Errors: BAD_USER_INPUT, UNAUTHENTICATED,
	// FORBIDDEN, NOT_FOUND (office).
	SetBookingSettings(ctx context.Context, officeID string, in BookingSettingsInput) (*BookingSettings, error)
	// AvailableSlots lists the office's bookable slots on the days from..to with a free counter.
	// Errors: BAD_USER_INPUT (range, service of another office), NOT_FOUND (office, service).
	AvailableSlots(ctx context.Context, officeID string, from, to Date, serviceID string) ([]Slot, error)
	// BookAppointment books a slot. Errors: BAD_USER_INPUT (start not a bookable slot, topic,
	// notes, service), UNAUTHENTICATED, FORBIDDEN, NOT_FOUND (office, service, citizen),
	// CONFLICT (the slot is full, or the citizen has another appointment at that time).
	BookAppointment(ctx context.Context, in BookAppointmentInput) (*Appointment, error)
	// CancelAppointment cancels a booking, freeing its slot. Errors: UNAUTHENTICATED,
	// NOT_FOUND, INVALID_TRANSITION.
	CancelAppointment(ctx context.Context, id string) (*Appointment, error)
	// RescheduleAppointment moves a booking to another slot of its office: the old slot is
	// freed only if the new one is taken. Errors: as BookAppointment and CancelAppointment.
	RescheduleAppointment(ctx context.Context, id string, start time.Time) (*Appointment, error)
	// Appointment returns one appointment the caller may see. Errors: UNAUTHENTICATED,
	// NOT_FOUND.
	Appointment(ctx context.Context, id string) (*Appointment, error)
	// Agenda lists an office's appointments of a day, cancelled ones included, by start and
	// counter. Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND (office).
	Agenda(ctx context.Context, officeID string, day Date) ([]*Appointment, error)
	// MyAppointments lists the signed-in citizen's appointments from today on, by start.
	// Errors: UNAUTHENTICATED, FORBIDDEN.
	MyAppointments(ctx context.Context) ([]*Appointment, error)
	// MarkAppointment records, after the start, that the citizen came (ATTENDED) or did not
	// (NO_SHOW). Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, INVALID_TRANSITION.
	MarkAppointment(ctx context.Context, id string, to AppointmentStatus) (*Appointment, error)
}
