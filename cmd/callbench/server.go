package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/admin"
	"github.com/agentphone/agentphone/callcenter/store"
)

const (
	realm     = "agentphone" // callcenterd's default -realm
	agentBase = 6000         // bench agents are 6001, 6002, …
)

func agentNumber(i int) string { return strconv.Itoa(agentBase + 1 + i) }

// prepareDB seeds the demo data (a center number for the caller ID) and
// n bench agents, before the server starts.
func prepareDB(ctx context.Context, path string, n int) error {
	st, err := store.Open(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := admin.Seed(ctx, st, realm); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	// One scrypt hash for every agent (same password): the bench never
	// logs in over HTTP, and hashing each would take ~60 ms for nothing.
	hash, err := callcenter.HashPassword(admin.DemoPassword)
	if err != nil {
		return err
	}
	for i := range n {
		wn := agentNumber(i)
		a := callcenter.Agent{WorkNumber: wn, Name: "Bench " + wn, Role: callcenter.RoleAgent, PasswordHash: hash,
			HA1MD5:    callcenter.DigestHA1(callcenter.DigestMD5, wn, realm, admin.DemoPassword),
			HA1SHA256: callcenter.DigestHA1(callcenter.DigestSHA256, wn, realm, admin.DemoPassword)}
		if _, err := st.CreateAgent(ctx, a); err != nil {
			return fmt.Errorf("create agent %s: %w", wn, err)
		}
	}
	return nil
}

// buildServer builds callcenterd into dir, unless bin names one.
func buildServer(ctx context.Context, bin, dir string) (string, error) {
	if bin != "" {
		return bin, nil
	}
	out := filepath.Join(dir, "callcenterd")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/callcenterd")
	cmd.Dir = moduleRoot()
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/callcenterd: %w\n%s", err, b)
	}
	return out, nil
}

// moduleRoot finds the directory holding go.mod, from the working
// directory up (so `go run ./cmd/callbench` works from anywhere inside).
func moduleRoot() string {
	dir, _ := os.Getwd()
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

var (
	readyLine = regexp.MustCompile(`msg="callcenterd ready" http=(\S+) sip=(\S+)`)
	// gctrace: "gc 7 @1.2s 1%: …, 4->5->2 MB, 5 MB goal, …": the third
	// figure is the heap live after the cycle.
	gcLine = regexp.MustCompile(`^gc \d+ @[\d.]+s .* (\d+)->(\d+)->(\d+) MB`)
	// A room's closing line (media.Room.Close): per RTP leg,
	// "<name>.in=… <name>.lost=… …".
	legField = regexp.MustCompile(`(\S+)\.(in|out|lost|late|concealed|wrongsrc)=(\d+)`)
)

// ServerLegStats sums the rooms' own counters, from their closing lines.
type ServerLegStats struct {
	Rooms, Legs                      int
	In, Out, Lost, Late, Concealed   uint64
	WrongSource, BehindSchedule, Err uint64
}

// daemon is callcenterd as a child process: its CPU and memory are its own.
type daemon struct {
	cmd    *exec.Cmd
	sip    netip.AddrPort
	exited chan struct{}

	mu       sync.Mutex
	media    ServerLegStats
	liveHeap int64 // MB live after the latest GC
	lastErr  string
	logw     io.Writer
}

func startDaemon(ctx context.Context, bin, db, trunk string, logw io.Writer) (*daemon, error) {
	args := []string{"serve", "-db", db, "-http", "127.0.0.1:0", "-sip", "127.0.0.1:0", "-log-level", "info",
		// sipp answers only the first challenge and only MD5 (ENVIRONMENT.md).
		"-sip-md5-only-ua", "baresip,sipp"}
	if trunk != "" {
		args = append(args, "-trunk", trunk)
	}
	cmd := exec.Command(bin, args...)
	// gctrace gives the live heap from outside the process.
	cmd.Env = append(os.Environ(), "GODEBUG=gctrace=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start callcenterd: %w", err)
	}
	d := &daemon{cmd: cmd, exited: make(chan struct{}), logw: logw}
	ready := make(chan string, 1)
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if d.logw != nil {
				io.WriteString(d.logw, line+"\n")
			}
			if m := readyLine.FindStringSubmatch(line); m != nil {
				select {
				case ready <- m[2]:
				default:
				}
			}
			d.scan(line)
		}
		io.Copy(io.Discard, stderr)
	}()
	go func() { <-scanned; cmd.Wait(); close(d.exited) }()
	select {
	case addr := <-ready:
		ap, err := netip.ParseAddrPort(addr)
		if err != nil {
			d.stop()
			return nil, fmt.Errorf("callcenterd SIP address %q: %w", addr, err)
		}
		d.sip = ap
		return d, nil
	case <-d.exited:
		return nil, errors.New("callcenterd exited before it was ready")
	case <-time.After(60 * time.Second):
		d.stop()
		return nil, errors.New("callcenterd not ready after 60 s")
	case <-ctx.Done():
		d.stop()
		return nil, ctx.Err()
	}
}

