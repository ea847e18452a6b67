-- The benchmark's scale dataset, generated in SQL (psql variable :scale: 1 = full size).
-- Full size: 100,000 KOLs, 2,000 campaigns, 200,000 registrations, 300,000 deliverables with drafts
-- and reviews, 1,000,000 events, 100,000 payouts in one batch; at every size, one campaign of 2,000
-- KOLs for the report and a brand user with a draft in her review. Every step prints its name first.
-- scripts/bench --events N adds events afterwards (its own code, not this file).
\set ON_ERROR_STOP 1
\timing on
-- At least 300 campaigns (60 recruiting), so that a KOL's first page of recruiting campaigns holds 50
-- items at every size and list latency compares like with like.
SELECT (100000 * :scale)::int AS kols, GREATEST((2000 * :scale)::int, 300) AS campaigns \gset
\echo [1/11] brands, officers, finance and their tokens
INSERT INTO brands (name) SELECT 'Bench Brand ' || g FROM generate_series(1, 100) g;
INSERT INTO users (email, password_hash, role, display_name)
SELECT 'officer' || g || '@bench.kolab.id', '$2b$04$' || repeat('a', 53), 'officer', 'Bench Officer ' || g FROM generate_series(1, 50) g;
INSERT INTO users (email, password_hash, role, display_name) VALUES ('finance@bench.kolab.id', '$2b$04$' || repeat('a', 53), 'finance', 'Bench Finance');
INSERT INTO auth_tokens (token_hash, user_id, expires_at)
SELECT sha256(convert_to('bench-' || split_part(email, '@', 1), 'UTF8')), id, now() + interval '30 days'
FROM users WHERE email LIKE '%@bench.kolab.id';

\echo [2/11] KOLs with profiles, social accounts, bank details and tokens
INSERT INTO users (email, password_hash, role, display_name, created_at)
SELECT 'kol' || g || '@bench.kolab.id', '$2b$04$' || repeat('a', 53), 'kol', 'Ibu Bench ' || g, now() - (g || ' seconds')::interval
FROM generate_series(1, :kols) g;
INSERT INTO kol_profiles (kol_id, full_name, city, region, niches, bank_name, bank_code, account_number, account_holder)
SELECT id, display_name, 'Kota ' || (hashtext(id::text) & 63), (ARRAY['DKI Jakarta','Jawa Barat','Jawa Timur','Bali','Banten'])[1 + (hashtext(email) & 3)],
       ARRAY[(ARRAY['parenting','food','fashion','beauty','education','health'])[1 + (hashtext(id::text) & 3)]],
       'Bank Central Asia', 'BCA', lpad((abs(hashtext(email)) % 10000000000)::text, 10, '0'), display_name
FROM users WHERE role = 'kol';
INSERT INTO kol_social_accounts (kol_id, position, platform, handle, followers)
SELECT kol_id, 0, 'instagram', 'ig' || replace(kol_id::text, '-', ''), 1000 + abs(hashtext(kol_id::text)) % 500000 FROM kol_profiles;
INSERT INTO auth_tokens (token_hash, user_id, expires_at)
SELECT sha256(convert_to('bench-' || split_part(email, '@', 1), 'UTF8')), id, now() + interval '30 days' FROM users WHERE role = 'kol';

\echo [3/11] campaigns (officer1 runs one in ten) with published briefs
-- Numbered by the number in the e-mail (ordering by the text would put officer10 before officer1).
CREATE TEMP TABLE officer_n AS SELECT id, substring(email from 'officer([0-9]+)@')::int AS n FROM users WHERE role = 'officer';
CREATE TEMP TABLE brand_n AS SELECT id, row_number() OVER (ORDER BY name) AS n FROM brands;
INSERT INTO campaigns (brand_id, officer_id, title, status, platforms, kol_slots, fee_idr, bonus_metric, bonus_rate_idr_per_1000,
                       bonus_cap_idr, brand_review_required, created_by, created_at)
SELECT b.id, CASE WHEN g % 10 = 0 THEN (SELECT id FROM officer_n WHERE n = 1) ELSE o.id END, 'Bench campaign ' || g,
       CASE WHEN g % 20 = 0 THEN 'draft' WHEN g % 5 = 1 THEN 'recruiting' WHEN g % 7 = 3 THEN 'completed' ELSE 'running' END,
       '{instagram}', 10000, 1500000, 'views', 2000, 500000, true, o.id, now() - (g || ' minutes')::interval
