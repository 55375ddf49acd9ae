package devidp_test

import (
	"fmt"
	"net"
	"net/http"

	"github.com/ssogate/ssogate/internal/devidp"
)

// Start the provider on its own loopback listener; the issuer must be the
// URL it is served at, so listen first.
func ExampleNew() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	issuer := "http://" + ln.Addr().String()

	idp, err := devidp.New(devidp.Config{
		Issuer:        issuer,
		AllowInsecure: true, // http on loopback, development only
		Users:         devidp.DemoUsers(),
		Clients: []devidp.Client{{
			ID:                   "gateway",
			Secret:               "gateway-secret",
			RedirectURIs:         []string{"http://localhost:8080/callback"},
			BackChannelLogoutURI: "http://localhost:8080/backchannel-logout",
		}},
	})
	if err != nil {
		panic(err)
	}
	srv := &http.Server{Handler: idp.Handler()}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	resp, err := http.Get(issuer + "/.well-known/openid-configuration")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, idp.Issuer() == issuer)
	// Output: 200 true
}
