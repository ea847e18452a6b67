-- Guest review links (DESIGN.md, "Web console", "Guest review links"): an officer gives a reviewer
-- without an account a link to one campaign's drafts waiting for brand review. Only the SHA-256 of
-- the link's token is stored; the token itself is shown once, in the answer that made the link.
CREATE TABLE review_links (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    token_hash      bytea NOT NULL CHECK (length(token_hash) = 32),
    campaign_id     uuid NOT NULL REFERENCES campaigns (id),
    reviewer_name   text NOT NULL CHECK (length(btrim(reviewer_name)) BETWEEN 1 AND 200),
    reviewer_email  text NOT NULL CHECK (reviewer_email = lower(reviewer_email) AND reviewer_email LIKE '_%@_%._%'
                                         AND length(reviewer_email) <= 254),
    expires_at      timestamptz NOT NULL,
    revoked_at      timestamptz,
    created_by      uuid NOT NULL REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT review_links_token_unique UNIQUE (token_hash),
    -- A link lives at most 30 days.
    CONSTRAINT review_links_lifetime CHECK (expires_at > created_at AND expires_at <= created_at + interval '30 days'),
    CHECK (revoked_at IS NULL OR revoked_at >= created_at)
);
-- A campaign's links, newest first (the list's keyset).
CREATE INDEX review_links_campaign_page ON review_links (campaign_id, created_at DESC, id DESC);
-- Housekeeping finds the links that ended more than 30 days ago.
CREATE INDEX review_links_end ON review_links (least(expires_at, revoked_at));

-- A guest's review: a brand review by the holder of a link, not by a user. Exactly one of the two
-- names the reviewer. The link stays while a review names it (housekeeping keeps it), so every
-- review keeps its author.
ALTER TABLE reviews ALTER COLUMN reviewer_id DROP NOT NULL;
ALTER TABLE reviews ADD COLUMN review_link_id uuid REFERENCES review_links (id);
ALTER TABLE reviews ADD CONSTRAINT reviews_one_reviewer CHECK ((reviewer_id IS NULL) <> (review_link_id IS NULL));
ALTER TABLE reviews ADD CONSTRAINT reviews_guest_is_brand CHECK (review_link_id IS NULL OR reviewer_role = 'brand');
CREATE INDEX reviews_review_link ON reviews (review_link_id) WHERE review_link_id IS NOT NULL;
