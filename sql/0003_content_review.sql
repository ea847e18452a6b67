-- Drafts (immutable versions) and their reviews.

CREATE TABLE drafts (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    deliverable_id  uuid NOT NULL REFERENCES deliverables (id),
    version         integer NOT NULL CHECK (version >= 1),
    caption         text NOT NULL DEFAULT '' CHECK (length(caption) <= 5000),
    media           jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(media) = 'array'),
    notes           text NOT NULL DEFAULT '' CHECK (length(notes) <= 2000),
    submitted_by    uuid NOT NULL REFERENCES users (id),
    submitted_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (deliverable_id, version),
    -- Something to review: a caption or media.
    CHECK (caption <> '' OR jsonb_array_length(media) > 0)
);

CREATE TABLE reviews (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    draft_id       uuid NOT NULL REFERENCES drafts (id),
    decision       text NOT NULL CHECK (decision IN ('forward', 'request_changes', 'approve', 'relay')),
    message        text NOT NULL DEFAULT '' CHECK (length(message) <= 5000),
    reviewer_id    uuid NOT NULL REFERENCES users (id),
    reviewer_role  text NOT NULL CHECK (reviewer_role IN ('admin', 'officer', 'brand')),
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- The brand approves or asks for changes; only staff forward or relay.
    CHECK (reviewer_role <> 'brand' OR decision IN ('approve', 'request_changes'))
);
CREATE INDEX reviews_draft ON reviews (draft_id, created_at);

-- Drafts and reviews are history: written once, never changed or removed.
CREATE FUNCTION content_history_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_immutable';
END $$;
CREATE TRIGGER drafts_immutable BEFORE UPDATE OR DELETE ON drafts FOR EACH ROW EXECUTE FUNCTION content_history_immutable();
CREATE TRIGGER reviews_immutable BEFORE UPDATE OR DELETE ON reviews FOR EACH ROW EXECUTE FUNCTION content_history_immutable();

-- The worklist reads deliverables by state and due time.
CREATE INDEX deliverables_worklist ON deliverables (status, updated_at, id);
CREATE INDEX deliverables_draft_due ON deliverables (draft_due_at, id) WHERE status IN ('awaiting_draft', 'changes_requested');
CREATE INDEX deliverables_post_due ON deliverables (post_due_at, id) WHERE status = 'approved';
