package db

import (
	"context"
	"fmt"

	sportello "github.com/sportello/sportello"
)

// seedAppointments sets the URP's desk to 20-minute slots at two counters and books its first
// two free slots from tomorrow: one by the demo citizen in the app, one by the demo operator
// for the citizen registered at the desk.
func seedAppointments(ctx context.Context, d *DB, urp string) error {
	appointments := NewAppointmentService(d)
	managerCtx := sportello.WithUser(ctx, &DemoManager)
	if _, err := appointments.SetBookingSettings(managerCtx, urp, sportello.BookingSettingsInput{
		SlotMinutes: new(20), Counters: new(2)}); err != nil {
		return fmt.Errorf("seed booking settings: %w", err)
	}
	var giulia string
	if err := d.GetContext(ctx, &giulia, `SELECT id FROM citizens WHERE tenant_id = $1 AND fiscal_code = 'BNCGLI80A41H501C'`,
		sportello.DefaultTenantID); err != nil {
		return fmt.Errorf("seed appointments: %w", err)
	}
	tomorrow := sportello.DateOf(d.Now()).AddDays(1)
	slots, err := appointments.AvailableSlots(managerCtx, urp, tomorrow, tomorrow.AddDays(7), "")
	if err != nil {
		return fmt.Errorf("seed appointments: %w", err)
	}
	if len(slots) < 2 {
		return fmt.Errorf("seed appointments: the URP has %d free slots next week", len(slots))
	}
	for _, b := range []struct {
		ctx context.Context
		in  sportello.BookAppointmentInput
	}{
		{sportello.WithUser(ctx, &DemoCitizen), sportello.BookAppointmentInput{OfficeID: urp, Start: slots[0].Start,
			Topic: "Rinnovo della carta d'identità elettronica", Notes: "Porto la vecchia carta e una fototessera."}},
		{sportello.WithUser(ctx, &DemoOperator), sportello.BookAppointmentInput{OfficeID: urp, Start: slots[1].Start,
			Topic: "Compilazione della domanda di contributo affitto", CitizenID: giulia}},
	} {
		if _, err := appointments.BookAppointment(b.ctx, b.in); err != nil {
			return fmt.Errorf("seed appointment: %w", err)
		}
	}
	return nil
}
