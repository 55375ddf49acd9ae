package hub

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/tokens"
)

// userPageHistory bounds the pulls listed on a user's page.
const userPageHistory = 50

// userPage is the data of hub/user.html.
type userPage struct {
	Network string
	Profile *store.RemoteProfile
	// Data is the pulled profile, indented; empty before the first pull.
	Data  string
	Pulls []pullRecord
}

// pullRecord is one pull job of the user, as River keeps it.
type pullRecord struct {
	ID       int64
	State    string
	Attempt  int
	Created  time.Time
	Finished time.Time
	// Errors are the attempts' errors, oldest first.
	Errors []string
}

// handleUserPage is GET /users/{network}/{id}: one user's remote profile
// and pull history (the pull jobs River keeps: failed and waiting ones,
// and completed ones for River's retention, a day by default), newest
// first. Mount puts it behind the admin guard.
func (h *Handler) handleUserPage(w http.ResponseWriter, r *http.Request) {
	vars := mux.Vars(r)
	network, userID := vars["network"], vars["id"]
	if h.networks[network] == nil {
		h.writeError(w, r, errorf(http.StatusNotFound, "unknown_network", "no network %q on this hub", network))
		return
	}
	if !tokens.ValidUserID(userID) {
		h.writeError(w, r, errorf(http.StatusBadRequest, "invalid_user_id", "the user id must match ^[a-zA-Z0-9_.-]+$"))
		return
	}
	ctx := r.Context()
	rp, err := h.store.RemoteProfileGet(ctx, network, userID)
	if errors.Is(err, store.ErrNotFound) {
		h.writeError(w, r, errorf(http.StatusNotFound, "unknown_user", "the hub has never seen %s@%s", userID, network))
		return
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	page := userPage{Network: network, Profile: rp}
	if len(rp.Data) > 0 {
		var buf bytes.Buffer
		if json.Indent(&buf, rp.Data, "", "  ") == nil {
			page.Data = buf.String()
		}
	}
	// The same SQL on both backends: SQLite (3.38+) and PostgreSQL both
	// read a JSON member as text with ->>.
	params := river.NewJobListParams().Kinds(PullArgs{}.Kind()).
		Where("args->>'network' = @network AND args->>'user_id' = @user", river.NamedArgs{"network": network, "user": userID}).
		OrderBy(river.JobListOrderByID, river.SortOrderDesc).
		States(rivertype.JobStateAvailable, rivertype.JobStateCancelled, rivertype.JobStateCompleted, rivertype.JobStateDiscarded,
			rivertype.JobStatePending, rivertype.JobStateRetryable, rivertype.JobStateRunning, rivertype.JobStateScheduled).
		First(userPageHistory)
	res, err := h.store.Jobs().JobList(ctx, params)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	for _, row := range res.Jobs {
		rec := pullRecord{ID: row.ID, State: string(row.State), Attempt: row.Attempt, Created: row.CreatedAt}
		if row.FinalizedAt != nil {
			rec.Finished = *row.FinalizedAt
		}
		for _, e := range row.Errors {
			rec.Errors = append(rec.Errors, e.Error)
		}
		page.Pulls = append(page.Pulls, rec)
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("Content-Security-Policy", usersPageCSP)
	hdr.Set("X-Frame-Options", "DENY")
	if err := h.pages.ExecuteTemplate(w, "user.html", page); err != nil {
		h.log.ErrorContext(ctx, "hub: render user page", "error", err)
	}
}
