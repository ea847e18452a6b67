-- Issue 12: failed logins per client address (a hundred in 15 minutes lock that address), beside
-- the per-e-mail throttle of login_failures. An attempt is recorded before the password is checked
-- and withdrawn when it succeeds, under an advisory lock per address and per e-mail, so a burst
-- cannot slip past the count.
CREATE TABLE login_address_failures (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    address     text NOT NULL,
    failed_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_address_failures_address ON login_address_failures (address, failed_at);
CREATE INDEX login_failures_age ON login_failures (failed_at);
CREATE INDEX login_address_failures_age ON login_address_failures (failed_at);
