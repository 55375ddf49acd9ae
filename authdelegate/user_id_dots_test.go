package authdelegate

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/tokens"
)

// TestUserIDFromSubjectDotSegments: subjects "." and ".." match the id
// pattern but could never be pinged or pulled (URL path segments), so
// they are encoded like any other unusable subject.
func TestUserIDFromSubjectDotSegments(t *testing.T) {
	t.Parallel()
	for _, subject := range []string{".", ".."} {
		got := UserIDFromSubject(subject)
		require.Equal(t, "s_"+sha40(subject), got)
		require.True(t, tokens.ValidUserID(got))
	}
	require.Equal(t, "...", UserIDFromSubject("..."))
}
