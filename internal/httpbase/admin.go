package httpbase

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"mime"
	"net/http"
)

// AdminConfig configures NewAdmin.
type AdminConfig struct {
	// Token is the admin token. Required: a server without one does not
	// mount its admin routes at all.
	Token string
	// Realm names the server in WWW-Authenticate. Default "ssogate admin".
	Realm string
	// TrustedOrigins are origins ("https://sso.example.com") whose unsafe
	// requests pass besides the request's own (Origin host equal to Host):
	// the public URL behind a proxy that rewrites Host. Default none.
	TrustedOrigins []string
}

// Admin guards a server's admin surfaces (admin API, River UI, the hub's
// users page). Create it with NewAdmin and wrap handlers with Middleware.
type Admin struct {
	realm string
	key   [sha256.Size]byte
	cop   *http.CrossOriginProtection
}

// NewAdmin checks cfg and returns the guard.
func NewAdmin(cfg AdminConfig) (*Admin, error) {
	if cfg.Token == "" {
		return nil, errors.New("httpbase: admin: a token is required")
	}
	if cfg.Realm == "" {
		cfg.Realm = "ssogate admin"
	}
	a := &Admin{realm: cfg.Realm, key: sha256.Sum256([]byte(cfg.Token)), cop: http.NewCrossOriginProtection()}
	var errs []error
	for _, o := range cfg.TrustedOrigins {
		if err := a.cop.AddTrustedOrigin(o); err != nil {
			errs = append(errs, fmt.Errorf("httpbase: admin: trusted origin: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	a.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		WriteError(w, http.StatusForbidden, "cross_origin", "cross-origin requests to admin routes are refused")
	}))
	return a, nil
}

// Middleware lets a request through to next when it is not cross-site and
// carries the admin token, as a bearer token or as the Basic password (any
// user name; browsers log in to the River UI that way). In that order it:
//
//   - sets X-Frame-Options: DENY and Content-Security-Policy
//     frame-ancestors 'none' on every answer (FrameHeaders);
//   - refuses unsafe methods from another origin with 403 cross_origin
//     (net/http's CrossOriginProtection: Sec-Fetch-Site cross-site or
//     same-site, or without it an Origin whose host is not Host);
//   - refuses cross-site subresource requests of safe methods (Sec-Fetch-Site
//     cross-site or same-site and not a top-level navigation) with 403
//     cross_origin, so another site cannot probe admin pages through images,
//     scripts or no-cors fetches carrying the browser's Basic credentials;
//   - answers 401 unauthorized with Bearer and Basic challenges when the
//     token is missing or wrong. The comparison is constant-time over
//     SHA-256 hashes, so neither the token nor its length leaks.
func (a *Admin) Middleware(next http.Handler) http.Handler {
	protected := a.cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if crossSiteSubresource(r) {
			WriteError(w, http.StatusForbidden, "cross_origin", "cross-origin requests to admin routes are refused")
			return
		}
		if !a.Authorized(r) {
			w.Header().Add("WWW-Authenticate", `Bearer realm="`+a.realm+`"`)
			w.Header().Add("WWW-Authenticate", `Basic realm="`+a.realm+`", charset="UTF-8"`)
			WriteError(w, http.StatusUnauthorized, "unauthorized", "the admin token is missing or wrong")
			return
		}
		next.ServeHTTP(w, r)
	}))
	return FrameHeaders(protected)
}

// Authorized reports whether r carries the admin token (bearer, or the
// Basic password).
func (a *Admin) Authorized(r *http.Request) bool {
	presented, ok := "", false
	if token, found := BearerToken(r); found {
		presented, ok = token, true
	} else if _, password, found := r.BasicAuth(); found {
		presented, ok = password, true
	}
	sum := sha256.Sum256([]byte(presented))
	return ok && presented != "" && subtle.ConstantTimeCompare(sum[:], a.key[:]) == 1
}

// crossSiteSubresource reports a safe-method request another site made
// other than by navigating to the page (fetch metadata's resource isolation
// policy). Unsafe methods are CrossOriginProtection's.
func crossSiteSubresource(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		return false
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
	default:
		return false
	}
	navigation := r.Header.Get("Sec-Fetch-Mode") == "navigate" && r.Method != http.MethodOptions &&
		(r.Header.Get("Sec-Fetch-Dest") == "document" || r.Header.Get("Sec-Fetch-Dest") == "")
	return !navigation
}

// RequireJSON is middleware that answers 415 unsupported_media_type to a
// request of an unsafe method (anything but GET, HEAD and OPTIONS) whose
// Content-Type is not application/json, whether it has a body or not: a
// cross-site HTML form cannot send that type, and a script that does needs a
// CORS preflight, which admin routes never grant.
func RequireJSON(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			if !IsJSONContentType(r.Header.Get("Content-Type")) {
				WriteError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "Content-Type must be application/json")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// IsJSONContentType reports whether a Content-Type header value is
// application/json (parameters such as charset allowed).
func IsJSONContentType(v string) bool {
	mt, _, err := mime.ParseMediaType(v)
	return err == nil && mt == "application/json"
}
