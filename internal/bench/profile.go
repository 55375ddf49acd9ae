package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// ssogate's debug listener (debug_listen, debug_contention) and the floor
// children's read these.
const (
	envPprofAddr       = "SSOGATE_DEBUG_LISTEN"
	envPprofContention = "SSOGATE_DEBUG_CONTENTION"
)

// pprofAddrs picks two loopback addresses for the children's profiling
// listeners.
func pprofAddrs() (gw, hub string, err error) {
	p1, err := freePort()
	if err != nil {
		return "", "", err
	}
	p2, err := freePort()
	if err != nil {
		return "", "", err
	}
	return "127.0.0.1:" + strconv.Itoa(p1), "127.0.0.1:" + strconv.Itoa(p2), nil
}

// profiler takes the children's CPU profiles over a step's load.
type profiler struct {
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []error
}

// startProfiles starts a CPU profile of every profiled child for d
// (rounded up to whole seconds), written to dir/label-role.cpu.pprof.
func startProfiles(ctx context.Context, sys *system, dir, label string, d time.Duration) *profiler {
	p := &profiler{}
	secs := int(math.Ceil(d.Seconds()))
	for _, c := range sys.children() {
		if c.pprofAddr == "" {
			continue
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			u := "http://" + c.pprofAddr + "/debug/pprof/profile?seconds=" + strconv.Itoa(secs)
			path := filepath.Join(dir, label+"-"+c.role+".cpu.pprof")
			if err := fetchTo(ctx, u, path, d+30*time.Second); err != nil {
				p.fail(fmt.Errorf("bench: CPU profile of %s (built with the profiling hook? ssogate-bench --profile builds it): %w", c.role, err))
			}
		}()
	}
	return p
}

// contention writes the mutex and block profiles of every profiled child.
func (p *profiler) contention(ctx context.Context, sys *system, dir, label string) {
	for _, c := range sys.children() {
		if c.pprofAddr == "" {
			continue
		}
		for _, kind := range []string{"mutex", "block"} {
			u := "http://" + c.pprofAddr + "/debug/pprof/" + kind
			if err := fetchTo(ctx, u, filepath.Join(dir, label+"-"+c.role+"."+kind+".pprof"), 30*time.Second); err != nil {
				p.fail(fmt.Errorf("bench: %s profile of %s: %w", kind, c.role, err))
			}
		}
	}
}

func (p *profiler) fail(err error) {
	p.mu.Lock()
	p.errs = append(p.errs, err)
	p.mu.Unlock()
}

// wait waits for the CPU profiles and returns what went wrong.
func (p *profiler) wait() []error {
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.errs
}

// fetchTo GETs u into path.
func fetchTo(ctx context.Context, u, path string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %d", u, resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
