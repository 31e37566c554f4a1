package audio

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
	"time"
)

// simPacket is one RTP packet of the synthetic stream.
type simPacket struct {
	seq     uint16
	ts      uint32
	id      int // index in the sent stream, carried in the payload
	arrival time.Duration
}

// simResult is what the playout side saw.
type simResult struct {
	statuses []Status
	played   []int // ids in playout order
	lostNext []bool
	firstAt  time.Duration   // playout time of the first packet
	delays   []time.Duration // Stats().Delay after each pop
	losses   []uint64        // Stats().Lost+Late after each pop
	jb       *JitterBuffer
}

type simNet struct {
	n        int                       // packets sent
	seq0     uint16                    // first sequence number
	ts0      uint32                    // first timestamp
	delay    func(i int) time.Duration // network delay of packet i (< 0: lost)
	popEvery time.Duration             // playout clock period (20 ms, or drifting)
	popFrom  time.Duration             // first pop
	pops     int
	dup      map[int]bool // packets delivered twice
	mutate   func(p *simPacket)
}

func runSim(t *testing.T, net simNet, opts JitterOptions) simResult {
	t.Helper()
	if net.popEvery == 0 {
		net.popEvery = FrameDuration
	}
	if net.popFrom == 0 {
		net.popFrom = 5 * time.Millisecond
	}
	if net.pops == 0 {
		net.pops = net.n + 30
	}
	var pkts []simPacket
	for i := range net.n {
		d := net.delay(i)
		if d < 0 {
			continue
		}
		p := simPacket{seq: net.seq0 + uint16(i), ts: net.ts0 + uint32(i*160), id: i, arrival: time.Duration(i)*FrameDuration + d}
		if net.mutate != nil {
			net.mutate(&p)
		}
		pkts = append(pkts, p)
		if net.dup[i] {
			p.arrival += 3 * time.Millisecond
			pkts = append(pkts, p)
		}
	}
	// Deliver in arrival order (stable for equal times).
	for i := 1; i < len(pkts); i++ {
		for j := i; j > 0 && pkts[j].arrival < pkts[j-1].arrival; j-- {
			pkts[j], pkts[j-1] = pkts[j-1], pkts[j]
		}
	}
	jb := NewJitterBuffer(opts)
	epoch := time.Unix(1700000000, 0)
	res := simResult{jb: jb, firstAt: -1}
	payload := make([]byte, 2)
	k := 0
	for pop := range net.pops {
		now := net.popFrom + time.Duration(pop)*net.popEvery
		for k < len(pkts) && pkts[k].arrival <= now {
			p := pkts[k]
			binary.BigEndian.PutUint16(payload, uint16(p.id))
			jb.Push(p.seq, p.ts, payload, epoch.Add(p.arrival))
			payload[0], payload[1] = 0xEE, 0xEE // the buffer must have copied
			k++
		}
		f, st := jb.Pop()
		res.statuses = append(res.statuses, st)
		st2 := jb.Stats()
		res.delays = append(res.delays, st2.Delay)
		res.losses = append(res.losses, st2.Lost+st2.Late)
		switch st {
		case StatusPacket:
			res.played = append(res.played, int(binary.BigEndian.Uint16(f.Payload)))
			if res.firstAt < 0 {
				res.firstAt = now
			}
		case StatusLost:
			res.lostNext = append(res.lostNext, f.Next != nil)
		}
	}
	return res
}

func constDelay(d time.Duration) func(int) time.Duration { return func(int) time.Duration { return d } }

func maxDelay(ds []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}

func assertInOrder(t *testing.T, played []int) {
	t.Helper()
	for i := 1; i < len(played); i++ {
		if played[i] <= played[i-1] {
			t.Fatalf("played out of order: ... %d then %d", played[i-1], played[i])
		}
	}
}

