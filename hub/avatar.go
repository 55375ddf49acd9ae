package hub

import (
	"bytes"
	"net/http"
	"strings"
	"time"
)

// defaultAvatarPath is where the hub serves its built-in default avatar.
const defaultAvatarPath = "/avatar/default.svg"

// defaultAvatarSVG is a neutral head-and-shoulders silhouette.
var defaultAvatarSVG = []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="50" height="50" viewBox="0 0 50 50">` +
	`<rect width="50" height="50" fill="#d6d9de"/>` +
	`<circle cx="25" cy="19" r="9" fill="#f5f6f7"/>` +
	`<path d="M8 50c0-10 8-17 17-17s17 7 17 17z" fill="#f5f6f7"/></svg>` + "\n")

// avatarURL is the user's image, or the default avatar: the configured
// one, else the hub's own at the URL the request reached the hub by.
func (h *Handler) avatarURL(r *http.Request, image string) string {
	if image != "" {
		return image
	}
	if h.cfg.DefaultAvatarURL != "" {
		return h.cfg.DefaultAvatarURL
	}
	return requestBase(r) + defaultAvatarPath
}

// requestBase is scheme://host of the hub as the client reached it. Behind
// a TLS-terminating proxy X-Forwarded-Proto says https; a client that
// forges it only changes the avatar URL in its own answer.
func requestBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (h *Handler) handleDefaultAvatar(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	publicCORS.Apply(w, r)
	http.ServeContent(w, r, "default.svg", time.Time{}, bytes.NewReader(defaultAvatarSVG))
}