FROM generate_series(1, :campaigns) g
JOIN officer_n o ON o.n = 1 + g % 50 JOIN brand_n b ON b.n = 1 + g % 100;
INSERT INTO brief_versions (campaign_id, version, status, key_messages, hashtags, deliverables, created_by, published_at)
SELECT id, 1, 'published', '{"Bench message"}', '{#bench}',
       '[{"key":"ig-feed","platform":"instagram","format":"feed_post","quantity":1,"draft_due_at":"2026-12-01T09:00:00Z","post_due_at":"2026-12-08T09:00:00Z"},
         {"key":"ig-story","platform":"instagram","format":"story","quantity":1,"draft_due_at":"2026-12-02T09:00:00Z","post_due_at":"2026-12-09T09:00:00Z"}]',
       created_by, now()
FROM campaigns WHERE status <> 'draft';

\echo [4/11] registrations: two campaigns per KOL
CREATE TEMP TABLE live_campaign AS SELECT id, row_number() OVER (ORDER BY created_at, id) - 1 AS n FROM campaigns WHERE status <> 'draft';
CREATE TEMP TABLE kol_n AS SELECT kol_id AS id, row_number() OVER (ORDER BY kol_id) - 1 AS n FROM kol_profiles;
SELECT count(*) AS live FROM live_campaign \gset
INSERT INTO registrations (campaign_id, kol_id, status, pitch, decided_at, created_at)
SELECT c.id, k.id,
       CASE WHEN (k.n + pick) % 20 < 15 THEN 'accepted' WHEN (k.n + pick) % 20 < 17 THEN 'applied'
            WHEN (k.n + pick) % 20 < 18 THEN 'shortlisted' ELSE 'rejected' END,
       'Bench pitch', now(), now() - ((k.n * 2 + pick) || ' seconds')::interval
FROM kol_n k CROSS JOIN (VALUES (0), (1)) AS p(pick)
JOIN live_campaign c ON c.n = (k.n * 2 + pick * (:live / 2 + 1)) % :live;
UPDATE campaigns c SET accepted_count = a.n, kol_slots = GREATEST(a.n + 10, 1)
FROM (SELECT campaign_id, count(*) FILTER (WHERE status = 'accepted') AS n FROM registrations GROUP BY campaign_id) a
WHERE a.campaign_id = c.id;

\echo [5/11] deliverables: two per accepted registration, across the review states
INSERT INTO deliverables (registration_id, campaign_id, kol_id, brief_version, key, unit, platform, format, status,
                          current_draft_version, draft_due_at, post_due_at, post_url, posted_at, insights_due_at)
SELECT r.id, r.campaign_id, r.kol_id, 1, d.key, 1, 'instagram', d.format, s.status,
       CASE WHEN s.status = 'awaiting_draft' THEN 0 ELSE 1 END,
       '2026-12-01T09:00:00Z', '2026-12-08T09:00:00Z',
       CASE WHEN s.status IN ('posted', 'live', 'completed') THEN 'https://instagram.com/p/bench' END,
       CASE WHEN s.status IN ('posted', 'live', 'completed') THEN now() - interval '10 days' END,
       CASE WHEN s.status IN ('live', 'completed') THEN now() - interval '3 days' END
FROM registrations r
CROSS JOIN (VALUES ('ig-feed', 'feed_post'), ('ig-story', 'story')) AS d(key, format)
CROSS JOIN LATERAL (SELECT (ARRAY['awaiting_draft','draft_submitted','in_brand_review','approved','posted','live','completed','completed'])
                           [1 + abs(hashtext(r.id::text || d.key)) % 8] AS status) s
WHERE r.status = 'accepted';

\echo [6/11] drafts and reviews
INSERT INTO drafts (deliverable_id, version, caption, media, submitted_by, submitted_at)
SELECT id, 1, 'Bench caption for ' || key, '[{"url":"https://cdn.example.id/bench.jpg","kind":"image"}]', kol_id, now() - interval '5 days'
FROM deliverables WHERE current_draft_version = 1;
INSERT INTO reviews (draft_id, decision, message, reviewer_id, reviewer_role)
SELECT dr.id, 'forward', 'Bench forward', c.officer_id, 'officer'
FROM drafts dr JOIN deliverables d ON d.id = dr.deliverable_id JOIN campaigns c ON c.id = d.campaign_id
WHERE d.status NOT IN ('draft_submitted');

