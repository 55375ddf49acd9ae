package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// webhookTimeout bounds one webhook request; a slower answer is an error.
const webhookTimeout = 60 * time.Second

// sender signs and posts profile-changed webhooks.
type sender struct {
	url    string
	wh     *standardwebhooks.Webhook
	client *http.Client
	runID  string
}

func newSender(webhookURL, secret string, maxConns int) (*sender, error) {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return nil, fmt.Errorf("bench: webhook secret: %w", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = maxConns
	tr.MaxIdleConnsPerHost = maxConns
	tr.DisableCompression = true
	return &sender{url: webhookURL, wh: wh, client: &http.Client{Transport: tr, Timeout: webhookTimeout}, runID: randomHex(6)}, nil
}

func (s *sender) close() { s.client.CloseIdleConnections() }

// webhookAnswer is the gateway's 202 body.
type webhookAnswer struct {
	UserID  string `json:"user_id"`
	Version int64  `json:"version"`
	Status  string `json:"status"`
}

// send posts one change: user id gets display name name. It returns the
// HTTP status (0 on a transport error), the gateway's status or what went
// wrong, and the version.
func (s *sender) send(ctx context.Context, webhookID, user, name string) (int, string, int64) {
	body, err := json.Marshal(map[string]any{
		"user_id": user,
		"profile": map[string]any{"id": user, "display_name": name},
	})
	if err != nil {
		return 0, "encode: " + err.Error(), 0
	}
	now := time.Now()
	sig, err := s.wh.Sign(webhookID, now, body)
	if err != nil {
		return 0, "sign: " + err.Error(), 0
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return 0, resultTransport, 0
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(standardwebhooks.HeaderWebhookID, webhookID)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
	resp, err := s.client.Do(req)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return 0, "timeout", 0
		}
		return 0, resultTransport, 0
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusAccepted {
		return resp.StatusCode, "status_" + strconv.Itoa(resp.StatusCode), 0
	}
	var a webhookAnswer
	if err := json.Unmarshal(raw, &a); err != nil || a.Status == "" {
		return resp.StatusCode, "bad_answer", 0
	}
	return resp.StatusCode, a.Status, a.Version
}

// drive sends t's changes open loop at rate per second: change seq is due
// at start + seq/rate whatever happened to the others. At most maxInFlight
// requests run at once; beyond that the scheduler waits, and the wait
// shows in the latencies because they are measured from the intended time.
// It returns when every change was sent (not answered) or ctx ended, and
// how often the scheduler found every sender busy.
func drive(ctx context.Context, s *sender, t *tracker, rate int, maxInFlight int, wg *sync.WaitGroup) (start time.Time, saturated int) {
	start = time.Now().Add(20 * time.Millisecond)
	return start, driveFrom(ctx, s, t, rate, maxInFlight, wg, start)
}

// driveFrom is drive with the first change due at start.
func driveFrom(ctx context.Context, s *sender, t *tracker, rate int, maxInFlight int, wg *sync.WaitGroup, start time.Time) (saturated int) {
	n := t.scheduledCount()
	sem := make(chan struct{}, maxInFlight)
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for seq := range n {
		intended := start.Add(time.Duration(float64(seq) * float64(time.Second) / float64(rate)))
		if d := time.Until(intended); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return saturated
			}
		}
		select {
		case sem <- struct{}{}:
		default:
			saturated++
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return saturated
			}
		}
		t.sent(seq, intended)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			user := t.userOf(seq)
			status, result, version := s.send(ctx, s.runID+"-"+strconv.Itoa(seq), userID(user), displayName(user, seq))
			t.answered(seq, time.Now(), status, result, version)
		}()
	}
	return saturated
}
