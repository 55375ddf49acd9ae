package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// defaultHealthcheckURL is the probe of a server listening on the image's
// SSOGATE_LISTEN (0.0.0.0:8080), seen from inside its own container.
const defaultHealthcheckURL = "http://127.0.0.1:8080/healthz"

// runHealthcheck is `ssogate healthcheck [--url URL] [--timeout D]`: one GET of
// a server's /healthz, for a container's HEALTHCHECK, where the image has no
// shell and no curl. It returns the exit code: 0 when the answer is a 2xx, 1
// when the server is unhealthy or unreachable, 2 for a usage error.
//
// It is self-contained (flag and net/http only) so that it moves into any
// command table as it is; ssogate's (cli.go) uses healthcheckCommand.
func runHealthcheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ssogate healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	h := healthcheckFlags(fs)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: ssogate healthcheck [--url URL] [--timeout D]\n\n"+
			"Exits 0 when URL answers a 2xx, 1 otherwise (2: a usage error).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	return h.run(fs.Args(), stdout, stderr)
}

// healthcheckCommand is runHealthcheck's body for cli.go's command table.
func healthcheckCommand(fs *flag.FlagSet) runFunc {
	h := healthcheckFlags(fs)
	return func(_ context.Context, e *env, args []string) error {
		if code := h.run(args, e.stdout, e.stderr); code != 0 {
			return &exitError{code: code}
		}
		return nil
	}
}

type healthcheckOptions struct {
	rawURL  *string
	timeout *time.Duration
}

func healthcheckFlags(fs *flag.FlagSet) healthcheckOptions {
	return healthcheckOptions{
		rawURL:  fs.String("url", defaultHealthcheckURL, "the URL to probe; healthy when it answers a 2xx"),
		timeout: fs.Duration("timeout", 3*time.Second, "time limit of the whole probe"),
	}
}

// run probes with the parsed flags and returns the exit code.
func (h healthcheckOptions) run(args []string, stdout, stderr io.Writer) int {
	rawURL, timeout := h.rawURL, h.timeout
	if len(args) > 0 {
		fmt.Fprintf(stderr, "ssogate: healthcheck takes no arguments, got %q\n", args)
		return 2
	}
	u, err := url.Parse(*rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		fmt.Fprintf(stderr, "ssogate: healthcheck: --url %q is not an absolute http(s) URL\n", *rawURL)
		return 2
	}
	if *timeout <= 0 {
		fmt.Fprintln(stderr, "ssogate: healthcheck: --timeout must be positive")
		return 2
	}

	status, err := probe(u.String(), *timeout)
	if err != nil {
		fmt.Fprintf(stderr, "ssogate: unhealthy: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "ssogate: healthy (%s)\n", status)
	return 0
}

// probe GETs target once and returns its status line's text when it is a
// 2xx. A redirect counts as unhealthy: /healthz never redirects, so one
// means the URL points somewhere else.
func probe(target string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	client := &http.Client{
		// No proxy: HTTP_PROXY in a container's environment must not carry
		// the probe of its own loopback elsewhere.
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return "", fmt.Errorf("healthcheck: build the request: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	// Drain a little so the server sees a clean close; the body itself is
	// not shown (the status says enough, and a wrong URL may answer anything).
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", fmt.Errorf("healthcheck: %s answered %s", target, resp.Status)
	}
	return resp.Status, nil
}
