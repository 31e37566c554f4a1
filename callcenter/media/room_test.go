package media

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentphone/agentphone/audio"
	"github.com/pion/rtp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// settle is how long a test lets audio flow before it listens: the room's
// jitter buffer, the resamplers' delay and the first packets.
const settle = 200 * time.Millisecond

// listen discards what ph received so far, lets audio flow for d and
// returns what arrived meanwhile.
func listen(ph *phone, d time.Duration) []int16 {
	ph.take()
	time.Sleep(d)
	return ph.take()
}

// ratio returns the share of the power of pcm at freq.
func ratio(pcm []int16, rate int, freq float64) float64 {
	return audio.ToneDetector{Rate: rate, Freq: freq}.Ratio(pcm)
}

// expectTones checks that pcm carries each of want (each at least share
// of the power) and none of absent (each under 2%).
func expectTones(t *testing.T, who string, pcm []int16, rate int, share float64, want, absent []float64) {
	t.Helper()
	if len(pcm) < rate/10 {
		t.Errorf("%s: only %d samples received", who, len(pcm))
		return
	}
	if audio.DBFS(pcm) < -40 {
		t.Errorf("%s: received audio at %.1f dBFS, want a tone", who, audio.DBFS(pcm))
	}
	for _, f := range want {
		if r := ratio(pcm, rate, f); r < share {
			t.Errorf("%s: %v Hz holds %.2f of the power, want >= %.2f", who, f, r, share)
		}
	}
	for _, f := range absent {
		if r := ratio(pcm, rate, f); r > 0.02 {
			t.Errorf("%s: %v Hz holds %.3f of the power, want it absent (echo or leak)", who, f, r)
		}
	}
}

