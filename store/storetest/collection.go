package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store"
)

func testCollection(t *testing.T, newStore NewStoreFunc) {
	runCases(t, newStore, []testCase{
		{"CreateGetUpdate", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			_, err := s.CollectionGet(ctx, "n", "7", "a1")
			require.ErrorIs(t, err, store.ErrNotFound)
			created := at(time.Second).Truncate(time.Microsecond) // both backends keep microseconds

			c, err := s.CollectionCreate(ctx, &store.Collection{Network: "n", SiteID: "7", ArticleID: "a1",
				Title: "A", URL: "https://s.example/a1", Type: "livecomments", UpdatedAt: created})
			require.NoError(t, err)
			require.Positive(t, c.ID)
			require.Equal(t, "A", c.Title)
			requireTime(t, created, c.CreatedAt)

			// The same article again is a conflict; another site's or
			// network's is not.
			_, err = s.CollectionCreate(ctx, &store.Collection{Network: "n", SiteID: "7", ArticleID: "a1", Title: "B", UpdatedAt: at(0)})
			require.ErrorIs(t, err, store.ErrConflict)
			other, err := s.CollectionCreate(ctx, &store.Collection{Network: "n", SiteID: "8", ArticleID: "a1", Title: "B", UpdatedAt: at(0)})
			require.NoError(t, err)
			require.NotEqual(t, c.ID, other.ID)
			_, err = s.CollectionCreate(ctx, &store.Collection{Network: "m", SiteID: "7", ArticleID: "a1", Title: "B", UpdatedAt: at(0)})
			require.NoError(t, err)

			got, err := s.CollectionGet(ctx, "n", "7", "a1")
			require.NoError(t, err)
			require.Equal(t, c.ID, got.ID)
			require.Equal(t, "https://s.example/a1", got.URL)

			up, err := s.CollectionUpdate(ctx, &store.Collection{Network: "n", SiteID: "7", ArticleID: "a1",
				Title: "A2", URL: "https://s.example/a1?v=2", Type: "reviews", UpdatedAt: created.Add(time.Minute)})
			require.NoError(t, err)
			require.Equal(t, c.ID, up.ID)
			require.Equal(t, "A2", up.Title)
			require.Equal(t, "reviews", up.Type)
			requireTime(t, c.CreatedAt, up.CreatedAt)
			requireTime(t, created.Add(time.Minute), up.UpdatedAt)

			_, err = s.CollectionUpdate(ctx, &store.Collection{Network: "n", SiteID: "7", ArticleID: "missing", Title: "x", UpdatedAt: at(0)})
			require.ErrorIs(t, err, store.ErrNotFound)
			_, err = s.CollectionCreate(ctx, &store.Collection{Network: "n", SiteID: "", ArticleID: "a", UpdatedAt: at(0)})
			require.Error(t, err)
		}},
		{"Moderators", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			a, err := s.CollectionCreate(ctx, &store.Collection{Network: "n", SiteID: "7", ArticleID: "a", Title: "A", UpdatedAt: at(0)})
			require.NoError(t, err)
			b, err := s.CollectionCreate(ctx, &store.Collection{Network: "n", SiteID: "7", ArticleID: "b", Title: "B", UpdatedAt: at(0)})
			require.NoError(t, err)

			ids, err := s.CollectionModeratorList(ctx, "n", "ann")
			require.NoError(t, err)
			require.Empty(t, ids)
			require.NoError(t, s.CollectionModeratorSet(ctx, "n", b.ID, "ann", true))
			require.NoError(t, s.CollectionModeratorSet(ctx, "n", a.ID, "ann", true))
			require.NoError(t, s.CollectionModeratorSet(ctx, "n", a.ID, "ann", true)) // idempotent
			require.NoError(t, s.CollectionModeratorSet(ctx, "n", a.ID, "bob", true))
			ids, err = s.CollectionModeratorList(ctx, "n", "ann")
			require.NoError(t, err)
			require.Equal(t, []int64{a.ID, b.ID}, ids)

			require.NoError(t, s.CollectionModeratorSet(ctx, "n", b.ID, "ann", false))
			require.NoError(t, s.CollectionModeratorSet(ctx, "n", b.ID, "ann", false))
			ids, err = s.CollectionModeratorList(ctx, "n", "ann")
			require.NoError(t, err)
			require.Equal(t, []int64{a.ID}, ids)
			ids, err = s.CollectionModeratorList(ctx, "m", "bob")
			require.NoError(t, err)
			require.Empty(t, ids)

			// A collection of another network, or none, is not found.
			require.ErrorIs(t, s.CollectionModeratorSet(ctx, "m", a.ID, "ann", true), store.ErrNotFound)
			require.ErrorIs(t, s.CollectionModeratorSet(ctx, "n", a.ID+b.ID+100, "ann", true), store.ErrNotFound)
		}},
	})
}
