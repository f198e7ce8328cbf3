-- Hardening: tenant isolation by row-level security, and the operations the mobile app may run.
--
-- Row-level security keyed by the tenant: PostgreSQL itself keeps each municipality's rows from
-- the others, so a query that forgets its tenant_id condition returns, changes or writes only the
-- rows of the caller's tenant instead of leaking another municipality's data.
--
-- The tenant is the setting sportello.tenant_id, which the application sets on its connections
-- (db/scope.go) before every statement: a tenant's id, '*' for the code that works across
-- tenants on purpose (the live feed's tail, the background workers, finding the tenant of a
-- request), or '' for a context that names neither, which sees nothing. A setting that was never
-- made reads as NULL and also sees nothing, so a connection that bypasses the application's
-- scoping fails closed.
--
-- FORCE applies the policies to the tables' owner too: the application connects as the role that
-- owns the tables (it runs the migrations), and only superusers and roles with BYPASSRLS escape
-- them. Foreign keys and unique constraints are checked without row security, as PostgreSQL
-- always does, so they keep working across tenants.
--
-- Every table with a tenant_id column gets the policy, found in the catalogue rather than listed,
-- so that the tables of migrations numbered before this one are covered whichever branch added
-- them. A table added by a later migration must enable the policy itself;
-- TestEveryTenantTableHasRowLevelSecurity fails until it does.

-- Erased accounts, so that the tokens of a session opened before the erasure do not re-open the
-- account with the identity's claims (name, fiscal code, e-mail) on the next request. The
-- subject is kept as its SHA-256 only: enough to recognise the tokens, not to name the person.
-- Created before the policies below, which cover it.
CREATE TABLE erased_accounts (
    tenant_id    uuid NOT NULL REFERENCES tenants(id),
    subject_hash text NOT NULL,
    erased_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, subject_hash)
);

-- A row is visible when its tenant is the setting, or when the setting is '*'. The value is cast
-- only once it is known not to be '' or '*', so those two never fail the cast; anything else the
-- application sets is a tenant's id, checked before it is sent. The condition is written into
-- each policy rather than called as a SQL function: the planner would inline the function's body
-- anew whenever it plans a statement, and the application's statements are planned every time.
DO $$
DECLARE
    t regclass;
    visible constant text := $v$ = nullif(nullif(current_setting('sportello.tenant_id', true), ''), '*')::uuid
        OR current_setting('sportello.tenant_id', true) = '*'$v$;
BEGIN
    FOR t IN
        SELECT format('%I.%I', c.table_schema, c.table_name)::regclass
        FROM information_schema.columns c
        JOIN information_schema.tables tb ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name
        WHERE c.table_schema = current_schema() AND c.column_name = 'tenant_id' AND tb.table_type = 'BASE TABLE'
        ORDER BY c.table_name
    LOOP
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %s USING (tenant_id %s) WITH CHECK (tenant_id %s)', t, visible, visible);
    END LOOP;
    -- The tenants themselves: a request sees its own municipality only. Finding the tenant of a
    -- request by its host or slug is cross-tenant by nature and says so ('*').
    ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
    ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
    EXECUTE format('CREATE POLICY tenant_isolation ON tenants USING (id %s) WITH CHECK (id %s)', visible, visible);
END
$$;

-- The operations each client restricted to an allow-list (the mobile app) may run, registered
-- from its build's manifest by `server persisted register`. The app is the same for every
-- municipality, so the list is not a tenant's.
CREATE TABLE persisted_operations (
    client        text NOT NULL,
    hash          text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
    name          text NOT NULL,
    query         text NOT NULL,
    registered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client, hash)
);
