package pingpull

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/livefyre"
)

// maxProfileSourceBody bounds a profile source answer.
const maxProfileSourceBody = 1 << 20

// fetchProfile GETs the user's profile from the profile source (a webhook
// without a profile). Failures are 502/504 *httpbase.Errors: the sender retries
// the webhook later and nothing is lost.
func (h *Handler) fetchProfile(ctx context.Context, userID string) (*livefyre.Profile, error) {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.ProfileSourceTimeout)
	defer cancel()
	target := strings.ReplaceAll(h.cfg.ProfileSourceURL, "{id}", url.PathEscape(userID))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, fmt.Errorf("pingpull: profile source request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if h.cfg.ProfileSourceToken != "" {
		req.Header.Set("Authorization", "Bearer "+h.cfg.ProfileSourceToken)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		status := http.StatusBadGateway
		if errors.Is(err, context.DeadlineExceeded) {
			status = http.StatusGatewayTimeout
		}
		return nil, &httpbase.Error{Status: status, Code: "profile_source_unavailable",
			Message: "the profile source did not answer", Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProfileSourceBody+1))
	if err != nil {
		return nil, &httpbase.Error{Status: http.StatusBadGateway, Code: "profile_source_unavailable",
			Message: "the profile source answer could not be read", Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &httpbase.Error{Status: http.StatusBadGateway, Code: "profile_source_error",
			Message: fmt.Sprintf("the profile source answered %d", resp.StatusCode)}
	}
	if len(body) > maxProfileSourceBody {
		return nil, &httpbase.Error{Status: http.StatusBadGateway, Code: "profile_source_error",
			Message: "the profile source answer is larger than 1 MiB"}
	}
	p, err := livefyre.DecodeProfile(body)
	if err == nil {
		if p.ID == "" {
			p.ID = userID
		}
		if p.ID != userID {
			err = &livefyre.FieldError{Field: "id", Message: "is not the requested user id"}
		} else {
			err = p.Validate()
		}
	}
	if err != nil {
		return nil, &httpbase.Error{Status: http.StatusBadGateway, Code: "profile_source_invalid",
			Message: "the profile source answered an invalid profile: " + publicReason(err)}
	}
	return p, nil
}
