package tokens

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// DefaultLeeway is the clock skew Verify tolerates when Config.Leeway is zero.
const DefaultLeeway = 30 * time.Second

// MaxLeeway bounds Config.Leeway: a larger one would turn expiry into a
// suggestion.
const MaxLeeway = time.Hour

// SystemUserID is the user id (and display name) of a system token.
const SystemUserID = "system"

// DefaultSystemTTL is the lifetime of a system token when MintSystem gets
// zero, the 24 hours of every Livefyre library.
const DefaultSystemTTL = 24 * time.Hour

// javaKeyLength is where Livefyre's Java library cuts (or zero-pads) network
// keys: Arrays.copyOf(key.getBytes(), 32).
const javaKeyLength = 32

// Config configures a Codec for one network.
type Config struct {
	// Network is the network name, the domain claim of every token, e.g.
	// "labs.fyre.co". Required. It is not required to end in "fyre.co":
	// self-hosted hubs and the libraries' test vectors ("test.fyre.com") use
	// other names.
	Network string
	// Key is the current network key. It signs every minted token and
	// verifies. Its string bytes are the HMAC key, as in every Livefyre
	// library. Required.
	Key string
	// PreviousKeys still verify (never sign) during a key rotation. Empty
	// by default. Entries equal to Key are ignored.
	PreviousKeys []string
	// JavaKeyTruncation also tries each key cut to its first 32 bytes when
	// it is longer than that: Livefyre's Java library signs with
	// Arrays.copyOf(key, 32), so its tokens differ from the other libraries'
	// only for keys longer than 32 bytes. Off by default.
	JavaKeyTruncation bool
	// Leeway is the clock skew tolerated when checking expires, exp and
	// nbf. Zero means DefaultLeeway (30s); a negative value means none. At
	// most MaxLeeway.
	Leeway time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// WithDefaults returns a copy of cfg with every unset field at its default.
func (cfg Config) WithDefaults() Config {
	if cfg.Leeway == 0 {
		cfg.Leeway = DefaultLeeway
	}
	if cfg.Leeway < 0 {
		cfg.Leeway = 0
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg
}

// validate reports every problem at once. It never quotes a key.
func (cfg Config) validate() error {
	var errs []error
	switch {
	case cfg.Network == "":
		errs = append(errs, errors.New("network is required"))
	case strings.IndexFunc(cfg.Network, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || r == '"' || r == '\\'
	}) >= 0:
		errs = append(errs, fmt.Errorf("network %q holds a space, control character, quote or backslash", cfg.Network))
	}
	if cfg.Key == "" {
		errs = append(errs, errors.New("key is required"))
	}
	for i, k := range cfg.PreviousKeys {
		if k == "" {
			errs = append(errs, fmt.Errorf("previous key %d is empty", i))
		}
	}
	if cfg.Leeway > MaxLeeway {
		errs = append(errs, fmt.Errorf("leeway %s is longer than %s", cfg.Leeway, MaxLeeway))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("tokens: invalid config: %w", errors.Join(errs...))
}

// Codec mints and verifies the tokens of one network. It is safe for
// concurrent use.
type Codec struct {
	network string
	// signKey is the current key, boxed once so that signing does not
	// allocate the interface value jwt wants.
	signKey any
	// verifyKeys is the ring, current key first, then previous keys, then
	// (with JavaKeyTruncation) their 32-byte cuts; no duplicates.
	verifyKeys []any
	leeway     time.Duration
	now        func() time.Time
}

// New checks cfg (after WithDefaults) and returns a Codec.
func New(cfg Config) (*Codec, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := &Codec{
		network: cfg.Network,
		signKey: []byte(cfg.Key),
		leeway:  cfg.Leeway,
		now:     cfg.Now,
	}
	seen := make(map[string]bool)
	add := func(k string) {
		if seen[k] {
			return
		}
		seen[k] = true
		c.verifyKeys = append(c.verifyKeys, []byte(k))
	}
	keys := append([]string{cfg.Key}, cfg.PreviousKeys...)
	for _, k := range keys {
		add(k)
	}
	if cfg.JavaKeyTruncation {
		for _, k := range keys {
			if len(k) > javaKeyLength {
				add(k[:javaKeyLength])
			}
		}
	}
	return c, nil
}

// Network returns the network name, the domain of every token the codec
// mints or accepts.
func (c *Codec) Network() string { return c.network }
