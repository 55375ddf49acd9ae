package tokens

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestNewConfig(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		cfg      Config
		wantMsgs []string // all reported at once; empty: valid
	}{
		{"valid", Config{Network: "labs.fyre.co", Key: "k"}, nil},
		{"valid with ring and options", Config{Network: "labs.fyre.co", Key: "k", PreviousKeys: []string{"j"},
			JavaKeyTruncation: true, Leeway: MaxLeeway}, nil},
		{"empty", Config{}, []string{"network is required", "key is required"}},
		{"every problem", Config{Network: "labs .fyre.co", PreviousKeys: []string{"ok", ""}, Leeway: 2 * time.Hour},
			[]string{`network "labs .fyre.co" holds a space`, "key is required", "previous key 1 is empty", "leeway 2h0m0s is longer than 1h0m0s"}},
		{"network with a quote", Config{Network: `a"b`, Key: "k"}, []string{"holds a space, control character, quote or backslash"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := New(tc.cfg)
			if len(tc.wantMsgs) == 0 {
				require.NoError(t, err)
				require.Equal(t, tc.cfg.Network, c.Network())
				return
			}
			require.Nil(t, c)
			require.ErrorContains(t, err, "tokens: invalid config: ")
			for _, m := range tc.wantMsgs {
				require.ErrorContains(t, err, m)
			}
		})
	}
}

func TestNewConfigNeverQuotesKeys(t *testing.T) {
	t.Parallel()
	_, err := New(Config{Network: "a b", Key: "s3cr3t-key", PreviousKeys: []string{"0ld-s3cr3t", ""}})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "s3cr3t")
}

func TestConfigWithDefaults(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		leeway time.Duration
		want   time.Duration
	}{
		{"zero is the default", 0, DefaultLeeway},
		{"negative is none", -1, 0},
		{"set is kept", 5 * time.Second, 5 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := Config{Leeway: tc.leeway}.WithDefaults()
			require.Equal(t, tc.want, cfg.Leeway)
			require.NotNil(t, cfg.Now)
		})
	}
}

func TestExpiredError(t *testing.T) {
	t.Parallel()
	at := time.Date(2014, 4, 4, 23, 44, 43, 0, time.UTC)
	var err error = &ExpiredError{Expires: at}
	wrapped := errors.Join(errors.New("context"), err)

	require.ErrorIs(t, wrapped, ErrExpired)
	var expired *ExpiredError
	require.ErrorAs(t, wrapped, &expired)
	require.Equal(t, at, expired.Expires)
	require.Equal(t, "tokens: token expired at 2014-04-04T23:44:43Z", err.Error())
	require.NotErrorIs(t, err, ErrMalformed)
}
