package store

import (
	"context"
	"time"
)

// Collection is a Livefyre collection the hub knows: one article of one
// site, created or updated by the site's server through the collection API
// (Livefyre's site.createCollection / collection.createOrUpdate).
type Collection struct {
	// ID is the collection id the hub assigned (Livefyre's collectionId).
	ID        int64
	Network   string
	SiteID    string
	ArticleID string
	Title     string
	URL       string
	// Type is Livefyre's collection type ("livecomments", "reviews", …).
	Type      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// CollectionQueries are the hub's collections and their moderators.
type CollectionQueries interface {
	// CollectionCreate stores a new collection and returns it with ID,
	// CreatedAt and UpdatedAt set (UpdatedAt is the given one). ErrConflict
	// when the network's site already has a collection for the article.
	CollectionCreate(ctx context.Context, c *Collection) (*Collection, error)
	// CollectionUpdate replaces the title, URL and type of the collection
	// of (Network, SiteID, ArticleID) and returns it. ErrNotFound when
	// there is none.
	CollectionUpdate(ctx context.Context, c *Collection) (*Collection, error)
	// CollectionGet returns the collection of an article of a site, or
	// ErrNotFound.
	CollectionGet(ctx context.Context, network, siteID, articleID string) (*Collection, error)
	// CollectionModeratorSet makes userID a moderator of the collection
	// (idempotent), or no longer one when moderator is false. ErrNotFound
	// when the collection does not exist.
	CollectionModeratorSet(ctx context.Context, network string, collectionID int64, userID string, moderator bool) error
	// CollectionModeratorList returns the ids of the network's collections
	// userID moderates, ascending.
	CollectionModeratorList(ctx context.Context, network, userID string) ([]int64, error)
}
