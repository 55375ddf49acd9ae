package main

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var updateREADME = flag.Bool("update", false, "rewrite the configuration reference in README.md")

const (
	readmePath       = "../../README.md"
	referenceBegin   = "<!-- BEGIN configuration reference: go test ./cmd/ssogate -run TestREADMEConfigReference -update -->\n"
	referenceEnd     = "<!-- END configuration reference -->\n"
	referenceMissing = "README.md has no configuration reference block; add the BEGIN and END markers"
)

// TestREADMEConfigReference keeps the README's table of configuration keys
// equal to Config's declarations.
func TestREADMEConfigReference(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(readmePath)
	require.NoError(t, err)
	text := string(readme)
	begin := strings.Index(text, referenceBegin)
	end := strings.Index(text, referenceEnd)
	require.True(t, begin >= 0 && end > begin, referenceMissing)

	want := text[:begin] + referenceBegin + configReference() + referenceEnd + text[end+len(referenceEnd):]
	if *updateREADME {
		require.NoError(t, os.WriteFile(readmePath, []byte(want), 0o644))
		return
	}
	require.Equal(t, want, text, "README.md's configuration reference is stale: go test ./cmd/ssogate -run TestREADMEConfigReference -update")
}

// TestREADMEConfigExample loads the README's example file with its secrets
// in the environment.
func TestREADMEConfigExample(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(readmePath)
	require.NoError(t, err)
	_, example, found := strings.Cut(string(readme), "```yaml\n# ssogate.yaml\n")
	require.True(t, found, "README.md has no ssogate.yaml example")
	example, _, _ = strings.Cut(example, "```")
	cfg, err := loadTestConfig(t, example, map[string]string{
		"SSOGATE_NETWORK_KEY":      "k",
		"SSOGATE_AUTH_SESSION_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
	})
	require.NoError(t, err)
	require.Equal(t, "https://labs.quill.fyre.co", cfg.Gateway.HubURL)
}
