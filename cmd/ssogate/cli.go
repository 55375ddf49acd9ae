package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// The command line is spf13/cobra's: per-command help with an example,
// "did you mean" for a mistyped command, --version, and shell completion
// (ssogate completion bash|zsh|fish|powershell). Each command declares its
// flags on a Go flag.FlagSet (registerConfigFlags for Config's, whose struct
// tags are the one declaration) and cobra shows and parses them through
// pflag; loadConfig then applies defaults < file < environment < flags as
// before, and reports every problem at once.

// runFunc runs a command with its parsed flags (captured when the flags
// were declared) and its positional arguments.
type runFunc func(ctx context.Context, e *env, args []string) error

// commandSpec is one subcommand.
type commandSpec struct {
	use     string // the usage line after "ssogate ", e.g. "ping [flags] USER…"
	short   string
	long    string
	example string
	// scope selects the Config flags shown in -h (all are accepted, so a
	// shared script's flags keep working on every command); nil: none.
	scope flagScope
	// flags declares the command's flags on fs and returns its runner.
	flags func(fs *flag.FlagSet) runFunc
	// sub are the subcommands (token mint, token verify); run is then
	// what the bare group does.
	sub []commandSpec
}

// flagScope reports whether the Config key at path (e.g. "gateway.hub_url")
// belongs to a command's help.
type flagScope func(path string) bool

// sections is the scope of whole Config sections ("network", "gateway", …)
// and top-level keys ("listen", "database_url", …); "*" is every top-level
// key.
func sections(names ...string) flagScope {
	return func(path string) bool {
		section, _, nested := strings.Cut(path, ".")
		for _, n := range names {
			if n == section || (n == "*" && !nested) {
				return true
			}
		}
		return false
	}
}

// except is the scope of everything but the named sections: the servers'
// scopes, so that a section added to Config later shows in both.
func except(names ...string) flagScope {
	in := sections(names...)
	return func(path string) bool { return !in(path) }
}

var (
	storeKeys        = []string{"database_url", "data_dir", "log_level", "log_format"}
	gatewayToolScope = sections(append([]string{"network", "gateway"}, storeKeys...)...)
)

