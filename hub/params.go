package hub

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"

	"github.com/ssogate/ssogate/internal/httpbase"
)

// maxParamBody bounds the body of register and ping requests.
const maxParamBody = 64 << 10

// params are a request's parameters from the query string and the body.
// Livefyre's libraries put them in either place (Java: query; Node, Ruby,
// PHP: form body; Python: form body labelled application/json), so the body
// is parsed as a form whatever the Content-Type says; a JSON object body and
// a multipart form are understood too.
type params struct {
	query url.Values
	body  url.Values
	// bodyErr is set when the body could not be parsed; the parameters that
	// could be read are still there.
	bodyErr error
}

// get returns the first non-empty value of name, from the query first.
func (p *params) get(name string) string {
	if v := firstNonEmpty(p.query[name]); v != "" {
		return v
	}
	return firstNonEmpty(p.body[name])
}

func firstNonEmpty(vs []string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// readParams reads the query and up to maxParamBody bytes of body. A body
// that cannot be read is a *httpbase.BodyError (413 too large, 408 too
// slow, 400 cut off); a malformed one is recorded in bodyErr.
func readParams(w http.ResponseWriter, r *http.Request) (*params, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxParamBody))
	if err != nil {
		return nil, httpbase.ClassifyBodyError(err)
	}
	return parseParams(r.URL.RawQuery, r.Header.Get("Content-Type"), body), nil
}

// parseParams is readParams without the I/O.
func parseParams(rawQuery, contentType string, body []byte) *params {
	p := &params{}
	p.query, _ = parseForm(rawQuery)
	mediaType, mediaParams, _ := mime.ParseMediaType(contentType)
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		p.body = url.Values{}
	case strings.HasPrefix(mediaType, "multipart/"):
		p.body, p.bodyErr = parseMultipart(body, mediaParams["boundary"])
	case trimmed[0] == '{':
		p.body, p.bodyErr = parseJSONObject(trimmed)
	default:
		p.body, p.bodyErr = parseForm(string(trimmed))
	}
	return p
}

// parseForm parses application/x-www-form-urlencoded text leniently: a pair
// that does not decode is skipped (and reported), the others are kept.
func parseForm(s string) (url.Values, error) {
	values := url.Values{}
	var bad error
	for pair := range strings.SplitSeq(s, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err1 := url.QueryUnescape(k)
		value, err2 := url.QueryUnescape(v)
		if err := errors.Join(err1, err2); err != nil {
			bad = errors.New("malformed form encoding")
			continue
		}
		values[key] = append(values[key], value)
	}
	return values, bad
}

// parseJSONObject reads a flat JSON object; string values are kept, other
// values are skipped.
func parseJSONObject(b []byte) (url.Values, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		// Not JSON after all: perhaps a form that starts with "{".
		return parseForm(string(b))
	}
	values := url.Values{}
	for k, raw := range m {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			values.Set(k, s)
		}
	}
	return values, nil
}

// parseMultipart reads the text fields of a multipart/form-data body.
func parseMultipart(body []byte, boundary string) (url.Values, error) {
	if boundary == "" {
		return url.Values{}, errors.New("multipart body without boundary")
	}
	form, err := multipart.NewReader(bytes.NewReader(body), boundary).ReadForm(maxParamBody)
	if err != nil {
		return url.Values{}, errors.New("malformed multipart body")
	}
	defer func() { _ = form.RemoveAll() }()
	return url.Values(form.Value), nil
}
