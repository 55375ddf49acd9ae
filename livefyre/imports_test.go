package livefyre

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestImportsOnlyTokens keeps the README's import direction true for this
// package: both sides import livefyre, so it imports no domain package
// and no store, only tokens.
func TestImportsOnlyTokens(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", ".").Output()
	require.NoError(t, err)
	const module = "github.com/ssogate/ssogate"
	var project []string
	for _, p := range strings.Fields(string(out)) {
		if p == module || strings.HasPrefix(p, module+"/") {
			project = append(project, strings.TrimPrefix(strings.TrimPrefix(p, module), "/"))
		}
	}
	require.ElementsMatch(t, []string{"tokens", "livefyre"}, project)
}
