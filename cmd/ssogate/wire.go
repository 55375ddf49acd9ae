package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/riverqueue/river"
	"riverqueue.com/riverui"

	"github.com/ssogate/ssogate/authdelegate"
	"github.com/ssogate/ssogate/hub"
	"github.com/ssogate/ssogate/pingpull"
	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/tokens"
)

// gateway is the gateway's domain handlers, wired on an app.
type gateway struct {
	pingpull *pingpull.Handler
	// auth is nil when no OpenID provider is configured.
	auth *authdelegate.Handler
}

// wireGateway builds the gateway's handlers from a.cfg, mounts them, adds
// their jobs and starts the registration at the hub in the background. It
// returns (nil, nil) when no network is configured: the gateway then serves
// only its probes, and says so.
func wireGateway(ctx context.Context, a *app) (*gateway, error) {
	cfg := a.cfg
	if cfg.Network.Name == "" {
		a.log.Warn("no network configured (network.name, SSOGATE_NETWORK_NAME): Ping for Pull and login are off")
		return nil, nil
	}
	codec, err := tokenCodec(cfg)
	if err != nil {
		return nil, err
	}
	riverUI, err := newRiverUI(ctx, a)
	if err != nil {
		return nil, err
	}
	ppCfg := pingpullConfig(cfg, a.store, codec, a.log)
	ppCfg.RiverUI = riverUI
	ppCfg.Registerer = a.router.Registry()
	pp, err := pingpull.New(ppCfg)
	if err != nil {
		return nil, &ConfigError{Problems: []string{err.Error()}}
	}
	// No page of the gateway is meant to be framed: the delegate's login
	// runs in a popup or a redirect, never in a frame (authdelegate.js).
	a.mount(pp)
	a.addJobs(pp)
	a.router.Handle("/", gatewayRoot(cfg), http.MethodGet, http.MethodHead)
	// Served-pull records are written in small batches: write the last one
	// after HTTP has drained.
	a.onShutdown = append(a.onShutdown, pp.Flush)
	g := &gateway{pingpull: pp}

	if cfg.Auth.IssuerURL != "" {
		if g.auth, err = wireAuth(ctx, a, codec, pp); err != nil {
			return nil, err
		}
		a.mount(g.auth)
		// Refresh-token revocations at the provider when sessions end.
		a.addJobs(g.auth)
		a.onShutdown = append(a.onShutdown, func(context.Context) error { return g.auth.Close() })
		// The live-event fan-out: store notifications to this replica's
		// event streams.
		a.addService("authdelegate event loop", g.auth.Run)
	} else {
		a.log.Info("no OpenID provider configured (auth.issuer_url): login, /token and /events are off")
	}

	a.addService("registration at the hub", pp.Register)
	// The fast path of pings: changes this process accepted, and outbox
	// entries whose lease ended.
	a.addService("ping delivery", pp.Run)
	return g, nil
}

// pingpullConfig is the gateway's Ping for Pull configuration from cfg.
func pingpullConfig(cfg *Config, st store.Store, codec *tokens.Codec, log *slog.Logger) pingpull.Config {
	return pingpull.Config{
		Store:                st,
		Tokens:               codec,
		PublicURL:            cfg.Gateway.PublicURL,
		HubURL:               cfg.Gateway.HubURL,
		WebhookSecrets:       cfg.Gateway.WebhookSecrets,
		WebhookRate:          cfg.Gateway.WebhookRate,
		WebhookBurst:         cfg.Gateway.WebhookBurst,
		WebhookFailureRate:   cfg.Gateway.WebhookFailureRate,
		WebhookFailureBurst:  cfg.Gateway.WebhookFailureBurst,
		ProfileSourceURL:     cfg.Gateway.ProfileSourceURL,
		ProfileSourceToken:   cfg.Gateway.ProfileSourceToken,
		ProfileSourceTimeout: cfg.Gateway.ProfileSourceTimeout,
		AdminToken:           cfg.AdminToken,
		Logger:               log,
	}
}

