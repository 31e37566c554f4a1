package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/agentphone/agentphone/callcenter/admin"
)

// errNoSipp means the setup figure cannot be measured here.
var errNoSipp = errors.New("sipp not installed (Debian package sip-tester)")

type setupConfig struct {
	Procs     int           // sipp UAC processes, one agent each
	Rate      float64       // calls per second, all processes together
	Calls     int           // calls, all processes together
	Hold      time.Duration // each call's talk time
	Scenarios string        // directory of register.xml, uac.xml, uas.xml
	Bin       string
	Server    io.Writer
	Keep      string // directory to keep sipp's files in; empty: a temp dir
}

type sippStats struct {
	Successful, Failed int
	SetupAvg           time.Duration // INVITE → 200 (response time 1), ms resolution
	// SetupBuckets counts INVITE → 200 times by sipp's repartition
	// ("<10", "<20", … ">=1000", in ms), in the scenario's order.
	SetupBuckets []bucket
}

type bucket struct {
	Label string
	N     int
}

type setupResult struct {
	Config      setupConfig
	Elapsed     time.Duration // first INVITE to the last call's end
	Successful  int
	Failed      int
	SetupAvg    time.Duration
	Buckets     []bucket
	ServerCPU   time.Duration
	PeakRSSKB   int64
	UASFailed   string // why the carrier's sipp failed, if it did
	SippErrTail string
	ServerErr   string
}

// Rate is the achieved setup rate: calls over the time spent placing them
// (the last call's hold time is not setup work).
func (r setupResult) Rate() float64 {
	d := r.Elapsed - r.Config.Hold
	if d <= 0 {
		return 0
	}
	return float64(r.Successful) / d.Seconds()
}

