package main

// The inbound throughput figure (issue 3): how many calls per second
// pstnsim can push through IVR → key 1 → queue → agent answer with zero
// failed calls, and the knee where failures start. It is a load test, not a
// unit test: it runs only with LOAD=1 and takes one to three minutes.
//
//	LOAD=1 go test -run TestInboundLoad -v -timeout 10m ./cmd/callcenterd
//
// Knobs (environment): LOAD_AGENTS (default 250, all in sales), LOAD_RATES
// (calls/s, default "5,10,20,30,40,50,60,80"; it stops at the first step
// with a failed call), LOAD_SECONDS (offered seconds per step,
// default 5), LOAD_TALK (agent talk time, default 2s), LOAD_DEBUG=1 shows
// callcenterd's log, LOAD_LOG=FILE writes it to FILE.
//
// callcenterd runs as a child process so that its CPU figure (from
// /proc/PID/stat) is its own: the carrier simulator and the agents' phones
// run in this test process and share the machine's cores with it.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentphone/agentphone/audio"
	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/admin"
	"github.com/agentphone/agentphone/callcenter/api"
	"github.com/agentphone/agentphone/callcenter/client"
	"github.com/agentphone/agentphone/callcenter/pstnsim"
	"github.com/agentphone/agentphone/callcenter/store"
	"github.com/agentphone/agentphone/phone"
)

const (
	loadBudget    = 170 * time.Second // the whole test, setup included
	loadAgentFreq = 1000.0            // what the agents say; customers say pstnsim's 1.5 kHz
	loadAgentBase = 5000              // load agents are 5001, 5002, …
	// loadQueueWait bounds a caller's wait in the queue: a call that has
	// not reached an agent by then is hung up by the center and counts as
	// failed (the center's all-busy message, not a stuck call).
	loadQueueWait = 10 * time.Second
	// loadHoldCap is the customer's own hang-up: a call still up after
	// it is stuck (neither the agent's hang-up nor the queue limit ended it).
	loadHoldCap   = 25 * time.Second
	loadDTMFDelay = 200 * time.Millisecond
)

type loadConfig struct {
	agents  int
	rates   []float64
	seconds float64
	talk    time.Duration
}

func loadConfigFromEnv(t *testing.T) loadConfig {
	c := loadConfig{agents: 250, rates: []float64{5, 10, 20, 30, 40, 50, 60, 80}, seconds: 5, talk: 2 * time.Second}
	if v := os.Getenv("LOAD_AGENTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("LOAD_AGENTS=%q: want a positive integer", v)
		}
		c.agents = n
	}
	if v := os.Getenv("LOAD_RATES"); v != "" {
		c.rates = nil
		for _, f := range strings.Split(v, ",") {
			r, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil || r <= 0 {
				t.Fatalf("LOAD_RATES=%q: want positive numbers separated by commas", v)
			}
			c.rates = append(c.rates, r)
		}
	}
	if v := os.Getenv("LOAD_SECONDS"); v != "" {
		s, err := strconv.ParseFloat(v, 64)
		if err != nil || s <= 0 {
			t.Fatalf("LOAD_SECONDS=%q: want a positive number", v)
		}
		c.seconds = s
	}
	if v := os.Getenv("LOAD_TALK"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("LOAD_TALK=%q: want a positive duration", v)
		}
		c.talk = d
	}
	return c
}

