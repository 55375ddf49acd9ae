-- The hub's collections (one per article of a site) and their moderators.
CREATE TABLE hub_collection (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    network    text COLLATE "C" NOT NULL,
    site_id    text COLLATE "C" NOT NULL,
    article_id text COLLATE "C" NOT NULL,
    title      text NOT NULL,
    url        text NOT NULL,
    type       text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    UNIQUE (network, site_id, article_id)
);

CREATE TABLE hub_collection_moderator (
    network       text COLLATE "C" NOT NULL,
    collection_id bigint NOT NULL REFERENCES hub_collection (id) ON DELETE CASCADE,
    user_id       text COLLATE "C" NOT NULL,
    PRIMARY KEY (network, user_id, collection_id)
);
