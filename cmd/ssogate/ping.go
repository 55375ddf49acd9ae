package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/ssogate/ssogate/pingpull"
	"github.com/ssogate/ssogate/tokens"
)

// pingChunk is how many pings one transaction queues.
const pingChunk = 500

// runPing queues pings for users, for an initial or repair sync: the
// running gateway's workers send them. Ids come from the arguments or, with
// --stdin, one per line.
func runPing(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "ping", "ping [flags] USER… | ping --stdin [flags] < ids.txt")
	flags := registerConfigFlags(fs)
	fromStdin := fs.Bool("stdin", false, "read user ids from standard input, one per line")
	ids, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if *fromStdin {
		if len(ids) > 0 {
			return usageErrorf("ping: give user ids as arguments or with --stdin, not both")
		}
		if ids, err = readIDs(e.stdin); err != nil {
			return fmt.Errorf("ping: read standard input: %w", err)
		}
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
	pp, closeStore, err := gatewayTool(ctx, e, flags)
	if err != nil {
		return err
	}
	defer closeStore()

	bar := progress(e.stderr, len(ids))
	queued := 0
	for start := 0; start < len(ids); start += pingChunk {
		chunk := ids[start:min(start+pingChunk, len(ids))]
		n, err := pp.EnqueuePings(ctx, chunk)
		queued += n
		if bar != nil {
			_ = bar.Add(n)
		}
		if err != nil {
			fmt.Fprintf(e.stdout, "queued %d of %d pings before an error\n", queued, len(ids))
			return err
		}
	}
	if bar != nil {
		_ = bar.Finish()
	}
	fmt.Fprintf(e.stdout, "queued %d pings (%d users); the gateway's workers send them\n", queued, len(ids))
	return nil
}

// runRegister registers the gateway's pull URL with the hub once.
func runRegister(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "register", "register [flags]")
	flags := registerConfigFlags(fs)
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErrorf("register takes no arguments, got %q", strings.Join(rest, " "))
	}
	pp, closeStore, err := gatewayTool(ctx, e, flags)
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
func gatewayTool(ctx context.Context, e *env, flags *configFlags) (*pingpull.Handler, func(), error) {
	cfg, err := loadConfig(flags, e.getenv, requirements{network: true})
	if err != nil {
		return nil, nil, err
	}
	if cfg.Gateway.PublicURL == "" {
		return nil, nil, &ConfigError{Problems: []string{"gateway.public_url is required (--public-url, SSOGATE_PUBLIC_URL)"}}
	}
	log := newLogger(cfg, e.stderr)
	codec, err := tokenCodec(cfg)
	if err != nil {
		return nil, nil, err
	}
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		_ = st.Close()
		return nil, nil, err
	}
	pp, err := pingpull.New(pingpullConfig(cfg, st, codec, log))
	if err != nil {
		_ = st.Close()
		return nil, nil, &ConfigError{Problems: []string{err.Error()}}
	}
	return pp, func() { _ = st.Close() }, nil
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

// progress returns a progress bar when w is a terminal, nil otherwise.
func progress(w io.Writer, total int) *progressbar.ProgressBar {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("queueing pings"),
		progressbar.OptionShowCount(),
		progressbar.OptionClearOnFinish(),
	)
}