\echo [7/11] events: the paths of registrations and deliverables (about 1,000,000 at full size)
INSERT INTO events (at, actor_id, actor_role, campaign_id, kol_id, entity_type, entity_id, from_state, to_state)
SELECT r.created_at, r.kol_id, 'kol', r.campaign_id, r.kol_id, 'registration', r.id, NULL, 'applied' FROM registrations r
UNION ALL
SELECT r.created_at + interval '1 hour', c.officer_id, 'officer', r.campaign_id, r.kol_id, 'registration', r.id, 'applied', r.status
FROM registrations r JOIN campaigns c ON c.id = r.campaign_id WHERE r.status <> 'applied'
UNION ALL
SELECT d.created_at, c.officer_id, 'officer', d.campaign_id, d.kol_id, 'deliverable', d.id, NULL, 'awaiting_draft'
FROM deliverables d JOIN campaigns c ON c.id = d.campaign_id
UNION ALL
SELECT d.created_at + interval '2 hours', d.kol_id, 'kol', d.campaign_id, d.kol_id, 'deliverable', d.id, 'awaiting_draft', d.status
FROM deliverables d WHERE d.status <> 'awaiting_draft'
ORDER BY 1;

\echo [8/11] payouts and one batch of all of them
INSERT INTO payouts (registration_id, campaign_id, kol_id, status, fee_idr, bonus_idr, gross_idr, tax_idr, net_idr, metric,
                     metric_value, rate_idr_per_1000, cap_idr, withholding_bp, approved_at)
SELECT r.id, r.campaign_id, r.kol_id, 'approved', 1500000, b.bonus, 1500000 + b.bonus, (1500000 + b.bonus) * 250 / 10000,
       (1500000 + b.bonus) - (1500000 + b.bonus) * 250 / 10000, 'views', b.bonus / 2 * 1000, 2000, 500000, 250, now()
FROM (SELECT id, campaign_id, kol_id FROM registrations WHERE status = 'accepted' ORDER BY id LIMIT (100000 * :scale)::int) r
CROSS JOIN LATERAL (SELECT (abs(hashtext(r.id::text)) % 500001)::bigint AS bonus) b;
WITH picked AS (
    SELECT p.id, p.gross_idr, p.tax_idr, p.net_idr, p.created_at FROM payouts p WHERE p.status = 'approved'
), batch AS (
    INSERT INTO payout_batches (payout_count, total_gross_idr, total_tax_idr, total_net_idr, created_by)
    SELECT count(*), sum(gross_idr), sum(tax_idr), sum(net_idr), (SELECT id FROM users WHERE email = 'finance@bench.kolab.id')
    FROM picked RETURNING id
), lines AS (
    INSERT INTO payout_batch_lines (batch_id, line, payout_id, amount_idr, bank_code, account_name, account_number, description, email, csv)
    SELECT batch.id, row_number() OVER (ORDER BY picked.created_at, picked.id), picked.id, picked.net_idr, k.bank_code,
           k.account_holder, k.account_number, left('Kolab ' || c.title, 100), u.email,
           bank_file_line(picked.id, picked.net_idr, k.bank_code, k.account_holder, k.account_number, left('Kolab ' || c.title, 100), u.email)
    FROM picked CROSS JOIN batch JOIN payouts p ON p.id = picked.id JOIN kol_profiles k ON k.kol_id = p.kol_id
    JOIN users u ON u.id = p.kol_id JOIN campaigns c ON c.id = p.campaign_id
)
UPDATE payouts p SET status = 'exported', batch_id = batch.id FROM picked CROSS JOIN batch WHERE p.id = picked.id;

\echo [9/11] the campaign of the report scenario: 2,000 accepted KOLs (officer2, running)
-- After the batch, so that its payouts stay out of the export. Running, so that no KOL's list of
-- recruiting campaigns shows it, and officer2's, so that officer1's worklist (a scenario) is unchanged.
INSERT INTO campaigns (brand_id, officer_id, title, status, platforms, kol_slots, accepted_count, fee_idr, bonus_metric,
                       bonus_rate_idr_per_1000, bonus_cap_idr, brand_review_required, created_by)
SELECT (SELECT id FROM brand_n WHERE n = 1), o.id, 'Bench report campaign', 'running', '{instagram}', 2010, 2000, 1500000, 'views',
       2000, 500000, true, o.id
