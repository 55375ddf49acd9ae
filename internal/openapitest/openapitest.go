// Package openapitest checks real HTTP answers against docs/openapi.yaml:
// a RoundTripper that validates every response of the servers it is told
// about (status, headers, body schema) and records which operations and
// statuses were seen, so a test can also assert that every documented
// operation was exercised.
package openapitest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/ssogate/ssogate/docs"
)

func init() {
	// Bodies that are text for people or programs, not JSON: the schema
	// says "string"; what matters is the status and the Content-Type.
	for _, ct := range []string{"text/html", "text/javascript", "application/javascript", "image/svg+xml"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.PlainBodyDecoder)
	}
}

// Validator is an http.RoundTripper; see the package documentation.
type Validator struct {
	next   http.RoundTripper
	doc    *openapi3.T
	router routers.Router
	bases  []string

	mu     sync.Mutex
	seen   map[string]map[int]bool
	errors []string
}

// New loads docs/openapi.yaml with servers replaced by bases (the real
// base URLs of the gateway and the hub under test) and returns a Validator
// sending through next (http.DefaultTransport when nil). Requests to any
// other host pass through unchecked.
func New(next http.RoundTripper, bases ...string) (*Validator, error) {
	if next == nil {
		next = http.DefaultTransport
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(docs.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("openapitest: load: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapitest: invalid document: %w", err)
	}
	doc.Servers = nil
	for _, b := range bases {
		doc.Servers = append(doc.Servers, &openapi3.Server{URL: strings.TrimRight(b, "/")})
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("openapitest: router: %w", err)
	}
	return &Validator{next: next, doc: doc, router: router, bases: bases, seen: map[string]map[int]bool{}}, nil
}

func (v *Validator) ours(r *http.Request) bool {
	for _, b := range v.bases {
		if strings.HasPrefix(r.URL.String(), strings.TrimRight(b, "/")+"/") {
			return true
		}
	}
	return false
}

// RoundTrip sends r and checks the answer when r goes to a server under
// test. A streamed answer (text/event-stream) is checked by status and
// headers only, and left streaming.
func (v *Validator) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := v.next.RoundTrip(r)
	if err != nil || !v.ours(r) {
		return resp, err
	}
	op := r.Method + " " + r.URL.Path
	route, params, ferr := v.router.FindRoute(r)
	if ferr != nil {
		v.fail("%s answered %d but is not documented: %v", op, resp.StatusCode, ferr)
		return resp, nil
	}
	key := route.Method + " " + route.Path
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt == "text/event-stream" {
		input.Options.ExcludeResponseBody = true
	} else {
		body, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		if rerr != nil {
			return nil, rerr
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		input.SetBodyBytes(body)
	}
	if verr := openapi3filter.ValidateResponse(r.Context(), input); verr != nil {
		v.fail("%s (%s) answered %d not as documented: %v", op, key, resp.StatusCode, verr)
	}
	v.mu.Lock()
	if v.seen[key] == nil {
		v.seen[key] = map[int]bool{}
	}
	v.seen[key][resp.StatusCode] = true
	v.mu.Unlock()
	return resp, nil
}

func (v *Validator) fail(format string, args ...any) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.errors = append(v.errors, fmt.Sprintf(format, args...))
}

// Errors returns every answer that did not match the document.
func (v *Validator) Errors() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Clone(v.errors)
}

// Unexercised returns the documented operations ("GET /path") that no
// checked request reached.
func (v *Validator) Unexercised() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	var missing []string
	for path, item := range v.doc.Paths.Map() {
		for method := range item.Operations() {
			if key := method + " " + path; len(v.seen[key]) == 0 {
				missing = append(missing, key)
			}
		}
	}
	sort.Strings(missing)
	return missing
}

// Seen returns how many distinct (operation, status) pairs were checked.
func (v *Validator) Seen() (operations, answers int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, statuses := range v.seen {
		operations++
		answers += len(statuses)
	}
	return operations, answers
}
