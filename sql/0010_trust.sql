-- Issue 11 (trust).
-- Idempotency keys sent without a token (KOL sign-up) are kept under the nil UUID, which names no
-- user: the key's scope is no longer a foreign key. Answers are stored sealed (AES-GCM).
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_user_id_fkey;
-- Stored answers from before this version were in clear: drop them (they live 24 hours anyway).
DELETE FROM idempotency_keys;

-- The timeline is commit-safe: every transaction that writes events of a campaign first takes a
-- transaction-scoped advisory lock on that campaign (EventStore), so events of one campaign are
-- numbered (seq) in the order their transactions commit, and a reader tailing the timeline by seq
-- never skips one that commits later with a smaller number.
