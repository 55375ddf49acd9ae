package devidp

import (
	"context"
	"net/http"
	"time"
)

// sessionFromCookie returns the sid of the live session the request's
// cookie names, or "".
func (p *Provider) sessionFromCookie(r *http.Request) string {
	c, err := r.Cookie(p.cookieName)
	if err != nil || c.Value == "" {
		return ""
	}
	s := p.store
	s.mu.Lock()
	defer s.mu.Unlock()
	sid, ok := s.sessionByCookie[hashSecret(c.Value)]
	if !ok {
		return ""
	}
	sess, ok := s.sessions[sid]
	if !ok || p.cfg.Now().After(sess.expires) {
		return ""
	}
	if _, ok := s.users[sess.subject]; !ok {
		return ""
	}
	return sid
}

// startSession creates a session for subject, sets its cookie on w and
// returns its sid.
func (p *Provider) startSession(w http.ResponseWriter, subject string) string {
	now := p.cfg.Now()
	value := randomToken(32)
	sess := &session{
		sid:        randomToken(16),
		subject:    subject,
		authTime:   now,
		expires:    now.Add(p.cfg.SessionTTL),
		cookieHash: hashSecret(value),
		clients:    map[string]bool{},
	}
	s := p.store
	s.mu.Lock()
	s.sessions[sess.sid] = sess
	s.sessionByCookie[sess.cookieHash] = sess.sid
	s.mu.Unlock()

	http.SetCookie(w, &http.Cookie{
		Name:     p.cookieName,
		Value:    value,
		Path:     p.cookiePath(),
		Expires:  sess.expires,
		HttpOnly: true,
		Secure:   p.secure,
		SameSite: http.SameSiteLaxMode,
	})
	return sess.sid
}

func (p *Provider) cookiePath() string {
	if p.issuerPath == "" {
		return "/"
	}
	return p.issuerPath + "/"
}

func (p *Provider) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name:     p.cookieName,
		Value:    "",
		Path:     p.cookiePath(),
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   p.secure,
		SameSite: http.SameSiteLaxMode,
	})
}

// completeLogin marks the auth request id as signed in through session
// sid. It returns false when the request or session is gone or the request
// was already completed.
func (p *Provider) completeLogin(id, sid string) (*authRequest, bool) {
	s := p.store
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.authRequestLocked(id)
	if !ok || a.done {
		return nil, false
	}
	sess, ok := s.sessions[sid]
	if !ok {
		return nil, false
	}
	a.done = true
	a.subject = sess.subject
	a.authTime = sess.authTime
	a.sid = sid
	sess.clients[a.clientID] = true
	return a.clone(), true
}

// sessionInfo returns the subject and auth time of session sid.
func (p *Provider) sessionInfo(sid string) (subject string, authTime time.Time, ok bool) {
	s := p.store
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[sid]
	if !ok {
		return "", time.Time{}, false
	}
	return sess.subject, sess.authTime, true
}

// endSessions ends the sessions sids: it deletes them, revokes the refresh
// and access tokens issued through them, then sends a logout token to each
// of their clients that has a BackChannelLogoutURI. It waits for the
// deliveries and returns their failures, joined.
func (p *Provider) endSessions(ctx context.Context, sids []string) error {
	var deliveries []logoutDelivery
	s := p.store
	s.mu.Lock()
	for _, sid := range sids {
		sess, ok := s.sessions[sid]
		if !ok {
			continue
		}
		delete(s.sessions, sid)
		delete(s.sessionByCookie, sess.cookieHash)
		s.revokeRefreshLocked(func(t *refreshToken) bool { return t.sid == sid })
		for id, at := range s.accessTokens {
			if at.sid == sid {
				delete(s.accessTokens, id)
			}
		}
		for clientID := range sess.clients {
			c, ok := s.clients[clientID]
			if !ok || c.c.BackChannelLogoutURI == "" {
				continue
			}
			deliveries = append(deliveries, logoutDelivery{
				clientID: clientID,
				uri:      c.c.BackChannelLogoutURI,
				subject:  sess.subject,
				sid:      sid,
			})
		}
	}
	s.mu.Unlock()
	for _, sid := range sids {
		p.cfg.Logger.InfoContext(ctx, "devidp: session ended", "sid", sid)
	}
	return p.deliverLogouts(ctx, deliveries)
}
