package devidp

import (
	"context"
	"fmt"
	"slices"

	"golang.org/x/text/language"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// SetUserinfoFromScopes implements op.OPStorage; op deprecates it in
// favour of SetUserinfoFromRequest.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest implements op.CanSetUserinfoFromRequest: the
// claims of ID tokens, with the session id as sid.
func (s *storage) SetUserinfoFromRequest(_ context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	if err := s.fillUserinfo(info, req.GetSubject(), scopes); err != nil {
		return err
	}
	var sid string
	switch r := req.(type) {
	case *authRequest:
		sid = r.sid
	case *refreshRequest:
		sid = r.token.sid
	}
	if sid != "" {
		info.AppendClaims("sid", sid)
	}
	return nil
}

// SetUserinfoFromToken implements op.OPStorage: the userinfo endpoint.
func (s *storage) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	s.mu.Lock()
	t, ok := s.accessTokens[tokenID]
	valid := ok && t.subject == subject && !s.cfg.Now().After(t.expires)
	var scopes []string
	if valid {
		scopes = slices.Clone(t.scopes)
	}
	s.mu.Unlock()
	if !valid {
		return oidc.ErrAccessDenied().WithDescription("access token invalid or expired")
	}
	return s.fillUserinfo(info, subject, scopes)
}

// SetIntrospectionFromToken implements op.OPStorage.
func (s *storage) SetIntrospectionFromToken(_ context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	s.mu.Lock()
	t, ok := s.accessTokens[tokenID]
	valid := ok && t.subject == subject && t.clientID == clientID && !s.cfg.Now().After(t.expires)
	var tc accessToken
	if valid {
		tc = *t
	}
	s.mu.Unlock()
	if !valid {
		return nil // inactive
	}
	info := new(oidc.UserInfo)
	if err := s.fillUserinfo(info, subject, tc.scopes); err != nil {
		return nil //nolint:nilerr // a deleted user's token is inactive
	}
	resp.SetUserInfo(info)
	resp.Active = true
	resp.Scope = tc.scopes
	resp.ClientID = tc.clientID
	resp.Expiration = oidc.FromTime(tc.expires)
	resp.Audience = oidc.Audience{tc.clientID}
	return nil
}

// fillUserinfo sets the claims of subject that scopes allow.
func (s *storage) fillUserinfo(info *oidc.UserInfo, subject string, scopes []string) error {
	s.mu.Lock()
	u, ok := s.users[subject]
	var user User
	if ok {
		user = *u
	}
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("devidp: unknown user %q", subject)
	}
	info.Subject = user.ID
	for _, scope := range scopes {
		switch scope {
		case oidc.ScopeProfile:
			info.Name = user.Name
			info.GivenName = user.GivenName
			info.FamilyName = user.FamilyName
			info.PreferredUsername = user.Username
			info.Picture = user.Picture
			info.Profile = user.Profile
			info.Website = user.Website
			if user.Locale != "" {
				if tag, err := language.Parse(user.Locale); err == nil {
					info.Locale = oidc.NewLocale(tag)
				}
			}
			if !user.UpdatedAt.IsZero() {
				info.UpdatedAt = oidc.FromTime(user.UpdatedAt)
			}
			if user.Bio != "" {
				info.AppendClaims("bio", user.Bio)
			}
		case oidc.ScopeEmail:
			info.Email = user.Email
			info.EmailVerified = oidc.Bool(user.EmailVerified)
		}
	}
	return nil
}
