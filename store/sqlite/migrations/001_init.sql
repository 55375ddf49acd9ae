-- Times are integer Unix microseconds, UTC; NULL where the Go field is the
-- zero time. JSON documents are TEXT kept byte for byte.

CREATE TABLE profile (
    user_id        TEXT    NOT NULL PRIMARY KEY,
    version        INTEGER NOT NULL,
    data           TEXT    NOT NULL,
    updated_at     INTEGER NOT NULL,
    served_version INTEGER NOT NULL DEFAULT 0,
    served_at      INTEGER,
    created_at     INTEGER NOT NULL,
    modified_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE timeline_event (
    id      INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    user_id TEXT    NOT NULL,
    kind    TEXT    NOT NULL,
    detail  TEXT    NOT NULL,
    at      INTEGER NOT NULL
) STRICT;

CREATE INDEX timeline_event_user_id_idx ON timeline_event (user_id, id);

CREATE TABLE webhook_receipt (
    id          TEXT    NOT NULL PRIMARY KEY,
    status_code INTEGER NOT NULL,
    body        BLOB    NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX webhook_receipt_created_at_idx ON webhook_receipt (created_at);

CREATE TABLE one_time (
    kind       TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    value      BLOB    NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (kind, key)
) STRICT;

CREATE INDEX one_time_expires_at_idx ON one_time (expires_at);

CREATE TABLE session (
    id                      TEXT    NOT NULL PRIMARY KEY,
    user_id                 TEXT    NOT NULL,
    provider_subject        TEXT    NOT NULL,
    provider_sid            TEXT    NOT NULL,
    refresh_token_enc       BLOB,
    access_token_expires_at INTEGER,
    id_token_hint           TEXT    NOT NULL,
    origin                  TEXT    NOT NULL,
    created_at              INTEGER NOT NULL,
    last_seen_at            INTEGER NOT NULL,
    idle_expires            INTEGER NOT NULL,
    abs_expires             INTEGER NOT NULL,
    ended_at                INTEGER,
    end_reason              TEXT    NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX session_user_id_idx ON session (user_id);
CREATE INDEX session_provider_sid_idx ON session (provider_sid) WHERE provider_sid <> '';
CREATE INDEX session_provider_subject_idx ON session (provider_subject) WHERE provider_subject <> '';

CREATE TABLE pull_url (
    network         TEXT    NOT NULL PRIMARY KEY,
    template        TEXT    NOT NULL,
    affiliation_url TEXT    NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;

CREATE TABLE remote_profile (
    network          TEXT    NOT NULL,
    user_id          TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    data             TEXT,
    display_name     TEXT    NOT NULL DEFAULT '',
    avatar_url       TEXT    NOT NULL DEFAULT '',
    ping_seq         INTEGER NOT NULL DEFAULT 0,
    pulled_seq       INTEGER NOT NULL DEFAULT 0,
    ping_received_at INTEGER,
    last_pull_at     INTEGER,
    last_pull_result TEXT    NOT NULL DEFAULT '',
    last_changed     TEXT    NOT NULL DEFAULT '[]',
    first_seen_at    INTEGER NOT NULL,
    updated_at       INTEGER,
    PRIMARY KEY (network, user_id)
) STRICT;

CREATE TABLE comment (
    id         INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    network    TEXT    NOT NULL,
    article_id TEXT    NOT NULL,
    user_id    TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX comment_article_idx ON comment (network, article_id, id);
