package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

// The loader turns Config's struct tags into defaults, YAML keys,
// environment variables and flags. A leaf field is declared with:
//
//	yaml:"key"         the YAML key (required on every loaded field)
//	env:"SSOGATE_…"    the environment variable (optional)
//	flag:"name"        the command-line flag, without dashes (optional)
//	default:"…"        the default, in the same syntax as env (optional);
//	                   "@pkg.Name" names a package's default (config_defaults.go)
//	secret:"true"      never a flag, never printed (Redacted) or logged
//	secret:"url-password"  a URL whose password Redacted hides
//	help:"…"           one line for --help and the README table
//
// A struct-typed field with a yaml tag is a section and is walked. Leaf types:
// string, bool, int, float64, time.Duration, []string (comma-separated in env and
// flags, a list or a comma-separated string in YAML). Any other type, such as
// a list of structs, is YAML-only.

// configField is one leaf of Config.
type configField struct {
	path   string // YAML path, e.g. "network.name"
	env    string
	flag   string
	def    string
	help   string
	secret bool
	index  []int // reflect index path from Config
	typ    reflect.Type
}

var durationType = reflect.TypeFor[time.Duration]()

// configFields lists Config's leaves in declaration order.
var configFields = sync.OnceValue(func() []configField {
	fields := walkFields(reflect.TypeFor[Config](), "", nil)
	seen := map[string]string{}
	for _, f := range fields {
		if f.secret && f.flag != "" {
			panic(fmt.Sprintf("config: secret %s must not have a flag", f.path))
		}
		for _, name := range []string{"env:" + f.env, "flag:" + f.flag} {
			if strings.HasSuffix(name, ":") {
				continue
			}
			if other, dup := seen[name]; dup {
				panic(fmt.Sprintf("config: %s used by %s and %s", name, other, f.path))
			}
			seen[name] = f.path
		}
		if (f.env != "" || f.flag != "" || f.def != "") && !scalarType(f.typ) {
			panic(fmt.Sprintf("config: %s has type %s, which is YAML-only", f.path, f.typ))
		}
		if f.def != "" {
			if _, err := parseConfigValue(f.typ, f.def); err != nil {
				panic(fmt.Sprintf("config: default of %s: %v", f.path, err))
			}
		}
	}
	return fields
})

func walkFields(t reflect.Type, prefix string, index []int) []configField {
	var fields []configField
	for i := range t.NumField() {
		sf := t.Field(i)
		key, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if key == "" || key == "-" {
			continue
		}
		path := key
		if prefix != "" {
			path = prefix + "." + key
		}
		idx := append(append([]int(nil), index...), i)
		if sf.Type.Kind() == reflect.Struct && sf.Type != durationType {
			fields = append(fields, walkFields(sf.Type, path, idx)...)
			continue
		}
		fields = append(fields, configField{
			path:   path,
			env:    sf.Tag.Get("env"),
			flag:   sf.Tag.Get("flag"),
			def:    resolveDefault(sf.Tag.Get("default")),
			help:   sf.Tag.Get("help"),
			secret: sf.Tag.Get("secret") == "true",
			index:  idx,
			typ:    sf.Type,
		})
	}
	return fields
}

func scalarType(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Float64:
		return true
	case reflect.Int64:
		return t == durationType
	case reflect.Slice:
		return t.Elem().Kind() == reflect.String
	}
	return false
}

