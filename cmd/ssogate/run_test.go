package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/tokens"
)

// result is one in-process run of the command line.
type result struct {
	code           int
	stdout, stderr string
}

// runCmd runs args in-process with environ as the whole environment.
func runCmd(t *testing.T, environ map[string]string, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), args, &env{
		stdin:  strings.NewReader(stdin),
		stdout: &stdout,
		stderr: &stderr,
		getenv: mapEnv(environ),
	})
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func TestRunUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{name: "no command", args: nil, code: 2, stderr: "Usage:\n  ssogate [flags]\n  ssogate [command]"},
		{name: "help", args: []string{"help"}, code: 0, stdout: "Available Commands:"},
		{name: "--help", args: []string{"--help"}, code: 0, stdout: "  serve       run the gateway\n  hub         run the hub\n"},
		{name: "unknown", args: []string{"frobnicate"}, code: 2, stderr: `unknown command "frobnicate" for "ssogate"`},
		{name: "command help", args: []string{"serve", "-h"}, code: 0, stdout: "--listen string"},
		{name: "Go-style help", args: []string{"serve", "-help"}, code: 0, stdout: "--listen string"},
		{name: "unknown flag", args: []string{"serve", "--nope"}, code: 2, stderr: "ssogate: unknown flag: --nope\nRun 'ssogate serve --help' for usage.\n"},
		{name: "secret as flag", args: []string{"serve", "--admin-token", "0123456789abcdef"}, code: 2, stderr: "unknown flag: --admin-token"},
		{name: "arguments", args: []string{"migrate", "extra"}, code: 2, stderr: `migrate takes no arguments, got "extra"`},
		{name: "token without subcommand", args: []string{"token"}, code: 2, stderr: "usage: ssogate token mint"},
		{name: "token unknown subcommand", args: []string{"token", "burn"}, code: 2, stderr: `unknown token command "burn"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCmd(t, nil, "", tt.args...)
			require.Equal(t, tt.code, r.code, r.stderr)
			if tt.stdout != "" {
				require.Contains(t, r.stdout, tt.stdout)
			}
			if tt.stderr != "" {
				require.Contains(t, r.stderr, tt.stderr)
			}
		})
	}
}

func TestRunVersion(t *testing.T) {
	t.Parallel()
	r := runCmd(t, nil, "", "version")
	require.Equal(t, 0, r.code)
	require.Regexp(t, `^ssogate \S+ \(go1\.[^)]*\)\n$`, r.stdout)
}

func TestRunConfigThreeMistakes(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(path, []byte(threeMistakes), 0o600))
	for _, cmd := range []string{"config", "serve", "hub", "migrate"} {
		t.Run(cmd, func(t *testing.T) {
			t.Parallel()
			r := runCmd(t, map[string]string{"SSOGATE_CONFIG": path}, "", cmd)
			require.Equal(t, 2, r.code)
			require.Contains(t, r.stderr, "ssogate: invalid configuration:\n")
			require.Contains(t, r.stderr, "unknown key lisen")
			require.Contains(t, r.stderr, "gateway.webhook_rate: not a number")
			require.Contains(t, r.stderr, `log_level: "loud"`)
			lines := 4
			if cmd == "hub" {
				// The hub's own requirement is checked with the rest
				// now, before the database opens.
				require.Contains(t, r.stderr, "the hub needs a network")
				lines++
			}
			require.Equal(t, lines, strings.Count(r.stderr, "\n"), r.stderr)
		})
	}
}

// TestRunServeBadConfigOpensNothing: serve and hub check the whole
// configuration, the problems their wiring would find too, before the data
// directory or the database is created, and report them all at once.
func TestRunServeBadConfigOpensNothing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cmd     string
		environ map[string]string
		want    []string
	}{
		{cmd: "serve", environ: map[string]string{
			"SSOGATE_NETWORK_NAME":     "labs.fyre.co",
			"SSOGATE_NETWORK_KEY":      "network-key-of-the-test",
			"SSOGATE_AUTH_ISSUER_URL":  "https://idp.example.com",
			"SSOGATE_AUTH_CLIENT_ID":   "gateway",
			"SSOGATE_AUTH_SESSION_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
			"SSOGATE_LOG_LEVEL":        "loud",
		}, want: []string{
			"gateway.public_url is required with network.name",
			"auth.allowed_origins is required with auth.issuer_url",
			`log_level: "loud"`,
		}},
		{cmd: "hub", environ: map[string]string{
			"SSOGATE_LOG_LEVEL": "loud",
		}, want: []string{
			"the hub needs a network",
			`log_level: "loud"`,
		}},
	} {
		t.Run(tc.cmd, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "data")
			tc.environ["SSOGATE_DATA_DIR"] = dir
			r := runCmd(t, tc.environ, "", tc.cmd, "--listen", "127.0.0.1:0")
			require.Equal(t, 2, r.code, r.stderr)
			require.Contains(t, r.stderr, "ssogate: invalid configuration:\n")
			for _, w := range tc.want {
				require.Contains(t, r.stderr, w)
			}
			require.Equal(t, len(tc.want)+1, strings.Count(r.stderr, "\n"), r.stderr)
			_, err := os.Stat(dir)
			require.ErrorIs(t, err, os.ErrNotExist, "the data directory was created")
		})
	}
}

func TestRunConfigPrintsRedacted(t *testing.T) {
	t.Parallel()
	environ := map[string]string{
		"SSOGATE_ADMIN_TOKEN":      "SECRET-0123456789abcdef",
		"SSOGATE_NETWORK_NAME":     "labs.fyre.co",
		"SSOGATE_NETWORK_KEY":      "SECRET-key",
		"SSOGATE_WEBHOOK_SECRETS":  "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"SSOGATE_AUTH_SESSION_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
	}
	r := runCmd(t, environ, "", "config", "--listen", "127.0.0.1:9999")
	require.Equal(t, 0, r.code, r.stderr)
	require.NotContains(t, r.stdout, "SECRET")
	require.NotContains(t, r.stdout, "whsec_MfKQ")
	require.NotContains(t, r.stdout, "AAECAw")
	require.Contains(t, r.stdout, "admin_token: REDACTED\n")
	require.Contains(t, r.stdout, "listen: 127.0.0.1:9999\n")
	require.Contains(t, r.stdout, "hub_url: https://labs.quill.fyre.co\n")
	require.Contains(t, r.stdout, "idle_timeout: 168h0m0s\n")
}

// tokenEnv configures the network for the token commands.
var tokenEnv = map[string]string{
	"SSOGATE_NETWORK_NAME": "test.fyre.co",
	"SSOGATE_NETWORK_KEY":  "testkeytest",
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestRunTokenMintVerify(t *testing.T) {
	t.Parallel()
	codec, err := tokens.New(tokens.Config{Network: "test.fyre.co", Key: "testkeytest"})
	require.NoError(t, err)

	r := runCmd(t, tokenEnv, "", "token", "mint", "--user", "alice_1", "--name", "Alice A.", "--ttl", "2h")
	require.Equal(t, 0, r.code, r.stderr)
	token := lastLine(r.stdout)
	claims, err := codec.Verify(token)
	require.NoError(t, err)
	require.Equal(t, "alice_1", claims.UserID)
	require.Equal(t, "Alice A.", claims.DisplayName)
	require.WithinDuration(t, time.Now().Add(2*time.Hour), claims.Expires, time.Minute)

	// Verify: argument, stdin, and "-".
	for name, args := range map[string][]string{
		"argument": {"token", "verify", token},
		"stdin":    {"token", "verify"},
		"dash":     {"token", "verify", "-"},
	} {
		r = runCmd(t, tokenEnv, token+"\n", args...)
		require.Equal(t, 0, r.code, name+": "+r.stderr)
		var got map[string]any
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &got), name)
		require.Equal(t, "test.fyre.co", got["domain"])
		require.Equal(t, "alice_1", got["user_id"])
		require.Equal(t, "Alice A.", got["display_name"])
	}

	// A user token is not a system token.
	r = runCmd(t, tokenEnv, "", "token", "verify", token, "--system")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "ssogate: invalid token: not a system token")
	require.Empty(t, r.stdout)

	// A changed payload keeps the old signature: refused.
	parts := strings.Split(token, ".")
	parts[1] = strings.TrimRight(parts[1], "=") + "x"
	r = runCmd(t, tokenEnv, "", "token", "verify", strings.Join(parts, "."))
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "ssogate: invalid token: ")

	// Another network's key.
	r = runCmd(t, map[string]string{"SSOGATE_NETWORK_NAME": "test.fyre.co", "SSOGATE_NETWORK_KEY": "otherkey"}, "", "token", "verify", token)
	require.Equal(t, 1, r.code)
	require.Equal(t, "ssogate: invalid token: bad signature\n", r.stderr)
}

func TestRunTokenSystem(t *testing.T) {
	t.Parallel()
	r := runCmd(t, tokenEnv, "", "token", "mint", "--system")
	require.Equal(t, 0, r.code, r.stderr)
	token := lastLine(r.stdout)

	r = runCmd(t, tokenEnv, "", "token", "verify", "--system", token)
	require.Equal(t, 0, r.code, r.stderr)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got))
	require.Equal(t, "system", got["user_id"])
	expires, err := time.Parse(time.RFC3339, got["expires"].(string))
	require.NoError(t, err)
	require.WithinDuration(t, time.Now().Add(24*time.Hour), expires, time.Minute)
}

func TestRunTokenExpired(t *testing.T) {
	t.Parallel()
	// The documentation's sample system token (spec §6.1) expired in 2014.
	const docToken = "eyJhbGciOiJIUzI1NiJ9.eyJkb21haW4iOiJ0ZXN0LmZ5cmUuY29tIiwidXNlcl9pZCI6InN5c3RlbSIsImRpc3BsYXlfbmFtZSI6InN5c3RlbSIsImV4cGlyZXMiOjEzOTY2NTUwODN9.33GuJF_ou2O6CCV22Y3PlLUgP2Igy9vAXfmLONkt-Yo"
	environ := map[string]string{"SSOGATE_NETWORK_NAME": "test.fyre.com", "SSOGATE_NETWORK_KEY": "testkeytest"}
	r := runCmd(t, environ, "", "token", "verify", "--system", docToken)
	require.Equal(t, 1, r.code, r.stdout)
	require.Equal(t, "ssogate: invalid token: expired at 2014-04-04T23:44:43Z\n", r.stderr)
}

func TestRunTokenUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		environ map[string]string
		args    []string
		stderr  []string
	}{
		{name: "no network", environ: nil, args: []string{"token", "mint", "--user", "a"}, stderr: []string{
			"network.name is required (SSOGATE_NETWORK_NAME or --network-name)",
			"network.key is required (config file or SSOGATE_NETWORK_KEY; never a flag)",
		}},
		{name: "name flag but no key", environ: nil, args: []string{"token", "verify", "--network-name", "labs.fyre.co", "x"}, stderr: []string{
			"network.key is required",
		}},
		{name: "key is never a flag", environ: tokenEnv, args: []string{"token", "mint", "--user", "a", "--network-key", "k"}, stderr: []string{
			"unknown flag: --network-key",
		}},
		{name: "no user", environ: tokenEnv, args: []string{"token", "mint"}, stderr: []string{"--user is required (or --system)"}},
		{name: "system and user", environ: tokenEnv, args: []string{"token", "mint", "--system", "--user", "a"}, stderr: []string{"--system takes no --user or --name"}},
		{name: "bad user id", environ: tokenEnv, args: []string{"token", "mint", "--user", "a b"}, stderr: []string{"invalid user id"}},
		{name: "long name", environ: tokenEnv, args: []string{"token", "mint", "--user", "a", "--name", strings.Repeat("n", 51)}, stderr: []string{"invalid display name"}},
		{name: "negative ttl", environ: tokenEnv, args: []string{"token", "mint", "--user", "a", "--ttl", "-1h"}, stderr: []string{"--ttl must be positive"}},
		{name: "two tokens", environ: tokenEnv, args: []string{"token", "verify", "a", "b"}, stderr: []string{"token verify takes one token"}},
		{name: "empty stdin", environ: tokenEnv, args: []string{"token", "verify"}, stderr: []string{"no token given"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCmd(t, tt.environ, "", tt.args...)
			require.Equal(t, 2, r.code, r.stderr)
			require.Empty(t, r.stdout)
			for _, s := range tt.stderr {
				require.Contains(t, r.stderr, s)
			}
		})
	}
}

func TestRunMigrateSQLite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	environ := map[string]string{"SSOGATE_DATA_DIR": filepath.Join(dir, "data")}
	for range 2 { // idempotent
		r := runCmd(t, environ, "", "migrate", "--log-level", "warn")
		require.Equal(t, 0, r.code, r.stderr)
		require.Equal(t, "ssogate: sqlite database migrated\n", r.stdout)
	}
	require.FileExists(t, filepath.Join(dir, "data", "ssogate.db"))

	// An explicit database URL wins over the data directory.
	other := filepath.Join(dir, "other", "x.db")
	r := runCmd(t, environ, "", "migrate", "--database-url", "sqlite:"+other)
	require.Equal(t, 0, r.code, r.stderr)
	require.FileExists(t, other)
}

func TestRunServeInProcess(t *testing.T) {
	t.Parallel()
	// The binary test covers signals; this one runs serve under the race
	// detector until its context ends.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stderr := newLogWatcher()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir()}, &env{
			stdin: strings.NewReader(""), stdout: io.Discard, stderr: stderr, getenv: mapEnv(nil),
		})
	}()
	addr := stderr.waitListening(t, done)

	resp, err := http.Get("http://" + addr + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	cancel()
	require.Equal(t, 0, <-done, stderr.String())
	require.Contains(t, stderr.String(), `"msg":"http server stopped"`)
}
