package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/testenv"
	"go.yaml.in/yaml/v3"
)

const (
	dashboardPath  = "../../deploy/grafana/ssogate.json"
	alertsPath     = "../../deploy/prometheus/alerts.yaml"
	operationsPath = "../../docs/operations.md"
	runbookBase    = "https://github.com/ssogate/ssogate/blob/main/docs/operations.md#"
)

// metricName finds the metric names in a PromQL expression: ours, the
// standard process and Go collectors', and Prometheus's own up.
var metricName = regexp.MustCompile(`\b(?:ssogate|process|go)_[a-zA-Z0-9_]+\b|\bup\b`)

// checkExpr requires every metric expr names to be one the servers export
// (a histogram's _bucket, _sum and _count series included), and ours to be
// in the reference.
func checkExpr(t *testing.T, where, expr string, served map[string]*metricInfo) {
	t.Helper()
	names := metricName.FindAllString(expr, -1)
	require.NotEmpty(t, names, "%s: %q names no metric", where, expr)
	for _, name := range names {
		if name == "up" {
			continue
		}
		m, ok := served[name]
		if !ok {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if base, found := strings.CutSuffix(name, suffix); found {
					if hm, exists := served[base]; exists && hm.typ == "histogram" {
						m, ok = hm, true
					}
				}
			}
		}
		require.True(t, ok, "%s: %s is not a metric the gateway or the hub exports (docs/metrics.md)", where, name)
		if strings.HasPrefix(name, "ssogate_") {
			require.True(t, documented(m.name), "%s: %s is not in docs/metrics.md", where, name)
		}
	}
}

func allServed(t *testing.T) map[string]*metricInfo {
	gateway, hub := servedMetrics(t)
	all := map[string]*metricInfo{}
	for _, m := range []map[string]*metricInfo{gateway, hub} {
		for k, v := range m {
			all[k] = v
		}
	}
	return all
}

