-- ssogate schema, version 1. Ids compare byte-wise (COLLATE "C") so that
-- paging and prefix search order like the SQLite backend. Raw JSON (profile
-- data, timeline detail) is bytea: the store compares it byte for byte.

CREATE TABLE profile (
    user_id        text COLLATE "C" PRIMARY KEY,
    version        bigint      NOT NULL,
    data           bytea       NOT NULL,
    updated_at     timestamptz NOT NULL,
    served_version bigint      NOT NULL DEFAULT 0,
    served_at      timestamptz,
    created_at     timestamptz NOT NULL,
    modified_at    timestamptz NOT NULL
);

CREATE TABLE timeline_event (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id text COLLATE "C" NOT NULL,
    kind    text        NOT NULL,
    detail  bytea,
    at      timestamptz NOT NULL
);
CREATE INDEX timeline_event_user_id_idx ON timeline_event (user_id, id);

CREATE TABLE webhook_receipt (
    id          text COLLATE "C" PRIMARY KEY,
    status_code integer     NOT NULL,
    body        bytea,
    created_at  timestamptz NOT NULL
);
CREATE INDEX webhook_receipt_created_at_idx ON webhook_receipt (created_at);

CREATE TABLE one_time (
    kind       text COLLATE "C" NOT NULL,
    key        text COLLATE "C" NOT NULL,
    value      bytea,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE INDEX one_time_expires_at_idx ON one_time (expires_at);

CREATE TABLE gateway_session (
    id                      text COLLATE "C" PRIMARY KEY,
    user_id                 text COLLATE "C" NOT NULL,
    provider_subject        text        NOT NULL DEFAULT '',
    provider_sid            text        NOT NULL DEFAULT '',
    refresh_token_enc       bytea,
    access_token_expires_at timestamptz,
    id_token_hint           text        NOT NULL DEFAULT '',
    origin                  text        NOT NULL DEFAULT '',
    created_at              timestamptz NOT NULL,
    last_seen_at            timestamptz NOT NULL,
    idle_expires            timestamptz NOT NULL,
    abs_expires             timestamptz NOT NULL,
    ended_at                timestamptz,
    end_reason              text        NOT NULL DEFAULT ''
);
CREATE INDEX gateway_session_user_id_idx ON gateway_session (user_id) WHERE ended_at IS NULL;
CREATE INDEX gateway_session_provider_sid_idx ON gateway_session (provider_sid) WHERE ended_at IS NULL AND provider_sid <> '';
CREATE INDEX gateway_session_provider_subject_idx ON gateway_session (provider_subject) WHERE ended_at IS NULL AND provider_subject <> '';

CREATE TABLE hub_pull_url (
    network         text COLLATE "C" PRIMARY KEY,
    template        text        NOT NULL,
    affiliation_url text        NOT NULL DEFAULT '',
    updated_at      timestamptz NOT NULL
);

CREATE TABLE hub_remote_profile (
    network          text COLLATE "C" NOT NULL,
    user_id          text COLLATE "C" NOT NULL,
    status           text        NOT NULL,
    data             bytea,
    display_name     text        NOT NULL DEFAULT '',
    avatar_url       text        NOT NULL DEFAULT '',
    ping_seq         bigint      NOT NULL DEFAULT 0,
    pulled_seq       bigint      NOT NULL DEFAULT 0,
    ping_received_at timestamptz,
    last_pull_at     timestamptz,
    last_pull_result text        NOT NULL DEFAULT '',
    last_changed     text[],
    first_seen_at    timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    PRIMARY KEY (network, user_id)
);

CREATE TABLE hub_comment (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    network    text COLLATE "C" NOT NULL,
    article_id text COLLATE "C" NOT NULL,
    user_id    text COLLATE "C" NOT NULL,
    body       text        NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX hub_comment_article_idx ON hub_comment (network, article_id, id);
