package postgres

import (
	"testing"

	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/store/storetest"
)

// TestJobsBringForward runs the bring-forward conformance cases, each on a
// fresh schema.
func TestJobsBringForward(t *testing.T) {
	t.Parallel()
	testURL(t)
	storetest.JobsBringForward(t, func(t *testing.T) store.Store { return newTestStore(t) })
}
