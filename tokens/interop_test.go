package tokens

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/testenv"
)

// The interop test runs Livefyre's official Node library (npm
// livefyre@2.0.9, spec source NODE) through testdata/livefyre_interop.js.
//
// LIVEFYRE_NODE_MODULES names a folder holding node_modules/livefyre:
//
//	mkdir -p /tmp/lfnode && cd /tmp/lfnode && npm install livefyre@2.0.9
//	LIVEFYRE_NODE_MODULES=/tmp/lfnode go test ./tokens/
//
// Without it (or without node) the test skips, except when CI is set: then
// it fails, so that CI never passes without having run it.

const interopInstall = "mkdir -p /tmp/lfnode && (cd /tmp/lfnode && npm install livefyre@2.0.9) && export LIVEFYRE_NODE_MODULES=/tmp/lfnode"

type interopRequest struct {
	Network string                `json:"network"`
	Key     string                `json:"key"`
	System  map[string]string     `json:"system"`
	User    map[string]string     `json:"user"`
	Mint    map[string]interopUAT `json:"mint"`
}

type interopUAT struct {
	UserID      string  `json:"userId"`
	DisplayName *string `json:"displayName,omitempty"`
	Expires     int     `json:"expires"`
}

type interopResponse struct {
	Versions map[string]string `json:"versions"`
	System   map[string]struct {
		Valid *bool  `json:"valid"`
		Error string `json:"error"`
	} `json:"system"`
	User map[string]struct {
		Payload map[string]any `json:"payload"`
		Error   string         `json:"error"`
	} `json:"user"`
	Minted map[string]string `json:"minted"`
}

// runLivefyreNode runs the driver, or skips (fails under CI) when Node or
// the package is missing.
func runLivefyreNode(t *testing.T, req interopRequest) interopResponse {
	t.Helper()
	missing := func(reason string) {
		t.Helper()
		testenv.Missing(t, "%s; to run it (as .ci/run does): %s", reason, interopInstall)
	}
	root := os.Getenv("LIVEFYRE_NODE_MODULES")
	if root == "" {
		missing("LIVEFYRE_NODE_MODULES is not set")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not on PATH")
	}
	if _, err := os.Stat(filepath.Join(root, "node_modules", "livefyre", "package.json")); err != nil {
		// Set but wrong is a mistake, not a machine without Node: fail.
		t.Fatalf("LIVEFYRE_NODE_MODULES=%s holds no node_modules/livefyre: %v (install: %s)", root, err, interopInstall)
	}

	in, err := json.Marshal(req)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("testdata", "livefyre_interop.js"))
	cmd.Env = append(os.Environ(), "LIVEFYRE_NODE_MODULES="+root)
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "node: %s", stderr.String())

	var resp interopResponse
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &resp), "node output: %s", stdout.String())
	require.Equal(t, "2.0.9", resp.Versions["livefyre"])
	require.True(t, strings.HasPrefix(resp.Versions["jsonwebtoken"], "5."), "jsonwebtoken %s", resp.Versions["jsonwebtoken"])
	return resp
}

