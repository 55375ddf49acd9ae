package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/ssogate/ssogate/internal/demosite"
	"github.com/ssogate/ssogate/internal/devidp"
	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/tokens"
)

// demoNetwork is the demo's Livefyre network.
const demoNetwork = "demo.fyre.co"

// demoSecrets are generated on the first run and kept in the data directory
// (mode 0600), so a restarted demo keeps its sessions and tokens.
type demoSecrets struct {
	NetworkKey    string `json:"network_key"`
	WebhookSecret string `json:"webhook_secret"`
	SessionKey    string `json:"session_key"`
	ClientSecret  string `json:"client_secret"`
	AdminToken    string `json:"admin_token"`
}

// demoPorts are the demo's four boxes, each on its own origin. The site is
// on "localhost", the others on "127.0.0.1": different sites, as the site
// and the gateway are in production, so third-party cookie rules apply.
type demoPorts struct {
	site, gateway, hub, idp net.Listener
}

func demoCommand(fs *flag.FlagSet) runFunc {
	dataDir := fs.String("data", "./ssogate-demo", "data directory (SQLite databases, generated secrets, users, log)")
	port := fs.Int("port", 8080, "the site's port; the gateway, hub and identity provider take the next three (0: any free ports)")
	logLevel := fs.String("log-level", "info", "level of the log written to DATA/demo.log")
	return func(ctx context.Context, e *env, args []string) error {
		return runDemo(ctx, e, args, dataDir, port, logLevel)
	}
}

func runDemo(ctx context.Context, e *env, rest []string, dataDir *string, port *int, logLevel *string) error {
	if len(rest) > 0 {
		return usageErrorf("demo takes no arguments, got %q", strings.Join(rest, " "))
	}
	if *port < 0 || *port > 65532 {
		return usageErrorf("--port must be between 0 and 65532")
	}
	level, err := parseLogLevel(*logLevel)
	if err != nil {
		return usageErrorf("--log-level: %v", err)
	}
	dir, err := filepath.Abs(*dataDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("demo: data directory: %w", err)
	}
	logFile, err := os.OpenFile(filepath.Join(dir, "demo.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("demo: log file: %w", err)
	}
	defer logFile.Close()
	log := slog.New(httpbase.LogHandler(slog.NewJSONHandler(logFile, logHandlerOptions(level))))

	secrets, err := loadDemoSecrets(filepath.Join(dir, "secrets.json"))
	if err != nil {
		return err
	}
	ports, err := listenDemo(*port)
	if err != nil {
		return err
	}
	siteURL := "http://localhost:" + portOf(ports.site)
	gatewayURL := "http://127.0.0.1:" + portOf(ports.gateway)
	hubURL := "http://127.0.0.1:" + portOf(ports.hub)
	idpURL := "http://127.0.0.1:" + portOf(ports.idp)

	// The gateway and the hub are configured exactly as `serve` and `hub`
	// would be from these variables, through the same loader.
	common := map[string]string{
		"SSOGATE_NETWORK_NAME": demoNetwork,
		"SSOGATE_NETWORK_KEY":  secrets.NetworkKey,
		"SSOGATE_LOG_LEVEL":    *logLevel,
	}
	gatewayCfg, err := demoConfig(common, map[string]string{
		"SSOGATE_DATABASE_URL":         "sqlite:" + filepath.Join(dir, "gateway.db"),
		"SSOGATE_PUBLIC_URL":           gatewayURL,
		"SSOGATE_HUB_URL":              hubURL,
		"SSOGATE_WEBHOOK_SECRETS":      secrets.WebhookSecret,
		"SSOGATE_AUTH_ISSUER_URL":      idpURL,
		"SSOGATE_AUTH_CLIENT_ID":       "demo-gateway",
		"SSOGATE_AUTH_CLIENT_SECRET":   secrets.ClientSecret,
		"SSOGATE_AUTH_SESSION_KEY":     secrets.SessionKey,
		"SSOGATE_AUTH_ALLOWED_ORIGINS": siteURL,
		// The gateway's admin API and River UI.
		"SSOGATE_ADMIN_TOKEN": secrets.AdminToken,
	})
	if err != nil {
		return err
	}
	hubCfg, err := demoConfig(common, map[string]string{
		"SSOGATE_DATABASE_URL":          "sqlite:" + filepath.Join(dir, "hub.db"),
		"SSOGATE_ALLOW_PRIVATE_TARGETS": "true",
		"SSOGATE_APP_ORIGINS":           siteURL,
		// The users page and API, behind the same admin token as the
		// gateway's admin routes (Basic password in a browser).
		"SSOGATE_ADMIN_TOKEN": secrets.AdminToken,
		// The comment app and the update stream the news site uses.
		"SSOGATE_DEMO_APP": "true",
	})
	if err != nil {
		return err
	}

	idp, err := newDemoIDP(dir, idpURL, gatewayURL, siteURL, secrets.ClientSecret, log)
	if err != nil {
		return err
	}

	// The provider must answer before the gateway discovers it.
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return serveHandler(gctx, ports.idp, idp.Handler(), log.With("role", "idp")) })

	hubApp, err := newApp(gctx, hubCfg, log.With(slog.String("role", "hub")))
	if err != nil {
		return err
	}
	defer hubApp.close()
	hubApp.listener = ports.hub
	if _, err := wireHub(hubApp); err != nil {
		return err
	}

	gwApp, err := newApp(gctx, gatewayCfg, log.With(slog.String("role", "gateway")))
	if err != nil {
		return err
	}
	defer gwApp.close()
	gwApp.listener = ports.gateway
	gw, err := wireGateway(gctx, gwApp)
	if err != nil {
		return err
	}

	codec, err := tokens.New(tokens.Config{Network: demoNetwork, Key: secrets.NetworkKey})
	if err != nil {
		return err
	}
	site, err := demosite.New(demosite.Config{
		SiteURL: siteURL, GatewayURL: gatewayURL, HubURL: hubURL, IdentityURL: idpURL,
		Network: demoNetwork, Tokens: codec, WebhookSecret: secrets.WebhookSecret,
		LoadProfileFunc: func(_ context.Context, userID string) (demosite.Profile, error) {
			u, ok := idp.User(userID)
			if !ok {
				return demosite.Profile{}, devidp.ErrUnknownUser
			}
			return profileOfUser(u), nil
		},
		SaveProfileFunc: func(ctx context.Context, userID string, p demosite.Profile) error {
			_, err := idp.UpdateUser(ctx, userID, func(u *devidp.User) {
				u.Name = p.DisplayName
				u.Picture = siteURL + "/avatars/" + p.Avatar + ".svg"
				u.Bio = p.Bio
			})
			return err
		},
		Logger: log.With(slog.String("role", "site")),
	})
	if err != nil {
		return err
	}
	siteRouter, err := httpbase.NewRouter(httpbase.RouterConfig{Logger: log.With(slog.String("role", "site")), Registry: httpbase.NewRegistry()})
	if err != nil {
		return err
	}
	site.Mount(siteRouter)

	g.Go(func() error { return hubApp.serve(gctx) })
	g.Go(func() error { return gwApp.serve(gctx) })
	g.Go(func() error { return serveHandler(gctx, ports.site, siteRouter, log.With("role", "site")) })

	// Running means a profile change can flow: the hub knows the pull URL.
	select {
	case <-gw.pingpull.Registered():
	case <-gctx.Done():
	}
	if gctx.Err() == nil {
		printDemoBanner(e, siteURL, gatewayURL, hubURL, idpURL, dir)
	}

	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// printDemoBanner says where everything is, once it is.
