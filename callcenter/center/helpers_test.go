package center

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/agentphone/agentphone/audio"
	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/pstnsim"
	"github.com/agentphone/agentphone/callcenter/sipedge"
	"github.com/agentphone/agentphone/callcenter/store"
	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"
)

const testRealm = "test.center"

func testLogger() *slog.Logger {
	if os.Getenv("CENTER_DEBUG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// fakeClock is the center's clock: real time passing moves it (SIP and
// media run in real time, and queue waits measured across them must add
// up), and Advance jumps it ahead for the timers (ACW, maximum wait).
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	start time.Time // real time at t
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{t: t, start: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t.Add(time.Since(c.start))
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// recSink records what the center pushes.
type recSink struct {
	mu       sync.Mutex
	statuses map[string][]callcenter.AgentStatus
	figures  map[string]callcenter.AgentFigures
	groups   map[string][]callcenter.GroupFigures
	offers   map[string][]callcenter.ScreenPop
	missed   map[string][]callcenter.Offer
	notices  map[string][]callcenter.Notice
	// offerLog is every offer in order, for the strategy tests.
	offerLog []offered
	changed  chan struct{}
}

type offered struct {
	agent string
	pop   callcenter.ScreenPop
}

func newRecSink() *recSink {
	return &recSink{statuses: map[string][]callcenter.AgentStatus{}, figures: map[string]callcenter.AgentFigures{},
		groups: map[string][]callcenter.GroupFigures{}, offers: map[string][]callcenter.ScreenPop{},
		missed: map[string][]callcenter.Offer{}, notices: map[string][]callcenter.Notice{}, changed: make(chan struct{}, 1)}
}

func (s *recSink) poke() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

func (s *recSink) Status(a string, st callcenter.AgentStatus) {
	s.mu.Lock()
	s.statuses[a] = append(s.statuses[a], st)
	s.mu.Unlock()
	s.poke()
}
func (s *recSink) Figures(a string, f callcenter.AgentFigures) {
	s.mu.Lock()
	s.figures[a] = f
	s.mu.Unlock()
}
func (s *recSink) Groups(a string, g []callcenter.GroupFigures) {
	s.mu.Lock()
	s.groups[a] = g
	s.mu.Unlock()
	s.poke()
}
func (s *recSink) Offer(a string, p callcenter.ScreenPop) {
	s.mu.Lock()
	s.offers[a] = append(s.offers[a], p)
	s.offerLog = append(s.offerLog, offered{a, p})
	s.mu.Unlock()
	s.poke()
}
func (s *recSink) Missed(a string, o callcenter.Offer) {
	s.mu.Lock()
	s.missed[a] = append(s.missed[a], o)
	s.mu.Unlock()
}
func (s *recSink) Notice(a string, n callcenter.Notice) {
	s.mu.Lock()
	s.notices[a] = append(s.notices[a], n)
	s.mu.Unlock()
	s.poke()
}

// waitFor polls cond (under the sink's lock) until it holds or 10 s pass.
func (s *recSink) waitFor(t *testing.T, what string, cond func(s *recSink) bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		s.mu.Lock()
		ok := cond(s)
		s.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-s.changed:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func (s *recSink) last(agent string) callcenter.AgentStatus {
	l := s.statuses[agent]
	if len(l) == 0 {
		return callcenter.AgentStatus{}
	}
	return l[len(l)-1]
}

// tones are fake prompts: each a short tone, music a loop at 500 Hz.
type tones struct{}

func (tones) Samples(name string, rate int) ([]int16, int, error) {
	pcm := make([]int16, 8000/5) // 200 ms
	audio.NewTone(400, 0.3, 8000).Read(pcm)
	return pcm, 8000, nil
}

func (tones) Music(rate int) (audio.Source, int, error) {
	return audio.NewTone(500, 0.3, 8000), 8000, nil
}

// notifyRecords passes records to the store and signals each end.
type notifyRecords struct {
	*store.SQLite
	ended chan callcenter.CallRecord
}

func (n *notifyRecords) EndCallRecord(ctx context.Context, r callcenter.CallRecord) error {
	err := n.SQLite.EndCallRecord(ctx, r)
	n.ended <- r
	return err
}

func (n *notifyRecords) waitEnded(t *testing.T) callcenter.CallRecord {
	t.Helper()
	select {
	case r := <-n.ended:
		got, err := n.CallRecord(context.Background(), r.CallID)
		if err != nil {
			t.Fatalf("stored record %s: %v", r.CallID, err)
		}
		return got
	case <-time.After(15 * time.Second):
		t.Fatal("no call ended")
	}
	return callcenter.CallRecord{}
}

// hidingStore is the SQLite store with groups that can be hidden, as if
// deleted (the store has no group deletion yet), for Reload tests.
type hidingStore struct {
	*store.SQLite
	mu     sync.Mutex
	hidden map[string]bool
}

func (h *hidingStore) hide(group string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hidden[group] = true
}

func (h *hidingStore) ListGroups(ctx context.Context) ([]callcenter.SkillGroup, error) {
	gs, err := h.SQLite.ListGroups(ctx)
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []callcenter.SkillGroup
	for _, g := range gs {
		if !h.hidden[g.Name] {
			out = append(out, g)
		}
	}
	return out, err
}

// rig is a center on the real store and SIP edge, pstnsim as the carrier.
type rig struct {
	st    *store.SQLite
	view  *hidingStore // what the center reads
	rec   *notifyRecords
	clock *fakeClock
	sink  *recSink
	c     *Center
	edge  *sipedge.Edge
	sim   *pstnsim.Sim
}

type setup struct {
	groups  []callcenter.SkillGroup
	members []callcenter.Member
	menus   []callcenter.IVRMenu
	// numbers: e164 -> route (ivr:NAME, group:NAME or agent:WN)
	numbers map[string]string
	agents  []string
	opts    []Option // more Center options
}

func newRig(t *testing.T, s setup) *rig {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, wn := range s.agents {
		if _, err := st.CreateAgent(ctx, callcenter.Agent{WorkNumber: wn, Name: "Agent " + wn, PasswordHash: "x",
			HA1MD5:    callcenter.DigestHA1(callcenter.DigestMD5, wn, testRealm, "pw"+wn),
			HA1SHA256: callcenter.DigestHA1(callcenter.DigestSHA256, wn, testRealm, "pw"+wn)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range s.menus {
		if _, err := st.PutIVRMenu(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	// Groups overflowing into others go last.
	for pass := 0; pass < 2; pass++ {
		for _, g := range s.groups {
			if (g.Overflow == callcenter.OverflowGroup) != (pass == 1) {
				continue
			}
			if _, err := st.CreateGroup(ctx, g); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, m := range s.members {
		if err := st.SetMember(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	for e164, route := range s.numbers {
		if _, err := st.CreateNumber(ctx, callcenter.Number{E164: e164, Name: "n" + e164}); err != nil {
			t.Fatal(err)
		}
		var ivr, group, ag string
		switch {
		case len(route) > 4 && route[:4] == "ivr:":
			ivr = route[4:]
		case len(route) > 6 && route[:6] == "group:":
			group = route[6:]
		case len(route) > 6 && route[:6] == "agent:":
			ag = route[6:]
		}
		if err := st.SetNumberRoute(ctx, e164, ivr, group, ag); err != nil {
			t.Fatal(err)
		}
	}
	r := &rig{st: st, rec: &notifyRecords{SQLite: st, ended: make(chan callcenter.CallRecord, 100)},
		clock: newFakeClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.Local)), sink: newRecSink(),
		view: &hidingStore{SQLite: st, hidden: map[string]bool{}}}
	opts := append([]Option{WithLogger(testLogger()), WithClock(r.clock.Now), WithEvents(r.sink), WithPrompts(tones{}), WithTick(20 * time.Millisecond)}, s.opts...)
	r.c, err = New(r.view, opts...)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		r.c.Run(runCtx)
	}()
	t.Cleanup(func() { stop(); <-ran })

	r.sim, err = pstnsim.New(pstnsim.WithLogger(testLogger()))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.sim.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.sim.Close() })
	r.edge, err = sipedge.New(st, r.rec, sipedge.WithLogger(testLogger()), sipedge.WithRealm(testRealm),
		sipedge.WithTrunk(r.sim.Addr()), sipedge.WithInbound(r.c.HandleInbound), sipedge.WithAgentActivity(r.c.AgentActivity))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.edge.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.edge.Close() })
	if err := r.sim.SetServer(r.edge.Addr()); err != nil {
		t.Fatal(err)
	}
	return r
}

// online signs the agent in and sets it idle, then lets the fake clock
// move so agents signed in one after the other have distinct idle times.
func (r *rig) online(t *testing.T, wn string) {
	t.Helper()
	r.c.Login(wn)
	idle := callcenter.PhoneIdle
	if _, err := r.c.ChangeStatus(context.Background(), wn, callcenter.StatusChange{Phone: &idle}); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(time.Second)
}

func (r *rig) call(t *testing.T, from, to string) *pstnsim.Call {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := r.sim.Call(context.Background(), from, to, pstnsim.CallOptions{})
	_ = ctx
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// agentPhone is an agent's SIP phone (a diago UA) registered to the edge.
type agentPhone struct {
	wn     string
	dg     *diago.Diago
	offers chan *sip.Request
	heard  chan bool
}

// behaviours of an agent's phone.
type behaviour int

const (
	ringOnly   behaviour = iota // rings until cancelled
	answerTone                  // answers, sends its tone, listens for the customer
	decline                     // 603
)

// agentTone is the frequency each test agent speaks at.
const agentTone = 600.0

func (r *rig) phone(t *testing.T, wn string, b behaviour) *agentPhone {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := conn.LocalAddr().(*net.UDPAddr).Port
	conn.Close()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(wn), sipgo.WithUserAgentHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	p := &agentPhone{wn: wn, offers: make(chan *sip.Request, 16), heard: make(chan bool, 16)}
	p.dg = diago.NewDiago(ua, diago.WithLogger(testLogger()),
		diago.WithMediaConfig(diago.MediaConfig{Codecs: []media.Codec{media.CodecAudioOpus, media.CodecAudioUlaw, media.CodecTelephoneEvent8000}}),
		diago.WithTransport(diago.Transport{Transport: "udp", BindHost: "127.0.0.1", BindPort: port}))
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	handlers := sync.WaitGroup{}
	go func() {
		defer close(served)
		p.dg.Serve(ctx, func(d *diago.DialogServerSession) {
			handlers.Add(1)
			defer handlers.Done()
			p.offers <- d.InviteRequest
			switch b {
			case decline:
				d.Respond(603, "Decline", nil)
				return
			case ringOnly:
				d.Ringing()
				select { // a failed test closes the phone mid-call
				case <-d.Context().Done():
				case <-ctx.Done():
				}
				return
			}
			d.Ringing()
			if err := d.Answer(); err != nil {
				return
			}
			stop := make(chan struct{})
			sent := make(chan struct{})
			go func() {
				defer close(sent)
				sendTone(d.RTPSession(), 96, agentTone, stop)
			}()
			p.heard <- listenForTone(d.RTPSession(), 96, pstnsim.DefaultVoiceFreq)
			select {
			case <-d.Context().Done():
			case <-ctx.Done():
			}
			close(stop)
			<-sent
		})
	}()
	t.Cleanup(func() {
		cancel()
		ua.Close()
		<-served
		handlers.Wait()
	})
	time.Sleep(50 * time.Millisecond) // the listener is up
	host, eport, _ := sip.ParseAddr(r.edge.Addr())
	rctx, rcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer rcancel()
	rt, err := p.dg.RegisterTransaction(rctx, sip.Uri{Scheme: "sip", User: wn, Host: host, Port: eport},
		diago.RegisterOptions{Username: wn, Password: "pw" + wn, Expiry: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Register(rctx); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *agentPhone) waitOffer(t *testing.T) *sip.Request {
	t.Helper()
	select {
	case r := <-p.offers:
		return r
	case <-time.After(10 * time.Second):
		t.Fatalf("no offer reached %s", p.wn)
	}
	return nil
}

type rtpRW interface {
	ReadRTP([]byte, *rtp.Packet) (int, error)
	WriteRTP(*rtp.Packet) error
}

// sendTone sends a tone in Opus every 20 ms until stop.
func sendTone(w rtpRW, pt uint8, freq float64, stop <-chan struct{}) {
	codec := audio.Opus
	enc, err := codec.NewEncoder()
	if err != nil {
		return
	}
	tone := audio.NewTone(freq, 0.3, codec.SampleRate())
	pcm := make([]int16, codec.FrameSamples())
	buf := make([]byte, 1500)
	pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SSRC: 0x4321}}
	tick := time.NewTicker(audio.FrameDuration)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		tone.Read(pcm)
		n, err := enc.Encode(pcm, buf)
		if err != nil {
			return
		}
		pkt.Payload = buf[:n]
		if w.WriteRTP(pkt) != nil {
			return
		}
		pkt.SequenceNumber++
		pkt.Timestamp += uint32(codec.FrameSamples() * codec.ClockRate() / codec.SampleRate())
	}
}

// listenForTone reads Opus RTP for up to 5 s and reports whether 200 ms in
// a row carry the tone.
func listenForTone(r rtpRW, pt uint8, freq float64) bool {
	codec := audio.Opus
	dec, err := codec.NewDecoder()
	if err != nil {
		return false
	}
	deadline := time.Now().Add(5 * time.Second)
	buf := make([]byte, 1500)
	pcm := make([]int16, codec.FrameSamples()*3)
	var window []int16
	for time.Now().Before(deadline) {
		var pkt rtp.Packet
		if _, err := r.ReadRTP(buf, &pkt); err != nil {
			return false
		}
		if pkt.PayloadType != pt {
			continue
		}
		n, err := dec.Decode(pkt.Payload, pcm)
		if err != nil {
			continue
		}
		window = append(window, pcm[:n]...)
		if w := codec.SampleRate() / 5; len(window) >= w {
			if audio.DetectTone(window[len(window)-w:], codec.SampleRate(), freq) {
				return true
			}
			window = window[len(window)-w:]
		}
	}
	return false
}

// heardSome reports whether any 200 ms window of 8 kHz pcm is dominated by
// freq.
func heardSome(pcm []int16, freq float64) bool {
	const w = 1600
	for i := 0; i+w <= len(pcm); i += w / 2 {
		if audio.DetectTone(pcm[i:i+w], 8000, freq) {
			return true
		}
	}
	return false
}

var errTimeout = errors.New("timeout")

// quiet checks that nothing is left of the calls: no call queued in the
// center or the ACD, no agent ringing or tied to a call.
func (r *rig) quiet(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.c.mu.Lock()
		var stuck []string
		for id := range r.c.calls {
			stuck = append(stuck, "queued "+id)
		}
		for name := range r.c.groups {
			if n, _ := r.c.q.Waiting(name); n > 0 {
				stuck = append(stuck, "ACD queue "+name)
			}
		}
		for wn, a := range r.c.agents {
			if st := a.m.Status(); a.call != "" || st.Activity == callcenter.ActivityRinging || st.Activity == callcenter.ActivityTalking {
				stuck = append(stuck, "agent "+wn+" on "+a.call+" "+st.Activity.String())
			}
		}
		r.c.mu.Unlock()
		if len(stuck) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("left behind: %v", stuck)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// recordsOnce checks that the records table holds exactly the calls
// ended, each once.
func (r *rig) recordsOnce(t *testing.T, calls int) []callcenter.CallRecord {
	t.Helper()
	recs, err := r.st.CallRecords(context.Background(), callcenter.RecordFilter{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, rec := range recs {
		if seen[rec.CallID] {
			t.Errorf("call %s recorded twice", rec.CallID)
		}
		seen[rec.CallID] = true
		if rec.EndedAt.IsZero() {
			t.Errorf("call %s never ended: %+v", rec.CallID, rec)
		}
	}
	if len(recs) != calls {
		t.Errorf("%d records, want %d: %+v", len(recs), calls, recs)
	}
	return recs
}
