// Package demosite is the demo website of `ssogate demo`: "a news site" with
// an article page that embeds the app (the hub's auth.js and comment stream,
// the gateway's authdelegate.js), a profile page where the signed-in user
// edits display name, avatar and bio, and a first-run page. Its backend does
// what a real site backend does on a profile change: it saves the profile in
// the user management system (the development OpenID provider) and calls the
// gateway's profile-changed webhook, signed per Standard Webhooks.
package demosite

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/tokens"
	"github.com/ssogate/ssogate/web"
)

// Avatars are the bundled avatar images a user can pick.
var Avatars = []string{"fox", "owl", "cat", "bee"}

// maxBioLength bounds the bio a user may save.
const maxBioLength = 500

// Profile is what the profile page edits (DisplayName, Avatar, Bio) plus
// what the user store knows besides (Email, FirstName, LastName), which the
// webhook carries so that the gateway's copy is the whole profile.
type Profile struct {
	DisplayName string `json:"display_name"`
	Avatar      string `json:"avatar"`
	Bio         string `json:"bio"`
	Email       string `json:"email,omitempty"`
	FirstName   string `json:"first_name,omitempty"`
	LastName    string `json:"last_name,omitempty"`
}

// edit is the body of POST /api/profile.
type edit struct {
	DisplayName string `json:"display_name"`
	Avatar      string `json:"avatar"`
	Bio         string `json:"bio"`
}

// Config configures the demo site. Every URL is an absolute base without a
// trailing slash.
type Config struct {
	// SiteURL is where this site is served (e.g. http://localhost:8080).
	SiteURL string
	// GatewayURL, HubURL and IdentityURL are the other boxes of the demo.
	GatewayURL  string
	HubURL      string
	IdentityURL string
	// Network is the Livefyre network name (e.g. demo.fyre.co).
	Network string
	// Tokens verifies the userAuthTokens the profile page sends: the site
	// trusts what its own gateway minted with its network key.
	Tokens *tokens.Codec
	// WebhookSecret signs calls to the gateway's webhook (whsec_…).
	WebhookSecret string
	// LoadProfileFunc returns the stored profile of a user; SaveProfileFunc
	// stores a changed one. Both talk to the user management system.
	LoadProfileFunc func(ctx context.Context, userID string) (Profile, error)
	SaveProfileFunc func(ctx context.Context, userID string, p Profile) error
	// HTTPClient calls the webhook. Default: a client with a 10s timeout.
	HTTPClient *http.Client
	// Logger receives the site's logs. Default: discard.
	Logger *slog.Logger
	// Now defaults to time.Now.
	Now func() time.Time
}