// prepareLoadDB seeds the demo data and adds n agents to sales, with the
// queue timings shortened so each call is IVR → 1 → queue → answer → talk →
// hang-up and the agent is straight back to idle (no after-call work).
// It runs before callcenterd starts, so the center loads it all at start.
func prepareLoadDB(ctx context.Context, db string, n int) error {
	st, err := store.Open(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := admin.Seed(ctx, st, defaultRealm); err != nil {
		return err
	}
	// One scrypt hash serves every load agent (same password): hashing it
	// per agent would cost ~60 ms each for nothing the test measures.
	hash, err := callcenter.HashPassword(admin.DemoPassword)
	if err != nil {
		return err
	}
	for i := 1; i <= n; i++ {
		wn := strconv.Itoa(loadAgentBase + i)
		a := callcenter.Agent{WorkNumber: wn, Name: "Load " + wn, Role: callcenter.RoleAgent, PasswordHash: hash,
			HA1MD5:    callcenter.DigestHA1(callcenter.DigestMD5, wn, defaultRealm, admin.DemoPassword),
			HA1SHA256: callcenter.DigestHA1(callcenter.DigestSHA256, wn, defaultRealm, admin.DemoPassword)}
		if _, err := st.CreateAgent(ctx, a); err != nil {
			return fmt.Errorf("create agent %s: %w", wn, err)
		}
		if err := st.SetMember(ctx, callcenter.Member{Group: "sales", Agent: wn, Level: 1}); err != nil {
			return fmt.Errorf("add %s to sales: %w", wn, err)
		}
	}
	g, err := st.GroupByName(ctx, "sales")
	if err != nil {
		return err
	}
	g.RingTimeout = 5 * time.Second
	g.MaxWait = loadQueueWait
	g.Overflow, g.OverflowGroup = callcenter.OverflowNone, ""
	g.ACW, g.ACWDuration = false, 0
	g.AnnounceEvery = 0
	if err := st.UpdateGroup(ctx, g); err != nil {
		return fmt.Errorf("shorten sales timings: %w", err)
	}
	m, err := st.IVRMenuByName(ctx, admin.DemoIVR)
	if err != nil {
		return err
	}
	m.Timeout, m.MaxTries = 3*time.Second, 1
	if _, err := st.PutIVRMenu(ctx, m); err != nil {
		return fmt.Errorf("shorten IVR timeout: %w", err)
	}
	return nil
}

// loadDaemon is callcenterd as a child process with pstnsim as its trunk.
type loadDaemon struct {
	cmd     *exec.Cmd
	httpURL string
	exited  chan struct{}
	panics  atomic.Int64 // "panic:" lines on its stderr
	errors  atomic.Int64 // level=ERROR lines
	lastErr atomic.Value // string
}

func startLoadDaemon(t *testing.T, db, trunk string) (*loadDaemon, string) {
	t.Helper()
	cmd := exec.Command(buildDaemon(t), "serve", "-db", db, "-demo",
		"-http", "127.0.0.1:0", "-sip", "127.0.0.1:0", "-trunk", trunk, "-log-level", "info")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start callcenterd: %v", err)
	}
	d := &loadDaemon{cmd: cmd, exited: make(chan struct{})}
	ready := make(chan []string, 1)
	scanned := make(chan struct{})
	// The daemon's log goes to LOAD_LOG (a file) or, with LOAD_DEBUG, to
	// stderr; a goroutine dump (kill -QUIT) lands there too.
	var logw io.Writer
	if path := os.Getenv("LOAD_LOG"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			t.Fatalf("LOAD_LOG: %v", err)
		}
		t.Cleanup(func() { f.Close() })
		logw = f
	} else if os.Getenv("LOAD_DEBUG") != "" {
		logw = os.Stderr
	}
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if logw != nil {
				io.WriteString(logw, "[callcenterd] "+line+"\n")
			}
			switch {
			case strings.HasPrefix(line, "panic:") || strings.HasPrefix(line, "fatal error:"):
				d.panics.Add(1)
				d.lastErr.Store(line)
			case strings.Contains(line, "level=ERROR"):
				d.errors.Add(1)
				d.lastErr.Store(line)
			}
			if m := readyLine.FindStringSubmatch(line); m != nil {
				select {
				case ready <- m:
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	go func() { <-scanned; cmd.Wait(); close(d.exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-d.exited:
		case <-time.After(10 * time.Second):
			t.Errorf("callcenterd did not stop within 10 s of SIGINT after the load; killing it")
			cmd.Process.Kill()
			<-d.exited
		}
	})
	select {
	case m := <-ready:
		d.httpURL = m[1]
		return d, m[2]
	case <-d.exited:
		t.Fatal("callcenterd exited before it was ready")
	case <-time.After(30 * time.Second):
		t.Fatal("callcenterd not ready after 30 s")
	}
	return nil, ""
}

