package openapitest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/openapitest"
)

// serve answers each path with a fixed status, content type and body.
func serve(t *testing.T, answers map[string][3]string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := answers[r.Method+" "+r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", a[1])
		var status int
		switch a[0] {
		case "200":
			status = http.StatusOK
		case "202":
			status = http.StatusAccepted
		case "418":
			status = http.StatusTeapot
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, a[2])
	}))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, c *http.Client, method, url string) string {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(""))
	require.NoError(t, err)
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(body)
}

func TestValidatorPassesDocumentedAnswers(t *testing.T) {
	srv := serve(t, map[string][3]string{
		"GET /healthz":                {"200", "application/json", `{"status":"ok"}`},
		"POST /hooks/profile-changed": {"202", "application/json", `{"user_id":"u1","version":3,"status":"queued"}`},
	})
	v, err := openapitest.New(nil, srv.URL)
	require.NoError(t, err)
	c := &http.Client{Transport: v}
	require.Equal(t, `{"status":"ok"}`, get(t, c, http.MethodGet, srv.URL+"/healthz"), "the body reaches the caller")
	get(t, c, http.MethodPost, srv.URL+"/hooks/profile-changed")
	require.Empty(t, v.Errors())
	require.NotContains(t, v.Unexercised(), "GET /healthz")
	require.Contains(t, v.Unexercised(), "GET /pull")
}

func TestValidatorCatchesDrift(t *testing.T) {
	srv := serve(t, map[string][3]string{
		// A field the document does not have, and a wrong type.
		"POST /hooks/profile-changed": {"202", "application/json", `{"user_id":"u1","version":"3","status":"queued"}`},
		// A status the document does not list.
		"GET /healthz": {"418", "application/json", `{"status":"ok"}`},
		// The wrong content type.
		"GET /readyz": {"200", "text/plain", `ok`},
		// An error that is not the JSON error shape.
		"GET /pull": {"418", "application/json", `{}`},
		// A route the document does not have.
		"GET /secret": {"200", "application/json", `{}`},
	})
	v, err := openapitest.New(nil, srv.URL)
	require.NoError(t, err)
	c := &http.Client{Transport: v}
	for _, r := range []string{"POST /hooks/profile-changed", "GET /healthz", "GET /readyz", "GET /pull", "GET /secret"} {
		method, path, _ := strings.Cut(r, " ")
		get(t, c, method, srv.URL+path)
	}
	errs := v.Errors()
	require.Len(t, errs, 5, "%q", errs)
	joined := strings.Join(errs, "\n")
	for _, want := range []string{"POST /hooks/profile-changed", "GET /healthz", "GET /readyz", "GET /pull", "GET /secret answered 200 but is not documented"} {
		require.Contains(t, joined, want)
	}
}

func TestValidatorIgnoresOtherHosts(t *testing.T) {
	ours := serve(t, nil)
	other := serve(t, map[string][3]string{"GET /anything": {"200", "text/plain", "x"}})
	v, err := openapitest.New(nil, ours.URL)
	require.NoError(t, err)
	get(t, &http.Client{Transport: v}, http.MethodGet, other.URL+"/anything")
	require.Empty(t, v.Errors())
}
