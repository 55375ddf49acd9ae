package postgres_test

import (
	"context"
	"encoding/json"
	"log"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/store/postgres"
)

type pingArgs struct {
	UserID string `json:"user_id"`
}

func (pingArgs) Kind() string { return "ping" }

// A profile change and the job it triggers commit together; the live event
// is delivered to every replica's listeners at commit.
func Example() {
	ctx := context.Background()
	s, err := postgres.Open(ctx, postgres.Config{
		URL:    "postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
		Logger: slog.Default(),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		log.Fatal(err)
	}

	err = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		p, status, err := tx.ProfileUpsert(ctx, store.ProfileUpsertParams{
			UserID: "alice", Data: json.RawMessage(`{"display_name":"Alice"}`), Now: time.Now(),
		})
		if err != nil || status == store.ProfileUnchanged || status == store.ProfileStale {
			return err
		}
		if _, err := tx.JobInsert(ctx, pingArgs{UserID: p.UserID}, &river.InsertOpts{Queue: "ping"}); err != nil {
			return err
		}
		event, err := json.Marshal(store.ProfileEvent{UserID: p.UserID, Version: p.Version})
		if err != nil {
			return err
		}
		return tx.Notify(ctx, store.ChannelProfileChanged, event)
	})
	if err != nil {
		log.Fatal(err)
	}
}
