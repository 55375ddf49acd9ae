package hub

import (
	"crypto/md5" //nolint:gosec // Livefyre's checksum is MD5; it is compared, not trusted
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/tokens"
)

// maxCollectionRequest bounds a collection API body.
const maxCollectionRequest = 64 << 10

// collectionTypes are Livefyre's collection types.
var collectionTypes = map[string]bool{
	"counting": true, "liveblog": true, "livechat": true, "livecomments": true,
	"ratings": true, "reviews": true, "sidenotes": true,
}

// collectionRequest is the body Livefyre's libraries post.
type collectionRequest struct {
	ArticleID      string `json:"articleId"`
	CollectionMeta string `json:"collectionMeta"`
	Checksum       string `json:"checksum"`
}

var (
	errCollectionMeta = httpbase.Errorf(http.StatusForbidden, "collection_meta_invalid",
		"collectionMeta must be an HS256 token of a configured site (iss urn:livefyre:{network}:site={id}), signed with its site key")
	errCollectionExists = httpbase.Errorf(http.StatusConflict, "collection_exists",
		"the site already has a collection for this article; update it instead")
	errCollectionMissing = httpbase.Errorf(http.StatusNotFound, "collection_not_found",
		"the site has no collection for this article; create it first")
)

// handleCollection is Livefyre's collection API:
// POST /api/v3.0/site/{siteId}/collection/{create|update}/ with
// {"articleId", "collectionMeta", "checksum"} (what the Node library's
// collection.createOrUpdate sends). The collectionMeta token is verified
// with the site's key (the network's when its iss is the network), its
// articleId must be the body's and the checksum must be Livefyre's MD5 of
// the collection's fields. Create answers 409 for an existing article, and
// update 404 for a missing one; both answer
// {"status":"ok","code":200,"data":{"collectionId":"…"}}.
func (h *Handler) handleCollection(w http.ResponseWriter, r *http.Request) {
	action := httpbase.PathValue(r, "action")
	if action != "create" && action != "update" {
		h.errs.Write(w, r, httpbase.Errorf(http.StatusNotFound, "not_found", "the collection API has create and update"))
		return
	}
	c, err := h.collectionFromRequest(w, r)
	if err != nil {
		h.errs.Write(w, r, err)
		return
	}
	c.UpdatedAt = h.cfg.Now()
	var saved *store.Collection
	if action == "create" {
		saved, err = h.store.CollectionCreate(r.Context(), c)
		if errors.Is(err, store.ErrConflict) {
			err = errCollectionExists
		}
	} else {
		saved, err = h.store.CollectionUpdate(r.Context(), c)
		if errors.Is(err, store.ErrNotFound) {
			err = errCollectionMissing
		}
	}
	if err != nil {
		h.errs.Write(w, r, err)
		return
	}
	h.log.InfoContext(r.Context(), "hub: collection "+action+"d", "network", saved.Network, "site_id", saved.SiteID,
		"collection_id", saved.ID)
	httpbase.WriteJSON(w, http.StatusOK, map[string]any{
		"status": "ok", "code": http.StatusOK,
		"data": map[string]string{"collectionId": strconv.FormatInt(saved.ID, 10)},
	})
}

