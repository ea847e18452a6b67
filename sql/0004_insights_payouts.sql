-- Insights, payouts, payout batches and the lines of each batch's bank file.

CREATE TABLE insights (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    deliverable_id    uuid NOT NULL REFERENCES deliverables (id),
    reach             bigint NOT NULL CHECK (reach >= 0),
    impressions       bigint NOT NULL CHECK (impressions >= 0),
    views             bigint NOT NULL CHECK (views >= 0),
    likes             bigint NOT NULL CHECK (likes >= 0),
    comments          bigint NOT NULL CHECK (comments >= 0),
    shares            bigint NOT NULL CHECK (shares >= 0),
    saves             bigint NOT NULL CHECK (saves >= 0),
    clicks            bigint NOT NULL CHECK (clicks >= 0),
    evidence_urls     text[] NOT NULL CHECK (cardinality(evidence_urls) >= 1),
    status            text NOT NULL DEFAULT 'submitted' CHECK (status IN ('submitted', 'verified', 'rejected')),
    rejection_reason  text,
    submitted_by      uuid NOT NULL REFERENCES users (id),
    submitted_at      timestamptz NOT NULL DEFAULT now(),
    decided_at        timestamptz,
    CHECK ((status = 'rejected') = (rejection_reason IS NOT NULL))
);
CREATE INDEX insights_deliverable ON insights (deliverable_id, submitted_at);
-- The verified submission is the one that counts: at most one per deliverable.
CREATE UNIQUE INDEX insights_one_verified ON insights (deliverable_id) WHERE status = 'verified';

CREATE TABLE payout_batches (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    payout_count     integer NOT NULL CHECK (payout_count >= 1),
    total_gross_idr  bigint NOT NULL CHECK (total_gross_idr >= 0),
    total_tax_idr    bigint NOT NULL CHECK (total_tax_idr >= 0),
    total_net_idr    bigint NOT NULL CHECK (total_net_idr >= 0),
    created_by       uuid NOT NULL REFERENCES users (id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (total_net_idr = total_gross_idr - total_tax_idr)
);
CREATE INDEX payout_batches_page ON payout_batches (created_at, id);

CREATE TABLE payouts (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- One payout per registration.
    registration_id   uuid NOT NULL UNIQUE REFERENCES registrations (id),
    campaign_id       uuid NOT NULL REFERENCES campaigns (id),
    kol_id            uuid NOT NULL REFERENCES kol_profiles (kol_id),
    status            text NOT NULL DEFAULT 'calculated' CHECK (status IN ('calculated', 'approved', 'exported', 'paid', 'failed')),
    fee_idr           bigint NOT NULL CHECK (fee_idr >= 0),
    bonus_idr         bigint NOT NULL CHECK (bonus_idr >= 0),
    gross_idr         bigint NOT NULL CHECK (gross_idr >= 0),
    tax_idr           bigint NOT NULL CHECK (tax_idr >= 0),
    net_idr           bigint NOT NULL CHECK (net_idr >= 0),
    metric            text CHECK (metric IN ('views', 'reach', 'engagements')),
    metric_value      bigint NOT NULL CHECK (metric_value >= 0),
    rate_idr_per_1000 bigint CHECK (rate_idr_per_1000 >= 0),
    cap_idr           bigint CHECK (cap_idr >= 0),
    withholding_bp    integer NOT NULL CHECK (withholding_bp BETWEEN 0 AND 10000),
    batch_id          uuid REFERENCES payout_batches (id),
    bank_reference    text,
    failure_reason    text,
    approved_at       timestamptz,
    paid_at           timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT payouts_gross_is_fee_plus_bonus CHECK (gross_idr = fee_idr + bonus_idr),
    CONSTRAINT payouts_net_is_gross_minus_tax CHECK (net_idr = gross_idr - tax_idr),
    -- Exported, paid and failed payouts sit in a batch; calculated and approved ones in none.
    CONSTRAINT payouts_batch_by_status CHECK ((status IN ('exported', 'paid', 'failed')) = (batch_id IS NOT NULL)),
    CONSTRAINT payouts_paid_has_reference CHECK ((status = 'paid') = (paid_at IS NOT NULL AND bank_reference IS NOT NULL))
);
CREATE INDEX payouts_page ON payouts (created_at, id);
CREATE INDEX payouts_campaign_page ON payouts (campaign_id, created_at, id);
CREATE INDEX payouts_kol_page ON payouts (kol_id, created_at, id);
CREATE INDEX payouts_batch ON payouts (batch_id);
CREATE INDEX payouts_to_batch ON payouts (created_at, id) WHERE status = 'approved' AND batch_id IS NULL;

-- The lines of a batch's bank file, written once when the batch is made: the export reads only these,
-- so it is the same bytes on every download, even after a failed payout moves on to a later batch.
CREATE TABLE payout_batch_lines (
    batch_id        uuid NOT NULL REFERENCES payout_batches (id),
    line            integer NOT NULL CHECK (line >= 1),
    payout_id       uuid NOT NULL REFERENCES payouts (id),
    amount_idr      bigint NOT NULL CHECK (amount_idr >= 0),
    bank_code       text NOT NULL,
    account_name    text NOT NULL,
    account_number  text NOT NULL,
    description     text NOT NULL,
    email           text NOT NULL,
    PRIMARY KEY (batch_id, line),
    UNIQUE (batch_id, payout_id)
);

CREATE TRIGGER payout_batch_lines_immutable BEFORE UPDATE OR DELETE ON payout_batch_lines
    FOR EACH ROW EXECUTE FUNCTION content_history_immutable();
CREATE TRIGGER insights_no_delete BEFORE DELETE ON insights
    FOR EACH ROW EXECUTE FUNCTION content_history_immutable();
