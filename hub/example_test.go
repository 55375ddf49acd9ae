package hub_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"

	"github.com/riverqueue/river"

	"github.com/ssogate/ssogate/hub"
	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/store/sqlite"
	"github.com/ssogate/ssogate/tokens"
)

// This is the wiring cmd does: a store, the hub on a router, the pull worker
// on River. A site then registers its pull URL the way Livefyre's libraries
// do.
func ExampleNew() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "hub-example")
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	s, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(dir, "hub.db")})
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	if err := s.Migrate(ctx); err != nil {
		log.Fatal(err)
	}

	h, err := hub.New(hub.Config{
		Networks: []hub.NetworkConfig{{Name: "labs.fyre.co", Key: "network-key"}},
		Store:    s,
		Logger:   slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	r := httpbase.NewMux()
	h.Mount(r)
	workers := river.NewWorkers()
	h.AddWorkers(workers)
	if err := s.StartJobs(ctx, store.JobsConfig{
		Workers: workers,
		Queues:  map[string]river.QueueConfig{hub.PullQueue: {MaxWorkers: 10}},
	}); err != nil {
		log.Fatal(err)
	}
	defer func() { _ = s.Jobs().Stop(ctx) }()
	srv := httptest.NewServer(r)
	defer srv.Close()

	// The site's side: register the pull URL with a system token.
	codec, err := tokens.New(tokens.Config{Network: "labs.fyre.co", Key: "network-key"})
	if err != nil {
		log.Fatal(err)
	}
	systok, err := codec.MintSystem(0)
	if err != nil {
		log.Fatal(err)
	}
	resp, err := http.PostForm(srv.URL+"/", url.Values{
		"actor_token":      {systok},
		"pull_profile_url": {"https://www.example.com/livefyre/pull?id={id}"},
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output: 204
}
