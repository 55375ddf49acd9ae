package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/testenv"
)

// waitFor bounds every wait on the page. Generous: CI runs this under the
// race detector on two cores; the propagation speed is measured by the
// benchmark harness, not asserted here.
const waitFor = 60 * time.Second

// requireChromium skips without Chromium, except in CI, where the browser
// tests must run.
func requireChromium(t *testing.T) {
	t.Helper()
	if err := CheckChromium(); err != nil {
		testenv.Missing(t, "browser test not run: %v", err)
	}
}

// TestDemoEndToEnd starts `ssogate demo` as a user would (the built binary,
// a fresh data directory) and walks through it in Chromium: sign in as
// alice in the popup, post a comment, open a second tab, change the display
// name on the profile page, and see both tabs and the old comment follow;
// then sign out. Screenshots go to $OUT (or a temporary directory).
func TestDemoEndToEnd(t *testing.T) {
	requireChromium(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()

	demo, err := StartDemo(ctx, binary(t), t.TempDir())
	require.NoError(t, err)
	defer func() {
		demo.Stop()
		require.Equal(t, 0, demo.ExitCode(), "the demo exits 0 on SIGTERM\n%s", demo.Output())
	}()
	t.Logf("demo at %s (gateway %s, hub %s, provider %s)", demo.SiteURL, demo.GatewayURL, demo.HubURL, demo.IdentityURL)

	shots := os.Getenv("OUT")
	if shots == "" {
		shots = t.TempDir()
	}
	shots = filepath.Join(shots, "demo")
	t.Logf("screenshots in %s", shots)
	shot := func(tab *Tab, name string) {
		t.Helper()
		require.NoError(t, tab.Screenshot(filepath.Join(shots, name+".png")))
	}

	browser, err := NewBrowser(ctx)
	require.NoError(t, err)
	defer browser.Close()

	const (
		user     = `[data-testid="app-user"]`
		author   = `[data-testid="comment-author"]`
		whoami   = `[data-testid="whoami"]`
		postBody = `[data-testid="comment-body"]`
	)

	// The first-run page explains the boxes.
	first, err := browser.NewTab(demo.SiteURL + "/")
	require.NoError(t, err)
	require.NoError(t, first.WaitJS(`document.body.innerText.includes('Try this')`, waitFor))
	shot(first, "00-first-run")

	// Tab 1: the article, signed out; sign in as alice in the popup.
	tab1, err := browser.NewTab(demo.SiteURL + "/article")
	require.NoError(t, err)
	require.NoError(t, tab1.WaitText(user, "Not signed in", waitFor))
	shot(tab1, "01-signed-out")
	done, err := tab1.LoginPopup(`[data-testid="login"]`, "alice", "alice-password", waitFor)
	require.NoError(t, err)
	require.NoError(t, tab1.WaitText(user, "Signed in as Alice Example", waitFor))
	done()

	// Post a comment: it shows with alice's name.
	require.NoError(t, tab1.Do(
		chromedp.SendKeys(chromedp.CSS(postBody), "What a lovely building."),
		chromedp.Click(chromedp.CSS(`[data-testid="post"]`)),
	))
	require.NoError(t, tab1.WaitText(author, "Alice Example", waitFor))
	shot(tab1, "02-commented")

	// Tab 2: the same article; the session is shared.
	tab2, err := browser.NewTab(demo.SiteURL + "/article")
	require.NoError(t, err)
	require.NoError(t, tab2.WaitText(user, "Signed in as Alice Example", waitFor))
	require.NoError(t, tab2.WaitText(author, "Alice Example", waitFor))

	// Tab 3: the profile page; change the display name and avatar.
	profile, err := browser.NewTab(demo.SiteURL + "/profile")
	require.NoError(t, err)
	require.NoError(t, profile.WaitJS(`document.getElementById('display-name').value === 'Alice Example'`, waitFor))
	require.NoError(t, profile.Do(
		chromedp.SetValue(chromedp.CSS(`#display-name`), "Alice in Wonderland"),
		chromedp.Click(chromedp.CSS(`input[name="avatar"][value="cat"]`)),
		chromedp.Click(chromedp.CSS(`#save`)),
	))
	require.NoError(t, profile.WaitJS(`document.getElementById('profile-status').textContent.startsWith('Saved')`, waitFor))
	saved := time.Now()
	shot(profile, "03-profile-saved")

	// Both article tabs follow without a click: the app's user (silent
	// re-login with a fresh token) and the old comment (the hub pulled the
	// new profile).
	for _, tab := range []*Tab{tab1, tab2} {
		require.NoError(t, tab.WaitText(user, "Signed in as Alice in Wonderland", waitFor))
		require.NoError(t, tab.WaitText(author, "Alice in Wonderland", waitFor))
		require.NoError(t, tab.WaitJS(`document.querySelector('.comments img').src.endsWith('/avatars/cat.svg')`, waitFor))
	}
	t.Logf("profile saved → both tabs and the old comment show the new name: %s (includes polling)", time.Since(saved))
	shot(tab1, "04-tab1-renamed")
	shot(tab2, "05-tab2-renamed")
	require.NoError(t, profile.WaitText(whoami, "Alice in Wonderland", waitFor))

	// Sign out in tab 1: tab 2 follows.
	require.NoError(t, tab1.Do(chromedp.Click(chromedp.CSS(`[data-testid="logout"]`))))
	require.NoError(t, tab1.WaitText(user, "Not signed in", waitFor))
	require.NoError(t, tab2.WaitText(user, "Not signed in", waitFor))
	// The comment stays, under the new name.
	require.NoError(t, tab2.WaitText(author, "Alice in Wonderland", waitFor))
	shot(tab2, "06-signed-out")
}