// commandSpecs lists the subcommands in the order of the help text.
func commandSpecs() []commandSpec {
	return []commandSpec{
		{
			use:   "serve [flags]",
			short: "run the gateway",
			long: "Run the gateway: the Ping for Pull side (webhook, pings, pull endpoint) and the\n" +
				"browser side (login, sessions, tokens, live events).",
			example: "  ssogate serve --config ssogate.yaml\n" +
				"  SSOGATE_NETWORK_KEY=… ssogate serve --network-name labs.fyre.co --public-url https://sso.example.com",
			scope: except("hub"),
			flags: serveCommand,
		},
		{
			use:     "hub [flags]",
			short:   "run the hub",
			long:    "Run the hub: the Livefyre-compatible receiver of registrations and pings, its\npull jobs, the auth API and the users page.",
			example: "  ssogate hub --config hub.yaml --listen 0.0.0.0:8081",
			scope:   except("gateway", "auth"),
			flags:   hubCommand,
		},
		{
			use:   "demo [--data DIR] [--port N]",
			short: "run gateway, hub, identity provider and a demo site in one process",
			example: "  ssogate demo\n" +
				"  ssogate demo --data /tmp/ssogate-demo --port 9000",
			flags: demoCommand,
		},
		{
			use:   "ping [flags] USER… | ping --stdin [flags] < ids.txt",
			short: "queue pings for users (initial or repair sync) and follow their delivery",
			long: "Queue a ping for each user; the running gateway's workers send them and the hub\n" +
				"pulls each profile. ping then follows every user through queued → pinged →\n" +
				"pulled by polling the gateway's database (the users' timelines), with a\n" +
				"progress bar on a terminal. It waits by default when stderr is a terminal;\n" +
				"--wait waits anyway (a script), --no-wait returns once the pings are queued.\n" +
				"Exit 1 when a ping was dead-lettered or --wait-timeout passed first.",
			example: "  ssogate ping alice bob\n" +
				"  ssogate ping --stdin --wait < user-ids.txt\n" +
				"  ssogate ping --stdin --no-wait < user-ids.txt",
			scope: gatewayToolScope,
			flags: pingCommand,
		},
		{
			use:     "register [flags]",
			short:   "register the gateway's pull URL at the hub once",
			example: "  ssogate register --config ssogate.yaml",
			scope:   gatewayToolScope,
			flags:   registerCommand,
		},
		{
			use:     "migrate [flags]",
			short:   "apply database migrations and exit",
			example: "  SSOGATE_DATABASE_URL=postgres://… ssogate migrate\n  ssogate migrate --data-dir /var/lib/ssogate",
			scope:   sections(storeKeys...),
			flags:   migrateCommand,
		},
		{
			use:     "backup --to FILE [flags]",
			short:   "copy the SQLite database consistently while servers run (PostgreSQL: pg_dump)",
			example: "  ssogate backup --config /etc/ssogate/ssogate.yaml --to /var/backups/ssogate-$(date +%F).db",
			scope:   sections(storeKeys...),
			flags:   backupCommand,
		},
		{
			use:   "token",
			short: "mint or verify a token: token mint | token verify",
			long:  "Mint or verify a token with the configured network's key (config file or\nSSOGATE_NETWORK_KEY, never a flag).",
			example: "  ssogate token mint --user alice --name Alice\n" +
				"  ssogate token verify < token.txt",
			flags: tokenCommand,
			sub: []commandSpec{
				{
					use:   "mint --user ID --name NAME [--ttl 1h] | mint --system [--ttl 24h]",
					short: "print a userAuthToken (or a system token) for the configured network",
					example: "  ssogate token mint --user alice --name 'Alice A.' --ttl 2h\n" +
						"  ssogate token mint --system",
					scope: sections("network"),
					flags: tokenMintCommand,
				},
				{
					use:   "verify [--system] [TOKEN | -]",
					short: "print a token's claims as JSON, or exit 1 with the reason",
					long:  "Verify a token and print its claims. Without TOKEN, or with -, the token is\nread from standard input.",
					example: "  ssogate token verify eyJhbGciOi…\n" +
						"  ssogate token mint --system | ssogate token verify --system",
					scope: sections("network"),
					flags: tokenVerifyCommand,
				},
			},
		},
		{
			use:     "config [flags]",
			short:   "check the configuration and print it, secrets redacted",
			example: "  ssogate config --config ssogate.yaml\n  SSOGATE_CONFIG=ssogate.yaml ssogate config --listen 0.0.0.0:8080",
			scope:   func(string) bool { return true },
			flags:   configCommand,
		},
		{
			use:     "version",
			short:   "print the version",
			example: "  ssogate version\n  ssogate --version",
			flags:   versionCommand,
		},
		{
			use:   "healthcheck [--url URL] [--timeout D]",
			short: "probe a server's /healthz (the image's HEALTHCHECK): exit 0 healthy, 1 not",
			example: "  ssogate healthcheck\n" +
				"  ssogate healthcheck --url http://127.0.0.1:8080/healthz --timeout 3s",
			flags: healthcheckCommand,
		},
	}
}

// The help lists the commands in commandSpecs' order (a cobra global: set
// once, before any run).
func init() { cobra.EnableCommandSorting = false }

// newRootCmd builds the command tree for one run.
func newRootCmd(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "ssogate",
		Short: "ssogate keeps an embedded Livefyre-compatible app in step with a site's user system",
		Long: "ssogate keeps an embedded Livefyre-compatible app in step with a site's user system.\n\n" +
			"Every setting also comes from the YAML file named by --config or SSOGATE_CONFIG and\n" +
			"from SSOGATE_… variables (README.md); a flag wins over the environment, which wins\n" +
			"over the file.",
		Version:       versionString(),
		SilenceErrors: true,
		SilenceUsage:  true,
		// The bare command is a usage error (exit 2), not a help request.
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SetOut(e.stderr)
			_ = cmd.Usage()
			return &exitError{code: 2}
		},
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	for _, spec := range commandSpecs() {
		root.AddCommand(newCommand(e, spec))
	}
	return root
}