FROM officer_n o WHERE o.n = 2;
CREATE TEMP TABLE report_campaign AS SELECT id FROM campaigns WHERE title = 'Bench report campaign';
INSERT INTO brief_versions (campaign_id, version, status, key_messages, hashtags, deliverables, created_by, published_at)
SELECT c.id, 1, 'published', '{"Bench message"}', '{#bench}', b.deliverables, b.created_by, now()
FROM report_campaign c, (SELECT deliverables, created_by FROM brief_versions LIMIT 1) b;
-- Its own 2,000 KOLs (rkol1..rkol2000), so that the report is the same size in the small dataset (1,000 KOLs).
INSERT INTO users (email, password_hash, role, display_name)
SELECT 'rkol' || g || '@bench.kolab.id', '$2b$04$' || repeat('a', 53), 'kol', 'Ibu Report ' || g FROM generate_series(1, 2000) g;
INSERT INTO kol_profiles (kol_id, full_name, city, region, niches, bank_name, bank_code, account_number, account_holder)
SELECT id, display_name, 'Bandung', 'Jawa Barat', '{parenting}', 'Bank Central Asia', 'BCA', lpad((abs(hashtext(email)) % 10000000000)::text, 10, '0'),
       display_name
FROM users WHERE email LIKE 'rkol%@bench.kolab.id';
INSERT INTO auth_tokens (token_hash, user_id, expires_at)
SELECT sha256(convert_to('bench-' || split_part(email, '@', 1), 'UTF8')), id, now() + interval '30 days' FROM users WHERE email LIKE 'rkol%@bench.kolab.id';
INSERT INTO registrations (campaign_id, kol_id, status, pitch, decided_at)
SELECT (SELECT id FROM report_campaign), id, 'accepted', 'Bench pitch', now() FROM users WHERE email LIKE 'rkol%@bench.kolab.id';
INSERT INTO deliverables (registration_id, campaign_id, kol_id, brief_version, key, unit, platform, format, status,
                          current_draft_version, draft_due_at, post_due_at, post_url, posted_at, insights_due_at)
SELECT r.id, r.campaign_id, r.kol_id, 1, d.key, 1, 'instagram', d.format, s.status, CASE WHEN s.status = 'awaiting_draft' THEN 0 ELSE 1 END,
       '2026-12-01T09:00:00Z', '2026-12-08T09:00:00Z',
       CASE WHEN s.status IN ('posted', 'live', 'completed') THEN 'https://instagram.com/p/bench' END,
       CASE WHEN s.status IN ('posted', 'live', 'completed') THEN now() - interval '10 days' END,
       CASE WHEN s.status IN ('live', 'completed') THEN now() - interval '3 days' END
FROM registrations r
CROSS JOIN (VALUES ('ig-feed', 'feed_post'), ('ig-story', 'story')) AS d(key, format)
CROSS JOIN LATERAL (SELECT (ARRAY['approved','posted','live','completed','completed','completed'])[1 + abs(hashtext(r.id::text || d.key)) % 6] AS status) s
WHERE r.campaign_id = (SELECT id FROM report_campaign);
INSERT INTO insights (deliverable_id, reach, impressions, views, likes, comments, shares, saves, clicks, evidence_urls, status, submitted_by,
                      decided_at)
SELECT d.id, h % 90000 + 1000, h % 120000 + 2000, h % 70000 + 500, h % 5000, h % 400, h % 300, h % 200, h % 100,
       '{https://cdn.example.id/insights.png}', 'verified', d.kol_id, now()
FROM deliverables d CROSS JOIN LATERAL (SELECT abs(hashtext(d.id::text))::bigint AS h) x
WHERE d.campaign_id = (SELECT id FROM report_campaign) AND d.status = 'completed';
INSERT INTO payouts (registration_id, campaign_id, kol_id, status, fee_idr, bonus_idr, gross_idr, tax_idr, net_idr, metric,
                     metric_value, rate_idr_per_1000, cap_idr, withholding_bp, approved_at)
SELECT r.id, r.campaign_id, r.kol_id, 'calculated', 1500000, 100000, 1600000, 40000, 1560000, 'views', 50000, 2000, 500000, 250, NULL
FROM registrations r WHERE r.campaign_id = (SELECT id FROM report_campaign);

