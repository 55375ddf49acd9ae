package devidp

import (
	"bytes"
	"crypto/subtle"
	"embed"
	"html/template"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

//go:embed templates/*.html
var templateFS embed.FS

var templates = template.Must(template.ParseFS(templateFS, "templates/*.html"))

// loginPage is the data of templates/login.html.
type loginPage struct {
	Issuer   string
	ID       string
	ClientID string
	Username string
	Error    string
	Users    []User
}

// messagePage is the data of templates/message.html.
type messagePage struct {
	Title   string
	Message string
}

// handleLoginPage shows the login form for an auth request, or answers at
// once: with the existing session (single sign-on) unless prompt=login or
// max_age demands a fresh login, or login_required for prompt=none.
func (p *Provider) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	req, ok := p.authRequest(id)
	if !ok {
		p.renderMessage(w, http.StatusBadRequest, "Sign-in expired",
			"This sign-in request is unknown, expired or already used. Go back to the application and start again.")
		return
	}
	if sid := p.sessionFromCookie(r); sid != "" && p.sessionSatisfies(req, sid) {
		p.finishLogin(w, r, id, sid)
		return
	}
	if req.hasPrompt(oidc.PromptNone) {
		p.deleteAuthRequest(id)
		op.AuthRequestError(w, r, req, oidc.ErrLoginRequired(), p.op)
		return
	}
	p.renderLogin(w, http.StatusOK, loginPage{ID: id, ClientID: req.clientID, Username: req.loginHint})
}

// sessionSatisfies reports whether session sid may answer req without
// showing the form.
func (p *Provider) sessionSatisfies(req *authRequest, sid string) bool {
	if req.hasPrompt(oidc.PromptLogin) || req.hasPrompt(oidc.PromptSelectAccount) {
		return false
	}
	_, authTime, ok := p.sessionInfo(sid)
	if !ok {
		return false
	}
	if req.maxAge != nil && p.cfg.Now().Sub(authTime) > *req.maxAge {
		return false
	}
	return true
}

// handleLoginSubmit checks the credentials (or the Cancel button) and
// answers the client through op.
func (p *Provider) handleLoginSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		p.renderMessage(w, http.StatusBadRequest, "Bad request", "The form could not be read.")
		return
	}
	id := r.PostForm.Get("id")
	req, ok := p.authRequest(id)
	if !ok {
		p.renderMessage(w, http.StatusBadRequest, "Sign-in expired",
			"This sign-in request is unknown, expired or already used. Go back to the application and start again.")
		return
	}
	if r.PostForm.Get("action") == "cancel" {
		p.deleteAuthRequest(id)
		op.AuthRequestError(w, r, req, oidc.ErrAccessDenied().WithDescription("The user cancelled the sign-in."), p.op)
		return
	}
	username := r.PostForm.Get("username")
	subject, ok := p.checkPassword(username, r.PostForm.Get("password"))
	if !ok {
		p.cfg.Logger.InfoContext(r.Context(), "devidp: sign-in refused", "client_id", req.clientID)
		p.renderLogin(w, http.StatusUnauthorized, loginPage{
			ID: id, ClientID: req.clientID, Username: username,
			Error: "Wrong username or password.",
		})
		return
	}
	sid := p.startSession(w, subject)
	p.cfg.Logger.InfoContext(r.Context(), "devidp: signed in", "subject", subject, "client_id", req.clientID, "sid", sid)
	p.finishLogin(w, r, id, sid)
}

// finishLogin completes auth request id with session sid and redirects to
// the client with the code.
func (p *Provider) finishLogin(w http.ResponseWriter, r *http.Request, id, sid string) {
	req, ok := p.completeLogin(id, sid)
	if !ok {
		p.renderMessage(w, http.StatusBadRequest, "Sign-in expired",
			"This sign-in request is unknown, expired or already used. Go back to the application and start again.")
		return
	}
	op.AuthResponse(req, p.op, w, r)
}

// checkPassword returns the subject of username when password is right.
// Both comparisons take the same time whether or not the user exists.
func (p *Provider) checkPassword(username, password string) (string, bool) {
	s := p.store
	s.mu.Lock()
	var stored, subject string
	if id, ok := s.usernames[username]; ok {
		stored, subject = s.users[id].Password, id
	}
	s.mu.Unlock()
	match := subtle.ConstantTimeCompare([]byte(hashSecret(password)), []byte(hashSecret(stored))) == 1
	if subject == "" || !match {
		return "", false
	}
	return subject, true
}

// authRequest returns a copy of the pending (not yet signed-in) request id.
func (p *Provider) authRequest(id string) (*authRequest, bool) {
	s := p.store
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.authRequestLocked(id)
	if !ok || a.done {
		return nil, false
	}
	return a.clone(), true
}

func (p *Provider) deleteAuthRequest(id string) {
	s := p.store
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.authRequests, id)
}

func (p *Provider) handleLoggedOut(w http.ResponseWriter, _ *http.Request) {
	p.renderMessage(w, http.StatusOK, "Signed out", "You are signed out of the development provider.")
}

// handleIndex is the provider's root page: its endpoints and its users,
// so the URL the demo prints leads somewhere.
func (p *Provider) handleIndex(w http.ResponseWriter, _ *http.Request) {
	p.render(w, http.StatusOK, "index.html", struct {
		Issuer string
		Users  []User
	}{p.cfg.Issuer, p.Users()})
}

func (p *Provider) renderLogin(w http.ResponseWriter, status int, page loginPage) {
	page.Issuer = p.cfg.Issuer
	page.Users = p.Users()
	p.render(w, status, "login.html", page)
}

func (p *Provider) renderMessage(w http.ResponseWriter, status int, title, message string) {
	p.render(w, status, "message.html", messagePage{Title: title, Message: message})
}

func (p *Provider) render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, name, data); err != nil {
		p.cfg.Logger.Error("devidp: render page", "template", name, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}
