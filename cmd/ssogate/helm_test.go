package main

import (
	"encoding/json"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestHelmChartSecrets keeps the Helm chart's secrets in step with Config:
// every secret setting (and the database URL, whose password is one) has
// an entry in the chart's secretEnv table with its SSOGATE_… variable, and
// the gateway's values and values.schema.json name the same entries.
func TestHelmChartSecrets(t *testing.T) {
	t.Parallel()
	helpers, err := os.ReadFile("../../deploy/helm/ssogate/templates/_helpers.tpl")
	require.NoError(t, err)
	_, table, found := strings.Cut(string(helpers), `{{- define "ssogate.secretEnv" -}}`)
	require.True(t, found, "_helpers.tpl has no ssogate.secretEnv")
	table, _, _ = strings.Cut(table, "{{- end }}")
	chart := map[string]string{} // env → values name
	for _, m := range regexp.MustCompile(`(?m)^(\w+): (SSOGATE_\w+)$`).FindAllStringSubmatch(table, -1) {
		chart[m[2]] = m[1]
	}

	want := map[string]bool{}
	for _, f := range configFields() {
		if f.env != "" && (f.secret || f.path == "database_url") {
			want[f.env] = true
		}
	}
	require.Equal(t, slices.Sorted(maps.Keys(want)), slices.Sorted(maps.Keys(chart)),
		"deploy/helm/ssogate/templates/_helpers.tpl's ssogate.secretEnv must list every secret setting's variable")

	schemaData, err := os.ReadFile("../../deploy/helm/ssogate/values.schema.json")
	require.NoError(t, err)
	var schema struct {
		Properties struct {
			Gateway struct {
				Properties struct {
					Secrets struct {
						Properties map[string]any `json:"properties"`
					} `json:"secrets"`
				} `json:"properties"`
			} `json:"gateway"`
		} `json:"properties"`
	}
	require.NoError(t, json.Unmarshal(schemaData, &schema))
	names := slices.Sorted(maps.Values(chart))
	require.Equal(t, names, slices.Sorted(maps.Keys(schema.Properties.Gateway.Properties.Secrets.Properties)),
		"values.schema.json's gateway.secrets")

	values, err := os.ReadFile("../../deploy/helm/ssogate/values.yaml")
	require.NoError(t, err)
	for _, name := range names {
		require.Contains(t, string(values), "    "+name+": {existingSecret: \"\"", "values.yaml's gateway.secrets."+name)
	}
}