// procStat is a process's CPU time (user+system) and resident memory and
// thread count, from /proc.
type procStat struct {
	cpu     time.Duration
	rssKB   int64
	threads int64
}

func readProcStat(pid string) (procStat, error) {
	var ps procStat
	b, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if err != nil {
		return ps, err
	}
	// The command name (field 2) may hold spaces; the fields after its
	// closing parenthesis are fixed: utime and stime are fields 14 and 15.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return ps, fmt.Errorf("short /proc/%s/stat", pid)
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	// USER_HZ is 100 on every Linux this runs on (sysconf(_SC_CLK_TCK)).
	ps.cpu = time.Duration(ut+st) * 10 * time.Millisecond
	status, err := os.ReadFile(filepath.Join("/proc", pid, "status"))
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

// udpDrops counts datagrams the kernel dropped because a socket's receive
// buffer was full (/proc/net/udp "drops"), split into the server's SIP
// socket, the server's other (RTP) sockets, and everyone else's (the
// agents' phones and pstnsim in this process).
type udpDrops struct{ sip, serverRTP, others int64 }

func readUDPDrops(pid, sipPort string) (udpDrops, error) {
	var d udpDrops
	mine := map[string]bool{}
	fds, err := os.ReadDir(filepath.Join("/proc", pid, "fd"))
	if err != nil {
		return d, err
	}
	for _, fd := range fds {
		l, err := os.Readlink(filepath.Join("/proc", pid, "fd", fd.Name()))
		if err == nil && strings.HasPrefix(l, "socket:[") {
			mine[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	port, err := strconv.Atoi(sipPort)
	if err != nil {
		return d, err
	}
	hexPort := fmt.Sprintf(":%04X", port)
	b, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		return d, err
	}
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 13 {
			continue
		}
		n, _ := strconv.ParseInt(f[len(f)-1], 10, 64)
		switch {
		case !mine[f[9]]:
			d.others += n
		case strings.HasSuffix(f[1], hexPort):
			d.sip += n
		default:
			d.serverRTP += n
		}
	}
	return d, nil
}

// loadAgent is one auto-answering agent: it answers every offer, talks for
// the talk time (a 1 kHz tone) and hangs up.
type loadAgent struct {
	wn    string
	phone *phone.Phone
	dev   *audio.VirtualDevice
}

// answer is what an agent saw of one call, keyed by the customer's number.
type answer struct {
	at          time.Time
	agent       string
	heardCaller bool      // the agent heard the customer's 1.5 kHz voice before hanging up
	hungUp      time.Time // when the agent sent its BYE
}

type answerBook struct {
	mu sync.Mutex
	m  map[string]answer
	// dup counts customers answered twice (a call offered to two agents).
	dup int
}

func (b *answerBook) put(caller string, a answer) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.m[caller]; ok {
		b.dup++
	}
	b.m[caller] = a
}

func (b *answerBook) get(caller string) (answer, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	a, ok := b.m[caller]
	return a, ok
}

func (b *answerBook) hungUp(caller string, heard bool, at time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if a, ok := b.m[caller]; ok {
		a.heardCaller, a.hungUp = heard, at
		b.m[caller] = a
	}
}

// startLoadAgent logs wn in, registers its phone, sets it idle and serves
// its calls until ctx ends.
func startLoadAgent(ctx context.Context, url, wn string, talk time.Duration, book *answerBook, wg *sync.WaitGroup) (*loadAgent, error) {
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cl := client.New(url)
	login, err := cl.Login(lctx, wn, admin.DemoPassword, "load")
	if err != nil {
		return nil, fmt.Errorf("login %s: %w", wn, err)
	}
	a := &loadAgent{wn: wn, dev: audio.NewVirtualDevice(audio.NewTone(loadAgentFreq, 0.3, audio.DeviceRate), audio.WithRecordLimit(time.Second))}
	// G.711 on the agent leg: the cheapest codec for both ends, so the
	// figure is the center's throughput, not Opus encoding in 100 phones.
	a.phone, err = phone.New(phone.Account{Username: login.SIP.Username, Password: login.SIP.Password,
		Realm: login.SIP.Realm, Registrar: login.SIP.Registrar},
		phone.WithListen("127.0.0.1:0"), phone.WithCodecs("PCMU"),
		phone.WithAudio(func() (audio.Device, error) { return nopClose{a.dev}, nil }),
		phone.WithEventBuffer(256))
	if err != nil {
		return nil, fmt.Errorf("phone %s: %w", wn, err)
	}
	a.phone.SetAutoAnswer(true)
	if err := a.phone.Start(ctx); err != nil {
		a.phone.Close()
		return nil, fmt.Errorf("start phone %s: %w", wn, err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.serve(ctx, talk, book)
	}()
	for a.phone.Registration() != phone.Registered {
		if lctx.Err() != nil {
			return a, fmt.Errorf("agent %s not registered: %v", wn, a.phone.RegistrationErr())
		}
		time.Sleep(10 * time.Millisecond)
	}
	idle, on := "idle", true
	st, err := cl.SetStatus(lctx, api.StatusChange{Phone: &idle, AutoAnswer: &on})
	if err != nil || st.Phone != "idle" {
		return a, fmt.Errorf("set %s idle: %+v, %w", wn, st, err)
	}
	return a, nil
}

func (a *loadAgent) serve(ctx context.Context, talk time.Duration, book *answerBook) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-a.phone.Events():
			if !ok {
				return
			}
			if ev.Kind != phone.EventCall || ev.State != phone.Active || ev.Call.Direction() != phone.Inbound {
				continue
			}
			c, caller := ev.Call, ev.Call.Header("X-Caller")
			book.put(caller, answer{at: time.Now(), agent: a.wn})
			go func() {
				select {
				case <-time.After(talk):
				case <-c.Done():
					return
				case <-ctx.Done():
				}
				book.hungUp(caller, hears(a.dev, pstnsim.DefaultVoiceFreq), time.Now())
				hctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				c.Hangup(hctx)
			}()
		}
	}
}

