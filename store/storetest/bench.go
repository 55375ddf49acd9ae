package storetest

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/ssogate/ssogate/store"
)

// benchArgs is the job the benchmark inserts; nothing works it.
type benchArgs struct {
	UserID string `json:"user_id"`
}

func (benchArgs) Kind() string { return "storetest_bench" }

// Bench measures what the transactional job insert costs (issue 2,
// Measure): one profile upsert plus one job insert in one InTx, against
// River's bare job insert alone (Jobs().Insert). s must be a fresh,
// migrated store whose jobs are not started.
func Bench(b *testing.B, s store.Store) {
	ctx := b.Context()
	now := time.Now().UTC()

	b.Run("UpsertAndJobInTx", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			userID := "bench" + strconv.Itoa(i%1000)
			err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				if _, _, err := tx.ProfileUpsert(ctx, store.ProfileUpsertParams{
					UserID: userID, Data: json.RawMessage(`{"n":` + strconv.Itoa(i) + `}`), Now: now,
				}); err != nil {
					return err
				}
				_, err := tx.JobInsert(ctx, benchArgs{UserID: userID}, nil)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("RiverInsert", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Jobs().Insert(ctx, benchArgs{UserID: "bench"}, &river.InsertOpts{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
