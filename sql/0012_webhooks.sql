-- Webhooks (DESIGN.md, "Webhooks"): endpoints, the outbox of messages, and every delivery attempt.
--
-- The outbox is written by a trigger on `events`: every statement that appends audit events fans them
-- out, in the same transaction, to the endpoints enabled at that moment whose scope and event types
-- match. A change that rolls back takes its events and their messages with it. The trigger ends with
-- pg_notify, which PostgreSQL delivers at commit, so the delivery workers wake as the change lands.

CREATE TABLE webhook_endpoints (
    id                          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- platform: every event; brand: that brand's campaigns, never payouts; payouts: payout and batch events only.
    scope                       text NOT NULL CHECK (scope IN ('platform', 'brand', 'payouts')),
    brand_id                    uuid REFERENCES brands (id),
    url                         text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    description                 text NOT NULL DEFAULT '' CHECK (length(description) <= 1000),
    event_types                 text[] NOT NULL CHECK (cardinality(event_types) BETWEEN 1 AND 100),
    enabled                     boolean NOT NULL DEFAULT true,
    disabled_reason             text,
    -- AES-GCM under the service key (KOLAB_SECRET_KEY); never stored in clear.
    secret                      bytea NOT NULL,
    previous_secret             bytea,
    previous_secret_expires_at  timestamptz,
    -- The first failed attempt since the last success: five days of that disables the endpoint.
    failing_since               timestamptz,
    -- The ETag: bumped by every change a user makes (and by the worker disabling the endpoint).
    version                     integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_by                  uuid NOT NULL REFERENCES users (id),
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    CHECK ((scope = 'brand') = (brand_id IS NOT NULL)),
    CHECK (enabled OR disabled_reason IS NOT NULL),
    CHECK ((previous_secret IS NULL) = (previous_secret_expires_at IS NULL)),
    CHECK (scope <> 'payouts' OR event_types <@ ARRAY['*', 'payout.created', 'payout.approved', 'payout.exported', 'payout.paid',
                                                      'payout.failed', 'payout_batch.created']::text[])
);
CREATE INDEX webhook_endpoints_list ON webhook_endpoints (created_at DESC, id DESC);
CREATE INDEX webhook_endpoints_brand ON webhook_endpoints (brand_id, created_at DESC, id DESC) WHERE brand_id IS NOT NULL;

CREATE TABLE webhook_messages (
    -- Sent as `webhook-id`: stable across retries, replays and recoveries.
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    endpoint_id      uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id         uuid REFERENCES events (id),
    type             text NOT NULL,
    -- The exact bytes signed and sent, fixed when the message is written.
    body             text NOT NULL,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- A worker's claim: until `lease_until` no other worker sends this message.
    lease_until      timestamptz,
    leased_by        text,
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    delivered_at     timestamptz,
    CHECK ((status = 'delivered') = (delivered_at IS NOT NULL)),
    CHECK ((lease_until IS NULL) = (leased_by IS NULL)),
    UNIQUE (endpoint_id, event_id)
);
-- The worker's claim: due pending messages per endpoint.
CREATE INDEX webhook_messages_due ON webhook_messages (endpoint_id, next_attempt_at) WHERE status = 'pending';
-- The deliveries log and `recover`: an endpoint's messages, newest first.
CREATE INDEX webhook_messages_log ON webhook_messages (endpoint_id, created_at DESC, id DESC);

CREATE TABLE webhook_attempts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id   uuid NOT NULL REFERENCES webhook_messages (id) ON DELETE CASCADE,
    at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    status_code  integer CHECK (status_code BETWEEN 100 AND 599),
    duration_ms  integer NOT NULL CHECK (duration_ms >= 0),
    -- The first KiB of the answer's body.
    response     text NOT NULL DEFAULT '' CHECK (octet_length(response) <= 1024),
    error        text,
    CHECK (status_code IS NOT NULL OR error IS NOT NULL)
);
CREATE INDEX webhook_attempts_message ON webhook_attempts (message_id, id);

-- The message type of an audit event: `{entity_type}.created` when it has no `from`, else `{entity_type}.{to}`.
CREATE FUNCTION webhook_event_type(entity_type text, from_state text, to_state text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN entity_type || '.' || CASE WHEN from_state IS NULL THEN 'created' ELSE coalesce(to_state, 'updated') END;

-- The API path of an event's entity (thin events: the receiver reads the current state there).
CREATE FUNCTION webhook_entity_url(entity_type text, entity_id uuid, campaign_id uuid) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN CASE entity_type
        WHEN 'campaign' THEN '/v1/campaigns/' || entity_id
        WHEN 'brief_version' THEN '/v1/campaigns/' || campaign_id || '/brief-versions/'
                                  || (SELECT b.version FROM brief_versions b WHERE b.id = entity_id)
        WHEN 'registration' THEN '/v1/registrations/' || entity_id
        WHEN 'deliverable' THEN '/v1/deliverables/' || entity_id
        WHEN 'draft' THEN '/v1/drafts/' || entity_id
        WHEN 'payout' THEN '/v1/payouts/' || entity_id
        WHEN 'payout_batch' THEN '/v1/payout-batches/' || entity_id
    END;

CREATE FUNCTION webhook_time(t timestamptz) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"');

-- The one place the outbox is written for audit events (see the top of this file).
CREATE FUNCTION webhook_fan_out() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM webhook_endpoints WHERE enabled) THEN
        RETURN NULL;
    END IF;
    INSERT INTO webhook_messages (endpoint_id, event_id, type, body)
    SELECT w.id, n.id, t.type,
           jsonb_build_object(
               'type', t.type,
               'timestamp', webhook_time(n.at),
               'data', jsonb_build_object(
                   'event_id', n.id, 'entity_type', n.entity_type, 'entity_id', n.entity_id, 'campaign_id', n.campaign_id,
                   'from', n.from_state, 'to', n.to_state, 'actor_role', n.actor_role, 'at', webhook_time(n.at),
                   'url', webhook_entity_url(n.entity_type, n.entity_id, n.campaign_id)))::text
    FROM new_events n
    CROSS JOIN LATERAL (SELECT webhook_event_type(n.entity_type, n.from_state, n.to_state) AS type) t
    LEFT JOIN campaigns c ON c.id = n.campaign_id
    JOIN webhook_endpoints w ON w.enabled
        AND ('*' = ANY (w.event_types) OR t.type = ANY (w.event_types))
        AND CASE w.scope
                WHEN 'platform' THEN true
                WHEN 'brand' THEN c.brand_id = w.brand_id AND n.entity_type NOT IN ('payout', 'payout_batch')
                WHEN 'payouts' THEN n.entity_type IN ('payout', 'payout_batch')
            END
    ORDER BY n.seq, w.id;
    IF FOUND THEN
        PERFORM pg_notify('kolab_webhooks', '');
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER events_webhook_outbox AFTER INSERT ON events
    REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION webhook_fan_out();
