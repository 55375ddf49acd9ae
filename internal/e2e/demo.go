// Package e2e drives `ssogate demo` as a user would: it builds the binary,
// starts the demo in a temporary data directory, and opens it in a real
// Chromium. The end-to-end test and the benchmark harness's --browser mode
// share it.
package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ChromiumPath is where Debian's chromium package installs the browser.
const ChromiumPath = "/usr/bin/chromium"

// ErrNoChromium is returned by CheckChromium when the browser is missing.
var ErrNoChromium = errors.New("e2e: no chromium at " + ChromiumPath + " (apt-get install chromium)")

// CheckChromium reports whether the browser is installed.
func CheckChromium() error {
	if _, err := os.Stat(ChromiumPath); err != nil {
		return ErrNoChromium
	}
	return nil
}

// Build compiles ./cmd/ssogate from the module root into dir and returns the
// binary's path.
func Build(ctx context.Context, moduleRoot, dir string) (string, error) {
	bin := filepath.Join(dir, "ssogate")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/ssogate")
	cmd.Dir = moduleRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("e2e: go build: %w\n%s", err, out)
	}
	return bin, nil
}

// ModuleRoot finds the directory holding go.mod, from the working directory
// upwards.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("e2e: go.mod not found")
		}
		dir = parent
	}
}

// Demo is a running `ssogate demo`.
type Demo struct {
	SiteURL, GatewayURL, HubURL, IdentityURL string
	DataDir                                  string

	cmd    *exec.Cmd
	done   chan struct{}
	output *syncBuffer
}

var demoURL = regexp.MustCompile(`^\s*(news site|gateway|hub \(users page\)|identity provider)\s+(http://\S+)`)

// StartDemo runs `bin demo --data dataDir --port 0` and waits until every
// box answers.
func StartDemo(ctx context.Context, bin, dataDir string) (*Demo, error) {
	cmd := exec.Command(bin, "demo", "--data", dataDir, "--port", "0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	d := &Demo{DataDir: dataDir, cmd: cmd, done: make(chan struct{}), output: &syncBuffer{}}
	cmd.Stderr = d.output
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("e2e: start demo: %w", err)
	}
	go func() {
		_ = cmd.Wait()
		close(d.done)
	}()

	found := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		reported := false
		for sc.Scan() {
			line := sc.Text()
			_, _ = d.output.Write([]byte(line + "\n"))
			if m := demoURL.FindStringSubmatch(line); m != nil {
				switch m[1] {
				case "news site":
					d.SiteURL = m[2]
				case "gateway":
					d.GatewayURL = m[2]
				case "hub (users page)":
					d.HubURL = strings.TrimSuffix(m[2], "/users")
				case "identity provider":
					d.IdentityURL = m[2]
				}
			}
			if !reported && d.SiteURL != "" && d.GatewayURL != "" && d.HubURL != "" && d.IdentityURL != "" {
				reported = true
				found <- nil
			}
		}
		if !reported {
			found <- errors.New("e2e: the demo printed no URLs")
		}
	}()
	select {
	case err = <-found:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err == nil {
		err = d.waitReady(ctx)
	}
	if err != nil {
		d.Stop()
		return nil, fmt.Errorf("%w\n%s", err, d.Output())
	}
	return d, nil
}

func (d *Demo) waitReady(ctx context.Context) error {
	for _, u := range []string{d.GatewayURL + "/readyz", d.HubURL + "/readyz", d.SiteURL + "/", d.IdentityURL + "/.well-known/openid-configuration"} {
		for {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("e2e: %s not ready: %w", u, ctx.Err())
			case <-d.done:
				return errors.New("e2e: the demo exited")
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

// Stop sends SIGTERM and waits for the demo to exit (SIGKILL after 15s).
func (d *Demo) Stop() {
	if d.cmd.Process == nil {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(15 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
	}
}

// ExitCode is the demo's exit code once it has stopped (-1 before).
func (d *Demo) ExitCode() int {
	select {
	case <-d.done:
		return d.cmd.ProcessState.ExitCode()
	default:
		return -1
	}
}

// Output is what the demo printed (stdout and stderr).
func (d *Demo) Output() string { return d.output.String() }

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
