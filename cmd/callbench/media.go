package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/agentphone/agentphone/audio"
	"github.com/agentphone/agentphone/callcenter/admin"
)

// Tones: the agents say agentFreq, the customers customerFreq. Both
// periods divide a 20 ms frame at 8 kHz (and 48 kHz), so a G.711 tone is
// one payload sent over and over.
const (
	agentFreq    = 1000.0
	customerFreq = 400.0
	opusPT       = 96
	pcmuPT       = 0
)

// mediaConfig is one run of anchored two-party calls.
type mediaConfig struct {
	Calls  int           // concurrent calls
	Codec  string        // agent leg: "PCMU" or "opus"; the carrier leg is PCMU
	Window time.Duration // measured steady state
	Idle   time.Duration // the server at rest measured first (default 3 s)
	Settle time.Duration // between the last answer and the window (default 3 s)
	Rate   float64       // calls placed per second while ramping up
	Check  int           // calls whose audio is decoded and checked both ways
	Bin    string        // callcenterd binary; empty: go build
	Log    *slog.Logger  // generator's SIP log
	Server io.Writer     // callcenterd's log; nil discards
}

// spot is one spot-checked call: what each side decoded.
type spot struct {
	Agent, Customer LegStats
}

func (s spot) ok() bool {
	good := func(l LegStats) bool {
		return l.Decoded > 0 && float64(l.ToneFrames) >= 0.9*float64(l.Decoded) && l.EchoFrames*100 <= l.Decoded
	}
	return good(s.Agent) && good(s.Customer)
}

// mediaResult is the figures of one run.
type mediaResult struct {
	Config         mediaConfig
	Answered       int
	Failed         int
	FirstErr       string
	Window         time.Duration
	ServerCPU      time.Duration // in the window
	GenCPU         time.Duration // this process, in the window
	MachineCPU     time.Duration // every process on the machine, in the window
	Cores          int
	IdleCPUPerSec  time.Duration // the server with agents registered, no calls
	RSSIdleKB      int64
	RSSLoadKB      int64
	HeapIdleMB     int64
	HeapLoadMB     int64
	Gen            LegStats // every generator leg, whole calls
	GenBehind      uint64   // generator passes that ran a slot late
	GenPasses      uint64
	Server         ServerLegStats
	Spots          []spot
	ServerHungUp   int // calls the server hung up on the agent side
	TrunkRefused   int
	ServerLogError string
}

// CPUPerCallSecond is the server's CPU-ms per call-second in the window.
func (r mediaResult) CPUPerCallSecond() float64 {
	if r.Answered == 0 || r.Window <= 0 {
		return 0
	}
	return ms(r.ServerCPU) / (float64(r.Answered) * r.Window.Seconds())
}

// GenBadRatio is the fraction of frames the generator legs lost or got late.
func (r mediaResult) GenBadRatio() float64 {
	if r.Gen.Expected == 0 {
		return 1
	}
	return float64(r.Gen.Lost()+r.Gen.Late) / float64(r.Gen.Expected)
}

// ServerBadRatio is the fraction of frames the server's rooms played
// from concealment (lost, or not there yet at their tick: what the
// listener hears is not the real frame either way) or discarded late.
func (r mediaResult) ServerBadRatio() float64 {
	s := r.Server
	exp := s.In + s.Lost
	if exp == 0 {
		return 1
	}
	return float64(max(s.Concealed, s.Lost)+s.Late) / float64(exp)
}

