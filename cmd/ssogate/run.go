package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"

	"github.com/riverqueue/river"
	"golang.org/x/sync/errgroup"

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

func exitCode(err error, stderr io.Writer) int {
	var configErr *ConfigError
	var exitErr *exitError
	switch {
	case err == nil:
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

// loadCommandConfig loads the configuration of a command that takes Config
// flags and no arguments.
func loadCommandConfig(e *env, name string, flags *configFlags, args []string, need requirements) (*Config, error) {
	if err := noArgs(name, args); err != nil {
		return nil, err
	}
	return loadConfig(flags, e.getenv, need)
}

// newLogger builds the process logger: JSON or text on stderr, with the
// request id of a request's context added to every line.
func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	level, _ := parseLogLevel(cfg.LogLevel) // validated
	opts := logHandlerOptions(level)
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
// mount on app.router, register metrics on app.router.Registry(), add
// their River workers with addJobs, and stop hooks with onShutdown.
type app struct {
	cfg    *Config
	log    *slog.Logger
	store  store.Store
	router *httpbase.Router

	workers    *river.Workers
	queues     map[string]river.QueueConfig
	onShutdown []func(ctx context.Context) error
	// services are the background loops serve runs beside HTTP and joins
	// before it returns, so before the store closes.
	services []service
	// listener, when set, is served instead of listening on cfg.Listen (the
	// demo binds its ports before it builds the apps).
	listener net.Listener
	// role is "gateway" or "hub" for servers started by startServer.
	role string
}

// jobsClientID is this process's River client id: the role, the host and
// the listen address, the same after a restart and different for any two
// processes serving at once (they cannot listen on one address), so that a
// restarted process takes back at once the jobs its killed predecessor left
// running (store.JobsConfig.ClientID). Empty (River's random id) when the
// port is picked at random.
func (a *app) jobsClientID() string {
	addr := a.cfg.Listen
	if a.listener != nil {
		addr = a.listener.Addr().String()
	}
	_, port, err := net.SplitHostPort(addr)
	host, herr := os.Hostname()
	if a.role == "" || err != nil || port == "" || port == "0" || herr != nil || host == "" {
		return ""
	}
	return "ssogate-" + a.role + "@" + host + "/" + addr
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
	router.Handle("/openapi.yaml", docs.OpenAPIHandler(), http.MethodGet, http.MethodHead)
	return &app{
		cfg:     cfg,
		log:     log,
		store:   st,
		router:  router,
		workers: river.NewWorkers(),
		queues:  map[string]river.QueueConfig{},
	}, nil
}

// service is a background loop: run until ctx ends, nil on a clean stop.
type service struct {
	name string
	run  func(ctx context.Context) error
}

// addService adds a loop for serve to run.
func (a *app) addService(name string, run func(ctx context.Context) error) {
	a.services = append(a.services, service{name: name, run: run})
}

// runServices starts every service under one errgroup and returns the join:
// it cancels their context and waits for all of them. A service that fails
// is logged; the others and HTTP go on, as they did before.
func (a *app) runServices(ctx context.Context) (join func()) {
	ctx, cancel := context.WithCancel(ctx)
	var g errgroup.Group
	for _, s := range a.services {
		g.Go(func() error {
			if err := s.run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				a.log.Error(s.name+" stopped", slog.String("error", err.Error()))
			}
			return nil
		})
	}
	return func() {
		cancel()
		_ = g.Wait()
	}
}

// mount adds a domain handler's routes to the process's router.
func (a *app) mount(h interface{ Mount(r httpbase.Routes) }) {
	h.Mount(a.router)
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

// serve starts River (when jobs were added) and the services, and serves
// HTTP until ctx ends, then shuts down: HTTP first, then River, then the
// shutdown hooks; it returns once every service has returned.
func (a *app) serve(ctx context.Context) error {
	if a.cfg.DebugListen != "" {
		debug, err := listenDebug(a.cfg.DebugListen, a.cfg.DebugContention, a.log)
		if err != nil {
			return fmt.Errorf("debug listener: %w", err)
		}
		a.addService("debug listener", debug)
	}
	hooks := a.onShutdown
	if len(a.queues) > 0 {
		if err := a.store.StartJobs(ctx, store.JobsConfig{Workers: a.workers, Queues: a.queues, ClientID: a.jobsClientID()}); err != nil {
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
	join := a.runServices(ctx)
	defer join()
	return srv.Run(ctx)
}

// close closes the store.
func (a *app) close() {
	if err := a.store.Close(); err != nil {
		a.log.Error("close the store", slog.String("error", err.Error()))
	}
}

// startServer is serve and hub's common start: configuration, checked
// whole against need before any file or connection is opened, then the
// logger and the app.
func startServer(ctx context.Context, e *env, name, role string, flags *configFlags, args []string, need requirements) (*app, error) {
	cfg, err := loadCommandConfig(e, name, flags, args, need)
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
	a.role = role
	return a, nil
}
