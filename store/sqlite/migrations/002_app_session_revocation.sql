-- The hub's per-user "sessions valid after" instant: app-session tokens it
-- issued at or before it are refused (a gateway logout ends them).
CREATE TABLE app_session_revocation (
    network     TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    valid_after INTEGER NOT NULL,
    PRIMARY KEY (network, user_id)
) STRICT;