func TestJitterBuffer(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	jitter := make([]time.Duration, 500)
	for i := range jitter {
		jitter[i] = 10*time.Millisecond + time.Duration(rng.Int64N(int64(50*time.Millisecond)))
	}
	tests := []struct {
		name  string
		net   simNet
		check func(t *testing.T, r simResult, s JitterStats)
	}{
		{
			name: "in order",
			net:  simNet{n: 200, delay: constDelay(10 * time.Millisecond)},
			check: func(t *testing.T, r simResult, s JitterStats) {
				if len(r.played) != 200 || s.Lost != 0 || s.Late != 0 {
					t.Fatalf("played %d, stats %+v", len(r.played), s)
				}
				// Starts after ~40 ms of buffering, never hundreds of ms.
				if r.firstAt > 70*time.Millisecond {
					t.Fatalf("first packet played at %v", r.firstAt)
				}
				if s.Target != 40*time.Millisecond {
					t.Fatalf("target %v with no jitter", s.Target)
				}
			},
		},
		{
			name: "reorder",
			net: simNet{n: 100, delay: func(i int) time.Duration {
				switch i {
				case 20, 50:
					return 35 * time.Millisecond // overtaken by the next one
				case 0:
					return 35 * time.Millisecond // the first packet arrives after the second
				}
				return 10 * time.Millisecond
			}},
			check: func(t *testing.T, r simResult, s JitterStats) {
				if len(r.played) != 100 || s.Lost != 0 {
					t.Fatalf("played %d, stats %+v", len(r.played), s)
				}
				assertInOrder(t, r.played)
			},
		},
		{
			name: "loss",
			net: simNet{n: 100, delay: func(i int) time.Duration {
				if i == 30 || i == 60 || i == 61 {
					return -1
				}
				return 10 * time.Millisecond
			}},
			check: func(t *testing.T, r simResult, s JitterStats) {
				if len(r.played) != 97 || s.Lost != 3 {
					t.Fatalf("played %d, stats %+v", len(r.played), s)
				}
				assertInOrder(t, r.played)
				// FEC hint: the single loss and the second of the pair have
				// their successor buffered; the first of the pair does not.
				want := []bool{true, false, true}
				for i, w := range want {
					if r.lostNext[i] != w {
						t.Fatalf("lost %d: Next present %v, want %v", i, r.lostNext[i], w)
					}
				}
			},
		},
		{
			name: "duplicate",
			net:  simNet{n: 100, delay: constDelay(10 * time.Millisecond), dup: map[int]bool{10: true, 11: true, 99: true}},
			check: func(t *testing.T, r simResult, s JitterStats) {
				if len(r.played) != 100 || s.Duplicates != 3 {
					t.Fatalf("played %d, stats %+v", len(r.played), s)
				}
				assertInOrder(t, r.played)
			},
		},
		{
			name: "burst",
			// The network stalls for 100 ms, then delivers the backlog at once.
			net: simNet{n: 450, delay: func(i int) time.Duration {
				if i >= 100 && i < 105 {
					return time.Duration(105-i)*FrameDuration + 10*time.Millisecond
				}
				return 10 * time.Millisecond
			}},
			check: func(t *testing.T, r simResult, s JitterStats) {
				assertInOrder(t, r.played)
				// The stall is bridged by holding (underruns), not by
				// discarding the late packets...
				if s.Late > 1 || len(r.played) < 445 {
					t.Fatalf("played %d, stats %+v", len(r.played), s)
				}
				// ...and the delay it added is shed once the spike has left
				// the 128-packet transit window (2.5 s), a frame per 500 ms.
				if peak, end := maxDelay(r.delays[100:150]), r.delays[440]; peak < 80*time.Millisecond || end > 60*time.Millisecond {
					t.Fatalf("delay peaked at %v, %v at the end; stats %+v", peak, end, s)
				}
			},
		},
		{
			name: "jitter",
			net:  simNet{n: 500, delay: func(i int) time.Duration { return jitter[i] }},
			check: func(t *testing.T, r simResult, s JitterStats) {
				assertInOrder(t, r.played)
				if s.Target < 60*time.Millisecond || s.Target > 120*time.Millisecond {
					t.Fatalf("target %v for 50 ms jitter", s.Target)
				}
				if s.Jitter < 5*time.Millisecond {
					t.Fatalf("RFC 3550 jitter %v", s.Jitter)
				}
				if lost := s.Lost + s.Late; lost > 10 {
					t.Fatalf("%d of 500 lost or late: %+v", lost, s)
				}
			},
		},
		{
			name: "sender clock fast",
			// The playout clock is 0.5% slow: packets pile up, the buffer
			// must discard to keep the delay bounded.
			net: simNet{n: 1500, delay: constDelay(10 * time.Millisecond), popEvery: FrameDuration * 1005 / 1000},
			check: func(t *testing.T, r simResult, s JitterStats) {
				assertInOrder(t, r.played)
				if peak := maxDelay(r.delays[:1490]); s.Dropped == 0 || peak > 80*time.Millisecond {
					t.Fatalf("peak delay %v, stats %+v", peak, s)
				}
			},
		},
		{
			name: "sender clock slow",
			// The playout clock is 0.5% fast: the buffer runs dry now and
			// then and holds; nothing is skipped.
			net: simNet{n: 1500, delay: constDelay(10 * time.Millisecond), popEvery: FrameDuration * 995 / 1000},
			check: func(t *testing.T, r simResult, s JitterStats) {
				assertInOrder(t, r.played)
				if peak := maxDelay(r.delays[:1490]); peak > 80*time.Millisecond {
					t.Fatalf("peak delay %v", peak)
				}
				if len(r.played) < 1495 || s.Late != 0 || s.Underruns < 10 {
					t.Fatalf("played %d, stats %+v", len(r.played), s)
				}
			},
		},
		{
			name: "sequence and timestamp wrap",
			net:  simNet{n: 200, seq0: 65500, ts0: ^uint32(0) - 160*50, delay: constDelay(10 * time.Millisecond)},
			check: func(t *testing.T, r simResult, s JitterStats) {
				if len(r.played) != 200 || s.Lost != 0 || s.Resets != 0 {
					t.Fatalf("played %d, stats %+v", len(r.played), s)
				}
				assertInOrder(t, r.played)
			},
		},
		{
			name: "stream jump",
			// A new source (re-INVITE, new SSRC) restarts sequence and timestamps.
			net: simNet{n: 200, delay: constDelay(10 * time.Millisecond), mutate: func(p *simPacket) {
				if p.id >= 100 {
					p.seq += 30000
					p.ts += 123456789
				}
			}},
			check: func(t *testing.T, r simResult, s JitterStats) {
				if s.Resets != 1 || len(r.played) < 195 {
					t.Fatalf("played %d, stats %+v", len(r.played), s)
				}
				assertInOrder(t, r.played)
			},
		},
		{
			name: "late packet",
			// One packet arrives after its successor was already played.
			net: simNet{n: 100, delay: func(i int) time.Duration {
				if i == 40 {
					return 200 * time.Millisecond
				}
				return 10 * time.Millisecond
			}},
			check: func(t *testing.T, r simResult, s JitterStats) {
				if s.Late != 1 || s.Lost != 1 || len(r.played) != 99 {
					t.Fatalf("played %d, stats %+v", len(r.played), s)
				}
				assertInOrder(t, r.played)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runSim(t, tt.net, JitterOptions{ClockRate: 8000, FrameTicks: 160})
			tt.check(t, r, r.jb.Stats())
		})
	}
}

