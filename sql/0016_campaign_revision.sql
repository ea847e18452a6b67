-- Every change of a campaign row moves its revision. The service keeps the JSON of each campaign it
-- has written, keyed by (id, revision, published brief version), and serves the campaign list from it
-- (docs/architecture.md, "Representation cache"); a row that changed must never match an old entry,
-- whichever statement changed it, so the database moves the revision, not the statements.
ALTER TABLE campaigns ADD COLUMN revision bigint NOT NULL DEFAULT 1;

CREATE FUNCTION campaigns_next_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.revision := OLD.revision + 1;
    RETURN NEW;
END
$$;

CREATE TRIGGER campaigns_revision BEFORE UPDATE ON campaigns
    FOR EACH ROW EXECUTE FUNCTION campaigns_next_revision();
