-- Issue 13: pings and pulls drained in batches from the database instead of
-- one River job per change.

-- The gateway's ping outbox: one entry per user whose profile must be pinged
-- to the hub, up to version. lease_until is Unix microseconds; a zero lease
-- (claimable at once) is Go's zero time, the earliest instant. queued_at is
-- when the oldest change the entry carries was queued (kept by updates).
CREATE TABLE ping_outbox (
    user_id     TEXT    NOT NULL PRIMARY KEY,
    version     INTEGER NOT NULL,
    owner       TEXT    NOT NULL DEFAULT '',
    lease_until INTEGER NOT NULL,
    queued_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX ping_outbox_lease_until_idx ON ping_outbox (lease_until, user_id);
CREATE INDEX ping_outbox_queued_at_idx ON ping_outbox (queued_at);

-- The hub's pull lease: NULL when any replica may claim the pull.
ALTER TABLE remote_profile ADD COLUMN pull_lease_until INTEGER;

-- Due pulls in claim order. NULL leases index as Go's zero time (the queries
-- repeat this exact expression), so the claim reads the index in order and
-- stops at Limit; the partial predicate keeps answered rows out of it.
CREATE INDEX remote_profile_pull_due_idx
    ON remote_profile (coalesce(pull_lease_until, -62135596800000000), ping_received_at, network, user_id)
    WHERE ping_seq > pulled_seq;
