package pingpull

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/ssogate/ssogate/livefyre"
)

// RegisterError is a registration the hub refused.
type RegisterError struct {
	// StatusCode is the hub's answer (0 when it did not answer).
	StatusCode int
	// Permanent is true for answers that retrying will not change (4xx
	// other than 408 and 429): fix the configuration.
	Permanent bool
	Err       error
}

func (e *RegisterError) Error() string {
	if e.StatusCode == 0 {
		return fmt.Sprintf("pingpull: register pull URL: %v", e.Err)
	}
	return fmt.Sprintf("pingpull: register pull URL: hub answered %d, want 204", e.StatusCode)
}

func (e *RegisterError) Unwrap() error { return e.Err }

// PullURLTemplate is the pull URL registered with the hub:
// {PublicURL}/pull?id={id}, with a literal {id}.
func (h *Handler) PullURLTemplate() string {
	return livefyre.PullURLTemplate(h.cfg.PublicURL)
}

// RegisterOnce registers the pull URL template with the hub once: POST
// {hub}/ with actor_token (a system token) and pull_profile_url in a form
// body; success is 204. A refusal is a *RegisterError.
func (h *Handler) RegisterOnce(ctx context.Context) error {
	token, err := h.tokens.MintSystem(h.cfg.SystemTokenTTL)
	if err != nil {
		return fmt.Errorf("pingpull: register pull URL: mint system token: %w", err)
	}
	form := livefyre.RegisterForm(token, h.PullURLTemplate())
	ctx, cancel := context.WithTimeout(ctx, h.cfg.PingTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.cfg.HubURL+"/", strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("pingpull: register pull URL: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := h.client.Do(req)
	if err != nil {
		return &RegisterError{Err: err}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		code := resp.StatusCode
		return &RegisterError{StatusCode: code,
			Permanent: code >= 400 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests}
	}
	h.log.InfoContext(ctx, "pingpull: pull URL registered", "hub_url", h.cfg.HubURL, "pull_url", h.PullURLTemplate())
	h.registeredOnce.Do(func() { close(h.registered) })
	return nil
}

// Registered is closed once the hub has accepted the pull URL (by
// RegisterOnce or Register): before that the hub answers this gateway's
// pings 409 no_pull_url, and they wait to be retried.
func (h *Handler) Registered() <-chan struct{} { return h.registered }

// Register calls RegisterOnce until it succeeds or ctx ends, waiting
// RegisterBackoffMin, then twice as long each time (at most
// RegisterBackoffMax, with jitter) between attempts. A
// refusal that retrying will not change is logged as an error, and still
// retried: the hub's side may be fixed meanwhile.
func (h *Handler) Register(ctx context.Context) error {
	delay := h.cfg.RegisterBackoffMin
	var last error // the last attempt that ctx did not cut short
	for {
		err := h.RegisterOnce(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			if last == nil {
				last = err
			}
			return fmt.Errorf("pingpull: register pull URL: %w (last error: %w)", ctx.Err(), last)
		}
		last = err
		var re *RegisterError
		if errors.As(err, &re) && re.Permanent {
			h.log.ErrorContext(ctx, "pingpull: hub refused the pull URL registration", "status", re.StatusCode, "retry_in", delay)
		} else {
			h.log.WarnContext(ctx, "pingpull: pull URL registration failed", "error", err, "retry_in", delay)
		}
		wait := delay + time.Duration(rand.Int64N(int64(delay/4)+1))
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("pingpull: register pull URL: %w (last error: %w)", ctx.Err(), last)
		case <-timer.C:
		}
		delay = min(2*delay, h.cfg.RegisterBackoffMax)
	}
}
