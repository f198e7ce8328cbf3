-- Institutional communication: the web content the portal and the app read (pages, news,
-- notices, brochures, events) with its editorial workflow and revisions, and the communication
-- campaigns with their distribution log.

-- One row per content item: its address (type, language, slug, and a path for pages), where
-- its workflow stands, and which of its revisions is the working copy and which one is live.
-- The text itself lives in content_revisions, so that a published page stays online, as it
-- was approved, while editors revise it.
CREATE TABLE contents (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id         uuid NOT NULL REFERENCES tenants(id),
    type              text NOT NULL CHECK (type IN ('PAGE', 'NEWS', 'NOTICE', 'BROCHURE', 'EVENT')),
    language          text NOT NULL CHECK (language IN ('it', 'en')),
    -- The translations of one item share a group: the id of the item they translate.
    translation_group uuid NOT NULL,
    slug              text NOT NULL,
    path              text, -- pages only: /vivere-il-comune/urp
    status            text NOT NULL CHECK (status IN ('DRAFT', 'IN_REVIEW', 'APPROVED', 'PUBLISHED', 'ARCHIVED')),
    -- The latest revision (the working copy editors see) and the one the public sees, if any.
    revision          integer NOT NULL,
    live_revision     integer,
    -- The staff who wrote the text since it was last published, and who submitted it: none of
    -- them may approve it.
    authors           uuid[] NOT NULL DEFAULT '{}',
    submitted_by      uuid REFERENCES staff(id),
    approved_by       uuid REFERENCES staff(id),
    publish_at        timestamptz, -- an approved item waiting for its scheduled publication
    unpublish_at      timestamptz, -- a live item leaves the portal then
    published_at      timestamptz, -- when the live revision went live
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    CONSTRAINT contents_path UNIQUE (tenant_id, language, path),
    CONSTRAINT contents_translation UNIQUE (tenant_id, translation_group, language),
    CHECK ((type = 'PAGE') = (path IS NOT NULL)),
    CHECK (live_revision IS NULL OR live_revision <= revision)
);
-- News, notices, brochures and events are addressed by their slug; pages by their path (two
-- sections may both have a page "contatti").
CREATE UNIQUE INDEX contents_slug ON contents (tenant_id, language, slug) WHERE type <> 'PAGE';
CREATE INDEX contents_list ON contents (tenant_id, type, published_at DESC, id DESC);
-- What the scheduler looks for every few seconds, across tenants.
CREATE INDEX contents_due_publish ON contents (publish_at) WHERE status = 'APPROVED' AND publish_at IS NOT NULL;
CREATE INDEX contents_due_unpublish ON contents (unpublish_at) WHERE live_revision IS NOT NULL AND unpublish_at IS NOT NULL;

-- Every save of an item is a revision: never updated, never deleted. Restoring an old one
-- writes a new one with its text.
CREATE TABLE content_revisions (
    -- Deferred: an item's first revision is written before the item, so that the item's row
    -- (and the search index its trigger keeps) always finds the revision it names.
    content_id    uuid NOT NULL REFERENCES contents(id) DEFERRABLE INITIALLY DEFERRED,
    number        integer NOT NULL CHECK (number >= 1),
    tenant_id     uuid NOT NULL REFERENCES tenants(id),
    title         text NOT NULL,
    summary       text NOT NULL DEFAULT '',
    body          text NOT NULL DEFAULT '',  -- Markdown, as written
    body_html     text NOT NULL DEFAULT '',  -- rendered and sanitized when saved
    body_text     text NOT NULL DEFAULT '',  -- the plain text, for search
    topics        text[] NOT NULL DEFAULT '{}',
    office_id     uuid REFERENCES offices(id),
    attachments   jsonb NOT NULL DEFAULT '[]',
    cover_url     text NOT NULL DEFAULT '',
    cover_alt     text NOT NULL DEFAULT '',
    event_start   timestamptz,
    event_end     timestamptz CHECK (event_end >= event_start),
    event_place   text NOT NULL DEFAULT '',
    author_id     uuid REFERENCES staff(id),
    author_name   text NOT NULL DEFAULT '',
    restored_from integer,
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (content_id, number)
);
CREATE INDEX content_revisions_topics ON content_revisions USING gin (topics);

ALTER TABLE contents ADD CONSTRAINT contents_revision_fkey FOREIGN KEY (id, revision)
    REFERENCES content_revisions (content_id, number);
ALTER TABLE contents ADD CONSTRAINT contents_live_revision_fkey FOREIGN KEY (id, live_revision)
    REFERENCES content_revisions (content_id, number);

-- Search finds an item by its live text once it is published, and editors find the working
-- copy of the others; the trigger keeps the index in step with every change of the item, the
-- scheduler's included, in the transaction of the change.
CREATE FUNCTION index_content() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r content_revisions;
BEGIN
    SELECT * INTO r FROM content_revisions WHERE content_id = NEW.id AND number = coalesce(NEW.live_revision, NEW.revision);
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    PERFORM put_search_document(NEW.tenant_id, 'CONTENT', NEW.id, r.title, r.summary,
        search_text(r.body_text, r.event_place, array_to_string(r.topics, ', ')),
        CASE WHEN NEW.live_revision IS NOT NULL THEN 'PUBLISHED'
             WHEN NEW.status = 'ARCHIVED' THEN 'RETIRED'
             ELSE 'DRAFT' END,
        NULL);
    RETURN NULL;
END $$;

CREATE TRIGGER contents_search AFTER INSERT OR UPDATE ON contents FOR EACH ROW EXECUTE FUNCTION index_content();
CREATE TRIGGER contents_unsearch AFTER DELETE ON contents FOR EACH ROW EXECUTE FUNCTION unindex('CONTENT');

-- Communication campaigns, inside (INTERNAL: staff) or outside (EXTERNAL: citizens) the
-- municipality.
CREATE TABLE campaigns (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid NOT NULL REFERENCES tenants(id),
    name          text NOT NULL,
    goal          text NOT NULL DEFAULT '',
    audience      text NOT NULL CHECK (audience IN ('EXTERNAL', 'INTERNAL')),
    target_groups text[] NOT NULL DEFAULT '{}',
    channels      text[] NOT NULL DEFAULT '{}',
    starts_on     date NOT NULL,
    ends_on       date NOT NULL CHECK (ends_on >= starts_on),
    content_ids   uuid[] NOT NULL DEFAULT '{}',
    status        text NOT NULL CHECK (status IN ('PLANNED', 'RUNNING', 'DONE')),
    -- Satisfaction surveys and other results, by URL with a description.
    result_links  jsonb NOT NULL DEFAULT '[]',
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    CONSTRAINT campaigns_name UNIQUE (tenant_id, name)
);
CREATE INDEX campaigns_list ON campaigns (tenant_id, starts_on DESC, id DESC);

-- The distribution log: what was delivered where, how many copies, when and by whom.
CREATE TABLE campaign_distributions (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    uuid NOT NULL REFERENCES tenants(id),
    campaign_id  uuid NOT NULL REFERENCES campaigns(id),
    material     text NOT NULL,
    content_id   uuid REFERENCES contents(id),
    channel      text NOT NULL,
    place        text NOT NULL,
    copies       integer NOT NULL CHECK (copies >= 0),
    delivered_on date NOT NULL,
    delivered_by text NOT NULL,
    recorded_by  uuid REFERENCES staff(id),
    notes        text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL
);
CREATE INDEX campaign_distributions_campaign ON campaign_distributions (campaign_id, delivered_on, created_at);
