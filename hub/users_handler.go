package hub

import (
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/tokens"
)

// usersPerPage is the users page's page size.
const usersPerPage = 50

// usersPageCSP is the users page's content security policy.
const usersPageCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src http: https:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// pageFuncs are the templates' helpers.
var pageFuncs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	// avatar lets only http(s) image URLs into src attributes.
	"avatar": func(s string) string {
		if u, err := url.Parse(s); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
			return s
		}
		return ""
	},
	"join":    strings.Join,
	"pending": pending,
}

// usersPage is the data of hub/users.html.
type usersPage struct {
	Networks []string
	Network  string
	Query    string
	Users    []*store.RemoteProfile
	Total    int
	Page     int
	Pages    int
	PrevURL  string
	NextURL  string
}

// pending reports whether pings arrived that no pull has answered yet.
func pending(rp *store.RemoteProfile) bool { return rp.PingSeq > rp.PulledSeq }

// handleUsersPage is GET /users?network=&q=&page=: a network's remote
// profiles, 50 a page, filtered by user id prefix. Mount puts it behind
// the admin guard.
func (h *Handler) handleUsersPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	data := usersPage{Networks: h.names, Network: q.Get("network"), Query: q.Get("q"), Page: 1}
	if data.Network == "" {
		data.Network = h.names[0]
	}
	if h.networks[data.Network] == nil {
		h.errs.Write(w, r, httpbase.Errorf(http.StatusNotFound, "unknown_network", "no network %q on this hub", data.Network))
		return
	}
	if len(data.Query) > 255 {
		h.errs.Write(w, r, httpbase.Errorf(http.StatusBadRequest, "invalid_query", "the search is longer than 255 characters"))
		return
	}
	if p := q.Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 1_000_000 {
			h.errs.Write(w, r, httpbase.Errorf(http.StatusBadRequest, "invalid_page", "page must be a positive number"))
			return
		}
		data.Page = n
	}
	users, total, err := h.store.RemoteProfileList(r.Context(), store.RemoteProfileListParams{
		Network: data.Network, Query: data.Query, Offset: (data.Page - 1) * usersPerPage, Limit: usersPerPage,
	})
	if err != nil {
		h.errs.Write(w, r, err)
		return
	}
	data.Users, data.Total = users, total
	data.Pages = max(1, (total+usersPerPage-1)/usersPerPage)
	link := func(page int) string {
		v := url.Values{"network": {data.Network}, "page": {strconv.Itoa(page)}}
		if data.Query != "" {
			v.Set("q", data.Query)
		}
		return "?" + v.Encode()
	}
	if data.Page > 1 {
		data.PrevURL = link(data.Page - 1)
	}
	if data.Page < data.Pages {
		data.NextURL = link(data.Page + 1)
	}
	h.renderAdminPage(w, r, "users.html", data)
}

// renderAdminPage writes one of the hub's admin HTML pages: no script,
// inline styles, avatars from anywhere over http(s), never cached or framed.
func (h *Handler) renderAdminPage(w http.ResponseWriter, r *http.Request, name string, data any) {
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("Content-Security-Policy", usersPageCSP)
	hdr.Set("X-Frame-Options", "DENY")
	if err := h.pages.ExecuteTemplate(w, name, data); err != nil {
		h.log.ErrorContext(r.Context(), "hub: render page", "page", name, "error", err)
	}
}

// remoteProfileAt reads the remote profile a /…/{network}/…/{id} route
// names, or answers 404 (unknown network or user) or 400 (bad id) and
// reports false.
func (h *Handler) remoteProfileAt(w http.ResponseWriter, r *http.Request) (*store.RemoteProfile, bool) {
	network, userID := httpbase.PathValue(r, "network"), httpbase.PathValue(r, "id")
	if h.networks[network] == nil {
		h.errs.Write(w, r, httpbase.Errorf(http.StatusNotFound, "unknown_network", "no network %q on this hub", network))
		return nil, false
	}
	if !tokens.ValidUserID(userID) {
		h.errs.Write(w, r, httpbase.Errorf(http.StatusBadRequest, "invalid_user_id", "the user id must match ^[a-zA-Z0-9_.-]+$"))
		return nil, false
	}
	rp, err := h.store.RemoteProfileGet(r.Context(), network, userID)
	if errors.Is(err, store.ErrNotFound) {
		h.errs.Write(w, r, httpbase.Errorf(http.StatusNotFound, "unknown_user", "the hub has never seen %s@%s", userID, network))
		return nil, false
	}
	if err != nil {
		h.errs.Write(w, r, err)
		return nil, false
	}
	return rp, true
}

// userJSON is one remote profile in the users JSON API.
type userJSON struct {
	Network        string          `json:"network"`
	UserID         string          `json:"user_id"`
	JID            string          `json:"jid"`
	Status         string          `json:"status"`
	DisplayName    string          `json:"display_name"`
	AvatarURL      string          `json:"avatar_url"`
	Profile        json.RawMessage `json:"profile"`
	Pending        bool            `json:"pending"`
	PingSeq        int64           `json:"ping_seq"`
	PulledSeq      int64           `json:"pulled_seq"`
	PingReceivedAt *time.Time      `json:"ping_received_at"`
	LastPullAt     *time.Time      `json:"last_pull_at"`
	LastPullResult string          `json:"last_pull_result"`
	LastChanged    []string        `json:"last_changed"`
	FirstSeenAt    *time.Time      `json:"first_seen_at"`
	UpdatedAt      *time.Time      `json:"updated_at"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// handleUserJSON is GET /api/networks/{network}/users/{id}, behind the
// admin guard.
func (h *Handler) handleUserJSON(w http.ResponseWriter, r *http.Request) {
	rp, ok := h.remoteProfileAt(w, r)
	if !ok {
		return
	}
	profile := rp.Data
	if len(profile) == 0 {
		profile = json.RawMessage("null")
	}
	changed := rp.LastChanged
	if changed == nil {
		changed = []string{}
	}
	httpbase.WriteJSON(w, http.StatusOK, userJSON{
		Network: rp.Network, UserID: rp.UserID, JID: rp.UserID + "@" + rp.Network,
		Status: string(rp.Status), DisplayName: rp.DisplayName, AvatarURL: rp.AvatarURL, Profile: profile,
		Pending: pending(rp), PingSeq: rp.PingSeq, PulledSeq: rp.PulledSeq,
		PingReceivedAt: timePtr(rp.PingReceivedAt), LastPullAt: timePtr(rp.LastPullAt),
		LastPullResult: rp.LastPullResult, LastChanged: changed,
		FirstSeenAt: timePtr(rp.FirstSeenAt), UpdatedAt: timePtr(rp.UpdatedAt),
	})
}
