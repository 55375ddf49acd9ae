package httpbase

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Check is one readiness check. Func returns nil when ready; its error is
// logged, never sent to the client.
type Check struct {
	Name string
	Func func(ctx context.Context) error
}

// checkTimeout bounds each readiness check.
const checkTimeout = 3 * time.Second

// Database is what the database checks need; store.Store has it.
type Database interface {
	Ping(ctx context.Context) error
	MigrationsCurrent(ctx context.Context) (bool, error)
}

// errMigrationsPending is the migrations check's failure.
var errMigrationsPending = errors.New("httpbase: migrations pending")

// DatabaseChecks are the readiness checks of a database: it answers, and
// every migration has been applied.
func DatabaseChecks(db Database) []Check {
	return []Check{
		{Name: "database", Func: db.Ping},
		{Name: "migrations", Func: func(ctx context.Context) error {
			current, err := db.MigrationsCurrent(ctx)
			if err != nil {
				return err
			}
			if !current {
				return errMigrationsPending
			}
			return nil
		}},
	}
}

// readyBody is /readyz's answer. Error is set (with status 503) when any
// check failed or the server is shutting down.
type readyBody struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
	Error  *ErrorDetail      `json:"error,omitempty"`
}

// Healthz answers 200 while the process runs.
func Healthz(w http.ResponseWriter, _ *http.Request) {
	WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// Readyz answers 200 when every check passes, else 503 naming the failed
// checks. It answers 503 as soon as the server starts shutting down, so load
// balancers stop sending traffic. Failures are logged to logger (nil:
// discarded).
func Readyz(logger *slog.Logger, checks []Check) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := readyBody{Status: "ready", Checks: map[string]string{}}
		var failed []string
		for _, c := range checks {
			ctx, cancel := context.WithTimeout(r.Context(), checkTimeout)
			err := c.Func(ctx)
			cancel()
			if err != nil {
				logger.WarnContext(r.Context(), "readiness check failed",
					slog.String("check", c.Name), slog.String("error", err.Error()))
				body.Checks[c.Name] = "failed"
				failed = append(failed, c.Name)
				continue
			}
			body.Checks[c.Name] = "ok"
		}
		select {
		case <-Draining(r.Context()):
			failed = append(failed, "shutting down")
		default:
		}
		if len(failed) > 0 {
			body.Status = "not_ready"
			body.Error = &ErrorDetail{Code: "not_ready", Message: "not ready: " + strings.Join(failed, ", ")}
			WriteJSON(w, http.StatusServiceUnavailable, body)
			return
		}
		WriteJSON(w, http.StatusOK, body)
	})
}
