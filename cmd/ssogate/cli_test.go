package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCLICommandHelp: each command's -h shows its own flags and an example,
// and not the Config flags of the other roles.
func TestCLICommandHelp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args    []string
		shows   []string
		hides   []string
		example string
	}{
		{
			args:    []string{"serve", "-h"},
			shows:   []string{"--listen string", "--public-url string", "--auth-issuer-url string", "--network-name string", "--config string"},
			hides:   []string{"--app-origins", "--allow-private-targets", "--stdin", "--url"},
			example: "ssogate serve --config ssogate.yaml",
		},
		{
			args:    []string{"hub", "--help"},
			shows:   []string{"--listen string", "--app-origins strings", "--allow-private-targets"},
			hides:   []string{"--public-url", "--auth-issuer-url", "--webhook-rate"},
			example: "ssogate hub --config hub.yaml",
		},
		{
			args:    []string{"migrate", "-h"},
			shows:   []string{"--database-url string", "--data-dir string", "--log-level string"},
			hides:   []string{"--listen", "--network-name", "--auth-issuer-url", "--app-origins"},
			example: "ssogate migrate --data-dir",
		},
		{
			args:    []string{"ping", "-h"},
			shows:   []string{"--stdin", "--wait ", "--no-wait", "--wait-timeout duration", "--public-url string", "--database-url string"},
			hides:   []string{"--listen", "--auth-issuer-url", "--app-origins"},
			example: "ssogate ping --stdin --wait < user-ids.txt",
		},
		{
			args:    []string{"token", "mint", "-h"},
			shows:   []string{"--user string", "--ttl duration", "--system", "--network-name string"},
			hides:   []string{"--database-url", "--listen", "--public-url"},
			example: "ssogate token mint --system",
		},
		{
			args:    []string{"healthcheck", "-h"},
			shows:   []string{"--url string", "--timeout duration", `(default "http://127.0.0.1:8080/healthz")`},
			hides:   []string{"--config", "--listen"},
			example: "ssogate healthcheck --url http://127.0.0.1:8080/healthz --timeout 3s",
		},
		{
			args:    []string{"demo", "-h"},
			shows:   []string{"--data string", "--port int", "--log-level string"},
			hides:   []string{"--listen", "--config", "--database-url"},
			example: "ssogate demo --data /tmp/ssogate-demo --port 9000",
		},
		{
			args:    []string{"config", "-h"},
			shows:   []string{"--listen string", "--app-origins strings", "--auth-issuer-url string", "--public-url string", `--auth-scopes strings`, `(default openid,profile,email,offline_access)`},
			example: "ssogate config --config ssogate.yaml",
		},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			r := runCmd(t, nil, "", tt.args...)
			require.Equal(t, 0, r.code, r.stderr)
			require.Empty(t, r.stderr)
			require.Contains(t, r.stdout, "Examples:\n")
			require.Contains(t, r.stdout, tt.example)
			for _, s := range tt.shows {
				require.Contains(t, r.stdout, s)
			}
			for _, s := range tt.hides {
				require.NotContains(t, r.stdout, s)
			}
		})
	}
}

// TestCLIEveryCommandHasAnExample walks the command table, subcommands too.
func TestCLIEveryCommandHasAnExample(t *testing.T) {
	t.Parallel()
	var walk func(prefix []string, specs []commandSpec)
	walk = func(prefix []string, specs []commandSpec) {
		for _, spec := range specs {
			name, _, _ := strings.Cut(spec.use, " ")
			args := append(append([]string(nil), prefix...), name)
			require.NotEmpty(t, spec.example, strings.Join(args, " "))
			r := runCmd(t, nil, "", append(args, "-h")...)
			require.Equal(t, 0, r.code, r.stderr)
			_, examples, found := strings.Cut(r.stdout, "Examples:\n")
			require.True(t, found, strings.Join(args, " "))
			examples, _, _ = strings.Cut(examples, "\n\n")
			require.Contains(t, examples, "ssogate "+strings.Join(args, " "))
			walk(args, spec.sub)
		}
	}
	walk(nil, commandSpecs())
}

// TestCLIHiddenFlagsStillWork: a Config flag that a command's help hides
// (not its role's) is still accepted, as every command took every Config
// flag before.
func TestCLIHiddenFlagsStillWork(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := runCmd(t, nil, "", "migrate", "--data-dir", dir, "--listen", "127.0.0.1:9", "--auth-claim-email", "mail")
	require.Equal(t, 0, r.code, r.stderr)
	require.FileExists(t, filepath.Join(dir, "ssogate.db"))
}

