package httpbase

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// ServerConfig configures NewServer. Durations say their defaults.
type ServerConfig struct {
	// Addr is the host:port to listen on, unless Listener is set.
	Addr string
	// Listener, when set, is served instead of listening on Addr (tests pass
	// one on port 0).
	Listener net.Listener
	// Handler answers requests. Required.
	Handler http.Handler
	// Logger. Default: discard.
	Logger *slog.Logger

	// ReadHeaderTimeout: 10s. ReadTimeout: 30s. IdleTimeout: 120s.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	IdleTimeout       time.Duration
	// WriteTimeout: 60s. A streaming handler (server-sent events) lifts it
	// for its own response with
	// http.NewResponseController(w).SetWriteDeadline(time.Time{}) and ends
	// its stream when Draining(r.Context()) is closed.
	WriteTimeout time.Duration

	// ShutdownTimeout bounds the whole graceful shutdown: 10s. In-flight
	// requests get the time that is left minus a third, which is reserved for
	// OnShutdown; requests still running then are cut off.
	ShutdownTimeout time.Duration
	// OnShutdown runs in order after the HTTP server stopped (stop River
	// there), with a context that ends at the shutdown deadline.
	OnShutdown []func(ctx context.Context) error
}

// WithDefaults returns cfg with defaults filled in.
func (cfg ServerConfig) WithDefaults() ServerConfig {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&cfg.ReadHeaderTimeout, 10*time.Second)
	def(&cfg.ReadTimeout, 30*time.Second)
	def(&cfg.IdleTimeout, 120*time.Second)
	def(&cfg.WriteTimeout, 60*time.Second)
	def(&cfg.ShutdownTimeout, 10*time.Second)
	return cfg
}

func (cfg ServerConfig) validate() error {
	var errs []error
	if cfg.Handler == nil {
		errs = append(errs, errors.New("httpbase: ServerConfig.Handler is required"))
	}
	if cfg.Listener == nil && cfg.Addr == "" {
		errs = append(errs, errors.New("httpbase: ServerConfig needs Addr or Listener"))
	}
	for _, d := range []time.Duration{cfg.ReadHeaderTimeout, cfg.ReadTimeout, cfg.IdleTimeout, cfg.WriteTimeout, cfg.ShutdownTimeout} {
		if d < 0 {
			errs = append(errs, errors.New("httpbase: ServerConfig timeouts must not be negative"))
			break
		}
	}
	return errors.Join(errs...)
}

// Server runs an http.Server until its context ends, then shuts down
// gracefully: stop accepting, let in-flight requests finish, run OnShutdown.
type Server struct {
	cfg      ServerConfig
	draining chan struct{}
}

// NewServer checks cfg.
func NewServer(cfg ServerConfig) (*Server, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, draining: make(chan struct{})}, nil
}

// Draining returns a channel closed when the Server that serves the request
// with ctx starts shutting down (nil, never ready, outside a Server).
// Long-lived responses end when it closes, so shutdown need not wait for them.
func Draining(ctx context.Context) <-chan struct{} {
	ch, _ := ctx.Value(drainingKey).(chan struct{})
	return ch
}

// Run serves until ctx ends, then shuts down within ShutdownTimeout. It
// returns nil after a graceful shutdown, and an error when listening or
// serving failed or an OnShutdown hook failed. OnShutdown runs in every case.
func (s *Server) Run(ctx context.Context) (err error) {
	cfg := s.cfg
	log := cfg.Logger
	deadline := time.Now().Add(cfg.ShutdownTimeout) // replaced when shutdown starts
	defer func() {
		hookCtx, cancel := context.WithDeadline(context.Background(), deadline)
		defer cancel()
		for _, hook := range cfg.OnShutdown {
			if hookErr := hook(hookCtx); hookErr != nil {
				err = errors.Join(err, fmt.Errorf("httpbase: shutdown hook: %w", hookErr))
			}
		}
	}()

	ln := cfg.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return fmt.Errorf("httpbase: listen: %w", err)
		}
	}
	srv := &http.Server{
		Handler:           cfg.Handler,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext: func(net.Listener) context.Context {
			// Not ctx: its end must not cancel requests in flight.
			return context.WithValue(context.Background(), drainingKey, s.draining)
		},
	}
	served := make(chan error, 1)
	// net/http's own answers to unreadable requests become JSON there
	// (plain_error.go).
	go func() { served <- srv.Serve(jsonErrorListener{ln}) }()
	log.InfoContext(ctx, "listening", slog.String("addr", ln.Addr().String()))

	select {
	case err := <-served:
		return fmt.Errorf("httpbase: serve: %w", err)
	case <-ctx.Done():
	}

	start := time.Now()
	deadline = start.Add(cfg.ShutdownTimeout)
	log.Info("shutting down", slog.Duration("timeout", cfg.ShutdownTimeout))
	close(s.draining)
	httpCtx, cancel := context.WithDeadline(context.Background(), deadline.Add(-cfg.ShutdownTimeout/3))
	defer cancel()
	if shutdownErr := srv.Shutdown(httpCtx); shutdownErr != nil {
		log.Warn("requests still running at the shutdown deadline were cut off")
		_ = srv.Close()
	}
	if serveErr := <-served; !errors.Is(serveErr, http.ErrServerClosed) {
		err = fmt.Errorf("httpbase: serve: %w", serveErr)
	}
	log.Info("http server stopped", slog.Duration("took", time.Since(start)))
	return err
}
