package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/ssogate/ssogate/"

// allowed lists, for each project package, the project packages its
// non-test files may import (module prefix left off). A package missing
// here, or an import missing from its list, fails the test: adding an edge
// is a decision, made here and in the README's Layout section.
var allowed = map[string][]string{
	"cmd/ssogate": {
		"authdelegate", "pingpull", "hub", "livefyre", "tokens",
		"store", "store/sqlite", "store/postgres", "web", "docs",
		"internal/httpbase", "internal/demosite", "internal/devidp",
	},
	"cmd/ssogate-bench": {"internal/bench"},

	// The domains: each on the shared lower layer, never on each other.
	"authdelegate": {"livefyre", "tokens", "store", "web", "internal/httpbase"},
	"pingpull":     {"livefyre", "tokens", "store", "web", "internal/httpbase", "internal/drain", "internal/txbatch"},
	"hub":          {"livefyre", "tokens", "store", "web", "internal/httpbase", "internal/drain", "internal/txbatch"},

	// The lower layer.
	"livefyre": {"tokens"},
	"tokens":   {},
	"store":    {},
	"web":      {},

	"store/sqlite":             {"store", "internal/notifyhub", "store/internal/riverconf"},
	"store/postgres":           {"store", "store/internal/riverconf"},
	"store/internal/riverconf": {"store"},
	"store/storetest":          {"store", "internal/asynctest"},
	"internal/notifyhub":       {"store"},

	"docs":                     {},
	"docs/examples/webhook":    {},
	"docs/examples/webhook/go": {},

	"internal/archtest":        {},
	"internal/asynctest":       {},
	"internal/bench":           {"internal/e2e", "internal/httpbase", "tokens"},
	"internal/demosite":        {"internal/httpbase", "tokens", "web"},
	"internal/drain":           {},
	"internal/txbatch":         {},
	"internal/devidp":          {"internal/httpbase"},
	"internal/e2e":             {},
	"internal/httpbase":        {},
	"internal/openapitest":     {"docs"},
	"internal/testdb":          {"internal/testenv", "store", "store/sqlite", "store/postgres"},
	"internal/testenv":         {},
	"internal/pgtemp":          {"internal/testenv"},
	"internal/tools/k8sschema": {},
}

// never lists packages that must not reach another, directly or through
// any chain of imports.
var never = map[string][]string{
	"authdelegate": {"pingpull", "hub"},
	"pingpull":     {"authdelegate", "hub"},
	"hub":          {"authdelegate", "pingpull"},
}

type listedPackage struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
	Deps         []string
	Standard     bool
	Module       *struct{ Path string }
}

// projectPackages runs `go list -deps -json ./...` from the module root and
// returns the project's packages by path without the module prefix.
func projectPackages(t *testing.T) map[string]listedPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-json", "github.com/ssogate/ssogate/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	pkgs := map[string]listedPackage{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list: %v", err)
		}
		if rel, ok := strings.CutPrefix(p.ImportPath, module); ok {
			pkgs[rel] = p
		}
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d project packages; is the test run inside the module?", len(pkgs))
	}
	return pkgs
}

func projectOnly(paths []string) []string {
	var out []string
	for _, p := range paths {
		if rel, ok := strings.CutPrefix(p, module); ok {
			out = append(out, rel)
		}
	}
	return out
}

func TestImportsFlowDownward(t *testing.T) {
	pkgs := projectPackages(t)
	for name, p := range pkgs {
		ok, known := allowed[name]
		if !known {
			t.Errorf("package %s is not in archtest's allowed list: add it with the project packages it may import", name)
			continue
		}
		for _, imp := range projectOnly(p.Imports) {
			if !slices.Contains(ok, imp) {
				t.Errorf("%s imports %s: not an allowed edge (README, Layout)", name, imp)
			}
		}
		for _, dep := range projectOnly(p.Deps) {
			if slices.Contains(never[name], dep) {
				t.Errorf("%s depends on %s (through some import): the domains meet only through store and cmd's hooks", name, dep)
			}
		}
	}
}

func TestStoreImportsNoProjectPackage(t *testing.T) {
	p, ok := projectPackages(t)["store"]
	if !ok {
		t.Fatal("package store not found")
	}
	if deps := projectOnly(p.Deps); len(deps) > 0 {
		t.Errorf("store depends on project packages %v; the storage contract imports none", deps)
	}
}

// TestOnlyHTTPBaseRoutes keeps gorilla/mux behind internal/httpbase: domains
// mount on httpbase.Routes and read path variables with httpbase.PathValue,
// so the router underneath is one package's choice. Tests count too.
func TestOnlyHTTPBaseRoutes(t *testing.T) {
	const gorillaMux = "github.com/gorilla/mux"
	pkgs := projectPackages(t)
	for name, p := range pkgs {
		if name == "internal/httpbase" {
			continue
		}
		for _, imports := range [][]string{p.Imports, p.TestImports, p.XTestImports} {
			if slices.Contains(imports, gorillaMux) {
				t.Errorf("%s imports %s: mount on httpbase.Routes and use httpbase.PathValue", name, gorillaMux)
				break
			}
		}
	}
	if !slices.Contains(pkgs["internal/httpbase"].Imports, gorillaMux) {
		t.Errorf("internal/httpbase no longer imports %s: update this test", gorillaMux)
	}
}
