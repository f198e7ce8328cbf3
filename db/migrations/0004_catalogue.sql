-- The catalogue of the information desk: services, administrative procedures and acts, and the
-- search index that finds them, the offices, and whatever later areas add, in Italian.

-- Italian full-text search that ignores accents: "identita" finds "identità", "citta" finds
-- "città". unaccent runs before the Italian stemmer, on documents and queries alike, so every
-- text search of the catalogue uses it_unaccent.
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE TEXT SEARCH CONFIGURATION it_unaccent (COPY = italian);
ALTER TEXT SEARCH CONFIGURATION it_unaccent
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, italian_stem;

CREATE TABLE services (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid NOT NULL REFERENCES tenants(id),
    slug          text NOT NULL,
    title         text NOT NULL,
    summary       text NOT NULL DEFAULT '',
    description   text NOT NULL DEFAULT '',
    audience      text NOT NULL DEFAULT '',
    office_id     uuid REFERENCES offices(id),
    eligibility   text NOT NULL DEFAULT '',
    requirements  text[] NOT NULL DEFAULT '{}',
    costs         text NOT NULL DEFAULT '',
    how_to_apply  text NOT NULL DEFAULT '',
    channels      text[] NOT NULL DEFAULT '{}',
    online_url    text NOT NULL DEFAULT '',
    expected_time text NOT NULL DEFAULT '',
    legal_basis   text NOT NULL DEFAULT '',
    topics        text[] NOT NULL DEFAULT '{}',
    status        text NOT NULL CHECK (status IN ('DRAFT', 'PUBLISHED', 'RETIRED')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT services_slug UNIQUE (tenant_id, slug)
);
CREATE INDEX services_list ON services (tenant_id, title, id);
CREATE INDEX services_office ON services (office_id);
CREATE INDEX services_topics ON services USING gin (topics);

CREATE TABLE procedures (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id      uuid NOT NULL REFERENCES tenants(id),
    code           text NOT NULL DEFAULT '',
    name           text NOT NULL,
    description    text NOT NULL DEFAULT '',
    legal_basis    text NOT NULL,
    office_id      uuid NOT NULL REFERENCES offices(id),
    officer        text NOT NULL DEFAULT '',
    max_days       integer NOT NULL CHECK (max_days BETWEEN 1 AND 1095),
    silent_consent boolean NOT NULL DEFAULT false,
    steps          text[] NOT NULL DEFAULT '{}',
    topics         text[] NOT NULL DEFAULT '{}',
    status         text NOT NULL CHECK (status IN ('DRAFT', 'PUBLISHED', 'RETIRED')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    -- A procedure is identified by its code when the municipality gives it one, otherwise by
    -- its name: the key imports match on.
    key            text GENERATED ALWAYS AS (CASE WHEN code <> '' THEN code ELSE lower(name) END) STORED,
    CONSTRAINT procedures_key UNIQUE (tenant_id, key)
);
CREATE INDEX procedures_list ON procedures (tenant_id, name, id);
CREATE INDEX procedures_office ON procedures (office_id);
CREATE INDEX procedures_topics ON procedures USING gin (topics);

CREATE TABLE acts (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id       uuid NOT NULL REFERENCES tenants(id),
    type            text NOT NULL,
    number          integer NOT NULL CHECK (number > 0),
    year            integer NOT NULL,
    date            date NOT NULL,
    title           text NOT NULL,
    summary         text NOT NULL DEFAULT '',
    office_id       uuid REFERENCES offices(id),
    -- The days on the notice board (albo pretorio), both included.
    published_from  date,
    published_until date CHECK (published_until >= published_from),
    document_url    text NOT NULL DEFAULT '',
    status          text NOT NULL CHECK (status IN ('DRAFT', 'PUBLISHED', 'RETIRED')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT acts_number UNIQUE (tenant_id, type, year, number)
);
CREATE INDEX acts_list ON acts (tenant_id, date DESC, id DESC);
CREATE INDEX acts_office ON acts (office_id);

-- The search index: one row per document of any type, so one query ranks services, procedures,
-- acts and offices together, and a later area (web pages, youth opportunities) joins search by
-- writing rows of its own type, without touching this query or the other types. (A UNION view
-- over the source tables would need every later migration to redefine the whole view, and its
-- ranking would mix tsvectors computed differently per table.)
--
-- The rows are written by triggers on the source tables, in the transaction of the change:
-- every writer (the GraphQL mutations, the importer, the demo seed, the offices that other
-- areas manage) keeps the index exact without knowing it exists, and a rolled-back change
-- leaves no trace in it.
CREATE TABLE search_documents (
    tenant_id    uuid NOT NULL REFERENCES tenants(id),
    type         text NOT NULL,
    ref_id       uuid NOT NULL,
    title        text NOT NULL,  -- weight A
    summary      text NOT NULL,  -- weight B; the start of the snippet
    body         text NOT NULL,  -- weight C
    status       text NOT NULL,  -- DRAFT, PUBLISHED or RETIRED: the public finds PUBLISHED only
    visible_from date,           -- the public finds the document from this day (acts)
    document     tsvector GENERATED ALWAYS AS (
                     setweight(to_tsvector('it_unaccent', title), 'A') ||
                     setweight(to_tsvector('it_unaccent', summary), 'B') ||
                     setweight(to_tsvector('it_unaccent', body), 'C')) STORED,
    PRIMARY KEY (type, ref_id)
);
CREATE INDEX search_documents_match ON search_documents USING gin (document);
CREATE INDEX search_documents_tenant ON search_documents (tenant_id, type);

-- search_text prepares a text for the index: it drops the private-use characters with which
-- search marks the words it found in snippets, so no document can forge a mark.
CREATE FUNCTION search_text(VARIADIC parts text[]) RETURNS text
    LANGUAGE sql IMMUTABLE
    RETURN translate(array_to_string(array_remove(parts, ''), E'\n'), U&'\E000\E001', '');

CREATE FUNCTION put_search_document(tenant uuid, doc_type text, ref uuid, doc_title text,
    doc_summary text, doc_body text, doc_status text, doc_visible_from date) RETURNS void
    LANGUAGE sql
    BEGIN ATOMIC
        INSERT INTO search_documents (tenant_id, type, ref_id, title, summary, body, status, visible_from)
        VALUES (tenant, doc_type, ref, search_text(doc_title), search_text(doc_summary), search_text(doc_body),
                doc_status, doc_visible_from)
        ON CONFLICT (type, ref_id) DO UPDATE SET
            title = EXCLUDED.title, summary = EXCLUDED.summary, body = EXCLUDED.body,
            status = EXCLUDED.status, visible_from = EXCLUDED.visible_from;
    END;

CREATE FUNCTION index_service() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM put_search_document(NEW.tenant_id, 'SERVICE', NEW.id, NEW.title, NEW.summary,
        search_text(NEW.description, NEW.audience, NEW.eligibility, array_to_string(NEW.requirements, E'\n'),
            NEW.how_to_apply, NEW.costs, NEW.legal_basis, array_to_string(NEW.topics, ', ')),
        NEW.status, NULL);
    RETURN NULL;
END $$;

CREATE FUNCTION index_procedure() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM put_search_document(NEW.tenant_id, 'PROCEDURE', NEW.id, NEW.name, NEW.description,
        search_text(NEW.legal_basis, NEW.officer, array_to_string(NEW.steps, E'\n'), array_to_string(NEW.topics, ', ')),
        NEW.status, NULL);
    RETURN NULL;
END $$;

-- Acts are searched by the Italian name of their type too ("ordinanza", "delibera").
CREATE FUNCTION act_type_label(t text) RETURNS text LANGUAGE sql IMMUTABLE
    RETURN CASE t
        WHEN 'COUNCIL_RESOLUTION' THEN 'Delibera di Consiglio comunale'
        WHEN 'EXECUTIVE_RESOLUTION' THEN 'Delibera di Giunta comunale'
        WHEN 'EXECUTIVE_DECISION' THEN 'Determinazione dirigenziale'
        WHEN 'ORDINANCE' THEN 'Ordinanza'
        WHEN 'DECREE' THEN 'Decreto'
        WHEN 'REGULATION' THEN 'Regolamento'
        WHEN 'NOTICE' THEN 'Avviso'
        ELSE t END;

CREATE FUNCTION index_act() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM put_search_document(NEW.tenant_id, 'ACT', NEW.id, NEW.title,
        act_type_label(NEW.type) || ' n. ' || NEW.number || '/' || NEW.year || '. ' || NEW.summary, '',
        NEW.status, NEW.published_from);
    RETURN NULL;
END $$;

CREATE FUNCTION index_office() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM put_search_document(NEW.tenant_id, 'OFFICE', NEW.id, NEW.name, NEW.description,
        search_text(NEW.address, NEW.head), 'PUBLISHED', NULL);
    RETURN NULL;
END $$;

-- Deleting a source row deletes its document; the trigger's argument is the document type.
CREATE FUNCTION unindex() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM search_documents WHERE type = TG_ARGV[0] AND ref_id = OLD.id;
    RETURN NULL;
END $$;

CREATE TRIGGER services_search AFTER INSERT OR UPDATE ON services FOR EACH ROW EXECUTE FUNCTION index_service();
CREATE TRIGGER services_unsearch AFTER DELETE ON services FOR EACH ROW EXECUTE FUNCTION unindex('SERVICE');
CREATE TRIGGER procedures_search AFTER INSERT OR UPDATE ON procedures FOR EACH ROW EXECUTE FUNCTION index_procedure();
CREATE TRIGGER procedures_unsearch AFTER DELETE ON procedures FOR EACH ROW EXECUTE FUNCTION unindex('PROCEDURE');
CREATE TRIGGER acts_search AFTER INSERT OR UPDATE ON acts FOR EACH ROW EXECUTE FUNCTION index_act();
CREATE TRIGGER acts_unsearch AFTER DELETE ON acts FOR EACH ROW EXECUTE FUNCTION unindex('ACT');
CREATE TRIGGER offices_search AFTER INSERT OR UPDATE ON offices FOR EACH ROW EXECUTE FUNCTION index_office();
CREATE TRIGGER offices_unsearch AFTER DELETE ON offices FOR EACH ROW EXECUTE FUNCTION unindex('OFFICE');

-- The offices that exist already.
SELECT put_search_document(tenant_id, 'OFFICE', id, name, description, search_text(address, head), 'PUBLISHED', NULL)
FROM offices;
