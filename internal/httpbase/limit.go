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
// Content-Length over the limit fails before reading anything. Errors are
// *BodyError (ClassifyBodyError); one over the limit also matches
// ErrBodyTooLarge.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, tooLarge(limit)
	}
	if err != nil {
		return nil, ClassifyBodyError(err)
	}
	return body, nil
}

func tooLarge(limit int64) *BodyError {
	return &BodyError{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large",
		Message: fmt.Sprintf("the request body is larger than %d bytes", limit), Err: ErrBodyTooLarge}
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
