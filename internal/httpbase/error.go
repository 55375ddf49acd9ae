package httpbase

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// StatusClientClosedRequest is the status logged (never read by anyone)
// when the client went away before its answer was ready (nginx's 499).
const StatusClientClosedRequest = 499

// BearerInvalidToken is the WWW-Authenticate challenge of an API that
// takes a bearer credential (RFC 6750 §3), for ErrorWriter.Challenge.
const BearerInvalidToken = `Bearer error="invalid_token"`

// Error is an error with the HTTP answer it gets. Code and Message are the
// JSON error's and are shown to the client; Err, the cause, never is (it is
// logged when the answer is a 5xx).
type Error struct {
	Status  int
	Code    string
	Message string
	// RetryAfter, when positive, is sent as Retry-After in whole seconds,
	// rounded up.
	RetryAfter time.Duration
	Err        error
}

// Errorf returns an Error with the message formatted from format and args.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("httpbase: %s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("httpbase: %s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// ErrorWriter is a package's one way from an error to its HTTP answer. The
// zero value works (nothing logged, no domain mappings).
type ErrorWriter struct {
	// Logger receives one line per 5xx answer with its cause. Nil: the
	// caller logs (nothing is logged here).
	Logger *slog.Logger
	// Prefix starts the log message ("pingpull" logs "pingpull: request
	// failed").
	Prefix string
	// Map, when set, maps a domain error that is not an *Error to its
	// answer; it returns nil for errors it does not know.
	Map func(error) *Error
	// Challenge, when set, is the WWW-Authenticate header of every 401
	// (BearerInvalidToken for a bearer API).
	Challenge string
}

// Resolve returns the answer to err: an *Error in its chain as it is, then
// Map's answer, then a request body failure (ClassifyBodyError: 413
// body_too_large, 408, 400), then 499 for a request its client canceled,
// else 500 internal.
func (ew ErrorWriter) Resolve(r *http.Request, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if ew.Map != nil {
		if e := ew.Map(err); e != nil {
			return e
		}
	}
	var be *BodyError
	var mbe *http.MaxBytesError
	if errors.As(err, &be) || errors.As(err, &mbe) || errors.Is(err, ErrBodyTooLarge) {
		// The client's doing (too much, too slow, cut off): answered, never
		// logged as the server's failure.
		be = ClassifyBodyError(err)
		return &Error{Status: be.Status, Code: be.Code, Message: be.Message, Err: err}
	}
	if errors.Is(err, context.Canceled) && r != nil && r.Context().Err() != nil {
		return &Error{Status: StatusClientClosedRequest, Code: "canceled", Message: "request canceled", Err: err}
	}
	return &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error", Err: err}
}

// Write answers err as {"error":{"code","message"}} (see Resolve), with
// Retry-After and the 401 challenge when they apply, and logs a 5xx.
func (ew ErrorWriter) Write(w http.ResponseWriter, r *http.Request, err error) {
	e := ew.Resolve(r, err)
	if e.Status >= 500 && ew.Logger != nil {
		ctx := context.Background()
		path := ""
		if r != nil {
			ctx, path = r.Context(), r.URL.Path
		}
		msg := "request failed"
		if ew.Prefix != "" {
			msg = ew.Prefix + ": " + msg
		}
		ew.Logger.ErrorContext(ctx, msg, "path", path, "status", e.Status, "code", e.Code, "error", err)
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(int64((e.RetryAfter+time.Second-1)/time.Second), 10))
	}
	if e.Status == http.StatusUnauthorized && ew.Challenge != "" {
		w.Header().Set("WWW-Authenticate", ew.Challenge)
	}
	WriteError(w, e.Status, e.Code, e.Message)
}
