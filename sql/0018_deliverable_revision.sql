-- Every change of a deliverable row moves its revision, as for campaigns (0016). A transition with
-- nothing else to write decides on the deliverable and its campaign as read without locks, then
-- applies in one statement guarded by both revisions (docs/architecture.md, "Transitions in one
-- statement"): whichever statement changed either row in between, the guard sees it, because the
-- database moves the revision, not the statements.
ALTER TABLE deliverables ADD COLUMN revision bigint NOT NULL DEFAULT 1;

CREATE FUNCTION next_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.revision := OLD.revision + 1;
    RETURN NEW;
END
$$;

CREATE TRIGGER deliverables_revision BEFORE UPDATE ON deliverables
    FOR EACH ROW EXECUTE FUNCTION next_revision();