func TestInteropLivefyreNode(t *testing.T) {
	t.Parallel()

	const (
		network = "test.fyre.co" // the Node library wants names ending in fyre.co
		key     = "dGhlIG5ldHdvcmsga2V5IG9mIHRlc3Q="
	)
	// Node reads the real clock, so ssogate does too.
	codec, err := New(Config{Network: network, Key: key})
	require.NoError(t, err)
	mustMint := func(c *Codec, user, name string, ttl time.Duration) string {
		t.Helper()
		tok, err := c.Mint(user, name, ttl)
		require.NoError(t, err)
		return tok
	}
	mustSystem := func(c *Codec, ttl time.Duration) string {
		t.Helper()
		tok, err := c.MintSystem(ttl)
		require.NoError(t, err)
		return tok
	}
	past, err := New(Config{Network: network, Key: key, Now: func() time.Time { return time.Now().Add(-25 * time.Hour) }})
	require.NoError(t, err)
	otherKey, err := New(Config{Network: network, Key: "another network's key"})
	require.NoError(t, err)
	otherNetwork, err := New(Config{Network: "other.fyre.co", Key: key})
	require.NoError(t, err)

	displayNames := map[string]string{
		"plain":   "Bob Dole",
		"escapes": "Bob \"the\" \\ builder\n\t\x01",
		"unicode": "Zoë Ångström 😀 \u2028\u2029",
		"longest": strings.Repeat("ü", MaxDisplayNameLength),
		"empty":   "",
	}
	userTokens := map[string]string{}
	for name, display := range displayNames {
		userTokens[name] = mustMint(codec, "user-1.a_b", display, time.Hour)
	}
	good := userTokens["plain"]
	userTokens["tampered"] = good[:len(good)-3] + "AAA"
	userTokens["other key"] = mustMint(otherKey, "bob", "Bob", time.Hour)

	str := func(s string) *string { return &s }
	resp := runLivefyreNode(t, interopRequest{
		Network: network,
		Key:     key,
		System: map[string]string{
			"system 24h":          mustSystem(codec, 0),
			"system 1m":           mustSystem(codec, time.Minute),
			"user token":          good,
			"system expired":      mustSystem(past, 0),
			"system other key":    mustSystem(otherKey, 0),
			"system other domain": mustSystem(otherNetwork, 0),
		},
		User: userTokens,
		Mint: map[string]interopUAT{
			"plain":           {UserID: "user-1.a_b", DisplayName: str("Bob Dole"), Expires: 3600},
			"unicode":         {UserID: "abc.ABC-123_huh", DisplayName: str("Zoë \"Q\" 😀 \u2028"), Expires: 600},
			"no display name": {UserID: "commenter_0", Expires: 600},
		},
	})

	t.Run("validateLivefyreToken accepts ssogate system tokens", func(t *testing.T) {
		t.Parallel()
		for name, want := range map[string]bool{
			"system 24h": true, "system 1m": true,
			"user token": false, "system expired": false, "system other domain": false,
		} {
			got := resp.System[name]
			require.Empty(t, got.Error, name)
			require.NotNil(t, got.Valid, name)
			require.Equal(t, want, *got.Valid, name)
		}
		require.Contains(t, resp.System["system other key"].Error, "invalid signature")
	})

	t.Run("jsonwebtoken verifies ssogate user tokens", func(t *testing.T) {
		t.Parallel()
		for name, display := range displayNames {
			got := resp.User[name]
			require.Empty(t, got.Error, name)
			ours, err := codec.Verify(userTokens[name])
			require.NoError(t, err)
			require.Equal(t, map[string]any{
				"domain":       network,
				"user_id":      "user-1.a_b",
				"display_name": display,
				"expires":      float64(ours.Expires.Unix()),
				"iat":          float64(ours.IssuedAt.Unix()),
			}, got.Payload, name)
		}
		require.Contains(t, resp.User["tampered"].Error, "invalid signature")
		require.Contains(t, resp.User["other key"].Error, "invalid signature")
	})

	t.Run("ssogate verifies tokens the Node library mints", func(t *testing.T) {
		t.Parallel()
		now := time.Now()
		system, err := codec.VerifySystem(resp.Minted["system"])
		require.NoError(t, err)
		require.WithinDuration(t, now.Add(24*time.Hour), system.Expires, time.Minute)

		tests := []struct {
			name, userID, display string
			hasDisplay            bool
			ttl                   time.Duration
		}{
			{"plain", "user-1.a_b", "Bob Dole", true, time.Hour},
			{"unicode", "abc.ABC-123_huh", "Zoë \"Q\" 😀 \u2028", true, 10 * time.Minute},
			{"no display name", "commenter_0", "", false, 10 * time.Minute},
		}
		for _, tc := range tests {
			got, err := codec.Verify(resp.Minted[tc.name])
			require.NoError(t, err, tc.name)
			require.Equal(t, tc.userID, got.UserID)
			require.Equal(t, tc.display, got.DisplayName)
			require.Equal(t, tc.hasDisplay, got.HasDisplayName)
			require.WithinDuration(t, now.Add(tc.ttl), got.Expires, time.Minute)
			require.WithinDuration(t, now, got.IssuedAt, time.Minute)

			_, err = codec.VerifySystem(resp.Minted[tc.name])
			require.ErrorIs(t, err, ErrNotSystem)
			_, err = otherKey.Verify(resp.Minted[tc.name])
			require.ErrorIs(t, err, ErrBadSignature)
		}
	})
}