func TestCLIDidYouMean(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"serv"}, "ssogate: unknown command \"serv\" for \"ssogate\"\n\nDid you mean this?\n\tserve\n"},
		{[]string{"pnig", "alice"}, "Did you mean this?\n\tping\n"},
		{[]string{"migrat"}, "Did you mean this?\n\tmigrate\n"},
		{[]string{"healthchek", "--url", "http://127.0.0.1:1/"}, "Did you mean this?\n\thealthcheck\n"},
		{[]string{"token", "mnt"}, "ssogate: unknown token command \"mnt\"\n\nDid you mean this?\n\tmint\n"},
	}
	for _, tt := range tests {
		t.Run(tt.args[0], func(t *testing.T) {
			t.Parallel()
			r := runCmd(t, nil, "", tt.args...)
			require.Equal(t, 2, r.code)
			require.Contains(t, r.stderr, tt.want)
			require.Empty(t, r.stdout)
		})
	}
	// Far from every command: no suggestion.
	r := runCmd(t, nil, "", "frobnicate")
	require.Equal(t, 2, r.code)
	require.NotContains(t, r.stderr, "Did you mean")
}

func TestCLIVersionFlag(t *testing.T) {
	t.Parallel()
	want := runCmd(t, nil, "", "version")
	require.Equal(t, 0, want.code)
	require.Equal(t, versionString()+"\n", want.stdout)
	for _, flag := range []string{"--version", "-v", "-version"} {
		r := runCmd(t, nil, "", flag)
		require.Equal(t, 0, r.code, flag+": "+r.stderr)
		require.Equal(t, want.stdout, r.stdout, flag)
	}
}

// TestCLICompletion: the scripts for each shell, and the completions they
// ask the binary for (cobra's hidden __complete command).
func TestCLICompletion(t *testing.T) {
	t.Parallel()
	for shell, marker := range map[string]string{
		"bash": "# bash completion V2 for ssogate",
		"zsh":  "#compdef ssogate",
		"fish": "complete -c ssogate ",
	} {
		r := runCmd(t, nil, "", "completion", shell)
		require.Equal(t, 0, r.code, shell+": "+r.stderr)
		require.Contains(t, r.stdout, marker, shell)
		require.Contains(t, r.stdout, "__complete", shell)
	}

	r := runCmd(t, nil, "", "__complete", "he")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "healthcheck\t")
	require.Contains(t, r.stdout, "help\t")
	require.NotContains(t, r.stdout, "serve\t")

	r = runCmd(t, nil, "", "__complete", "ping", "--wa")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "--wait\t")
	require.Contains(t, r.stdout, "--wait-timeout\t")
	require.NotContains(t, r.stdout, "--webhook-rate", "only flags with the prefix")

	r = runCmd(t, nil, "", "__complete", "token", "")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "mint\t")
	require.Contains(t, r.stdout, "verify\t")
}

// TestCLIPrecedence: flag > environment > file > default, through the
// command line, for a string, a list, a bool and a number.
func TestCLIPrecedence(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ssogate.yaml")
	require.NoError(t, os.WriteFile(path, []byte(
		"listen: 127.0.0.1:1001\ndebug_contention: false\ngateway:\n  webhook_rate: 11\nauth:\n  scopes: [openid, file]\n"), 0o600))
	file := map[string]string{"SSOGATE_CONFIG": path}
	fileAndEnv := map[string]string{
		"SSOGATE_CONFIG":           path,
		"SSOGATE_LISTEN":           "127.0.0.1:1002",
		"SSOGATE_DEBUG_CONTENTION": "true",
		"SSOGATE_WEBHOOK_RATE":     "22",
		"SSOGATE_AUTH_SCOPES":      "openid,env",
	}
	flags := []string{"--listen", "127.0.0.1:1003", "--debug-contention=false", "--webhook-rate", "33", "--auth-scopes", "openid,flag"}
	tests := []struct {
		name    string
		environ map[string]string
		args    []string
		want    []string
	}{
		{"defaults", nil, nil, []string{"listen: 127.0.0.1:8080\n", "debug_contention: false\n", "webhook_rate: 100\n", "- offline_access\n"}},
		{"file", file, nil, []string{"listen: 127.0.0.1:1001\n", "debug_contention: false\n", "webhook_rate: 11\n", "- file\n"}},
		{"environment over file", fileAndEnv, nil, []string{"listen: 127.0.0.1:1002\n", "debug_contention: true\n", "webhook_rate: 22\n", "- env\n"}},
		{"flags over environment", fileAndEnv, flags, []string{"listen: 127.0.0.1:1003\n", "debug_contention: false\n", "webhook_rate: 33\n", "- flag\n"}},
		{"--config over SSOGATE_CONFIG", map[string]string{"SSOGATE_CONFIG": "/nonexistent.yaml"}, []string{"--config", path}, []string{"listen: 127.0.0.1:1001\n"}},
		{"Go-style single dash", nil, []string{"-listen", "127.0.0.1:1004", "-debug-contention"}, []string{"listen: 127.0.0.1:1004\n", "debug_contention: true\n"}},
		{"flags anywhere", nil, []string{"--webhook-rate=44"}, []string{"webhook_rate: 44\n"}},
		{"a value that looks like a flag", nil, []string{"-auth-claim-email", "-listen"}, []string{"email: -listen\n", "listen: 127.0.0.1:8080\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCmd(t, tt.environ, "", append([]string{"config"}, tt.args...)...)
			require.Equal(t, 0, r.code, r.stderr)
			for _, w := range tt.want {
				require.Contains(t, r.stdout, w)
			}
		})
	}
}

