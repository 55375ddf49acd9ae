package httpbase

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var errDomain = errors.New("domain failure")

func TestErrorWriter(t *testing.T) {
	t.Parallel()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	mapDomain := func(err error) *Error {
		if errors.Is(err, errDomain) {
			return &Error{Status: http.StatusBadGateway, Code: "domain", Message: "the domain failed", Err: err}
		}
		return nil
	}
	tests := []struct {
		name       string
		ew         ErrorWriter
		ctx        context.Context
		err        error
		status     int
		code       string
		message    string
		retryAfter string
		challenge  string
		logged     bool
	}{
		{name: "an Error as it is", err: Errorf(http.StatusForbidden, "nope", "not for %s", "you"),
			status: 403, code: "nope", message: "not for you"},
		{name: "a wrapped Error", err: fmt.Errorf("x: %w", Errorf(http.StatusConflict, "taken", "taken")),
			status: 409, code: "taken", message: "taken"},
		{name: "retry after rounds up", err: &Error{Status: 429, Code: "rate_limited", Message: "slow down", RetryAfter: 1500 * time.Millisecond},
			status: 429, code: "rate_limited", message: "slow down", retryAfter: "2"},
		{name: "retry after whole seconds", err: &Error{Status: 503, Code: "busy", Message: "busy", RetryAfter: 3 * time.Second},
			status: 503, code: "busy", message: "busy", retryAfter: "3", logged: true},
		{name: "domain mapping", ew: ErrorWriter{Map: mapDomain}, err: fmt.Errorf("y: %w", errDomain),
			status: 502, code: "domain", message: "the domain failed", logged: true},
		{name: "domain mapping ignores others", ew: ErrorWriter{Map: mapDomain}, err: errors.New("boom"),
			status: 500, code: "internal", message: "internal error", logged: true},
		{name: "max bytes", err: fmt.Errorf("read: %w", &http.MaxBytesError{Limit: 10}),
			status: 413, code: "body_too_large", message: "the request body is larger than 10 bytes"},
		{name: "body error", err: &BodyError{Status: 408, Code: "request_timeout", Message: "late", Err: errors.New("deadline")},
			status: 408, code: "request_timeout", message: "late"},
		{name: "canceled request", ctx: canceled, err: fmt.Errorf("q: %w", context.Canceled),
			status: 499, code: "canceled", message: "request canceled"},
		{name: "canceled, request still live", err: context.Canceled,
			status: 500, code: "internal", message: "internal error", logged: true},
		{name: "401 with challenge", ew: ErrorWriter{Challenge: BearerInvalidToken}, err: Errorf(401, "unauthorized", "who"),
			status: 401, code: "unauthorized", message: "who", challenge: BearerInvalidToken},
		{name: "401 without challenge", err: Errorf(401, "bad_signature", "unsigned"),
			status: 401, code: "bad_signature", message: "unsigned"},
		{name: "unknown error hidden", err: errors.New("secret internal detail"),
			status: 500, code: "internal", message: "internal error", logged: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			ew := tc.ew
			ew.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			ew.Prefix = "test"
			ctx := tc.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			r := httptest.NewRequestWithContext(ctx, http.MethodGet, "/x", nil)
			w := httptest.NewRecorder()
			ew.Write(w, r, tc.err)
			require.Equal(t, tc.status, w.Code)
			var body ErrorBody
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
			require.Equal(t, ErrorDetail{Code: tc.code, Message: tc.message}, body.Error)
			require.Equal(t, tc.retryAfter, w.Header().Get("Retry-After"))
			require.Equal(t, tc.challenge, w.Header().Get("WWW-Authenticate"))
			require.NotContains(t, w.Body.String(), "secret internal detail")
			if tc.logged {
				require.Contains(t, logs.String(), "test: request failed")
				require.Contains(t, logs.String(), tc.err.Error())
			} else {
				require.Empty(t, logs.String())
			}
		})
	}
}

func TestErrorWriterNilLogger(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	ErrorWriter{}.Write(w, httptest.NewRequest(http.MethodGet, "/", nil), errors.New("boom"))
	require.Equal(t, http.StatusInternalServerError, w.Code)
}

func TestErrorText(t *testing.T) {
	t.Parallel()
	cause := errors.New("cause")
	e := &Error{Status: 502, Code: "upstream", Message: "upstream failed", Err: cause}
	require.ErrorIs(t, e, cause)
	require.Equal(t, "httpbase: upstream: upstream failed: cause", e.Error())
	require.Equal(t, "httpbase: x: y", Errorf(400, "x", "y").Error())
}
