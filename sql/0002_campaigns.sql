-- Campaigns, versioned briefs, registrations, deliverables and the audit log.

CREATE TABLE campaigns (
    id                       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    brand_id                 uuid NOT NULL REFERENCES brands (id),
    officer_id               uuid REFERENCES users (id),
    title                    text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
    description              text NOT NULL DEFAULT '' CHECK (length(description) <= 10000),
    status                   text NOT NULL DEFAULT 'draft'
                             CHECK (status IN ('draft', 'recruiting', 'running', 'completed', 'cancelled')),
    platforms                text[] NOT NULL
                             CHECK (cardinality(platforms) >= 1
                                    AND platforms <@ ARRAY['instagram', 'tiktok', 'youtube', 'facebook', 'x']),
    kol_slots                integer NOT NULL CHECK (kol_slots BETWEEN 1 AND 10000),
    accepted_count           integer NOT NULL DEFAULT 0,
    min_followers            bigint NOT NULL DEFAULT 0 CHECK (min_followers >= 0),
    niches                   text[] NOT NULL DEFAULT '{}',
    regions                  text[] NOT NULL DEFAULT '{}',
    registration_closes_at   timestamptz,
    brand_review_required    boolean NOT NULL DEFAULT true,
    max_revision_rounds      integer NOT NULL DEFAULT 2 CHECK (max_revision_rounds BETWEEN 0 AND 10),
    insights_after_days      integer NOT NULL DEFAULT 7 CHECK (insights_after_days BETWEEN 1 AND 90),
    fee_idr                  bigint NOT NULL CHECK (fee_idr >= 0),
    bonus_metric             text CHECK (bonus_metric IN ('views', 'reach', 'engagements')),
    bonus_rate_idr_per_1000  bigint CHECK (bonus_rate_idr_per_1000 >= 0),
    bonus_cap_idr            bigint CHECK (bonus_cap_idr >= 0),
    withholding_bp           integer NOT NULL DEFAULT 250 CHECK (withholding_bp BETWEEN 0 AND 10000),
    version                  integer NOT NULL DEFAULT 1,
    created_by               uuid NOT NULL REFERENCES users (id),
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    -- The slot limit, whatever the concurrency: accepting is one guarded UPDATE, and this is its backstop.
    CONSTRAINT campaigns_slots_not_exceeded CHECK (accepted_count BETWEEN 0 AND kol_slots),
    -- A bonus comes whole (metric, rate and cap) or not at all.
    CONSTRAINT campaigns_bonus_complete CHECK (
        (bonus_metric IS NULL AND bonus_rate_idr_per_1000 IS NULL AND bonus_cap_idr IS NULL)
        OR (bonus_metric IS NOT NULL AND bonus_rate_idr_per_1000 IS NOT NULL AND bonus_cap_idr IS NOT NULL)),
    -- Past draft a campaign has an officer.
    CONSTRAINT campaigns_officer_after_draft CHECK (status IN ('draft', 'cancelled') OR officer_id IS NOT NULL)
);
CREATE INDEX campaigns_page ON campaigns (created_at, id);
CREATE INDEX campaigns_brand_page ON campaigns (brand_id, created_at, id);
CREATE INDEX campaigns_officer_page ON campaigns (officer_id, created_at, id);
CREATE INDEX campaigns_status_page ON campaigns (status, created_at, id);

-- Brief versions: 1, 2, ... per campaign. Content never changes once written; only the status moves
-- (draft -> published -> superseded), enforced by the trigger below.
CREATE TABLE brief_versions (
    id              uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    campaign_id     uuid NOT NULL REFERENCES campaigns (id),
    version         integer NOT NULL CHECK (version >= 1),
    status          text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'superseded')),
    key_messages    text[] NOT NULL DEFAULT '{}',
    dos             text[] NOT NULL DEFAULT '{}',
    donts           text[] NOT NULL DEFAULT '{}',
    hashtags        text[] NOT NULL DEFAULT '{}',
    mentions        text[] NOT NULL DEFAULT '{}',
    reference_links text[] NOT NULL DEFAULT '{}',
    deliverables    jsonb NOT NULL CHECK (jsonb_typeof(deliverables) = 'array' AND jsonb_array_length(deliverables) >= 1),
    created_by      uuid NOT NULL REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    published_at    timestamptz,
    PRIMARY KEY (campaign_id, version),
    CHECK ((status = 'draft') = (published_at IS NULL))
);
-- At most one published version per campaign.
CREATE UNIQUE INDEX brief_versions_one_published ON brief_versions (campaign_id) WHERE status = 'published';

