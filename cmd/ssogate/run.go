package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/gorilla/mux"
	"github.com/riverqueue/river"

	"github.com/ssogate/ssogate/docs"
	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/store/postgres"
	"github.com/ssogate/ssogate/store/sqlite"
)

// env is the process's outside world, injected so that tests run commands
// in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

// commands lists the subcommands in the order of the usage text.
func commands() []command {
	return []command{
		{"serve", "run the gateway", runServe},
		{"hub", "run the hub", runHub},
		{"demo", "run gateway, hub, identity provider and a demo site in one process", runDemo},
		{"ping", "queue pings for users (initial or repair sync): ping USER… | ping --stdin", runPing},
		{"register", "register the gateway's pull URL at the hub once", runRegister},
		{"migrate", "apply database migrations and exit", runMigrate},
		{"token", "mint or verify a token: token mint | token verify", runToken},
		{"config", "check the configuration and print it, secrets redacted", runConfig},
		{"version", "print the version", runVersion},
		{"healthcheck", "probe a server's /healthz (the image's HEALTHCHECK): exit 0 healthy, 1 not", func(_ context.Context, e *env, args []string) error {
			if code := runHealthcheck(args, e.stdout, e.stderr); code != 0 {
				return &exitError{code: code}
			}
			return nil
		}},
	}
}

