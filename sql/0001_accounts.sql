-- Accounts: brands, users of every role, KOL profiles, bearer tokens, login throttling,
-- idempotency keys and the keys the service signs cursors with.

CREATE TABLE brands (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now()
);
-- Two brands with the same name would be indistinguishable in every list.
CREATE UNIQUE INDEX brands_name_unique ON brands (lower(name));
CREATE INDEX brands_page ON brands (created_at, id);

CREATE TABLE users (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email          text NOT NULL CHECK (email = lower(email) AND email LIKE '_%@_%._%'),
    password_hash  text NOT NULL CHECK (password_hash LIKE '$2%'),
    role           text NOT NULL CHECK (role IN ('admin', 'officer', 'brand', 'kol', 'finance')),
    brand_id       uuid REFERENCES brands (id),
    display_name   text NOT NULL CHECK (length(btrim(display_name)) BETWEEN 1 AND 200),
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_unique UNIQUE (email),
    -- A brand user belongs to exactly one brand; nobody else belongs to one.
    CONSTRAINT users_brand_only_for_brand_role CHECK ((role = 'brand') = (brand_id IS NOT NULL))
);
CREATE INDEX users_page ON users (created_at, id);
CREATE INDEX users_role_page ON users (role, created_at, id);

-- A KOL's id is its user's id: one profile per KOL user.
CREATE TABLE kol_profiles (
    kol_id          uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    full_name       text NOT NULL CHECK (length(btrim(full_name)) BETWEEN 1 AND 200),
    city            text NOT NULL CHECK (length(btrim(city)) BETWEEN 1 AND 100),
    region          text NOT NULL CHECK (length(btrim(region)) BETWEEN 1 AND 100),
    niches          text[] NOT NULL DEFAULT '{}',
    bank_name       text,
    bank_code       text,
    account_number  text,
    account_holder  text,
    version         integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    -- Bank details come complete or not at all: a payout waits for all four.
    CONSTRAINT kol_bank_all_or_nothing CHECK (
        (bank_name IS NULL AND bank_code IS NULL AND account_number IS NULL AND account_holder IS NULL)
        OR (bank_name IS NOT NULL AND bank_code IS NOT NULL AND account_number IS NOT NULL AND account_holder IS NOT NULL)
    ),
    CONSTRAINT kol_account_number_digits CHECK (account_number ~ '^[0-9]{5,34}$')
);
CREATE INDEX kol_profiles_page ON kol_profiles (created_at, kol_id);
CREATE INDEX kol_profiles_region ON kol_profiles (lower(region), created_at, kol_id);
CREATE INDEX kol_profiles_niches ON kol_profiles USING gin (niches);

CREATE TABLE kol_social_accounts (
    kol_id     uuid NOT NULL REFERENCES kol_profiles (kol_id) ON DELETE CASCADE,
    position   smallint NOT NULL CHECK (position >= 0),
    platform   text NOT NULL CHECK (platform IN ('instagram', 'tiktok', 'youtube', 'facebook', 'x')),
    handle     text NOT NULL CHECK (length(handle) BETWEEN 1 AND 100),
    followers  bigint NOT NULL CHECK (followers >= 0),
    PRIMARY KEY (kol_id, position),
    UNIQUE (kol_id, platform, handle)
);
CREATE INDEX kol_social_accounts_search ON kol_social_accounts (platform, followers);

-- Bearer tokens: only the SHA-256 of the token is stored, never the token.
CREATE TABLE auth_tokens (
    token_hash  bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    CHECK (expires_at > created_at)
);
CREATE INDEX auth_tokens_user ON auth_tokens (user_id);

-- Failed logins per e-mail, for the 10-in-15-minutes throttle. Rows older than the window are purged.
CREATE TABLE login_failures (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email       text NOT NULL,
    failed_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_email ON login_failures (email, failed_at);

-- Idempotency-Key records, scoped to the caller, written in the transaction of the change they guard.
CREATE TABLE idempotency_keys (
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key           text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash  bytea NOT NULL CHECK (length(request_hash) = 32),
    status_code   smallint NOT NULL CHECK (status_code BETWEEN 200 AND 599),
    headers       jsonb NOT NULL DEFAULT '{}',
    body          bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);

-- Keys the service signs with (list cursors). Kept in the database so that every instance
-- signs and checks with the same key without configuration.
CREATE TABLE signing_keys (
    name        text PRIMARY KEY,
    secret      bytea NOT NULL CHECK (length(secret) >= 32),
    created_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO signing_keys (name, secret)
VALUES ('cursor', decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));