func TestJitterBufferEmptyUntilStarted(t *testing.T) {
	jb := NewJitterBuffer(JitterOptions{})
	if _, st := jb.Pop(); st != StatusEmpty {
		t.Fatalf("empty buffer: %v", st)
	}
	now := time.Now()
	jb.Push(1, 160, []byte{1}, now)
	if _, st := jb.Pop(); st != StatusEmpty {
		t.Fatalf("one packet (20 ms < 40 ms min delay): %v", st)
	}
	jb.Push(2, 320, []byte{2}, now.Add(20*time.Millisecond))
	f, st := jb.Pop()
	if st != StatusPacket || f.Seq != 1 || f.Timestamp != 160 || f.Payload[0] != 1 {
		t.Fatalf("got %v %+v", st, f)
	}
	// After a long silence from the sender it goes back to buffering.
	var st2 Status
	for range 20 {
		_, st2 = jb.Pop()
	}
	if st2 != StatusEmpty {
		t.Fatalf("after long underrun: %v", st2)
	}
	jb.Reset()
	if s := jb.Stats(); s.Buffered != 0 || s.Resets != 1 {
		t.Fatalf("after Reset: %+v", s)
	}
}

func TestStatusString(t *testing.T) {
	for st, want := range map[Status]string{StatusEmpty: "empty", StatusPacket: "packet", StatusLost: "lost", 9: "Status(9)"} {
		if st.String() != want {
			t.Errorf("%d: %q", st, st.String())
		}
	}
}

