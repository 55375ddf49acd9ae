package authdelegate

// The streams harness measures one gateway holding many open event streams:
// its resident memory (RSS, from /proc) and the time to deliver one event to
// every session of one user. The gateway runs in a child process (this test
// binary re-executed as TestStreamServerProcess) so that the RSS is the
// gateway's alone; the streams are real HTTP/1.1 connections on loopback,
// read by the parent.
//
//	go test -run '^$' -bench BenchmarkStreams -benchtime 50x ./authdelegate/
//	STREAMS=2000 go test -run '^$' -bench BenchmarkStreams ./authdelegate/
//	STREAMS_PROFILE_DIR=/tmp/p go test -run '^$' -bench BenchmarkStreams -benchtime 1x ./authdelegate/
//
// Each sub-benchmark sessions=K times one event (profile ready) from the
// trigger request to the last of the K streams of the hot user; it reports
// p50 and p99 next to the mean (ns/op). rss_MB is the gateway's RSS with
// every stream open and KB/stream is the growth over the idle gateway,
// divided by the number of streams.

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/internal/testdb"
	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/tokens"
)

const (
	envStreamServer = "AUTHDELEGATE_STREAM_SERVER"
	envStreams      = "STREAMS"
	// envStreamsProfile names a directory where the child writes heap.pprof
	// and goroutine.pprof each time it reports its stats.
	envStreamsProfile = "STREAMS_PROFILE_DIR"
	defaultStreams    = 10000
)

// hotUsers get many sessions each; every other session has a user of its
// own.
var hotUsers = []struct {
	id       string
	sessions int
}{{"hot1", 1}, {"hot10", 10}, {"hot100", 100}, {"hot1000", 1000}}

// benchCredential is session i's credential, known to both processes.
func benchCredential(i int) string {
	sum := sha256.Sum256([]byte("ssogate-bench-" + strconv.Itoa(i)))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// benchLayout assigns users to the n sessions.
func benchLayout(n int) []string {
	users := make([]string, 0, n)
	for _, h := range hotUsers {
		for range h.sessions {
			users = append(users, h.id)
		}
	}
	for i := len(users); i < n; i++ {
		users = append(users, "u"+strconv.Itoa(i))
	}
	return users[:n]
}

func streamsWanted() int {
	if n, err := strconv.Atoi(os.Getenv(envStreams)); err == nil && n > 0 {
		return n
	}
	return defaultStreams
}

// TestStreamServerProcess is the child process of BenchmarkStreams; it does
// nothing in a normal test run.
func TestStreamServerProcess(t *testing.T) {
	if os.Getenv(envStreamServer) != "1" {
		t.Skip("helper process of BenchmarkStreams")
	}
	ctx := t.Context()
	n := streamsWanted()
	st := testdb.SQLite(t)
	codec, err := tokens.New(tokens.Config{Network: testNetwork, Key: testNetworkKey})
	require.NoError(t, err)
	h, err := New(ctx, Config{
		Store:          st,
		Tokens:         codec,
		IssuerURL:      "http://127.0.0.1:1", // no provider: streams need none
		ClientID:       "bench",
		PublicURL:      "http://127.0.0.1:1",
		AllowedOrigins: []string{"http://localhost:8123"},
		SessionKey:     []byte("0123456789abcdef0123456789abcdef"),
		// Deliveries must come from the ready notification only.
		ProfileReadyTimeout: time.Hour,
	})
	require.NoError(t, err)
	now := time.Now()
	users := benchLayout(n)
	err = st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		seen := map[string]bool{}
		for i, u := range users {
			if !seen[u] {
				seen[u] = true
				if _, _, err := tx.ProfileUpsert(ctx, store.ProfileUpsertParams{UserID: u, Data: json.RawMessage(`{"display_name":"v1","id":"` + u + `"}`), Now: now}); err != nil {
					return err
				}
			}
			s := &store.Session{ID: hashSecret(benchCredential(i)), UserID: u, ProviderSubject: u, Origin: "http://localhost:8123",
				CreatedAt: now, LastSeenAt: now, IdleExpires: now.Add(24 * time.Hour), AbsExpires: now.Add(48 * time.Hour)}
			if err := tx.SessionCreate(ctx, s); err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, err)
	go func() { _ = h.Run(ctx) }()

	r := httpbase.NewMux()
	h.Mount(r)
	// Trigger: a new profile version that the hub has pulled, as the pull
	// endpoint announces it.
	r.Handle("/bench/ready", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user := r.URL.Query().Get("user")
		err := st.InTx(r.Context(), func(ctx context.Context, tx store.Tx) error {
			p, _, err := tx.ProfileUpsert(ctx, store.ProfileUpsertParams{UserID: user,
				Data: json.RawMessage(`{"display_name":"` + strconv.FormatInt(time.Now().UnixNano(), 10) + `","id":"` + user + `"}`), Now: time.Now()})
			if err != nil {
				return err
			}
			if err := tx.ProfileMarkServed(ctx, user, p.Version, time.Now()); err != nil {
				return err
			}
			payload, _ := json.Marshal(store.ProfileEvent{UserID: user, Version: p.Version})
			return tx.Notify(ctx, store.ChannelProfileReady, payload)
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}), http.MethodPost)
	r.Handle("/bench/stats", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if dir := os.Getenv(envStreamsProfile); dir != "" {
			writeProfiles(dir)
		}
		h.fanout.mu.Lock()
		streams := 0
		for _, ss := range h.fanout.bySession {
			streams += len(ss)
		}
		h.fanout.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{
			"streams": streams, "goroutines": runtime.NumGoroutine(),
			"heap_inuse": ms.HeapInuse, "stack_inuse": ms.StackInuse, "sys": ms.Sys,
		})
	}))
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	fmt.Printf("LISTEN http://%s\n", ln.Addr())
	go func() { _ = srv.Serve(ln) }()
	// Run until the parent closes stdin.
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = h.Close()
	_ = srv.Close()
}