func (d *daemon) scan(line string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case strings.HasPrefix(line, "gc "):
		if m := gcLine.FindStringSubmatch(line); m != nil {
			d.liveHeap, _ = strconv.ParseInt(m[3], 10, 64)
		}
	case strings.Contains(line, `msg="room closed"`):
		addRoomLine(&d.media, line)
	case strings.Contains(line, "behind schedule"):
		d.media.BehindSchedule++
	case strings.Contains(line, "level=ERROR"), strings.HasPrefix(line, "panic:"):
		d.media.Err++
		d.lastErr = line
	}
}

// addRoomLine adds one "room closed" line's leg counters to s.
func addRoomLine(s *ServerLegStats, line string) {
	s.Rooms++
	for _, m := range legField.FindAllStringSubmatch(line, -1) {
		n, _ := strconv.ParseUint(m[3], 10, 64)
		switch m[2] {
		case "in":
			// Every leg has one "in" (a leg that joined twice, twice).
			s.Legs++
			s.In += n
		case "out":
			s.Out += n
		case "lost":
			s.Lost += n
		case "late":
			s.Late += n
		case "concealed":
			s.Concealed += n
		case "wrongsrc":
			s.WrongSource += n
		}
	}
}

func (d *daemon) mediaStats() ServerLegStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.media
}

func (d *daemon) heapMB() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.liveHeap
}

// stop interrupts the server (it hangs up and records live calls) and
// kills it if it takes longer than 15 s.
func (d *daemon) stop() {
	_ = d.cmd.Process.Signal(os.Interrupt)
	select {
	case <-d.exited:
	case <-time.After(15 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.exited
	}
}

func (d *daemon) pid() int { return d.cmd.Process.Pid }

// procStat is a process's CPU time (user+system) and resident memory.
type procStat struct {
	cpu     time.Duration
	rssKB   int64
	threads int64
}

func readProcStat(pid int) (procStat, error) {
	var ps procStat
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return ps, err
	}
	ps, err = parseProcStat(string(b))
	if err != nil {
		return ps, err
	}
	status, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return ps, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.Fields(v + " 0")[0], 10, 64)
		switch k {
		case "VmRSS":
			ps.rssKB = n
		case "Threads":
			ps.threads = n
		}
	}
	return ps, nil
}

// parseProcStat reads utime+stime from /proc/PID/stat. The command name
// (field 2) may hold spaces and parentheses; the fields after its last
// ")" are fixed: utime and stime are fields 14 and 15.
func parseProcStat(s string) (procStat, error) {
	var ps procStat
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return ps, errors.New("malformed /proc stat")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return ps, errors.New("short /proc stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return ps, fmt.Errorf("/proc stat times: %w", err)
	}
	// USER_HZ is 100 on every Linux this runs on (sysconf(_SC_CLK_TCK)).
	ps.cpu = time.Duration(ut+st) * 10 * time.Millisecond
	return ps, nil
}

// selfCPU is this process's CPU time (the generators').
func selfCPU() time.Duration {
	ps, err := readProcStat(os.Getpid())
	if err != nil {
		return 0
	}
	return ps.cpu
}

// machineBusy is the CPU time every process on the machine used since
// boot (/proc/stat: all but idle and iowait), so a report can say how
// much of the machine the bench did not account for.
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	d, _ := parseMachineBusy(string(b))
	return d
}

func parseMachineBusy(stat string) (time.Duration, error) {
	line, _, _ := strings.Cut(stat, "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, errors.New("no cpu line in /proc/stat")
	}
	var busy int64
	for i, v := range f[1:] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %w", err)
		}
		// user nice system idle iowait irq softirq steal guest guest_nice;
		// guest time is already counted in user.
		if i == 3 || i == 4 || i >= 8 {
			continue
		}
		busy += n
	}
	return time.Duration(busy) * 10 * time.Millisecond, nil
}
