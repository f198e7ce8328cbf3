-- More channels: Open311 GeoReport v2 clients and their requests, attachments on tickets, and the
-- messages of the e-mail intake, and notifications to citizens.

-- The applications allowed to file through Open311. The API key is shown once, when an admin
-- creates the client; only its sha256 is kept.
CREATE TABLE open311_clients (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id  uuid NOT NULL REFERENCES tenants(id),
    name       text NOT NULL,
    key_hash   bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX open311_clients_tenant ON open311_clients (tenant_id, created_at DESC);

-- What GeoReport v2 says of a ticket filed through it, beside the ticket itself: the service
-- code it was filed under, and the link to the client's photo (never fetched by the server).
CREATE TABLE open311_requests (
    ticket_id    uuid PRIMARY KEY REFERENCES tickets(id),
    tenant_id    uuid NOT NULL REFERENCES tenants(id),
    client_id    uuid NOT NULL REFERENCES open311_clients(id),
    service_code text NOT NULL,
    service_name text NOT NULL,
    media_url    text NOT NULL DEFAULT '',
    device_id    text NOT NULL DEFAULT '',
    account_id   text NOT NULL DEFAULT '',
    attributes   jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX open311_requests_tenant ON open311_requests (tenant_id, service_code);

-- Files on tickets and messages, from every channel. The metadata is here; the content is in a
-- blob store (the blobs table below, or a directory), keyed by tenant and sha256.
CREATE TABLE attachments (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    uuid NOT NULL REFERENCES tenants(id),
    ticket_id    uuid NOT NULL REFERENCES tickets(id),
    message_id   uuid REFERENCES ticket_messages(id),
    filename     text NOT NULL,
    content_type text NOT NULL, -- sniffed from the content
    size         bigint NOT NULL CHECK (size > 0),
    sha256       text NOT NULL,
    -- The files of one ticket or message keep the order they were sent in.
    position     smallint NOT NULL,
    created_at   timestamptz NOT NULL
);
CREATE INDEX attachments_ticket ON attachments (ticket_id, created_at, position);

-- The PostgreSQL blob store: contents apart from the tables lists and searches read.
CREATE TABLE blobs (
    key  text PRIMARY KEY,
    data bytea NOT NULL
);

-- Every message the e-mail intake recorded, by its Message-ID: the same message delivered twice
-- (a retrying mail server, a forward and the original) makes one ticket.
CREATE TABLE inbound_mails (
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    message_id  text NOT NULL,
    channel     text NOT NULL,
    sender      text NOT NULL,
    ticket_id   uuid REFERENCES tickets(id),
    received_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, message_id)
);

-- Notifications to citizens about their tickets, by e-mail and in the app.
CREATE TABLE notification_preferences (
    citizen_id    uuid PRIMARY KEY REFERENCES citizens(id),
    tenant_id     uuid NOT NULL REFERENCES tenants(id),
    app           boolean NOT NULL,
    email_notices text[] NOT NULL, -- the notices sent by e-mail
    updated_at    timestamptz NOT NULL
);

-- How far in the event log the notifier has got, per tenant. A worker claims a tenant's row
-- (FOR UPDATE SKIP LOCKED) for as long as it handles a batch, so two instances never handle one
-- event. The tenants there are now start from here: their past is not announced.
CREATE TABLE notification_cursors (
    tenant_id uuid PRIMARY KEY REFERENCES tenants(id),
    tx_id     xid8 NOT NULL,
    event_id  bigint NOT NULL
);
INSERT INTO notification_cursors (tenant_id, tx_id, event_id)
SELECT id, pg_snapshot_xmin(pg_current_snapshot()), 0 FROM tenants;

-- The deadline the citizen was last told of, to tell them when it changes.
CREATE TABLE ticket_notice_state (
    ticket_id uuid PRIMARY KEY REFERENCES tickets(id),
    due_at    timestamptz NOT NULL
);

-- One row per notice of an event per channel: the proof that it was handled, and for e-mail
-- the queue it is sent from, retried with backoff while the mail server refuses it. An instance
-- claims an e-mail with a lease (claimed_until) committed before it talks to the mail server, so
-- that no transaction stays open during the delivery.
CREATE TABLE notification_deliveries (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id       uuid NOT NULL REFERENCES tenants(id),
    event_id        bigint NOT NULL REFERENCES events(id),
    notice          text NOT NULL,
    channel         text NOT NULL CHECK (channel IN ('EMAIL', 'APP')),
    recipient       text NOT NULL DEFAULT '',
    subject         text NOT NULL DEFAULT '',
    body            text NOT NULL DEFAULT '',
    status          text NOT NULL CHECK (status IN ('PENDING', 'SENT', 'FAILED')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text NOT NULL DEFAULT '',
    -- While an instance sends the e-mail: until then no other takes it.
    claimed_until   timestamptz,
    created_at      timestamptz NOT NULL,
    sent_at         timestamptz,
    CONSTRAINT notification_deliveries_once UNIQUE (event_id, notice, channel)
);
CREATE INDEX notification_deliveries_due ON notification_deliveries (next_attempt_at) WHERE status = 'PENDING';