// TestGrafanaDashboard: the dashboard parses, picks its data source from a
// variable, and every panel queries metrics the servers export.
func TestGrafanaDashboard(t *testing.T) {
	t.Parallel()
	served := allServed(t)
	data, err := os.ReadFile(dashboardPath)
	require.NoError(t, err)
	type datasource struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	}
	var dash struct {
		UID           string `json:"uid"`
		SchemaVersion int    `json:"schemaVersion"`
		Templating    struct {
			List []struct {
				Type  string `json:"type"`
				Name  string `json:"name"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
		Panels []struct {
			Type       string      `json:"type"`
			Title      string      `json:"title"`
			Datasource *datasource `json:"datasource"`
			Targets    []struct {
				Datasource *datasource `json:"datasource"`
				Expr       string      `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	require.NoError(t, dec.Decode(&dash))
	require.GreaterOrEqual(t, dash.SchemaVersion, 39)
	require.NotEmpty(t, dash.UID)

	var dsVar string
	for _, v := range dash.Templating.List {
		if v.Type == "datasource" && v.Query == "prometheus" {
			dsVar = "${" + v.Name + "}"
		}
	}
	require.NotEmpty(t, dsVar, "no Prometheus data source variable")

	used := map[string]bool{}
	graphs := 0
	for _, p := range dash.Panels {
		if p.Type == "row" {
			continue
		}
		graphs++
		require.NotNil(t, p.Datasource, p.Title)
		require.Equal(t, datasource{"prometheus", dsVar}, *p.Datasource, "%s: the panel's data source is the variable", p.Title)
		require.NotEmpty(t, p.Targets, p.Title)
		for _, tg := range p.Targets {
			require.NotNil(t, tg.Datasource, p.Title)
			require.Equal(t, dsVar, tg.Datasource.UID, p.Title)
			checkExpr(t, "dashboard panel "+p.Title, tg.Expr, served)
			for _, n := range metricName.FindAllString(tg.Expr, -1) {
				used[n] = true
			}
		}
	}
	require.GreaterOrEqual(t, graphs, 10)
	// The list: webhook refusals, queue depth and latency, dead
	// letters, errors, streams, HTTP latency by route.
	for _, name := range []string{
		"ssogate_gateway_webhooks_total", "ssogate_gateway_ping_queue_depth", "ssogate_hub_pull_queue_depth",
		"ssogate_hub_ping_to_update_seconds_bucket", "ssogate_gateway_ping_dead_letters_total",
		"ssogate_hub_pull_dead_letters", "ssogate_authdelegate_live_streams",
		"ssogate_gateway_ping_queue_oldest_seconds", "ssogate_hub_pull_queue_oldest_seconds",
		"ssogate_http_request_duration_seconds_bucket", "ssogate_http_requests_total",
	} {
		require.True(t, used[name], "no panel shows %s", name)
	}
}

// TestAlertRules: every alert queries metrics the servers export, has a
// severity, and its runbook_url points at a section of docs/operations.md.
func TestAlertRules(t *testing.T) {
	t.Parallel()
	served := allServed(t)
	data, err := os.ReadFile(alertsPath)
	require.NoError(t, err)
	var rules struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Expr        string            `yaml:"expr"`
				For         string            `yaml:"for"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&rules))

	ops, err := os.ReadFile(operationsPath)
	require.NoError(t, err)
	anchors := headingAnchors(string(ops))

	alerts := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			require.NotEmpty(t, r.Alert, "group %s: only alerting rules here", g.Name)
			alerts++
			checkExpr(t, "alert "+r.Alert, r.Expr, served)
			require.Contains(t, []string{"warning", "critical"}, r.Labels["severity"], r.Alert)
			require.NotEmpty(t, r.Annotations["summary"], r.Alert)
			anchor, ok := strings.CutPrefix(r.Annotations["runbook_url"], runbookBase)
			require.True(t, ok, "%s: runbook_url must start with %s", r.Alert, runbookBase)
			require.Equal(t, strings.ToLower(r.Alert), anchor, "%s: the runbook's heading is the alert's name", r.Alert)
			require.True(t, anchors[anchor], "%s: docs/operations.md has no section #%s", r.Alert, anchor)
		}
	}
	require.GreaterOrEqual(t, alerts, 6)
}

// headingAnchors returns the anchors GitHub gives the Markdown headings of
// doc: lower case, punctuation dropped, spaces as hyphens.
func headingAnchors(doc string) map[string]bool {
	anchors := map[string]bool{}
	inFence := false
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "```") {
			inFence = !inFence
		}
		if inFence || !strings.HasPrefix(line, "#") {
			continue
		}
		title := strings.TrimSpace(strings.TrimLeft(line, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(title) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127:
				b.WriteRune(r)
			}
		}
		anchors[b.String()] = true
	}
	return anchors
}

// TestGrafanaDashboardPromQL parses every panel's query with promtool (as
// recording rules, the dashboard variables filled in). It needs promtool:
// from PROMTOOL, which .ci/run sets, or from PATH; without either it skips,
// and fails under CI.
func TestGrafanaDashboardPromQL(t *testing.T) {
	t.Parallel()
	promtool := os.Getenv("PROMTOOL")
	if promtool == "" {
		var err error
		if promtool, err = exec.LookPath("promtool"); err != nil {
			testenv.Missing(t, "no promtool (Debian's prometheus package; set PROMTOOL or put it on PATH)")
		}
	}
	data, err := os.ReadFile(dashboardPath)
	require.NoError(t, err)
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(data, &dash))
	fill := strings.NewReplacer(`$job`, `ssogate.*`, `$__rate_interval`, `5m`)
	type rule struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	var rules []rule
	for _, p := range dash.Panels {
		for i, tg := range p.Targets {
			require.NotContains(t, fill.Replace(tg.Expr), "$", "%s: a variable the test does not fill", p.Title)
			rules = append(rules, rule{Record: fmt.Sprintf("dashboard:panel_%d_%d", len(rules), i), Expr: fill.Replace(tg.Expr)})
		}
	}
	out, err := yaml.Marshal(map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rules}}})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "dashboard_rules.yaml")
	require.NoError(t, os.WriteFile(path, out, 0o600))
	res, err := exec.CommandContext(t.Context(), promtool, "check", "rules", path).CombinedOutput()
	require.NoError(t, err, "promtool check rules on the dashboard's queries:\n%s", res)
	require.Contains(t, string(res), fmt.Sprintf("SUCCESS: %d rules found", len(rules)))
}
