-- The live feed reads events in the order of the transactions that wrote them: an event's
-- position is (tx_id, id), and a reader reads only events of transactions older than every
-- transaction still in flight, so that a transaction that commits late is never skipped (see
-- Position in feed.go). Events written before this migration all get its transaction id and keep
-- their order by id.
ALTER TABLE events ADD COLUMN tx_id xid8 NOT NULL DEFAULT pg_current_xact_id();

CREATE INDEX events_feed ON events (tx_id, id);
CREATE INDEX events_tenant_feed ON events (tenant_id, tx_id, id);
