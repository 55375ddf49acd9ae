package main

import (
	"bytes"
	"html/template"
	"net/http"

	"github.com/ssogate/ssogate/web"
)

// docsBase is where the project's documentation lives.
const docsBase = "https://github.com/ssogate/ssogate/blob/main/docs/"

var rootTemplate = template.Must(template.New("root").Parse(web.Root))

// rootLink is one link of a server's root page.
type rootLink struct{ Label, URL, Note string }

// rootSection is a titled list of links.
type rootSection struct {
	Name  string
	Links []rootLink
}

type rootPage struct {
	Title, What, Version string
	Sections             []rootSection
}

// rootHandler answers GET / with a page saying what the server is and
// linking what it serves, so no URL the demo (or an operator) opens is a
// dead end. The page is rendered once.
func rootHandler(page rootPage) http.Handler {
	page.Version = version
	var buf bytes.Buffer
	if err := rootTemplate.Execute(&buf, page); err != nil {
		panic("root page: " + err.Error()) // a template bug, caught by the tests
	}
	body := buf.Bytes()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(body)
	})
}

func probeLinks() rootSection {
	return rootSection{Name: "For operators", Links: []rootLink{
		{"/healthz", "/healthz", "the process runs"},
		{"/readyz", "/readyz", "the database answers and is migrated"},
		{"/metrics", "/metrics", "Prometheus metrics (" + docsBase + "metrics.md)"},
		{"/openapi.yaml", "/openapi.yaml", "OpenAPI 3.1 of every endpoint"},
	}}
}

// gatewayRoot is the gateway's page at /.
func gatewayRoot(cfg *Config) http.Handler {
	site := rootSection{Name: "For your site", Links: []rootLink{
		{"Embedding the script", docsBase + "embedding.md", "the snippet, its options and events"},
		{"The profile-changed webhook", docsBase + "webhook.md", "POST /hooks/profile-changed, with examples"},
		{"The pull endpoint and profile schema", docsBase + "pull.md", "GET /pull, for hubs"},
	}}
	if cfg.Auth.IssuerURL != "" {
		site.Links = append([]rootLink{{"/authdelegate.js", "/authdelegate.js", "the authDelegate sites embed"}}, site.Links...)
	}
	sections := []rootSection{site, probeLinks()}
	if cfg.AdminToken != "" {
		sections = append(sections, rootSection{Name: "Admin (any user name, the admin_token as password)", Links: []rootLink{
			{"River UI", "/admin/jobs/", "ping and logout jobs, dead letters"},
			{"Dead letters", "/admin/api/deadletters", "JSON; a user's history at /admin/api/users/{id}/timeline"},
			{"Runbooks", docsBase + "operations.md", "keys, backups, replicas, alerts"},
		}})
	}
	return rootHandler(rootPage{
		Title: "ssogate gateway",
		What: "The site's side of Livefyre's identity protocol for network " + cfg.Network.Name +
			": OpenID login, userAuthTokens, the authDelegate, the profile-changed webhook, pings to the hub and the pull endpoint.",
		Sections: sections,
	})
}

// hubRoot is the hub's page at /.
func hubRoot(cfg *Config) http.Handler {
	app := rootSection{Name: "For apps", Links: []rootLink{
		{"/auth.js", "/auth.js", "the Livefyre.js-compatible auth module"},
		{"The protocol the hub speaks", docsBase + "pull.md", "registration, ping, pull"},
	}}
	if cfg.Hub.DemoApp {
		app.Links = append(app.Links, rootLink{"/comments.js", "/comments.js", "the demo comment app"})
	}
	sections := []rootSection{app, probeLinks()}
	if cfg.AdminToken != "" {
		sections = append(sections, rootSection{Name: "Admin (any user name, the admin_token as password)", Links: []rootLink{
			{"Users", "/users", "every remote profile, its pulls and its history"},
		}})
	}
	return rootHandler(rootPage{
		Title:    "ssogate hub",
		What:     "The app's side of Livefyre's identity protocol: it takes registrations and pings, pulls profiles from the sites' gateways, keeps the remote profiles and answers the app's auth API.",
		Sections: sections,
	})
}
