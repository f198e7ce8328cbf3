package db_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
	"github.com/sportello/sportello/db/dbtest"
)

// deskTown is a database with the URP's week and a settable clock, stopped on Monday 16
// November 2026 at 10:00.
type deskTown struct {
	d     *db.DB
	s     *db.AppointmentService
	urp   string
	clock atomic.Pointer[time.Time]
}

func newDeskTown(t *testing.T, settings sportello.BookingSettingsInput) *deskTown {
	t.Helper()
	d := dbtest.New(t)
	town := &deskTown{d: d, s: db.NewAppointmentService(d)}
	town.set(romeAt(2026, 11, 16, 10, 0))
	d.Now = func() time.Time { return *town.clock.Load() }
	town.urp = newOffice(t, d, sportello.DefaultTenantID, "URP")
	if _, err := db.NewHoursService(d).SetOpeningHours(managerCtx(sportello.DefaultTenantID), town.urp, urpWeek); err != nil {
		t.Fatal(err)
	}
	if _, err := town.s.SetBookingSettings(managerCtx(sportello.DefaultTenantID), town.urp, settings); err != nil {
		t.Fatal(err)
	}
	return town
}

func (town *deskTown) set(at time.Time) { town.clock.Store(&at) }

func (town *deskTown) book(ctx context.Context, start time.Time) (*sportello.Appointment, error) {
	return town.s.BookAppointment(ctx, sportello.BookAppointmentInput{OfficeID: town.urp, Start: start, Topic: "Carta d'identità"})
}

// active counts the bookings holding a counter of the URP's slot at start.
func (town *deskTown) active(t *testing.T, start time.Time) int {
	t.Helper()
	var n int
	if err := town.d.Get(&n, `SELECT count(*) FROM appointments WHERE office_id = $1 AND start_at = $2 AND status <> 'CANCELLED'`,
		town.urp, start); err != nil {
		t.Fatal(err)
	}
	return n
}

func romeAt(y int, mo time.Month, d, h, mi int) time.Time {
	return time.Date(y, mo, d, h, mi, 0, 0, sportello.Rome)
}

func TestConcurrentBookingsOfOneSlotFillItsCountersAndNoMore(t *testing.T) {
	town := newDeskTown(t, sportello.BookingSettingsInput{Counters: new(2)})
	slot := romeAt(2026, 11, 17, 9, 20)
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = town.book(citizenCtx(fmt.Sprintf("concurrent-%d", i)), slot)
		}()
	}
	close(start)
	wg.Wait()
	var ok, conflicts int
	for _, err := range errs {
		switch sportello.ErrorCode(err) {
		case sportello.CodeConflict:
			conflicts++
		default:
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			ok++
		}
	}
	if ok != 2 || conflicts != n-2 {
		t.Fatalf("%d booked and %d conflicts, want 2 and %d", ok, conflicts, n-2)
	}
	if got := town.active(t, slot); got != 2 {
		t.Fatalf("%d active bookings in the slot, want 2", got)
	}
	var counters []int
	if err := town.d.Select(&counters, `SELECT counter FROM appointments ORDER BY counter`); err != nil {
		t.Fatal(err)
	}
	if len(counters) != 2 || counters[0] != 1 || counters[1] != 2 {
		t.Fatalf("counters %v, want [1 2]", counters)
	}
	slots, err := town.s.AvailableSlots(citizenCtx("looker"), town.urp, sportello.Date{Year: 2026, Month: 11, Day: 17},
		sportello.Date{Year: 2026, Month: 11, Day: 17}, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, sl := range slots {
		if sl.Start.Equal(slot) {
			t.Fatalf("the full slot is offered: %+v", sl)
		}
		if sl.Free != 2 {
			t.Fatalf("slot %s has %d free counters, want 2", sl.Start, sl.Free)
		}
	}
	if len(slots) != 17 {
		t.Fatalf("%d slots offered on Tuesday, want 17", len(slots))
	}
}

