-- Satisfaction and statistics: citizens' quick feedback on answered tickets, surveys with their
-- responses and one-time links, and the measures of each ticket that statistics read.

-- When the office answered a ticket (resolved or rejected it) and its times, in seconds of office
-- time on the clock of its office (or of the front desk), written by the transaction that
-- answers it: statistics then read numbers from the rows instead of running the office-hours
-- clock over years of tickets. A reopened ticket loses them until it is answered again.
ALTER TABLE tickets
    ADD COLUMN answered_at                   timestamptz,
    ADD COLUMN first_response_office_seconds integer,
    ADD COLUMN resolution_office_seconds     integer;

-- Tickets answered before this migration: the instant of their answer, from their history. Their
-- office times stay NULL (no clock was kept for them), so they count in the calendar-day figures
-- only.
UPDATE tickets t SET answered_at = e.at
FROM (SELECT ticket_id, max(at) AS at FROM events
      WHERE type = 'STATUS_CHANGED' AND data->>'toStatus' IN ('RESOLVED', 'REJECTED') GROUP BY ticket_id) e
WHERE e.ticket_id = t.id AND t.status IN ('RESOLVED', 'REJECTED', 'CLOSED');

-- Statistics group the tickets filed in a period by kind, channel, office, status and month: this
-- index holds every column they read, so they scan the period's entries of the index alone (an
-- index-only scan) instead of the tickets' wide rows.
CREATE INDEX tickets_statistics ON tickets (tenant_id, created_at)
    INCLUDE (id, kind, channel, office_id, status, due_at, first_responded_at, answered_at,
             first_response_office_seconds, resolution_office_seconds);

-- One quick judgement per ticket ("Mettiamoci la faccia"), by the citizen, by staff at the desk
-- for them, or by the anonymous filer with their receipt code.
CREATE TABLE ticket_feedback (
    ticket_id  uuid PRIMARY KEY REFERENCES tickets(id),
    tenant_id  uuid NOT NULL REFERENCES tenants(id),
    level      text NOT NULL CHECK (level IN ('POSITIVE', 'NEUTRAL', 'NEGATIVE')),
    rating     smallint CHECK (rating BETWEEN 1 AND 5),
    comment    text NOT NULL DEFAULT '',
    given_by   text NOT NULL CHECK (given_by IN ('CITIZEN', 'STAFF', 'ANONYMOUS')),
    staff_id   uuid REFERENCES staff(id),
    created_at timestamptz NOT NULL
);
CREATE INDEX ticket_feedback_tenant ON ticket_feedback (tenant_id, created_at);

CREATE TABLE surveys (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    title       text NOT NULL,
    description text NOT NULL DEFAULT '',
    from_date   date NOT NULL,
    to_date     date NOT NULL CHECK (to_date >= from_date),
    target      text NOT NULL CHECK (target IN ('ALL_CITIZENS', 'SERVICE_USERS', 'OFFICE_USERS', 'CHANNEL_USERS')),
    office_id   uuid REFERENCES offices(id),
    service_id  uuid REFERENCES services(id),
    channel     text NOT NULL DEFAULT '',
    anonymous   boolean NOT NULL,
    status      text NOT NULL CHECK (status IN ('OPEN', 'CLOSED')),
    -- The questions as the domain's Question values: they are read and written whole, and a
    -- response refers to them by key.
    questions   jsonb NOT NULL,
    created_at  timestamptz NOT NULL,
    closed_at   timestamptz
);
CREATE INDEX surveys_tenant ON surveys (tenant_id, created_at DESC);

-- One-time links of anonymous surveys: the token is shown once and kept as its sha256, as
-- tickets' receipt codes are. A link may say where it was handed out, for the breakdowns.
CREATE TABLE survey_links (
    token_hash bytea PRIMARY KEY,
    survey_id  uuid NOT NULL REFERENCES surveys(id),
    office_id  uuid REFERENCES offices(id),
    service_id uuid REFERENCES services(id),
    channel    text NOT NULL DEFAULT '',
    used_at    timestamptz
);
CREATE INDEX survey_links_survey ON survey_links (survey_id);

-- A response holds no link to its token: once used, the token cannot tell whose answers these
-- are. citizen_id is set for identified surveys only, and makes one response per citizen.
CREATE TABLE survey_responses (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    survey_id  uuid NOT NULL REFERENCES surveys(id),
    tenant_id  uuid NOT NULL REFERENCES tenants(id),
    citizen_id uuid REFERENCES citizens(id),
    office_id  uuid REFERENCES offices(id),
    service_id uuid REFERENCES services(id),
    channel    text NOT NULL DEFAULT '',
    answers    jsonb NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX survey_responses_citizen ON survey_responses (survey_id, citizen_id) WHERE citizen_id IS NOT NULL;
CREATE INDEX survey_responses_survey ON survey_responses (survey_id);