// loadStep is one offered rate's outcome.
type loadStep struct {
	rate               float64
	placed, answered   int // answered: an agent answered and the customer heard it
	failed             map[string]int
	p50, p99, max      time.Duration // INVITE → agent answer
	byeP50, byeP99     time.Duration // agent's BYE → customer's call ended
	audioOK, audioSeen int           // customer heard the agent (last second)
	agentHeard         int           // agent heard the customer
	drops              udpDrops      // UDP receive-buffer drops during the step
	serverCPU          float64       // % of one core over the step
	genCPU             float64       // this process (pstnsim + agents)
	rssMB              float64
	threads            int64
	wall               time.Duration
}

func (s loadStep) failures() int {
	n := 0
	for _, v := range s.failed {
		n += v
	}
	return n
}

func (s loadStep) failedString() string {
	if len(s.failed) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(s.failed))
	for k := range s.failed {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s×%d", k, s.failed[k])
	}
	return b.String()
}

func TestInboundLoad(t *testing.T) {
	if os.Getenv("LOAD") == "" {
		t.Skip("load test: set LOAD=1 (see the comment at the top of load_test.go)")
	}
	cfg := loadConfigFromEnv(t)
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), loadBudget+30*time.Second)
	defer cancel()

	db := filepath.Join(t.TempDir(), "cc.db")
	if err := prepareLoadDB(ctx, db, cfg.agents); err != nil {
		t.Fatalf("prepare database: %v", err)
	}
	sim, err := pstnsim.New(pstnsim.WithListen("127.0.0.1:0"), pstnsim.WithRecordLimit(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Start(ctx); err != nil {
		t.Fatalf("start pstnsim: %v", err)
	}
	defer sim.Close()
	d, sipAddr := startLoadDaemon(t, db, sim.Addr())
	if err := sim.SetServer(sipAddr); err != nil {
		t.Fatal(err)
	}
	pid := strconv.Itoa(d.cmd.Process.Pid)
	_, sipPort, _ := strings.Cut(sipAddr, ":")

	// Agents log in a few at a time: each login is one scrypt check on
	// the server (~60 ms of a core).
	book := &answerBook{m: map[string]answer{}}
	actx, stopAgents := context.WithCancel(ctx)
	var agentsWG sync.WaitGroup
	agents := make([]*loadAgent, cfg.agents)
	errs := make([]error, cfg.agents)
	sem := make(chan struct{}, 4)
	var lwg sync.WaitGroup
	for i := range agents {
		lwg.Add(1)
		sem <- struct{}{}
		go func() {
			defer lwg.Done()
			defer func() { <-sem }()
			agents[i], errs[i] = startLoadAgent(actx, d.httpURL, strconv.Itoa(loadAgentBase+i+1), cfg.talk, book, &agentsWG)
		}()
	}
	lwg.Wait()
	defer func() {
		stopAgents()
		for _, a := range agents {
			if a != nil {
				a.phone.Close()
			}
		}
		agentsWG.Wait()
	}()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("agents: %v", err)
	}
	t.Logf("%d agents logged in, registered and idle after %s", cfg.agents, time.Since(began).Round(100*time.Millisecond))

	var steps []loadStep
	seq := 0
	callers := map[string]bool{}
	for _, rate := range cfg.rates {
		count := max(10, int(rate*cfg.seconds+0.5))
		// A step takes its offered time plus the longest a call may live.
		need := time.Duration(float64(count)/rate*float64(time.Second)) + cfg.talk + 5*time.Second
		if left := loadBudget - time.Since(began); need > left {
			t.Logf("stopping before %g calls/s: %s needed, %s left of the budget", rate, need.Round(time.Second), left.Round(time.Second))
			break
		}
		from := make([]string, count)
		for i := range from {
			seq++
			from[i] = fmt.Sprintf("1390%07d", seq) // unique: the agents' X-Caller names the call
			callers[from[i]] = true
		}
		before, err := readProcStat(pid)
		if err != nil {
			t.Fatalf("server stat: %v", err)
		}
		self0, _ := readProcStat("self")
		drops0, err := readUDPDrops(pid, sipPort)
		if err != nil {
			t.Fatalf("UDP drops: %v", err)
		}
		t0 := time.Now()
		sctx, scancel := context.WithTimeout(ctx, need+loadHoldCap)
		rep, err := sim.Run(sctx, pstnsim.Plan{To: admin.DemoNumber, From: from, Count: count, Rate: rate,
			Hold: loadHoldCap, DTMF: "1", DTMFDelay: loadDTMFDelay})
		scancel()
		wall := time.Since(t0)
		after, _ := readProcStat(pid)
		self1, _ := readProcStat("self")
		drops1, _ := readUDPDrops(pid, sipPort)
		if err != nil {
			t.Errorf("%g calls/s: run: %v", rate, err)
		}
		st := summarizeStep(rate, rep, book, cfg.talk)
		st.wall = wall
		st.drops = udpDrops{drops1.sip - drops0.sip, drops1.serverRTP - drops0.serverRTP, drops1.others - drops0.others}
		st.serverCPU = 100 * float64(after.cpu-before.cpu) / float64(wall)
		st.genCPU = 100 * float64(self1.cpu-self0.cpu) / float64(wall)
		st.rssMB, st.threads = float64(after.rssKB)/1024, after.threads
		steps = append(steps, st)
		t.Logf("%g calls/s: %s; working calls %d, failed %s, p50 %s p99 %s, server CPU %.0f%%, %d threads",
			rate, rep.String(), st.answered, st.failedString(), st.p50.Round(time.Millisecond), st.p99.Round(time.Millisecond), st.serverCPU, st.threads)
		if st.failures() > 0 {
			break // the knee: the next steps would only fail more
		}
		// Let every agent come back to idle before the next step.
		time.Sleep(500 * time.Millisecond)
	}
	checkLoadRecords(t, db, callers)
	if n := d.panics.Load(); n > 0 {
		t.Errorf("callcenterd panicked under load: %v", d.lastErr.Load())
	}
	if n := d.errors.Load(); n > 0 {
		t.Logf("callcenterd logged %d errors; last: %v", n, d.lastErr.Load())
	}
	if book.dup > 0 {
		t.Errorf("%d customers were answered by two agents", book.dup)
	}
	printLoadTable(t, cfg, steps)
	if len(steps) == 0 {
		t.Fatal("no step ran")
	}
	if steps[0].failures() > 0 {
		t.Errorf("failures already at the lowest rate %g calls/s: %s", steps[0].rate, steps[0].failedString())
	}
	t.Logf("load test took %s", time.Since(began).Round(time.Second))
}

