package store

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestProfileDecide(t *testing.T) {
	t.Parallel()
	base := time.Date(2025, 3, 4, 5, 6, 7, 123456000, time.UTC)
	at := func(d time.Duration) time.Time { return base.Add(d) }
	stored := func() *Profile {
		return &Profile{
			UserID: "ann", Version: 4, Data: json.RawMessage(`{"n":1}`), UpdatedAt: at(0),
			ServedVersion: 3, ServedAt: at(-time.Minute), CreatedAt: at(-time.Hour), ModifiedAt: at(-time.Second),
		}
	}
	// with returns the stored row changed by fn.
	with := func(fn func(p *Profile)) *Profile {
		p := stored()
		fn(p)
		return p
	}

	tests := []struct {
		name   string
		cur    *Profile
		params ProfileUpsertParams
		want   *Profile
		status ProfileUpsertStatus
		write  bool
		// same: the returned row is cur itself (nothing to write).
		same bool
	}{
		{
			name:   "created",
			params: ProfileUpsertParams{UserID: "ann", Data: json.RawMessage(`{"n":1}`), UpdatedAt: at(-time.Minute), Now: at(0)},
			want:   &Profile{UserID: "ann", Version: 1, Data: json.RawMessage(`{"n":1}`), UpdatedAt: at(-time.Minute), CreatedAt: at(0), ModifiedAt: at(0)},
			status: ProfileCreated, write: true,
		},
		{
			name:   "created, zero UpdatedAt is Now",
			params: ProfileUpsertParams{UserID: "ann", Data: json.RawMessage(`{}`), Now: at(time.Second)},
			want:   &Profile{UserID: "ann", Version: 1, Data: json.RawMessage(`{}`), UpdatedAt: at(time.Second), CreatedAt: at(time.Second), ModifiedAt: at(time.Second)},
			status: ProfileCreated, write: true,
		},
		{
			name:   "created, nil Data is empty",
			params: ProfileUpsertParams{UserID: "ann", UpdatedAt: at(0), Now: at(0)},
			want:   &Profile{UserID: "ann", Version: 1, Data: json.RawMessage{}, UpdatedAt: at(0), CreatedAt: at(0), ModifiedAt: at(0)},
			status: ProfileCreated, write: true,
		},
		{
			name:   "created, times truncated to the microsecond",
			params: ProfileUpsertParams{UserID: "ann", Data: json.RawMessage(`{}`), UpdatedAt: at(999), Now: at(time.Second + 1999)},
			want:   &Profile{UserID: "ann", Version: 1, Data: json.RawMessage(`{}`), UpdatedAt: at(0), CreatedAt: at(time.Second + time.Microsecond), ModifiedAt: at(time.Second + time.Microsecond)},
			status: ProfileCreated, write: true,
		},
		{
			name:   "stale",
			cur:    stored(),
			params: ProfileUpsertParams{UserID: "ann", Data: json.RawMessage(`{"n":2}`), UpdatedAt: at(-time.Microsecond), Now: at(time.Hour)},
			want:   stored(), status: ProfileStale, same: true,
		},
		{
			name:   "stale after truncation",
			cur:    stored(),
			params: ProfileUpsertParams{UserID: "ann", Data: json.RawMessage(`{"n":2}`), UpdatedAt: at(-1), Now: at(time.Hour)},
			want:   stored(), status: ProfileStale, same: true,
		},
		{
			name:   "unchanged at the same time",
			cur:    stored(),
			params: ProfileUpsertParams{UserID: "ann", Data: json.RawMessage(`{"n":1}`), UpdatedAt: at(0), Now: at(time.Hour)},
			want:   stored(), status: ProfileUnchanged, same: true,
		},
		{
			name:   "unchanged, a later time within the microsecond is the same time",
			cur:    stored(),
			params: ProfileUpsertParams{UserID: "ann", Data: json.RawMessage(`{"n":1}`), UpdatedAt: at(999), Now: at(time.Hour)},
			want:   stored(), status: ProfileUnchanged, same: true,
		},
		{
			name:   "unchanged at a later time moves only UpdatedAt",
			cur:    stored(),
			params: ProfileUpsertParams{UserID: "ann", Data: json.RawMessage(`{"n":1}`), UpdatedAt: at(time.Minute), Now: at(time.Hour)},
			want:   with(func(p *Profile) { p.UpdatedAt = at(time.Minute) }),
			status: ProfileUnchanged, write: true,
		},
		{
			name:   "unchanged, zero UpdatedAt is Now",
			cur:    stored(),
			params: ProfileUpsertParams{UserID: "ann", Data: json.RawMessage(`{"n":1}`), Now: at(time.Hour)},
			want:   with(func(p *Profile) { p.UpdatedAt = at(time.Hour) }),
			status: ProfileUnchanged, write: true,
		},
		{
			name:   "unchanged, nil Data equals empty Data",
			cur:    with(func(p *Profile) { p.Data = json.RawMessage{} }),
			params: ProfileUpsertParams{UserID: "ann", UpdatedAt: at(0), Now: at(time.Hour)},
			want:   with(func(p *Profile) { p.Data = json.RawMessage{} }),
			status: ProfileUnchanged, same: true,
		},
		{
			name:   "updated",
			cur:    stored(),
			params: ProfileUpsertParams{UserID: "ann", Data: json.RawMessage(`{"n":2}`), UpdatedAt: at(time.Minute), Now: at(time.Hour + 1)},
			want: with(func(p *Profile) {
				p.Version, p.Data, p.UpdatedAt, p.ModifiedAt = 5, json.RawMessage(`{"n":2}`), at(time.Minute), at(time.Hour)
			}),
			status: ProfileUpdated, write: true,
		},
		{
			name:   "updated at the same time is not stale",
			cur:    stored(),
			params: ProfileUpsertParams{UserID: "ann", Data: json.RawMessage(`{"n":2}`), UpdatedAt: at(0), Now: at(time.Hour)},
			want: with(func(p *Profile) {
				p.Version, p.Data, p.ModifiedAt = 5, json.RawMessage(`{"n":2}`), at(time.Hour)
			}),
			status: ProfileUpdated, write: true,
		},
		{
			name:   "updated, nil Data is empty",
			cur:    stored(),
			params: ProfileUpsertParams{UserID: "ann", UpdatedAt: at(time.Minute), Now: at(time.Hour)},
			want: with(func(p *Profile) {
				p.Version, p.Data, p.UpdatedAt, p.ModifiedAt = 5, json.RawMessage{}, at(time.Minute), at(time.Hour)
			}),
			status: ProfileUpdated, write: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var before Profile
			if tt.cur != nil {
				before = *tt.cur
			}
			got, status, write := ProfileDecide(tt.cur, tt.params)
			require.Equal(t, tt.status, status)
			require.Equal(t, tt.write, write)
			require.NotNil(t, got)
			require.NotNil(t, got.Data, "Data is never nil")
			require.Equal(t, tt.want.UserID, got.UserID)
			require.Equal(t, tt.want.Version, got.Version)
			require.Equal(t, string(tt.want.Data), string(got.Data))
			for name, pair := range map[string][2]time.Time{
				"UpdatedAt":  {tt.want.UpdatedAt, got.UpdatedAt},
				"ServedAt":   {tt.want.ServedAt, got.ServedAt},
				"CreatedAt":  {tt.want.CreatedAt, got.CreatedAt},
				"ModifiedAt": {tt.want.ModifiedAt, got.ModifiedAt},
			} {
				require.True(t, pair[0].Equal(pair[1]), "%s: want %s, got %s", name, pair[0], pair[1])
			}
			require.Equal(t, tt.want.ServedVersion, got.ServedVersion)
			if tt.cur != nil {
				require.Equal(t, before, *tt.cur, "cur is never changed")
				require.Equal(t, tt.same, got == tt.cur, "the row returned is cur only when nothing is written")
			}
		})
	}
}
