package pingpull

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/store"
)

// TimelineEntry is one timeline event as the admin API shows it.
type TimelineEntry struct {
	ID     int64           `json:"id"`
	Kind   string          `json:"kind"`
	Detail json.RawMessage `json:"detail"`
	At     time.Time       `json:"at"`
}

// TimelinePage is the answer of GET /admin/api/users/{id}/timeline.
type TimelinePage struct {
	UserID string          `json:"user_id"`
	Events []TimelineEntry `json:"events"`
	// NextBefore pages on (?before=); 0 on the last page.
	NextBefore int64 `json:"next_before,omitempty"`
}

// DeadLetterPage is the answer of GET /admin/api/deadletters.
type DeadLetterPage struct {
	DeadLetters []pingJSON `json:"dead_letters"`
	// NextCursor pages on (?after=); empty on the last page.
	NextCursor string `json:"next_cursor,omitempty"`
}

// deadLetterStates are the states of a ping that will not run again:
// cancelled (refused, or given up by the worker) and discarded (River gave
// up, e.g. after a panic on the last attempt).
var deadLetterStates = []rivertype.JobState{rivertype.JobStateCancelled, rivertype.JobStateDiscarded}

func queryLimit(r *http.Request, def, most int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > most {
		return 0, &httpbase.Error{Status: http.StatusBadRequest, Code: "invalid_field",
			Message: "limit: must be an integer from 1 to " + strconv.Itoa(most)}
	}
	return n, nil
}

// serveTimeline is GET /admin/api/users/{id}/timeline?before=&limit=,
// newest first.
func (h *Handler) serveTimeline(w http.ResponseWriter, r *http.Request) {
	userID := httpbase.PathValue(r, "id")
	if !validUserID(userID) {
		h.errs.Write(w, r, &httpbase.Error{Status: http.StatusBadRequest, Code: "invalid_field", Message: "id: must match ^[a-zA-Z0-9_.-]+$"})
		return
	}
	limit, err := queryLimit(r, 100, 1000)
	if err != nil {
		h.errs.Write(w, r, err)
		return
	}
	var before int64
	if v := r.URL.Query().Get("before"); v != "" {
		if before, err = strconv.ParseInt(v, 10, 64); err != nil || before < 1 {
			h.errs.Write(w, r, &httpbase.Error{Status: http.StatusBadRequest, Code: "invalid_field", Message: "before: must be a positive integer"})
			return
		}
	}
	events, err := h.store.TimelineList(r.Context(), store.TimelineListParams{UserID: userID, Before: before, Limit: limit})
	if err != nil {
		h.errs.Write(w, r, err)
		return
	}
	page := TimelinePage{UserID: userID, Events: make([]TimelineEntry, 0, len(events))}
	for _, e := range events {
		page.Events = append(page.Events, TimelineEntry{ID: e.ID, Kind: e.Kind, Detail: e.Detail, At: e.At})
	}
	if len(events) == limit {
		page.NextBefore = events[len(events)-1].ID
	}
	httpbase.WriteJSON(w, http.StatusOK, page)
}

// serveDeadLetters is GET /admin/api/deadletters?limit=&after=.
func (h *Handler) serveDeadLetters(w http.ResponseWriter, r *http.Request) {
	limit, err := queryLimit(r, 100, 1000)
	if err != nil {
		h.errs.Write(w, r, err)
		return
	}
	params := river.NewJobListParams().Kinds(pingKind).States(deadLetterStates...).First(limit)
	if v := r.URL.Query().Get("after"); v != "" {
		var cursor river.JobListCursor
		if err := cursor.UnmarshalText([]byte(v)); err != nil {
			h.errs.Write(w, r, &httpbase.Error{Status: http.StatusBadRequest, Code: "invalid_field", Message: "after: not a cursor from next_cursor"})
			return
		}
		params = params.After(&cursor)
	}
	res, err := h.store.Jobs().JobList(r.Context(), params)
	if err != nil {
		h.errs.Write(w, r, err)
		return
	}
	page := DeadLetterPage{DeadLetters: make([]pingJSON, 0, len(res.Jobs))}
	for _, row := range res.Jobs {
		page.DeadLetters = append(page.DeadLetters, pingJSONFromRow(row))
	}
	if len(res.Jobs) == limit && res.LastCursor != nil {
		if text, err := res.LastCursor.MarshalText(); err == nil {
			page.NextCursor = string(text)
		}
	}
	httpbase.WriteJSON(w, http.StatusOK, page)
}

// serveReplay is POST /admin/api/deadletters/{id}/replay: the dead ping
// runs again now.
func (h *Handler) serveReplay(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := strconv.ParseInt(httpbase.PathValue(r, "id"), 10, 64)
	if err != nil || id < 1 {
		h.errs.Write(w, r, &httpbase.Error{Status: http.StatusBadRequest, Code: "invalid_field", Message: "id: must be a job id"})
		return
	}
	jobs := h.store.Jobs()
	row, err := jobs.JobGet(ctx, id)
	switch {
	case errors.Is(err, rivertype.ErrNotFound):
		h.errs.Write(w, r, &httpbase.Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such dead letter"})
		return
	case err != nil:
		h.errs.Write(w, r, err)
		return
	case row.Kind != pingKind:
		h.errs.Write(w, r, &httpbase.Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such dead letter"})
		return
	case row.State != rivertype.JobStateCancelled && row.State != rivertype.JobStateDiscarded:
		h.errs.Write(w, r, &httpbase.Error{Status: http.StatusConflict, Code: "not_dead", Message: "the job is " + string(row.State) + ", not a dead letter"})
		return
	}
	args := pingJSONFromRow(row)
	// Recorded before the job is made available: once it is, its attempt
	// may be recorded at once, and the timeline must read in causal order.
	h.timeline(ctx, args.UserID, "ping.replayed", map[string]any{"job_id": id})
	// A newer ping for the same user may be waiting; then it carries the
	// latest profile already and this one need not run.
	row, err = jobs.JobRetry(ctx, id)
	if err != nil {
		h.timeline(ctx, args.UserID, "ping.replay_failed", map[string]any{"job_id": id})
		if existing := h.waitingPing(r, args.UserID); existing != nil {
			h.errs.Write(w, r, &httpbase.Error{Status: http.StatusConflict, Code: "already_queued",
				Message: "a ping for this user is already queued (job " + strconv.FormatInt(existing.ID, 10) + ")"})
			return
		}
		h.errs.Write(w, r, err)
		return
	}
	h.log.InfoContext(ctx, "pingpull: dead letter replayed", "job_id", id, "user_id", args.UserID)
	httpbase.WriteJSON(w, http.StatusOK, pingJSONFromRow(row))
}

// waitingPing returns an unfinished ping job for userID, or nil.
func (h *Handler) waitingPing(r *http.Request, userID string) *rivertype.JobRow {
	res, err := h.store.Jobs().JobList(r.Context(), river.NewJobListParams().Kinds(pingKind).States(pingUniqueStates...).First(1000))
	if err != nil {
		return nil
	}
	for _, row := range res.Jobs {
		if pingJSONFromRow(row).UserID == userID {
			return row
		}
	}
	return nil
}
