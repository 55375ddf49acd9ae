package pgtemp_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ssogate/ssogate/internal/pgtemp"
)

func query(t *testing.T, url string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, err
	}
	defer func() { _ = conn.Close(ctx) }()
	var n int
	err = conn.QueryRow(ctx, "SELECT count(*) FROM kv").Scan(&n)
	return n, err
}

func TestStartKillRestart(t *testing.T) {
	s := pgtemp.Start(t)
	url := s.CreateDB("app")
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	var av string
	if err := conn.QueryRow(ctx, "SHOW autovacuum").Scan(&av); err != nil || av != "off" {
		t.Fatalf("autovacuum = %q, %v; want off", av, err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE kv (k int); INSERT INTO kv VALUES (1), (2)"); err != nil {
		t.Fatal(err)
	}
	_ = conn.Close(ctx)

	s.Kill()
	if _, err := query(t, url); err == nil {
		t.Fatal("query succeeded on a killed server")
	}
	s.Restart()
	if n, err := query(t, url); err != nil || n != 2 {
		t.Fatalf("after restart: %d rows, %v; want 2", n, err)
	}

	s.Stop()
	if _, err := query(t, url); err == nil {
		t.Fatal("query succeeded on a stopped server")
	}
	s.Restart()
	if n, err := query(t, url); err != nil || n != 2 {
		t.Fatalf("after stop and restart: %d rows, %v; want 2", n, err)
	}
}