// parseConfigValue parses raw (an env value, a flag, a default or a YAML
// scalar) into a value of type t. Errors never quote raw: it may be a secret.
func parseConfigValue(t reflect.Type, raw string) (reflect.Value, error) {
	v := reflect.New(t).Elem()
	switch {
	case t == durationType:
		d, err := time.ParseDuration(strings.TrimSpace(raw))
		if err != nil {
			return v, fmt.Errorf("not a duration (like 90s, 5m, 24h)")
		}
		v.SetInt(int64(d))
	case t.Kind() == reflect.String:
		v.SetString(raw)
	case t.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(raw))
		if err != nil {
			return v, fmt.Errorf("not a boolean (true or false)")
		}
		v.SetBool(b)
	case t.Kind() == reflect.Int:
		n, err := strconv.Atoi(strings.TrimSpace(raw))
		if err != nil {
			return v, fmt.Errorf("not an integer")
		}
		v.SetInt(int64(n))
	case t.Kind() == reflect.Float64:
		f, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return v, fmt.Errorf("not a number")
		}
		v.SetFloat(f)
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		list := reflect.MakeSlice(t, 0, 0)
		for part := range strings.SplitSeq(raw, ",") {
			if part = strings.TrimSpace(part); part != "" {
				list = reflect.Append(list, reflect.ValueOf(part))
			}
		}
		v.Set(list)
	default:
		return v, fmt.Errorf("type %s cannot be set from text", t)
	}
	return v, nil
}

// configFlags holds the raw flag values of one command line.
type configFlags struct {
	configPath string
	values     map[string]*rawFlag // by flag name
}

// rawFlag records a flag's text; conversion happens in load, so that a bad
// flag value is reported with every other problem.
type rawFlag struct {
	value  string
	set    bool
	isBool bool
	typ    string // pflag's name of the type, shown in --help
}

func (f *rawFlag) String() string   { return f.value }
func (f *rawFlag) IsBoolFlag() bool { return f.isBool }
func (f *rawFlag) Type() string     { return f.typ }
func (f *rawFlag) Set(s string) error {
	f.value, f.set = s, true
	return nil
}

// registerConfigFlags adds --config and every Config flag to fs.
func registerConfigFlags(fs *flag.FlagSet) *configFlags {
	cf := &configFlags{values: map[string]*rawFlag{}}
	fs.StringVar(&cf.configPath, "config", "", "YAML configuration file (env SSOGATE_CONFIG)")
	for _, f := range configFields() {
		if f.flag == "" {
			continue
		}
		raw := &rawFlag{isBool: f.typ.Kind() == reflect.Bool, typ: flagTypeName(f.typ)}
		cf.values[f.flag] = raw
		usage := f.help
		if f.env != "" {
			usage += " (env " + f.env + ")"
		}
		fs.Var(raw, f.flag, usage)
		// Show the default in --help without making it look set.
		fs.Lookup(f.flag).DefValue = f.def
	}
	return cf
}

// flagTypeName names a leaf type as pflag's help does ("bool" shows none).
func flagTypeName(t reflect.Type) string {
	switch {
	case t == durationType:
		return "duration"
	case t.Kind() == reflect.Float64:
		return "float"
	case t.Kind() == reflect.Slice:
		return "strings"
	}
	return t.Kind().String() // string, bool, int
}

// ConfigError lists every problem found in the configuration.
type ConfigError struct {
	Problems []string
}

func (e *ConfigError) Error() string {
	return "invalid configuration:\n  - " + strings.Join(e.Problems, "\n  - ")
}

// problems collects configuration problems.
type problems []string

func (p *problems) addf(format string, args ...any) {
	*p = append(*p, fmt.Sprintf(format, args...))
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return &ConfigError{Problems: p}
}

