package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// inProcessDemo is `ssogate demo` run in this process on free ports, as
// serve and hub wire it; it stops when the test ends.
type inProcessDemo struct {
	site, gateway, hub string
	dir                string
	stdout             *syncBuffer
	secrets            *demoSecrets
}

// startDemo runs the demo and waits until it printed its URLs.
func startDemo(t *testing.T) *inProcessDemo {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	d := &inProcessDemo{dir: t.TempDir(), stdout: &syncBuffer{}}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--port", "0", "--data", d.dir}, &env{
			stdin: strings.NewReader(""), stdout: d.stdout, stderr: io.Discard, getenv: mapEnv(nil),
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	require.Eventually(t, func() bool {
		m := demoURLs.FindStringSubmatch(d.stdout.String())
		if m == nil {
			return false
		}
		d.site, d.gateway, d.hub = m[1], m[2], m[3]
		return true
	}, time.Minute, 20*time.Millisecond, "the demo did not start: %s", d.stdout)
	secrets, err := loadDemoSecrets(filepath.Join(d.dir, "secrets.json"))
	require.NoError(t, err)
	d.secrets = secrets
	return d
}
