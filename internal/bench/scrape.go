package bench

import (
	"bufio"
	"io"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Queue-depth gauges of the children (pingpull/metrics.go,
// hub/metrics.go), labelled by River job state.
const (
	metricPingQueue = "ssogate_gateway_ping_queue_depth"
	metricPullQueue = "ssogate_hub_pull_queue_depth"
)

// unfinishedStates are the River states that make up a queue's depth.
var unfinishedStates = map[string]bool{"available": true, "pending": true, "running": true, "retryable": true, "scheduled": true}

// Sample is one second of a step: queue depths, CPU use (cores, over the
// last interval) and resident memory of each child, and the harness's
// progress.
type Sample struct {
	At time.Duration // since the step's load started
	// GatewayQueue and HubQueue are the unfinished ping and pull jobs; NaN
	// for the floor (it has no queue) or when a scrape failed.
	GatewayQueue, HubQueue float64
	GatewayCPU, HubCPU     float64
	GatewayRSS, HubRSS     int64
	// Pending webhooks not answered; Behind users whose newest accepted
	// change the hub has not shown yet.
	Pending, Behind int
}

// queueDepth sums metric's unfinished states in a Prometheus text
// exposition; NaN when the metric is absent.
func queueDepth(r io.Reader, metric string) float64 {
	sum, found := 0.0, false
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, metric+"{")
		if !ok {
			continue
		}
		labels, value, ok := strings.Cut(rest, "} ")
		if !ok {
			continue
		}
		state := labelValue(labels, "state")
		if !unfinishedStates[state] {
			continue
		}
		f := strings.Fields(value) // value [timestamp]
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil || math.IsNaN(v) {
			continue
		}
		sum += v
		found = true
	}
	if !found {
		return math.NaN()
	}
	return sum
}

// labelValue finds name="value" in a label list (values here never hold
// escaped quotes or commas).
func labelValue(labels, name string) string {
	for _, kv := range strings.Split(labels, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if ok && strings.TrimSpace(k) == name {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}

// sampler samples a running system every interval until stopped.
type sampler struct {
	sys      *system
	t        *tracker
	interval time.Duration
	client   *http.Client

	mu      sync.Mutex
	samples []Sample
	stopped chan struct{}
	done    chan struct{}
}

func startSampler(sys *system, t *tracker, start time.Time, interval time.Duration) *sampler {
	s := &sampler{sys: sys, t: t, interval: interval, client: &http.Client{Timeout: 2 * time.Second},
		stopped: make(chan struct{}), done: make(chan struct{})}
	go s.loop(start)
	return s
}

func (s *sampler) loop(start time.Time) {
	defer close(s.done)
	tick := time.NewTicker(s.interval)
	defer tick.Stop()
	prev := map[int]procSample{}
	prevAt := time.Now()
	for _, c := range s.sys.children() {
		prev[c.pid()], _ = readProc(c.pid())
	}
	for {
		select {
		case <-s.stopped:
			return
		case <-tick.C:
		}
		now := time.Now()
		smp := Sample{At: now.Sub(start), GatewayQueue: math.NaN(), HubQueue: math.NaN()}
		if s.sys.scrape {
			smp.GatewayQueue = s.scrape(s.sys.gateway.baseURL+"/metrics", metricPingQueue)
			smp.HubQueue = s.scrape(s.sys.hub.baseURL+"/metrics", metricPullQueue)
		}
		wall := now.Sub(prevAt).Seconds()
		for _, c := range s.sys.children() {
			ps, err := readProc(c.pid())
			if err != nil {
				continue
			}
			cores := (ps.CPU - prev[c.pid()].CPU).Seconds() / wall
			prev[c.pid()] = ps
			if c.role == "gateway" {
				smp.GatewayCPU, smp.GatewayRSS = cores, ps.RSS
			} else {
				smp.HubCPU, smp.HubRSS = cores, ps.RSS
			}
		}
		prevAt = now
		smp.Pending, smp.Behind = s.t.outstanding()
		s.mu.Lock()
		s.samples = append(s.samples, smp)
		s.mu.Unlock()
	}
}

func (s *sampler) scrape(u, metric string) float64 {
	resp, err := s.client.Get(u)
	if err != nil {
		return math.NaN()
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return math.NaN()
	}
	return queueDepth(resp.Body, metric)
}

// stop ends sampling and returns the samples.
func (s *sampler) stop() []Sample {
	close(s.stopped)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.samples
}

// selfCPU is the harness's own CPU time, to show what the load generator
// took from the machine the children share.
func selfCPU() time.Duration {
	ps, err := readProc(os.Getpid())
	if err != nil {
		return 0
	}
	return ps.CPU
}

// machineBusy returns the CPU time all processes of the machine spent busy
// (everything but idle and iowait, from /proc/stat), so a step shows how
// close the machine itself was to saturation (the PostgreSQL server, for
// one, is not a child).
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	return parseMachineBusy(b)
}

// parseMachineBusy reads the "cpu" line of /proc/stat.
func parseMachineBusy(b []byte) time.Duration {
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 6 || f[0] != "cpu" {
		return 0
	}
	var busy int64
	for i, v := range f[1:] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0
		}
		// user nice system idle iowait irq softirq steal [guest guest_nice,
		// already counted in user and nice]
		if i == 3 || i == 4 || i >= 8 {
			continue
		}
		busy += n
	}
	return time.Duration(busy) * time.Second / clockTicks
}
