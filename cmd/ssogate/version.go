package main

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
)

// versionCommand prints versionString (as ssogate --version does).
func versionCommand(*flag.FlagSet) runFunc {
	return func(_ context.Context, e *env, args []string) error {
		if len(args) > 0 {
			return usageErrorf("version takes no arguments")
		}
		fmt.Fprintln(e.stdout, versionString())
		return nil
	}
}

// versionString is "ssogate VERSION (GO VERSION[, commit REV[, modified]])":
// the -ldflags version, else the module version from the build info.
func versionString() string {
	v := version
	info, ok := debug.ReadBuildInfo()
	if v == "" && ok {
		v = info.Main.Version
	}
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	extra := ""
	if ok {
		var rev, modified string
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
		if rev != "" {
			extra = ", commit " + rev
			if modified == "true" {
				extra += ", modified"
			}
		}
	}
	return fmt.Sprintf("ssogate %s (%s%s)", v, runtime.Version(), extra)
}