// wireAuth builds the browser side. It shares the profile's canonical form,
// the ping job and the hub logout job with pingpull through functions, so
// the two packages do not import each other.
func wireAuth(ctx context.Context, a *app, codec *tokens.Codec, pp *pingpull.Handler) (*authdelegate.Handler, error) {
	cfg := a.cfg
	// Both decode: loadConfig checked them.
	key, _ := cfg.Auth.SessionKeyBytes()
	previous, _ := cfg.Auth.PreviousSessionKeyBytes()
	h, err := authdelegate.New(ctx, authdelegate.Config{
		Store:          a.store,
		Tokens:         codec,
		IssuerURL:      cfg.Auth.IssuerURL,
		ClientID:       cfg.Auth.ClientID,
		ClientSecret:   cfg.Auth.ClientSecret,
		Scopes:         cfg.Auth.Scopes,
		PublicURL:      cfg.Gateway.PublicURL,
		AllowedOrigins: cfg.Auth.AllowedOrigins,
		ClaimMapping: authdelegate.ClaimMapping{
			UserID:      cfg.Auth.Claims.UserID,
			DisplayName: cfg.Auth.Claims.DisplayName,
			Email:       cfg.Auth.Claims.Email,
			ImageURL:    cfg.Auth.Claims.ImageURL,
			ProfileURL:  cfg.Auth.Claims.ProfileURL,
			SettingsURL: cfg.Auth.Claims.SettingsURL,
			FirstName:   cfg.Auth.Claims.FirstName,
			LastName:    cfg.Auth.Claims.LastName,
		},
		SessionKey:          key,
		PreviousSessionKeys: previous,
		IdleTimeout:         cfg.Auth.IdleTimeout,
		AbsoluteTimeout:     cfg.Auth.AbsoluteTimeout,
		TokenTTL:            cfg.Auth.TokenTTL,
		RefreshBefore:       cfg.Auth.RefreshMargin,
		// 0 keeps authdelegate's default (the access token's lifetime).
		ProviderRecheckInterval: cfg.Auth.ProviderRecheck,
		CanonicalProfileFunc:    pp.CanonicalProfile,
		ProfileChangedFunc:      pp.EnqueuePingTx,
		SessionEndedFunc:        pp.EnqueueLogoutTx,
		Logger:                  a.log,
		Registerer:              a.router.Registry(),
	})
	if err != nil {
		return nil, &ConfigError{Problems: []string{err.Error()}}
	}
	return h, nil
}

// wireHub builds the hub from a.cfg, mounts it and adds its pull jobs.
func wireHub(a *app) (*hub.Handler, error) {
	cfg := a.cfg
	var networks []hub.NetworkConfig
	for _, n := range cfg.HubNetworks() {
		nc := hub.NetworkConfig{
			Name: n.Name, Key: n.Key, PreviousKeys: n.PreviousKeys,
			JavaKeyTruncation: n.JavaKeyTruncation, AllowPrivateTargets: n.AllowPrivateTargets,
		}
		for _, s := range n.Sites {
			nc.Sites = append(nc.Sites, hub.SiteConfig{ID: s.ID, Key: s.Key, Moderators: s.Moderators})
		}
		networks = append(networks, nc)
	}
	h, err := hub.New(hub.Config{
		Networks:            networks,
		AllowPrivateTargets: cfg.Hub.AllowPrivateTargets,
		AppOrigins:          cfg.Hub.AppOrigins,
		DefaultAvatarURL:    cfg.Hub.DefaultAvatarURL,
		Store:               a.store,
		Logger:              a.log,
		Registerer:          a.router.Registry(),
		// The users page and API with an admin token; the demo app with
		// hub.demo_app.
		AdminToken:             cfg.AdminToken,
		DemoApp:                cfg.Hub.DemoApp,
		UpdateStreamsPerClient: cfg.Hub.UpdateStreamsPerClient,

		PullFollowCrossHostRedirects: cfg.Hub.PullFollowCrossHostRedirects,
	})
	if err != nil {
		return nil, &ConfigError{Problems: []string{err.Error()}}
	}
	// No page of the hub is meant to be framed.
	a.mount(h)
	a.addJobs(hubJobs{h})
	// The fast path of pulls: pings this process took, and pulls whose
	// lease ended.
	a.addService("pull delivery", h.Run)
	a.router.Handle("/", hubRoot(cfg), http.MethodGet, http.MethodHead)
	return h, nil
}

// hubJobs gives the hub the jobsHandler shape.
type hubJobs struct{ *hub.Handler }

func (hubJobs) Queues() map[string]river.QueueConfig {
	return map[string]river.QueueConfig{hub.PullQueue: {MaxWorkers: 50}}
}

// newRiverUI builds the River UI for the gateway's admin routes (nil
// without an admin token), on the store's River client.
func newRiverUI(ctx context.Context, a *app) (http.Handler, error) {
	if a.cfg.AdminToken == "" {
		return nil, nil
	}
	opts := &riverui.HandlerOpts{Logger: a.log, Prefix: "/admin/jobs", JobListHideArgsByDefault: true, Endpoints: a.store.JobsUI()}
	h, err := riverui.NewHandler(opts)
	if err != nil {
		return nil, fmt.Errorf("river ui: %w", err)
	}
	if err := h.Start(ctx); err != nil {
		return nil, fmt.Errorf("river ui: %w", err)
	}
	return h, nil
}
