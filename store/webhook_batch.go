package store

import (
	"bytes"
	"context"
	"fmt"
	"time"
)

// WebhookBatchQueries are the webhook intake's set-at-once statements: a
// group of webhooks committed together (pingpull's group commit) reads its
// receipts and locks its profiles in two statements, decides every change
// in Go (ProfileDecide), and writes the profiles and the accepted webhooks in
// two more, where one statement per webhook would hold every lock of the
// group for a round trip per statement.
type WebhookBatchQueries interface {
	// WebhookReceiptGetMany returns the receipts stored among ids, keyed by
	// id.
	WebhookReceiptGetMany(ctx context.Context, ids []string) (map[string]*WebhookReceipt, error)
	// ProfileLockMany returns the profiles that exist among userIDs, keyed by
	// user id. On PostgreSQL it locks their rows in user id order (SELECT …
	// ORDER BY user_id FOR UPDATE) until the transaction ends; on SQLite the
	// transaction already holds the write lock.
	ProfileLockMany(ctx context.Context, userIDs []string) (map[string]*Profile, error)
	// ProfileWriteMany stores the profiles decided under ProfileLockMany, at
	// most one write per user: Prev nil creates the row, else the row read as
	// Prev (still at Prev.Version) becomes Next. When a row to create exists,
	// or a row to replace is no longer at Prev.Version (it was created or
	// changed by a transaction that ProfileLockMany could not see), it returns
	// ErrConflict and the caller must roll back.
	ProfileWriteMany(ctx context.Context, writes []ProfileWrite) error
	// WebhookAcceptMany is WebhookAccept for several webhooks, in order (one
	// statement on PostgreSQL); several pings of one user keep the highest
	// version. When any receipt's id is already stored it returns ErrConflict
	// and the caller must roll back.
	WebhookAcceptMany(ctx context.Context, accepts []WebhookAcceptParams) error
}

// ProfileWrite is one row ProfileWriteMany stores.
type ProfileWrite struct {
	// Prev is the row as ProfileLockMany read it; nil when there was none.
	Prev *Profile
	// Next is the row to store: UserID, Version, Data, UpdatedAt, CreatedAt
	// and ModifiedAt are written; ServedVersion and ServedAt are kept.
	Next *Profile
}

// ProfileDecide is ProfileUpsert's decision, made in Go on the row read
// under lock (cur nil: no row): created (version 1), stale (params.UpdatedAt
// before the stored one; nothing written), unchanged (byte-identical Data;
// only a later UpdatedAt is written), or updated (Version+1). It returns
// the row after the decision and whether it must be written. Times are kept
// to the microsecond, as both backends store them. params.Now must be set.
func ProfileDecide(cur *Profile, params ProfileUpsertParams) (next *Profile, status ProfileUpsertStatus, write bool) {
	now := params.Now.Truncate(time.Microsecond)
	updatedAt := params.UpdatedAt.Truncate(time.Microsecond)
	if updatedAt.IsZero() {
		updatedAt = now
	}
	data := params.Data
	if data == nil {
		data = []byte{}
	}
	switch {
	case cur == nil:
		return &Profile{UserID: params.UserID, Version: 1, Data: data, UpdatedAt: updatedAt,
			CreatedAt: now, ModifiedAt: now}, ProfileCreated, true
	case updatedAt.Before(cur.UpdatedAt):
		return cur, ProfileStale, false
	case bytes.Equal(cur.Data, data):
		if !updatedAt.After(cur.UpdatedAt) {
			return cur, ProfileUnchanged, false
		}
		n := *cur
		n.UpdatedAt = updatedAt
		return &n, ProfileUnchanged, true
	default:
		n := *cur
		n.Version, n.Data, n.UpdatedAt, n.ModifiedAt = cur.Version+1, data, updatedAt, now
		return &n, ProfileUpdated, true
	}
}

// ValidateProfileWrites refuses writes that name no row unambiguously: a
// missing Next or user id, a Prev of another user, or one user written
// twice (one statement could not touch its row twice). Backends call it
// in ProfileWriteMany before writing anything.
func ValidateProfileWrites(writes []ProfileWrite) error {
	seen := make(map[string]struct{}, len(writes))
	for i, w := range writes {
		switch {
		case w.Next == nil:
			return fmt.Errorf("write %d: Next is required", i)
		case w.Next.UserID == "":
			return fmt.Errorf("write %d: UserID is required", i)
		case w.Prev != nil && w.Prev.UserID != w.Next.UserID:
			return fmt.Errorf("write %d: Prev is user %q, Next user %q", i, w.Prev.UserID, w.Next.UserID)
		}
		if _, dup := seen[w.Next.UserID]; dup {
			return fmt.Errorf("write %d: user %q is written twice", i, w.Next.UserID)
		}
		seen[w.Next.UserID] = struct{}{}
	}
	return nil
}
