package sqlite_test

import (
	"testing"

	"github.com/ssogate/ssogate/internal/testdb"
	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/store/storetest"
)

// TestJobsBringForward runs the bring-forward conformance cases.
func TestJobsBringForward(t *testing.T) {
	t.Parallel()
	storetest.JobsBringForward(t, func(t *testing.T) store.Store { return testdb.SQLite(t) })
}
