-- Triage: priorities, routing rules with automatic assignment, escalation, followers and merged
-- duplicates, and reply templates.

-- Priority as its rank (0 LOW, 1 NORMAL, 2 HIGH, 3 URGENT; see Priority.Rank), so that a list
-- sorted by it is sorted by urgency.
ALTER TABLE tickets ADD COLUMN priority smallint NOT NULL DEFAULT 1 CHECK (priority BETWEEN 0 AND 3);
CREATE INDEX tickets_priority ON tickets (tenant_id, priority DESC, created_at DESC, id DESC);

-- A duplicate merged into its master keeps its protocol number and points at the master.
ALTER TABLE tickets ADD COLUMN merged_into uuid REFERENCES tickets(id);

-- Suggesting duplicates by the similarity of subjects (pg_trgm, created by 0001).
CREATE INDEX tickets_subject_trgm ON tickets USING gin (lower(subject) gin_trgm_ops);

-- Operators marked absent are skipped by automatic assignment.
ALTER TABLE staff ADD COLUMN absent boolean NOT NULL DEFAULT false;

-- Assignment counts each operator's open tickets at every routed filing: this index keeps the
-- count to the open ones, however many an operator has closed.
CREATE INDEX tickets_assignee_open ON tickets (assignee_id)
    WHERE status IN ('SUBMITTED', 'IN_PROGRESS', 'WAITING_FOR_CITIZEN');

CREATE TABLE routing_rules (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id             uuid NOT NULL REFERENCES tenants(id),
    name                  text NOT NULL,
    position              integer NOT NULL,
    enabled               boolean NOT NULL DEFAULT true,
    is_default            boolean NOT NULL DEFAULT false,
    kinds                 text[] NOT NULL DEFAULT '{}',
    channels              text[] NOT NULL DEFAULT '{}',
    keywords              text[] NOT NULL DEFAULT '{}',
    -- The area: a circle (center and radius) or a polygon, as [[lat, lon], ...].
    center_lat            double precision,
    center_lon            double precision,
    radius_m              double precision,
    polygon               jsonb,
    office_id             uuid NOT NULL REFERENCES offices(id),
    assignee_id           uuid REFERENCES staff(id),
    strategy              text NOT NULL DEFAULT 'NONE',
    max_open_per_operator integer NOT NULL DEFAULT 0,
    priority              smallint CHECK (priority BETWEEN 0 AND 3),
    -- The operator the rule's round robin gave the last ticket to. The filing that assigns by
    -- the rule locks its row, so concurrent filings take turns in order.
    last_assignee_id      uuid REFERENCES staff(id),
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX routing_rules_tenant ON routing_rules (tenant_id, position);
CREATE UNIQUE INDEX routing_rules_default ON routing_rules (tenant_id) WHERE is_default;

-- One row per ticket and threshold reached: the primary key makes an escalation happen once,
-- however many workers race for it.
CREATE TABLE escalations (
    ticket_id uuid NOT NULL REFERENCES tickets(id),
    threshold text NOT NULL,
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    at        timestamptz NOT NULL,
    PRIMARY KEY (ticket_id, threshold)
);

CREATE TABLE ticket_followers (
    ticket_id  uuid NOT NULL REFERENCES tickets(id),
    citizen_id uuid NOT NULL REFERENCES citizens(id),
    tenant_id  uuid NOT NULL REFERENCES tenants(id),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ticket_id, citizen_id)
);
CREATE INDEX ticket_followers_citizen ON ticket_followers (citizen_id);

CREATE TABLE reply_templates (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id  uuid NOT NULL REFERENCES tenants(id),
    name       text NOT NULL,
    kind       text,
    office_id  uuid REFERENCES offices(id),
    language   text NOT NULL CHECK (language IN ('it', 'en')),
    body       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reply_templates_tenant ON reply_templates (tenant_id, name);