func codec(t testing.TB, name string) audio.Codec {
	t.Helper()
	c, err := audio.CodecByName(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// start runs the phones until the test ends and closes the room first.
func start(t *testing.T, r *Room, phones ...*phone) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var waits []func()
	for _, ph := range phones {
		waits = append(waits, ph.run(ctx))
	}
	t.Cleanup(func() {
		cancel()
		if err := r.Close(); err != nil {
			t.Error(err)
		}
		for _, w := range waits {
			w()
		}
	})
}

func join(t *testing.T, r *Room, cfg ParticipantConfig) *Participant {
	t.Helper()
	p, err := r.Join(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTwoPartyBridge(t *testing.T) {
	tests := []struct {
		name            string
		customer, agent string
		custPT, agentPT uint8
		wantRate        int
		custHz, agentHz float64
	}{
		{"PCMU to PCMU", "PCMU", "PCMU", 0, 0, 8000, 1000, 1500},
		{"PCMA to PCMU", "PCMA", "PCMU", 8, 0, 8000, 1000, 1500},
		// One Opus leg has no wideband peer: the room stays at 8 kHz
		// and the leg's Opus runs at 8 kHz (opusnb.go).
		{"Opus to PCMU", "PCMU", "opus", 0, 111, 8000, 1000, 1500},
		{"Opus to Opus", "opus", "opus", 111, 111, 48000, 1000, 1500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := NewRoom("bridge")
			cust := newPhone(t, "customer", codec(t, tt.customer), tt.custPT)
			agent := newPhone(t, "agent:1001", codec(t, tt.agent), tt.agentPT)
			cust.setSource(audio.NewTone(tt.custHz, 0.3, cust.codec.SampleRate()))
			agent.setSource(audio.NewTone(tt.agentHz, 0.3, agent.codec.SampleRate()))
			cp := join(t, r, cust.config(true, Hear("agent:1001")))
			ap := join(t, r, agent.config(true, HearAll))
			if got := r.Rate(); got != tt.wantRate {
				t.Errorf("room rate = %d, want %d", got, tt.wantRate)
			}
			start(t, r, cust, agent)
			time.Sleep(settle)
			expectTones(t, "customer", listen(cust, 400*time.Millisecond), cust.codec.SampleRate(), 0.8,
				[]float64{tt.agentHz}, []float64{tt.custHz})
			expectTones(t, "agent", listen(agent, 400*time.Millisecond), agent.codec.SampleRate(), 0.8,
				[]float64{tt.custHz}, []float64{tt.agentHz})
			for _, p := range []*Participant{cp, ap} {
				st := p.Stats()
				if st.PacketsIn < 20 || st.PacketsOut < 20 {
					t.Errorf("%s stats %+v: too few packets", p.Name(), st)
				}
			}
			checkStream(t, "customer", cust.allHeaders(), cust.pt, uint32(cust.codec.ClockRate()/50))
			checkStream(t, "agent", agent.allHeaders(), agent.pt, uint32(agent.codec.ClockRate()/50))
		})
	}
}

// checkStream verifies the RTP the room sent: one SSRC, the negotiated
// PT, consecutive sequence numbers, timestamps one frame apart, marker on
// the first packet only.
func checkStream(t *testing.T, who string, hs []rtpHeader, pt uint8, step uint32) {
	t.Helper()
	if len(hs) == 0 {
		t.Errorf("%s: no packets", who)
		return
	}
	if !hs[0].Marker {
		t.Errorf("%s: first packet has no marker", who)
	}
	for i := 1; i < len(hs); i++ {
		a, b := hs[i-1], hs[i]
		switch {
		case b.SSRC != a.SSRC:
			t.Errorf("%s: SSRC changed at packet %d", who, i)
		case b.PayloadType != pt:
			t.Errorf("%s: PT %d at packet %d, want %d", who, b.PayloadType, i, pt)
		case b.SequenceNumber != a.SequenceNumber+1:
			// Loopback UDP does not reorder; a jump is the room's bug.
			t.Errorf("%s: seq %d after %d", who, b.SequenceNumber, a.SequenceNumber)
		case b.Timestamp != a.Timestamp+step:
			t.Errorf("%s: ts %d after %d, want +%d", who, b.Timestamp, a.Timestamp, step)
		case b.Marker:
			t.Errorf("%s: marker at packet %d without a gap", who, i)
		default:
			continue
		}
		return
	}
}

func TestThreePartyAllHearAll(t *testing.T) {
	r := NewRoom("three")
	freqs := []float64{700, 1100, 1500}
	names := []string{"customer", "agent:1001", "agent:1002"}
	codecs := []string{"PCMU", "opus", "PCMA"}
	pts := []uint8{0, 111, 8}
	var phones []*phone
	for i := range names {
		ph := newPhone(t, names[i], codec(t, codecs[i]), pts[i])
		ph.setSource(audio.NewTone(freqs[i], 0.2, ph.codec.SampleRate()))
		join(t, r, ph.config(true, HearAll))
		phones = append(phones, ph)
	}
	start(t, r, phones...)
	time.Sleep(settle)
	for i, ph := range phones {
		var want []float64
		for j, f := range freqs {
			if j != i {
				want = append(want, f)
			}
		}
		expectTones(t, ph.name, listen(ph, 400*time.Millisecond), ph.codec.SampleRate(), 0.2,
			want, []float64{freqs[i]})
	}
}

// TestHoldAndMonitor walks one call through the room operations that
// change hear sets and speak flags: talk, hold, resume, monitor, barge.
func TestHoldAndMonitor(t *testing.T) {
	const custHz, agentHz, musicHz, supHz = 1000, 1500, 440, 700
	r := NewRoom("call")
	cust := newPhone(t, "customer", codec(t, "PCMU"), 0)
	agent := newPhone(t, "agent:1001", codec(t, "opus"), 111)
	sup := newPhone(t, "supervisor", codec(t, "opus"), 111)
	cust.setSource(audio.NewTone(custHz, 0.3, 8000))
	agent.setSource(audio.NewTone(agentHz, 0.3, 48000))
	sup.setSource(audio.NewTone(supHz, 0.3, 48000))
	cp := join(t, r, cust.config(true, Hear("agent:1001")))
	ap := join(t, r, agent.config(true, Hear("customer")))
	start(t, r, cust, agent, sup)
	time.Sleep(settle)
	expectTones(t, "customer talking", listen(cust, 300*time.Millisecond), 8000, 0.8, []float64{agentHz}, []float64{custHz})

	// Hold: the customer hears music only, the agent hears nothing.
	music := join(t, r, ParticipantConfig{Name: "music", Source: audio.NewTone(musicHz, 0.3, 48000), Speaks: true})
	cp.SetHears(Hear("music"))
	cp.SetSpeaks(false)
	ap.SetHears(HearNone)
	time.Sleep(100 * time.Millisecond)
	before := agent.packets()
	expectTones(t, "customer on hold", listen(cust, 300*time.Millisecond), 8000, 0.8, []float64{musicHz}, []float64{agentHz, custHz})
	if n := agent.packets() - before; n > 1 {
		t.Errorf("agent on hold received %d packets, want none", n)
	}

	// Resume: the first packet to the agent after the gap has the marker.
	music.Leave()
	cp.SetHears(Hear("agent:1001"))
	cp.SetSpeaks(true)
	mark := len(agent.allHeaders())
	ap.SetHears(Hear("customer"))
	time.Sleep(settle)
	all := agent.allHeaders()
	if hs := all[mark:]; len(hs) == 0 || !hs[0].Marker || mark == 0 {
		t.Errorf("first packet after hold: %+v, want marker set", hs[:min(1, len(hs))])
	} else {
		// The sequence runs on, the timestamp jumps by the time spent
		// on hold, in whole frames.
		last, first := all[mark-1], hs[0]
		const step = 960
		if first.SequenceNumber != last.SequenceNumber+1 {
			t.Errorf("seq %d after hold, last before %d", first.SequenceNumber, last.SequenceNumber)
		}
		if d := first.Timestamp - last.Timestamp; d%step != 0 || d < 10*step {
			t.Errorf("timestamp advanced %d over a >300 ms hold, want whole frames of %d", d, step)
		}
	}
	expectTones(t, "agent resumed", listen(agent, 300*time.Millisecond), 48000, 0.8, []float64{custHz}, []float64{agentHz})

	// Monitor: the supervisor hears both sides and nobody hears it.
	sp := join(t, r, sup.config(false, HearAll))
	time.Sleep(settle)
	expectTones(t, "supervisor monitoring", listen(sup, 400*time.Millisecond), 48000, 0.2, []float64{custHz, agentHz}, []float64{supHz})
	expectTones(t, "customer monitored", listen(cust, 300*time.Millisecond), 8000, 0.8, []float64{agentHz}, []float64{supHz})

	// Barge: the supervisor speaks to both.
	sp.SetSpeaks(true)
	cp.SetHears(HearAll)
	ap.SetHears(HearAll)
	time.Sleep(settle)
	expectTones(t, "customer barged", listen(cust, 400*time.Millisecond), 8000, 0.2, []float64{agentHz, supHz}, []float64{custHz})
	// Force-disconnect: the agent leaves, the supervisor keeps the customer.
	ap.Leave()
	time.Sleep(settle)
	expectTones(t, "customer after force-disconnect", listen(cust, 300*time.Millisecond), 8000, 0.8, []float64{supHz}, []float64{agentHz, custHz})
	if got := len(r.Participants()); got != 2 {
		t.Errorf("%d participants after the agent left, want 2", got)
	}
}

func TestLossAndReordering(t *testing.T) {
	tests := []struct {
		name     string
		codec    string
		pt       uint8
		mangle   func(i int) (drop, delay bool)
		wantLost bool
	}{
		{"PCMU 10% loss", "PCMU", 0, func(i int) (bool, bool) { return i%10 == 5, false }, true},
		{"opus 10% loss", "opus", 111, func(i int) (bool, bool) { return i%10 == 5, false }, true},
		{"PCMU one in four 20 ms late", "PCMU", 0, func(i int) (bool, bool) { return false, i%4 == 1 }, false},
		{"opus one in four 20 ms late", "opus", 111, func(i int) (bool, bool) { return false, i%4 == 1 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := NewRoom("lossy")
			cust := newPhone(t, "customer", codec(t, tt.codec), tt.pt)
			agent := newPhone(t, "agent", codec(t, "PCMU"), 0)
			cust.setSource(audio.NewTone(1000, 0.3, cust.codec.SampleRate()))
			cust.mangle = tt.mangle
			cp := join(t, r, cust.config(true, HearAll))
			join(t, r, agent.config(false, HearAll))
			start(t, r, cust, agent)
			time.Sleep(settle)
			adapted := cp.Stats()
			got := listen(agent, 600*time.Millisecond)
			expectTones(t, "agent", got, 8000, 0.7, []float64{1000}, nil)
			st := cp.Stats()
			if tt.wantLost && (st.Lost == 0 || st.Concealed == 0) {
				t.Errorf("stats %+v: want losses counted and concealed", st)
			}
			// One packet in four arrives 20 ms late, after its successor.
			// The first late ones may be lost while the room's buffer
			// (20 ms to start with) grows; once it has, none may be. A
			// buffer that did not adapt would lose ~8 here; allow one for
			// a scheduling hiccup on a loaded host.
			if lost := st.Late + st.Lost - adapted.Late - adapted.Lost; !tt.wantLost && lost > 1 {
				t.Errorf("stats %+v (%+v after settling): %d late packets lost after the buffer adapted", st, adapted, lost)
			}
		})
	}
}

func TestRoomRateFollowsCodecs(t *testing.T) {
	r := NewRoom("rate")
	defer r.Close()
	a := newPhone(t, "a", codec(t, "PCMU"), 0)
	b := newPhone(t, "b", codec(t, "PCMA"), 8)
	c := newPhone(t, "c", codec(t, "opus"), 111)
	join(t, r, a.config(true, HearAll))
	join(t, r, ParticipantConfig{Name: "music", Source: audio.Silence{}, Speaks: true})
	join(t, r, b.config(true, HearAll))
	if got := r.Rate(); got != 8000 {
		t.Fatalf("G.711-only rate = %d, want 8000 (a 48 kHz source must not raise it)", got)
	}
	cp := join(t, r, c.config(true, HearAll))
	if got := r.Rate(); got != 8000 {
		t.Fatalf("rate with one opus leg = %d, want 8000 (nobody wideband to hear it)", got)
	}
	d := newPhone(t, "d", codec(t, "opus"), 111)
	dp := join(t, r, d.config(true, HearAll))
	if got := r.Rate(); got != 48000 {
		t.Fatalf("rate with two opus legs = %d, want 48000", got)
	}
	dp.Leave()
	if got := r.Rate(); got != 8000 {
		t.Fatalf("rate after the second opus leg left = %d, want 8000", got)
	}
	cp.Leave()
	if got := r.Rate(); got != 8000 {
		t.Fatalf("rate after opus left = %d, want 8000", got)
	}
}

func TestJoinErrors(t *testing.T) {
	r := NewRoom("errors")
	ph := newPhone(t, "a", codec(t, "PCMU"), 0)
	join(t, r, ph.config(true, HearAll))
	ph2 := newPhone(t, "b", codec(t, "PCMU"), 0)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		cfg  ParticipantConfig
		want error
	}{
		{"duplicate name", context.Background(), ph2.config(true, HearAll), nil},
		{"no name", context.Background(), ParticipantConfig{Source: audio.Silence{}}, ErrBadConfig},
		{"nothing set", context.Background(), ParticipantConfig{Name: "x"}, ErrBadConfig},
		{"conn and source", context.Background(), ParticipantConfig{Name: "x", Conn: ph2.conn, Codec: audio.PCMU, Source: audio.Silence{}}, ErrBadConfig},
		{"conn without codec", context.Background(), ParticipantConfig{Name: "x", Conn: ph2.conn}, ErrBadConfig},
		{"source that hears", context.Background(), ParticipantConfig{Name: "x", Source: audio.Silence{}, Hears: HearAll}, ErrBadConfig},
		{"sink that speaks", context.Background(), ParticipantConfig{Name: "x", Sink: audio.NewVirtualDevice(nil), Speaks: true}, ErrBadConfig},
		{"cancelled context", cancelled, ParticipantConfig{Name: "x", Source: audio.Silence{}}, context.Canceled},
	}
	tests[0].cfg.Name = "a"
	tests[0].want = ErrDuplicateName
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := r.Join(tt.ctx, tt.cfg); !errors.Is(err, tt.want) {
				t.Fatalf("Join err = %v, want %v", err, tt.want)
			}
		})
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Join(context.Background(), ParticipantConfig{Name: "late", Source: audio.Silence{}}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Join after Close err = %v, want ErrClosed", err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestContextEndsParticipant: a leg joined with a call's context leaves
// when the call ends.
func TestContextEndsParticipant(t *testing.T) {
	r := NewRoom("ctx")
	defer r.Close()
	ph := newPhone(t, "a", codec(t, "PCMU"), 0)
	ctx, cancel := context.WithCancel(context.Background())
	join(t, r, ParticipantConfig{Name: "keep", Source: audio.Silence{}})
	p, err := r.Join(ctx, ph.config(true, HearAll))
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	deadline := time.Now().Add(2 * time.Second)
	for r.Participant("a") != nil {
		if time.Now().After(deadline) {
			t.Fatal("participant still in the room after its context ended")
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.Leave() // idempotent
}

// TestTransferMovesConn: the same RTPConn leaves one room and joins
// another (transfer); the first room's reader must have let go of it.
func TestTransferMovesConn(t *testing.T) {
	r1, r2 := NewRoom("first"), NewRoom("second")
	cust := newPhone(t, "customer", codec(t, "PCMU"), 0)
	agent := newPhone(t, "agent", codec(t, "PCMU"), 0)
	cust.setSource(audio.NewTone(1000, 0.3, 8000))
	cp := join(t, r1, cust.config(true, HearAll))
	join(t, r1, ParticipantConfig{Name: "music", Source: audio.NewTone(440, 0.3, 48000), Speaks: true})
	start(t, r2, cust, agent)
	defer r1.Close()
	time.Sleep(settle)
	expectTones(t, "customer in queue", listen(cust, 200*time.Millisecond), 8000, 0.8, []float64{440}, nil)
	cp.Leave()
	ap := join(t, r2, agent.config(true, HearAll))
	cp2 := join(t, r2, cust.config(true, HearAll))
	time.Sleep(settle)
	expectTones(t, "agent after transfer", listen(agent, 300*time.Millisecond), 8000, 0.8, []float64{1000}, nil)
	if st := cp2.Stats(); st.PacketsIn == 0 {
		t.Fatalf("second room read nothing from the moved conn: %+v", st)
	}
	_ = ap
}

func TestRecorderSink(t *testing.T) {
	r := NewRoom("rec")
	cust := newPhone(t, "customer", codec(t, "PCMU"), 0)
	cust.setSource(audio.NewTone(1000, 0.3, 8000))
	join(t, r, cust.config(true, HearNone))
	rec := audio.NewVirtualDevice(nil, audio.WithoutPacing())
	join(t, r, ParticipantConfig{Name: "recorder", Sink: rec, Hears: Hear("customer")})
	start(t, r, cust)
	time.Sleep(settle + 300*time.Millisecond)
	got := rec.PlayedLast(250 * time.Millisecond)
	expectTones(t, "recorder", got, audio.DeviceRate, 0.8, []float64{1000}, nil)
}

func TestDTMFReceive(t *testing.T) {
	r := NewRoom("dtmf")
	ph := newPhone(t, "customer", codec(t, "PCMU"), 0)
	got := make(chan string, 16)
	r.OnDTMF(func(p *Participant, d rune) { got <- fmt.Sprintf("%s:%c", p.Name(), d) })
	p := join(t, r, ph.config(true, HearAll))
	start(t, r, ph)
	// Each digit as a sender does it: start packets with growing
	// duration, then the end packet three times.
	ts := uint32(5000)
	seq := uint16(1)
	for _, d := range "19#" {
		ev, _ := DigitEvent(d)
		for i := range 7 {
			e := DTMFEvent{Event: ev, Volume: 10, Duration: uint16(min(i+1, 4)) * 160, End: i >= 4}
			pkt := rtpPacket(101, seq, ts, i == 0, AppendDTMF(nil, e))
			ph.sendRaw(&pkt)
			seq++
		}
		ts += 2000
	}
	var digits []string
	timeout := time.After(2 * time.Second)
	for len(digits) < 3 {
		select {
		case s := <-got:
			digits = append(digits, s)
		case <-timeout:
			t.Fatalf("digits %v, want three", digits)
		}
	}
	want := []string{"customer:1", "customer:9", "customer:#"}
	if fmt.Sprint(digits) != fmt.Sprint(want) {
		t.Fatalf("digits %v, want %v", digits, want)
	}
	select {
	case s := <-got:
		t.Fatalf("extra digit %s: end retransmissions not deduplicated", s)
	case <-time.After(100 * time.Millisecond):
	}
	if st := p.Stats(); st.DTMFIn != 3 || st.PacketsIn != 0 {
		t.Fatalf("stats %+v: want 3 digits and no audio packets (DTMF is not audio)", st)
	}
}

func TestDTMFSend(t *testing.T) {
	r := NewRoom("dtmf-out")
	ivr := newPhone(t, "ivr", codec(t, "PCMU"), 0)
	agent := newPhone(t, "agent", codec(t, "PCMU"), 0)
	agent.setSource(audio.NewTone(1000, 0.3, 8000))
	ip := join(t, r, ivr.config(false, HearAll))
	join(t, r, agent.config(true, HearNone))
	start(t, r, ivr, agent)
	time.Sleep(100 * time.Millisecond)
	for _, d := range "42*" {
		if err := r.SendDTMF(ip, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.SendDTMF(ip, 'x'); !errors.Is(err, ErrBadDigit) {
		t.Fatalf("SendDTMF('x') err = %v, want ErrBadDigit", err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for ip.Stats().DTMFOut < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	var rx dtmfReceiver
	var digits []rune
	evs := ivr.allEvents()
	ends := map[uint32]int{}
	for i, pkt := range evs {
		e, err := ParseDTMF(pkt.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if e.End {
			ends[pkt.Timestamp]++
		}
		if pkt.Marker != (i == 0 || evs[i-1].Timestamp != pkt.Timestamp) {
			t.Errorf("event packet %d: marker %v", i, pkt.Marker)
		}
		if _, _, d, ok := rx.push(pkt.Timestamp, e); ok {
			digits = append(digits, d)
		}
	}
	if string(digits) != "42*" {
		t.Fatalf("IVR got digits %q, want \"42*\"", string(digits))
	}
	for ts, n := range ends {
		if n != dtmfEndPackets {
			t.Errorf("event at ts %d: %d end packets, want %d", ts, n, dtmfEndPackets)
		}
	}
	// The event packets replaced audio in one stream: the sequence
	// numbers run on without a hole.
	checkSeq(t, ivr.allHeaders())
}

func checkSeq(t *testing.T, hs []rtpHeader) {
	t.Helper()
	for i := 1; i < len(hs); i++ {
		if hs[i].SequenceNumber != hs[i-1].SequenceNumber+1 {
			t.Fatalf("seq %d after %d", hs[i].SequenceNumber, hs[i-1].SequenceNumber)
		}
		if hs[i].SSRC != hs[0].SSRC {
			t.Fatalf("SSRC changed at %d", i)
		}
	}
}

// TestDTMFCallbackMayLeaveAndClose: an IVR reacts to a digit by moving
// the caller out of the room and closing it, from inside the callback.
func TestDTMFCallbackMayLeaveAndClose(t *testing.T) {
	r := NewRoom("ivr")
	ph := newPhone(t, "customer", codec(t, "PCMU"), 0)
	done := make(chan struct{})
	r.OnDTMF(func(p *Participant, d rune) {
		p.Leave()
		if err := r.Close(); err != nil {
			t.Error(err)
		}
		close(done)
	})
	join(t, r, ph.config(true, HearAll))
	start(t, r, ph)
	pkt := rtpPacket(101, 1, 160, true, AppendDTMF(nil, DTMFEvent{Event: 1, End: true, Duration: 800}))
	ph.sendRaw(&pkt)
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("callback did not return: Leave or Close deadlocked inside it")
	}
	if n := len(r.Participants()); n != 0 {
		t.Fatalf("%d participants left in a closed room", n)
	}
}

// plainConn hides udpConn's SetReadDeadline: a conn the room cannot
// interrupt.
type plainConn struct{ u *udpConn }

func (c plainConn) ReadRTP(buf []byte, pkt *rtp.Packet) (int, error) { return c.u.ReadRTP(buf, pkt) }
func (c plainConn) WriteRTP(pkt *rtp.Packet) error                   { return c.u.WriteRTP(pkt) }

// TestLeaveUninterruptibleConn: Leave cannot wait for a reader it cannot
// wake, but that reader ends with the next packet and never feeds the
// room again.
func TestLeaveUninterruptibleConn(t *testing.T) {
	r := NewRoom("plain")
	defer r.Close()
	ph := newPhone(t, "a", codec(t, "PCMU"), 0)
	cfg := ph.config(true, HearAll)
	cfg.Conn = plainConn{ph.conn}
	p := join(t, r, cfg)
	left := make(chan struct{})
	go func() { p.Leave(); close(left) }()
	select {
	case <-left:
	case <-time.After(time.Second):
		t.Fatal("Leave blocked on a reader it cannot interrupt")
	}
	pkt := rtpPacket(0, 1, 160, true, make([]byte, 160))
	ph.sendRaw(&pkt)
	select {
	case <-p.readDone:
	case <-time.After(2 * time.Second):
		t.Fatal("reader still running after a packet arrived for a participant that left")
	}
	if st := p.Stats(); st.PacketsIn != 0 {
		t.Fatalf("a participant that left took a packet: %+v", st)
	}
}

// TestOpusJoinsNarrowbandCall: an Opus agent's call with a G.711
// customer runs at 8 kHz; the room switches to 48 kHz under the running
// call when an Opus supervisor joins (the agent's Opus codec moves to
// 48 kHz with it), back when the supervisor leaves, and the call's audio
// goes on throughout.
func TestOpusJoinsNarrowbandCall(t *testing.T) {
	r := NewRoom("switch")
	cust := newPhone(t, "customer", codec(t, "PCMU"), 0)
	agent := newPhone(t, "agent", codec(t, "opus"), 111)
	sup := newPhone(t, "supervisor", codec(t, "opus"), 111)
	cust.setSource(audio.NewTone(1000, 0.3, 8000))
	agent.setSource(audio.NewTone(1500, 0.3, 48000))
	join(t, r, cust.config(true, HearAll))
	join(t, r, agent.config(true, HearAll))
	start(t, r, cust, agent, sup)
	time.Sleep(settle)
	if got := r.Rate(); got != 8000 {
		t.Fatalf("rate = %d with one opus leg, want 8000", got)
	}
	expectTones(t, "agent's opus at 8 kHz", listen(agent, 300*time.Millisecond), 48000, 0.8, []float64{1000}, []float64{1500})
	sp := join(t, r, sup.config(false, HearAll))
	if got := r.Rate(); got != 48000 {
		t.Fatalf("rate = %d after opus joined, want 48000", got)
	}
	time.Sleep(settle)
	expectTones(t, "customer at 48 kHz", listen(cust, 300*time.Millisecond), 8000, 0.8, []float64{1500}, []float64{1000})
	expectTones(t, "agent at 48 kHz", listen(agent, 300*time.Millisecond), 48000, 0.8, []float64{1000}, []float64{1500})
	expectTones(t, "supervisor", listen(sup, 300*time.Millisecond), 48000, 0.2, []float64{1000, 1500}, nil)
	sp.Leave()
	if got := r.Rate(); got != 8000 {
		t.Fatalf("rate = %d after opus left, want 8000", got)
	}
	time.Sleep(100 * time.Millisecond)
	expectTones(t, "customer back at 8 kHz", listen(cust, 300*time.Millisecond), 8000, 0.8, []float64{1500}, []float64{1000})
	expectTones(t, "agent back at 8 kHz", listen(agent, 300*time.Millisecond), 48000, 0.8, []float64{1000}, []float64{1500})
}

// TestCloseStopsGoroutines: Close returns only once the tick loop and
// every reader are gone, legs still joined or not.
func TestCloseStopsGoroutines(t *testing.T) {
	before := goleak.IgnoreCurrent()
	r := NewRoom("close")
	for i, name := range []string{"PCMU", "opus", "PCMA"} {
		ph := newPhone(t, fmt.Sprintf("leg%d", i), codec(t, name), ptFor(name))
		join(t, r, ph.config(true, HearAll))
	}
	join(t, r, ParticipantConfig{Name: "music", Source: audio.NewTone(440, 0.2, 48000), Speaks: true})
	join(t, r, ParticipantConfig{Name: "recorder", Sink: audio.NewVirtualDevice(nil), Hears: HearAll})
	left := join(t, r, ParticipantConfig{Name: "gone", Source: audio.Silence{}})
	left.Leave()
	time.Sleep(60 * time.Millisecond)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	goleak.VerifyNone(t, before)
	if n := len(r.Participants()); n != 0 {
		t.Fatalf("%d participants after Close", n)
	}
}

// TestLeaveAfterConnClosed: the usual hang-up order, the dialog closes
// its socket before the room lets go of the leg.
func TestLeaveAfterConnClosed(t *testing.T) {
	r := NewRoom("hangup")
	defer r.Close()
	ph := newPhone(t, "a", codec(t, "PCMU"), 0)
	p := join(t, r, ph.config(true, HearAll))
	ph.conn.c.Close()
	done := make(chan struct{})
	go func() { p.Leave(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Leave hung on a closed conn")
	}
}

// endingCtx is a context that ends right after Join checked it: its first
// Err says it is live, but Done is already closed. It pins down the window
// between Join's check and its registration of the context, where a Leave
// run by the context used to race Join (and found no stop func).
type endingCtx struct {
	context.Context
	checked atomic.Bool
	done    chan struct{}
}

func newEndingCtx() *endingCtx {
	c := &endingCtx{Context: context.Background(), done: make(chan struct{})}
	close(c.done)
	return c
}

func (c *endingCtx) Done() <-chan struct{} { return c.done }

func (c *endingCtx) Err() error {
	if c.checked.Swap(true) {
		return context.Canceled
	}
	return nil
}

// TestJoinWithEndingContext: a context that ends while Join runs (or
// right after) makes the participant leave at once, without a data race
// (run with -race) and without a panic.
func TestJoinWithEndingContext(t *testing.T) {
	r := NewRoom("ending")
	defer r.Close()
	for i := range 40 {
		ph := newPhone(t, "a", codec(t, "PCMU"), 0)
		var ctx context.Context = newEndingCtx()
		if i%2 == 1 {
			c, cancel := context.WithCancel(context.Background())
			go cancel() // somewhere during Join
			ctx = c
		}
		p, err := r.Join(ctx, ph.config(true, HearAll))
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("join %d: %v", i, err)
			}
			continue
		}
		deadline := time.Now().Add(2 * time.Second)
		for r.Participant("a") != nil {
			if time.Now().After(deadline) {
				t.Fatalf("join %d: participant still in the room after its context ended", i)
			}
			time.Sleep(time.Millisecond)
		}
		p.Leave() // idempotent
		if err := r.SendDTMF(p, '1'); !errors.Is(err, ErrNotInRoom) {
			t.Fatalf("join %d: SendDTMF after leaving: %v", i, err)
		}
	}
}

// TestRoomOpusOptions: the room encodes its Opus legs with its own
// options (complexity 5 by default), not the codec's defaults; options
// libopus would refuse fail the join instead of a silent leg.
func TestRoomOpusOptions(t *testing.T) {
	if c := DefaultOpusOptions().Complexity; c != 5 {
		t.Errorf("rooms encode Opus at complexity %d, want 5", c)
	}
	bad := DefaultOpusOptions()
	bad.Complexity = 11
	r := NewRoom("opus-options", WithOpusOptions(bad))
	defer r.Close()
	ph := newPhone(t, "agent", codec(t, "opus"), 111)
	if _, err := r.Join(context.Background(), ph.config(true, HearAll)); !errors.Is(err, audio.ErrBadOption) {
		t.Fatalf("Join of an Opus leg with complexity 11: err = %v, want audio.ErrBadOption", err)
	}
	g711 := newPhone(t, "customer", codec(t, "PCMU"), 0)
	join(t, r, g711.config(true, HearAll)) // only Opus legs use them
}

// TestComfortNoise: a far end that suppresses its silence and sends
// RFC 3389 comfort noise (PT 13) when it goes quiet is neither counted as
// loss nor concealed: the listener hears the tone while it talks and
// clean silence in between, not concealment noise.
func TestComfortNoise(t *testing.T) {
	tests := []struct {
		name          string
		codec         string
		pt            uint8
		sendCN        bool
		wantConcealed bool
	}{
		{"PCMU with CN", "PCMU", 0, true, false},
		{"opus with CN", "opus", 111, true, false},
		// Without CN the room cannot tell silence from loss: it conceals
		// for up to its maximum delay at the end of every talkspurt.
		{"PCMU silence suppression without CN", "PCMU", 0, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := NewRoom("cn")
			cust := newPhone(t, "customer", codec(t, tt.codec), tt.pt)
			agent := newPhone(t, "agent", codec(t, "PCMU"), 0)
			cust.setSource(audio.NewTone(1000, 0.3, cust.codec.SampleRate()))
			// Talk 200 ms, quiet 200 ms, from the second talkspurt on.
			cust.quiet = func(i int) bool { return i%20 >= 10 }
			cust.sendCN = tt.sendCN
			cp := join(t, r, cust.config(true, HearAll))
			join(t, r, agent.config(false, HearAll))
			start(t, r, cust, agent)
			time.Sleep(1200 * time.Millisecond)
			st := cp.Stats()
			if tt.sendCN && st.ComfortNoise < 3 {
				t.Errorf("stats %+v: comfort noise not seen", st)
			}
			if st.Lost != 0 || st.Late != 0 {
				t.Errorf("stats %+v: silence counted as loss", st)
			}
			// Without CN every talkspurt's end is concealed for several
			// frames (3 ends × up to 5); with CN none is, though a test
			// sender descheduled on a loaded machine may be late once.
			if tt.wantConcealed && st.Concealed < 3 {
				t.Errorf("stats %+v: %d frames concealed, want the ends of the talkspurts concealed", st, st.Concealed)
			}
			if !tt.wantConcealed && st.Concealed > 1 {
				t.Errorf("stats %+v: %d frames concealed, want none (one for a late sender)", st, st.Concealed)
			}
			// What the agent heard: tone in the talkspurts, and between
			// them frames of near silence, none of concealment's fading
			// copies of the tone.
			got := listen(agent, 800*time.Millisecond)
			loud, quiet := 0, 0
			for i := 0; i+160 <= len(got); i += 160 {
				if audio.DBFS(got[i:i+160]) > -30 {
					loud++
				} else {
					quiet++
				}
			}
			if loud < 10 {
				t.Errorf("agent heard %d loud frames of 40: the talkspurts did not come through", loud)
			}
			if !tt.wantConcealed && quiet < 15 {
				t.Errorf("agent heard %d quiet frames of 40: the silences were filled", quiet)
			}
		})
	}
}

// TestPacketTimes: legs that send 10 to 60 ms per packet are cut into the
// room's 20 ms frames; the listener hears the tone whole, without losses.
func TestPacketTimes(t *testing.T) {
	tests := []struct {
		codec string
		pt    uint8
		ptime time.Duration
	}{
		{"PCMU", 0, 10 * time.Millisecond},
		{"PCMU", 0, 30 * time.Millisecond},
		{"PCMU", 0, 40 * time.Millisecond},
		{"PCMU", 0, 60 * time.Millisecond},
		{"opus", 111, 10 * time.Millisecond},
		{"opus", 111, 40 * time.Millisecond},
		{"opus", 111, 60 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.codec, " ", tt.ptime), func(t *testing.T) {
			t.Parallel()
			r := NewRoom("ptime")
			cust := newPhone(t, "customer", codec(t, tt.codec), tt.pt)
			cust.ptime = tt.ptime
			agent := newPhone(t, "agent", codec(t, "PCMU"), 0)
			cust.setSource(audio.NewTone(1000, 0.3, cust.codec.SampleRate()))
			cp := join(t, r, cust.config(true, HearAll))
			join(t, r, agent.config(false, HearAll))
			start(t, r, cust, agent)
			time.Sleep(settle + tt.ptime)
			before := cp.Stats()
			got := listen(agent, 600*time.Millisecond)
			// A whole tone: no gaps (a 20 ms frame of 60 played as 20
			// would leave two thirds silent) and no concealment.
			expectTones(t, "agent", got, 8000, 0.9, []float64{1000}, nil)
			quiet := 0
			for i := 0; i+160 <= len(got); i += 160 {
				if audio.DBFS(got[i:i+160]) < -20 {
					quiet++
				}
			}
			st := cp.Stats()
			if quiet > 1 || st.DroppedOther != 0 {
				t.Errorf("%d quiet frames of %d; stats %+v", quiet, len(got)/160, st)
			}
			if lost := st.Lost + st.Late - before.Lost - before.Late; lost > 1 {
				t.Errorf("%d frames lost or late once settled; stats %+v", lost, st)
			}
		})
	}
}
