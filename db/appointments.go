package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	sportello "github.com/sportello/sportello"
)

// AppointmentService implements sportello.AppointmentService.
type AppointmentService struct {
	db *DB
}

// NewAppointmentService returns the appointment service over db.
func NewAppointmentService(db *DB) *AppointmentService {
	return &AppointmentService{db: db}
}

var _ sportello.AppointmentService = (*AppointmentService)(nil)

const appointmentColumns = `a.id, a.tenant_id, a.office_id, a.citizen_id, a.service_id, a.topic, a.notes,
	a.start_at, a.end_at, a.counter, a.status, a.confirmation_code, a.protocol_year, a.protocol_seq,
	a.created_at, a.updated_at`

type appointmentRow struct {
	ID               string         `db:"id"`
	TenantID         string         `db:"tenant_id"`
	OfficeID         string         `db:"office_id"`
	CitizenID        string         `db:"citizen_id"`
	ServiceID        sql.NullString `db:"service_id"`
	Topic            string         `db:"topic"`
	Notes            string         `db:"notes"`
	Start            time.Time      `db:"start_at"`
	End              time.Time      `db:"end_at"`
	Counter          int            `db:"counter"`
	Status           string         `db:"status"`
	ConfirmationCode string         `db:"confirmation_code"`
	ProtocolYear     sql.NullInt64  `db:"protocol_year"`
	ProtocolSeq      sql.NullInt64  `db:"protocol_seq"`
	CreatedAt        time.Time      `db:"created_at"`
	UpdatedAt        time.Time      `db:"updated_at"`
}

func (r *appointmentRow) appointment() *sportello.Appointment {
	a := &sportello.Appointment{ID: r.ID, TenantID: r.TenantID, OfficeID: r.OfficeID, CitizenID: r.CitizenID,
		ServiceID: r.ServiceID.String, Topic: r.Topic, Notes: r.Notes, Start: r.Start, End: r.End, Counter: r.Counter,
		Status: sportello.AppointmentStatus(r.Status), ConfirmationCode: r.ConfirmationCode,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if r.ProtocolYear.Valid {
		a.Protocol = &sportello.ProtocolNumber{Year: int(r.ProtocolYear.Int64), Seq: int(r.ProtocolSeq.Int64)}
	}
	return a
}

type bookingSettingsRow struct {
	OfficeID          string        `db:"id"`
	SlotMinutes       sql.NullInt64 `db:"slot_minutes"`
	Counters          sql.NullInt64 `db:"counters"`
	HorizonDays       sql.NullInt64 `db:"horizon_days"`
	MinNoticeMinutes  sql.NullInt64 `db:"min_notice_minutes"`
	ProtocolOnBooking sql.NullBool  `db:"protocol_on_booking"`
}

func (r *bookingSettingsRow) settings() *sportello.BookingSettings {
	if !r.SlotMinutes.Valid {
		return sportello.DefaultBookingSettings(r.OfficeID)
	}
	return &sportello.BookingSettings{OfficeID: r.OfficeID, SlotMinutes: int(r.SlotMinutes.Int64),
		Counters: int(r.Counters.Int64), HorizonDays: int(r.HorizonDays.Int64),
		MinNoticeMinutes: int(r.MinNoticeMinutes.Int64), ProtocolOnBooking: r.ProtocolOnBooking.Bool}
}

const bookingSettingsQuery = `SELECT o.id, b.slot_minutes, b.counters, b.horizon_days, b.min_notice_minutes,
	b.protocol_on_booking FROM offices o LEFT JOIN booking_settings b ON b.office_id = o.id
	WHERE o.tenant_id = $1 AND o.id = ANY($2::uuid[])`

// BookingSettings returns offices' settings in one statement. See sportello.AppointmentService.
func (s *AppointmentService) BookingSettings(ctx context.Context, officeIDs []string) (map[string]*sportello.BookingSettings, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	var rows []bookingSettingsRow
	if err := s.db.SelectContext(ctx, &rows, bookingSettingsQuery, c.tenantID, pq.Array(validIDs(officeIDs))); err != nil {
		return nil, fmt.Errorf("load booking settings: %w", err)
	}
	out := make(map[string]*sportello.BookingSettings, len(rows))
	for i := range rows {
		out[rows[i].OfficeID] = rows[i].settings()
	}
	return out, nil
}

// officeSettings returns one office's settings, NOT_FOUND naming field when it does not exist.
func officeSettings(ctx context.Context, q sqlx.QueryerContext, tenantID, officeID, field string) (*sportello.BookingSettings, error) {
	notFound := &sportello.Error{Code: sportello.CodeNotFound, Field: field, Message: "office not found"}
	if !validID(officeID) {
		return nil, notFound
	}
	var row bookingSettingsRow
	err := sqlx.GetContext(ctx, q, &row, bookingSettingsQuery, tenantID, pq.Array([]string{officeID}))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound
	}
	if err != nil {
		return nil, fmt.Errorf("load booking settings: %w", err)
	}
	return row.settings(), nil
}

