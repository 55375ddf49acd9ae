package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// dropTimeout bounds connecting to PostgreSQL and dropping a test schema.
const dropTimeout = 30 * time.Second

// PostgresSchema creates a fresh schema prefix_<random> in the database named
// by TEST_DATABASE_URL and drops it, with everything in it, at cleanup. It
// returns the URL and the schema's name. The test skips (fails under CI)
// when TEST_DATABASE_URL is unset and fails when the database is set but
// unreachable; the error does not echo the URL, which may hold a password.
//
// The drop runs on a context of its own: tb.Context() is already cancelled
// when cleanups run, and a drop on it fails, leaking the schema every run.
func PostgresSchema(tb testing.TB, prefix string) (url, schema string) {
	tb.Helper()
	url = DatabaseURL(tb)
	var b [8]byte
	_, _ = rand.Read(b[:])
	schema = prefix + "_" + hex.EncodeToString(b[:])
	if err := exec(url, `CREATE SCHEMA `+pgx.Identifier{schema}.Sanitize()); err != nil {
		tb.Fatalf("testenv: %s is set but PostgreSQL cannot be used: create schema %s: %v", EnvDatabaseURL, schema, err)
	}
	// Registered first, so that it runs after the cleanups of the stores
	// the test opens on the schema (cleanups run last-in first-out).
	tb.Cleanup(func() {
		if err := exec(url, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			tb.Errorf("testenv: drop schema %s: %v", schema, err)
		}
	})
	return url, schema
}

// exec runs one statement on a connection of its own.
func exec(url, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), dropTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(ctx) }()
	_, err = conn.Exec(ctx, sql)
	return err
}
