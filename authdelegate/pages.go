package authdelegate

import (
	"bytes"
	"html/template"
	"net/http"
)

// loginMessage is what the popup posts to its opener.
type loginMessage struct {
	Type       string `json:"type"`
	Token      string `json:"token,omitempty"`
	Credential string `json:"credential,omitempty"`
	ExpiresAt  int64  `json:"expires_at,omitempty"`
	Version    int64  `json:"version,omitempty"`
	Error      string `json:"error,omitempty"`
}

// pageData fills the one page template: a message for the person, plus an
// optional result posted to the opener at Target (an allowed origin) only.
type pageData struct {
	Title   string
	Message string
	Target  string
	Result  *loginMessage
	// Close closes the window after posting (success only; an error page
	// stays so it can be read).
	Close bool
	// Fallback is where a popup without an opener goes instead (the site
	// page with a one-time code), when the login named a return_to.
	Fallback string
	Nonce    string
}

// pageTemplate: html/template escapes .Result as a JS value (JSON) and
// .Target as a JS string, so nothing from outside can break out of the
// script. postMessage goes to exactly one origin, never "*".
var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center;background:#f6f7f9;color:#1d2330}main{max-width:28rem;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 1px 4px #0002}h1{font-size:1.25rem;margin:0 0 .5rem}</style>
</head><body><main><h1 id="title">{{.Title}}</h1><p id="message">{{.Message}}</p></main>
{{- if .Result}}
<script nonce="{{.Nonce}}">
(function () {
  var result = {{.Result}};
  var target = {{.Target}};
  var opener = window.opener;
  if (opener && !opener.closed) {
    try { opener.postMessage(result, target); } catch (e) {}
    {{- if .Close}}
    setTimeout(function () { window.close(); }, 50);
    {{- end}}
  }{{if .Fallback}} else {
    // The provider's Cross-Origin-Opener-Policy cut this popup off from
    // the site: finish on the site page, whose tabs share the session.
    location.replace({{.Fallback}});
  }{{end}}
})();
</script>
{{- end}}
</body></html>
`))

// renderPage writes a page with a strict content security policy that
// allows only this response's inline script.
func (h *Handler) renderPage(w http.ResponseWriter, status int, pd pageData) {
	pd.Nonce = randomToken(16)
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, pd); err != nil {
		http.Error(w, "sign-in page error", http.StatusInternalServerError)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-"+pd.Nonce+"'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
