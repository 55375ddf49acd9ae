package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat; it
// is 100 on every Linux the kernel ABI promises it to.
const clockTicks = 100

// child is one process under test.
type child struct {
	role    string // "gateway" or "hub"
	cmd     *exec.Cmd
	baseURL string
	logPath string
	logFile *os.File
	exited  chan struct{}
	waitErr error
	// pprofAddr is the child's profiling listener ("" when not profiled).
	pprofAddr string
}

// startChild runs bin with args and env (added to a copy of the harness's
// environment without any SSOGATE_ variable), logging to logPath. The
// child gets SIGKILL if the harness dies.
func startChild(role, bin string, args, env []string, baseURL, logPath string) (*child, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("bench: child log: %w", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(cleanEnv(os.Environ()), env...)
	cmd.Stdout = f
	cmd.Stderr = f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("bench: start %s: %w", role, err)
	}
	c := &child{role: role, cmd: cmd, baseURL: baseURL, logPath: logPath, logFile: f, exited: make(chan struct{})}
	go func() {
		c.waitErr = cmd.Wait()
		close(c.exited)
	}()
	return c, nil
}

// cleanEnv drops SSOGATE_ variables, so that a configuration in the
// harness's environment cannot change what is measured.
func cleanEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, "SSOGATE_") {
			out = append(out, kv)
		}
	}
	return out
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// waitReady polls /readyz until it answers 200, the child exits or ctx
// ends.
func (c *child) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.baseURL+"/readyz", nil)
		if resp, err := client.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-c.exited:
			return fmt.Errorf("bench: %s exited before ready (%v); log %s:\n%s", c.role, c.waitErr, c.logPath, c.logTail())
		case <-ctx.Done():
			return fmt.Errorf("bench: %s not ready after %s; log %s:\n%s", c.role, timeout, c.logPath, c.logTail())
		case <-tick.C:
		}
	}
}

// logTail returns the last lines of the child's log.
func (c *child) logTail() string {
	b, err := os.ReadFile(c.logPath)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-15):], "\n")
}

// stop sends SIGTERM, waits up to grace, then kills.
func (c *child) stop(grace time.Duration) error {
	defer func() { _ = c.logFile.Close() }()
	select {
	case <-c.exited:
		return fmt.Errorf("bench: %s exited early: %v", c.role, c.waitErr)
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
		return nil
	case <-time.After(grace):
		_ = c.cmd.Process.Kill()
		<-c.exited
		return fmt.Errorf("bench: %s did not stop within %s; killed", c.role, grace)
	}
}

// kill sends SIGKILL and waits for the process to end.
func (c *child) kill() {
	_ = c.cmd.Process.Kill()
	<-c.exited
	_ = c.logFile.Close()
}

// procSample is a process's CPU time and memory at one moment.
type procSample struct {
	CPU   time.Duration // user + system
	RSS   int64         // bytes, VmRSS
	PeakR int64         // bytes, VmHWM
}

// readProc reads /proc/PID/stat and /proc/PID/status.
func readProc(pid int) (procSample, error) {
	var s procSample
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return s, fmt.Errorf("bench: read stat: %w", err)
	}
	if s.CPU, err = parseProcStat(stat); err != nil {
		return s, err
	}
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return s, fmt.Errorf("bench: read status: %w", err)
	}
	s.RSS, s.PeakR = parseProcStatus(status)
	return s, nil
}

// parseProcStat returns utime+stime from a /proc/PID/stat line. The
// command name (field 2) may hold spaces and parentheses, so fields are
// counted after the last ")".
func parseProcStat(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("bench: /proc stat: no command field")
	}
	f := strings.Fields(string(b[i+1:]))
	// After ")": state is field 3, so utime (14) and stime (15) are at 11, 12.
	if len(f) < 13 {
		return 0, errors.New("bench: /proc stat: too few fields")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil || ut < 0 || st < 0 {
		return 0, errors.New("bench: /proc stat: bad utime or stime")
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// parseProcStatus returns VmRSS and VmHWM in bytes (0 when absent).
func parseProcStatus(b []byte) (rss, hwm int64) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		f := strings.Fields(val)
		if len(f) != 2 || f[1] != "kB" {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		if key == "VmRSS" {
			rss = n << 10
		} else {
			hwm = n << 10
		}
	}
	return rss, hwm
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("bench: free port: %w", err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
