package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/devidp"
)

const (
	metricsDocPath = "../../docs/metrics.md"
	metricsDocCmd  = "go test ./cmd/ssogate -run TestMetricsReference -update"
)

// metricInfo is one metric family as the reference shows it.
type metricInfo struct {
	name, typ, help string
	labels          []string
	// values lists a label's values when the collector exports them all at
	// every scrape (the queue gauges' states); empty for the rest.
	values map[string][]string
	// buckets are a histogram's upper bounds.
	buckets []float64
}

// TestMetricsReference builds the gateway and the hub exactly as serve and
// hub wire them (newApp, wireGateway with a provider, wireHub), gathers
// each registry, and keeps docs/metrics.md equal to what they register.
func TestMetricsReference(t *testing.T) {
	t.Parallel()
	gateway, hub := servedMetrics(t)
	want := renderMetricsDoc(gateway, hub)
	if *updateREADME {
		require.NoError(t, os.WriteFile(metricsDocPath, []byte(want), 0o644))
		return
	}
	got, err := os.ReadFile(metricsDocPath)
	require.NoError(t, err)
	require.Equal(t, want, string(got), "docs/metrics.md is stale: "+metricsDocCmd)
}

// servedMetrics returns the metric families of a fully configured gateway
// and of a hub, keyed by name.
func servedMetrics(t *testing.T) (gateway, hub map[string]*metricInfo) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)

	// The provider the gateway discovers at start.
	var idpHandler http.Handler
	idpServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { idpHandler.ServeHTTP(w, r) }))
	t.Cleanup(idpServer.Close)
	idp, err := devidp.New(devidp.Config{
		Issuer: idpServer.URL, AllowInsecure: true, Users: devidp.DemoUsers(),
		Clients: []devidp.Client{{ID: "gw", Secret: "client-secret", RedirectURIs: []string{"http://127.0.0.1:1/callback"}}},
		Logger:  log,
	})
	require.NoError(t, err)
	idpHandler = idp.Handler()

	common := map[string]string{
		"SSOGATE_NETWORK_NAME": "labs.fyre.co",
		"SSOGATE_NETWORK_KEY":  "labs-network-key-0123456789",
		"SSOGATE_ADMIN_TOKEN":  "admin-token-0123456789abcdef",
	}
	gwCfg, err := demoConfig(common, map[string]string{
		"SSOGATE_DATABASE_URL":         "sqlite:" + filepath.Join(dir, "gateway.db"),
		"SSOGATE_PUBLIC_URL":           "http://127.0.0.1:1",
		"SSOGATE_HUB_URL":              "http://127.0.0.1:1",
		"SSOGATE_WEBHOOK_SECRETS":      "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"SSOGATE_AUTH_ISSUER_URL":      idpServer.URL,
		"SSOGATE_AUTH_CLIENT_ID":       "gw",
		"SSOGATE_AUTH_CLIENT_SECRET":   "client-secret",
		"SSOGATE_AUTH_SESSION_KEY":     "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
		"SSOGATE_AUTH_ALLOWED_ORIGINS": "http://localhost:1",
	})
	require.NoError(t, err)
	hubCfg, err := demoConfig(common, map[string]string{
		"SSOGATE_DATABASE_URL": "sqlite:" + filepath.Join(dir, "hub.db"),
	})
	require.NoError(t, err)

	gwApp, err := newApp(ctx, gwCfg, log)
	require.NoError(t, err)
	hubApp, err := newApp(ctx, hubCfg, log)
	require.NoError(t, err)
	t.Cleanup(func() {
		cancel()
		gwApp.close()
		hubApp.close()
	})
	g, err := wireGateway(ctx, gwApp)
	require.NoError(t, err)
	require.NotNil(t, g.auth, "the gateway's browser side is wired")
	_, err = wireHub(hubApp)
	require.NoError(t, err)

	return gatherAll(t, gwApp.router.Registry()), gatherAll(t, hubApp.router.Registry())
}

// descCollector describes one Desc and collects nothing: registering it
// where the Desc is registered already returns AlreadyRegisteredError with
// the collector that owns it.
type descCollector struct{ desc *prometheus.Desc }

func (c descCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }
func (descCollector) Collect(chan<- prometheus.Metric)      {}

// gatherAll gathers reg with every metric vector holding one child, so that
// vectors nothing has used yet show in Gather with their type, help and
// label names. The children are made on this test's registry only.
func gatherAll(t *testing.T, reg *prometheus.Registry) map[string]*metricInfo {
	t.Helper()
	descs := make(chan *prometheus.Desc)
	go func() {
		reg.Describe(descs)
		close(descs)
	}()
	// Describe holds the registry's read lock until it returns: register
	// only once every Desc is in hand.
	var all []*prometheus.Desc
	for d := range descs {
		all = append(all, d)
	}
	var owners []prometheus.Collector
	for _, d := range all {
		var already prometheus.AlreadyRegisteredError
		// Collectors with several Descs (Go runtime, process, the queue
		// gauges) answer "duplicate": they collect at every scrape anyway.
		if err := reg.Register(descCollector{d}); errors.As(err, &already) {
			owners = append(owners, already.ExistingCollector)
		} else if err == nil {
			t.Fatalf("descriptor %s was not registered", d)
		}
	}
	for _, c := range owners {
		touchVec(t, c)
	}

	families, err := reg.Gather()
	require.NoError(t, err)
	out := map[string]*metricInfo{}
	for _, f := range families {
		m := &metricInfo{name: f.GetName(), typ: strings.ToLower(f.GetType().String()), help: f.GetHelp(), values: map[string][]string{}}
		for _, lp := range f.GetMetric()[0].GetLabel() {
			m.labels = append(m.labels, lp.GetName())
		}
		for _, metric := range f.GetMetric() {
			for _, lp := range metric.GetLabel() {
				if lp.GetValue() != "" && !slices.Contains(m.values[lp.GetName()], lp.GetValue()) {
					m.values[lp.GetName()] = append(m.values[lp.GetName()], lp.GetValue())
				}
			}
		}
		if f.GetType() == dto.MetricType_HISTOGRAM {
			for _, b := range f.GetMetric()[0].GetHistogram().GetBucket() {
				m.buckets = append(m.buckets, b.GetUpperBound())
			}
		}
		out[m.name] = m
	}
	// A collector that collects nothing until something happens would be
	// missing above: every Desc must have come back as a family.
	for _, d := range all {
		name := descName(t, d)
		if documented(name) {
			require.Contains(t, out, name, "%s is registered but not gathered: collect it at every scrape, or teach gatherAll its collector type", name)
		}
	}
	return out
}

