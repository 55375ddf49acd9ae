package hub

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a goroutine outlives them: every
// background loop the package starts must be joined by its Run, Close or
// Flush.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