\echo [10/11] the brand of the draft page scenario: brand1 (API token and console session) and a draft in her review
-- Signing in costs a bcrypt hash: the session is stored as the console stores one (SHA-256 of the cookie, kind 'session').
-- The brand of the first deliverable waiting in a brand's review (brand 1's campaigns are all drafts).
CREATE TABLE bench_brand AS
SELECT 'bench-brand1'::text AS token, 'bench-brand1-session'::text AS session, d.id AS deliverable_id, d.campaign_id, c.brand_id
FROM deliverables d JOIN campaigns c ON c.id = d.campaign_id
WHERE d.status = 'in_brand_review' AND c.title <> 'Bench report campaign'
ORDER BY d.id LIMIT 1;
INSERT INTO users (email, password_hash, role, display_name, brand_id)
SELECT 'brand1@bench.kolab.id', '$2b$04$' || repeat('a', 53), 'brand', 'Bench Brand User', brand_id FROM bench_brand;
INSERT INTO auth_tokens (token_hash, user_id, expires_at, kind)
SELECT sha256(convert_to(t.token, 'UTF8')), u.id, now() + interval '30 days', t.kind
FROM users u, (VALUES ('bench-brand1', 'api'), ('bench-brand1-session', 'session')) AS t(token, kind)
WHERE u.email = 'brand1@bench.kolab.id';
-- A second version of that draft, so the page shows what changed (as measure-console picks the draft with most versions).
INSERT INTO drafts (deliverable_id, version, caption, media, submitted_by, submitted_at)
SELECT d.id, 2, 'Bench caption, second version, for ' || d.key || ': shorter hashtags, the product in the first line',
       '[{"url":"https://cdn.example.id/bench-2.jpg","kind":"image"}]', d.kol_id, now() - interval '1 day'
FROM deliverables d WHERE d.id = (SELECT deliverable_id FROM bench_brand);
UPDATE deliverables SET current_draft_version = 2 WHERE id = (SELECT deliverable_id FROM bench_brand);
ALTER TABLE bench_brand ADD COLUMN draft_id uuid;
UPDATE bench_brand SET draft_id = (SELECT id FROM drafts WHERE deliverable_id = bench_brand.deliverable_id AND version = 2);
CREATE TABLE bench_report AS SELECT 'bench-officer2'::text AS token, id AS campaign_id FROM report_campaign;

\echo [11/11] the maps of the benchmark (tokens to ids), then ANALYZE
-- Numbered after the sample is drawn, so that n runs 1..count without gaps.
CREATE TABLE bench_detail AS
SELECT row_number() OVER () AS n, token, deliverable_id FROM (
    SELECT 'bench-' || split_part(u.email, '@', 1) AS token, d.id AS deliverable_id
    FROM (SELECT DISTINCT ON (kol_id) id, kol_id FROM deliverables ORDER BY kol_id, id) d JOIN users u ON u.id = d.kol_id
    ORDER BY random() LIMIT 20000) sample;
-- Deliverables the write scenario moves back and forth (approved <-> posted), one per KOL.
CREATE TABLE bench_write AS
SELECT row_number() OVER () AS n, kol_token, officer_token, deliverable_id FROM (
    SELECT 'bench-' || split_part(u.email, '@', 1) AS kol_token, 'bench-' || split_part(o.email, '@', 1) AS officer_token,
           d.id AS deliverable_id
    FROM (SELECT DISTINCT ON (kol_id) id, kol_id, campaign_id FROM deliverables WHERE status = 'approved' ORDER BY kol_id, id) d
    JOIN users u ON u.id = d.kol_id JOIN campaigns c ON c.id = d.campaign_id JOIN users o ON o.id = c.officer_id
    ORDER BY random() LIMIT 5000) sample;
CREATE UNIQUE INDEX ON bench_detail (n);
CREATE UNIQUE INDEX ON bench_write (n);
ANALYZE;
SELECT (SELECT count(*) FROM kol_profiles) AS kols, (SELECT count(*) FROM campaigns) AS campaigns,
       (SELECT count(*) FROM registrations) AS registrations, (SELECT count(*) FROM deliverables) AS deliverables,
       (SELECT count(*) FROM drafts) AS drafts, (SELECT count(*) FROM reviews) AS reviews, (SELECT count(*) FROM events) AS events,
       (SELECT count(*) FROM payouts) AS payouts;