func TestJitterBufferNoAlloc(t *testing.T) {
	jb := NewJitterBuffer(JitterOptions{ClockRate: 48000})
	payload := make([]byte, 80)
	now := time.Now()
	var seq uint16
	var ts uint32
	step := func() {
		seq++
		ts += 960
		now = now.Add(FrameDuration)
		jb.Push(seq, ts, payload, now)
		jb.Pop()
	}
	for range 200 { // warm the slot buffers
		step()
	}
	if a := testing.AllocsPerRun(1000, step); a != 0 {
		t.Fatalf("%.2f allocs per push+pop", a)
	}
}

// TestJitterBufferAdaptsMidStream: the network's jitter steps up from 5 ms
// to 60 ms in the middle of a call and later drops back. The buffer must
// grow its delay while playing, so that after a short adaptation no packet
// is lost any more, and must bring the delay back down when jitter falls.
func TestJitterBufferAdaptsMidStream(t *testing.T) {
	const (
		calm1  = 250  // packets before the jitter rises (5 s)
		rough  = 1000 // first packet after it falls again (15 s)
		n      = 1750 // 35 s
		settle = 100  // packets (2 s) the buffer may take to adapt
	)
	// Two shapes of jitter: every packet's delay spread evenly, and
	// spikes (a quarter of the packets held up to the full jitter while
	// the rest keep arriving on time: Wi-Fi retries, a busy uplink). With
	// spikes the buffer rarely runs dry, so only waiting for the late
	// packet instead of declaring it lost lets the delay grow.
	even := func(rng *rand.Rand, j time.Duration) time.Duration { return time.Duration(rng.Int64N(int64(j))) }
	spiky := func(rng *rand.Rand, j time.Duration) time.Duration {
		d := time.Duration(rng.Int64N(int64(5 * time.Millisecond)))
		if j > 5*time.Millisecond && rng.IntN(4) == 0 {
			d += time.Duration(rng.Int64N(int64(j - 5*time.Millisecond)))
		}
		return d
	}
	tests := []struct {
		name   string
		seed   uint64
		shape  func(*rand.Rand, time.Duration) time.Duration
		jitter time.Duration
		opts   JitterOptions
	}{
		{"spiky seed 1", 1, spiky, 60 * time.Millisecond, JitterOptions{ClockRate: 8000}},
		{"spiky seed 2", 2, spiky, 60 * time.Millisecond, JitterOptions{ClockRate: 8000}},
		{"spiky room bounds 48 kHz", 3, spiky, 60 * time.Millisecond, JitterOptions{ClockRate: 48000, MinDelay: 20 * time.Millisecond, MaxDelay: 100 * time.Millisecond}},
		{"spiky 40 ms", 4, spiky, 40 * time.Millisecond, JitterOptions{ClockRate: 8000}},
		{"even seed 1", 1, even, 60 * time.Millisecond, JitterOptions{ClockRate: 8000}},
		{"even room bounds", 2, even, 60 * time.Millisecond, JitterOptions{ClockRate: 8000, MinDelay: 20 * time.Millisecond, MaxDelay: 100 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(tt.seed, 7))
			delays := make([]time.Duration, n)
			for i := range delays {
				j := 5 * time.Millisecond
				if i >= calm1 && i < rough {
					j = tt.jitter
				}
				delays[i] = 10*time.Millisecond + tt.shape(rng, j)
			}
			ticks := tt.opts.ClockRate / 50
			net := simNet{n: n, pops: n, delay: func(i int) time.Duration { return delays[i] }, mutate: func(p *simPacket) {
				p.ts = uint32(p.id * ticks)
			}}
			r := runSim(t, net, tt.opts)
			s := r.jb.Stats()
			assertInOrder(t, r.played)
			// Pop k plays about packet k - delay/20 ms: near enough to
			// split the losses by phase with the settle margin.
			lossesIn := func(from, to int) uint64 { return r.losses[to-1] - r.losses[from] }
			if l := lossesIn(0, calm1); l != 0 {
				t.Errorf("%d packets lost or late before the jitter rose", l)
			}
			if l := lossesIn(calm1+settle, rough); l != 0 {
				t.Errorf("%d packets lost or late after adapting to %v jitter (%d while adapting); stats %+v",
					l, tt.jitter, lossesIn(calm1, calm1+settle), s)
			}
			if l := lossesIn(rough, n); l != 0 {
				t.Errorf("%d packets lost or late after the jitter fell", l)
			}
			calmDelay := r.delays[calm1-1]
			roughDelay := maxDelay(r.delays[rough-100 : rough])
			endDelay := r.delays[n-1]
			if roughDelay < calmDelay+FrameDuration/2 {
				t.Errorf("delay %v under %v jitter, %v before: it did not grow", roughDelay, tt.jitter, calmDelay)
			}
			maxD := tt.opts.MaxDelay
			if maxD == 0 {
				maxD = 120 * time.Millisecond
			}
			if roughDelay > maxD+FrameDuration {
				t.Errorf("delay %v beyond MaxDelay %v", roughDelay, maxD)
			}
			// Once the spike has left the transit window (2.5 s) the delay
			// comes down a frame per 500 ms at most, back to the target
			// (whole frames) or to where it was before.
			if floor := max(calmDelay, time.Duration(r.jb.framesFor(s.Target))*FrameDuration); endDelay > floor+FrameDuration/2 {
				t.Errorf("delay %v at the end, %v before the jitter rose, target %v: it did not come down (stats %+v)", endDelay, calmDelay, s.Target, s)
			}
			// Slowly: never more than one frame per 500 ms window.
			if s.Dropped > uint64((n-calm1)/25) {
				t.Errorf("%d frames dropped to shrink", s.Dropped)
			}
			if got := len(r.played); got < n-20 {
				t.Errorf("played %d of %d", got, n)
			}
		})
	}
}

