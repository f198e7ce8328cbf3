-- Search: the index is read without row-level security, and each tenant's index has a version
-- that the servers compare with the search results they keep in memory.
--
-- Row-level security evaluates a policy's condition before any condition of the query that is
-- not leakproof, and neither @@ nor ts_rank is (only a superuser can mark a function leakproof).
-- Under the tenant_isolation policy of migration 0016 the planner therefore cannot look the
-- words up in the GIN index on search_documents: it reads every document of the table, checks
-- the policy on each and then matches the words, so a search cost as much as the whole index
-- (about 2.7 ms of PostgreSQL's CPU over the benchmark's 4,100 documents, against 0.7 ms
-- through the index), and would cost as much as every municipality's documents together in a
-- deployment that serves a region.
--
-- The index needs no protection for reading. Its rows are copies of what the municipalities
-- publish or prepare for publication: the titles, summaries and texts of catalogue services,
-- procedures (with their legal basis and the officer in charge, whom the law requires to be
-- published) and acts, of offices (name, description, address and head), of web content (the
-- live revision, or the working copy that editors find) and of youth opportunities. It holds
-- nothing about citizens, their requests or the staff's accounts. The one statement that reads
-- it, SearchService.Search, names the caller's tenant, and a test checks that no search finds
-- another municipality's documents.
--
-- Permissive policies are combined with OR, so this one makes the condition for reading
-- constantly true, and the planner drops it; tenant_isolation stays in force for INSERT,
-- UPDATE and DELETE, so the triggers that keep the index, running in a tenant's scope, cannot
-- add, change or remove another tenant's documents.
CREATE POLICY search_documents_readable ON search_documents FOR SELECT USING (true);

-- The version of each tenant's search index, which the servers compare with the version of the
-- results they keep in memory: the statement-level triggers below raise it whenever a statement
-- changes the tenant's documents, in the statement's transaction, so the new version becomes
-- visible together with the change, and a server that reads it at its next search of the
-- tenant drops what it kept from before. A tenant whose documents never changed has no row
-- and is at version 0.
CREATE TABLE search_versions (
    tenant_id uuid PRIMARY KEY REFERENCES tenants(id),
    version   bigint NOT NULL
);
ALTER TABLE search_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE search_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON search_versions
    USING (tenant_id = nullif(nullif(current_setting('sportello.tenant_id', true), ''), '*')::uuid
        OR current_setting('sportello.tenant_id', true) = '*')
    WITH CHECK (tenant_id = nullif(nullif(current_setting('sportello.tenant_id', true), ''), '*')::uuid
        OR current_setting('sportello.tenant_id', true) = '*');

-- A version is raised once per transaction: a later statement of the same transaction finds
-- the row written by it (xmin) and leaves it, so that an import that writes thousands of
-- documents, one statement each through the row triggers of the catalogue, does not pile up
-- thousands of versions of the row. The tenants are taken in order, so that two transactions
-- that change the documents of several tenants lock their rows in the same order. An update's
-- old rows count too, in case a document moved to another tenant.
CREATE FUNCTION search_documents_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tenants uuid[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        tenants := ARRAY(SELECT DISTINCT tenant_id FROM new_documents ORDER BY tenant_id);
    ELSIF TG_OP = 'UPDATE' THEN
        tenants := ARRAY(SELECT tenant_id FROM new_documents UNION SELECT tenant_id FROM old_documents ORDER BY tenant_id);
    ELSE
        tenants := ARRAY(SELECT DISTINCT tenant_id FROM old_documents ORDER BY tenant_id);
    END IF;
    IF cardinality(tenants) > 0 THEN
        INSERT INTO search_versions AS v (tenant_id, version)
        SELECT t, 1 FROM unnest(tenants) t
        ON CONFLICT (tenant_id) DO UPDATE SET version = v.version + 1
        WHERE v.xmin <> xid(pg_current_xact_id());
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER search_documents_inserted AFTER INSERT ON search_documents
    REFERENCING NEW TABLE AS new_documents FOR EACH STATEMENT EXECUTE FUNCTION search_documents_changed();
CREATE TRIGGER search_documents_updated AFTER UPDATE ON search_documents
    REFERENCING OLD TABLE AS old_documents NEW TABLE AS new_documents FOR EACH STATEMENT EXECUTE FUNCTION search_documents_changed();
CREATE TRIGGER search_documents_deleted AFTER DELETE ON search_documents
    REFERENCING OLD TABLE AS old_documents FOR EACH STATEMENT EXECUTE FUNCTION search_documents_changed();