func TestCancellingFreesTheSlotAndOnlyTheOwnerOrStaffMayCancel(t *testing.T) {
	town := newDeskTown(t, sportello.BookingSettingsInput{})
	slot := romeAt(2026, 11, 17, 9, 0)
	first, err := town.book(citizenCtx("first"), slot)
	if err != nil {
		t.Fatal(err)
	}
	if first.Status != sportello.AppointmentBooked || len(first.ConfirmationCode) != 7 || first.Protocol != nil {
		t.Fatalf("booking = %+v", first)
	}
	_, err = town.book(citizenCtx("second"), slot)
	wantCode(t, err, sportello.CodeConflict)

	_, err = town.s.CancelAppointment(citizenCtx("second"), first.ID)
	wantCode(t, err, sportello.CodeNotFound)
	_, err = town.s.Appointment(citizenCtx("second"), first.ID)
	wantCode(t, err, sportello.CodeNotFound)

	cancelled, err := town.s.CancelAppointment(citizenCtx("first"), first.ID)
	if err != nil || cancelled.Status != sportello.AppointmentCancelled {
		t.Fatalf("cancel: %+v, %v", cancelled, err)
	}
	_, err = town.s.CancelAppointment(citizenCtx("first"), first.ID)
	wantCode(t, err, sportello.CodeInvalidTransition)
	if _, err := town.book(citizenCtx("second"), slot); err != nil {
		t.Fatalf("the cancelled slot is not free: %v", err)
	}

	// After the start the citizen can no longer cancel; staff can still mark the booking.
	town.set(slot.Add(time.Minute))
	mine, err := town.s.MyAppointments(citizenCtx("second"))
	if err != nil || len(mine) != 1 {
		t.Fatalf("my appointments: %+v, %v", mine, err)
	}
	_, err = town.s.CancelAppointment(citizenCtx("second"), mine[0].ID)
	wantCode(t, err, sportello.CodeInvalidTransition)
	_, err = town.s.MarkAppointment(citizenCtx("second"), mine[0].ID, sportello.AppointmentAttended)
	wantCode(t, err, sportello.CodeForbidden)
	noShow, err := town.s.MarkAppointment(operatorCtx("op"), mine[0].ID, sportello.AppointmentNoShow)
	if err != nil || noShow.Status != sportello.AppointmentNoShow {
		t.Fatalf("no-show: %+v, %v", noShow, err)
	}
	_, err = town.s.MarkAppointment(operatorCtx("op"), mine[0].ID, sportello.AppointmentAttended)
	wantCode(t, err, sportello.CodeInvalidTransition)
}

func TestRescheduleTakesTheNewSlotBeforeFreeingTheOld(t *testing.T) {
	town := newDeskTown(t, sportello.BookingSettingsInput{})
	x, y, z := romeAt(2026, 11, 17, 9, 0), romeAt(2026, 11, 17, 9, 20), romeAt(2026, 11, 17, 16, 0)
	mine, err := town.book(citizenCtx("mover"), x)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := town.book(citizenCtx("other"), y); err != nil {
		t.Fatal(err)
	}
	_, err = town.s.RescheduleAppointment(citizenCtx("mover"), mine.ID, y)
	wantCode(t, err, sportello.CodeConflict)
	if town.active(t, x) != 1 {
		t.Fatal("a refused reschedule freed the old slot")
	}
	_, err = town.s.RescheduleAppointment(citizenCtx("mover"), mine.ID, z.Add(10*time.Minute))
	wantField(t, err, sportello.CodeBadUserInput, "start")
	_, err = town.s.RescheduleAppointment(citizenCtx("other"), mine.ID, z)
	wantCode(t, err, sportello.CodeNotFound)

	moved, err := town.s.RescheduleAppointment(citizenCtx("mover"), mine.ID, z)
	if err != nil {
		t.Fatal(err)
	}
	if moved.ID != mine.ID || !moved.Start.Equal(z) || moved.ConfirmationCode != mine.ConfirmationCode {
		t.Fatalf("moved = %+v", moved)
	}
	if town.active(t, x) != 0 || town.active(t, z) != 1 {
		t.Fatal("the move did not free the old slot and take the new one")
	}
	if _, err := town.book(citizenCtx("third"), x); err != nil {
		t.Fatalf("the old slot is not free: %v", err)
	}
}