// SpotsOK counts spot-checked calls whose tones came through both ways.
func (r mediaResult) SpotsOK() int {
	n := 0
	for _, s := range r.Spots {
		if s.ok() {
			n++
		}
	}
	return n
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func dialedNumber(i int) string { return "139" + fmt.Sprintf("%08d", i) }

func dialedIndex(s string) int {
	if len(s) != 11 || s[:3] != "139" {
		return -1
	}
	n, err := strconv.Atoi(s[3:])
	if err != nil {
		return -1
	}
	return n
}

func runMedia(ctx context.Context, cfg mediaConfig) (res mediaResult, err error) {
	res.Config = cfg
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	agentCodec, err := audio.CodecByName(cfg.Codec)
	if err != nil {
		return res, err
	}
	pt, rtpmap := uint8(pcmuPT), "PCMU/8000"
	if agentCodec.Name() == "opus" {
		pt, rtpmap = opusPT, "opus/48000/2"
	}
	agentPS, err := encodeTone(agentCodec, pt, agentFreq)
	if err != nil {
		return res, err
	}
	custPS, err := encodeTone(audio.PCMU, pcmuPT, customerFreq)
	if err != nil {
		return res, err
	}
	dir, err := os.MkdirTemp("", "callbench")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	db := filepath.Join(dir, "bench.db")
	if err := prepareDB(ctx, db, cfg.Calls); err != nil {
		return res, fmt.Errorf("prepare database: %w", err)
	}
	bin, err := buildServer(ctx, cfg.Bin, dir)
	if err != nil {
		return res, err
	}

	eng := newEngine()
	defer eng.close()
	newCheck := func(c audio.Codec, want, own float64) *toneCheck {
		dec, err := c.NewDecoder()
		if err != nil {
			return nil
		}
		// The first second is skipped: jitter buffers fill and the
		// room's first mixes may hold only one side.
		return &toneCheck{dec: dec, rate: c.SampleRate(), want: want, own: own, pcm: make([]int16, audio.DeviceRate), skip: 50}
	}
	tr, err := newTrunk(cfg.Log, eng, custPS, func(dialed string) *toneCheck {
		if i := dialedIndex(dialed); i >= 0 && i < cfg.Check {
			return newCheck(audio.PCMU, agentFreq, customerFreq)
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	defer tr.close()
	d, err := startDaemon(ctx, bin, db, tr.addr, cfg.Server)
	if err != nil {
		return res, err
	}
	defer d.stop()
	ag, err := newAgents(cfg.Log, eng, d.sip)
	if err != nil {
		return res, err
	}
	defer ag.close()

	// Register every agent, 16 at a time.
	sem := make(chan struct{}, 16)
	var regErr error
	var regMu sync.Mutex
	var wg sync.WaitGroup
	for i := range cfg.Calls {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := ag.register(rctx, d.sip, agentNumber(i), admin.DemoPassword); err != nil {
				regMu.Lock()
				regErr = errors.Join(regErr, err)
				regMu.Unlock()
			}
		}()
	}
	wg.Wait()
	if regErr != nil {
		return res, regErr
	}

	// The server at rest with every agent registered.
	if cfg.Idle <= 0 {
		cfg.Idle = 3 * time.Second
	}
	if cfg.Settle <= 0 {
		cfg.Settle = 3 * time.Second
	}
	time.Sleep(cfg.Idle / 3)
	p0, err := readProcStat(d.pid())
	if err != nil {
		return res, err
	}
	time.Sleep(cfg.Idle)
	p1, err := readProcStat(d.pid())
	if err != nil {
		return res, err
	}
	res.IdleCPUPerSec = time.Duration(float64(p1.cpu-p0.cpu) / cfg.Idle.Seconds())
	res.RSSIdleKB, res.HeapIdleMB = p1.rssKB, d.heapMB()

	// Ramp up at cfg.Rate calls/s.
	stop := make(chan struct{})
	var mu sync.Mutex
	spots := make([]spot, cfg.Check)
	up := make(chan bool, cfg.Calls)
	interval := time.Duration(float64(time.Second) / cfg.Rate)
	var calls sync.WaitGroup
	for i := range cfg.Calls {
		if i > 0 {
			time.Sleep(interval)
		}
		calls.Add(1)
		go func() {
			defer calls.Done()
			var check *toneCheck
			if i < cfg.Check {
				check = newCheck(agentCodec, customerFreq, agentFreq)
			}
			cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			c, err := ag.call(cctx, agentNumber(i), dialedNumber(i), agentPS, rtpmap, check)
			cancel()
			if err != nil {
				mu.Lock()
				res.Failed++
				if res.FirstErr == "" {
					res.FirstErr = err.Error()
				}
				mu.Unlock()
				up <- false
				return
			}
			up <- true
			<-stop
			hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			st, err := ag.hangup(hctx, c)
			cancel()
			mu.Lock()
			defer mu.Unlock()
			if err != nil && res.FirstErr == "" {
				res.FirstErr = "hang up: " + err.Error()
			}
			if i < cfg.Check {
				spots[i].Agent = st
			}
		}()
	}
	for range cfg.Calls {
		if <-up {
			res.Answered++
		}
	}
	// Let the jitter buffers settle before the window opens.
	time.Sleep(cfg.Settle)
	g0, m0 := selfCPU(), machineBusy()
	w0, err := readProcStat(d.pid())
	if err != nil {
		close(stop)
		return res, err
	}
	t0 := time.Now()
	select {
	case <-time.After(cfg.Window):
	case <-ctx.Done():
	}
	w1, err := readProcStat(d.pid())
	res.Window = time.Since(t0)
	res.GenCPU = selfCPU() - g0
	res.MachineCPU = machineBusy() - m0
	res.Cores = runtime.NumCPU()
	if err != nil {
		close(stop)
		return res, err
	}
	res.ServerCPU = w1.cpu - w0.cpu
	res.RSSLoadKB, res.HeapLoadMB = w1.rssKB, d.heapMB()

	close(stop)
	calls.Wait()
	// The server hangs up the carrier legs and closes each room.
	deadline := time.Now().Add(30 * time.Second)
	for (tr.live() > 0 || d.mediaStats().Rooms < res.Answered) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	res.Gen, res.GenBehind, res.GenPasses = eng.snapshot()
	for i := range spots {
		spots[i].Customer = tr.checkedStats(dialedNumber(i))
	}
	res.Spots = spots
	res.Server = d.mediaStats()
	ag.mu.Lock()
	res.ServerHungUp = ag.byes
	ag.mu.Unlock()
	tr.mu.Lock()
	res.TrunkRefused = tr.failed
	tr.mu.Unlock()
	d.mu.Lock()
	res.ServerLogError = d.lastErr
	d.mu.Unlock()
	return res, nil
}

func (r mediaResult) print(w io.Writer) {
	c := r.Config
	fmt.Fprintf(w, "== anchored two-party calls: agent %s ↔ carrier PCMU, %d calls, %.0f s window\n", c.Codec, c.Calls, r.Window.Seconds())
	fmt.Fprintf(w, "calls answered %d, failed %d", r.Answered, r.Failed)
	if r.FirstErr != "" {
		fmt.Fprintf(w, " (first: %s)", r.FirstErr)
	}
	fmt.Fprintf(w, "; hung up by the server %d; refused by the trunk %d\n", r.ServerHungUp, r.TrunkRefused)
	fmt.Fprintf(w, "server CPU: %.3f CPU-ms per call-second (%.0f ms over %d calls × %.1f s); idle with %d agents registered %.1f ms/s\n",
		r.CPUPerCallSecond(), ms(r.ServerCPU), r.Answered, r.Window.Seconds(), c.Calls, ms(r.IdleCPUPerSec))
	win := r.Window.Seconds()
	others := max(r.MachineCPU-r.ServerCPU-r.GenCPU, 0)
	fmt.Fprintf(w, "machine (%d cores): server %.0f%% + generator %.0f%% + other processes %.0f%% of one core\n",
		r.Cores, 100*r.ServerCPU.Seconds()/win, 100*r.GenCPU.Seconds()/win, 100*others.Seconds()/win)
	if r.Answered > 0 {
		fmt.Fprintf(w, "server memory: RSS %d → %d MB (%.1f KB per call), live Go heap %d → %d MB (%.1f KB per call)\n",
			r.RSSIdleKB/1024, r.RSSLoadKB/1024, float64(r.RSSLoadKB-r.RSSIdleKB)/float64(r.Answered),
			r.HeapIdleMB, r.HeapLoadMB, float64(r.HeapLoadMB-r.HeapIdleMB)*1024/float64(r.Answered))
	}
	s := r.Server
	fmt.Fprintf(w, "server rooms: %d rooms, %d legs, in %d, out %d, lost %d, late %d, concealed %d, wrong source %d, tick loops behind %d → %.3f%% concealed+late\n",
		s.Rooms, s.Legs, s.In, s.Out, s.Lost, s.Late, s.Concealed, s.WrongSource, s.BehindSchedule, 100*r.ServerBadRatio())
	g := r.Gen
	fmt.Fprintf(w, "generator legs: sent %d, received %d of %d, lost %d, late (>%v) %d → %.3f%% lost+late; generator behind %d of %d passes\n",
		g.Sent, g.Received, g.Expected, g.Lost(), lateAfter, g.Late, 100*r.GenBadRatio(), r.GenBehind, r.GenPasses)
	fmt.Fprintf(w, "tones: %d of %d spot-checked calls heard the other side both ways (and not themselves)\n", r.SpotsOK(), len(r.Spots))
	for i, sp := range r.Spots {
		if !sp.ok() {
			fmt.Fprintf(w, "  call %d: agent heard %d/%d frames of %g Hz (own %d), customer %d/%d of %g Hz (own %d)\n", i,
				sp.Agent.ToneFrames, sp.Agent.Decoded, customerFreq, sp.Agent.EchoFrames,
				sp.Customer.ToneFrames, sp.Customer.Decoded, agentFreq, sp.Customer.EchoFrames)
		}
	}
	if r.ServerLogError != "" {
		fmt.Fprintf(w, "server logged errors, last: %s\n", r.ServerLogError)
	}
}
