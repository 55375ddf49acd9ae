package httpbase_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/ssogate/ssogate/internal/httpbase"
)

var errUpstream = errors.New("upstream did not answer")

// A domain handler mounts on Routes, reads path variables with PathValue
// and answers every failure through its one ErrorWriter; Map adds the
// domain's own mappings.
func ExampleErrorWriter() {
	errs := httpbase.ErrorWriter{Map: func(err error) *httpbase.Error {
		if errors.Is(err, errUpstream) {
			return &httpbase.Error{Status: http.StatusBadGateway, Code: "upstream_unavailable", Message: "try again later", Err: err}
		}
		return nil
	}}
	mux := httpbase.NewMux()
	mux.Handle("/things/{id}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if httpbase.PathValue(r, "id") == "7" {
			errs.Write(w, r, fmt.Errorf("load thing: %w", errUpstream))
			return
		}
		errs.Write(w, r, httpbase.Errorf(http.StatusNotFound, "no_thing", "no thing %q", httpbase.PathValue(r, "id")))
	}), http.MethodGet)

	for _, path := range []string{"/things/7", "/things/8"} {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		fmt.Print(w.Code, " ", w.Body.String())
	}
	// Output:
	// 502 {"error":{"code":"upstream_unavailable","message":"try again later"}}
	// 404 {"error":{"code":"no_thing","message":"no thing \"8\""}}
}
