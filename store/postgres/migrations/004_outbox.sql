-- Issue 13: pings and pulls drained in batches from the database instead of
-- one River job per change.

-- The gateway's ping outbox: one entry per user whose profile must be pinged
-- to the hub, up to version. A zero lease (claimable at once) is stored as
-- Go's zero time, 0001-01-01, the earliest instant any lease has.
-- queued_at is when the oldest change the entry carries was queued (kept by
-- updates).
CREATE TABLE ping_outbox (
    user_id     text COLLATE "C" PRIMARY KEY,
    version     bigint      NOT NULL,
    owner       text        NOT NULL DEFAULT '',
    lease_until timestamptz NOT NULL,
    queued_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX ping_outbox_lease_until_idx ON ping_outbox (lease_until, user_id);
CREATE INDEX ping_outbox_queued_at_idx ON ping_outbox (queued_at);

-- The hub's pull lease: NULL when any replica may claim the pull.
ALTER TABLE hub_remote_profile ADD COLUMN pull_lease_until timestamptz;

-- Due pulls in claim order. NULL leases index as -infinity (the queries
-- repeat this exact expression), so the claim reads the index in order and
-- stops at Limit; the partial predicate keeps answered rows out of it.
CREATE INDEX hub_remote_profile_pull_due_idx
    ON hub_remote_profile (COALESCE(pull_lease_until, '-infinity'::timestamptz), ping_received_at, network, user_id)
    WHERE ping_seq > pulled_seq;
