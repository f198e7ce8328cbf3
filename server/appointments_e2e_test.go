package main

import (
	"fmt"
	"testing"
	"time"

	sportello "github.com/sportello/sportello"
)

type appointmentOut struct {
	ID               string
	Start            time.Time
	Counter          int
	Status           string
	ConfirmationCode string
	ProtocolNumber   *string
	Topic            string
	Citizen          *struct{ FullName string }
	Service          *struct{ Title string }
	Office           struct{ Name string }
}

const appointmentFields = `id start counter status confirmationCode protocolNumber topic
	citizen { fullName } service { title } office { name }`

func TestCitizensBookTheDeskAndOperatorsRunTheAgenda(t *testing.T) {
	s, set, urp := demoTown(t, rome(2026, 11, 16, 8, 0)) // a Monday, before opening
	alice := s.token(sportello.RoleCitizen, "alice")
	bob := s.token(sportello.RoleCitizen, "bob")
	carol := s.token(sportello.RoleCitizen, "carol")
	operator := s.token(sportello.RoleOperator, "op")

	// Anyone reads the settings the demo gives the URP and its free slots.
	var office struct {
		Office struct {
			Booking struct {
				SlotMinutes, Counters, HorizonDays, MinNoticeMinutes int
				ProtocolOnBooking                                    bool
			}
		}
		AvailableSlots []struct {
			Start, End time.Time
			Free       int
		}
		Services struct {
			Edges []struct{ Node struct{ ID, Title string } }
		}
	}
	s.ok("", `query($id: ID!) {
		office(id: $id) { booking { slotMinutes counters horizonDays minNoticeMinutes protocolOnBooking } }
		availableSlots(officeId: $id, from: "2026-11-16", to: "2026-11-16") { start end free }
		services(first: 1) { edges { node { id title } } }
	}`, map[string]any{"id": urp}, &office)
	if b := office.Office.Booking; b.SlotMinutes != 20 || b.Counters != 2 || b.HorizonDays != 30 || b.ProtocolOnBooking {
		t.Fatalf("URP booking settings = %+v", b)
	}
	// Monday 9-13, from two hours after 8:00: 10:00 to 12:40.
	slots := office.AvailableSlots
	if len(slots) != 9 || !slots[0].Start.Equal(rome(2026, 11, 16, 10, 0)) || slots[0].Free != 2 ||
		!slots[0].End.Equal(rome(2026, 11, 16, 10, 20)) {
		t.Fatalf("Monday's slots = %+v", slots)
	}
	service := office.Services.Edges[0].Node

	const book = `mutation($in: BookAppointmentInput!) { bookAppointment(input: $in) { ` + appointmentFields + ` } }`
	var booked struct{ BookAppointment appointmentOut }
	s.ok(alice, book, map[string]any{"in": map[string]any{"officeId": urp, "start": slots[0].Start, "serviceId": service.ID,
		"notes": "Porto la vecchia carta"}}, &booked)
	mine := booked.BookAppointment
	if mine.Status != "BOOKED" || mine.Counter != 1 || mine.ProtocolNumber != nil || len(mine.ConfirmationCode) != 7 ||
		mine.Service == nil || mine.Service.Title != service.Title || mine.Citizen == nil {
		t.Fatalf("booking = %+v", mine)
	}
	s.ok(bob, book, map[string]any{"in": map[string]any{"officeId": urp, "start": slots[0].Start, "topic": "Residenza"}}, &booked)
	if booked.BookAppointment.Counter != 2 {
		t.Fatalf("the second booking holds counter %d", booked.BookAppointment.Counter)
	}
	// The slot is full now: a third citizen cannot take it, and it is no longer offered.
	s.fails(carol, book, map[string]any{"in": map[string]any{"officeId": urp, "start": slots[0].Start, "topic": "Tributi"}},
		sportello.CodeConflict, "")
	s.fails(carol, book, map[string]any{"in": map[string]any{"officeId": urp, "start": rome(2026, 11, 16, 10, 10), "topic": "Tributi"}},
		sportello.CodeBadUserInput, "input.start")
	s.fails("", book, map[string]any{"in": map[string]any{"officeId": urp, "start": slots[1].Start, "topic": "Tributi"}},
		sportello.CodeUnauthenticated, "")
	var after struct{ AvailableSlots []struct{ Start time.Time } }
	s.ok("", `query($id: ID!) { availableSlots(officeId: $id, from: "2026-11-16", to: "2026-11-16") { start } }`,
		map[string]any{"id": urp}, &after)
	if len(after.AvailableSlots) != 8 || after.AvailableSlots[0].Start.Equal(slots[0].Start) {
		t.Fatalf("slots after the full one = %+v", after.AvailableSlots)
	}

	// Each citizen sees their own appointments, and never another's.
	var my struct{ MyAppointments []appointmentOut }
	s.ok(alice, `{ myAppointments { `+appointmentFields+` } }`, nil, &my)
	if len(my.MyAppointments) != 1 || my.MyAppointments[0].ID != mine.ID {
		t.Fatalf("alice's appointments = %+v", my.MyAppointments)
	}
	s.fails(bob, `query($id: ID!) { appointment(id: $id) { id } }`, map[string]any{"id": mine.ID}, sportello.CodeNotFound, "")
	s.fails(bob, `mutation($id: ID!) { cancelAppointment(id: $id) { id } }`, map[string]any{"id": mine.ID}, sportello.CodeNotFound, "")
	s.fails(alice, `query($id: ID!) { appointments(officeId: $id, day: "2026-11-16") { id } }`, map[string]any{"id": urp},
		sportello.CodeForbidden, "")

	// The operator's agenda, with citizens and services; attendance is recorded after the start.
	const agenda = `query($id: ID!) { appointments(officeId: $id, day: "2026-11-16") { ` + appointmentFields + ` } }`
	var day struct{ Appointments []appointmentOut }
	s.ok(operator, agenda, map[string]any{"id": urp}, &day)
	if len(day.Appointments) != 2 || day.Appointments[0].ID != mine.ID || day.Appointments[0].Citizen == nil ||
		day.Appointments[0].Citizen.FullName != "Nomealice Cognome" || day.Appointments[1].Topic != "Residenza" {
		t.Fatalf("agenda = %+v", day.Appointments)
	}
	const attended = `mutation($id: ID!) { markAttended(id: $id) { status } }`
	s.fails(operator, attended, map[string]any{"id": mine.ID}, sportello.CodeInvalidTransition, "")
	set(rome(2026, 11, 16, 10, 5))
	var marked struct{ MarkAttended struct{ Status string } }
	s.ok(operator, attended, map[string]any{"id": mine.ID}, &marked)
	if marked.MarkAttended.Status != "ATTENDED" {
		t.Fatalf("marked = %+v", marked)
	}
	s.fails(operator, `mutation($id: ID!) { markNoShow(id: $id) { status } }`, map[string]any{"id": mine.ID},
		sportello.CodeInvalidTransition, "")
	s.fails(alice, attended, map[string]any{"id": mine.ID}, sportello.CodeForbidden, "")
}