// writeProfiles writes the child's heap and goroutine profiles into dir.
func writeProfiles(dir string) {
	for _, name := range []string{"heap", "goroutine"} {
		f, err := os.Create(filepath.Join(dir, name+".pprof"))
		if err != nil {
			continue
		}
		_ = pprof.Lookup(name).WriteTo(f, 0)
		_ = f.Close()
	}
}

// streamServer is the running child.
type streamServer struct {
	cmd  *exec.Cmd
	url  string
	n    int
	idle int64 // RSS in bytes before any stream

	groups    map[string]chan struct{} // user -> one send per profile event
	cancel    context.CancelFunc
	stopStdin io.Closer
	rss       int64
	stats     map[string]any
}

func rssOf(pid int) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for %d", pid)
}

// startStreamServer starts the child, opens n streams and waits until the
// child holds them all.
func startStreamServer() (*streamServer, error) {
	n := streamsWanted()
	cmd := exec.Command(os.Args[0], "-test.run=^TestStreamServerProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), envStreamServer+"=1", envStreams+"="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &streamServer{cmd: cmd, n: n, groups: map[string]chan struct{}{}}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "LISTEN "); ok {
			s.url = u
			break
		}
	}
	if s.url == "" {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("stream server did not start")
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	s.stopStdin = stdin
	if s.idle, err = rssOf(cmd.Process.Pid); err != nil {
		return nil, err
	}

	for _, h := range hotUsers {
		s.groups[h.id] = make(chan struct{}, h.sessions*4)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	tr := &http.Transport{MaxIdleConnsPerHost: -1, DisableCompression: true, MaxConnsPerHost: 0}
	client := &http.Client{Transport: tr}
	users := benchLayout(n)
	sem := make(chan struct{}, 64)
	for i := range n {
		sem <- struct{}{}
		ch := s.groups[users[i]]
		go func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/events", nil)
			req.Header.Set("Authorization", "Bearer "+benchCredential(i))
			req.Header.Set("Last-Event-ID", "1")
			resp, err := client.Do(req)
			<-sem
			if err != nil {
				return
			}
			defer resp.Body.Close()
			br := bufio.NewReaderSize(resp.Body, 256)
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					return
				}
				if line == "event: profile\n" && ch != nil {
					ch <- struct{}{}
				}
			}
		}()
	}
	deadline := time.Now().Add(5 * time.Minute)
	for {
		st, err := s.fetchStats()
		if err == nil && int(st["streams"].(float64)) == n {
			s.stats = st
			break
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("only %v of %d streams open: %v", st["streams"], n, err)
		}
		time.Sleep(50 * time.Millisecond) // polling the child, in a benchmark harness
	}
	if s.rss, err = rssOf(cmd.Process.Pid); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *streamServer) fetchStats() (map[string]any, error) {
	resp, err := http.Get(s.url + "/bench/stats")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var st map[string]any
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

func (s *streamServer) stop() {
	s.cancel()
	_ = s.stopStdin.Close()
	_ = s.cmd.Wait()
}

// deliverOnce triggers one ready event for user and waits until all of its
// k streams got it.
func (s *streamServer) deliverOnce(user string, k int) (time.Duration, error) {
	ch := s.groups[user]
	start := time.Now()
	resp, err := http.Post(s.url+"/bench/ready?user="+user, "text/plain", nil)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("trigger: %s", resp.Status)
	}
	timeout := time.After(30 * time.Second)
	for range k {
		select {
		case <-ch:
		case <-timeout:
			return 0, fmt.Errorf("event reached only part of %d streams", k)
		}
	}
	return time.Since(start), nil
}