CREATE FUNCTION brief_versions_keep_content() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.campaign_id, NEW.version, NEW.key_messages, NEW.dos, NEW.donts, NEW.hashtags, NEW.mentions,
        NEW.reference_links, NEW.deliverables, NEW.created_by, NEW.created_at)
       IS DISTINCT FROM
       (OLD.campaign_id, OLD.version, OLD.key_messages, OLD.dos, OLD.donts, OLD.hashtags, OLD.mentions,
        OLD.reference_links, OLD.deliverables, OLD.created_by, OLD.created_at) THEN
        RAISE EXCEPTION 'brief version % of campaign % is immutable; write a new version', OLD.version, OLD.campaign_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'brief_versions_immutable';
    END IF;
    IF NOT ((OLD.status = 'draft' AND NEW.status IN ('draft', 'published'))
            OR (OLD.status = 'published' AND NEW.status IN ('published', 'superseded'))
            OR (OLD.status = 'superseded' AND NEW.status = 'superseded')) THEN
        RAISE EXCEPTION 'brief version cannot move from % to %', OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'brief_versions_status_order';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER brief_versions_immutable BEFORE UPDATE ON brief_versions
    FOR EACH ROW EXECUTE FUNCTION brief_versions_keep_content();
CREATE TRIGGER brief_versions_no_delete BEFORE DELETE ON brief_versions
    FOR EACH ROW EXECUTE FUNCTION brief_versions_keep_content();

CREATE TABLE registrations (
    id                          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    campaign_id                 uuid NOT NULL REFERENCES campaigns (id),
    kol_id                      uuid NOT NULL REFERENCES kol_profiles (kol_id),
    status                      text NOT NULL DEFAULT 'applied'
                                CHECK (status IN ('applied', 'shortlisted', 'accepted', 'rejected', 'withdrawn')),
    pitch                       text NOT NULL DEFAULT '' CHECK (length(pitch) <= 2000),
    brief_version_acknowledged  integer,
    decided_at                  timestamptz,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    -- One registration per KOL and campaign.
    CONSTRAINT registrations_one_per_kol UNIQUE (campaign_id, kol_id)
);
CREATE INDEX registrations_campaign_page ON registrations (campaign_id, created_at, id);
CREATE INDEX registrations_kol_page ON registrations (kol_id, created_at, id);
CREATE INDEX registrations_to_decide ON registrations (campaign_id, created_at, id) WHERE status IN ('applied', 'shortlisted');

CREATE TABLE deliverables (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    registration_id       uuid NOT NULL REFERENCES registrations (id),
    campaign_id           uuid NOT NULL REFERENCES campaigns (id),
    kol_id                uuid NOT NULL REFERENCES kol_profiles (kol_id),
    brief_version         integer NOT NULL,
    key                   text NOT NULL,
    unit                  integer NOT NULL CHECK (unit >= 1),
    platform              text NOT NULL CHECK (platform IN ('instagram', 'tiktok', 'youtube', 'facebook', 'x')),
    format                text NOT NULL CHECK (format IN ('feed_post', 'story', 'reel', 'video', 'live')),
    status                text NOT NULL DEFAULT 'awaiting_draft' CHECK (status IN (
                              'awaiting_draft', 'draft_submitted', 'in_brand_review', 'brand_feedback', 'changes_requested',
                              'approved', 'posted', 'live', 'insights_submitted', 'completed', 'cancelled')),
    current_draft_version integer NOT NULL DEFAULT 0 CHECK (current_draft_version >= 0),
    revision_rounds_used  integer NOT NULL DEFAULT 0 CHECK (revision_rounds_used >= 0),
    extra_rounds          integer NOT NULL DEFAULT 0 CHECK (extra_rounds >= 0),
    draft_due_at          timestamptz NOT NULL,
    post_due_at           timestamptz NOT NULL,
    post_url              text,
    posted_at             timestamptz,
    insights_due_at       timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    UNIQUE (registration_id, key, unit),
    FOREIGN KEY (campaign_id, brief_version) REFERENCES brief_versions (campaign_id, version)
);
CREATE INDEX deliverables_registration ON deliverables (registration_id, key, unit);
CREATE INDEX deliverables_campaign_status ON deliverables (campaign_id, status);

-- The append-only audit log: every state change, written in the transaction of the change.
CREATE TABLE events (
    seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_id     uuid REFERENCES users (id),
    actor_role   text CHECK (actor_role IN ('admin', 'officer', 'brand', 'kol', 'finance', 'system')),
    campaign_id  uuid REFERENCES campaigns (id),
    -- The KOL an event concerns (registration, deliverable, payout), so a KOL's timeline shows only theirs.
    kol_id       uuid REFERENCES users (id),
    entity_type  text NOT NULL CHECK (entity_type IN
                     ('campaign', 'brief_version', 'registration', 'deliverable', 'draft', 'payout', 'payout_batch')),
    entity_id    uuid NOT NULL,
    from_state   text,
    to_state     text,
    data         jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX events_campaign ON events (campaign_id, seq);

CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only' USING ERRCODE = 'check_violation', CONSTRAINT = 'events_append_only';
END $$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();