func TestACitizenHoldsOneAppointmentAtATime(t *testing.T) {
	town := newDeskTown(t, sportello.BookingSettingsInput{Counters: new(3)})
	other := newOffice(t, town.d, sportello.DefaultTenantID, "Anagrafe")
	if _, err := db.NewHoursService(town.d).SetOpeningHours(managerCtx(sportello.DefaultTenantID), other, urpWeek); err != nil {
		t.Fatal(err)
	}
	if _, err := town.s.SetBookingSettings(managerCtx(sportello.DefaultTenantID), other, sportello.BookingSettingsInput{SlotMinutes: new(30)}); err != nil {
		t.Fatal(err)
	}
	if _, err := town.book(citizenCtx("busy"), romeAt(2026, 11, 17, 9, 20)); err != nil {
		t.Fatal(err)
	}
	_, err := town.s.BookAppointment(citizenCtx("busy"), sportello.BookAppointmentInput{OfficeID: other,
		Start: romeAt(2026, 11, 17, 9, 30), Topic: "Residenza"})
	wantCode(t, err, sportello.CodeConflict)
	if _, err := town.s.BookAppointment(citizenCtx("busy"), sportello.BookAppointmentInput{OfficeID: other,
		Start: romeAt(2026, 11, 17, 10, 0), Topic: "Residenza"}); err != nil {
		t.Fatalf("a booking right after the first: %v", err)
	}
}

func TestStaffBookForACitizenAndReadTheAgenda(t *testing.T) {
	town := newDeskTown(t, sportello.BookingSettingsInput{Counters: new(2)})
	cit, err := db.NewCitizenService(town.d).CreateCitizen(operatorCtx("op"), sportello.CitizenInput{GivenName: "Giulia",
		FamilyName: "Bianchi", FiscalCode: "BNCGLI80A41H501C"})
	if err != nil {
		t.Fatal(err)
	}
	slot := romeAt(2026, 11, 17, 16, 20)
	a, err := town.s.BookAppointment(operatorCtx("op"), sportello.BookAppointmentInput{OfficeID: town.urp, Start: slot,
		Topic: "Contributo affitto", CitizenID: cit.ID})
	if err != nil || a.CitizenID != cit.ID {
		t.Fatalf("staff booking: %+v, %v", a, err)
	}
	if _, err := town.book(citizenCtx("self"), slot); err != nil {
		t.Fatal(err)
	}
	_, err = town.s.BookAppointment(citizenCtx("self"), sportello.BookAppointmentInput{OfficeID: town.urp,
		Start: slot.Add(20 * time.Minute), Topic: "x", CitizenID: cit.ID})
	wantCode(t, err, sportello.CodeForbidden)
	_, err = town.s.BookAppointment(operatorCtx("op"), sportello.BookAppointmentInput{OfficeID: town.urp,
		Start: slot.Add(20 * time.Minute), Topic: "x", CitizenID: "00000000-0000-0000-0000-000000000009"})
	wantField(t, err, sportello.CodeNotFound, "input.citizenId")

	day := sportello.Date{Year: 2026, Month: 11, Day: 17}
	agenda, err := town.s.Agenda(operatorCtx("op"), town.urp, day)
	if err != nil || len(agenda) != 2 || agenda[0].Counter != 1 || agenda[1].Counter != 2 {
		t.Fatalf("agenda: %+v, %v", agenda, err)
	}
	_, err = town.s.Agenda(citizenCtx("self"), town.urp, day)
	wantCode(t, err, sportello.CodeForbidden)
	if other, err := town.s.Agenda(operatorCtx("op"), town.urp, day.AddDays(1)); err != nil || len(other) != 0 {
		t.Fatalf("the next day's agenda: %+v, %v", other, err)
	}
}

