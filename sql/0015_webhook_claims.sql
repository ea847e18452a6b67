-- Webhook claims that stay cheap while a backlog waits (measured by scripts/bench-webhooks: with 20,000
-- pending messages the claim's slot count and the "next due" scan read the whole queue, 7 to 35 ms).
--
-- The live leases of an endpoint, counted from a small index (a handful of rows per endpoint).
CREATE INDEX webhook_messages_leased ON webhook_messages (endpoint_id, lease_until)
    WHERE status = 'pending' AND lease_until IS NOT NULL;
-- When the next unleased message falls due: the first entry of this index.
CREATE INDEX webhook_messages_next_due ON webhook_messages (next_attempt_at)
    WHERE status = 'pending' AND lease_until IS NULL;

-- Message times with microseconds, as the API writes its events' times in the contract's examples:
-- receivers can order two events of one second.
CREATE OR REPLACE FUNCTION webhook_time(t timestamptz) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