// TestCLIAllErrorsAtOnce: a bad flag value, a bad variable and a bad file
// are reported together, as before cobra.
func TestCLIAllErrorsAtOnce(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(path, []byte("lisen: 127.0.0.1:1\n"), 0o600))
	for _, cmd := range []string{"serve", "hub", "config", "migrate"} {
		r := runCmd(t, map[string]string{"SSOGATE_CONFIG": path, "SSOGATE_LOG_LEVEL": "loud"}, "",
			cmd, "--webhook-rate", "fast", "--auth-idle-timeout", "soon")
		require.Equal(t, 2, r.code, cmd)
		require.Contains(t, r.stderr, "ssogate: invalid configuration:\n", cmd)
		for _, want := range []string{"unknown key lisen", "--webhook-rate: not a number", "--auth-idle-timeout: not a duration", `log_level: "loud"`} {
			require.Contains(t, r.stderr, want, cmd)
		}
	}
}

// TestREADMECommandsTable: the README's table of commands has a row for
// every command, subcommands and cobra's completion included.
func TestREADMECommandsTable(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(readmePath)
	require.NoError(t, err)
	_, table, found := strings.Cut(string(readme), "## Commands\n")
	require.True(t, found, "README.md has no Commands section")
	table, _, _ = strings.Cut(table, "\n\n`")
	rows := map[string]bool{}
	word := func(s string) string {
		return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '`' })[0]
	}
	for _, line := range strings.Split(table, "\n") {
		if strings.HasPrefix(line, "| `ssogate ") {
			for _, part := range strings.Split(line, "`ssogate ")[1:] {
				rows[word(part)] = true
			}
		}
	}
	var walk func(prefix string, specs []commandSpec)
	walk = func(prefix string, specs []commandSpec) {
		for _, spec := range specs {
			name, _, _ := strings.Cut(spec.use, " ")
			if len(spec.sub) > 0 {
				walk(prefix+name+" ", spec.sub)
				continue
			}
			first, _, _ := strings.Cut(prefix+name, " ")
			require.True(t, rows[first], "README.md's Commands table has no row for ssogate %s", prefix+name)
		}
	}
	walk("", commandSpecs())
	require.True(t, rows["completion"], "README.md's Commands table has no row for ssogate completion")
}

// TestCLIDockerfileHealthcheck runs the Dockerfile's HEALTHCHECK command
// line, as written there, through the command line against a server.
func TestCLIDockerfileHealthcheck(t *testing.T) {
	t.Parallel()
	dockerfile, err := os.ReadFile("../../Dockerfile")
	require.NoError(t, err)
	m := regexp.MustCompile(`CMD \["/usr/local/bin/ssogate", (.*)\]\n`).FindSubmatch(dockerfile)
	require.NotNil(t, m, "the Dockerfile has no HEALTHCHECK … CMD [\"/usr/local/bin/ssogate\", …]")
	var args []string
	require.NoError(t, json.Unmarshal([]byte("["+string(m[1])+"]"), &args))
	require.Equal(t, []string{"healthcheck", "--url", defaultHealthcheckURL, "--timeout", "3s"}, args)

	healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	t.Cleanup(healthy.Close)
	args[2] = healthy.URL + "/healthz"
	r := runCmd(t, nil, "", args...)
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, "ssogate: healthy (200 OK)\n", r.stdout)

	healthy.Close()
	r = runCmd(t, nil, "", args...)
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "ssogate: unhealthy: ")
}
