package httpbase

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
)

// BodyError is a failure to read a request body with the answer it gets.
// It is the client's doing (too much, too slow, cut off), never the
// server's: answer it, log it at most at debug level.
type BodyError struct {
	// Status is 413 for a body over the limit, 408 for one not sent before
	// the server's read deadline (http.Server.ReadTimeout), 400 otherwise
	// (the client hung up, a broken chunked encoding).
	Status int
	// Code and Message are the JSON error's.
	Code    string
	Message string
	// Err is the read error.
	Err error
}

func (e *BodyError) Error() string {
	return fmt.Sprintf("httpbase: read body: %s: %v", e.Code, e.Err)
}

func (e *BodyError) Unwrap() error { return e.Err }

// ClassifyBodyError returns how err, returned while reading a request body,
// is answered; nil for nil. A *BodyError is returned as it is.
func ClassifyBodyError(err error) *BodyError {
	if err == nil {
		return nil
	}
	var be *BodyError
	if errors.As(err, &be) {
		return be
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return &BodyError{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large",
			Message: fmt.Sprintf("the request body is larger than %d bytes", tooLarge.Limit), Err: err}
	}
	if errors.Is(err, ErrBodyTooLarge) {
		return &BodyError{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large",
			Message: "the request body is too large", Err: err}
	}
	var ne net.Error
	if errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return &BodyError{Status: http.StatusRequestTimeout, Code: "request_timeout",
			Message: "the request body was not received in time", Err: err}
	}
	return &BodyError{Status: http.StatusBadRequest, Code: "unreadable_body",
		Message: "the request body could not be read", Err: err}
}
