package authdelegate

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
)

// randomToken returns n random bytes, base64url without padding.
func randomToken(n int) string {
	b := make([]byte, n)
	// crypto/rand.Read never returns an error (it panics on failure).
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// newCredential returns a session credential: 256 random bits.
func newCredential() string { return randomToken(32) }

// hashSecret is the stored form of a secret: lowercase hex SHA-256.
func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// credentialShape matches what newCredential produces; anything else is
// refused before touching the store.
var credentialShape = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// sealer encrypts small secrets with AES-256-GCM. The additional data binds
// a ciphertext to its row (the session id, the code hash), so ciphertexts
// cannot be swapped between rows.
type sealer struct {
	aeads []cipher.AEAD // [0] seals; all open
}

func newSealer(key []byte, previous [][]byte) (*sealer, error) {
	s := &sealer{}
	for _, k := range append([][]byte{key}, previous...) {
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("authdelegate: session key: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("authdelegate: session key: %w", err)
		}
		s.aeads = append(s.aeads, aead)
	}
	return s, nil
}

var errUnseal = errors.New("authdelegate: cannot decrypt with any session key")

// seal returns nonce || ciphertext.
func (s *sealer) seal(plain, aad []byte) []byte {
	aead := s.aeads[0]
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	return aead.Seal(nonce, nonce, plain, aad)
}

func (s *sealer) open(sealed, aad []byte) ([]byte, error) {
	for _, aead := range s.aeads {
		if len(sealed) < aead.NonceSize() {
			return nil, errUnseal
		}
		plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], aad)
		if err == nil {
			return plain, nil
		}
	}
	return nil, errUnseal
}
