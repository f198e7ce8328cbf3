-- Opening hours become a clock: local closures of offices, the front desk whose clock runs
-- tickets without an office, first-response targets in office hours, and the instant of a
-- ticket's first reply. National holidays are computed (see hours.go), not stored.

-- Whole days on which an office (office_id NULL: every office of the tenant) does not receive
-- the public: the patron saint's day, a strike, a move. from_date and to_date are days in Rome,
-- both included.
CREATE TABLE office_closures (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id  uuid NOT NULL REFERENCES tenants(id),
    office_id  uuid REFERENCES offices(id) ON DELETE CASCADE,
    from_date  date NOT NULL,
    to_date    date NOT NULL CHECK (to_date >= from_date),
    reason     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX office_closures_tenant ON office_closures (tenant_id, from_date);

-- The front desk (the URP) answers tickets not yet assigned to an office, so its clock runs
-- their SLA. At most one per tenant.
ALTER TABLE offices ADD COLUMN front_desk boolean NOT NULL DEFAULT false;
CREATE UNIQUE INDEX offices_front_desk ON offices (tenant_id) WHERE front_desk;

-- Office hours within which staff first reply to tickets of a kind, for one office or (office_id
-- NULL) the tenant; kinds without one use the default in sla.go.
CREATE TABLE first_response_targets (
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    kind      text NOT NULL,
    office_id uuid REFERENCES offices(id) ON DELETE CASCADE,
    hours     integer NOT NULL CHECK (hours BETWEEN 1 AND 2000)
);
CREATE UNIQUE INDEX first_response_targets_key
    ON first_response_targets (tenant_id, kind, coalesce(office_id, '00000000-0000-0000-0000-000000000000'));

-- When staff first replied to the citizen (internal notes do not count), written once by the
-- reply's transaction, so that a list shows the SLA from the ticket row alone.
ALTER TABLE tickets ADD COLUMN first_responded_at timestamptz;

-- Tickets answered before this migration: their first public reply by staff.
UPDATE tickets t SET first_responded_at = m.first
FROM (SELECT ticket_id, min(created_at) AS first FROM ticket_messages
      WHERE author_kind = 'STAFF' AND NOT internal GROUP BY ticket_id) m
WHERE m.ticket_id = t.id;