func BenchmarkStreams(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("reads RSS from /proc")
	}
	s, err := startStreamServer()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.stop)
	b.Logf("gateway with %d streams: RSS %.1f MB (idle %.1f MB, %.1f KB per stream); heap in use %.1f MB, stacks %.1f MB, goroutines %v",
		s.n, float64(s.rss)/1e6, float64(s.idle)/1e6, float64(s.rss-s.idle)/float64(s.n)/1024,
		s.stats["heap_inuse"].(float64)/1e6, s.stats["stack_inuse"].(float64)/1e6, s.stats["goroutines"])
	for _, h := range hotUsers {
		if h.sessions > s.n {
			continue
		}
		b.Run(fmt.Sprintf("sessions=%d", h.sessions), func(b *testing.B) {
			var ds []time.Duration
			for b.Loop() {
				d, err := s.deliverOnce(h.id, h.sessions)
				if err != nil {
					b.Fatal(err)
				}
				ds = append(ds, d)
			}
			slices.Sort(ds)
			b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, "p50_ms")
			b.ReportMetric(float64(ds[(len(ds)*99)/100].Microseconds())/1000, "p99_ms")
			b.ReportMetric(float64(s.rss)/1e6, "rss_MB")
			b.ReportMetric(float64(s.rss-s.idle)/float64(s.n)/1024, "KB/stream")
		})
	}
}

// BenchmarkHubFanOut is the in-process part of a delivery: the hub marks
// K streams of one user and wakes them (no HTTP, no store).
func BenchmarkHubFanOut(b *testing.B) {
	for _, k := range []int{1, 100, 10000} {
		b.Run(fmt.Sprintf("streams=%d", k), func(b *testing.B) {
			h := &Handler{cfg: Config{}.WithDefaults(), closed: make(chan struct{})}
			b.Cleanup(func() { _ = h.Close() })
			var err error
			h.metrics, err = newMetrics(prometheus.NewRegistry())
			if err != nil {
				b.Fatal(err)
			}
			h.fanout = newFanout(h)
			streams := make([]*stream, k)
			for i := range streams {
				streams[i] = newStream("s"+strconv.Itoa(i), "u", 0)
				h.fanout.register(streams[i])
			}
			v := int64(0)
			for b.Loop() {
				v++
				h.fanout.profileReady("u", v)
				for _, s := range streams {
					<-s.wake
					s.take()
				}
			}
		})
	}
}
