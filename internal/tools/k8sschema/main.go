// Command k8sschema writes JSON schemas for kubeconform from offline
// sources, so that CI validates the Helm chart's output without the schema
// downloads kubeconform normally makes:
//
//   - -swagger: Kubernetes' api/openapi-spec/swagger.json (in the
//     k8s.io/kubernetes module): one schema per group/version/kind;
//   - -crd (repeatable): a CustomResourceDefinition in YAML or JSON, such as
//     prometheus-operator's ServiceMonitor: one schema per served version.
//
// Files are named as kubeconform's -schema-location template
// "{{ .ResourceKind }}{{ .KindSuffix }}.json" expects: deployment-apps-v1.json,
// service-v1.json, servicemonitor-monitoring-v1.json. Each holds the kind's
// schema with the definitions it reaches inlined under "definitions", and is
// strict: every object that lists its properties refuses others
// (additionalProperties false), as kubeconform's -strict schemas do.
//
//	go run ./internal/tools/k8sschema -swagger swagger.json -crd servicemonitors-crd.json -out DIR
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// refPrefix is how swagger.json names its definitions in a $ref.
const refPrefix = "#/definitions/"

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	swagger := flag.String("swagger", "", "Kubernetes swagger.json (api/openapi-spec/swagger.json)")
	var crds stringList
	flag.Var(&crds, "crd", "a CustomResourceDefinition file, YAML or JSON (repeatable)")
	out := flag.String("out", "", "directory to write the schemas to (created)")
	flag.Parse()
	if *out == "" || (*swagger == "" && len(crds) == 0) || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: k8sschema -out DIR [-swagger swagger.json] [-crd crd.yaml]…")
		os.Exit(2)
	}
	n, err := run(*swagger, crds, *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "k8sschema:", err)
		os.Exit(1)
	}
	fmt.Printf("k8sschema: wrote %d schemas to %s\n", n, *out)
}

func run(swagger string, crds []string, out string) (int, error) {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return 0, err
	}
	files := map[string]map[string]any{}
	if swagger != "" {
		if err := fromSwagger(swagger, files); err != nil {
			return 0, err
		}
	}
	for _, path := range crds {
		if err := fromCRD(path, files); err != nil {
			return 0, err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		data, err := json.Marshal(files[name])
		if err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(out, name), data, 0o644); err != nil {
			return 0, err
		}
	}
	return len(files), nil
}

// fileName is kubeconform's name for a kind's schema: the kind, the first
// label of the group (none for the core group) and the version, lowercase.
func fileName(group, version, kind string) string {
	suffix := ""
	if group != "" {
		first, _, _ := strings.Cut(group, ".")
		suffix = "-" + first
	}
	return strings.ToLower(kind+suffix+"-"+version) + ".json"
}

func apiVersion(group, version string) string {
	if group == "" {
		return version
	}
	return group + "/" + version
}

type gvk struct{ Group, Version, Kind string }

