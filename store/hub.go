package store

import (
	"context"
	"encoding/json"
	"time"
)

// PullURL is a network's registration at the hub.
type PullURL struct {
	Network string
	// Template is the pull URL with a literal {id}.
	Template string
	// AffiliationURL is the optional push_affiliation_url.
	AffiliationURL string
	UpdatedAt      time.Time
}

// RemoteProfileStatus is the state of a remote profile at the hub.
type RemoteProfileStatus string

const (
	// RemoteProfilePending: known (from a ping or a token) but never pulled.
	RemoteProfilePending RemoteProfileStatus = "pending"
	// RemoteProfileOK: the last pull succeeded.
	RemoteProfileOK RemoteProfileStatus = "ok"
	// RemoteProfileMissing: the last pull got 404; Data is the last known.
	RemoteProfileMissing RemoteProfileStatus = "missing"
)

// RemoteProfile is a user's profile as the hub last pulled it.
type RemoteProfile struct {
	Network string
	UserID  string
	Status  RemoteProfileStatus
	// Data is the last pulled profile as canonical JSON (nil before the first
	// successful pull).
	Data json.RawMessage
	// DisplayName is the display name from Data, or from the first token when
	// never pulled; kept as a column for the users page and the comment list.
	DisplayName string
	// AvatarURL is image_url from Data.
	AvatarURL string
	// PingSeq counts pings received (and other pull triggers); PulledSeq is
	// the PingSeq the last completed pull answered.
	PingSeq   int64
	PulledSeq int64
	// PingReceivedAt is when the oldest ping not yet answered by a pull
	// arrived (zero when none is pending); the propagation histogram uses it.
	PingReceivedAt time.Time
	// LastPullAt, LastPullResult ("ok", "unchanged", "missing", "error: …",
	// "refused") and LastChanged (the field names the last applied pull
	// changed) describe the last pull attempt.
	LastPullAt     time.Time
	LastPullResult string
	LastChanged    []string
	FirstSeenAt    time.Time
	// UpdatedAt is when Data last changed.
	UpdatedAt time.Time
}

// RemoteProfileTouchParams records a pull trigger (a ping, or a token for a
// user never seen) for a user.
type RemoteProfileTouchParams struct {
	Network string
	UserID  string
	// DisplayName seeds the row when it is created (from a token); ignored
	// for existing rows.
	DisplayName string
	At          time.Time
	// PullLeaseUntil is the row's pull lease after the touch (the replica
	// that took the ping pulls it until then; others claim it only after);
	// zero leaves the row claimable at once. Every touch replaces the lease.
	PullLeaseUntil time.Time
}

// RemoteProfilePullClaim is a remote profile whose pull is due: PingSeq is
// the sequence number the pull answers.
type RemoteProfilePullClaim struct {
	Network string
	UserID  string
	PingSeq int64
}

// RemoteProfileClaimParams takes a batch of due pulls.
type RemoteProfileClaimParams struct {
	// Now decides which pull leases have ended (none, or <= Now). Required.
	Now time.Time
	// LeaseUntil is the claimed rows' new pull lease. Required.
	LeaseUntil time.Time
	// Limit is the batch size; default 500, at most 5000.
	Limit int
}

// RemoteProfilePullParams records the result of a pull.
type RemoteProfilePullParams struct {
	Network string
	UserID  string
	// Seq is the PingSeq the pull started from; PulledSeq becomes
	// max(PulledSeq, Seq) and PingReceivedAt is cleared when Seq == PingSeq.
	Seq    int64
	At     time.Time
	Status RemoteProfileStatus // OK or Missing
	// Data, DisplayName, AvatarURL and Changed apply when Status is OK and
	// Data differs from the stored Data (otherwise no data write happens).
	Data        json.RawMessage
	DisplayName string
	AvatarURL   string
	Changed     []string
	// Result is stored in LastPullResult.
	Result string
}

// RemoteProfilePullRecorded is one row RemoteProfileRecordPulls wrote: the
// row after the write, and whether Data changed.
type RemoteProfilePullRecorded struct {
	Profile *RemoteProfile
	Changed bool
}

// RemoteProfileListParams pages through a network's remote profiles.
type RemoteProfileListParams struct {
	Network string
	// Query filters by user id prefix (case-sensitive); empty for all.
	Query string
	// Offset and Limit page the list ordered by user id; Limit defaults to
	// 50, at most 1000.
	Offset int
	Limit  int
}

// Comment is a comment in the demo app served by the hub. Author names are
// resolved from remote profiles when read.
type Comment struct {
	ID        int64
	Network   string
	ArticleID string
	UserID    string
	Body      string
	CreatedAt time.Time
}

// CommentListParams lists an article's comments oldest first.
type CommentListParams struct {
	Network   string
	ArticleID string
	// AfterID returns comments with ID > AfterID.
	AfterID int64
	// Limit defaults to 100, at most 1000.
	Limit int
}

