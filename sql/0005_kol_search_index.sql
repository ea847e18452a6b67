-- KOL search filters on followers without a platform too; the (platform, followers) index cannot serve
-- that, and at 100,000 KOLs the planner fell back to reading every social account.
CREATE INDEX kol_social_accounts_followers ON kol_social_accounts (followers) INCLUDE (kol_id, platform);
