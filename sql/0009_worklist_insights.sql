-- The worklist's two insights kinds (DESIGN.md): insights waiting for the officer's check, and live
-- posts whose insights are past due. Same shape as 0008: ordered, carrying campaign_id.
DROP INDEX deliverables_waiting;
CREATE INDEX deliverables_waiting ON deliverables (status, updated_at, id) INCLUDE (campaign_id)
    WHERE status IN ('draft_submitted', 'in_brand_review', 'brand_feedback', 'posted', 'insights_submitted');
CREATE INDEX deliverables_insights_due ON deliverables (insights_due_at, id) INCLUDE (campaign_id) WHERE status = 'live';
