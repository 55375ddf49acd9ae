package httpbase

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// NormalizeOrigin returns the serialized origin of s (lowercase scheme and
// host, default port dropped) or an error when s is not exactly an http or
// https origin.
func NormalizeOrigin(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", errors.New("scheme must be http or https")
	}
	if u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", errors.New("only scheme, host and port are allowed")
	}
	return OriginOf(u), nil
}

// OriginOf serializes the origin of an absolute URL.
func OriginOf(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host
}

// CORSMode says what a CORS policy does with a request whose Origin it
// does not allow. A preflight (OPTIONS) from such an origin is refused
// with 403 origin_not_allowed in every mode.
type CORSMode int

const (
	// CORSRefuse answers a request from a non-allowed Origin with 403
	// origin_not_allowed, before its handler runs. A request without an
	// Origin is not a browser's cross-origin request: it is served (an
	// OPTIONS gets 204 with no CORS headers).
	CORSRefuse CORSMode = iota
	// CORSServe serves a request from a non-allowed Origin, or without one,
	// with no CORS headers, so a browser keeps the answer from the page
	// (simple requests stay lenient). A preflight without an allowed Origin
	// is refused.
	CORSServe
)

// CORSConfig configures NewCORS.
type CORSConfig struct {
	// Origins are the allowed origins, normalised (NormalizeOrigin); an
	// entry that is not an origin is ignored, except "*", which sets
	// AnyOrigin.
	Origins []string
	// AnyOrigin allows every origin; the answer echoes the request's Origin.
	AnyOrigin bool
	// Wildcard answers "Access-Control-Allow-Origin: *" to every request,
	// with or without an Origin, for public resources read without
	// credentials (scripts, images). It implies AnyOrigin.
	Wildcard bool
	// Methods, Headers and MaxAge are a preflight's
	// Access-Control-Allow-Methods, -Allow-Headers and -Max-Age (whole
	// seconds). Default: none sent.
	Methods []string
	Headers []string
	MaxAge  time.Duration
	// ExposeHeaders is Access-Control-Expose-Headers of every allowed
	// answer. Default: none sent.
	ExposeHeaders []string
	// Mode is what happens to a non-allowed Origin. Default: CORSRefuse.
	Mode CORSMode
	// Refusal is the message of the 403 origin_not_allowed. Default: "this
	// origin is not allowed".
	Refusal string
}

// CORS is one cross-origin policy. It never allows credentials: the APIs
// behind it authenticate with bearer headers, not cookies.
type CORS struct {
	cfg     CORSConfig
	origins map[string]bool
	methods string
	headers string
	expose  string
	maxAge  string
}

// NewCORS builds the policy.
func NewCORS(cfg CORSConfig) *CORS {
	c := &CORS{cfg: cfg, origins: map[string]bool{}}
	for _, o := range cfg.Origins {
		if o == "*" {
			c.cfg.AnyOrigin = true
			continue
		}
		if n, err := NormalizeOrigin(o); err == nil {
			c.origins[n] = true
		}
	}
	if cfg.Wildcard {
		c.cfg.AnyOrigin = true
	}
	if c.cfg.Refusal == "" {
		c.cfg.Refusal = "this origin is not allowed"
	}
	c.methods = strings.Join(cfg.Methods, ", ")
	c.headers = strings.Join(cfg.Headers, ", ")
	c.expose = strings.Join(cfg.ExposeHeaders, ", ")
	if cfg.MaxAge > 0 {
		c.maxAge = strconv.FormatInt(int64(cfg.MaxAge/time.Second), 10)
	}
	return c
}

// Allowed reports whether the serialized origin o is allowed.
func (c *CORS) Allowed(o string) bool {
	if o == "" {
		return false
	}
	if c.cfg.AnyOrigin {
		return true
	}
	n, err := NormalizeOrigin(o)
	return err == nil && c.origins[n]
}

// Apply sets the CORS headers of r's answer, the preflight's too when r is
// an OPTIONS, and reports whether r's Origin is allowed. It answers
// nothing: a handler that serves both allowed and other origins (CORSServe)
// calls it and goes on.
func (c *CORS) Apply(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	origin := r.Header.Get("Origin")
	if c.cfg.Wildcard {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Add("Vary", "Origin")
		if !c.Allowed(origin) {
			return false
		}
		h.Set("Access-Control-Allow-Origin", origin)
	}
	if c.expose != "" {
		h.Set("Access-Control-Expose-Headers", c.expose)
	}
	if r.Method == http.MethodOptions {
		if c.methods != "" {
			h.Set("Access-Control-Allow-Methods", c.methods)
		}
		if c.headers != "" {
			h.Set("Access-Control-Allow-Headers", c.headers)
		}
		if c.maxAge != "" {
			h.Set("Access-Control-Max-Age", c.maxAge)
		}
	}
	return true
}

// Preflight answers an OPTIONS request: 204 with the CORS headers for an
// allowed Origin, 403 origin_not_allowed for another (and, in CORSServe
// mode, for none), 204 without CORS headers for none in CORSRefuse mode.
func (c *CORS) Preflight(w http.ResponseWriter, r *http.Request) {
	if !c.Apply(w, r) && (c.cfg.Mode == CORSServe || r.Header.Get("Origin") != "") {
		c.refuse(w)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (c *CORS) refuse(w http.ResponseWriter) {
	WriteError(w, http.StatusForbidden, "origin_not_allowed", c.cfg.Refusal)
}

// Handler applies the policy around next: it answers preflights
// (Preflight), refuses a non-allowed Origin in CORSRefuse mode, and
// otherwise serves next with the CORS headers that apply.
func (c *CORS) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			c.Preflight(w, r)
			return
		}
		if !c.Apply(w, r) && c.cfg.Mode == CORSRefuse && r.Header.Get("Origin") != "" {
			c.refuse(w)
			return
		}
		next.ServeHTTP(w, r)
	})
}
