-- Web console sessions (DESIGN.md, "Web console", sign-in): tokens like the API's, stored as SHA-256
-- only, of kind 'session'. A session's expires_at slides to 12 hours after its last use; an API token
-- is never accepted as a session cookie, nor a session as a bearer token.
ALTER TABLE auth_tokens ADD COLUMN kind text NOT NULL DEFAULT 'api' CHECK (kind IN ('api', 'session'));