// collectionFromRequest reads and verifies a collection API request.
func (h *Handler) collectionFromRequest(w http.ResponseWriter, r *http.Request) (*store.Collection, error) {
	siteID := httpbase.PathValue(r, "siteId")
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCollectionRequest))
	if err != nil {
		return nil, err
	}
	var req collectionRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		// Livefyre's older libraries post a form.
		if vals, ferr := url.ParseQuery(string(raw)); ferr == nil && vals.Get("collectionMeta") != "" {
			req = collectionRequest{ArticleID: vals.Get("articleId"), CollectionMeta: vals.Get("collectionMeta"), Checksum: vals.Get("checksum")}
		} else {
			return nil, httpbase.Errorf(http.StatusBadRequest, "invalid_body", "the body must be JSON {articleId, collectionMeta, checksum}")
		}
	}
	if req.ArticleID == "" || req.CollectionMeta == "" || req.Checksum == "" {
		return nil, httpbase.Errorf(http.StatusBadRequest, "invalid_body", "articleId, collectionMeta and checksum are required")
	}
	network, fields, err := h.verifyCollectionMeta(siteID, req.CollectionMeta)
	if err != nil {
		return nil, err
	}
	if metaString(fields["articleId"]) != req.ArticleID {
		return nil, httpbase.Errorf(http.StatusBadRequest, "article_mismatch", "the body's articleId is not the collectionMeta's")
	}
	want := collectionChecksum(fields)
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(req.Checksum)), []byte(want)) != 1 {
		return nil, httpbase.Errorf(http.StatusBadRequest, "checksum_mismatch", "checksum is not the MD5 of the collection's fields")
	}
	c := &store.Collection{Network: network, SiteID: siteID, ArticleID: req.ArticleID,
		Title: metaString(fields["title"]), URL: metaString(fields["url"]), Type: strings.ToLower(metaString(fields["type"]))}
	if c.Title == "" || len(c.Title) > 255 || c.URL == "" || !collectionTypes[c.Type] {
		return nil, httpbase.Errorf(http.StatusBadRequest, "invalid_collection",
			"title (at most 255 characters), url and a Livefyre type (livecomments, reviews, …) are required")
	}
	return c, nil
}

