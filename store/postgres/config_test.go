package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		want []string // substrings of the error; none: valid
	}{
		{name: "valid", cfg: Config{URL: "postgres://u@localhost/db"}},
		{name: "valid with schema", cfg: Config{URL: "postgres://u@localhost/db", Schema: "tenant_1"}},
		{name: "missing url", cfg: Config{}, want: []string{"URL is required"}},
		{name: "bad schema", cfg: Config{URL: "postgres://u@localhost/db", Schema: "Bad-Name"}, want: []string{"Schema"}},
		{name: "schema too long", cfg: Config{URL: "postgres://u@localhost/db", Schema: strings.Repeat("a", 47)}, want: []string{"Schema"}},
		{name: "every problem at once", cfg: Config{URL: "postgres://u:secret@localhost:notaport/db", Schema: "1x", MaxConns: 1},
			want: []string{"URL is not a valid", "Schema", "MaxConns"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := tt.cfg
			if cfg.MaxConns == 0 {
				cfg = cfg.WithDefaults()
			}
			err := cfg.validate()
			if len(tt.want) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, w := range tt.want {
				require.Contains(t, err.Error(), w)
			}
			require.NotContains(t, err.Error(), "secret", "never echo a password")
		})
	}
}

func TestOpenInvalidConfig(t *testing.T) {
	t.Parallel()
	_, err := Open(context.Background(), Config{})
	require.ErrorContains(t, err, "URL is required")
}

func TestWireChannel(t *testing.T) {
	t.Parallel()
	plain := &Store{}
	require.Equal(t, "profile_changed", plain.wireChannel("profile_changed"))

	s := &Store{cfg: Config{Schema: "tenant_a"}}
	require.Equal(t, "tenant_a.profile_changed", s.wireChannel("profile_changed"))

	long := &Store{cfg: Config{Schema: strings.Repeat("s", 46)}}
	a := long.wireChannel(strings.Repeat("a", 40))
	b := long.wireChannel(strings.Repeat("a", 39) + "b")
	require.LessOrEqual(t, len(a), maxIdentifier)
	require.NotEqual(t, a, b, "hashed names stay distinct")
	require.Equal(t, a, long.wireChannel(strings.Repeat("a", 40)), "every replica computes the same name")
}

func TestValidateChannel(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"a", "profile_changed", "x" + strings.Repeat("1", 62)} {
		require.NoError(t, validateChannel(ok), ok)
	}
	for _, bad := range []string{"", "1abc", "Abc", "a-b", "a.b", "x" + strings.Repeat("1", 63), "river_insert"} {
		require.Error(t, validateChannel(bad), bad)
	}
}
