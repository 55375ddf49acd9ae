package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/ssogate/ssogate/pingpull"
	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/tokens"
)

// pingChunk is how many pings one transaction queues.
const pingChunk = 500

// pingCommand queues pings for users, for an initial or repair sync: the
// running gateway's workers send them. Ids come from the arguments or, with
// --stdin, one per line. It then follows their delivery (ping_delivery.go).
func pingCommand(fs *flag.FlagSet) runFunc {
	flags := registerConfigFlags(fs)
	o := pingOptions{
		stdin:       fs.Bool("stdin", false, "read user ids from standard input, one per line"),
		wait:        fs.Bool("wait", false, "follow delivery (queued → pinged → pulled) until every user is pulled or failed; the default when stderr is a terminal"),
		noWait:      fs.Bool("no-wait", false, "return once the pings are queued"),
		waitTimeout: fs.Duration("wait-timeout", 10*time.Minute, "give up following delivery after this long (exit 1)"),
	}
	return func(ctx context.Context, e *env, args []string) error {
		return runPing(ctx, e, flags, o, args)
	}
}

type pingOptions struct {
	stdin, wait, noWait *bool
	waitTimeout         *time.Duration
}

func runPing(ctx context.Context, e *env, flags *configFlags, o pingOptions, ids []string) error {
	if *o.stdin {
		if len(ids) > 0 {
			return usageErrorf("ping: give user ids as arguments or with --stdin, not both")
		}
		var err error
		if ids, err = readIDs(e.stdin); err != nil {
			return fmt.Errorf("ping: read standard input: %w", err)
		}
	}
	if *o.wait && *o.noWait {
		return usageErrorf("ping: --wait and --no-wait exclude each other")
	}
	if *o.waitTimeout <= 0 {
		return usageErrorf("ping: --wait-timeout must be positive")
	}
	if len(ids) == 0 {
		return usageErrorf("ping: no user ids (ssogate ping USER… or --stdin)")
	}
	var bad []string
	for _, id := range ids {
		if !tokens.ValidUserID(id) {
			bad = append(bad, fmt.Sprintf("%q", id))
		}
	}
	if len(bad) > 0 {
		return usageErrorf("ping: invalid user ids (letters, digits, _ . - only): %s", strings.Join(bad, ", "))
	}
	wait := *o.wait || (!*o.noWait && isTerminal(e.stderr))
	pp, st, closeStore, err := gatewayTool(ctx, e, flags)
	if err != nil {
		return err
	}
	defer closeStore()

	users := distinct(ids)
	// The follower reads the timeline forward from its newest event before
	// the pings were queued: their ping.requested events come after.
	var from int64
	if wait {
		if from, err = st.TimelineLastID(ctx); err != nil {
			return fmt.Errorf("ping: read the timeline: %w", err)
		}
	}
	bar := progress(e.stderr, len(users))
	queued := 0
	for start := 0; start < len(ids); start += pingChunk {
		chunk := ids[start:min(start+pingChunk, len(ids))]
		n, err := pp.EnqueuePings(ctx, chunk)
		queued += n
		if bar != nil {
			bar.Describe(fmt.Sprintf("queueing: %d of %d", queued, len(ids)))
		}
		if err != nil {
			fmt.Fprintf(e.stdout, "queued %d of %d pings before an error\n", queued, len(ids))
			return err
		}
	}
	if !wait {
		if bar != nil {
			_ = bar.Finish()
		}
		fmt.Fprintf(e.stdout, "queued %d pings (%d users); the gateway's workers send them\n", queued, len(users))
		return nil
	}

	waitCtx, cancel := context.WithTimeout(ctx, *o.waitTimeout)
	defer cancel()
	d := newDelivery(st, users, from, time.Now)
	var last deliveryCounts
	var lastAt time.Time
	err = d.follow(waitCtx, pingPollInterval, func(c deliveryCounts) {
		switch {
		case bar != nil:
			bar.Describe(c.String())
			_ = bar.Set(c.Done())
		case c != last && time.Since(lastAt) >= time.Second:
			// No terminal (a script, a log): a line per change, at most
			// one a second.
			fmt.Fprintf(e.stderr, "ssogate: ping: %s\n", c)
			last, lastAt = c, time.Now()
		}
	})
	if bar != nil {
		_ = bar.Finish()
	}
	c := d.counts()
	fmt.Fprintf(e.stdout, "queued %d pings (%d users); %s\n", queued, len(users), c)
	switch {
	case err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded):
		return &exitError{code: 1, msg: fmt.Sprintf("ssogate: ping: gave up after --wait-timeout %s with %d of %d users not pulled yet", *o.waitTimeout, len(users)-c.Done(), len(users))}
	case err != nil:
		return err
	case c.Failed > 0:
		return &exitError{code: 1, msg: fmt.Sprintf("ssogate: ping: %d of %d pings were dead-lettered (the admin API lists them: GET /admin/api/deadletters)", c.Failed, len(users))}
	}
	return nil
}

// pingPollInterval is how often ping reads the timeline while it waits.
const pingPollInterval = 200 * time.Millisecond

// distinct returns ids without repeats, in their first order.
func distinct(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// runRegister registers the gateway's pull URL with the hub once.
func registerCommand(fs *flag.FlagSet) runFunc {
	flags := registerConfigFlags(fs)
	return func(ctx context.Context, e *env, args []string) error {
		return runRegister(ctx, e, flags, args)
	}
}

func runRegister(ctx context.Context, e *env, flags *configFlags, args []string) error {
	if err := noArgs("register", args); err != nil {
		return err
	}
	pp, _, closeStore, err := gatewayTool(ctx, e, flags)
	if err != nil {
		return err
	}
	defer closeStore()
	if err := pp.RegisterOnce(ctx); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "registered the pull URL %s at the hub\n", pp.PullURLTemplate())
	return nil
}

// gatewayTool opens the gateway's store (migrated) and builds its Ping for
// Pull side for a one-off command.
func gatewayTool(ctx context.Context, e *env, flags *configFlags) (*pingpull.Handler, store.Store, func(), error) {
	cfg, err := loadConfig(flags, e.getenv, requirements{network: true})
	if err != nil {
		return nil, nil, nil, err
	}
	if cfg.Gateway.PublicURL == "" {
		return nil, nil, nil, &ConfigError{Problems: []string{"gateway.public_url is required (--public-url, SSOGATE_PUBLIC_URL)"}}
	}
	log := newLogger(cfg, e.stderr)
	codec, err := tokenCodec(cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		_ = st.Close()
		return nil, nil, nil, err
	}
	pp, err := pingpull.New(pingpullConfig(cfg, st, codec, log))
	if err != nil {
		_ = st.Close()
		return nil, nil, nil, &ConfigError{Problems: []string{err.Error()}}
	}
	return pp, st, func() { _ = st.Close() }, nil
}

// readIDs reads one id per line, skipping blank lines and # comments.
func readIDs(r io.Reader) ([]string, error) {
	var ids []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		ids = append(ids, line)
	}
	return ids, sc.Err()
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress returns a progress bar of the users pulled (or failed) when w is
// a terminal, nil otherwise.
func progress(w io.Writer, total int) *progressbar.ProgressBar {
	if !isTerminal(w) {
		return nil
	}
	return progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("queueing pings"),
		progressbar.OptionShowCount(),
		progressbar.OptionClearOnFinish(),
	)
}
