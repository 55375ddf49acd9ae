-- The hub's per-user "sessions valid after" instant: app-session tokens it
-- issued at or before it are refused (a gateway logout ends them).
CREATE TABLE hub_app_session_revocation (
    network     text COLLATE "C" NOT NULL,
    user_id     text COLLATE "C" NOT NULL,
    valid_after timestamptz NOT NULL,
    PRIMARY KEY (network, user_id)
);
