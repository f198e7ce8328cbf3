-- The spine of Sportello: tenants, offices and their staff, citizens, tickets with their
-- protocol numbers, messages and the event history that is also the outbox of the live feed.

-- Trigram indexes let operators find a citizen by any part of a name, fiscal code or e-mail.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE tenants (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug       text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name       text NOT NULL,
    -- Host names the tenant's portal and app are served from: requests without a tenant claim
    -- in their token are matched to a tenant by their Host header.
    hosts      text[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Every deployment starts with one tenant, so a single municipality needs no set-up.
INSERT INTO tenants (id, slug, name)
VALUES ('00000000-0000-0000-0000-000000000001', 'default', 'Comune');

CREATE TABLE offices (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    email       text NOT NULL DEFAULT '',
    pec         text NOT NULL DEFAULT '',
    phone       text NOT NULL DEFAULT '',
    address     text NOT NULL DEFAULT '',
    head        text NOT NULL DEFAULT '',
    UNIQUE (tenant_id, name)
);

CREATE TABLE office_hours (
    office_id uuid NOT NULL REFERENCES offices(id) ON DELETE CASCADE,
    weekday   smallint NOT NULL CHECK (weekday BETWEEN 0 AND 6), -- 0 is Sunday, as Go's time.Weekday
    opens     time NOT NULL,
    closes    time NOT NULL CHECK (closes > opens),
    PRIMARY KEY (office_id, weekday, opens)
);

CREATE TABLE staff (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id  uuid NOT NULL REFERENCES tenants(id),
    subject    text NOT NULL,
    name       text NOT NULL,
    email      text NOT NULL DEFAULT '',
    office_id  uuid REFERENCES offices(id),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, subject)
);

CREATE TABLE citizens (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    subject     text, -- NULL for people registered at the desk who never signed in
    given_name  text NOT NULL,
    family_name text NOT NULL,
    fiscal_code text, -- NULL for people without one, such as some foreign residents
    email       text NOT NULL DEFAULT '',
    phone       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, subject),
    UNIQUE (tenant_id, fiscal_code)
);

CREATE INDEX citizens_search ON citizens USING gin (
    (lower(given_name || ' ' || family_name || ' ' || coalesce(fiscal_code, '') || ' ' || email)) gin_trgm_ops
);

-- Calendar-day terms to answer a ticket, per kind, for one office or (office_id NULL) the tenant.
CREATE TABLE response_terms (
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    kind      text NOT NULL,
    office_id uuid REFERENCES offices(id),
    days      integer NOT NULL CHECK (days BETWEEN 1 AND 365)
);
CREATE UNIQUE INDEX response_terms_key
    ON response_terms (tenant_id, kind, coalesce(office_id, '00000000-0000-0000-0000-000000000000'));

-- The last protocol number given per tenant and year. Taking a number updates this row inside
-- the ticket's transaction: concurrent filings queue on the row lock, and a rollback gives the
-- number back, so numbers have no gaps (a sequence would burn them).
CREATE TABLE protocol_counters (
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    year      integer NOT NULL,
    last_seq  integer NOT NULL,
    PRIMARY KEY (tenant_id, year)
);

CREATE TABLE tickets (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id           uuid NOT NULL REFERENCES tenants(id),
    protocol_year       integer NOT NULL,
    protocol_seq        integer NOT NULL,
    kind                text NOT NULL,
    channel             text NOT NULL,
    status              text NOT NULL,
    subject             text NOT NULL,
    body                text NOT NULL,
    citizen_id          uuid REFERENCES citizens(id),
    contact_name        text NOT NULL DEFAULT '',
    contact_email       text NOT NULL DEFAULT '',
    contact_phone       text NOT NULL DEFAULT '',
    receipt_hash        bytea, -- sha256 of the receipt code given to anonymous filers
    office_id           uuid REFERENCES offices(id),
    assignee_id         uuid REFERENCES staff(id),
    status_reason       text NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    due_at              timestamptz NOT NULL,
    resolved_at         timestamptz,
    search              tsvector GENERATED ALWAYS AS (
                            setweight(to_tsvector('italian', subject), 'A') ||
                            setweight(to_tsvector('italian', body), 'B')) STORED,
    UNIQUE (tenant_id, protocol_year, protocol_seq)
);

CREATE INDEX tickets_list ON tickets (tenant_id, created_at DESC, id DESC);
CREATE INDEX tickets_citizen ON tickets (citizen_id, created_at DESC, id DESC);
CREATE INDEX tickets_open_due ON tickets (tenant_id, due_at) WHERE status IN ('SUBMITTED', 'IN_PROGRESS', 'WAITING_FOR_CITIZEN');
CREATE INDEX tickets_office ON tickets (office_id, created_at DESC);
CREATE INDEX tickets_assignee ON tickets (assignee_id, created_at DESC);
CREATE INDEX tickets_search ON tickets USING gin (search);

CREATE TABLE ticket_messages (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id         uuid NOT NULL REFERENCES tenants(id),
    ticket_id         uuid NOT NULL REFERENCES tickets(id),
    author_kind       text NOT NULL,
    author_citizen_id uuid REFERENCES citizens(id),
    author_staff_id   uuid REFERENCES staff(id),
    author_name       text NOT NULL DEFAULT '',
    body              text NOT NULL,
    internal          boolean NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL
);
CREATE INDEX ticket_messages_ticket ON ticket_messages (ticket_id, created_at, id);

-- The history of every ticket and the outbox of the live feed: a row is written in the same
-- transaction as the change it describes.
CREATE TABLE events (
    id         bigserial PRIMARY KEY,
    tenant_id  uuid NOT NULL REFERENCES tenants(id),
    ticket_id  uuid NOT NULL REFERENCES tickets(id),
    type       text NOT NULL,
    actor_kind text NOT NULL,
    actor_id   uuid,
    actor_name text NOT NULL DEFAULT '',
    at         timestamptz NOT NULL,
    internal   boolean NOT NULL DEFAULT false,
    data       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX events_ticket ON events (ticket_id, id);
CREATE INDEX events_tenant ON events (tenant_id, id);
