package httpbase

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

// ErrBodyTooLarge is returned by ReadBody when the body is over the limit;
// answer it with 413.
var ErrBodyTooLarge = errors.New("httpbase: request body too large")

// ReadBody reads the whole request body, at most limit bytes. A declared
// Content-Length over the limit fails before reading anything.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, ErrBodyTooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, ErrBodyTooLarge
	}
	if err != nil {
		return nil, fmt.Errorf("httpbase: read body: %w", err)
	}
	return body, nil
}

// LimitBody is middleware that caps request bodies at limit bytes: reading
// past it fails with *http.MaxBytesError (ErrBodyTooLarge from ReadBody),
// and a declared Content-Length over it is answered 413 at once. Use it for
// handlers that parse forms (r.ParseForm reads the body).
func LimitBody(limit int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > limit {
				WriteError(w, http.StatusRequestEntityTooLarge, "body_too_large",
					fmt.Sprintf("request body over %d bytes", limit))
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			next.ServeHTTP(w, r)
		})
	}
}
