-- Each instance keeps the users of API tokens it has looked up lately (ActorCache, docs/architecture.md
-- "The token cache"), so it must hear of every change that could make an entry wrong, whoever makes it:
-- a live API token changed or deleted (revoked, expiry moved, removed with its user) announces its hash;
-- a user whose role or brand changed announces '*' (every entry goes). Notices are sent at commit.
CREATE FUNCTION auth_tokens_announce_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('kolab_auth', encode(OLD.token_hash, 'hex'));
    RETURN NULL;
END
$$;

CREATE TRIGGER auth_tokens_announce AFTER UPDATE OR DELETE ON auth_tokens
    FOR EACH ROW WHEN (OLD.kind = 'api' AND OLD.revoked_at IS NULL)
    EXECUTE FUNCTION auth_tokens_announce_change();

CREATE FUNCTION users_announce_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('kolab_auth', '*');
    RETURN NULL;
END
$$;

CREATE TRIGGER users_announce AFTER UPDATE ON users
    FOR EACH ROW WHEN (OLD.role IS DISTINCT FROM NEW.role OR OLD.brand_id IS DISTINCT FROM NEW.brand_id)
    EXECUTE FUNCTION users_announce_change();
