package bench

import (
	"context"
	"errors"
)

// ErrBrowserNotImplemented is returned by BrowserLatency until the
// Chromium measurement is built on the demo's end-to-end harness.
var ErrBrowserNotImplemented = errors.New("bench: webhook → DOM latency through Chromium is not implemented yet")

// BrowserOptions says what BrowserLatency measures.
type BrowserOptions struct {
	// Target is the system to measure (sqlite, postgres; the floor has no
	// browser side).
	Target TargetSpec
	// Config is the run's configuration (binaries, network, output
	// directory for logs).
	Config Config
	// Samples is how many changes to time. Default 20.
	Samples int
}

// BrowserResult is the webhook → DOM latency: from a signed webhook sent
// to the gateway until a Chromium tab that shows the user (signed in
// through the authdelegate, the app page rendering the hub's profile)
// displays the new name.
type BrowserResult struct {
	Latency Dist
	// Errors counts samples that never showed up in the page.
	Errors int
}

// BrowserLatency measures webhook → DOM latency through Chromium
// (/usr/bin/chromium, chromedp) for opts.Target, with the same latency
// definition as the load steps: from the webhook's intended send time to
// the moment the page's DOM shows the new display name. Run calls it once
// per target when Config.Browser is set and puts the result on that
// target's first step.
//
// It is the hook for the demo's end-to-end harness (`ssogate demo` and its
// Chromium tests): start the system, sign a user in, open the app page,
// then for each sample send a webhook and wait for the name in the DOM.
func BrowserLatency(ctx context.Context, opts BrowserOptions) (*BrowserResult, error) {
	if opts.Target.Kind == KindFloor {
		return nil, errors.New("bench: the floor has no browser side")
	}
	return nil, ErrBrowserNotImplemented
}
