package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/ssogate/ssogate/internal/e2e"
)

// DefaultBrowserSamples is how many changes BrowserLatency times by default.
const DefaultBrowserSamples = 50

// BrowserOptions says what BrowserLatency measures.
type BrowserOptions struct {
	// SsogateBin is the ssogate binary whose `demo` runs. Required.
	SsogateBin string
	// WorkDir holds the demo's data directory (removed afterwards).
	// Default os.TempDir().
	WorkDir string
	// Samples is how many changes to time. Default 50.
	Samples int
	// Tabs is how many signed-in article tabs must each show a change.
	// Default 2.
	Tabs int
	// Logf reports progress. Optional.
	Logf func(format string, args ...any)
}

// BrowserResult is the webhook → DOM latency through Chromium.
type BrowserResult struct {
	Latency Dist
	Tabs    int
	// Lost counts changes that did not show in every tab within 10 s.
	Lost int
}

// BrowserLatency measures webhook → DOM latency through Chromium
// (/usr/bin/chromium) on `ssogate demo` (gateway, hub, development
// provider and demo site in one process, on SQLite), with the end-to-end
// harness of internal/e2e: alice signs in through the popup, Tabs article
// tabs open, then Samples signed profile-changed webhooks go out one after
// the other, each timed until the new name is in the DOM of the last tab
// (a MutationObserver stamps the moment in the page).
//
// The clock starts when the gateway answered 202, not at an intended send
// time: changes go one at a time, so nothing queues before the answer,
// which takes a few milliseconds (the load steps' accept latency).
func BrowserLatency(ctx context.Context, opts BrowserOptions) (*BrowserResult, error) {
	if opts.SsogateBin == "" {
		return nil, errors.New("bench: browser latency: the ssogate binary is required")
	}
	if err := e2e.CheckChromium(); err != nil {
		return nil, fmt.Errorf("bench: browser latency: %w", err)
	}
	if opts.Samples <= 0 {
		opts.Samples = DefaultBrowserSamples
	}
	if opts.Tabs <= 0 {
		opts.Tabs = 2
	}
	if opts.WorkDir == "" {
		opts.WorkDir = os.TempDir()
	}
	dir, err := os.MkdirTemp(opts.WorkDir, "ssogate-bench-demo-")
	if err != nil {
		return nil, fmt.Errorf("bench: browser latency: %w", err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	res, err := e2e.BrowserLatency(ctx, e2e.LatencyOptions{
		Bin: opts.SsogateBin, DataDir: dir, Changes: opts.Samples, Tabs: opts.Tabs,
		Timeout: 10 * time.Second, Logf: opts.Logf,
	})
	if err != nil {
		return nil, fmt.Errorf("bench: browser latency: %w", err)
	}
	return &BrowserResult{Latency: distOf(res.Samples), Tabs: opts.Tabs, Lost: res.Lost}, nil
}
