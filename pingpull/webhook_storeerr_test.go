package pingpull

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"
	"testing"

	"github.com/ssogate/ssogate/internal/httpbase"
)

type sqlStateErr string

func (e sqlStateErr) Error() string    { return "pg: " + string(e) }
func (e sqlStateErr) SQLState() string { return string(e) }

func TestStoreUnavailable(t *testing.T) {
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("store: profile get: %w", dial), true},
		{fmt.Errorf("store: %w", syscall.ECONNRESET), true},
		{fmt.Errorf("store: %w", sqlStateErr("57P01")), true},
		{fmt.Errorf("store: %w", sqlStateErr("57P03")), true},
		{fmt.Errorf("store: %w", sqlStateErr("08006")), true},
		{fmt.Errorf("store: %w", sqlStateErr("23505")), false},
		{errors.New("store: bad data"), false},
		{&httpbase.Error{Status: http.StatusBadRequest, Err: dial}, false},
		{nil, false},
	} {
		if got := storeUnavailable(tc.err); got != tc.want {
			t.Errorf("storeUnavailable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