// checkLoadRecords: after the load, every call placed has exactly one call
// record and all of them are closed (no call stuck in the server), read
// from the database while callcenterd still runs (SQLite WAL readers).
func checkLoadRecords(t *testing.T, db string, callers map[string]bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Errorf("open the database to check records: %v", err)
		return
	}
	defer st.Close()
	var (
		per    map[string]int
		open   int
		result map[callcenter.Result]int
	)
	for {
		recs, err := st.CallRecords(ctx, callcenter.RecordFilter{})
		if err != nil {
			t.Errorf("call records: %v", err)
			return
		}
		per, open, result = map[string]int{}, 0, map[callcenter.Result]int{}
		for _, r := range recs {
			if !callers[r.Caller] {
				continue
			}
			per[r.Caller]++
			if r.EndedAt.IsZero() {
				open++
			} else {
				result[r.Result]++
			}
		}
		if open == 0 || ctx.Err() != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	missing, twice := 0, 0
	for c := range callers {
		switch n := per[c]; {
		case n == 0:
			missing++
		case n > 1:
			twice++
		}
	}
	t.Logf("call records: %d calls placed, %d recorded, results %v, still open %d", len(callers), len(per), result, open)
	if open > 0 {
		t.Errorf("%d call records still open 20 s after the load: calls stuck in the server", open)
	}
	if missing > 0 || twice > 0 {
		t.Errorf("records: %d calls without a record, %d with more than one", missing, twice)
	}
}

