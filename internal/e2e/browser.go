package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// Browser is a headless Chromium with third-party cookies blocked, as
// browsers are heading to by default: nothing in ssogate may need them.
type Browser struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// NewBrowser starts Chromium. Close it when done.
func NewBrowser(ctx context.Context) (*Browser, error) {
	if err := CheckChromium(); err != nil {
		return nil, err
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(ChromiumPath),
		chromedp.NoSandbox,
		chromedp.WindowSize(1100, 900),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("test-third-party-cookie-phaseout", true),
	)...)
	first, cancelFirst := chromedp.NewContext(allocCtx)
	if err := chromedp.Do(first); err != nil {
		cancelFirst()
		cancelAlloc()
		return nil, fmt.Errorf("e2e: start chromium: %w", err)
	}
	return &Browser{ctx: first, cancel: func() { cancelFirst(); cancelAlloc() }}, nil
}

// Close stops the browser.
func (b *Browser) Close() { b.cancel() }

// Tab is one page.
type Tab struct {
	Ctx    context.Context
	cancel context.CancelFunc
}

// NewTab opens a tab of the same browser profile (shared storage) at url.
// The browser's first tab is used for the first call.
func (b *Browser) NewTab(url string) (*Tab, error) {
	ctx, cancel := chromedp.NewContext(b.ctx)
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		return nil, err
	}
	// Also restrict third-party cookies through the protocol where the
	// browser supports it (the flag covers the rest).
	_, _ = chromedp.Call(ctx, network.SetCookieControls, network.SetCookieControlsParams{EnableThirdPartyCookieRestriction: true})
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		cancel()
		return nil, err
	}
	return &Tab{Ctx: ctx, cancel: cancel}, nil
}

// Close closes the tab.
func (t *Tab) Close() { t.cancel() }

// Do runs actions in the tab.
func (t *Tab) Do(actions ...chromedp.Action[chromedp.Void]) error {
	return chromedp.Do(t.Ctx, actions...)
}

// Eval evaluates a JavaScript expression.
func Eval[T any](t *Tab, js string) (T, error) {
	return chromedp.Run(t.Ctx, chromedp.Evaluate[T](js))
}

// WaitJS polls the boolean JavaScript expression until it is true or
// timeout passes, surviving navigations.
func (t *Tab) WaitJS(js string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		_, err := chromedp.Run(t.Ctx, chromedp.Poll[bool](js,
			chromedp.WithPollingInterval(5*time.Millisecond),
			chromedp.WithPollingTimeout(time.Until(deadline))))
		if err == nil {
			return nil
		}
		if time.Now().Before(deadline) && strings.Contains(err.Error(), "navigated") {
			continue
		}
		page, _ := Eval[string](t, `location.href + ' | ' + document.body.innerText.slice(0, 600)`)
		return fmt.Errorf("e2e: waiting for %s: %w (page: %q)", js, err, page)
	}
}

// WaitText waits until the text of the first element matching selector
// equals want.
func (t *Tab) WaitText(selector, want string, timeout time.Duration) error {
	return t.WaitJS(fmt.Sprintf(`((document.querySelector(%q) || {}).textContent || '').trim() === %q`, selector, want), timeout)
}

// Screenshot saves the tab's viewport as PNG.
func (t *Tab) Screenshot(path string) error {
	buf, err := chromedp.Run(t.Ctx, chromedp.CaptureScreenshot())
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, buf, 0o644)
}

// LoginPopup clicks clickSelector in t, which must open the provider's login
// in a popup, and signs in there as user. Call done once the page shows the
// sign-in: it releases the popup (which closes itself after posting the
// result to the page; releasing it earlier would close it too soon).
func (t *Tab) LoginPopup(clickSelector, user, password string, timeout time.Duration) (done func(), err error) {
	id := chromedp.FromContext(t.Ctx).Target.TargetID
	popups := chromedp.WaitNewTarget(t.Ctx, func(info *target.Info) bool { return info.OpenerID == id })
	if err := t.Do(chromedp.Click(chromedp.CSS(clickSelector))); err != nil {
		return nil, err
	}
	var popupID target.ID
	select {
	case popupID = <-popups:
	case <-time.After(timeout):
		return nil, fmt.Errorf("e2e: no login popup opened")
	}
	popup, cancel := chromedp.NewContext(t.Ctx, chromedp.WithTargetID(popupID))
	if err := chromedp.Do(popup,
		chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), user),
		chromedp.SendKeys(chromedp.CSS(`#password`), password),
	); err != nil {
		cancel()
		return nil, fmt.Errorf("e2e: login form: %w", err)
	}
	// The popup posts the result to the opener and closes itself: the
	// click may end with the target gone.
	_ = chromedp.Do(popup, chromedp.Click(chromedp.CSS(`button[value="login"].primary`)))
	return cancel, nil
}
