package httpbase

import (
	"net/http/httptest"
	"testing"
)

func TestBearerToken(t *testing.T) {
	t.Parallel()
	for header, want := range map[string]string{
		"Bearer abc":     "abc",
		"bearer abc":     "abc",
		"BEARER  abc  ":  "abc",
		"Bearer":         "",
		"Bearer ":        "",
		"Basic YWJjOmRl": "",
		"Bearerabc":      "",
		"":               "",
		"Token abc":      "",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		got, ok := BearerToken(r)
		if got != want || ok != (want != "") {
			t.Errorf("Authorization %q: got (%q, %v), want %q", header, got, ok, want)
		}
	}
}