// TestJitterBufferComfortNoise: a sender that stops talking sends an
// RFC 3389 comfort-noise packet and then nothing until its next
// talkspurt. The silence is not loss: no concealment, no underrun, and
// the next talkspurt plays from its first packet.
func TestJitterBufferComfortNoise(t *testing.T) {
	const (
		talk1 = 100 // frames of the first talkspurt
		quiet = 50  // frames of silence
		talk2 = 100
	)
	tests := []struct {
		name      string
		cn        bool
		cnLate    bool // the CN packet arrives after its tick (buffer holding)
		wantQuiet Status
	}{
		{"comfort noise", true, false, StatusEmpty},
		{"comfort noise late", true, true, StatusEmpty},
		// Without the CN packet the buffer cannot tell silence from loss:
		// it holds and conceals for MaxDelay first.
		{"silence suppression without CN", false, false, StatusLost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jb := NewJitterBuffer(JitterOptions{ClockRate: 8000})
			epoch := time.Unix(1700000000, 0)
			var statuses []Status
			played := 0
			seq := uint16(1000)
			for tick := range talk1 + quiet + talk2 + 1 {
				now := epoch.Add(time.Duration(tick)*FrameDuration + 10*time.Millisecond)
				ts := uint32(tick * 160)
				switch {
				case tick < talk1 || (tick >= talk1+quiet && tick < talk1+quiet+talk2):
					jb.Push(seq, ts, []byte{byte(tick)}, now)
					seq++
				case tick == talk1 && tt.cn && !tt.cnLate:
					jb.PushSilence(seq, ts, now)
					seq++
				case tick == talk1+3 && tt.cn && tt.cnLate:
					jb.PushSilence(seq, uint32(talk1*160), now)
					seq++
				}
				f, st := jb.Pop()
				statuses = append(statuses, st)
				if st == StatusPacket {
					if got := int(f.Payload[0]); got != tick-1 {
						// A packet is played one tick after it arrived
						// (40 ms, the minimum delay), in both talkspurts.
						t.Fatalf("tick %d played the packet of tick %d", tick, got)
					}
					played++
				}
			}
			s := jb.Stats()
			if played != talk1+talk2 {
				t.Errorf("played %d packets, want %d; stats %+v", played, talk1+talk2, s)
			}
			if s.Lost != 0 || s.Late != 0 {
				t.Errorf("silence counted as loss: %+v", s)
			}
			concealed := 0
			for _, st := range statuses[talk1+1 : talk1+quiet] {
				if st == StatusLost {
					concealed++
				}
			}
			switch tt.wantQuiet {
			case StatusEmpty:
				allowed := 0
				if tt.cnLate {
					allowed = 3 // held until the late CN came
				}
				if concealed > allowed || s.Underruns > uint64(allowed) || s.Silences != 1 {
					t.Errorf("%d concealed ticks in the silence, stats %+v", concealed, s)
				}
			case StatusLost:
				if concealed == 0 || s.Underruns == 0 {
					t.Errorf("expected the buffer to conceal without CN: %d, %+v", concealed, s)
				}
			}
		})
	}
}