// descName is a Desc's fully-qualified name, read from its String form
// (Desc{fqName: "…", …}): Desc has no accessor.
func descName(t *testing.T, d *prometheus.Desc) string {
	t.Helper()
	rest, ok := strings.CutPrefix(d.String(), "Desc{fqName: ")
	require.True(t, ok, "unexpected Desc form %s", d)
	quoted, err := strconv.QuotedPrefix(rest)
	require.NoError(t, err, d.String())
	name, err := strconv.Unquote(quoted)
	require.NoError(t, err, d.String())
	return name
}

// touchVec makes one child of a metric vector, with empty label values.
// The label count is found by asking for children of 0, 1, 2, … labels.
func touchVec(t *testing.T, c prometheus.Collector) {
	t.Helper()
	var get func(lvs ...string) error
	switch v := c.(type) {
	case *prometheus.CounterVec:
		get = func(lvs ...string) error { _, err := v.GetMetricWithLabelValues(lvs...); return err }
	case *prometheus.GaugeVec:
		get = func(lvs ...string) error { _, err := v.GetMetricWithLabelValues(lvs...); return err }
	case *prometheus.HistogramVec:
		get = func(lvs ...string) error { _, err := v.GetMetricWithLabelValues(lvs...); return err }
	case *prometheus.SummaryVec:
		get = func(lvs ...string) error { _, err := v.GetMetricWithLabelValues(lvs...); return err }
	default:
		return // a plain metric or a custom collector: it collects already
	}
	for n := range 16 {
		if get(make([]string, n)...) == nil {
			return
		}
	}
	t.Fatalf("%T: no label count from 0 to 15 fits", c)
}

// documented reports whether the reference lists a metric: ours. Go's
// runtime (go_…) and process (process_…) collectors are client_golang's
// standard ones, which vary with the Go version and the platform.
func documented(name string) bool { return strings.HasPrefix(name, "ssogate_") }

func renderMetricsDoc(gateway, hub map[string]*metricInfo) string {
	var both, gwOnly, hubOnly []*metricInfo
	for name, m := range gateway {
		if !documented(name) {
			continue
		}
		if _, ok := hub[name]; ok {
			both = append(both, m)
		} else {
			gwOnly = append(gwOnly, m)
		}
	}
	for name, m := range hub {
		if _, ok := gateway[name]; documented(name) && !ok {
			hubOnly = append(hubOnly, m)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, `# Metrics reference

<!-- Generated from the registered collectors; do not edit. Regenerate: %s -->

The gateway (`+"`ssogate serve`"+`) and the hub (`+"`ssogate hub`"+`) serve Prometheus metrics at
`+"`GET /metrics`"+` on their listener. Besides the metrics below, both export client_golang's standard
Go runtime (`+"`go_…`"+`) and process (`+"`process_…`"+`) collectors. Counters count since the process
started; the queue gauges are counted in the database at each scrape, so every replica reports the
same shared queue (aggregate them with `+"`max`"+`, not `+"`sum`"+`). A scrape fails (HTTP 500, Prometheus
`+"`up == 0`"+`) when the database does not answer that count.

The dashboard [deploy/grafana/ssogate.json](../deploy/grafana/ssogate.json) and the alerts
[deploy/prometheus/alerts.yaml](../deploy/prometheus/alerts.yaml) use these names; a test checks
that every name they use is here. Runbooks: [operations.md](operations.md).
`, metricsDocCmd)
	for _, sec := range []struct {
		title string
		ms    []*metricInfo
	}{
		{"Both servers", both},
		{"Gateway (`ssogate serve`)", gwOnly},
		{"Hub (`ssogate hub`)", hubOnly},
	} {
		if len(sec.ms) == 0 {
			continue
		}
		slices.SortFunc(sec.ms, func(a, b *metricInfo) int { return strings.Compare(a.name, b.name) })
		fmt.Fprintf(&b, "\n## %s\n\n| metric | type | labels | description |\n|---|---|---|---|\n", sec.title)
		for _, m := range sec.ms {
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", m.name, m.typ, renderLabels(m), renderHelp(m))
		}
	}
	return b.String()
}

func renderLabels(m *metricInfo) string {
	if len(m.labels) == 0 {
		return ""
	}
	var parts []string
	for _, l := range m.labels {
		p := "`" + l + "`"
		if vs := m.values[l]; len(vs) > 0 {
			p += " (" + strings.Join(vs, ", ") + ")"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}

func renderHelp(m *metricInfo) string {
	help := strings.ReplaceAll(m.help, "|", `\|`)
	if len(m.buckets) > 0 {
		var bs []string
		for _, b := range m.buckets {
			bs = append(bs, strconv.FormatFloat(b, 'g', -1, 64))
		}
		help += " Buckets (le): " + strings.Join(bs, ", ") + "; series `_bucket`, `_sum`, `_count`."
	}
	return help
}
