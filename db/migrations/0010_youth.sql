-- The youth desk (Informagiovani, Eurodesk): opportunities, the citizens' saved searches and
-- saved opportunities, and the rows that prove each alert and reminder went out once.

-- The distance in meters between two points on the Earth: the haversine formula and radius of
-- sportello.DistanceMeters, as a function of four columns for matching saved searches' circles
-- against an opportunity (lists use nearCondition, whose bounding box an index serves).
CREATE FUNCTION great_circle_m(lat1 double precision, lon1 double precision,
    lat2 double precision, lon2 double precision) RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN 2 * 6371008.8 * asin(sqrt(least(1,
        sin(radians(lat2 - lat1) / 2) ^ 2 +
        cos(radians(lat1)) * cos(radians(lat2)) * sin(radians(lon2 - lon1) / 2) ^ 2)));

-- The text of an opportunity as searched: title first, then who offers it and its topics, then
-- the rest. Declared immutable (array_to_string is only stable because of element types whose
-- output may change; text is not one) so that it can compute a stored column.
CREATE FUNCTION opportunity_document(title text, organisation text, topics text[], description text, place text)
    RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN setweight(to_tsvector('it_unaccent', title), 'A') ||
           setweight(to_tsvector('it_unaccent', organisation || ' ' || array_to_string(topics, ' ')), 'B') ||
           setweight(to_tsvector('it_unaccent', description || ' ' || place), 'C');

CREATE TABLE opportunities (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id       uuid NOT NULL REFERENCES tenants(id),
    category        text NOT NULL CHECK (category IN ('STUDY_TRAINING', 'JOB', 'INTERNSHIP', 'APPRENTICESHIP',
                        'CALL_COMPETITION', 'EU_CALL', 'VOLUNTEERING', 'LEISURE_TRAVEL', 'MOBILITY')),
    title           text NOT NULL,
    description     text NOT NULL DEFAULT '',
    organisation    text NOT NULL DEFAULT '',
    municipality    text NOT NULL DEFAULT '',
    region          text NOT NULL DEFAULT '',
    country         text NOT NULL DEFAULT '',
    remote          boolean NOT NULL DEFAULT false,
    latitude        double precision,
    longitude       double precision,
    address         text NOT NULL DEFAULT '',
    min_age         integer NOT NULL DEFAULT 0,
    max_age         integer NOT NULL DEFAULT 0,  -- 0: no upper bound
    languages       text[] NOT NULL DEFAULT '{}',
    education_level text NOT NULL DEFAULT '',
    start_date      date,
    end_date        date,
    deadline        date,                        -- the last day to apply, in Rome
    how_to_apply    text NOT NULL DEFAULT '',
    url             text NOT NULL DEFAULT '',
    costs           text NOT NULL DEFAULT '',
    source          text NOT NULL CHECK (source IN ('LOCAL', 'EURODESK', 'EUROPEAN_YOUTH_PORTAL', 'EURES', 'OTHER')),
    external_ref    text NOT NULL DEFAULT '',
    topics          text[] NOT NULL DEFAULT '{}',
    office_id       uuid REFERENCES offices(id),
    status          text NOT NULL CHECK (status IN ('DRAFT', 'PUBLISHED', 'EXPIRED', 'WITHDRAWN')),
    published_at    timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    document        tsvector GENERATED ALWAYS AS (opportunity_document(title, organisation, topics, description,
                        municipality || ' ' || region)) STORED,
    CHECK ((latitude IS NULL) = (longitude IS NULL))
);
-- Imports match an opportunity by its source's reference; opportunities written at the desk
-- may have none.
CREATE UNIQUE INDEX opportunities_source_ref ON opportunities (tenant_id, source, external_ref) WHERE external_ref <> '';
CREATE INDEX opportunities_match ON opportunities USING gin (document);
CREATE INDEX opportunities_deadline ON opportunities (tenant_id, (coalesce(deadline, date '9999-12-31')), id);
CREATE INDEX opportunities_open ON opportunities (deadline) WHERE status = 'PUBLISHED';
CREATE INDEX opportunities_location ON opportunities (tenant_id, latitude, longitude) WHERE latitude IS NOT NULL;

-- The global search finds published opportunities only, and only until their deadline: the
-- document is there while the opportunity is PUBLISHED, and visible_until hides it from the day
-- after the deadline, before the job that expires opportunities has run.
ALTER TABLE search_documents ADD COLUMN visible_until date;

