package livefyre

import (
	"net/url"
	"strings"
)

// APIVersions are the spellings of the API version in a path that
// Livefyre's libraries use: the Java and Node libraries write v3_0,
// documentation and the others v3.0. A receiver routes both; a sender
// writes APIVersion.
var APIVersions = []string{"v3_0", "v3.0"}

// APIVersion is the version segment a sender writes.
const APIVersion = "v3_0"

// Form fields and query parameters of the requests (spec §3, §6).
const (
	// FieldLFToken carries a token: the system token of a ping, logout or
	// pull, or a user token.
	FieldLFToken = "lftoken"
	// FieldActorToken is the system token of a registration.
	FieldActorToken = "actor_token"
	// FieldPullProfileURL is the pull URL template of a registration.
	FieldPullProfileURL = "pull_profile_url"
	// FieldPushAffiliationURL is the affiliation URL of a registration.
	FieldPushAffiliationURL = "push_affiliation_url"
)

// User actions the gateway POSTs to the hub, under UserActionPath.
const (
	// ActionRefresh is the ping: pull this user's profile again.
	ActionRefresh = "refresh"
	// ActionLogout ends the user's app sessions.
	ActionLogout = "logout"
)

// IDPlaceholder is what a pull URL template holds where the user id goes.
const IDPlaceholder = "{id}"

// UserActionPath is /api/v3_0/user/{id}/{action}, the path of a ping
// (ActionRefresh) or logout (ActionLogout), userID path-escaped.
func UserActionPath(userID, action string) string {
	return "/api/" + APIVersion + "/user/" + url.PathEscape(userID) + "/" + action
}

// UserActionRoute is the route pattern of a user action for version (one
// of APIVersions), with {id} as a router variable.
func UserActionRoute(version, action string) string {
	return "/api/" + version + "/user/" + IDPlaceholder + "/" + action
}

// RegisterForm is the form body of a registration, POSTed to the hub's
// root: the system token and the pull URL template.
func RegisterForm(actorToken, pullTemplate string) url.Values {
	return url.Values{FieldActorToken: {actorToken}, FieldPullProfileURL: {pullTemplate}}
}

// PullURLTemplate is the pull URL template a gateway at publicURL
// registers: {publicURL}/pull?id={id}, with a literal {id}.
func PullURLTemplate(publicURL string) string {
	return publicURL + "/pull?id=" + IDPlaceholder
}

// PullURL fills {id} into template, escaped for where it stands (path or
// query), and appends lftoken with "?" or "&".
func PullURL(template, userID, token string) string {
	path, query, hasQuery := strings.Cut(template, "?")
	path = strings.ReplaceAll(path, IDPlaceholder, url.PathEscape(userID))
	u := path
	if hasQuery {
		query = strings.ReplaceAll(query, IDPlaceholder, url.QueryEscape(userID))
		u += "?" + query
		if query != "" && !strings.HasSuffix(query, "&") {
			u += "&"
		}
	} else {
		u += "?"
	}
	return u + FieldLFToken + "=" + url.QueryEscape(token)
}