func TestBookingsAreRescheduledCancelledAndRegisteredWhenTheOfficeAsks(t *testing.T) {
	s, _, urp := demoTown(t, rome(2026, 11, 16, 8, 0))
	alice := s.token(sportello.RoleCitizen, "alice")
	manager := s.token(sportello.RoleManager, "mgr")
	const settings = `mutation($id: ID!, $in: BookingSettingsInput!) { setBookingSettings(officeId: $id, input: $in) {
		slotMinutes counters protocolOnBooking } }`
	s.fails(s.token(sportello.RoleOperator, "op"), settings, map[string]any{"id": urp, "in": map[string]any{"counters": 3}},
		sportello.CodeForbidden, "")
	s.fails(manager, settings, map[string]any{"id": urp, "in": map[string]any{"slotMinutes": 2}}, sportello.CodeBadUserInput, "input.slotMinutes")
	var changed struct {
		SetBookingSettings struct {
			SlotMinutes, Counters int
			ProtocolOnBooking     bool
		}
	}
	s.ok(manager, settings, map[string]any{"id": urp, "in": map[string]any{"protocolOnBooking": true}}, &changed)
	if c := changed.SetBookingSettings; c.SlotMinutes != 20 || c.Counters != 2 || !c.ProtocolOnBooking {
		t.Fatalf("settings = %+v", c)
	}

	next := fmt.Sprintf("2026/%07d", s.count(`SELECT max(protocol_seq) FROM tickets WHERE protocol_year = 2026`)+1)
	var booked struct{ BookAppointment appointmentOut }
	s.ok(alice, `mutation($in: BookAppointmentInput!) { bookAppointment(input: $in) { `+appointmentFields+` } }`,
		map[string]any{"in": map[string]any{"officeId": urp, "start": rome(2026, 11, 16, 11, 0), "topic": "Certificati"}}, &booked)
	if p := booked.BookAppointment.ProtocolNumber; p == nil || *p != next {
		t.Fatalf("protocol number = %v, want %s, the one after the demo's tickets", p, next)
	}
	id := booked.BookAppointment.ID
	var moved struct{ RescheduleAppointment appointmentOut }
	s.ok(alice, `mutation($id: ID!, $start: Time!) { rescheduleAppointment(id: $id, start: $start) { `+appointmentFields+` } }`,
		map[string]any{"id": id, "start": rome(2026, 11, 17, 16, 40)}, &moved)
	if m := moved.RescheduleAppointment; m.ID != id || !m.Start.Equal(rome(2026, 11, 17, 16, 40)) || *m.ProtocolNumber != next {
		t.Fatalf("moved = %+v", m)
	}
	s.fails(alice, `mutation($id: ID!, $start: Time!) { rescheduleAppointment(id: $id, start: $start) { id } }`,
		map[string]any{"id": id, "start": rome(2026, 11, 17, 14, 0)}, sportello.CodeBadUserInput, "start")
	var cancelled struct{ CancelAppointment struct{ Status string } }
	s.ok(alice, `mutation($id: ID!) { cancelAppointment(id: $id) { status } }`, map[string]any{"id": id}, &cancelled)
	if cancelled.CancelAppointment.Status != "CANCELLED" {
		t.Fatalf("cancelled = %+v", cancelled)
	}
}
