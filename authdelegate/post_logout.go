package authdelegate

import (
	"net/http"
	"net/url"

	"github.com/ssogate/ssogate/internal/httpbase"
)

// postLogoutPath is the gateway's own post-logout page, for providers that
// accept post_logout_redirect_uri only on a registered redirect URI's
// origin (Ory Hydra): the provider returns the reader there with the
// site page in state, and the page sends them on.
const postLogoutPath = "/logged-out"

// allowedReturn reports whether raw is an absolute http(s) URL without
// credentials on an allowed site origin (never an open redirect).
func (h *Handler) allowedReturn(raw string) (*url.URL, bool) {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.User != nil || u.Opaque != "" || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, false
	}
	return u, h.origins[httpbase.OriginOf(u)]
}

// handlePostLogout answers GET /logged-out?state=SITE_PAGE: a 303 to the
// site page when it is on an allowed origin, else a page saying the reader
// is signed out. It changes nothing: the session ended before the reader
// went to the provider.
func (h *Handler) handlePostLogout(w http.ResponseWriter, r *http.Request) {
	if u, ok := h.allowedReturn(r.URL.Query().Get("state")); ok {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Referrer-Policy", "no-referrer")
		http.Redirect(w, r, u.String(), http.StatusSeeOther)
		return
	}
	h.renderPage(w, http.StatusOK, pageData{
		Title:   "Signed out",
		Message: "You are signed out. You can close this window or go back to the site.",
	})
}