// run runs the command line args and returns the exit code: 0 success, 1
// failure, 2 usage or configuration error.
func run(ctx context.Context, args []string, e *env) int {
	if len(args) == 0 {
		usage(e.stderr)
		return 2
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		usage(e.stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return exitCode(c.run(ctx, e, args[1:]), e.stderr)
		}
	}
	fmt.Fprintf(e.stderr, "ssogate: unknown command %q\n\n", args[0])
	usage(e.stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprint(w, "ssogate keeps an embedded Livefyre-compatible app in step with a site's user system.\n\n")
	fmt.Fprint(w, "Usage: ssogate <command> [flags]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s  %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun 'ssogate <command> -h' for a command's flags. Every setting also comes from the\n"+
		"YAML file named by --config or SSOGATE_CONFIG and from SSOGATE_… variables (README.md).\n")
}

// exitError ends the process with code after printing msg (when not empty)
// to stderr.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// usageErrorf is a command-line mistake: exit code 2.
func usageErrorf(format string, args ...any) error {
	return &exitError{code: 2, msg: "ssogate: " + fmt.Sprintf(format, args...)}
}

// errFlagsReported is a flag parse error the flag package printed already.
var errFlagsReported = &exitError{code: 2}

func exitCode(err error, stderr io.Writer) int {
	var configErr *ConfigError
	var exitErr *exitError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &configErr):
		fmt.Fprintf(stderr, "ssogate: %v\n", configErr)
		return 2
	case errors.As(err, &exitErr):
		if exitErr.msg != "" {
			fmt.Fprintln(stderr, exitErr.msg)
		}
		return exitErr.code
	}
	fmt.Fprintf(stderr, "ssogate: %v\n", err)
	return 1
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(e *env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("ssogate "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: ssogate %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseArgs parses flags wherever they stand among the arguments (Go's flag
// package stops at the first argument) and returns the arguments.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, errFlagsReported
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// parseConfigCommand parses a command line that takes config flags and no
// arguments, and loads the configuration.
func parseConfigCommand(e *env, name, synopsis string, args []string, need requirements) (*Config, error) {
	fs := newFlagSet(e, name, synopsis)
	flags := registerConfigFlags(fs)
	rest, err := parseArgs(fs, args)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		return nil, usageErrorf("%s takes no arguments, got %q", name, strings.Join(rest, " "))
	}
	return loadConfig(flags, e.getenv, need)
}

// newLogger builds the process logger: JSON or text on stderr, with the
// request id of a request's context added to every line.
func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	level, _ := parseLogLevel(cfg.LogLevel) // validated
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if cfg.LogFormat == "text" {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(httpbase.LogHandler(h))
}

// openStore opens the database named by cfg.DatabaseURL, without migrating.
func openStore(ctx context.Context, cfg *Config, log *slog.Logger) (store.Store, error) {
	backend, target, err := parseDatabaseURL(cfg.DatabaseURL)
	if err != nil {
		return nil, err // validated already
	}
	switch backend {
	case "sqlite":
		if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
			return nil, fmt.Errorf("create the database directory: %w", err)
		}
		s, err := sqlite.Open(ctx, sqlite.Config{Path: target, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("open the SQLite database: %w", err)
		}
		return s, nil
	default:
		s, err := postgres.Open(ctx, postgres.Config{URL: target, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("open the PostgreSQL database: %w", err)
		}
		return s, nil
	}
}

// app is what a server command (serve, hub) wires together. Domain handlers
// mount on app.router.Mux(), register metrics on app.router.Registry(), add
// their River workers with addJobs, and stop hooks with onShutdown.
type app struct {
	cfg    *Config
	log    *slog.Logger
	store  store.Store
	router *httpbase.Router

	workers    *river.Workers
	queues     map[string]river.QueueConfig
	onShutdown []func(ctx context.Context) error
	// listener, when set, is served instead of listening on cfg.Listen (the
	// demo binds its ports before it builds the apps).
	listener net.Listener
}

// newApp opens and migrates the store and builds the router. Close the app
// when done.
func newApp(ctx context.Context, cfg *Config, log *slog.Logger) (*app, error) {
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("migrate the %s database: %w", st.Backend(), err)
	}
	router, err := httpbase.NewRouter(httpbase.RouterConfig{
		Logger:      log,
		Registry:    httpbase.NewRegistry(),
		ReadyChecks: httpbase.DatabaseChecks(st),
	})
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	router.Mux().Handle("/openapi.yaml", docs.OpenAPIHandler()).Methods(http.MethodGet, http.MethodHead)
	return &app{
		cfg:     cfg,
		log:     log,
		store:   st,
		router:  router,
		workers: river.NewWorkers(),
		queues:  map[string]river.QueueConfig{},
	}, nil
}

// mount adds a domain handler's routes to the process's router.
func (a *app) mount(h interface{ Mount(r *mux.Router) }) {
	h.Mount(a.router.Mux())
}

// jobsHandler is a domain handler with River workers.
type jobsHandler interface {
	AddWorkers(workers *river.Workers)
	Queues() map[string]river.QueueConfig
}

// addJobs registers a handler's workers and queues; serve starts River when
// any queue was added.
func (a *app) addJobs(h jobsHandler) {
	h.AddWorkers(a.workers)
	for name, q := range h.Queues() {
		a.queues[name] = q
	}
}

// serve starts River (when jobs were added) and serves HTTP until ctx ends,
// then shuts down: HTTP first, then River, then the shutdown hooks.
func (a *app) serve(ctx context.Context) error {
	if a.cfg.DebugListen != "" {
		if err := startDebug(ctx, a.cfg.DebugListen, a.cfg.DebugContention, a.log); err != nil {
			return fmt.Errorf("debug listener: %w", err)
		}
	}
	hooks := a.onShutdown
	if len(a.queues) > 0 {
		if err := a.store.StartJobs(ctx, store.JobsConfig{Workers: a.workers, Queues: a.queues}); err != nil {
			return fmt.Errorf("start jobs: %w", err)
		}
		hooks = append([]func(context.Context) error{a.store.Jobs().Stop}, hooks...)
	}
	srv, err := httpbase.NewServer(httpbase.ServerConfig{
		Addr:       a.cfg.Listen,
		Listener:   a.listener,
		Handler:    a.router,
		Logger:     a.log,
		OnShutdown: hooks,
	})
	if err != nil {
		return err
	}
	return srv.Run(ctx)
}

// close closes the store.
func (a *app) close() {
	if err := a.store.Close(); err != nil {
		a.log.Error("close the store", slog.String("error", err.Error()))
	}
}

// startServer is serve and hub's common start: configuration, logger, app.
func startServer(ctx context.Context, e *env, name, role string, args []string) (*app, error) {
	cfg, err := parseConfigCommand(e, name, name+" [flags]", args, requirements{})
	if err != nil {
		return nil, err
	}
	log := newLogger(cfg, e.stderr).With(slog.String("role", role))
	log.Info("starting", slog.String("version", versionString()), slog.String("listen", cfg.Listen))
	log.Debug("configuration", slog.Any("config", cfg))
	a, err := newApp(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	log.Info("database ready", slog.String("backend", a.store.Backend()))
	return a, nil
}