// HubQueries are the hub's reads and writes.
type HubQueries interface {
	// PullURLSet creates or replaces the network's registration. An empty
	// Template keeps the stored one (an affiliation-only registration).
	PullURLSet(ctx context.Context, pullURL *PullURL) error
	// PullURLGet returns ErrNotFound when the network registered nothing.
	PullURLGet(ctx context.Context, network string) (*PullURL, error)

	// RemoteProfileTouch creates the row as pending when missing, increments
	// PingSeq, sets PingReceivedAt when it was zero, sets the pull lease to
	// params.PullLeaseUntil (none when zero), and returns the row.
	RemoteProfileTouch(ctx context.Context, params RemoteProfileTouchParams) (*RemoteProfile, error)
	// RemoteProfilePing is RemoteProfileTouch returning only the new PingSeq
	// (a ping needs no more; the row's document is not read back).
	RemoteProfilePing(ctx context.Context, params RemoteProfileTouchParams) (int64, error)
	// RemoteProfilePingMany is RemoteProfilePing for several pings in
	// order; it returns each ping's new PingSeq at its index. Several pings
	// of one (Network, UserID) each bump the counter (the later gets the
	// higher seq), and the row ends as those pings one after the other
	// would leave it. On PostgreSQL one statement, whose row locks are
	// taken in (Network, UserID) order so that concurrent calls do not
	// deadlock. Empty pings: nil.
	RemoteProfilePingMany(ctx context.Context, pings []RemoteProfileTouchParams) ([]int64, error)
	// RemoteProfileClaimPulls takes up to Limit rows with PingSeq > PulledSeq
	// whose pull lease ended (none, or <= Now), oldest lease first (rows
	// never leased first, then by PingReceivedAt), sets their pull lease to
	// LeaseUntil and returns them in that order. On PostgreSQL concurrent
	// claimers never get the same row (FOR UPDATE SKIP LOCKED).
	RemoteProfileClaimPulls(ctx context.Context, params RemoteProfileClaimParams) ([]RemoteProfilePullClaim, error)
	// RemoteProfileLeasePull sets the row's pull lease to until (e.g. far in
	// the future: a River job now owns the retries; zero: claimable at
	// once). ErrNotFound when missing.
	RemoteProfileLeasePull(ctx context.Context, network, userID string, until time.Time) error
	// RemoteProfilePendingCount counts rows with PingSeq > PulledSeq, leased
	// or not (progress and metrics).
	RemoteProfilePendingCount(ctx context.Context) (int, error)
	// RemoteProfileOldestPending returns the oldest PingReceivedAt among
	// rows with PingSeq > PulledSeq whose pull lease is unset or before
	// leaseBefore (so that rows parked far in the future, whose pull a job
	// holds or a dead letter ended, can be left out): since when the oldest
	// unanswered ping waits. Zero when none does.
	RemoteProfileOldestPending(ctx context.Context, leaseBefore time.Time) (time.Time, error)
	// RemoteProfilePingSeqForUpdate returns PingSeq and, on PostgreSQL, locks
	// the row until the transaction ends. ErrNotFound when missing.
	RemoteProfilePingSeqForUpdate(ctx context.Context, network, userID string) (int64, error)
	// RemoteProfileRecordPull stores a pull's result and returns the row
	// after it, and whether Data changed.
	RemoteProfileRecordPull(ctx context.Context, params RemoteProfilePullParams) (*RemoteProfile, bool, error)
	// RemoteProfileRecordPulls stores many pulls' results as
	// RemoteProfileRecordPull stores each (the same rules, the same rows
	// after), in one statement on PostgreSQL. Each (Network, UserID) appears
	// at most once; rows that do not exist are left out of the answer. The
	// answer is in the order of params. Rows are locked in key order, so
	// concurrent batches do not deadlock.
	RemoteProfileRecordPulls(ctx context.Context, params []RemoteProfilePullParams) ([]RemoteProfilePullRecorded, error)
	// RemoteProfileRecordPullError records a failed attempt (LastPullAt,
	// LastPullResult) without touching Data or the sequence numbers.
	RemoteProfileRecordPullError(ctx context.Context, network, userID, result string, at time.Time) error
	// RemoteProfileGet returns ErrNotFound when unknown.
	RemoteProfileGet(ctx context.Context, network, userID string) (*RemoteProfile, error)
	// RemoteProfileGetMany returns the rows that exist among userIDs, keyed by
	// user id.
	RemoteProfileGetMany(ctx context.Context, network string, userIDs []string) (map[string]*RemoteProfile, error)
	// RemoteProfileGetManyForUpdate is RemoteProfileGetMany that, on
	// PostgreSQL, also locks the rows (in user id order) until the
	// transaction ends: the batched form of RemoteProfilePingSeqForUpdate.
	RemoteProfileGetManyForUpdate(ctx context.Context, network string, userIDs []string) (map[string]*RemoteProfile, error)
	// RemoteProfileList pages through a network's profiles and returns the
	// total count matching Query.
	RemoteProfileList(ctx context.Context, params RemoteProfileListParams) ([]*RemoteProfile, int, error)

	// AppSessionRevoke ends the app sessions the hub issued to the user up to
	// at: the user's "sessions valid after" instant becomes the later of the
	// stored one and at (it never moves back, so a late or repeated logout
	// cannot revive sessions). It returns the instant now stored.
	AppSessionRevoke(ctx context.Context, network, userID string, at time.Time) (time.Time, error)
	// AppSessionValidAfter returns the user's "sessions valid after"
	// instant: app-session tokens issued at or before it are no longer
	// honoured. The zero time (and no error) when the user never logged
	// out.
	AppSessionValidAfter(ctx context.Context, network, userID string) (time.Time, error)

	// CommentCreate stores a comment and returns it with ID and CreatedAt set.
	CommentCreate(ctx context.Context, comment *Comment) (*Comment, error)
	// CommentList lists comments oldest first.
	CommentList(ctx context.Context, params CommentListParams) ([]*Comment, error)
}
