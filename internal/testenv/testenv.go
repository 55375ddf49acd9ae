// Package testenv holds the one rule for a test whose outside dependency
// (PostgreSQL, Chromium, Node and its packages) is missing: it skips, saying
// why and how to provide it, on a developer's machine, and fails when CI is
// set, because CI provides every dependency and a skip there would let a
// test pass without running.
//
// It imports nothing of the project, so every package's tests can use it,
// including those of store/postgres, which internal/testdb imports.
package testenv

import (
	"fmt"
	"os"
	"testing"
)

// EnvCI names the variable CI sets (to "true"); any non-empty value counts.
const EnvCI = "CI"

// EnvDatabaseURL names the variable holding the PostgreSQL URL for tests,
// e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const EnvDatabaseURL = "TEST_DATABASE_URL"

// ChromiumPath is where the browser tests expect Debian's chromium.
const ChromiumPath = "/usr/bin/chromium"

// InCI reports whether the tests run under CI.
func InCI() bool { return os.Getenv(EnvCI) != "" }

// Missing ends the test because a dependency is absent: a skip with the
// reason, or, when CI is set, a failure with it.
func Missing(tb testing.TB, format string, args ...any) {
	tb.Helper()
	missing(tb, InCI(), fmt.Sprintf(format, args...))
}

// missing is Missing with the CI decision passed in, so the rule itself
// can be tested both ways in one run.
func missing(tb testing.TB, ci bool, reason string) {
	tb.Helper()
	if ci {
		tb.Fatalf("testenv: %s; %s is set, so this test must run, not skip", reason, EnvCI)
	}
	tb.Skipf("testenv: %s", reason)
}

// DatabaseURL returns TEST_DATABASE_URL; when it is unset the test skips,
// or fails under CI.
func DatabaseURL(tb testing.TB) string {
	tb.Helper()
	url := os.Getenv(EnvDatabaseURL)
	if url == "" {
		Missing(tb, "%s is not set, so the PostgreSQL tests cannot run "+
			"(set it to e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", EnvDatabaseURL)
	}
	return url
}

// OptionalDatabaseURL returns TEST_DATABASE_URL, or "" when it is unset,
// for a test that also covers other backends and adds PostgreSQL when it
// can; under CI an unset URL fails the test.
func OptionalDatabaseURL(tb testing.TB) string {
	tb.Helper()
	url := os.Getenv(EnvDatabaseURL)
	if url == "" && InCI() {
		missing(tb, true, EnvDatabaseURL+" is not set, so PostgreSQL is not covered")
	}
	return url
}

// Chromium returns ChromiumPath; when it is missing the test skips, or
// fails under CI.
func Chromium(tb testing.TB) string {
	tb.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		Missing(tb, "no Chromium at %s (apt-get install chromium): %v", ChromiumPath, err)
	}
	return ChromiumPath
}