// SetBookingSettings changes an office's settings. See sportello.AppointmentService.
func (s *AppointmentService) SetBookingSettings(ctx context.Context, officeID string, in sportello.BookingSettingsInput) (*sportello.BookingSettings, error) {
	c, err := requireManager(ctx)
	if err != nil {
		return nil, err
	}
	var out sportello.BookingSettings
	err = s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		// Locking the office serializes two managers changing the same settings, so that
		// neither overwrites the fields the other changed.
		if err := lockOffice(ctx, tx, c.tenantID, officeID, "officeId"); err != nil {
			return err
		}
		cur, err := officeSettings(ctx, tx, c.tenantID, officeID, "officeId")
		if err != nil {
			return err
		}
		out = in.Apply(*cur)
		if err := out.Validate(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO booking_settings (office_id, tenant_id, slot_minutes, counters,
			horizon_days, min_notice_minutes, protocol_on_booking) VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (office_id) DO UPDATE SET slot_minutes = EXCLUDED.slot_minutes, counters = EXCLUDED.counters,
			horizon_days = EXCLUDED.horizon_days, min_notice_minutes = EXCLUDED.min_notice_minutes,
			protocol_on_booking = EXCLUDED.protocol_on_booking`,
			officeID, c.tenantID, out.SlotMinutes, out.Counters, out.HorizonDays, out.MinNoticeMinutes,
			out.ProtocolOnBooking); err != nil {
			return fmt.Errorf("set booking settings: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// bookingClock returns the office's settings and schedule, read through q: the schedule is nil
// when the office has no hours. Within a transaction q must be the transaction, since a read on
// another connection while it holds one could wait for ever on a pool that it has exhausted.
func bookingClock(ctx context.Context, q sqlx.QueryerContext, c caller, officeID, field string) (*sportello.BookingSettings, *sportello.Schedule, error) {
	set, err := officeSettings(ctx, q, c.tenantID, officeID, field)
	if err != nil {
		return nil, nil, err
	}
	schedules, err := loadSchedules(ctx, q, c.tenantID, []string{officeID})
	if err != nil {
		return nil, nil, err
	}
	return set, schedules[officeID], nil
}

// checkService returns NOT_FOUND (naming field) unless the service exists and the caller may
// read it, and BAD_USER_INPUT unless the office provides it. The front desk, which orients
// citizens on every service, takes bookings for any; so does every office for a service that
// names no office.
func checkService(ctx context.Context, q sqlx.QueryerContext, c caller, officeID, serviceID, field string) error {
	if !validID(serviceID) {
		return &sportello.Error{Code: sportello.CodeNotFound, Field: field, Message: "service not found"}
	}
	var provided bool
	err := sqlx.GetContext(ctx, q, &provided, `SELECT s.office_id IS NULL OR s.office_id = o.id OR o.front_desk
		FROM services s JOIN offices o ON o.tenant_id = s.tenant_id
		WHERE s.id = $1 AND s.tenant_id = $2 AND o.id = $3 AND (s.status = 'PUBLISHED' OR $4)`,
		serviceID, c.tenantID, officeID, c.user.EditsCatalogue())
	if errors.Is(err, sql.ErrNoRows) {
		return &sportello.Error{Code: sportello.CodeNotFound, Field: field, Message: "service not found"}
	}
	if err != nil {
		return fmt.Errorf("find service: %w", err)
	}
	if !provided {
		return sportello.InvalidField(field, "the office does not provide this service: book with its office")
	}
	return nil
}

// AvailableSlots lists free slots. See sportello.AppointmentService.
func (s *AppointmentService) AvailableSlots(ctx context.Context, officeID string, from, to sportello.Date, serviceID string) ([]sportello.Slot, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := sportello.ValidateSlotRange(from, to); err != nil {
		return nil, err
	}
	set, sched, err := bookingClock(ctx, s.db, c, officeID, "officeId")
	if err != nil {
		return nil, err
	}
	if serviceID != "" {
		if err := checkService(ctx, s.db, c, officeID, serviceID, "serviceId"); err != nil {
			return nil, err
		}
	}
	if sched == nil {
		return []sportello.Slot{}, nil
	}
	slots := sportello.BookableSlots(sched, set, from, to, s.db.now())
	if len(slots) == 0 {
		return []sportello.Slot{}, nil
	}
	var taken []struct {
		Start time.Time `db:"start_at"`
		N     int       `db:"n"`
	}
	if err := s.db.SelectContext(ctx, &taken, `SELECT start_at, count(*) AS n FROM appointments
		WHERE office_id = $1 AND status <> 'CANCELLED' AND start_at >= $2 AND start_at <= $3 GROUP BY start_at`,
		officeID, slots[0].Start, slots[len(slots)-1].Start); err != nil {
		return nil, fmt.Errorf("count bookings: %w", err)
	}
	booked := make(map[int64]int, len(taken))
	for _, t := range taken {
		booked[t.Start.UnixMicro()] = t.N
	}
	out := slots[:0]
	for _, sl := range slots {
		if sl.Free = set.Counters - booked[sl.Start.UnixMicro()]; sl.Free > 0 {
			out = append(out, sl)
		}
	}
	return out, nil
}

// BookAppointment books a slot. See sportello.AppointmentService.
func (s *AppointmentService) BookAppointment(ctx context.Context, in sportello.BookAppointmentInput) (*sportello.Appointment, error) {
	// Staff book for a citizen they name; a citizen books for themselves, even one who also
	// works at the office.
	var c caller
	var err error
	if in.CitizenID != "" {
		c, err = requireStaff(ctx)
	} else {
		c, err = requireCitizen(ctx)
	}
	if err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	set, sched, err := bookingClock(ctx, s.db, c, in.OfficeID, "input.officeId")
	if err != nil {
		return nil, err
	}
	now := s.db.now()
	slot, err := checkSlot(sched, set, in.Start, now, "input.start")
	if err != nil {
		return nil, err
	}
	var row appointmentRow
	err = s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		if in.ServiceID != "" {
			if err := checkService(ctx, tx, c, in.OfficeID, in.ServiceID, "input.serviceId"); err != nil {
				return err
			}
		}
		citizenID, bookedBy := in.CitizenID, ""
		if citizenID == "" {
			cit, err := ensureCitizen(ctx, tx, c)
			if err != nil {
				return err
			}
			citizenID = cit.ID
		} else {
			st, err := ensureStaff(ctx, tx, c)
			if err != nil {
				return err
			}
			bookedBy = st.ID
		}
		if err := lockCitizenTime(ctx, tx, c.tenantID, citizenID, "", slot); err != nil {
			return err
		}
		counters, err := freeCounters(ctx, tx, in.OfficeID, slot.Start, "", set.Counters)
		if err != nil {
			return err
		}
		code := readableCode(6, 3)
		for _, k := range counters {
			// A booking of the same counter committed meanwhile makes this insert do nothing
			// (one still in flight makes it wait for that one's outcome): the next counter is
			// tried, and when none is left the slot is full.
			err := tx.GetContext(ctx, &row, `INSERT INTO appointments AS a (tenant_id, office_id, citizen_id, service_id,
				topic, notes, start_at, end_at, counter, status, confirmation_code, booked_by, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'BOOKED', $10, $11, $12, $12)
				ON CONFLICT (office_id, start_at, counter) WHERE status <> 'CANCELLED' DO NOTHING
				RETURNING `+appointmentColumns,
				c.tenantID, in.OfficeID, citizenID, nullID(in.ServiceID), in.Topic, in.Notes, slot.Start, slot.End, k,
				code, nullID(bookedBy), now)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return fmt.Errorf("book appointment: %w", err)
			}
			if set.ProtocolOnBooking {
				return registerAppointment(ctx, tx, &row, now)
			}
			return nil
		}
		return errSlotFull
	})
	if err != nil {
		return nil, err
	}
	return row.appointment(), nil
}

var errSlotFull = sportello.Errorf(sportello.CodeConflict, "the slot is full: choose another one")

// checkSlot is sportello.CheckSlotStart for an office that may have no hours.
func checkSlot(sched *sportello.Schedule, set *sportello.BookingSettings, start, now time.Time, field string) (sportello.Slot, error) {
	if sched == nil {
		return sportello.Slot{}, sportello.InvalidField(field, "the office has no opening hours to book")
	}
	return sportello.CheckSlotStart(sched, set, start, now, field)
}

// registerAppointment gives the booking a protocol number. It comes last in the transaction,
// once the slot is taken, because the counter's lock queues the tenant's other registrations.
func registerAppointment(ctx context.Context, tx *sqlx.Tx, row *appointmentRow, now time.Time) error {
	p, err := takeProtocolNumber(ctx, tx, row.TenantID, now)
	if err != nil {
		return err
	}
	if err := tx.GetContext(ctx, row, `UPDATE appointments a SET protocol_year = $2, protocol_seq = $3 WHERE id = $1
		RETURNING `+appointmentColumns, row.ID, p.Year, p.Seq); err != nil {
		return fmt.Errorf("register appointment: %w", err)
	}
	return nil
}

// lockCitizenTime returns NOT_FOUND unless the citizen exists in the tenant, locks their row so
// that their bookings are made one at a time, and returns CONFLICT if they hold another active
// appointment (other than except) overlapping slot.
func lockCitizenTime(ctx context.Context, tx *sqlx.Tx, tenantID, citizenID, except string, slot sportello.Slot) error {
	notFound := &sportello.Error{Code: sportello.CodeNotFound, Field: "input.citizenId", Message: "citizen not found"}
	if !validID(citizenID) {
		return notFound
	}
	var id string
	err := tx.GetContext(ctx, &id, `SELECT id FROM citizens WHERE id = $1 AND tenant_id = $2 FOR UPDATE`, citizenID, tenantID)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound
	}
	if err != nil {
		return fmt.Errorf("lock citizen: %w", err)
	}
	var busy bool
	if err := tx.GetContext(ctx, &busy, `SELECT EXISTS (SELECT 1 FROM appointments WHERE citizen_id = $1
		AND status = 'BOOKED' AND start_at < $3 AND end_at > $2 AND id::text <> $4)`,
		citizenID, slot.Start, slot.End, except); err != nil {
		return fmt.Errorf("find overlapping appointments: %w", err)
	}
	if busy {
		return sportello.Errorf(sportello.CodeConflict, "there is already an appointment at that time")
	}
	return nil
}

// freeCounters returns the counters of the office's slot at start that no active booking
// (other than except) held when the statement ran, in order.
func freeCounters(ctx context.Context, tx *sqlx.Tx, officeID string, start time.Time, except string, counters int) ([]int, error) {
	var held []int
	if err := tx.SelectContext(ctx, &held, `SELECT counter FROM appointments
		WHERE office_id = $1 AND start_at = $2 AND status <> 'CANCELLED' AND id::text <> $3`, officeID, start, except); err != nil {
		return nil, fmt.Errorf("find held counters: %w", err)
	}
	var out []int
	for k := 1; k <= counters; k++ {
		if !slices.Contains(held, k) {
			out = append(out, k)
		}
	}
	return out, nil
}

// appointmentScope returns the SQL condition on the appointments aliased a that the caller may see: staff
// the tenant's, citizens their own.
func (c caller) appointmentScope(a *args) string {
	cond := "a.tenant_id = " + a.add(c.tenantID)
	if c.staff {
		return cond
	}
	return cond + " AND a.citizen_id = (SELECT id FROM citizens WHERE tenant_id = a.tenant_id AND subject = " + a.add(c.user.Subject) + ")"
}

// getAppointment reads an appointment in the caller's scope, optionally locking it.
func getAppointment(ctx context.Context, q sqlx.QueryerContext, c caller, id string, lock bool) (*appointmentRow, error) {
	if !validID(id) {
		return nil, sportello.NotFound("appointment")
	}
	var a args
	query := `SELECT ` + appointmentColumns + ` FROM appointments a WHERE a.id = ` + a.add(id) + ` AND ` + c.appointmentScope(&a)
	if lock {
		query += ` FOR UPDATE OF a`
	}
	var row appointmentRow
	err := sqlx.GetContext(ctx, q, &row, query, a...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sportello.NotFound("appointment")
	}
	if err != nil {
		return nil, fmt.Errorf("get appointment: %w", err)
	}
	return &row, nil
}

// Appointment returns one appointment. See sportello.AppointmentService.
func (s *AppointmentService) Appointment(ctx context.Context, id string) (*sportello.Appointment, error) {
	c, err := listCaller(ctx)
	if err != nil {
		return nil, err
	}
	row, err := getAppointment(ctx, s.db, c, id, false)
	if err != nil {
		return nil, err
	}
	return row.appointment(), nil
}

// CancelAppointment cancels a booking. See sportello.AppointmentService.
func (s *AppointmentService) CancelAppointment(ctx context.Context, id string) (*sportello.Appointment, error) {
	c, err := listCaller(ctx)
	if err != nil {
		return nil, err
	}
	return s.move(ctx, c, id, sportello.AppointmentCancelled)
}

// MarkAppointment records attendance. See sportello.AppointmentService.
func (s *AppointmentService) MarkAppointment(ctx context.Context, id string, to sportello.AppointmentStatus) (*sportello.Appointment, error) {
	c, err := requireStaff(ctx)
	if err != nil {
		return nil, err
	}
	if to != sportello.AppointmentAttended && to != sportello.AppointmentNoShow {
		return nil, sportello.InvalidField("status", "must be ATTENDED or NO_SHOW")
	}
	return s.move(ctx, c, id, to)
}

// move changes an appointment's status, as CheckAppointmentMove allows.
func (s *AppointmentService) move(ctx context.Context, c caller, id string, to sportello.AppointmentStatus) (*sportello.Appointment, error) {
	var row *appointmentRow
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if row, err = getAppointment(ctx, tx, c, id, true); err != nil {
			return err
		}
		now := s.db.now()
		if err := sportello.CheckAppointmentMove(sportello.AppointmentStatus(row.Status), to, row.Start, now, c.staff); err != nil {
			return err
		}
		if err := tx.GetContext(ctx, row, `UPDATE appointments a SET status = $2, updated_at = $3 WHERE id = $1
			RETURNING `+appointmentColumns, id, to, now); err != nil {
			return fmt.Errorf("update appointment: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return row.appointment(), nil
}

// RescheduleAppointment moves a booking. See sportello.AppointmentService.
func (s *AppointmentService) RescheduleAppointment(ctx context.Context, id string, start time.Time) (*sportello.Appointment, error) {
	c, err := listCaller(ctx)
	if err != nil {
		return nil, err
	}
	var row *appointmentRow
	err = s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if row, err = getAppointment(ctx, tx, c, id, true); err != nil {
			return err
		}
		now := s.db.now()
		if err := sportello.CheckAppointmentMove(sportello.AppointmentStatus(row.Status), sportello.AppointmentBooked, row.Start, now, c.staff); err != nil {
			return err
		}
		if start.Equal(row.Start) {
			return nil
		}
		set, sched, err := bookingClock(ctx, tx, c, row.OfficeID, "id")
		if err != nil {
			return err
		}
		slot, err := checkSlot(sched, set, start, now, "start")
		if err != nil {
			return err
		}
		if err := lockCitizenTime(ctx, tx, c.tenantID, row.CitizenID, row.ID, slot); err != nil {
			return err
		}
		counters, err := freeCounters(ctx, tx, row.OfficeID, slot.Start, row.ID, set.Counters)
		if err != nil {
			return err
		}
		for _, k := range counters {
			ok, err := s.claim(ctx, tx, row, slot, k, now)
			if err != nil || ok {
				return err
			}
		}
		return errSlotFull
	})
	if err != nil {
		return nil, err
	}
	return row.appointment(), nil
}

// claim moves the appointment to counter k of slot, in one statement, so that its old slot is
// freed in the same instant the new one is taken. It reports false when a booking committed
// meanwhile holds that counter: the unique index refuses the move, and the savepoint keeps the
// transaction usable for the next counter.
func (s *AppointmentService) claim(ctx context.Context, tx *sqlx.Tx, row *appointmentRow, slot sportello.Slot, k int, now time.Time) (bool, error) {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT claim`); err != nil {
		return false, fmt.Errorf("savepoint: %w", err)
	}
	err := tx.GetContext(ctx, row, `UPDATE appointments a SET start_at = $2, end_at = $3, counter = $4, updated_at = $5
		WHERE id = $1 RETURNING `+appointmentColumns, row.ID, slot.Start, slot.End, k, now)
	if isUniqueViolation(err, "appointments_counter") {
		if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT claim`); err != nil {
			return false, fmt.Errorf("rollback to savepoint: %w", err)
		}
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reschedule appointment: %w", err)
	}
	return true, nil
}

// Agenda lists an office's day. See sportello.AppointmentService.
func (s *AppointmentService) Agenda(ctx context.Context, officeID string, day sportello.Date) ([]*sportello.Appointment, error) {
	c, err := requireStaff(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkOffice(ctx, s.db, c.tenantID, officeID, "officeId"); err != nil {
		return nil, err
	}
	from := time.Date(day.Year, day.Month, day.Day, 0, 0, 0, 0, sportello.Rome)
	to := time.Date(day.Year, day.Month, day.Day+1, 0, 0, 0, 0, sportello.Rome)
	return s.list(ctx, `SELECT `+appointmentColumns+` FROM appointments a
		WHERE a.tenant_id = $1 AND a.office_id = $2 AND a.start_at >= $3 AND a.start_at < $4
		ORDER BY a.start_at, a.counter, a.created_at`, c.tenantID, officeID, from, to)
}

// maxMyAppointments bounds a citizen's list: more upcoming bookings than this are not a use
// the desk needs to serve in one page.
const maxMyAppointments = 100

// MyAppointments lists the citizen's appointments. See sportello.AppointmentService.
func (s *AppointmentService) MyAppointments(ctx context.Context) ([]*sportello.Appointment, error) {
	c, err := requireCitizen(ctx)
	if err != nil {
		return nil, err
	}
	today := sportello.DateOf(s.db.now())
	from := time.Date(today.Year, today.Month, today.Day, 0, 0, 0, 0, sportello.Rome)
	return s.list(ctx, `SELECT `+appointmentColumns+` FROM appointments a
		JOIN citizens ci ON ci.id = a.citizen_id
		WHERE ci.tenant_id = $1 AND ci.subject = $2 AND a.start_at >= $3
		ORDER BY a.start_at, a.id LIMIT $4`, c.tenantID, c.user.Subject, from, maxMyAppointments)
}

func (s *AppointmentService) list(ctx context.Context, query string, args ...any) ([]*sportello.Appointment, error) {
	var rows []appointmentRow
	if err := s.db.SelectContext(ctx, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("list appointments: %w", err)
	}
	out := make([]*sportello.Appointment, len(rows))
	for i := range rows {
		out[i] = rows[i].appointment()
	}
	return out, nil
}
