package httpbase

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// net/http answers some requests before any handler runs, when it cannot
// read them: 431 for a request line and header over MaxHeaderBytes, 400 for
// a malformed request line, header or Host, 505 for an unknown HTTP
// version, 501 for an unknown transfer coding. It writes those answers as
// plain text straight to the connection, with no hook to change them
// (http.Server has no error handler for them). The one place left is the
// connection: jsonErrorConn recognises each of those answers, which
// net/http writes in one Write call in a fixed shape no handler's response
// has (Content-Type before Connection, no Date, the body repeating the
// status line), and sends the same status with the JSON error body instead.
//
// What this does not change: net/http still closes the connection after
// such an answer (it cannot read past a request it could not parse), a 417
// for an unsupported Expect header stays empty (it is an ordinary response
// with no body), and behind TLS the wrapped connection sees only encrypted
// bytes, so a TLS listener would have to be wrapped inside the TLS layer.

// goErrorHeaders is what net/http writes between the status line of such
// an answer and its body (net/http's server.go, errorHeaders).
const goErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// jsonErrorListener wraps every accepted connection in a jsonErrorConn.
type jsonErrorListener struct{ net.Listener }

func (l jsonErrorListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &jsonErrorConn{Conn: c}, nil
}

// jsonErrorConn rewrites net/http's plain-text pre-handler errors into
// JSON ones; every other write passes through unchanged.
type jsonErrorConn struct{ net.Conn }

func (c *jsonErrorConn) Write(p []byte) (int, error) {
	if answer, ok := jsonFromGoError(p); ok {
		if _, err := c.Conn.Write(answer); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// CloseWrite keeps net/http's half-close after a 431 (closeWriteAndWait),
// which lets the client read the answer before the connection closes.
func (c *jsonErrorConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// ReadFrom keeps the sendfile and splice paths of the wrapped connection
// (net/http looks for io.ReaderFrom on the connection).
func (c *jsonErrorConn) ReadFrom(r io.Reader) (int64, error) {
	return io.Copy(c.Conn, r)
}

// jsonFromGoError returns the JSON answer for p when p is one of net/http's
// plain-text pre-handler errors.
func jsonFromGoError(p []byte) ([]byte, bool) {
	rest, ok := bytes.CutPrefix(p, []byte("HTTP/1.1 "))
	if !ok {
		return nil, false
	}
	i := bytes.Index(rest, []byte("\r\n"))
	if i < 4 {
		return nil, false
	}
	statusLine, after := string(rest[:i]), rest[i:]
	body, ok := bytes.CutPrefix(after, []byte(goErrorHeaders))
	if !ok {
		return nil, false
	}
	code, err := strconv.Atoi(statusLine[:3])
	if err != nil || statusLine[3] != ' ' || code < 400 || code > 599 {
		return nil, false
	}
	text := http.StatusText(code)
	var detail string
	switch tail := statusLine[4:]; {
	case code == http.StatusNotImplemented && tail == text && string(body) == "Unsupported transfer encoding":
		detail = "unsupported transfer encoding"
	case string(body) != statusLine:
		return nil, false
	case tail == text:
	case strings.HasPrefix(tail, text+": "):
		// net/http's own fixed reason ("missing required Host header"); it
		// never holds the client's bytes.
		detail = strings.TrimPrefix(tail, text+": ")
	default:
		return nil, false
	}
	errCode, message := goErrorCode(code)
	if detail != "" {
		message = detail
	}
	js, err := json.Marshal(ErrorBody{Error: ErrorDetail{Code: errCode, Message: message}})
	if err != nil {
		return nil, false
	}
	js = append(js, '\n')
	return fmt.Appendf(nil, "HTTP/1.1 %d %s\r\nConnection: close\r\nContent-Length: %d\r\n"+
		"Content-Type: application/json; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n\r\n%s",
		code, text, len(js), js), true
}

// goErrorCode is the error code and default message of a pre-handler
// status.
func goErrorCode(status int) (code, message string) {
	switch status {
	case http.StatusRequestHeaderFieldsTooLarge:
		return "header_too_large", "request line and header fields are too large"
	case http.StatusHTTPVersionNotSupported:
		return "http_version_not_supported", "unsupported HTTP version"
	case http.StatusNotImplemented:
		return "not_implemented", "not implemented"
	case http.StatusBadRequest:
		return "bad_request", "malformed HTTP request"
	default:
		return "bad_request", strings.ToLower(http.StatusText(status))
	}
}
