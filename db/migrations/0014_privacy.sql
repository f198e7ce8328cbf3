-- Personal data: the audit log of every access to a citizen's data by staff, erasure of
-- citizens' accounts, and pseudonymisation of closed tickets past their retention period.

-- The audit log is append-only: rows are never changed, and deleted only once older than six
-- months (GDPR accountability; the Garante asks for at least six months of access logs). The
-- citizen is not a foreign key, so that entries outlive whatever happens to the citizen's row.
CREATE TABLE audit_log (
    id            bigserial PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES tenants(id),
    at            timestamptz NOT NULL DEFAULT now(),
    actor_subject text NOT NULL,
    actor_name    text NOT NULL DEFAULT '',
    actor_roles   text[] NOT NULL DEFAULT '{}',
    action        text NOT NULL CHECK (action IN ('READ', 'CHANGE', 'EXPORT', 'ERASE')),
    what          text NOT NULL,
    citizen_id    uuid,
    client_addr   text NOT NULL DEFAULT '',
    request_id    text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id DESC);
CREATE INDEX audit_log_citizen ON audit_log (tenant_id, citizen_id, id DESC);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.at < now() - interval '6 months' THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- An erased citizen's row stays, so that the records and statistics that point to it stay
-- whole; erased_at marks it closed and hidden from searches. Its fiscal code, when a
-- registered record needs it, must not stop the person from signing up again, so the fiscal
-- code is unique among live accounts only (the index keeps the constraint's name, which the
-- services recognise in conflicts).
ALTER TABLE citizens ADD COLUMN erased_at timestamptz;
ALTER TABLE citizens DROP CONSTRAINT citizens_tenant_id_fiscal_code_key;
CREATE UNIQUE INDEX citizens_tenant_id_fiscal_code_key ON citizens (tenant_id, fiscal_code) WHERE erased_at IS NULL;

-- When the retention job removed the personal data of a closed ticket.
ALTER TABLE tickets ADD COLUMN pseudonymised_at timestamptz;
CREATE INDEX tickets_retention ON tickets (coalesce(resolved_at, updated_at))
    WHERE pseudonymised_at IS NULL AND status IN ('RESOLVED', 'REJECTED', 'CLOSED');
