package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/agentphone/agentphone/audio"
	"go.uber.org/goleak"
)

func TestParseSDP(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		addr    string
		pts     []uint8
		opusPT  uint8
		wantErr bool
	}{
		{name: "offer with opus", body: "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 96 0 101\r\na=rtpmap:96 opus/48000/2\r\na=rtpmap:101 telephone-event/8000\r\n",
			addr: "127.0.0.1:4000", pts: []uint8{96, 0, 101}, opusPT: 96},
		{name: "own answer round trips", body: string(buildSDP(5004, 0, "PCMU/8000")), addr: "127.0.0.1:5004", pts: []uint8{0, 101}},
		{name: "no media line", body: "v=0\r\nc=IN IP4 127.0.0.1\r\n", wantErr: true},
		{name: "no address", body: "v=0\r\nm=audio 4000 RTP/AVP 0\r\n", wantErr: true},
		{name: "bad port", body: "c=IN IP4 127.0.0.1\r\nm=audio x RTP/AVP 0\r\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := parseSDP([]byte(tt.body))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("parsed %+v, want an error", m)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.addr.String() != tt.addr || string(m.pts) != string(tt.pts) {
				t.Errorf("got %v %v, want %s %v", m.addr, m.pts, tt.addr, tt.pts)
			}
			if tt.opusPT != 0 && !strings.HasPrefix(m.rtpmap[tt.opusPT], "opus/") {
				t.Errorf("rtpmap %v", m.rtpmap)
			}
		})
	}
}

func TestParseProcStat(t *testing.T) {
	// A command name with spaces and a parenthesis, as /proc prints it.
	line := "4242 (call (bench) d) S 1 4242 4242 0 -1 4194560 500 0 0 0 123 45 0 0 20 0 12 0 100 1000000 2000 18446744073709551615"
	ps, err := parseProcStat(line)
	if err != nil {
		t.Fatal(err)
	}
	if ps.cpu != 1680*time.Millisecond {
		t.Errorf("cpu %v, want 1.68s (168 ticks)", ps.cpu)
	}
	for _, bad := range []string{"", "4242 (x) S 1 2", "4242 (x) S 1 2 3 4 5 6 7 8 9 10 a b"} {
		if _, err := parseProcStat(bad); err == nil {
			t.Errorf("parseProcStat(%q) succeeded", bad)
		}
	}
}

func TestAddRoomLine(t *testing.T) {
	var s ServerLegStats
	lines := []string{
		`time=2026-01-01T00:00:00Z level=INFO msg="room closed" part=sip room=abc ticks=500 customer.in=490 customer.out=495 customer.lost=3 customer.late=1 customer.concealed=3 customer.wrongsrc=0 agent:6001.in=497 agent:6001.out=495 agent:6001.lost=0 agent:6001.late=0 agent:6001.concealed=0 agent:6001.wrongsrc=2`,
		`time=2026-01-01T00:00:01Z level=INFO msg="room closed" part=sip room=def ticks=10`,
	}
	for _, l := range lines {
		addRoomLine(&s, l)
	}
	want := ServerLegStats{Rooms: 2, Legs: 2, In: 987, Out: 990, Lost: 3, Late: 1, Concealed: 3, WrongSource: 2}
	if s != want {
		t.Errorf("got %+v, want %+v", s, want)
	}
}

