-- The hub's collections (one per article of a site) and their moderators.
CREATE TABLE hub_collection (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    network    TEXT    NOT NULL,
    site_id    TEXT    NOT NULL,
    article_id TEXT    NOT NULL,
    title      TEXT    NOT NULL,
    url        TEXT    NOT NULL,
    type       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (network, site_id, article_id)
) STRICT;

CREATE TABLE hub_collection_moderator (
    network       TEXT    NOT NULL,
    collection_id INTEGER NOT NULL REFERENCES hub_collection (id) ON DELETE CASCADE,
    user_id       TEXT    NOT NULL,
    PRIMARY KEY (network, user_id, collection_id)
) STRICT;
