package httpbase

import (
	"net/http"
	"strings"
)

// BearerToken returns the token of an "Authorization: Bearer …" header
// (RFC 6750: the scheme in any letter case, surrounding spaces trimmed), or
// false when the header is missing, has another scheme or an empty token.
// Every server reads bearer tokens through it.
func BearerToken(r *http.Request) (string, bool) {
	scheme, value, found := strings.Cut(r.Header.Get("Authorization"), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token := strings.TrimSpace(value)
	return token, token != ""
}