// verifyCollectionMeta checks the collectionMeta token of a site and
// returns the network and the token's fields, raw JSON.
func (h *Handler) verifyCollectionMeta(siteID, token string) (string, map[string]json.RawMessage, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", nil, errCollectionMeta
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return "", nil, errCollectionMeta
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(payload, &fields); err != nil {
		return "", nil, errCollectionMeta
	}
	// The issuer names the network (and site): unverified until the
	// signature checks with that site's key.
	iss := strings.TrimPrefix(metaString(fields["iss"]), "urn:livefyre:")
	network, site, hasSite := strings.Cut(iss, ":site=")
	var key string
	if hasSite {
		if site != siteID {
			return "", nil, errCollectionMeta
		}
		sc, ok := h.site(network, siteID)
		if !ok {
			return "", nil, errCollectionMeta
		}
		key = sc.Key
	} else {
		// Network-issued (topics of the network): the network key signs.
		nc, ok := h.networkConfig(network)
		if _, known := h.site(network, siteID); !ok || !known {
			return "", nil, errCollectionMeta
		}
		key = nc.Key
	}
	_, err = jwt.Parse(token, func(*jwt.Token) (any, error) { return []byte(key), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(h.cfg.Now))
	if err != nil {
		return "", nil, errCollectionMeta
	}
	return network, fields, nil
}

// collectionChecksum is Livefyre's checksum of a collection: the MD5 (hex)
// of the string its libraries build by hand from the fields, in this
// order, values unescaped: articleId, extensions, tags, title, topics
// (as JSON), type, url; extensions, tags and topics only when set.
func collectionChecksum(fields map[string]json.RawMessage) string {
	var b strings.Builder
	b.WriteString(`{"articleId":"` + metaString(fields["articleId"]) + `","`)
	if v := metaString(fields["extensions"]); v != "" {
		b.WriteString(`extensions":"` + v + `","`)
	}
	if v := metaString(fields["tags"]); v != "" {
		b.WriteString(`tags":"` + v + `","`)
	}
	b.WriteString(`title":"` + metaString(fields["title"]) + `","`)
	if t := fields["topics"]; len(t) > 0 && string(t) != "null" && string(t) != "[]" {
		b.WriteString(`topics":"` + string(t) + `","`)
	}
	b.WriteString(`type":"` + metaString(fields["type"]) + `","url":"` + metaString(fields["url"]) + `"}`)
	sum := md5.Sum([]byte(b.String())) //nolint:gosec // Livefyre's checksum
	return hex.EncodeToString(sum[:])
}

// metaString is a JSON string's value, a number's text, or "".
func metaString(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// handleCollectionModerator makes a user a moderator of a collection (PUT)
// or no longer one (DELETE): PUT|DELETE
// /api/networks/{network}/collections/{id}/moderators/{user}. Mounted with
// an admin token only, behind the admin middleware.
func (h *Handler) handleCollectionModerator(w http.ResponseWriter, r *http.Request) {
	network := httpbase.PathValue(r, "network")
	if _, ok := h.networks[network]; !ok {
		h.errs.Write(w, r, httpbase.Errorf(http.StatusNotFound, "unknown_network", "the hub does not serve network %q", network))
		return
	}
	id, err := strconv.ParseInt(httpbase.PathValue(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		h.errs.Write(w, r, httpbase.Errorf(http.StatusBadRequest, "invalid_collection_id", "the collection id is a positive number"))
		return
	}
	user := httpbase.PathValue(r, "user")
	if !tokens.ValidUserID(user) || tokens.IsReservedUserID(user) {
		h.errs.Write(w, r, httpbase.Errorf(http.StatusBadRequest, "invalid_user_id", "%q is not a user id", user))
		return
	}
	err = h.store.CollectionModeratorSet(r.Context(), network, id, user, r.Method == http.MethodPut)
	if errors.Is(err, store.ErrNotFound) {
		err = httpbase.Errorf(http.StatusNotFound, "collection_not_found", "the network has no collection %d", id)
	}
	if err != nil {
		h.errs.Write(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// collectionAnswer adds the collection part of the auth API's answer
// (collection_id, permissions, modScopes.sites and .collections) for the
// user, when the request names a site and an article.
func (h *Handler) collectionAnswer(r *http.Request, n *network, userID string, moderatorAnywhere bool, data *authData) error {
	ctx := r.Context()
	data.ModScopes.Sites = h.moderatedSites(n.name, userID)
	ids, err := h.store.CollectionModeratorList(ctx, n.name, userID)
	if err != nil {
		return fmt.Errorf("hub: list moderated collections: %w", err)
	}
	for _, id := range ids {
		data.ModScopes.Collections = append(data.ModScopes.Collections, strconv.FormatInt(id, 10))
	}
	q := r.URL.Query()
	siteID, article := q.Get("siteId"), q.Get("articleId")
	if siteID == "" || article == "" {
		return nil
	}
	articleID, err := decodeArticleID(article)
	if err != nil {
		return httpbase.Errorf(http.StatusBadRequest, "invalid_article_id", "articleId must be base64")
	}
	if _, ok := h.site(n.name, siteID); !ok {
		return nil
	}
	c, err := h.store.CollectionGet(ctx, n.name, siteID, articleID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("hub: read collection: %w", err)
	}
	cid := strconv.FormatInt(c.ID, 10)
	aKey, err := h.collectionKey(n.name, c.ID, "author", userID)
	if err != nil {
		return err
	}
	perms := &permissions{Authors: []authorKey{{ID: userID + "@" + n.name, Key: aKey}}}
	if moderatorAnywhere || slices.Contains(data.ModScopes.Sites, siteID) || slices.Contains(data.ModScopes.Collections, cid) {
		if perms.ModeratorKey, err = h.collectionKey(n.name, c.ID, "moderator", ""); err != nil {
			return err
		}
	}
	data.CollectionID = cid
	data.Permissions = perms
	return nil
}

// decodeArticleID reverses Livefyre's base64 of the article id (standard
// or URL alphabet, padded or not).
func decodeArticleID(s string) (string, error) {
	s = strings.TrimRight(s, "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) > 0 {
			return string(b), nil
		}
	}
	return "", errors.New("hub: articleId is not base64")
}

// permissions is data.permissions of a collection answer.
type permissions struct {
	ModeratorKey string      `json:"moderator_key,omitempty"`
	Authors      []authorKey `json:"authors"`
}

type authorKey struct {
	ID  string `json:"id"`
	Key string `json:"key"`
}
