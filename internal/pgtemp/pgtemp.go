// Package pgtemp starts a private PostgreSQL server for one test, from the
// Debian binaries under /usr/lib/postgresql/*/bin, so that a test may kill,
// restart or count the transactions of a server no one else uses. It never
// touches the machine's shared server: the cluster lives in a temporary
// directory, listens on 127.0.0.1 on a free port and on a unix socket in that
// directory, trusts every local connection and runs with autovacuum and fsync
// off (tests count transactions; a kill loses nothing committed, since the
// WAL still reaches the kernel before a commit returns, but a power cut would).
//
// Run as root, initdb and postgres run as the unprivileged user nobody, which
// owns the directory; PostgreSQL refuses to run as root.
package pgtemp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ssogate/ssogate/internal/testenv"
)

// readyTimeout bounds a start or restart until the server accepts queries.
const readyTimeout = 60 * time.Second

// Server is one private PostgreSQL server.
type Server struct {
	tb   testing.TB
	bin  string // directory of initdb and postgres
	dir  string // owned by the server's user: data/, socket, log
	port int
	cred *syscall.Credential // nil when not run as root
	args []string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// Option adds a server setting, as postgres -c name=value.
type Option func(*[]string)

// Setting passes -c name=value to postgres (later settings win).
func Setting(name, value string) Option {
	return func(a *[]string) { *a = append(*a, "-c", name+"="+value) }
}

// Start initialises a cluster in a temporary directory and starts it. It
// skips the test, or fails it under CI, when the binaries are missing; it
// stops the server and removes the directory at cleanup.
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	bin, err := findBin()
	if err != nil {
		testenv.Missing(tb, "pgtemp: %v (install postgresql)", err)
		return nil
	}
	s := &Server{tb: tb, bin: bin}
	s.dir, err = os.MkdirTemp("", "pgtemp-")
	if err != nil {
		tb.Fatalf("pgtemp: %v", err)
	}
	tb.Cleanup(func() { _ = os.RemoveAll(s.dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("nobody")
		if err != nil {
			tb.Fatalf("pgtemp: running as root needs the user nobody: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(s.dir, uid, gid); err != nil {
			tb.Fatalf("pgtemp: %v", err)
		}
	}
	if s.port, err = freePort(); err != nil {
		tb.Fatalf("pgtemp: free port: %v", err)
	}
	s.args = []string{
		"-D", s.data(), "-p", strconv.Itoa(s.port), "-k", s.dir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "autovacuum=off", "-c", "fsync=off",
	}
	for _, o := range opts {
		o(&s.args)
	}
	initdb := s.command(filepath.Join(bin, "initdb"), "-D", s.data(), "-U", "postgres",
		"--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions")
	if out, err := initdb.CombinedOutput(); err != nil {
		tb.Fatalf("pgtemp: initdb: %v\n%s", err, out)
	}
	tb.Cleanup(s.Stop)
	s.start()
	return s
}

func (s *Server) data() string { return filepath.Join(s.dir, "data") }

// Port is the server's TCP port on 127.0.0.1.
func (s *Server) Port() int { return s.port }

// URL is the connection URL of database db as the superuser postgres.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

// CreateDB creates database name and returns its URL.
func (s *Server) CreateDB(name string) string {
	s.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		s.tb.Fatalf("pgtemp: %v", err)
	}
	defer func() { _ = conn.Close(ctx) }()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		s.tb.Fatalf("pgtemp: create database %s: %v", name, err)
	}
	return s.URL(name)
}

func (s *Server) command(name string, args ...string) *exec.Cmd {
	c := exec.Command(name, args...)
	c.Dir = s.dir
	c.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC")
	c.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Setpgid: true}
	return c
}

// start runs postgres and waits until it accepts queries. After a kill the
// old server's backends may hold its shared memory for a moment, and the new
// postmaster refuses to start; start retries until readyTimeout.
func (s *Server) start() {
	s.tb.Helper()
	deadline := time.Now().Add(readyTimeout)
	logPath := filepath.Join(s.dir, "postgres.log")
	for {
		log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			s.tb.Fatalf("pgtemp: %v", err)
		}
		cmd := s.command(filepath.Join(s.bin, "postgres"), s.args...)
		cmd.Stdout, cmd.Stderr = log, log
		err = cmd.Start()
		_ = log.Close()
		if err != nil {
			s.tb.Fatalf("pgtemp: start postgres: %v", err)
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		s.mu.Lock()
		s.cmd, s.done = cmd, done
		s.mu.Unlock()
		err = s.waitReady(done, deadline)
		if err == nil {
			return
		}
		if !errors.Is(err, errExited) || time.Now().After(deadline) {
			s.killGroup()
			out, _ := os.ReadFile(logPath)
			s.tb.Fatalf("pgtemp: postgres not ready: %v\n%s", err, tail(out))
		}
		time.Sleep(50 * time.Millisecond) // a retry pace, not a timing assumption
	}
}

var errExited = errors.New("postgres exited")

func (s *Server) waitReady(done <-chan struct{}, deadline time.Time) error {
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return errExited
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, s.URL("postgres"))
		if err == nil {
			_, err = conn.Exec(ctx, "SELECT 1")
			_ = conn.Close(ctx)
		}
		cancel()
		if err == nil {
			return nil
		}
		last = err
		time.Sleep(20 * time.Millisecond) // poll pace
	}
	return fmt.Errorf("timeout after %v: %w", readyTimeout, last)
}

// Stop shuts the server down fast (SIGINT: aborts open transactions, checkpoints)
// and waits for it; a no-op when it is not running.
func (s *Server) Stop() {
	s.signal(syscall.SIGINT, false)
}

// Kill sends SIGKILL to the postmaster and its backends (its process group), as
// a crash would, and waits for the postmaster to exit. The next Restart runs
// crash recovery.
func (s *Server) Kill() {
	s.signal(syscall.SIGKILL, true)
}

// Restart starts the server again on the same data directory and port,
// stopping it first if it is running.
func (s *Server) Restart() {
	s.tb.Helper()
	s.Stop()
	s.start()
}

func (s *Server) signal(sig syscall.Signal, group bool) {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	pid := cmd.Process.Pid
	if group {
		pid = -pid
	}
	_ = syscall.Kill(pid, sig)
	select {
	case <-done:
	case <-time.After(readyTimeout):
		s.killGroup()
		<-done
	}
}

func (s *Server) killGroup() {
	s.mu.Lock()
	cmd := s.cmd
	s.mu.Unlock()
	if cmd != nil && cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

func findBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", errors.New("no initdb and postgres under /usr/lib/postgresql/*/bin")
}

func version(bin string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(bin)))
	return v
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode()&0o111 != 0
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}
