package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// A swagger.json cut down to one kind, in Kubernetes' own shapes.
const testSwagger = `{"definitions": {
  "io.k8s.api.apps.v1.Deployment": {
    "type": "object",
    "description": "dropped",
    "properties": {
      "apiVersion": {"type": "string"},
      "kind": {"type": "string"},
      "metadata": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"},
      "spec": {"$ref": "#/definitions/io.k8s.api.apps.v1.DeploymentSpec"}
    },
    "x-kubernetes-group-version-kind": [{"group": "apps", "kind": "Deployment", "version": "v1"}]
  },
  "io.k8s.api.apps.v1.DeploymentSpec": {
    "type": "object",
    "properties": {
      "replicas": {"type": "integer", "format": "int32"},
      "maxSurge": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.util.intstr.IntOrString"},
      "cpu": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.api.resource.Quantity"},
      "labels": {"type": "object", "additionalProperties": {"type": "string"}}
    },
    "x-kubernetes-list-type": "atomic"
  },
  "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": {"type": "object", "properties": {"name": {"type": "string"}}},
  "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {"type": "string", "format": "int-or-string"},
  "io.k8s.apimachinery.pkg.api.resource.Quantity": {"type": "string"},
  "io.k8s.api.core.v1.Service": {
    "type": "object",
    "properties": {"spec": {"type": "object", "properties": {"port": {"type": "integer"}}}},
    "x-kubernetes-group-version-kind": [{"group": "", "kind": "Service", "version": "v1"}]
  },
  "io.k8s.api.unused.Thing": {"type": "object", "properties": {"x": {"type": "string"}}}
}}`

const testCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
spec:
  group: monitoring.coreos.com
  names: {kind: ServiceMonitor}
  versions:
    - name: v1
      served: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                port: {x-kubernetes-int-or-string: true}
                free: {type: object, x-kubernetes-preserve-unknown-fields: true, properties: {a: {type: string}}}
`

func TestConvert(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	swagger := filepath.Join(dir, "swagger.json")
	crd := filepath.Join(dir, "crd.yaml")
	require.NoError(t, os.WriteFile(swagger, []byte(testSwagger), 0o600))
	require.NoError(t, os.WriteFile(crd, []byte(testCRD), 0o600))
	out := filepath.Join(dir, "out")

	n, err := run(swagger, []string{crd}, out)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	entries, err := os.ReadDir(out)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	// kubeconform's {{ .ResourceKind }}{{ .KindSuffix }}.json.
	require.Equal(t, []string{"deployment-apps-v1.json", "service-v1.json", "servicemonitor-monitoring-v1.json"}, names)

	read := func(name string) map[string]any {
		data, err := os.ReadFile(filepath.Join(out, name))
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(data, &m))
		return m
	}
	d := read("deployment-apps-v1.json")
	require.Equal(t, false, d["additionalProperties"])
	props := d["properties"].(map[string]any)
	require.Equal(t, []any{"apps/v1"}, props["apiVersion"].(map[string]any)["enum"])
	require.Equal(t, []any{"Deployment"}, props["kind"].(map[string]any)["enum"])
	require.NotContains(t, d, "description")
	require.NotContains(t, d, "x-kubernetes-group-version-kind")
	defs := d["definitions"].(map[string]any)
	require.Len(t, defs, 4, "the definitions it reaches, not Service's or the unused one")
	spec := defs["io.k8s.api.apps.v1.DeploymentSpec"].(map[string]any)
	require.Equal(t, false, spec["additionalProperties"], "strict")
	require.NotContains(t, spec, "x-kubernetes-list-type")
	labels := spec["properties"].(map[string]any)["labels"].(map[string]any)
	require.Equal(t, map[string]any{"type": "string"}, labels["additionalProperties"], "a map keeps its value schema")
	require.Equal(t, map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "integer"}}},
		defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"])
	require.Equal(t, map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "number"}}},
		defs["io.k8s.apimachinery.pkg.api.resource.Quantity"])

	s := read("service-v1.json")
	require.Equal(t, []any{"v1"}, s["properties"].(map[string]any)["apiVersion"].(map[string]any)["enum"])
	require.NotContains(t, s, "definitions")

	sm := read("servicemonitor-monitoring-v1.json")
	smSpec := sm["properties"].(map[string]any)["spec"].(map[string]any)
	require.Equal(t, false, smSpec["additionalProperties"])
	smProps := smSpec["properties"].(map[string]any)
	require.Equal(t, map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "integer"}}}, smProps["port"])
	require.NotContains(t, smProps["free"], "additionalProperties", "preserve-unknown-fields stays open")
}

func TestConvertRefusesNonCRD(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.yaml")
	require.NoError(t, os.WriteFile(path, []byte("kind: ConfigMap\n"), 0o600))
	_, err := run("", []string{path}, t.TempDir())
	require.ErrorContains(t, err, "not a CustomResourceDefinition")
}
