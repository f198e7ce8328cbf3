package sportello

import (
	"errors"
	"testing"
	"time"
)

func TestSlotsCutTheOpeningsIntoPiecesSkippingClosuresAndHolidays(t *testing.T) {
	urp := schedule(t, urpSlots, patronSaint)
	night := schedule(t, []OpeningSlot{{time.Sunday, "01:00", "04:00"}})
	for _, c := range []struct {
		name   string
		s      *Schedule
		day    Date
		length time.Duration
		starts []string // wall times in Rome, with the offset
	}{
		{"URP Tuesday, morning and afternoon", urp, Date{2026, 11, 17}, 20 * time.Minute, []string{
			"09:00+01", "09:20+01", "09:40+01", "10:00+01", "10:20+01", "10:40+01",
			"11:00+01", "11:20+01", "11:40+01", "12:00+01", "12:20+01", "12:40+01",
			"16:00+01", "16:20+01", "16:40+01", "17:00+01", "17:20+01", "17:40+01"}},
		{"a remainder shorter than a slot is not offered", urp, Date{2026, 11, 17}, 90 * time.Minute, []string{
			"09:00+01", "10:30+01", "16:00+01"}},
		{"national holiday (Immacolata, a Tuesday)", urp, Date{2026, 12, 8}, 20 * time.Minute, nil},
		{"local closure (patron saint, a Wednesday)", urp, Date{2026, 6, 24}, 20 * time.Minute, nil},
		{"Easter Monday", urp, Date{2026, 4, 6}, 20 * time.Minute, nil},
		{"clocks go forward: 02:00-03:00 does not happen", night, Date{2026, 3, 29}, time.Hour, []string{
			"01:00+01", "03:00+02"}},
		{"clocks go back: 02:00 happens twice", night, Date{2026, 10, 25}, time.Hour, []string{
			"01:00+02", "02:00+02", "02:00+01", "03:00+01"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := c.s.Slots(c.day, c.day, c.length)
			if len(got) != len(c.starts) {
				t.Fatalf("got %d slots %v, want %d", len(got), got, len(c.starts))
			}
			for i, sl := range got {
				if w := sl.Start.In(Rome).Format("15:04-07"); w != c.starts[i] {
					t.Errorf("slot %d starts %s, want %s", i, w, c.starts[i])
				}
				if sl.End.Sub(sl.Start) != c.length {
					t.Errorf("slot %d lasts %s", i, sl.End.Sub(sl.Start))
				}
			}
		})
	}
}

func TestBookableSlotsKeepTheMinimumNoticeAndTheHorizon(t *testing.T) {
	urp := schedule(t, urpSlots)
	b := &BookingSettings{SlotMinutes: 20, Counters: 2, HorizonDays: 7, MinNoticeMinutes: 120}
	now := rome(2026, 11, 17, 10, 5) // Tuesday morning
	for _, c := range []struct {
		name     string
		from, to Date
		want     int
		first    time.Time
	}{
		{"today: from 12:20 on, two hours after now on the grid", Date{2026, 11, 17}, Date{2026, 11, 17}, 2 + 6, rome(2026, 11, 17, 12, 20)},
		{"yesterday is past", Date{2026, 11, 16}, Date{2026, 11, 16}, 0, time.Time{}},
		{"the horizon's last day is bookable", Date{2026, 11, 24}, Date{2026, 11, 24}, 18, rome(2026, 11, 24, 9, 0)},
		{"after the horizon nothing is", Date{2026, 11, 25}, Date{2026, 11, 30}, 0, time.Time{}},
		{"a week: Tue rest, Wed, Thu, Fri, Mon, Tue", Date{2026, 11, 10}, Date{2026, 12, 31}, 8 + 12 + 18 + 12 + 12 + 18, rome(2026, 11, 17, 12, 20)},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := BookableSlots(urp, b, c.from, c.to, now)
			if len(got) != c.want {
				t.Fatalf("got %d slots, want %d", len(got), c.want)
			}
			if c.want > 0 && !got[0].Start.Equal(c.first) {
				t.Errorf("first slot %s, want %s", got[0].Start.In(Rome), c.first)
			}
		})
	}
}