CREATE FUNCTION index_opportunity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status <> 'PUBLISHED' THEN
        DELETE FROM search_documents WHERE type = 'OPPORTUNITY' AND ref_id = NEW.id;
        RETURN NULL;
    END IF;
    INSERT INTO search_documents (tenant_id, type, ref_id, title, summary, body, status, visible_until)
    VALUES (NEW.tenant_id, 'OPPORTUNITY', NEW.id, search_text(NEW.title), search_text(NEW.description),
            search_text(NEW.organisation, NEW.municipality, NEW.region, NEW.how_to_apply, NEW.costs,
                array_to_string(NEW.topics, ', ')),
            'PUBLISHED', NEW.deadline)
    ON CONFLICT (type, ref_id) DO UPDATE SET
        title = EXCLUDED.title, summary = EXCLUDED.summary, body = EXCLUDED.body,
        status = EXCLUDED.status, visible_until = EXCLUDED.visible_until;
    RETURN NULL;
END $$;

CREATE TRIGGER opportunities_search AFTER INSERT OR UPDATE ON opportunities FOR EACH ROW EXECUTE FUNCTION index_opportunity();
CREATE TRIGGER opportunities_unsearch AFTER DELETE ON opportunities FOR EACH ROW EXECUTE FUNCTION unindex('OPPORTUNITY');

-- A citizen's saved search. The criteria are columns, so that publishing an opportunity finds
-- every matching search in one statement: the cheap conditions first, the words as a tsquery
-- (compiled once, when the search is saved) against the opportunity's document.
CREATE TABLE saved_searches (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid NOT NULL REFERENCES tenants(id),
    citizen_id    uuid NOT NULL REFERENCES citizens(id) ON DELETE CASCADE,
    name          text NOT NULL,
    text          text NOT NULL DEFAULT '',
    query         tsquery GENERATED ALWAYS AS (websearch_to_tsquery('it_unaccent', text)) STORED,
    categories    text[] NOT NULL DEFAULT '{}',
    country       text NOT NULL DEFAULT '',
    remote        boolean,
    age           integer NOT NULL DEFAULT 0,
    language      text NOT NULL DEFAULT '',
    latitude      double precision,
    longitude     double precision,
    radius_meters double precision,
    alerts        boolean NOT NULL,
    created_at    timestamptz NOT NULL,
    CHECK ((latitude IS NULL) = (radius_meters IS NULL) AND (latitude IS NULL) = (longitude IS NULL))
);
CREATE INDEX saved_searches_citizen ON saved_searches (citizen_id, created_at);
CREATE INDEX saved_searches_alerts ON saved_searches (tenant_id) WHERE alerts;

-- One alert per citizen and opportunity, however many of their searches match it and however
-- often it is published again.
CREATE TABLE opportunity_alerts (
    opportunity_id uuid NOT NULL REFERENCES opportunities(id) ON DELETE CASCADE,
    citizen_id     uuid NOT NULL REFERENCES citizens(id) ON DELETE CASCADE,
    created_at     timestamptz NOT NULL,
    PRIMARY KEY (opportunity_id, citizen_id)
);

CREATE TABLE saved_opportunities (
    citizen_id     uuid NOT NULL REFERENCES citizens(id) ON DELETE CASCADE,
    opportunity_id uuid NOT NULL REFERENCES opportunities(id) ON DELETE CASCADE,
    tenant_id      uuid NOT NULL REFERENCES tenants(id),
    created_at     timestamptz NOT NULL,
    PRIMARY KEY (citizen_id, opportunity_id)
);
CREATE INDEX saved_opportunities_opportunity ON saved_opportunities (opportunity_id);

-- The reminders sent: the primary key, not a check before sending, is what makes every
-- reminder go out exactly once when several instances run the job at the same time.
CREATE TABLE opportunity_reminders (
    citizen_id     uuid NOT NULL REFERENCES citizens(id) ON DELETE CASCADE,
    opportunity_id uuid NOT NULL REFERENCES opportunities(id) ON DELETE CASCADE,
    kind           text NOT NULL,
    sent_at        timestamptz NOT NULL,
    PRIMARY KEY (citizen_id, opportunity_id, kind)
);