// WithDefaults returns a copy of c with defaults filled in.
func (c Config) WithDefaults() Config {
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

func (c Config) validate() error {
	var errs []error
	for name, v := range map[string]string{"SiteURL": c.SiteURL, "GatewayURL": c.GatewayURL, "HubURL": c.HubURL, "IdentityURL": c.IdentityURL, "Network": c.Network, "WebhookSecret": c.WebhookSecret} {
		if v == "" {
			errs = append(errs, fmt.Errorf("demosite: %s is required", name))
		}
	}
	if c.Tokens == nil {
		errs = append(errs, errors.New("demosite: Tokens is required"))
	}
	if c.LoadProfileFunc == nil || c.SaveProfileFunc == nil {
		errs = append(errs, errors.New("demosite: LoadProfileFunc and SaveProfileFunc are required"))
	}
	return errors.Join(errs...)
}

// Handler serves the demo site.
type Handler struct {
	cfg     Config
	webhook *standardwebhooks.Webhook
	pages   *template.Template
	static  http.Handler
}

// New builds the site.
func New(cfg Config) (*Handler, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	wh, err := standardwebhooks.NewWebhook(cfg.WebhookSecret)
	if err != nil {
		return nil, fmt.Errorf("demosite: webhook secret: %w", err)
	}
	pages, err := template.ParseFS(web.Demo, "demo/*.html")
	if err != nil {
		return nil, fmt.Errorf("demosite: templates: %w", err)
	}
	sub, err := fs.Sub(web.Demo, "demo")
	if err != nil {
		return nil, fmt.Errorf("demosite: assets: %w", err)
	}
	return &Handler{cfg: cfg, webhook: wh, pages: pages, static: http.FileServerFS(sub)}, nil
}

// Mount adds the site's routes.
func (h *Handler) Mount(r httpbase.Routes) {
	r.Handle("/", h.page("index.html"), http.MethodGet)
	r.Handle("/article", h.page("article.html"), http.MethodGet)
	r.Handle("/profile", h.page("profile.html"), http.MethodGet)
	r.Handle("/api/profile", http.HandlerFunc(h.getProfile), http.MethodGet)
	r.Handle("/api/profile", http.HandlerFunc(h.putProfile), http.MethodPost)
	r.HandlePrefix("/avatars/", h.static, http.MethodGet)
	r.HandlePrefix("/static/", h.static, http.MethodGet)
}

// PageCSP is the content security policy of the site's pages.
const PageCSP = "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

type pageData struct {
	SiteURL, GatewayURL, HubURL, IdentityURL, Network string
	Avatars                                           []string
}

func (h *Handler) page(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		err := h.pages.ExecuteTemplate(&buf, name, pageData{
			SiteURL: h.cfg.SiteURL, GatewayURL: h.cfg.GatewayURL, HubURL: h.cfg.HubURL,
			IdentityURL: h.cfg.IdentityURL, Network: h.cfg.Network, Avatars: Avatars,
		})
		if err != nil {
			h.cfg.Logger.ErrorContext(r.Context(), "demosite: render", "page", name, "error", err)
			httpbase.WriteError(w, http.StatusInternalServerError, "internal", "internal error")
			return
		}
		hdr := w.Header()
		hdr.Set("Content-Type", "text/html; charset=utf-8")
		hdr.Set("Cache-Control", "no-store")
		hdr.Set("X-Content-Type-Options", "nosniff")
		// The pages run inline scripts and load the hub's and the gateway's,
		// so the policy only forbids framing, plugins and a moved base.
		hdr.Set("Content-Security-Policy", PageCSP)
		hdr.Set("X-Frame-Options", "DENY")
		_, _ = w.Write(buf.Bytes())
	}
}

// user verifies the bearer userAuthToken and returns its user id.
func (h *Handler) user(w http.ResponseWriter, r *http.Request) (string, bool) {
	raw, ok := httpbase.BearerToken(r)
	if !ok {
		httpbase.WriteError(w, http.StatusUnauthorized, "unauthenticated", "sign in first: send the userAuthToken as a bearer token")
		return "", false
	}
	claims, err := h.cfg.Tokens.Verify(raw)
	if err != nil {
		httpbase.WriteError(w, http.StatusUnauthorized, "invalid_token", "the userAuthToken is not valid: sign in again")
		return "", false
	}
	return claims.UserID, true
}

func (h *Handler) getProfile(w http.ResponseWriter, r *http.Request) {
	userID, ok := h.user(w, r)
	if !ok {
		return
	}
	p, err := h.cfg.LoadProfileFunc(r.Context(), userID)
	if err != nil {
		httpbase.WriteError(w, http.StatusNotFound, "not_found", "no such user")
		return
	}
	httpbase.WriteJSON(w, http.StatusOK, p)
}