func TestCheckSlotStartAcceptsOnlyBookableSlotStarts(t *testing.T) {
	urp := schedule(t, urpSlots, patronSaint)
	b := &BookingSettings{SlotMinutes: 20, Counters: 1, HorizonDays: 30, MinNoticeMinutes: 120}
	now := rome(2026, 6, 22, 10, 0) // Monday
	for _, c := range []struct {
		name  string
		start time.Time
		ok    bool
	}{
		{"a slot start", rome(2026, 6, 23, 16, 40), true},
		{"inside a slot", rome(2026, 6, 23, 16, 50), false},
		{"the closing time", rome(2026, 6, 23, 18, 0), false},
		{"outside the hours", rome(2026, 6, 23, 14, 0), false},
		{"on a closure", rome(2026, 6, 24, 9, 0), false},
		{"within the minimum notice", rome(2026, 6, 22, 11, 40), false},
		{"just after the minimum notice", rome(2026, 6, 22, 12, 0), true},
		{"in the past", rome(2026, 6, 19, 9, 0), false},
		{"beyond the horizon", rome(2026, 7, 23, 9, 0), false},
		{"on the horizon's last day", rome(2026, 7, 22, 9, 0), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			sl, err := CheckSlotStart(urp, b, c.start, now, "input.start")
			if c.ok {
				if err != nil || !sl.End.Equal(c.start.Add(20*time.Minute)) {
					t.Fatalf("slot %+v, error %v", sl, err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeBadUserInput || e.Field != "input.start" {
				t.Fatalf("error = %v, want BAD_USER_INPUT on input.start", err)
			}
		})
	}
}

func TestAppointmentMovesFollowTheStart(t *testing.T) {
	start := rome(2026, 6, 23, 9, 0)
	before, after := start.Add(-time.Minute), start.Add(time.Minute)
	for _, c := range []struct {
		from, to AppointmentStatus
		now      time.Time
		staff    bool
		ok       bool
	}{
		{AppointmentBooked, AppointmentCancelled, before, false, true},
		{AppointmentBooked, AppointmentCancelled, after, false, false},
		{AppointmentBooked, AppointmentCancelled, after, true, true},
		{AppointmentBooked, AppointmentBooked, before, false, true},
		{AppointmentBooked, AppointmentBooked, after, true, false},
		{AppointmentBooked, AppointmentAttended, before, true, false},
		{AppointmentBooked, AppointmentAttended, after, true, true},
		{AppointmentBooked, AppointmentNoShow, after, true, true},
		{AppointmentCancelled, AppointmentCancelled, before, true, false},
		{AppointmentAttended, AppointmentNoShow, after, true, false},
		{AppointmentNoShow, AppointmentAttended, after, true, false},
	} {
		err := CheckAppointmentMove(c.from, c.to, start, c.now, c.staff)
		if c.ok != (err == nil) || (err != nil && ErrorCode(err) != CodeInvalidTransition) {
			t.Errorf("%s -> %s at %s (staff %v): error %v", c.from, c.to, c.now.Format("15:04"), c.staff, err)
		}
	}
}

func TestBookingSettingsAndInputAreValidated(t *testing.T) {
	for field, b := range map[string]BookingSettings{
		"input.slotMinutes":      {SlotMinutes: 4, Counters: 1, HorizonDays: 1},
		"input.counters":         {SlotMinutes: 20, Counters: 0, HorizonDays: 1},
		"input.horizonDays":      {SlotMinutes: 20, Counters: 1, HorizonDays: 367},
		"input.minNoticeMinutes": {SlotMinutes: 20, Counters: 1, HorizonDays: 1, MinNoticeMinutes: -1},
	} {
		var e *Error
		if err := b.Validate(); !errors.As(err, &e) || e.Field != field {
			t.Errorf("%+v: error %v, want one on %s", b, err, field)
		}
	}
	if err := DefaultBookingSettings("").Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	in := BookAppointmentInput{Topic: "  "}
	var e *Error
	if err := in.Validate(); !errors.As(err, &e) || e.Field != "input.topic" {
		t.Errorf("no topic nor service: %v", err)
	}
	in = BookAppointmentInput{ServiceID: "x", Notes: string(make([]rune, MaxAppointmentNotesLen+1))}
	if err := in.Validate(); !errors.As(err, &e) || e.Field != "input.notes" {
		t.Errorf("long notes: %v", err)
	}
}
