package httpbase

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// unsized hides the body's length, as a chunked upload would.
type unsized struct{ io.Reader }

func TestReadBody(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		body     string
		hideSize bool
		want     string
		tooLarge bool
	}{
		{name: "empty", body: "", want: ""},
		{name: "at limit", body: "1234567890", want: "1234567890"},
		{name: "over limit", body: "12345678901", tooLarge: true},
		{name: "over limit chunked", body: "12345678901", hideSize: true, tooLarge: true},
		{name: "at limit chunked", body: "1234567890", hideSize: true, want: "1234567890"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var body io.Reader = strings.NewReader(tt.body)
			if tt.hideSize {
				body = unsized{body}
			}
			req := httptest.NewRequest(http.MethodPost, "/", body)
			if tt.hideSize {
				req.ContentLength = -1
			}
			got, err := ReadBody(httptest.NewRecorder(), req, 10)
			if tt.tooLarge {
				require.ErrorIs(t, err, ErrBodyTooLarge)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, string(got))
		})
	}
}

func TestLimitBody(t *testing.T) {
	t.Parallel()
	h := LimitBody(4)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			WriteError(w, http.StatusRequestEntityTooLarge, "body_too_large", "too large")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))

	post := func(body string, hideSize bool) *httptest.ResponseRecorder {
		var r io.Reader = strings.NewReader(body)
		if hideSize {
			r = unsized{r}
		}
		req := httptest.NewRequest(http.MethodPost, "/", r)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if hideSize {
			req.ContentLength = -1
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	require.Equal(t, http.StatusNoContent, post("a=1", false).Code)
	rec := post("a=12345", false)
	require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
	require.JSONEq(t, `{"error":{"code":"body_too_large","message":"request body over 4 bytes"}}`, rec.Body.String())
	require.Equal(t, http.StatusRequestEntityTooLarge, post("a=12345", true).Code)
}
