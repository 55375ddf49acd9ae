package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// LatencyOptions configures BrowserLatency.
type LatencyOptions struct {
	// Bin is the ssogate binary; DataDir a fresh directory for the demo.
	Bin, DataDir string
	// Changes is how many display-name changes to time. Default 100.
	Changes int
	// Tabs is how many article tabs watch (all must show each change).
	// Default 2.
	Tabs int
	// Timeout bounds one change. Default 10s.
	Timeout time.Duration
	// Logf reports progress. Optional.
	Logf func(format string, args ...any)
}

// LatencyResult is what BrowserLatency measured: for each change, the time
// from the webhook accepted (202 received) to the new name in the DOM of
// the LAST of the tabs (each tab records the moment with a
// MutationObserver, on the same clock).
type LatencyResult struct {
	Samples []time.Duration
	// Lost counts changes that did not reach every tab within Timeout.
	Lost int
}

// Percentile returns the p-th percentile (0–100) of the samples, nearest
// rank.
func (r *LatencyResult) Percentile(p float64) time.Duration {
	if len(r.Samples) == 0 {
		return 0
	}
	s := slices.Clone(r.Samples)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

// observer records, per text of the app's user label, when the page first
// showed it (wall clock, ms).
const observer = `(() => {
  window.__seen = window.__seen || {};
  const el = () => document.querySelector('[data-testid="app-user"]');
  const note = () => { const e = el(); if (!e) return; const t = e.textContent;
    if (!(t in window.__seen)) window.__seen[t] = performance.timeOrigin + performance.now(); };
  new MutationObserver(note).observe(document.body, {subtree: true, childList: true, characterData: true});
  note();
  return true;
})()`

// BrowserLatency runs `ssogate demo`, signs alice in through the popup in
// Chromium, opens opts.Tabs article tabs, then sends opts.Changes signed
// profile-changed webhooks one after the other (each waits for the last
// one to show everywhere) and times webhook accepted → new name in the DOM.
func BrowserLatency(ctx context.Context, opts LatencyOptions) (*LatencyResult, error) {
	if opts.Changes <= 0 {
		opts.Changes = 100
	}
	if opts.Tabs <= 0 {
		opts.Tabs = 2
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	demo, err := StartDemo(ctx, opts.Bin, opts.DataDir)
	if err != nil {
		return nil, err
	}
	defer demo.Stop()
	secret, err := demoWebhookSecret(opts.DataDir)
	if err != nil {
		return nil, err
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return nil, err
	}
	browser, err := NewBrowser(ctx)
	if err != nil {
		return nil, err
	}
	defer browser.Close()

	const wait = 60 * time.Second
	first, err := browser.NewTab(demo.SiteURL + "/article")
	if err != nil {
		return nil, err
	}
	if err := first.WaitText(`[data-testid="app-user"]`, "Not signed in", wait); err != nil {
		return nil, err
	}
	done, err := first.LoginPopup(`[data-testid="login"]`, "alice", "alice-password", wait)
	if err != nil {
		return nil, err
	}
	if err := first.WaitJS(`(document.querySelector('[data-testid="app-user"]')||{}).textContent.startsWith('Signed in as')`, wait); err != nil {
		return nil, err
	}
	done()
	tabs := []*Tab{first}
	for len(tabs) < opts.Tabs {
		tab, err := browser.NewTab(demo.SiteURL + "/article")
		if err != nil {
			return nil, err
		}
		if err := tab.WaitJS(`(document.querySelector('[data-testid="app-user"]')||{}).textContent.startsWith('Signed in as')`, wait); err != nil {
			return nil, err
		}
		tabs = append(tabs, tab)
	}
	for _, tab := range tabs {
		if _, err := Eval[bool](tab, observer); err != nil {
			return nil, err
		}
	}

	res := &LatencyResult{}
	for i := 1; i <= opts.Changes; i++ {
		name := fmt.Sprintf("Alice %d-%d", time.Now().Unix()%10000, i)
		accepted, err := sendWebhook(ctx, wh, demo.GatewayURL, name)
		if err != nil {
			return nil, err
		}
		want := "Signed in as " + name
		deadline := accepted.Add(opts.Timeout)
		var last float64
		for _, tab := range tabs {
			var seen float64
			for {
				seen, err = Eval[float64](tab, fmt.Sprintf(`window.__seen[%q] || 0`, want))
				if err != nil {
					return nil, err
				}
				if seen > 0 || time.Now().After(deadline) {
					break
				}
				time.Sleep(10 * time.Millisecond) // polling the page, not timing: the page stamps the moment
			}
			if seen == 0 {
				last = -1
				break
			}
			last = max(last, seen)
		}
		if last < 0 {
			res.Lost++
			logf("change %d: not in every tab within %s", i, opts.Timeout)
			continue
		}
		d := time.Duration((last - float64(accepted.UnixNano())/1e6) * float64(time.Millisecond))
		res.Samples = append(res.Samples, d)
		if i%10 == 0 {
			logf("change %d/%d: %s", i, opts.Changes, d.Round(time.Millisecond))
		}
	}
	return res, nil
}

// demoWebhookSecret reads the secret `ssogate demo` generated.
func demoWebhookSecret(dataDir string) (string, error) {
	data, err := os.ReadFile(filepath.Join(dataDir, "secrets.json"))
	if err != nil {
		return "", err
	}
	var s struct {
		WebhookSecret string `json:"webhook_secret"`
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return "", err
	}
	return s.WebhookSecret, nil
}

// sendWebhook sends alice's profile change, signed as the site's backend
// does, and returns when the gateway accepted it.
func sendWebhook(ctx context.Context, wh *standardwebhooks.Webhook, gatewayURL, name string) (time.Time, error) {
	now := time.Now()
	body, _ := json.Marshal(map[string]any{
		"user_id":    "alice",
		"profile":    map[string]any{"id": "alice", "display_name": name},
		"updated_at": now.UTC().Format(time.RFC3339Nano),
	})
	id := fmt.Sprintf("msg_bench_%d", now.UnixNano())
	sig, err := wh.Sign(id, now, body)
	if err != nil {
		return time.Time{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, gatewayURL+"/hooks/profile-changed", bytes.NewReader(body))
	if err != nil {
		return time.Time{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", fmt.Sprint(now.Unix()))
	req.Header.Set("webhook-signature", sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return time.Time{}, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	accepted := time.Now()
	if resp.StatusCode != http.StatusAccepted {
		return time.Time{}, fmt.Errorf("e2e: webhook answered %d", resp.StatusCode)
	}
	return accepted, nil
}
