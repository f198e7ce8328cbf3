-- A request for access to records may name the act it asks for from the catalogue: the link
-- the records-access migration left without a foreign key because the catalogue came later.
ALTER TABLE records_access
    ADD CONSTRAINT records_access_act_id_fkey FOREIGN KEY (act_id) REFERENCES acts(id);
CREATE INDEX records_access_act ON records_access (act_id) WHERE act_id IS NOT NULL;