func newCommand(e *env, spec commandSpec) *cobra.Command {
	fs := flag.NewFlagSet(spec.use, flag.ContinueOnError)
	runner := spec.flags(fs)
	name, _, _ := strings.Cut(spec.use, " ")
	cmd := &cobra.Command{
		Use:     spec.use,
		Short:   spec.short,
		Long:    spec.long,
		Example: spec.example,
		// Commands check their own arguments, with their own messages.
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return ran(runner(cmd.Context(), e, args))
		},
	}
	if spec.long == "" {
		cmd.Long = strings.ToUpper(spec.short[:1]) + spec.short[1:] + "."
	}
	if len(spec.sub) > 0 {
		// cobra suggests subcommands only at the root.
		cmd.SuggestionsMinimumDistance = 2
		cmd.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
					return usageErrorf("unknown %s command %q\n\nDid you mean this?\n\t%s", name, args[0], strings.Join(s, "\n\t"))
				}
			}
			return ran(runner(cmd.Context(), e, args))
		}
	}
	fields := map[string]string{} // flag name → Config path
	for _, f := range configFields() {
		if f.flag != "" {
			fields[f.flag] = f.path
		}
	}
	hidden := false
	fs.VisitAll(func(f *flag.Flag) {
		pf := pflag.PFlagFromGoFlag(f)
		pf.DefValue = f.DefValue          // pflag takes the value, empty in a rawFlag until set
		pf.Shorthand = ""                 // long flags only; -h is help
		_, isConfig := f.Value.(*rawFlag) // not demo's own --log-level
		if path := fields[f.Name]; isConfig && (spec.scope == nil || !spec.scope(path)) {
			pf.Hidden, hidden = true, true
		}
		cmd.Flags().AddFlag(pf)
	})
	if hidden {
		cmd.Long += "\n\nIt takes the settings of its role; the others' flags are accepted too (ssogate\nconfig -h lists every setting)."
	}
	for _, sub := range spec.sub {
		cmd.AddCommand(newCommand(e, sub))
	}
	return cmd
}

// ranError marks an error a command's runner returned, as opposed to one
// cobra found in the command line.
type ranError struct{ err error }

func (r *ranError) Error() string { return r.err.Error() }
func (r *ranError) Unwrap() error { return r.err }

func ran(err error) error {
	if err == nil {
		return nil
	}
	return &ranError{err}
}

// run runs the command line args and returns the exit code: 0 success, 1
// failure, 2 usage or configuration error.
func run(ctx context.Context, args []string, e *env) int {
	root := newRootCmd(e)
	root.SetArgs(longFlags(root, args))
	cmd, err := root.ExecuteContextC(ctx)
	var ranErr *ranError
	var exitErr *exitError
	if err == nil || errors.As(err, &ranErr) || errors.As(err, &exitErr) {
		return exitCode(err, e.stderr)
	}
	// cobra's own: an unknown command (with "Did you mean this?"), flag or
	// flag value.
	fmt.Fprintf(e.stderr, "ssogate: %v\n", strings.TrimRight(err.Error(), "\n"))
	if cmd != nil {
		fmt.Fprintf(e.stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return 2
}

// longFlags rewrites Go-style single-dash long flags (-listen, -help), which
// ssogate accepted before its flags were pflag's, to --listen: only names the
// command has, never a flag's value (--name -x), and only before "--".
func longFlags(root *cobra.Command, args []string) []string {
	cmd, _, err := root.Find(args)
	if err != nil || cmd == nil {
		return args
	}
	cmd.InitDefaultHelpFlag()
	if cmd == root {
		cmd.InitDefaultVersionFlag()
	}
	out := append([]string(nil), args...)
	for i := 0; i < len(out); i++ {
		a := out[i]
		if a == "--" {
			break
		}
		if len(a) < 2 || a[0] != '-' {
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		f := cmd.Flags().Lookup(name)
		if f == nil {
			continue
		}
		if !strings.HasPrefix(a, "--") && len(name) > 1 {
			out[i] = "-" + a
		}
		if !hasValue && f.NoOptDefVal == "" {
			i++ // the next argument is this flag's value
		}
	}
	return out
}

// noArgs is the check of a command that takes no arguments.
func noArgs(name string, args []string) error {
	if len(args) > 0 {
		return usageErrorf("%s takes no arguments, got %q", name, strings.Join(args, " "))
	}
	return nil
}

// tokenCommand is the bare "ssogate token": a usage error that names the
// subcommands (newCommand suggests the closest one to a mistyped name).
func tokenCommand(*flag.FlagSet) runFunc {
	return func(_ context.Context, _ *env, args []string) error {
		if len(args) == 0 {
			return usageErrorf("usage: ssogate %s", tokenSynopsis)
		}
		return usageErrorf("unknown token command %q; usage: ssogate %s", args[0], tokenSynopsis)
	}
}
