package sqlite

import (
	"context"
	"errors"
	"fmt"

	"github.com/ssogate/ssogate/store"
)

const collectionColumns = `id, network, site_id, article_id, title, url, type, created_at, updated_at`

func scanCollection(row rowScanner) (*store.Collection, error) {
	var c store.Collection
	var created, updated int64
	if err := row.Scan(&c.ID, &c.Network, &c.SiteID, &c.ArticleID, &c.Title, &c.URL, &c.Type, &created, &updated); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &c, nil
}

func validCollection(c *store.Collection) error {
	if c == nil || c.Network == "" || c.SiteID == "" || c.ArticleID == "" || c.UpdatedAt.IsZero() {
		return errors.New("network, site id, article id and time are required")
	}
	return nil
}

// CollectionCreate stores a new collection; ErrConflict when the article
// has one.
func (q queries) CollectionCreate(ctx context.Context, c *store.Collection) (*store.Collection, error) {
	if err := validCollection(c); err != nil {
		return nil, fmt.Errorf("sqlite: create collection: %w", err)
	}
	got, err := scanCollection(q.db.QueryRowContext(ctx,
		`INSERT INTO hub_collection (network, site_id, article_id, title, url, type, created_at, updated_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+collectionColumns,
		c.Network, c.SiteID, c.ArticleID, c.Title, c.URL, c.Type, micros(c.UpdatedAt), micros(c.UpdatedAt)))
	if err != nil {
		return nil, fmt.Errorf("sqlite: create collection: %w", mapError(err))
	}
	return got, nil
}

// CollectionUpdate replaces a collection's title, URL and type.
func (q queries) CollectionUpdate(ctx context.Context, c *store.Collection) (*store.Collection, error) {
	if err := validCollection(c); err != nil {
		return nil, fmt.Errorf("sqlite: update collection: %w", err)
	}
	got, err := scanCollection(q.db.QueryRowContext(ctx,
		`UPDATE hub_collection SET title = ?, url = ?, type = ?, updated_at = ?
		 WHERE network = ? AND site_id = ? AND article_id = ? RETURNING `+collectionColumns,
		c.Title, c.URL, c.Type, micros(c.UpdatedAt), c.Network, c.SiteID, c.ArticleID))
	if err != nil {
		return nil, fmt.Errorf("sqlite: update collection: %w", mapError(err))
	}
	return got, nil
}

// CollectionGet returns the collection of an article of a site.
func (q queries) CollectionGet(ctx context.Context, network, siteID, articleID string) (*store.Collection, error) {
	got, err := scanCollection(q.read.QueryRowContext(ctx,
		`SELECT `+collectionColumns+` FROM hub_collection WHERE network = ? AND site_id = ? AND article_id = ?`,
		network, siteID, articleID))
	if err != nil {
		return nil, fmt.Errorf("sqlite: get collection: %w", mapError(err))
	}
	return got, nil
}

// CollectionModeratorSet adds or removes a collection moderator.
func (q queries) CollectionModeratorSet(ctx context.Context, network string, collectionID int64, userID string, moderator bool) error {
	if network == "" || userID == "" {
		return errors.New("sqlite: set collection moderator: network and user id are required")
	}
	var n int
	if err := q.db.QueryRowContext(ctx, `SELECT count(*) FROM hub_collection WHERE id = ? AND network = ?`, collectionID, network).Scan(&n); err != nil {
		return fmt.Errorf("sqlite: set collection moderator: %w", mapError(err))
	}
	if n == 0 {
		return fmt.Errorf("sqlite: set collection moderator: collection %d: %w", collectionID, store.ErrNotFound)
	}
	var err error
	if moderator {
		_, err = q.db.ExecContext(ctx,
			`INSERT INTO hub_collection_moderator (network, collection_id, user_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			network, collectionID, userID)
	} else {
		_, err = q.db.ExecContext(ctx,
			`DELETE FROM hub_collection_moderator WHERE network = ? AND collection_id = ? AND user_id = ?`,
			network, collectionID, userID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: set collection moderator: %w", mapError(err))
	}
	return nil
}

// CollectionModeratorList returns the collections userID moderates.
func (q queries) CollectionModeratorList(ctx context.Context, network, userID string) ([]int64, error) {
	rows, err := q.read.QueryContext(ctx,
		`SELECT collection_id FROM hub_collection_moderator WHERE network = ? AND user_id = ? ORDER BY collection_id`,
		network, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list moderated collections: %w", mapError(err))
	}
	defer func() { _ = rows.Close() }()
	ids := []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("sqlite: list moderated collections: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list moderated collections: %w", mapError(err))
	}
	return ids, nil
}