func (h *Handler) putProfile(w http.ResponseWriter, r *http.Request) {
	userID, ok := h.user(w, r)
	if !ok {
		return
	}
	var in edit
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		httpbase.WriteError(w, http.StatusBadRequest, "invalid_json", "the body must be {display_name, avatar, bio}")
		return
	}
	p, err := h.cfg.LoadProfileFunc(r.Context(), userID)
	if err != nil {
		httpbase.WriteError(w, http.StatusNotFound, "not_found", "no such user")
		return
	}
	p.DisplayName, p.Avatar, p.Bio = in.DisplayName, in.Avatar, in.Bio
	p.DisplayName = strings.TrimSpace(p.DisplayName)
	switch {
	case p.DisplayName == "" || utf8.RuneCountInString(p.DisplayName) > tokens.MaxDisplayNameLength || strings.ContainsAny(p.DisplayName, "<>&"):
		httpbase.WriteError(w, http.StatusBadRequest, "invalid_display_name", "display_name: 1 to 50 characters, no < > &")
		return
	case !validAvatar(p.Avatar):
		httpbase.WriteError(w, http.StatusBadRequest, "invalid_avatar", "avatar: one of "+strings.Join(Avatars, ", "))
		return
	case utf8.RuneCountInString(p.Bio) > maxBioLength:
		httpbase.WriteError(w, http.StatusBadRequest, "invalid_bio", fmt.Sprintf("bio: at most %d characters", maxBioLength))
		return
	}
	if err := h.cfg.SaveProfileFunc(r.Context(), userID, p); err != nil {
		h.cfg.Logger.ErrorContext(r.Context(), "demosite: save profile", "user_id", userID, "error", err)
		httpbase.WriteError(w, http.StatusBadGateway, "save_failed", "the user store did not take the change")
		return
	}
	status, err := h.notifyGateway(r.Context(), userID, p)
	if err != nil {
		h.cfg.Logger.ErrorContext(r.Context(), "demosite: webhook", "user_id", userID, "error", err)
		httpbase.WriteError(w, http.StatusBadGateway, "webhook_failed", "saved, but the gateway did not take the change")
		return
	}
	httpbase.WriteJSON(w, http.StatusOK, map[string]any{"saved": true, "gateway": status})
}

func validAvatar(name string) bool {
	for _, a := range Avatars {
		if a == name {
			return true
		}
	}
	return false
}

// notifyGateway sends the signed profile-changed webhook, as a site backend
// does after saving a profile, and returns the gateway's answer.
func (h *Handler) notifyGateway(ctx context.Context, userID string, p Profile) (json.RawMessage, error) {
	now := h.cfg.Now()
	profile := map[string]any{
		"id":           userID,
		"display_name": p.DisplayName,
		// The URL changes with the image (spec §4: Livefyre notices a new
		// avatar only by its URL).
		"image_url":   fmt.Sprintf("%s/avatars/%s.svg", h.cfg.SiteURL, p.Avatar),
		"profile_url": h.cfg.SiteURL + "/profile",
	}
	// The same fields the gateway maps from the provider's claims at login
	// (bio has no standard claim, so it stays on the site), so that a login
	// after a change finds the profile unchanged.
	if p.Email != "" {
		profile["email"] = p.Email
	}
	if p.FirstName != "" || p.LastName != "" {
		profile["name"] = map[string]string{"first": p.FirstName, "last": p.LastName}
	}
	body, err := json.Marshal(map[string]any{
		"user_id":    userID,
		"profile":    profile,
		"updated_at": now.UTC().Format(time.RFC3339Nano),
	})
	if err != nil {
		return nil, err
	}
	var idBytes [12]byte
	_, _ = rand.Read(idBytes[:])
	msgID := "msg_" + hex.EncodeToString(idBytes[:])
	sig, err := h.webhook.Sign(msgID, now, body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.cfg.GatewayURL+"/hooks/profile-changed", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", msgID)
	req.Header.Set("webhook-timestamp", fmt.Sprint(now.Unix()))
	req.Header.Set("webhook-signature", sig)
	resp, err := h.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusAccepted {
		return nil, fmt.Errorf("gateway answered %d", resp.StatusCode)
	}
	return answer, nil
}