func freePort() (int, error) {
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

func runSetup(ctx context.Context, cfg setupConfig) (res setupResult, err error) {
	res.Config = cfg
	sipp, err := exec.LookPath("sipp")
	if err != nil {
		return res, errNoSipp
	}
	dir := cfg.Keep
	if dir == "" {
		if dir, err = os.MkdirTemp("", "callbench-sipp"); err != nil {
			return res, err
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return res, err
	}
	db := filepath.Join(dir, "bench.db")
	if err := prepareDB(ctx, db, cfg.Procs); err != nil {
		return res, fmt.Errorf("prepare database: %w", err)
	}
	bin, err := buildServer(ctx, cfg.Bin, dir)
	if err != nil {
		return res, err
	}
	scen := func(name string) string { return filepath.Join(cfg.Scenarios, name) }

	// sipp cannot bind port 0: hand it ports the kernel just gave out.
	trunkPort, err := freePort()
	if err != nil {
		return res, err
	}
	d, err := startDaemon(ctx, bin, db, fmt.Sprintf("127.0.0.1:%d", trunkPort), cfg.Server)
	if err != nil {
		return res, err
	}
	defer d.stop()
	server := d.sip.String()
	sippCmd := func(ctx context.Context, port int, args ...string) (*exec.Cmd, error) {
		mp, err := freePort()
		if err != nil {
			return nil, err
		}
		base := []string{server, "-i", "127.0.0.1", "-p", strconv.Itoa(port), "-mi", "127.0.0.1", "-mp", strconv.Itoa(mp),
			"-nostdin", "-recv_timeout", "20000", "-max_socket", "4096"}
		cmd := exec.CommandContext(ctx, sipp, append(base, args...)...)
		cmd.Dir = dir
		return cmd, nil
	}

	// The carrier: one sipp UAS at the trunk address (the edge trusts
	// exactly that address), ending after every call.
	uasCtx, stopUAS := context.WithCancel(ctx)
	defer stopUAS()
	uas, err := sippCmd(uasCtx, trunkPort, "-sf", scen("uas.xml"), "-m", strconv.Itoa(cfg.Calls),
		"-trace_err", "-error_file", filepath.Join(dir, "uas_err.log"))
	if err != nil {
		return res, err
	}
	var uasOut bytes.Buffer
	uas.Stdout, uas.Stderr = &uasOut, &uasOut
	if err := uas.Start(); err != nil {
		return res, fmt.Errorf("start sipp UAS: %w", err)
	}
	uasDone := make(chan error, 1)
	go func() { uasDone <- uas.Wait() }()

	// Each UAC process registers its agent from its port, then calls.
	type proc struct {
		port  int
		agent string
		stf   string
	}
	procs := make([]proc, cfg.Procs)
	for i := range procs {
		if procs[i].port, err = freePort(); err != nil {
			return res, err
		}
		procs[i].agent = agentNumber(i)
		procs[i].stf = filepath.Join(dir, fmt.Sprintf("uac%d.csv", i))
		cmd, err := sippCmd(ctx, procs[i].port, "-sf", scen("register.xml"), "-m", "1", "-key", "agent", procs[i].agent,
			"-au", procs[i].agent, "-ap", admin.DemoPassword, "-timeout", "20s", "-timeout_error")
		if err != nil {
			return res, err
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			return res, fmt.Errorf("sipp register %s: %w\n%s", procs[i].agent, err, tail(string(out), 15))
		}
	}
	p0, err := readProcStat(d.pid())
	if err != nil {
		return res, err
	}
	perProc := cfg.Calls / cfg.Procs
	rate := cfg.Rate / float64(cfg.Procs)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var peak int64
	sampleDone := make(chan struct{})
	go func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-sampleDone:
				return
			case <-t.C:
				if ps, err := readProcStat(d.pid()); err == nil {
					mu.Lock()
					peak = max(peak, ps.rssKB)
					mu.Unlock()
				}
			}
		}
	}()
	start := time.Now()
	for i, p := range procs {
		n := perProc
		if i == 0 {
			n += cfg.Calls - perProc*cfg.Procs
		}
		cmd, err := sippCmd(ctx, p.port, "-sf", scen("uac.xml"), "-key", "agent", p.agent, "-s", dialedNumber(i),
			"-r", strconv.FormatFloat(rate, 'f', 3, 64), "-rp", "1000", "-m", strconv.Itoa(n),
			"-d", strconv.FormatInt(cfg.Hold.Milliseconds(), 10),
			"-trace_stat", "-stf", p.stf, "-fd", "1",
			"-trace_err", "-error_file", filepath.Join(dir, fmt.Sprintf("uac%d_err.log", i)),
			"-timeout", strconv.Itoa(int(float64(n)/rate)+60)+"s", "-timeout_error")
		if err != nil {
			return res, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := cmd.CombinedOutput()
			if err != nil {
				mu.Lock()
				res.SippErrTail = fmt.Sprintf("sipp UAC %s: %v\n%s", p.agent, err, tail(string(out), 10))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	close(sampleDone)
	p1, err := readProcStat(d.pid())
	if err != nil {
		return res, err
	}
	res.ServerCPU = p1.cpu - p0.cpu
	res.PeakRSSKB = peak
	var sum time.Duration
	for _, p := range procs {
		st, err := readSippStats(p.stf)
		if err != nil {
			return res, fmt.Errorf("sipp statistics of %s: %w", p.agent, err)
		}
		res.Successful += st.Successful
		res.Failed += st.Failed
		sum += st.SetupAvg * time.Duration(st.Successful)
		for i, b := range st.SetupBuckets {
			if i == len(res.Buckets) {
				res.Buckets = append(res.Buckets, bucket{Label: b.Label})
			}
			if res.Buckets[i].Label == b.Label {
				res.Buckets[i].N += b.N
			}
		}
	}
	if res.Successful > 0 {
		res.SetupAvg = sum / time.Duration(res.Successful)
	}
	select {
	case err := <-uasDone:
		if err != nil {
			res.UASFailed = fmt.Sprintf("sipp UAS: %v", err)
		}
	case <-time.After(10 * time.Second):
		res.UASFailed = "sipp UAS still waiting for calls 10 s after the last UAC ended"
		stopUAS()
		<-uasDone
	}
	if res.UASFailed != "" {
		errLog, _ := os.ReadFile(filepath.Join(dir, "uas_err.log"))
		res.UASFailed += "\n" + tail(uasOut.String(), 8) + "\n" + tail(string(errLog), 8)
	}
	d.mu.Lock()
	res.ServerErr = d.lastErr
	d.mu.Unlock()
	return res, nil
}

// readSippStats reads the last line of a sipp -trace_stat file.
func readSippStats(path string) (sippStats, error) {
	var st sippStats
	f, err := os.Open(path)
	if err != nil {
		return st, err
	}
	defer f.Close()
	return parseSippStats(f)
}

func parseSippStats(r io.Reader) (sippStats, error) {
	var st sippStats
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var header, last []string
	for sc.Scan() {
		f := strings.Split(strings.TrimSpace(sc.Text()), ";")
		if header == nil {
			header = f
			continue
		}
		if len(f) >= len(header)-1 {
			last = f
		}
	}
	if header == nil || last == nil {
		return st, errors.New("no statistics")
	}
	col := func(name string) (string, bool) {
		for i, h := range header {
			if h == name && i < len(last) {
				return last[i], true
			}
		}
		return "", false
	}
	for name, dst := range map[string]*int{"SuccessfulCall(C)": &st.Successful, "FailedCall(C)": &st.Failed} {
		v, ok := col(name)
		if !ok {
			return st, fmt.Errorf("no %s column", name)
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return st, fmt.Errorf("%s=%q: %w", name, v, err)
		}
		*dst = n
	}
	if v, ok := col("ResponseTime1(C)"); ok {
		st.SetupAvg = parseSippDuration(v)
	}
	const rep = "ResponseTimeRepartition1_"
	for i, h := range header {
		if !strings.HasPrefix(h, rep) || i >= len(last) {
			continue
		}
		n, err := strconv.Atoi(last[i])
		if err != nil {
			continue
		}
		st.SetupBuckets = append(st.SetupBuckets, bucket{strings.TrimPrefix(h, rep), n})
	}
	return st, nil
}

// parseSippDuration reads sipp's "HH:MM:SS:ffffff" (microseconds; older
// versions print milliseconds, "HH:MM:SS:fff").
func parseSippDuration(s string) time.Duration {
	p := strings.Split(s, ":")
	if len(p) != 4 {
		return 0
	}
	var d time.Duration
	for i, unit := range []time.Duration{time.Hour, time.Minute, time.Second} {
		n, err := strconv.Atoi(p[i])
		if err != nil {
			return 0
		}
		d += time.Duration(n) * unit
	}
	n, err := strconv.Atoi(p[3])
	if err != nil {
		return 0
	}
	if len(p[3]) == 3 {
		return d + time.Duration(n)*time.Millisecond
	}
	return d + time.Duration(n)*time.Microsecond
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (r setupResult) print(w io.Writer) {
	c := r.Config
	fmt.Fprintf(w, "== call setup with sipp: %d UAC processes, %d calls offered at %.0f/s, hold %v\n", c.Procs, c.Calls, c.Rate, c.Hold)
	fmt.Fprintf(w, "successful %d, failed %d; achieved %.0f calls/s; INVITE→200 average %.0f ms (sipp counts whole ms)",
		r.Successful, r.Failed, r.Rate(), ms(r.SetupAvg))
	for _, b := range r.Buckets {
		if b.N > 0 {
			fmt.Fprintf(w, ", %s ms: %d", b.Label, b.N)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "server CPU %.2f s over %.1f s (%.0f%% of one core), %.2f CPU-ms per call; peak RSS %d MB\n",
		r.ServerCPU.Seconds(), r.Elapsed.Seconds(), 100*r.ServerCPU.Seconds()/r.Elapsed.Seconds(),
		ms(r.ServerCPU)/float64(max(r.Successful, 1)), r.PeakRSSKB/1024)
	if r.UASFailed != "" {
		fmt.Fprintln(w, "the carrier side failed:", r.UASFailed)
	}
	if r.SippErrTail != "" {
		fmt.Fprintln(w, r.SippErrTail)
	}
	if r.ServerErr != "" {
		fmt.Fprintln(w, "server logged errors, last:", r.ServerErr)
	}
}

func setupCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("setup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg setupConfig
	fs.IntVar(&cfg.Procs, "procs", 4, "sipp UAC processes (one agent each)")
	fs.Float64Var(&cfg.Rate, "rate", 200, "offered calls per second, all processes together")
	fs.IntVar(&cfg.Calls, "calls", 2000, "calls, all processes together")
	fs.DurationVar(&cfg.Hold, "hold", time.Second, "talk time of each call")
	fs.StringVar(&cfg.Scenarios, "scenarios", filepath.Join(moduleRoot(), "cmd", "callcenterd", "testdata", "sipp"), "directory of the sipp scenarios")
	fs.StringVar(&cfg.Bin, "bin", "", "callcenterd binary (default: go build ./cmd/callcenterd)")
	fs.StringVar(&cfg.Keep, "keep", "", "keep sipp's logs and statistics in this directory")
	serverLog := fs.String("server-log", "", "write callcenterd's log to this file")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if cfg.Procs < 1 || cfg.Calls < cfg.Procs || cfg.Rate <= 0 {
		return fmt.Errorf("need -procs ≥ 1, -calls ≥ -procs, -rate > 0: %w", errUsage)
	}
	if *serverLog != "" {
		f, err := os.Create(*serverLog)
		if err != nil {
			return err
		}
		defer f.Close()
		cfg.Server = f
	}
	res, err := runSetup(ctx, cfg)
	if errors.Is(err, errNoSipp) {
		fmt.Fprintln(stdout, "callbench setup: skipped:", err)
		return nil
	}
	if err != nil {
		return err
	}
	res.print(stdout)
	if res.Failed > 0 || res.UASFailed != "" {
		return fmt.Errorf("%d calls failed at the agents' side, carrier side failed: %t", res.Failed, res.UASFailed != "")
	}
	return nil
}