func TestBookingsGetAProtocolNumberOnlyWhenTheOfficeAsks(t *testing.T) {
	town := newDeskTown(t, sportello.BookingSettingsInput{})
	plain, err := town.book(citizenCtx("a"), romeAt(2026, 11, 17, 9, 0))
	if err != nil || plain.Protocol != nil {
		t.Fatalf("booking without protocol: %+v, %v", plain, err)
	}
	if _, err := town.s.SetBookingSettings(managerCtx(sportello.DefaultTenantID), town.urp,
		sportello.BookingSettingsInput{ProtocolOnBooking: new(true)}); err != nil {
		t.Fatal(err)
	}
	registered, err := town.book(citizenCtx("b"), romeAt(2026, 11, 17, 9, 20))
	if err != nil || registered.Protocol == nil || registered.Protocol.String() != "2026/0000001" {
		t.Fatalf("booking with protocol: %+v, %v", registered, err)
	}
	sub, err := db.NewTicketService(town.d).SubmitTicket(citizenCtx("b"), sportello.SubmitTicketInput{Kind: sportello.KindInformation,
		Subject: "Orari", Body: "Quando aprite?"})
	if err != nil || sub.Ticket.Protocol.String() != "2026/0000002" {
		t.Fatalf("the ticket after a registered booking: %+v, %v", sub, err)
	}
	// A refused booking gives its number back.
	_, err = town.book(citizenCtx("c"), romeAt(2026, 11, 17, 9, 20))
	wantCode(t, err, sportello.CodeConflict)
	next, err := town.book(citizenCtx("c"), romeAt(2026, 11, 17, 9, 40))
	if err != nil || next.Protocol.String() != "2026/0000003" {
		t.Fatalf("next booking: %+v, %v", next, err)
	}
}

func TestBookingSettingsAndSlotsRefuseBadInputAndWriteNothing(t *testing.T) {
	town := newDeskTown(t, sportello.BookingSettingsInput{Counters: new(2)})
	mgr := managerCtx(sportello.DefaultTenantID)
	_, err := town.s.SetBookingSettings(mgr, town.urp, sportello.BookingSettingsInput{SlotMinutes: new(15), Counters: new(0)})
	wantField(t, err, sportello.CodeBadUserInput, "input.counters")
	_, err = town.s.SetBookingSettings(operatorCtx("op"), town.urp, sportello.BookingSettingsInput{Counters: new(3)})
	wantCode(t, err, sportello.CodeForbidden)
	_, err = town.s.SetBookingSettings(mgr, "00000000-0000-0000-0000-000000000009", sportello.BookingSettingsInput{})
	wantField(t, err, sportello.CodeNotFound, "officeId")
	got, err := town.s.BookingSettings(citizenCtx("x"), []string{town.urp})
	if err != nil || *got[town.urp] != (sportello.BookingSettings{OfficeID: town.urp, SlotMinutes: 20, Counters: 2,
		HorizonDays: 30, MinNoticeMinutes: 120}) {
		t.Fatalf("settings after refused changes: %+v, %v", got[town.urp], err)
	}

	mon := sportello.Date{Year: 2026, Month: 11, Day: 16}
	_, err = town.s.AvailableSlots(citizenCtx("x"), town.urp, mon, mon.AddDays(31), "")
	wantField(t, err, sportello.CodeBadUserInput, "to")
	_, err = town.s.AvailableSlots(citizenCtx("x"), "nope", mon, mon, "")
	wantField(t, err, sportello.CodeNotFound, "officeId")
	_, err = town.book(citizenCtx("x"), romeAt(2026, 11, 16, 11, 0)) // inside the minimum notice
	wantField(t, err, sportello.CodeBadUserInput, "input.start")
	_, err = town.s.BookAppointment(citizenCtx("x"), sportello.BookAppointmentInput{OfficeID: town.urp,
		Start: romeAt(2026, 11, 17, 9, 0)})
	wantField(t, err, sportello.CodeBadUserInput, "input.topic")
	_, err = town.book(sportello.WithUser(context.Background(), &sportello.User{TenantID: sportello.DefaultTenantID}),
		romeAt(2026, 11, 17, 9, 0))
	wantCode(t, err, sportello.CodeUnauthenticated)
	var n int
	if err := town.d.Get(&n, `SELECT count(*) FROM appointments`); err != nil || n != 0 {
		t.Fatalf("refused bookings wrote %d rows (%v)", n, err)
	}
	// Monday from 12:00 (two hours after 10:00), and nothing in the past.
	slots, err := town.s.AvailableSlots(citizenCtx("x"), town.urp, mon.AddDays(-3), mon, "")
	if err != nil || len(slots) != 3 || !slots[0].Start.Equal(romeAt(2026, 11, 16, 12, 0)) {
		t.Fatalf("Monday's slots: %+v, %v", slots, err)
	}
}
