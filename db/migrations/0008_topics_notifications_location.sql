-- Topic events: the live feed also carries events that belong to no ticket (content published,
-- an alert for one citizen ...). They share the ticket events' table, positions and safe
-- horizon, so that one reader, one Redis wake-up and one replay path serve them all. A topic
-- event has a topic and no ticket; citizen_id, when set, is the only citizen who receives it.
ALTER TABLE events ALTER COLUMN ticket_id DROP NOT NULL;
ALTER TABLE events ADD COLUMN topic text;
ALTER TABLE events ADD COLUMN subject_id uuid;
ALTER TABLE events ADD COLUMN citizen_id uuid REFERENCES citizens(id);
ALTER TABLE events ADD CONSTRAINT events_ticket_or_topic CHECK ((ticket_id IS NULL) <> (topic IS NULL));
CREATE INDEX events_topic_feed ON events (tenant_id, topic, tx_id, id) WHERE topic IS NOT NULL;

-- Notifications are what the app shows a citizen in its list (read or unread): alerts, news of
-- their tickets. Each insert also appends a topic event, so the app hears of it live.
CREATE TABLE notifications (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    uuid NOT NULL REFERENCES tenants(id),
    citizen_id   uuid NOT NULL REFERENCES citizens(id),
    kind         text NOT NULL,
    title        text NOT NULL,
    body         text NOT NULL DEFAULT '',
    link         text NOT NULL DEFAULT '',
    subject_type text NOT NULL DEFAULT '',
    subject_id   uuid,
    created_at   timestamptz NOT NULL,
    read_at      timestamptz
);
CREATE INDEX notifications_citizen ON notifications (citizen_id, created_at DESC, id DESC);
CREATE INDEX notifications_unread ON notifications (citizen_id) WHERE read_at IS NULL;

-- Where a report is: a pothole, a broken street lamp. Any channel may set it.
ALTER TABLE tickets ADD COLUMN latitude double precision;
ALTER TABLE tickets ADD COLUMN longitude double precision;
ALTER TABLE tickets ADD COLUMN address text NOT NULL DEFAULT '';
ALTER TABLE tickets ADD CONSTRAINT tickets_coordinates CHECK ((latitude IS NULL) = (longitude IS NULL)
    AND (latitude IS NULL OR (latitude BETWEEN -90 AND 90 AND longitude BETWEEN -180 AND 180)));
CREATE INDEX tickets_location ON tickets (tenant_id, latitude, longitude) WHERE latitude IS NOT NULL;
