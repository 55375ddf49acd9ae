package authdelegate_test

import (
	"context"
	"encoding/json"
	"log"
	"log/slog"
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ssogate/ssogate/authdelegate"
	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/tokens"
)

// ExampleNew shows how cmd wires the gateway's browser side: the store, the
// token codec, the provider, the site origins, and the two hooks into the
// ping/pull side (the canonical profile form and the ping enqueue).
func ExampleNew() {
	ctx := context.Background()
	var st store.Store // sqlite.Open or postgres.Open, migrated
	codec, err := tokens.New(tokens.Config{Network: "example.fyre.co", Key: os.Getenv("NETWORK_KEY")})
	if err != nil {
		log.Fatal(err)
	}
	h, err := authdelegate.New(ctx, authdelegate.Config{
		Store:          st,
		Tokens:         codec,
		IssuerURL:      "https://login.example.com",
		ClientID:       "ssogate",
		ClientSecret:   os.Getenv("OIDC_CLIENT_SECRET"),
		PublicURL:      "https://sso.example.com",
		AllowedOrigins: []string{"https://www.example.com"},
		SessionKey:     []byte(os.Getenv("SESSION_KEY")), // 32 bytes
		CanonicalProfileFunc: func(doc json.RawMessage) (json.RawMessage, error) {
			return doc, nil // pingpull's validation and canonical form
		},
		ProfileChangedFunc: func(ctx context.Context, tx store.Tx, userID string) error {
			return nil // pingpull's ping enqueue, in the same transaction
		},
		Logger:     slog.Default(),
		Registerer: prometheus.DefaultRegisterer,
	})
	if err != nil {
		log.Fatal(err) // every configuration problem at once
	}
	defer h.Close()

	r := httpbase.NewMux()
	h.Mount(r) // /login, /callback, /token, /events, /authdelegate.js, …
	go func() {
		if err := h.Run(ctx); err != nil {
			log.Print(err)
		}
	}()
	// http.ListenAndServe(":8080", r)
}
