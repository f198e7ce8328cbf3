-- Desk appointments: each office's booking settings and the citizens' bookings of its slots.
-- Slots are not stored: they are cut from the office's hours (see appointment.go).

-- An office without a row takes bookings with the defaults of DefaultBookingSettings.
CREATE TABLE booking_settings (
    office_id           uuid PRIMARY KEY REFERENCES offices(id) ON DELETE CASCADE,
    tenant_id           uuid NOT NULL REFERENCES tenants(id),
    slot_minutes        integer NOT NULL CHECK (slot_minutes BETWEEN 5 AND 240),
    counters            integer NOT NULL CHECK (counters BETWEEN 1 AND 50),
    horizon_days        integer NOT NULL CHECK (horizon_days BETWEEN 1 AND 366),
    min_notice_minutes  integer NOT NULL CHECK (min_notice_minutes BETWEEN 0 AND 20160),
    protocol_on_booking boolean NOT NULL
);

CREATE TABLE appointments (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id         uuid NOT NULL REFERENCES tenants(id),
    office_id         uuid NOT NULL REFERENCES offices(id),
    citizen_id        uuid NOT NULL REFERENCES citizens(id),
    service_id        uuid REFERENCES services(id),
    topic             text NOT NULL DEFAULT '',
    notes             text NOT NULL DEFAULT '',
    start_at          timestamptz NOT NULL,
    end_at            timestamptz NOT NULL CHECK (end_at > start_at),
    -- The desk the booking holds in its slot, 1 to the office's counters.
    counter           integer NOT NULL CHECK (counter >= 1),
    status            text NOT NULL CHECK (status IN ('BOOKED', 'CANCELLED', 'ATTENDED', 'NO_SHOW')),
    confirmation_code text NOT NULL,
    -- Taken from protocol_counters, as tickets' numbers, when the office registers bookings.
    protocol_year     integer,
    protocol_seq      integer,
    booked_by         uuid REFERENCES staff(id), -- the staff member who booked for the citizen
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    CHECK ((protocol_year IS NULL) = (protocol_seq IS NULL))
);

-- No two bookings hold the same counter of the same slot: this index, not a count read before
-- the insert, is what keeps concurrent bookings of a full slot out. Attended and missed
-- appointments keep their counter; a cancelled one gives it back.
CREATE UNIQUE INDEX appointments_counter ON appointments (office_id, start_at, counter) WHERE status <> 'CANCELLED';
CREATE UNIQUE INDEX appointments_protocol ON appointments (tenant_id, protocol_year, protocol_seq) WHERE protocol_year IS NOT NULL;
CREATE INDEX appointments_office ON appointments (office_id, start_at);
CREATE INDEX appointments_citizen ON appointments (citizen_id, start_at);