func TestParseSippStats(t *testing.T) {
	csv := "StartTime;LastResetTime;CurrentTime;SuccessfulCall(P);SuccessfulCall(C);FailedCall(P);FailedCall(C);ResponseTime1(C);ResponseTimeRepartition1;ResponseTimeRepartition1_<10;ResponseTimeRepartition1_>=10;\n" +
		"a;b;c;5;5;0;0;00:00:00:001000;;5;0;\n" +
		"a;b;c;3;250;0;2;00:00:00:002500;;240;10;\n"
	st, err := parseSippStats(strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	if st.Successful != 250 || st.Failed != 2 || st.SetupAvg != 2500*time.Microsecond {
		t.Errorf("got %+v", st)
	}
	if want := []bucket{{"<10", 240}, {">=10", 10}}; fmt.Sprint(st.SetupBuckets) != fmt.Sprint(want) {
		t.Errorf("buckets %v, want %v", st.SetupBuckets, want)
	}
	if _, err := parseSippStats(strings.NewReader("SuccessfulCall(C)\n")); err == nil {
		t.Error("a header without data parsed")
	}
	for in, want := range map[string]time.Duration{
		"00:00:01:009000": time.Second + 9*time.Millisecond,
		"00:01:00:250":    time.Minute + 250*time.Millisecond,
		"garbage":         0,
	} {
		if got := parseSippDuration(in); got != want {
			t.Errorf("parseSippDuration(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestDialedNumber(t *testing.T) {
	for _, i := range []int{0, 7, 12345678} {
		if got := dialedIndex(dialedNumber(i)); got != i {
			t.Errorf("dialedIndex(dialedNumber(%d)) = %d", i, got)
		}
	}
	for _, s := range []string{"", "4008001234", "1390000000x", "13800000001"} {
		if dialedIndex(s) != -1 {
			t.Errorf("dialedIndex(%q) accepted", s)
		}
	}
}

func rtpPacket(pt uint8, seq uint16, ts, ssrc uint32, payload []byte) []byte {
	b := make([]byte, 12+len(payload))
	b[0], b[1] = 0x80, pt
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
	copy(b[12:], payload)
	return b
}

// TestLegAccounting: a stream with a gap, a late packet, a reorder, a
// sequence wrap and a foreign SSRC gives the counts a listener would.
func TestLegAccounting(t *testing.T) {
	l := &leg{out: payloadSet{pt: 0}}
	t0 := time.Unix(1000, 0)
	payload := make([]byte, 160)
	type arrival struct {
		seq  uint16
		at   time.Duration // after t0
		ssrc uint32
	}
	var in []arrival
	// seq 65530 … 65535, 0 … 9 at 20 ms each (wraps), minus 65533 (lost),
	// 2 arrives 100 ms late, 5 after 6 (reordered, on time).
	for i := range 16 {
		seq := uint16(65530 + i)
		at := time.Duration(i) * 20 * time.Millisecond
		switch seq {
		case 65533:
			continue
		case 2:
			at += 100 * time.Millisecond
		case 5:
			at += 25 * time.Millisecond
		}
		in = append(in, arrival{seq, at, 7})
	}
	in = append(in, arrival{3, 400 * time.Millisecond, 99}) // another stream
	for _, a := range in {
		ts := uint32(a.seq-65530) * 160
		l.receive(rtpPacket(0, a.seq, ts, a.ssrc, payload), t0.Add(a.at), 8000)
	}
	l.receive([]byte{1, 2, 3}, t0, 8000)                             // not RTP
	l.receive(rtpPacket(101, 4, 0, 7, []byte{1, 2, 3, 4}), t0, 8000) // DTMF: not counted
	st := l.stats
	st.Expected = uint64(l.lastSeq-l.firstSeq) + 1
	if st.Received != 15 || st.Expected != 16 || st.Lost() != 1 || st.Late != 1 || st.Foreign != 2 {
		t.Errorf("got %+v (lost %d), want received 15 of 16, lost 1, late 1, foreign 2", st, st.Lost())
	}
}

// TestToneCheck: the check counts frames holding the far tone and frames
// carrying our own back.
func TestToneCheck(t *testing.T) {
	ps, err := encodeTone(audio.PCMU, 0, agentFreq)
	if err != nil {
		t.Fatal(err)
	}
	dec, _ := audio.PCMU.NewDecoder()
	c := &toneCheck{dec: dec, rate: 8000, want: agentFreq, own: customerFreq, pcm: make([]int16, 960), skip: 2}
	var st LegStats
	for range 10 {
		c.frame(ps.payloads[0], &st)
	}
	if st.Decoded != 8 || st.ToneFrames != 8 || st.EchoFrames != 0 {
		t.Errorf("got %+v, want 8 decoded frames, all the tone, no echo", st)
	}
	c.want, c.own = customerFreq, agentFreq
	st = LegStats{}
	c.frame(ps.payloads[0], &st)
	if st.ToneFrames != 0 || st.EchoFrames != 1 {
		t.Errorf("swapped tones: %+v", st)
	}
}

// TestMediaSmoke runs the whole bench briefly against a real callcenterd:
// calls are answered, tones pass both ways, nothing is lost and the CPU
// figure is a positive number. The long runs are `callbench cpu|max`.
func TestMediaSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs callcenterd")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go tool to build callcenterd")
	}
	// Registered first, so it runs after every other cleanup: the
	// generators' goroutines (RTP pacer, SIP servers) end with the run.
	opts := []goleak.Option{
		goleak.IgnoreCurrent(),
		// sipgo's transaction goroutines end a little after the UA closes.
		goleak.IgnoreTopFunction("time.Sleep"),
		goleak.IgnoreAnyFunction("github.com/emiago/sipgo/sip.(*transactionFSM).run"),
	}
	t.Cleanup(func() { goleak.VerifyNone(t, opts...) })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// CALLBENCH_BIN may name a built callcenterd; else it is built here.
	res, err := runMedia(ctx, mediaConfig{Calls: 10, Codec: "PCMU", Window: 2 * time.Second, Idle: time.Second,
		Settle: 2 * time.Second, Rate: 20, Check: 2, Bin: os.Getenv("CALLBENCH_BIN")})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	res.print(&out)
	t.Log("\n" + out.String())
	if res.Answered != 10 || res.Failed != 0 || res.ServerHungUp != 0 {
		t.Errorf("answered %d, failed %d, hung up by the server %d", res.Answered, res.Failed, res.ServerHungUp)
	}
	if res.SpotsOK() != 2 {
		t.Errorf("tones passed on %d of 2 checked calls", res.SpotsOK())
	}
	if res.CPUPerCallSecond() <= 0 {
		t.Errorf("CPU per call-second %v", res.CPUPerCallSecond())
	}
	if res.Server.Rooms != 10 || res.Server.Legs != 20 || res.Server.In == 0 {
		t.Errorf("server rooms %+v", res.Server)
	}
	// A loaded CI machine may delay a few frames; 5% is far from a
	// broken path (which loses everything) and far from a flaky test.
	if r := res.GenBadRatio(); r > 0.05 {
		t.Errorf("generator lost or late %.1f%%", 100*r)
	}
	if r := res.ServerBadRatio(); r > 0.05 {
		t.Errorf("server lost or late %.1f%%", 100*r)
	}
}

func TestParseMachineBusy(t *testing.T) {
	stat := "cpu  100 5 50 1000 20 3 7 2 40 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n"
	got, err := parseMachineBusy(stat)
	// user+nice+system+irq+softirq+steal = 100+5+50+3+7+2 ticks
	if err != nil || got != 1670*time.Millisecond {
		t.Errorf("got %v, %v; want 1.67s", got, err)
	}
	if _, err := parseMachineBusy("intr 1 2 3\n"); err == nil {
		t.Error("a stat without a cpu line parsed")
	}
}

// TestLoadFigures checks issue 4's targets at full size. It takes about
// three minutes and needs the machine to itself, so it runs only with
// LOAD=1 (like cmd/callcenterd's TestInboundLoad):
//
//	LOAD=1 go test -run TestLoadFigures -v -timeout 15m ./cmd/callbench
func TestLoadFigures(t *testing.T) {
	if os.Getenv("LOAD") == "" {
		t.Skip("load test: set LOAD=1")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 14*time.Minute)
	defer cancel()
	bin := os.Getenv("CALLBENCH_BIN")
	t.Run("G.711 CPU and 500 calls", func(t *testing.T) {
		res, err := runMedia(ctx, mediaConfig{Calls: 500, Codec: "PCMU", Window: 20 * time.Second, Rate: 100, Check: 4, Bin: bin})
		if err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		res.print(&out)
		t.Log("\n" + out.String())
		if got := res.CPUPerCallSecond(); got > 2 {
			t.Errorf("server CPU %.2f CPU-ms per call-second, target ≤ 2", got)
		}
		if res.Failed > 0 || res.SpotsOK() != len(res.Spots) {
			t.Errorf("%d calls failed, tones passed on %d of %d", res.Failed, res.SpotsOK(), len(res.Spots))
		}
		if g, s := res.GenBadRatio(), res.ServerBadRatio(); g >= 0.005 || s >= 0.005 {
			t.Errorf("late or lost frames: generator %.2f%%, server %.2f%%, target < 0.5%% (other processes' load in the report)", 100*g, 100*s)
		}
	})
	t.Run("setup 200 calls per second", func(t *testing.T) {
		if _, err := exec.LookPath("sipp"); err != nil {
			t.Skip("sipp not installed (Debian package sip-tester)")
		}
		res, err := runSetup(ctx, setupConfig{Procs: 4, Rate: 200, Calls: 2000, Hold: time.Second,
			Scenarios: moduleRoot() + "/cmd/callcenterd/testdata/sipp", Bin: bin})
		if err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		res.print(&out)
		t.Log("\n" + out.String())
		if res.Failed > 0 || res.UASFailed != "" || res.Successful != 2000 || res.Rate() < 190 {
			t.Errorf("setup: %d failed, %d successful at %.0f calls/s, carrier %q", res.Failed, res.Successful, res.Rate(), res.UASFailed)
		}
	})
}
