package hub

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValidCallback(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"_lfcallback_1400000000123", "cb", "$", "jQuery1102_123", "a.b.c", "window.Livefyre._cb"} {
		require.True(t, validCallback(ok), ok)
	}
	for _, bad := range []string{"", "1cb", "a b", "alert(1)//", "a;b", "a..b", ".a", "a.", "a[0]", "a-b", "<script>",
		"a.b.c.d.e.f", "é", strings.Repeat("a", 129), "cb\n", "a/**/"} {
		require.False(t, validCallback(bad), bad)
	}
}

func FuzzValidCallback(f *testing.F) {
	f.Add("_lfcallback_1")
	f.Add("a.b")
	f.Add("x(1)")
	f.Fuzz(func(t *testing.T, name string) {
		if !validCallback(name) {
			return
		}
		require.LessOrEqual(t, len(name), maxCallbackLength)
		for _, r := range name {
			ok := r == '_' || r == '$' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
			require.True(t, ok, "unsafe %q in %q", r, name)
		}
		require.False(t, name[0] >= '0' && name[0] <= '9')
		require.NotContains(t, name, "..")
	})
}
