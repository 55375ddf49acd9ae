package pingpull

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssogate/ssogate/internal/testdb"
	"github.com/ssogate/ssogate/store"
)

// The Measure of issue 4, each comparison made in the same run and
// interleaved in chunks so that drift (a growing database, a busy
// machine) hits both sides alike:
//
//   - BenchmarkWebhookIntake: signed webhooks accepted per second over
//     loopback HTTP vs the same store transaction (applyWebhook) called
//     in-process in a loop; on SQLite, and on PostgreSQL when
//     TEST_DATABASE_URL is set. Target: http ≥ 60% of in-process.
//   - BenchmarkPull: pull requests per second vs a bare net/http handler
//     answering the same bytes. Target: ≥ 60%.
//
// Run: go test -run '^$' -bench . -benchtime 3000x ./pingpull/

type benchBackend struct {
	name string
	open func(testing.TB) store.Store
}

func benchBackends() []benchBackend {
	return []benchBackend{{"sqlite", testdb.SQLite}, {"postgres", testdb.Postgres}}
}

// benchClient is a keep-alive client for loopback benchmarks.
func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConns: 128, MaxIdleConnsPerHost: 128, IdleConnTimeout: time.Minute}}
}

// runConcurrently calls op(i) for i in [from, to) on clients goroutines.
func runConcurrently(clients, from, to int, op func(i int) error) error {
	var next atomic.Int64
	next.Store(int64(from))
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= to {
					return
				}
				if err := op(i); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}

// compare runs a and b over n operations each, in interleaved chunks, and
// reports both rates and the ratio b/a.
func compare(tb *testing.B, n, clients int, nameA, nameB string, a, b func(i int) error) {
	const chunks = 10
	var durA, durB time.Duration
	tb.ResetTimer()
	for c := range chunks {
		from, to := n*c/chunks, n*(c+1)/chunks
		if from == to {
			continue
		}
		start := time.Now()
		if err := runConcurrently(clients, from, to, a); err != nil {
			tb.Fatal(err)
		}
		durA += time.Since(start)
		start = time.Now()
		if err := runConcurrently(clients, from, to, b); err != nil {
			tb.Fatal(err)
		}
		durB += time.Since(start)
	}
	tb.StopTimer()
	rateA, rateB := float64(n)/durA.Seconds(), float64(n)/durB.Seconds()
	tb.ReportMetric(rateA, nameA+"/s")
	tb.ReportMetric(rateB, nameB+"/s")
	tb.ReportMetric(100*rateB/rateA, "%")
	tb.ReportMetric(0, "ns/op") // the rates above are the result
}

func BenchmarkWebhookIntake(b *testing.B) {
	for _, backend := range benchBackends() {
		b.Run(backend.name, func(b *testing.B) {
			for _, clients := range []int{1, 8} {
				b.Run("clients="+strconv.Itoa(clients), func(b *testing.B) {
					bundle := setup(b, setupOpts{store: backend.open(b)})
					client := benchClient()
					ctx := context.Background()
					const users = 1000
					// Each operation changes a profile: a new version, a
					// timeline entry, a receipt and a (coalesced) ping job.
					inProcess := func(i int) error {
						user := "user" + strconv.Itoa(i%users)
						data := `{"id":"` + user + `","display_name":"In ` + strconv.Itoa(i) + `"}`
						_, _, err := bundle.h.applyWebhook(ctx, "inproc_"+strconv.Itoa(i), &webhookBody{UserID: user}, []byte(data))
						return err
					}
					overHTTP := func(i int) error {
						user := "user" + strconv.Itoa(i%users)
						body := profileBody(user, "Http "+strconv.Itoa(i))
						req, err := http.NewRequest(http.MethodPost, bundle.server.URL+"/hooks/profile-changed", strings.NewReader(body))
						if err != nil {
							return err
						}
						req.Header = signedHeader(b, bundle.secret, "http_"+strconv.Itoa(i), bundle.now(), []byte(body))
						req.Header.Set("Content-Type", "application/json")
						resp, err := client.Do(req)
						if err != nil {
							return err
						}
						answer, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						if resp.StatusCode != http.StatusAccepted {
							return fmt.Errorf("webhook %d: %d %s", i, resp.StatusCode, answer)
						}
						return nil
					}
					compare(b, b.N, clients, "inprocess", "http", inProcess, overHTTP)
				})
			}
		})
	}
}

// BenchmarkPull pulls either the same 100 users over and over ("repeat":
// pulls of one version fold into one record per batch) or each user once
// ("distinct": every pull serves a new version, the propagation case).
func BenchmarkPull(b *testing.B) {
	for _, backend := range benchBackends() {
		b.Run(backend.name, func(b *testing.B) {
			for _, mode := range []string{"repeat", "distinct"} {
				for _, clients := range []int{1, 8} {
					b.Run(mode+"/clients="+strconv.Itoa(clients), func(b *testing.B) {
						benchPull(b, backend, mode == "distinct", clients)
					})
				}
			}
		})
	}
}

func benchPull(b *testing.B, backend benchBackend, distinct bool, clients int) {
	bundle := setup(b, setupOpts{store: backend.open(b)})
	ctx := context.Background()
	users := 100
	if distinct {
		users = b.N
	}
	profile := func(user string) []byte {
		return []byte(`{"id":"` + user + `","display_name":"Bob Dole","email":"bob@dole.com","image_url":"https://dole.com/images/bob.jpg","tags":["bob","dole"],"moderator":true}`)
	}
	for start := 0; start < users; start += 500 {
		err := bundle.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			for i := start; i < min(start+500, users); i++ {
				user := "user" + strconv.Itoa(i)
				if _, _, err := tx.ProfileUpsert(ctx, store.ProfileUpsertParams{UserID: user, Data: profile(user), Now: bundle.now()}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	// The bare handler answers the same bytes and headers.
	answer := profile("user0")
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(answer)
	}))
	b.Cleanup(bare.Close)
	token, err := bundle.codec.MintSystem(0)
	if err != nil {
		b.Fatal(err)
	}
	client := benchClient()
	get := func(base string) func(i int) error {
		return func(i int) error {
			target := base + "/pull?id=user" + strconv.Itoa(i%users) + "&lftoken=" + url.QueryEscape(token)
			resp, err := client.Get(target)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("pull %d: %d", i, resp.StatusCode)
			}
			return nil
		}
	}
	compare(b, b.N, clients, "bare", "pull", get(bare.URL), get(bundle.server.URL))
	// Recording is part of the work: wait for it and count it.
	start := time.Now()
	if err := bundle.h.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(time.Since(start).Seconds()*1000, "flush-ms")
}
