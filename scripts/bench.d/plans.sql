-- The list queries of the API, in the shape the stores send them, for the plan check of scripts/bench
-- (the test suite's PlanTests EXPLAINs the stores' own statements at a twentieth of this size):
-- at scale each must reach its rows through an index (no sequential scan of a large table).
-- :kol, :officer, :campaign are filled in by the bench from the dataset.
-- name: campaigns_for_kol
SELECT c.id FROM campaigns c WHERE true AND c.status = 'recruiting' AND (c.status = 'recruiting' OR EXISTS (SELECT 1 FROM registrations r WHERE r.campaign_id = c.id AND r.kol_id = :kol::uuid)) ORDER BY c.created_at, c.id LIMIT 51;
-- name: campaigns_for_officer
SELECT c.id FROM campaigns c WHERE true AND c.officer_id = :officer::uuid ORDER BY c.created_at, c.id LIMIT 51;
-- name: registrations_of_campaign
SELECT r.id FROM registrations r WHERE r.campaign_id = :campaign::uuid ORDER BY r.created_at, r.id LIMIT 51;
-- name: timeline_of_campaign
SELECT seq FROM events WHERE campaign_id = :campaign::uuid AND seq > 0 AND (NULL::uuid IS NULL OR kol_id = NULL::uuid OR (kol_id IS NULL AND entity_type IN ('campaign', 'brief_version'))) ORDER BY seq LIMIT 51;
-- name: deliverables_of_registration
SELECT d.id FROM deliverables d WHERE d.registration_id = (SELECT id FROM registrations WHERE campaign_id = :campaign::uuid LIMIT 1) ORDER BY d.key, d.unit;
-- name: payouts_for_finance
SELECT p.id FROM payouts p JOIN kol_profiles k ON k.kol_id = p.kol_id WHERE true ORDER BY p.created_at, p.id LIMIT 51;
-- name: payouts_for_kol
SELECT p.id FROM payouts p JOIN kol_profiles k ON k.kol_id = p.kol_id WHERE true AND p.kol_id = :kol::uuid ORDER BY p.created_at, p.id LIMIT 51;
-- name: kols_by_niche_and_followers
SELECT k.kol_id, (SELECT u.email FROM users u WHERE u.id = k.kol_id) FROM kol_profiles k JOIN LATERAL (SELECT 1 FROM kol_social_accounts s WHERE s.kol_id = k.kol_id AND s.followers >= 100000 LIMIT 1) account ON true WHERE true AND k.niches @> ARRAY['food']::text[] ORDER BY k.created_at, k.kol_id LIMIT 51;
-- name: users_page
SELECT u.id FROM users u WHERE true ORDER BY u.created_at, u.id LIMIT 51;
-- name: batch_lines
SELECT payout_id FROM payout_batch_lines WHERE batch_id = (SELECT id FROM payout_batches LIMIT 1) ORDER BY line;
