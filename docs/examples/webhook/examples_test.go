// Package webhook_test runs the webhook examples of docs/webhook.md, each in
// its own language, against a real gateway on loopback HTTP and a real
// SQLite store, so the documentation cannot drift from the code.
package webhook_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/internal/testdb"
	"github.com/ssogate/ssogate/internal/testenv"
	"github.com/ssogate/ssogate/pingpull"
	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/tokens"
)

// EnvNodeModules names a folder where `npm install standardwebhooks` ran;
// the Node example needs it.
const EnvNodeModules = "STANDARDWEBHOOKS_NODE_MODULES"

var secret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("docs-example-secret-0123456789ab"))

type gateway struct {
	url   string
	store store.Store
}

func newGateway(t *testing.T) *gateway {
	t.Helper()
	s := testdb.SQLite(t)
	codec, err := tokens.New(tokens.Config{Network: "example.fyre.co", Key: "docs-example-network-key"})
	require.NoError(t, err)
	router := httpbase.NewMux()
	srv := httptest.NewServer(router)
	t.Cleanup(srv.Close)
	h, err := pingpull.New(pingpull.Config{
		Store:          s,
		Tokens:         codec,
		PublicURL:      srv.URL,
		HubURL:         "http://127.0.0.1:9", // never called: no job worker runs here
		WebhookSecrets: []string{secret},
		Registerer:     prometheus.NewRegistry(),
	})
	require.NoError(t, err)
	h.Mount(router)
	return &gateway{url: srv.URL, store: s}
}

// seed stores a whole profile with a webhook signed here, as a site's
// first sync would.
func (g *gateway) seed(t *testing.T, userID string) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"user_id": userID, "profile": map[string]any{
		"id": userID, "display_name": "Before", "email": userID + "@example.com",
		"image_url": "https://example.com/" + userID + ".png",
	}})
	require.NoError(t, err)
	wh, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	now := time.Now()
	id := "msg_seed_" + userID
	sig, err := wh.Sign(id, now, body)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, g.url+"/hooks/profile-changed", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", fmt.Sprint(now.Unix()))
	req.Header.Set("webhook-signature", sig)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusAccepted, res.StatusCode)
}

func (g *gateway) profile(t *testing.T, userID string) map[string]any {
	t.Helper()
	p, err := g.store.ProfileGet(context.Background(), userID)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(p.Data, &m))
	return m
}

// lookPath finds a language's interpreter, or reports it missing (a
// failure under CI).
func lookPath(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		testenv.Missing(t, "%s is not installed (Debian: %s)", name, debianPackage[name])
	}
	return p
}

var debianPackage = map[string]string{"node": "nodejs", "python3": "python3", "php": "php-cli", "ruby": "ruby", "bash": "bash", "curl": "curl", "openssl": "openssl"}

// examples are the commands of docs/examples/webhook: each takes the user
// id and the new display name as arguments, SSOGATE_URL and
// SSOGATE_WEBHOOK_SECRET from the environment.
var examples = []struct {
	name string
	cmd  func(t *testing.T) []string
}{
	{"node", func(t *testing.T) []string {
		mods := os.Getenv(EnvNodeModules)
		if mods == "" {
			testenv.Missing(t, "%s is unset (a folder where `npm install standardwebhooks@1.3.0` ran)", EnvNodeModules)
		}
		// ES modules resolve packages from the script's own folder up.
		dir := t.TempDir()
		src, err := os.ReadFile("send.mjs")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "send.mjs"), src, 0o600))
		abs, err := filepath.Abs(filepath.Join(mods, "node_modules"))
		require.NoError(t, err)
		require.NoError(t, os.Symlink(abs, filepath.Join(dir, "node_modules")))
		return []string{lookPath(t, "node"), filepath.Join(dir, "send.mjs")}
	}},
	{"python", func(t *testing.T) []string { return []string{lookPath(t, "python3"), "send.py"} }},
	{"php", func(t *testing.T) []string { return []string{lookPath(t, "php"), "send.php"} }},
	{"ruby", func(t *testing.T) []string { return []string{lookPath(t, "ruby"), "send.rb"} }},
	{"curl", func(t *testing.T) []string {
		lookPath(t, "curl")
		lookPath(t, "openssl")
		return []string{lookPath(t, "bash"), "send.sh"}
	}},
	{"go", func(t *testing.T) []string {
		bin := filepath.Join(t.TempDir(), "webhook-example")
		out, err := exec.Command("go", "build", "-o", bin, "./go").CombinedOutput()
		require.NoError(t, err, "%s", out)
		return []string{bin}
	}},
}

// run runs one example against g and returns its stdout, stderr and exit
// error.
func run(t *testing.T, argv []string, g *gateway, webhookSecret, userID, name string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], append(argv[1:], userID, name)...)
	cmd.Env = append(os.Environ(), "SSOGATE_URL="+g.url, "SSOGATE_WEBHOOK_SECRET="+webhookSecret)
	var outBuf, errBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &outBuf, &errBuf
	err = cmd.Run()
	return outBuf.String(), errBuf.String(), err
}

// TestExamples runs each example: it changes the display name by a merge
// patch and leaves the email and the avatar as they were.
func TestExamples(t *testing.T) {
	t.Parallel()
	for _, ex := range examples {
		t.Run(ex.name, func(t *testing.T) {
			t.Parallel()
			argv := ex.cmd(t)
			g := newGateway(t)
			userID := "user_" + ex.name
			g.seed(t, userID)
			name := "Renamed by " + ex.name
			out, stderr, err := run(t, argv, g, secret, userID, name)
			require.NoError(t, err, "stderr: %s", stderr)

			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			var answer struct {
				UserID  string `json:"user_id"`
				Version int64  `json:"version"`
				Status  string `json:"status"`
			}
			require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &answer), "stdout: %s", out)
			require.Equal(t, userID, answer.UserID)
			require.Equal(t, "queued", answer.Status)
			require.EqualValues(t, 2, answer.Version)

			p := g.profile(t, userID)
			require.Equal(t, name, p["display_name"])
			require.Equal(t, userID+"@example.com", p["email"], "the patch must keep the fields it does not name")
			require.Equal(t, "https://example.com/"+userID+".png", p["image_url"])
		})
	}
}

// TestExamplesRefused checks that every example fails loudly on a wrong
// secret: a non-zero exit and the gateway's error code, not a success nor a
// crash in the example's own error handling.
func TestExamplesRefused(t *testing.T) {
	t.Parallel()
	wrong := "whsec_" + base64.StdEncoding.EncodeToString([]byte("not-the-gateway-secret-012345678"))
	for _, ex := range examples {
		t.Run(ex.name, func(t *testing.T) {
			t.Parallel()
			argv := ex.cmd(t)
			g := newGateway(t)
			g.seed(t, "u1")
			out, stderr, err := run(t, argv, g, wrong, "u1", "Nope")
			require.Error(t, err, "stdout: %s", out)
			if ex.name == "curl" {
				// curl --fail-with-body prints the gateway's JSON error.
				require.Contains(t, out, `"code":"invalid_signature"`)
			} else {
				require.Contains(t, stderr, "webhook refused: 401 invalid_signature: no webhook-signature matches")
			}
			require.Equal(t, "Before", g.profile(t, "u1")["display_name"])
		})
	}
}