func printDemoBanner(e *env, siteURL, gatewayURL, hubURL, idpURL, dir string) {
	fmt.Fprintf(e.stdout, `ssogate demo is running. Open the news site and follow its first page:

  news site          %s
  gateway            %s
  hub (users page)   %s/users
  identity provider  %s   (users alice / alice-password, bob / bob-password)

  data directory     %s  (log: demo.log)
  gateway admin      %s/admin/jobs  (River UI)
  admin login        any user name, password: admin_token in %s (River UI and users page)

Press Ctrl-C to stop.
`, siteURL, gatewayURL, hubURL, idpURL, dir, gatewayURL, filepath.Join(dir, "secrets.json"))
}

// demoConfig loads a Config from the demo's variables through the same
// loader and validation as every other command.
func demoConfig(vars ...map[string]string) (*Config, error) {
	env := map[string]string{}
	for _, m := range vars {
		for k, v := range m {
			env[k] = v
		}
	}
	return loadConfig(nil, func(k string) string { return env[k] }, requirements{network: true})
}

// listenDemo binds the four ports: port, port+1, port+2, port+3, or four
// free ports when port is 0. The site also listens on ::1 where it can,
// since browsers may resolve localhost there first.
func listenDemo(port int) (*demoPorts, error) {
	var lns []net.Listener
	for i := range 4 {
		p := 0
		if port != 0 {
			p = port + i
		}
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", fmt.Sprint(p)))
		if err != nil {
			for _, l := range lns {
				_ = l.Close()
			}
			return nil, fmt.Errorf("demo: %w (choose other ports with --port)", err)
		}
		lns = append(lns, ln)
	}
	site := lns[0]
	if v6, err := net.Listen("tcp", net.JoinHostPort("::1", portOf(site))); err == nil {
		site = &dualListener{Listener: site, other: v6}
	}
	return &demoPorts{site: site, gateway: lns[1], hub: lns[2], idp: lns[3]}, nil
}

