package authdelegate

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/ssogate/ssogate/tokens"
)

// maxPlainUserID is the longest id used unchanged; longer ones are encoded so
// that ids stay short in URLs and JIDs.
const maxPlainUserID = 128

// encodedUserIDPrefix marks encoded ids. Plain ids never start with it.
const encodedUserIDPrefix = "s_"

// UserIDFromSubject maps a provider value (the subject, or the claim named by
// ClaimMapping.UserID) to a Livefyre user id. A valid id (tokens.ValidUserID:
// not "." or "..", which no URL path can carry) of at most 128 bytes
// that does not start with "s_" and is not the reserved "system" (in any
// letter case: a token for it would be a system token) is returned
// unchanged; anything else becomes
// "s_" followed by the first 40 lowercase hex digits of its SHA-256. The
// mapping is stable across replicas and releases, and plain and encoded ids
// never collide. An empty subject yields "".
func UserIDFromSubject(subject string) string {
	if subject == "" {
		return ""
	}
	if len(subject) <= maxPlainUserID && tokens.ValidUserID(subject) && !strings.HasPrefix(subject, encodedUserIDPrefix) &&
		!tokens.IsReservedUserID(subject) {
		return subject
	}
	sum := sha256.Sum256([]byte(subject))
	return encodedUserIDPrefix + hex.EncodeToString(sum[:])[:40]
}