// summarizeStep classifies each call: an agent answered it (success), or it
// failed — refused by the center ("sip486"…), no final answer ("nostatus"),
// IVR answered but no agent ever did ("noagent"), it lived until the
// customer's hold cap ("stuck"), or an agent answered but in the call's
// last second the customer did not hear the agent's 1 kHz ("mute") or the
// agent did not hear the customer's 1.5 kHz ("deaf").
func summarizeStep(rate float64, rep pstnsim.Report, book *answerBook, talk time.Duration) loadStep {
	st := loadStep{rate: rate, placed: rep.Placed, failed: map[string]int{}}
	var lat, bye []time.Duration
	for _, c := range rep.Calls {
		a, ok := book.get(c.From)
		switch {
		case !c.Answered && c.Status == 0:
			st.failed["nostatus"]++
		case !c.Answered:
			st.failed[fmt.Sprintf("sip%d", c.Status)]++
		case c.Heard.Duration >= loadHoldCap-time.Second:
			st.failed["stuck"]++
		case !ok:
			st.failed["noagent"]++
		default:
			lat = append(lat, a.at.Sub(c.Start))
			// The center answers the customer within milliseconds of the
			// INVITE (the IVR), so Start + answered time is when the
			// customer's call ended.
			if !a.hungUp.IsZero() {
				bye = append(bye, c.Start.Add(c.Heard.Duration).Sub(a.hungUp))
			}
			st.audioSeen++
			if a.heardCaller {
				st.agentHeard++
			}
			// A call whose customer did not hear the agent is not a
			// working call, whatever SIP says.
			if c.Heard.Freq < loadAgentFreq-50 || c.Heard.Freq > loadAgentFreq+50 {
				st.failed["mute"]++
				continue
			}
			st.audioOK++
			if !a.heardCaller {
				st.failed["deaf"]++ // the agent did not hear the customer
				continue
			}
			st.answered++
		}
	}
	if len(lat) > 0 {
		st.p50, st.p99 = percentile(lat, 0.5), percentile(lat, 0.99)
		st.max = percentile(lat, 1)
	}
	if len(bye) > 0 {
		st.byeP50, st.byeP99 = percentile(bye, 0.5), percentile(bye, 0.99)
	}
	return st
}