func portOf(ln net.Listener) string {
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	return p
}

// dualListener accepts on two listeners (127.0.0.1 and ::1 on one port).
type dualListener struct {
	net.Listener
	other net.Listener
	once  sync.Once
	conns chan net.Conn
	errs  chan error
}

func (d *dualListener) start() {
	d.conns = make(chan net.Conn)
	d.errs = make(chan error, 2)
	for _, l := range []net.Listener{d.Listener, d.other} {
		go func(l net.Listener) {
			for {
				c, err := l.Accept()
				if err != nil {
					d.errs <- err
					return
				}
				d.conns <- c
			}
		}(l)
	}
}

func (d *dualListener) Accept() (net.Conn, error) {
	d.once.Do(d.start)
	select {
	case c := <-d.conns:
		return c, nil
	case err := <-d.errs:
		return nil, err
	}
}

func (d *dualListener) Close() error {
	return errors.Join(d.Listener.Close(), d.other.Close())
}

// serveHandler serves h on ln until ctx ends.
func serveHandler(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	srv, err := httpbase.NewServer(httpbase.ServerConfig{Listener: ln, Handler: h, Logger: log})
	if err != nil {
		return err
	}
	return srv.Run(ctx)
}

// loadDemoSecrets reads the demo's secrets, generating them on first use.
func loadDemoSecrets(path string) (*demoSecrets, error) {
	var s demoSecrets
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &s); err != nil {
			return nil, fmt.Errorf("demo: %s: %w (delete it to start afresh)", path, err)
		}
		return &s, nil
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("demo: %w", err)
	}
	random := func(n int) []byte {
		b := make([]byte, n)
		_, _ = rand.Read(b)
		return b
	}
	s = demoSecrets{
		NetworkKey:    base64.StdEncoding.EncodeToString(random(21)),
		WebhookSecret: "whsec_" + base64.StdEncoding.EncodeToString(random(32)),
		SessionKey:    base64.StdEncoding.EncodeToString(random(32)),
		ClientSecret:  hex.EncodeToString(random(24)),
		AdminToken:    hex.EncodeToString(random(24)),
	}
	data, _ = json.MarshalIndent(s, "", "  ")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	return &s, nil
}

// newDemoIDP starts the development provider with alice and bob. Their
// profiles are the demo's user management system: edits are saved in the
// data directory so a restarted demo still agrees with the gateway.
func newDemoIDP(dir, idpURL, gatewayURL, siteURL, clientSecret string, log *slog.Logger) (*devidp.Provider, error) {
	usersPath := filepath.Join(dir, "users.json")
	users := devidp.DemoUsers()
	avatars := map[string]string{"alice": "fox", "bob": "owl"}
	for i := range users {
		users[i].Picture = siteURL + "/avatars/" + avatars[users[i].ID] + ".svg"
		users[i].Profile = siteURL + "/profile"
	}
	if data, err := os.ReadFile(usersPath); err == nil {
		var saved []devidp.User
		if err := json.Unmarshal(data, &saved); err != nil {
			return nil, fmt.Errorf("demo: %s: %w (delete it to start afresh)", usersPath, err)
		}
		users = saved
	}
	var mu sync.Mutex
	var idp *devidp.Provider
	save := func(devidp.User) {
		mu.Lock()
		defer mu.Unlock()
		data, _ := json.MarshalIndent(idp.Users(), "", "  ")
		if err := os.WriteFile(usersPath, data, 0o600); err != nil {
			log.Error("demo: save users", slog.String("error", err.Error()))
		}
	}
	var err error
	idp, err = devidp.New(devidp.Config{
		Issuer:        idpURL,
		AllowInsecure: true,
		Users:         users,
		Clients: []devidp.Client{{
			ID:                     "demo-gateway",
			Secret:                 clientSecret,
			RedirectURIs:           []string{gatewayURL + "/callback"},
			PostLogoutRedirectURIs: []string{siteURL + "/", siteURL + "/article"},
			BackChannelLogoutURI:   gatewayURL + "/backchannel-logout",
		}},
		OnUserChange: save,
		Logger:       log.With(slog.String("role", "idp")),
	})
	if err != nil {
		return nil, err
	}
	return idp, nil
}

// profileOfUser is what the site shows and sends of a provider user.
func profileOfUser(u devidp.User) demosite.Profile {
	avatar := strings.TrimSuffix(filepath.Base(u.Picture), ".svg")
	return demosite.Profile{
		DisplayName: u.Name, Avatar: avatar, Bio: u.Bio,
		Email: u.Email, FirstName: u.GivenName, LastName: u.FamilyName,
	}
}
