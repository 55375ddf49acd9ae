package hub

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/store"
)

// Comment limits.
const (
	maxCommentBytes   = 2 << 10 // the body text, UTF-8
	maxArticleID      = 200
	maxCommentRequest = 8 << 10
)

// commentRequest is the body of POST /api/comments.
type commentRequest struct {
	ArticleID string `json:"article_id"`
	Body      string `json:"body"`
}

// commentJSON is a comment as the comment API shows it. The author's name
// and avatar are the remote profile's at read time, so a pulled change shows
// on old comments too.
type commentJSON struct {
	ID        int64      `json:"id"`
	Network   string     `json:"network"`
	ArticleID string     `json:"article_id"`
	Body      string     `json:"body"`
	CreatedAt time.Time  `json:"created_at"`
	Author    authorJSON `json:"author"`
}

type authorJSON struct {
	ID          string `json:"id"`
	JID         string `json:"jid"`
	DisplayName string `json:"display_name"`
	Avatar      string `json:"avatar"`
}

type commentList struct {
	Comments []commentJSON `json:"comments"`
	// LastID is the id to pass as after= to get only newer comments.
	LastID int64 `json:"last_id"`
}

// handleComments is the demo app's comment API:
//
//	POST /api/comments  Authorization: Bearer <token>  {"article_id","body"}
//	GET  /api/comments?network=&article_id=&after=
//
// The bearer token is the app-session token the auth API issued
// (data.token.value), not a userAuthToken or system token, and not one
// issued before the user's last gateway logout (verifySession). The body is plain text of at most 2 KiB. GET is public; both have CORS for
// app origins.
func (h *Handler) handleComments(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodOptions:
		h.cors.Preflight(w, r)
	case http.MethodPost:
		h.cors.Apply(w, r)
		h.postComment(w, r)
	default:
		h.cors.Apply(w, r)
		h.listComments(w, r)
	}
}

func (h *Handler) postComment(w http.ResponseWriter, r *http.Request) {
	token, _ := httpbase.BearerToken(r)
	n, claims, err := h.verifySession(r, token)
	if err != nil {
		h.errs.Write(w, r, err)
		return
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCommentRequest))
	if err != nil {
		h.errs.Write(w, r, err)
		return
	}
	var req commentRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		h.errs.Write(w, r, httpbase.Errorf(http.StatusBadRequest, "malformed_body", `the body must be a JSON object {"article_id":"…","body":"…"}`))
		return
	}
	if err := checkArticleID(req.ArticleID); err != nil {
		h.errs.Write(w, r, err)
		return
	}
	body := strings.TrimSpace(strings.ReplaceAll(req.Body, "\r\n", "\n"))
	if err := checkCommentBody(body); err != nil {
		h.errs.Write(w, r, err)
		return
	}
	c, err := h.store.CommentCreate(r.Context(), &store.Comment{
		Network: n.name, ArticleID: req.ArticleID, UserID: claims.UserID, Body: body, CreatedAt: h.cfg.Now(),
	})
	if err != nil {
		h.errs.Write(w, r, err)
		return
	}
	authors, err := h.store.RemoteProfileGetMany(r.Context(), n.name, []string{c.UserID})
	if err != nil {
		h.errs.Write(w, r, err)
		return
	}
	httpbase.WriteJSON(w, http.StatusCreated, toCommentJSON(c, authors))
}

func (h *Handler) listComments(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	network := q.Get("network")
	if network == "" && len(h.names) == 1 {
		network = h.names[0]
	}
	if network == "" {
		h.errs.Write(w, r, httpbase.Errorf(http.StatusBadRequest, "missing_network", "network is required: this hub serves several"))
		return
	}
	if h.networks[network] == nil {
		h.errs.Write(w, r, httpbase.Errorf(http.StatusNotFound, "unknown_network", "no network %q on this hub", network))
		return
	}
	articleID := q.Get("article_id")
	if err := checkArticleID(articleID); err != nil {
		h.errs.Write(w, r, err)
		return
	}
	var after int64
	if s := q.Get("after"); s != "" {
		var err error
		if after, err = strconv.ParseInt(s, 10, 64); err != nil || after < 0 {
			h.errs.Write(w, r, httpbase.Errorf(http.StatusBadRequest, "invalid_after", "after must be a comment id (a non-negative integer)"))
			return
		}
	}
	comments, err := h.store.CommentList(r.Context(), store.CommentListParams{Network: network, ArticleID: articleID, AfterID: after})
	if err != nil {
		h.errs.Write(w, r, err)
		return
	}
	var ids []string
	seen := map[string]bool{}
	for _, c := range comments {
		if !seen[c.UserID] {
			seen[c.UserID] = true
			ids = append(ids, c.UserID)
		}
	}
	authors := map[string]*store.RemoteProfile{}
	if len(ids) > 0 {
		if authors, err = h.store.RemoteProfileGetMany(r.Context(), network, ids); err != nil {
			h.errs.Write(w, r, err)
			return
		}
	}
	out := commentList{Comments: make([]commentJSON, 0, len(comments)), LastID: after}
	for _, c := range comments {
		out.Comments = append(out.Comments, toCommentJSON(c, authors))
		out.LastID = max(out.LastID, c.ID)
	}
	w.Header().Set("Cache-Control", "no-store")
	httpbase.WriteJSON(w, http.StatusOK, out)
}

func toCommentJSON(c *store.Comment, authors map[string]*store.RemoteProfile) commentJSON {
	a := authorJSON{ID: c.UserID, JID: c.UserID + "@" + c.Network, DisplayName: c.UserID}
	if rp := authors[c.UserID]; rp != nil {
		if rp.DisplayName != "" {
			a.DisplayName = rp.DisplayName
		}
		a.Avatar = rp.AvatarURL
	}
	return commentJSON{ID: c.ID, Network: c.Network, ArticleID: c.ArticleID, Body: c.Body, CreatedAt: c.CreatedAt.UTC(), Author: a}
}

var errBadArticleID = httpbase.Errorf(http.StatusBadRequest, "invalid_article_id",
	"article_id is required: 1 to 200 characters, no control characters")

func checkArticleID(id string) error {
	if id == "" || len(id) > maxArticleID || !utf8.ValidString(id) {
		return errBadArticleID
	}
	for _, r := range id {
		if unicode.IsControl(r) {
			return errBadArticleID
		}
	}
	return nil
}

func checkCommentBody(body string) error {
	switch {
	case body == "":
		return httpbase.Errorf(http.StatusBadRequest, "empty_comment", "the comment is empty")
	case len(body) > maxCommentBytes:
		return httpbase.Errorf(http.StatusRequestEntityTooLarge, "comment_too_long", "the comment is longer than %d bytes", maxCommentBytes)
	case !utf8.ValidString(body):
		return httpbase.Errorf(http.StatusBadRequest, "invalid_comment", "the comment is not valid UTF-8")
	}
	for _, r := range body {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return httpbase.Errorf(http.StatusBadRequest, "invalid_comment", "the comment contains control characters")
		}
	}
	return nil
}
