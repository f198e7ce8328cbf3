-- More channels: attachments on tickets.

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
