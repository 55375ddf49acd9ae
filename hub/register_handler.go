package hub

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/livefyre"
	"github.com/ssogate/ssogate/store"
)

// maxTemplateLength bounds a registered URL.
const maxTemplateLength = 2048

// handleRegister is Livefyre's "set user sync URL" (spec §3.1): POST / with
// actor_token (a system token), pull_profile_url and/or
// push_affiliation_url, from the query or the body. Success is 204 with no
// body, which Livefyre's Node library requires exactly.
func (h *Handler) handleRegister(w http.ResponseWriter, r *http.Request) {
	p, err := readParams(w, r)
	if err != nil {
		h.errs.Write(w, r, err)
		return
	}
	token := p.get(livefyre.FieldActorToken)
	if token == "" && p.bodyErr != nil {
		h.errs.Write(w, r, httpbase.Errorf(http.StatusBadRequest, "malformed_body", "the request body could not be read as a form: %v", p.bodyErr))
		return
	}
	n, err := h.verifySystem(r, token)
	if err != nil {
		h.errs.Write(w, r, err)
		return
	}
	template, affiliation := p.get(livefyre.FieldPullProfileURL), p.get(livefyre.FieldPushAffiliationURL)
	if template == "" && affiliation == "" {
		h.errs.Write(w, r, httpbase.Errorf(http.StatusBadRequest, "missing_url", "pull_profile_url or push_affiliation_url is required"))
		return
	}
	if template != "" {
		if err := checkPullTemplate(template); err != nil {
			h.errs.Write(w, r, err)
			return
		}
	}
	if affiliation != "" {
		if err := checkAbsoluteURL("push_affiliation_url", affiliation); err != nil {
			h.errs.Write(w, r, err)
			return
		}
	}
	if err := h.store.PullURLSet(r.Context(), &store.PullURL{
		Network:        n.name,
		Template:       template,
		AffiliationURL: affiliation,
		UpdatedAt:      h.cfg.Now(),
	}); err != nil {
		h.errs.Write(w, r, err)
		return
	}
	// The store merges (an empty template keeps the old): read it again.
	h.pullURLs.forget(n.name)
	h.log.InfoContext(r.Context(), "hub: pull URL registered", "network", n.name,
		"pull_profile_url", template != "", "push_affiliation_url", affiliation != "")
	w.WriteHeader(http.StatusNoContent)
}

// checkPullTemplate accepts an absolute http(s) URL with a literal {id} in
// its path or query (not in the host, not in a fragment).
func checkPullTemplate(template string) error {
	if err := checkAbsoluteURL("pull_profile_url", template); err != nil {
		return err
	}
	bad := func(why string) error {
		return httpbase.Errorf(http.StatusBadRequest, "invalid_url", "pull_profile_url %s", why)
	}
	if !strings.Contains(template, "{id}") {
		return bad("must contain {id}")
	}
	u, _ := url.Parse(template)
	if strings.Contains(u.Host, "{") || strings.Contains(u.Fragment, "{id}") {
		return bad("must have {id} in its path or query")
	}
	return nil
}

// checkAbsoluteURL accepts an absolute http(s) URL with a host and no
// fragment.
func checkAbsoluteURL(field, s string) error {
	bad := func(why string) error {
		return httpbase.Errorf(http.StatusBadRequest, "invalid_url", "%s %s", field, why)
	}
	if len(s) > maxTemplateLength {
		return bad("is too long")
	}
	u, err := url.Parse(s)
	if err != nil {
		return bad("is not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return bad("must be an absolute http or https URL")
	}
	if u.Host == "" || u.Hostname() == "" {
		return bad("must have a host")
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return bad("must not have a fragment")
	}
	for _, r := range s {
		if r < 0x21 || r == 0x7f {
			return bad("must not contain spaces or control characters")
		}
	}
	return nil
}