func fromSwagger(path string, files map[string]map[string]any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc struct {
		Definitions map[string]map[string]any `json:"definitions"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if len(doc.Definitions) == 0 {
		return fmt.Errorf("%s: no definitions", path)
	}
	defs := map[string]any{}
	for name, def := range doc.Definitions {
		defs[name] = convert(def, name)
	}
	for _, name := range slices.Sorted(maps.Keys(doc.Definitions)) {
		raw, _ := json.Marshal(doc.Definitions[name]["x-kubernetes-group-version-kind"])
		var kinds []gvk
		_ = json.Unmarshal(raw, &kinds) // absent: not a kind
		for _, k := range kinds {
			root := copyMap(defs[name].(map[string]any))
			pinKind(root, k)
			reached := map[string]any{}
			collectRefs(root, defs, reached)
			if len(reached) > 0 {
				root["definitions"] = reached
			}
			fname := fileName(k.Group, k.Version, k.Kind)
			if _, dup := files[fname]; dup {
				// The same kind under two definitions (an old alias): keep the first.
				continue
			}
			files[fname] = root
		}
	}
	return nil
}

func fromCRD(path string, files map[string]map[string]any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var crd struct {
		Kind string `yaml:"kind"`
		Spec struct {
			Group string `yaml:"group"`
			Names struct {
				Kind string `yaml:"kind"`
			} `yaml:"names"`
			Versions []struct {
				Name   string `yaml:"name"`
				Served bool   `yaml:"served"`
				Schema struct {
					OpenAPIV3Schema map[string]any `yaml:"openAPIV3Schema"`
				} `yaml:"schema"`
			} `yaml:"versions"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(data, &crd); err != nil { // JSON is YAML
		return fmt.Errorf("%s: %w", path, err)
	}
	if crd.Kind != "CustomResourceDefinition" || crd.Spec.Names.Kind == "" {
		return fmt.Errorf("%s: not a CustomResourceDefinition", path)
	}
	n := 0
	for _, v := range crd.Spec.Versions {
		if v.Schema.OpenAPIV3Schema == nil {
			continue
		}
		root := convert(v.Schema.OpenAPIV3Schema, path).(map[string]any)
		pinKind(root, gvk{crd.Spec.Group, v.Name, crd.Spec.Names.Kind})
		files[fileName(crd.Spec.Group, v.Name, crd.Spec.Names.Kind)] = root
		n++
	}
	if n == 0 {
		return errors.New(path + ": no version has an openAPIV3Schema")
	}
	return nil
}

// pinKind makes a kind's schema accept only its own apiVersion and kind.
func pinKind(root map[string]any, k gvk) {
	props, _ := root["properties"].(map[string]any)
	if props == nil {
		props = map[string]any{}
		root["properties"] = props
	}
	props["apiVersion"] = map[string]any{"type": "string", "enum": []any{apiVersion(k.Group, k.Version)}}
	props["kind"] = map[string]any{"type": "string", "enum": []any{k.Kind}}
	if _, ok := root["additionalProperties"]; !ok {
		root["additionalProperties"] = false
	}
	root["$schema"] = "http://json-schema.org/draft-07/schema#"
}

// convert returns a JSON-schema copy of an OpenAPI schema node: extensions
// dropped, Kubernetes' string formats widened to what YAML writes (a
// quantity or an int-or-string may be a number), objects with listed
// properties made strict. name is the definition's name ("" inside one).
func convert(node any, name string) any {
	switch n := node.(type) {
	case []any:
		out := make([]any, len(n))
		for i, v := range n {
			out[i] = convert(v, "")
		}
		return out
	case map[string]any:
		if name == "io.k8s.apimachinery.pkg.api.resource.Quantity" {
			return map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "number"}}}
		}
		out := map[string]any{}
		for k, v := range n {
			switch {
			case k == "description" || strings.HasPrefix(k, "x-"):
				continue
			case k == "properties" || k == "definitions" || k == "patternProperties":
				// A map of names to schemas, not a schema.
				props := map[string]any{}
				for pk, pv := range v.(map[string]any) {
					props[pk] = convert(pv, "")
				}
				out[k] = props
			default:
				out[k] = convert(v, "")
			}
		}
		intOrString := n["format"] == "int-or-string" || n["x-kubernetes-int-or-string"] == true
		if intOrString {
			delete(out, "type")
			delete(out, "format")
			out["oneOf"] = []any{map[string]any{"type": "string"}, map[string]any{"type": "integer"}}
		}
		_, hasProps := out["properties"]
		_, hasAdditional := out["additionalProperties"]
		if hasProps && !hasAdditional && n["x-kubernetes-preserve-unknown-fields"] != true {
			out["additionalProperties"] = false
		}
		return out
	default:
		return n
	}
}

// collectRefs adds to reached every definition node refers to, directly or
// through other definitions.
func collectRefs(node any, defs, reached map[string]any) {
	switch n := node.(type) {
	case []any:
		for _, v := range n {
			collectRefs(v, defs, reached)
		}
	case map[string]any:
		if ref, ok := n["$ref"].(string); ok {
			name := strings.TrimPrefix(ref, refPrefix)
			if _, seen := reached[name]; !seen {
				if def, ok := defs[name]; ok {
					reached[name] = def
					collectRefs(def, defs, reached)
				}
			}
		}
		for k, v := range n {
			if k != "definitions" {
				collectRefs(v, defs, reached)
			}
		}
	}
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	maps.Copy(out, m)
	return out
}