// loadConfig builds the Config of one command: defaults, then the YAML file
// (--config, SSOGATE_CONFIG), then the environment, then flags; then derived
// defaults (WithDefaults) and validation against need. Every problem is
// returned at once in a *ConfigError.
func loadConfig(flags *configFlags, getenv func(string) string, need requirements) (*Config, error) {
	var cfg Config
	var probs problems
	root := reflect.ValueOf(&cfg).Elem()
	fields := configFields()

	for _, f := range fields {
		if f.def != "" {
			v, _ := parseConfigValue(f.typ, f.def) // checked in configFields
			root.FieldByIndex(f.index).Set(v)
		}
	}

	path := getenv("SSOGATE_CONFIG")
	if flags != nil && flags.configPath != "" {
		path = flags.configPath
	}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			probs.addf("config file: %v", err)
		} else {
			decodeYAMLConfig(path, data, root, &probs)
		}
	}

	for _, f := range fields {
		if f.env == "" {
			continue
		}
		raw := getenv(f.env)
		if raw == "" {
			continue
		}
		v, err := parseConfigValue(f.typ, raw)
		if err != nil {
			probs.addf("%s: %v", f.env, err)
			continue
		}
		root.FieldByIndex(f.index).Set(v)
	}

	if flags != nil {
		for _, f := range fields {
			raw := flags.values[f.flag]
			if f.flag == "" || raw == nil || !raw.set {
				continue
			}
			v, err := parseConfigValue(f.typ, raw.value)
			if err != nil {
				probs.addf("--%s: %v", f.flag, err)
				continue
			}
			root.FieldByIndex(f.index).Set(v)
		}
	}

	cfg.ConfigFile = path
	cfg.WithDefaults()
	cfg.validate(need, &probs)
	if err := probs.err(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// decodeYAMLConfig decodes the file into the Config at root, reporting
// unknown keys and bad values with their line, all of them.
func decodeYAMLConfig(name string, data []byte, root reflect.Value, probs *problems) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		probs.addf("%s: %v", name, err)
		return
	}
	if len(doc.Content) == 0 {
		return // empty file
	}
	decodeYAMLStruct(name, doc.Content[0], root, "", probs)
}

func decodeYAMLStruct(name string, n *yaml.Node, out reflect.Value, prefix string, probs *problems) {
	n = resolveAlias(n)
	if n.ShortTag() == "!!null" {
		return
	}
	if n.Kind != yaml.MappingNode {
		probs.addf("%s:%d: %s must be a mapping", name, n.Line, describePath(prefix))
		return
	}
	keys := yamlKeys(out.Type())
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		path := k.Value
		if prefix != "" {
			path = prefix + "." + k.Value
		}
		idx, ok := keys[k.Value]
		if !ok {
			probs.addf("%s:%d: unknown key %s", name, k.Line, path)
			continue
		}
		if seen[k.Value] {
			probs.addf("%s:%d: %s is set twice", name, k.Line, path)
			continue
		}
		seen[k.Value] = true
		sf := out.Type().Field(idx)
		decodeYAMLValue(name, v, out.Field(idx), path, sf.Tag.Get("secret") == "true", probs)
	}
}

func decodeYAMLValue(name string, n *yaml.Node, out reflect.Value, path string, secret bool, probs *problems) {
	n = resolveAlias(n)
	if n.ShortTag() == "!!null" {
		return // "key:" with no value keeps the default
	}
	t := out.Type()
	switch {
	case t.Kind() == reflect.Struct && t != durationType:
		decodeYAMLStruct(name, n, out, path, probs)
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		if n.Kind != yaml.SequenceNode {
			probs.addf("%s:%d: %s must be a list", name, n.Line, path)
			return
		}
		list := reflect.MakeSlice(t, len(n.Content), len(n.Content))
		for i, item := range n.Content {
			decodeYAMLStruct(name, item, list.Index(i), fmt.Sprintf("%s[%d]", path, i), probs)
		}
		out.Set(list)
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		list := reflect.MakeSlice(t, 0, len(n.Content))
		for i, item := range n.Content {
			item = resolveAlias(item)
			if item.Kind != yaml.ScalarNode {
				probs.addf("%s:%d: %s[%d] must be a string", name, item.Line, path, i)
				continue
			}
			list = reflect.Append(list, reflect.ValueOf(item.Value))
		}
		out.Set(list)
	case n.Kind == yaml.ScalarNode:
		v, err := parseConfigValue(t, n.Value)
		if err != nil {
			probs.addf("%s:%d: %s: %v", name, n.Line, path, err)
			return
		}
		out.Set(v)
	default:
		what := "a single value"
		if secret {
			what = "a single (secret) value"
		}
		probs.addf("%s:%d: %s must be %s", name, n.Line, path, what)
	}
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func describePath(path string) string {
	if path == "" {
		return "the document"
	}
	return path
}

// yamlKeys maps a struct's YAML keys to field indexes.
func yamlKeys(t reflect.Type) map[string]int {
	keys := map[string]int{}
	for i := range t.NumField() {
		key, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if key != "" && key != "-" {
			keys[key] = i
		}
	}
	return keys
}
