package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// maxRedirects bounds the redirects a pull follows.
const maxRedirects = 5

// ErrPrivateTarget is wrapped by a pull that was refused because its target
// (after DNS and redirects) is a loopback, private, link-local, metadata or
// otherwise non-public address.
var ErrPrivateTarget = errors.New("hub: pull target is not a public address")

// privateTargetError names the refused address.
type privateTargetError struct{ addr netip.Addr }

func (e *privateTargetError) Error() string {
	return fmt.Sprintf("%v: %s", ErrPrivateTarget, e.addr)
}

func (e *privateTargetError) Unwrap() error { return ErrPrivateTarget }

// nonPublicPrefixes are ranges refused beyond what netip's predicates
// cover: this network, shared address space (carrier NAT; also Alibaba's
// metadata 100.100.100.200), IETF protocol assignments, benchmarking,
// reserved, the 6to4 relay anycast, documentation, Azure's wire server;
// and in IPv6 the forms that embed or tunnel to an IPv4 address (IPv4-
// compatible, IPv4-mapped, NAT64, 6to4, Teredo), documentation, discard,
// ORCHID and the deprecated site-local range.
var nonPublicPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("192.88.99.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("168.63.129.16/32"),
	netip.MustParsePrefix("::/96"),
	netip.MustParsePrefix("::ffff:0:0/96"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("100::/64"),
	netip.MustParsePrefix("2001::/32"),
	netip.MustParsePrefix("2001:10::/28"),
	netip.MustParsePrefix("2001:20::/28"),
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("2002::/16"),
	netip.MustParsePrefix("fec0::/10"),
}

// checkPublic returns a *privateTargetError when addr is not a public
// unicast address. An IPv4-mapped address is refused whatever it maps to:
// resolvers hand out plain IPv4 addresses, so only a URL that spells one
// out (to slip past a filter) dials it.
func checkPublic(addr netip.Addr) error {
	raw := addr
	addr = addr.Unmap()
	if !addr.IsValid() || addr.IsLoopback() || addr.IsPrivate() || addr.IsUnspecified() ||
		addr.IsLinkLocalUnicast() || addr.IsLinkLocalMulticast() || addr.IsInterfaceLocalMulticast() ||
		addr.IsMulticast() || addr == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return &privateTargetError{addr: addr}
	}
	for _, p := range nonPublicPrefixes {
		if p.Contains(addr) || p.Contains(raw) {
			return &privateTargetError{addr: raw}
		}
	}
	return nil
}

// dialGuard checks every address a pull connects to, after DNS resolution
// and on every redirect, because it runs in the dialer.
type dialGuard struct {
	// override, when set (tests only), replaces the check for the
	// addresses it says it handled.
	override atomic.Pointer[func(addr netip.AddrPort) (allowed, handled bool)]
}

// control is a net.Dialer Control function for the strict dialer.
func (g *dialGuard) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("hub: unexpected dial address %q: %w", address, err)
	}
	if override := g.override.Load(); override != nil {
		if allowed, handled := (*override)(ap); handled {
			if allowed {
				return nil
			}
			return &privateTargetError{addr: ap.Addr()}
		}
	}
	return checkPublic(ap.Addr())
}

// newPullClients returns the strict client (private targets refused) and
// the permissive one, both built from base (nil: a fresh transport). Both
// follow redirects by checkRedirect; crossHost lets them leave the pull
// URL's host.
func newPullClients(base *http.Client, guard *dialGuard, crossHost bool) (strict, permissive *http.Client) {
	policy := redirectPolicy{crossHost: crossHost}
	build := func(control func(string, string, syscall.RawConn) error) *http.Client {
		var c http.Client
		if base != nil {
			c = *base
		}
		// Whatever the transport, the redirect policy is the hub's: it keeps
		// the pull token from leaving for another host.
		c.CheckRedirect = policy.check
		var tr *http.Transport
		switch t := c.Transport.(type) {
		case nil:
			tr = http.DefaultTransport.(*http.Transport).Clone()
		case *http.Transport:
			tr = t.Clone()
		default:
			return &c // a custom RoundTripper does its own target checks
		}
		dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second, Control: control}
		tr.DialContext = dialer.DialContext
		tr.DialTLSContext = nil
		// A proxy would be the only address dialled, hiding the target.
		tr.Proxy = nil
		// Many pulls go to one gateway at once (the drain's workers): keep
		// their connections instead of closing all but two after each pull.
		tr.MaxIdleConnsPerHost = max(tr.MaxIdleConnsPerHost, pullIdleConnsPerHost)
		c.Transport = tr
		return &c
	}
	return build(guard.control), build(nil)
}

// pullIdleConnsPerHost is how many idle connections a pull client keeps
// per gateway host: as many as the drain's default workers.
const pullIdleConnsPerHost = DefaultPullWorkers

// redirectPolicy is the pull clients' CheckRedirect.
type redirectPolicy struct {
	// crossHost follows redirects to a host other than the pull URL's.
	crossHost bool
}

// check follows at most maxRedirects redirects, to http(s) only, and to
// the pull URL's host name unless crossHost. The pull URL's query holds the
// system token (lftoken), and net/http copies the previous URL, query
// included, into the redirected request's Referer: check removes it, so a
// redirect target learns the token only if the pull endpoint itself put it
// in the Location. The port may change (http to https, say): the host name
// is what names the operator.
func (p redirectPolicy) check(req *http.Request, via []*http.Request) error {
	req.Header.Del("Referer")
	if len(via) >= maxRedirects {
		return errTooManyRedirects
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return errBadRedirect
	}
	if !p.crossHost && len(via) > 0 && !strings.EqualFold(req.URL.Hostname(), via[0].URL.Hostname()) {
		return errCrossHostRedirect
	}
	return nil
}

var (
	errTooManyRedirects  = errors.New("hub: too many redirects")
	errBadRedirect       = errors.New("hub: redirect to a non-http(s) URL")
	errCrossHostRedirect = errors.New("hub: redirect to another host (set pull_follow_cross_host_redirects to follow it)")
)

// client returns the pull client for a network.
func (h *Handler) client(n *network) *http.Client {
	if n.allowPrivate {
		return h.permissive
	}
	return h.strict
}

// get sends the pull request and returns the status, headers and up to
// limit+1 bytes of body (more than limit means too large). It stops at ctx.
func get(ctx context.Context, c *http.Client, rawURL string, limit int64) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "ssogate-hub")
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, redact(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.ContentLength > limit {
		return resp, nil, errTooLarge
	}
	body, err := readLimited(resp, limit)
	return resp, body, err
}

var errTooLarge = errors.New("hub: pull response too large")

// redact drops the query (which holds lftoken) from the URL the HTTP
// client puts in its errors: they reach logs and River's job errors.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.RawQuery, u.ForceQuery, u.Fragment = "", false, ""
			ue.URL = u.String()
		} else {
			ue.URL = "(pull URL)"
		}
	}
	return err
}

func readLimited(resp *http.Response, limit int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > limit {
		return nil, errTooLarge
	}
	return body, nil
}
