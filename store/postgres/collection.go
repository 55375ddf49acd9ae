package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ssogate/ssogate/store"
)

const collectionColumns = `id, network, site_id, article_id, title, url, type, created_at, updated_at`

func scanCollection(row pgx.Row) (*store.Collection, error) {
	var c store.Collection
	if err := row.Scan(&c.ID, &c.Network, &c.SiteID, &c.ArticleID, &c.Title, &c.URL, &c.Type, &c.CreatedAt, &c.UpdatedAt); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return &c, nil
}

func validCollection(c *store.Collection) error {
	if c == nil || c.Network == "" || c.SiteID == "" || c.ArticleID == "" || c.UpdatedAt.IsZero() {
		return errors.New("network, site id, article id and time are required")
	}
	return nil
}

func pgTime(t time.Time) time.Time { return t.Truncate(time.Microsecond).UTC() }

// CollectionCreate stores a new collection; ErrConflict when the article
// has one.
func (q queries) CollectionCreate(ctx context.Context, c *store.Collection) (*store.Collection, error) {
	if err := validCollection(c); err != nil {
		return nil, fmt.Errorf("postgres: collection create: %w", err)
	}
	got, err := scanCollection(q.db.QueryRow(ctx,
		`INSERT INTO hub_collection (network, site_id, article_id, title, url, type, created_at, updated_at)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING `+collectionColumns,
		c.Network, c.SiteID, c.ArticleID, c.Title, c.URL, c.Type, pgTime(c.UpdatedAt)))
	if err != nil {
		return nil, wrap("collection create", err)
	}
	return got, nil
}

// CollectionUpdate replaces a collection's title, URL and type.
func (q queries) CollectionUpdate(ctx context.Context, c *store.Collection) (*store.Collection, error) {
	if err := validCollection(c); err != nil {
		return nil, fmt.Errorf("postgres: collection update: %w", err)
	}
	got, err := scanCollection(q.db.QueryRow(ctx,
		`UPDATE hub_collection SET title = $1, url = $2, type = $3, updated_at = $4
		 WHERE network = $5 AND site_id = $6 AND article_id = $7 RETURNING `+collectionColumns,
		c.Title, c.URL, c.Type, pgTime(c.UpdatedAt), c.Network, c.SiteID, c.ArticleID))
	if err != nil {
		return nil, wrap("collection update", err)
	}
	return got, nil
}

// CollectionGet returns the collection of an article of a site.
func (q queries) CollectionGet(ctx context.Context, network, siteID, articleID string) (*store.Collection, error) {
	got, err := scanCollection(q.db.QueryRow(ctx,
		`SELECT `+collectionColumns+` FROM hub_collection WHERE network = $1 AND site_id = $2 AND article_id = $3`,
		network, siteID, articleID))
	if err != nil {
		return nil, wrap("collection get", err)
	}
	return got, nil
}

// CollectionModeratorSet adds or removes a collection moderator.
func (q queries) CollectionModeratorSet(ctx context.Context, network string, collectionID int64, userID string, moderator bool) error {
	if network == "" || userID == "" {
		return errors.New("postgres: collection moderator set: network and user id are required")
	}
	var n int
	if err := q.db.QueryRow(ctx, `SELECT count(*) FROM hub_collection WHERE id = $1 AND network = $2`, collectionID, network).Scan(&n); err != nil {
		return wrap("collection moderator set", err)
	}
	if n == 0 {
		return fmt.Errorf("postgres: collection moderator set: collection %d: %w", collectionID, store.ErrNotFound)
	}
	var err error
	if moderator {
		_, err = q.db.Exec(ctx,
			`INSERT INTO hub_collection_moderator (network, collection_id, user_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			network, collectionID, userID)
	} else {
		_, err = q.db.Exec(ctx,
			`DELETE FROM hub_collection_moderator WHERE network = $1 AND collection_id = $2 AND user_id = $3`,
			network, collectionID, userID)
	}
	if err != nil {
		return wrap("collection moderator set", err)
	}
	return nil
}

// CollectionModeratorList returns the collections userID moderates.
func (q queries) CollectionModeratorList(ctx context.Context, network, userID string) ([]int64, error) {
	rows, err := q.db.Query(ctx,
		`SELECT collection_id FROM hub_collection_moderator WHERE network = $1 AND user_id = $2 ORDER BY collection_id`,
		network, userID)
	if err != nil {
		return nil, wrap("collection moderator list", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, wrap("collection moderator list", err)
	}
	if ids == nil {
		ids = []int64{}
	}
	return ids, nil
}
