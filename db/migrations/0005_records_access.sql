-- Requests for access to records (accesso agli atti): the details of tickets of kind
-- RECORDS_ACCESS, the events that move their legal clock, and their decision, from which the
-- public register of accesses is read.
CREATE TABLE records_access (
    ticket_id              uuid PRIMARY KEY REFERENCES tickets(id),
    tenant_id              uuid NOT NULL REFERENCES tenants(id),
    type                   text NOT NULL CHECK (type IN ('DOCUMENTALE', 'CIVICO_SEMPLICE', 'CIVICO_GENERALIZZATO')),
    interest               text NOT NULL DEFAULT '',
    documents              text NOT NULL,
    -- The act asked for as the applicant wrote it, and the act of the catalogue once linked
    -- (its foreign key comes with the catalogue).
    act_text               text NOT NULL DEFAULT '',
    act_id                 uuid,
    motivation             text NOT NULL DEFAULT '',
    counter_parties        text[] NOT NULL DEFAULT '{}',
    incomplete_notified_at timestamptz,
    completed_at           timestamptz,
    counter_notified_at    timestamptz,
    outcome                text CHECK (outcome IN ('GRANTED', 'PARTIALLY_GRANTED', 'DENIED', 'DEFERRED')),
    outcome_motivation     text NOT NULL DEFAULT '',
    -- Calendar days in Europe/Rome.
    viewing_from           date,
    viewing_until          date,
    decided_at             timestamptz,
    -- The subject shown in the public register, written by staff without personal data.
    public_subject         text NOT NULL DEFAULT '',
    CHECK ((outcome IS NULL) = (decided_at IS NULL))
);
