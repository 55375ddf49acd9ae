package hub

import (
	"testing"

	"github.com/ssogate/ssogate/internal/testdb"
	"github.com/ssogate/ssogate/store"
)

// newTestStore is a real, migrated SQLite store in a temporary directory.
func newTestStore(t *testing.T) store.Store { return testdb.SQLite(t) }
