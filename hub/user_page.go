package hub

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"github.com/riverqueue/river"

	"github.com/ssogate/ssogate/store"
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
	rp, ok := h.remoteProfileAt(w, r)
	if !ok {
		return
	}
	page := userPage{Network: rp.Network, Profile: rp}
	if len(rp.Data) > 0 {
		var buf bytes.Buffer
		if json.Indent(&buf, rp.Data, "", "  ") == nil {
			page.Data = buf.String()
		}
	}
	// The same SQL on both backends: SQLite (3.38+) and PostgreSQL both
	// read a JSON member as text with ->>.
	params := river.NewJobListParams().Kinds(PullArgs{}.Kind()).
		Where("args->>'network' = @network AND args->>'user_id' = @user", river.NamedArgs{"network": rp.Network, "user": rp.UserID}).
		OrderBy(river.JobListOrderByID, river.SortOrderDesc). // every state, River's default
		First(userPageHistory)
	res, err := h.store.Jobs().JobList(r.Context(), params)
	if err != nil {
		h.errs.Write(w, r, err)
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
	h.renderAdminPage(w, r, "user.html", page)
}