func printLoadTable(t *testing.T, cfg loadConfig, steps []loadStep) {
	var b strings.Builder
	fmt.Fprintf(&b, "\ninbound load: %d agents (PCMU), IVR → 1 → sales → auto-answer → talk %s → agent hangs up; server = callcenterd child process\n", cfg.agents, cfg.talk)
	fmt.Fprintf(&b, "%7s %6s %8s %-22s %8s %8s %8s %8s %8s %9s %9s %7s %7s %7s  %s\n",
		"calls/s", "placed", "answered", "failed", "p50", "p99", "max", "bye_p50", "bye_p99", "cust_aud", "agent_aud", "srv_cpu", "gen_cpu", "srv_rss", "udp drops sip/srv-rtp/other")
	for _, s := range steps {
		fmt.Fprintf(&b, "%7g %6d %8d %-22s %8s %8s %8s %8s %8s %4d/%-4d %4d/%-4d %6.0f%% %6.0f%% %5.0fMB  %d/%d/%d\n",
			s.rate, s.placed, s.answered, s.failedString(),
			s.p50.Round(time.Millisecond), s.p99.Round(time.Millisecond), s.max.Round(time.Millisecond),
			s.byeP50.Round(time.Millisecond), s.byeP99.Round(time.Millisecond),
			s.audioOK, s.audioSeen, s.agentHeard, s.audioSeen, s.serverCPU, s.genCPU, s.rssMB, s.drops.sip, s.drops.serverRTP, s.drops.others)
	}
	knee := "not reached"
	for i, s := range steps {
		if s.failures() > 0 {
			if i > 0 {
				knee = fmt.Sprintf("between %g and %g calls/s (last clean step %g)", steps[i-1].rate, s.rate, steps[i-1].rate)
			} else {
				knee = fmt.Sprintf("at or below %g calls/s", s.rate)
			}
			break
		}
	}
	fmt.Fprintf(&b, "knee: %s; p50/p99/max run from the customer's INVITE to the agent's answer (include the %s DTMF delay);\n", knee, loadDTMFDelay)
	fmt.Fprintf(&b, "bye: the agent's hang-up to the customer's call ending; audio: the customer heard the agent in the call's last second / the agent heard the customer;\n")
	fmt.Fprintf(&b, "cpu: %% of one core over the step; udp drops: receive-buffer drops of callcenterd's SIP socket / its RTP sockets / every other socket on the machine\n")
	t.Log(b.String())
}
