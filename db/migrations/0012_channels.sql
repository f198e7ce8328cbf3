-- More channels: Open311 GeoReport v2 clients and their requests, attachments on tickets, and the
-- messages of the e-mail intake.

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
