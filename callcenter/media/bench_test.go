package media

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/agentphone/agentphone/audio"
	"github.com/pion/rtp"
)

// manualClock is a Clock that moves only when told to.
type manualClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*manualTimer
}

type manualTimer struct {
	c     *manualClock
	ch    chan time.Time
	when  time.Time
	armed bool
}

func newManualClock() *manualClock { return &manualClock{now: time.Unix(1_000_000, 0)} }

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &manualTimer{c: c, ch: make(chan time.Time, 1), when: c.now.Add(d), armed: true}
	c.timers = append(c.timers, t)
	return t
}

// Advance moves time on and fires the timers that came due.
func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for _, t := range c.timers {
		if t.armed && !t.when.After(c.now) {
			t.armed = false
			select {
			case t.ch <- c.now:
			default:
			}
		}
	}
}

func (t *manualTimer) C() <-chan time.Time { return t.ch }

func (t *manualTimer) Reset(d time.Duration) {
	t.c.mu.Lock()
	t.when, t.armed = t.c.now.Add(d), true
	fire := d <= 0
	if fire {
		t.armed = false
	}
	now := t.c.now
	t.c.mu.Unlock()
	if fire {
		select {
		case t.ch <- now:
		default:
		}
	}
}

func (t *manualTimer) Stop() {
	t.c.mu.Lock()
	t.armed = false
	t.c.mu.Unlock()
}

func (r *Room) tickCount() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ticks
}

func waitTicks(t *testing.T, r *Room, want uint64) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for r.tickCount() < want {
		if time.Now().After(deadline) {
			t.Fatalf("ticks = %d, want %d", r.tickCount(), want)
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(5 * time.Millisecond)
	if got := r.tickCount(); got != want {
		t.Fatalf("ticks = %d, want exactly %d", got, want)
	}
}

// TestTickSchedule: ticks follow start+n·period whatever the wake-up
// times, a stall is caught up, and a long stall drops its backlog.
func TestTickSchedule(t *testing.T) {
	clk := newManualClock()
	r := NewRoom("clock", WithClock(clk))
	defer r.Close()
	// Wait for the loop to arm its timer before moving time.
	for {
		clk.mu.Lock()
		n := len(clk.timers)
		clk.mu.Unlock()
		if n > 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	steps := []struct {
		advance time.Duration
		want    uint64
	}{
		{20 * time.Millisecond, 1},
		{25 * time.Millisecond, 2}, // 45 ms: tick 2 was due at 40
		{15 * time.Millisecond, 3}, // 60 ms: late wake-ups did not drift
		{19 * time.Millisecond, 3}, // 79 ms: tick 4 is due at 80
		{1 * time.Millisecond, 4},
		{100 * time.Millisecond, 9},       // a 100 ms stall is caught up
		{1 * time.Second, 9 + maxCatchUp}, // a 1 s stall is not
		{20 * time.Millisecond, 10 + maxCatchUp},
	}
	for _, s := range steps {
		clk.Advance(s.advance)
		waitTicks(t, r, s.want)
	}
}

// discardConn is an RTPConn whose reads block until interrupted and whose
// writes go nowhere after marshaling, as a socket would.
type discardConn struct {
	stop chan struct{}
	once sync.Once
	buf  []byte
	n    int
}

func newDiscardConn() *discardConn {
	return &discardConn{stop: make(chan struct{}), buf: make([]byte, 1500)}
}

func (d *discardConn) ReadRTP(buf []byte, pkt *rtp.Packet) (int, error) {
	<-d.stop
	return 0, errDeadline{}
}

func (d *discardConn) WriteRTP(pkt *rtp.Packet) error {
	_, err := pkt.MarshalTo(d.buf)
	d.n++
	return err
}

func (d *discardConn) SetReadDeadline(t time.Time) error {
	if !t.IsZero() {
		d.once.Do(func() { close(d.stop) })
	}
	return nil
}

type errDeadline struct{}

func (errDeadline) Error() string   { return "deadline" }
func (errDeadline) Timeout() bool   { return true }
func (errDeadline) Temporary() bool { return true }

// benchLeg is a leg fed directly into its jitter buffer, as the reader
// would, so a benchmark measures the tick alone.
type benchLeg struct {
	p       *Participant
	conn    *discardConn
	enc     audio.Encoder
	src     audio.Source
	pcm     []int16
	payload []byte
	seq     uint16
	ts      uint32
	step    uint32
}

func newBenchLeg(tb testing.TB, r *Room, name, codecName string, pt uint8, freq float64) *benchLeg {
	tb.Helper()
	c := codec(tb, codecName)
	enc, err := c.NewEncoder()
	if err != nil {
		tb.Fatal(err)
	}
	conn := newDiscardConn()
	p, err := r.Join(context.Background(), ParticipantConfig{
		Name: name, Conn: conn, Codec: c, PayloadType: pt, DTMFPayloadType: 101,
		Speaks: true, Hears: HearAll,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return &benchLeg{
		p: p, conn: conn, enc: enc, src: audio.NewTone(freq, 0.3, c.SampleRate()),
		pcm: make([]int16, c.FrameSamples()), payload: make([]byte, 1500),
		step: uint32(c.ClockRate() / 50),
	}
}

// encodeAhead pre-encodes n frames so that the sender's encoding cost is
// not part of the room's measurement.
func (l *benchLeg) encodeAhead(tb testing.TB, n int) [][]byte {
	frames := make([][]byte, n)
	for i := range frames {
		l.src.Read(l.pcm)
		k, err := l.enc.Encode(l.pcm, l.payload)
		if err != nil {
			tb.Fatal(err)
		}
		frames[i] = append([]byte(nil), l.payload[:k]...)
	}
	return frames
}

func (l *benchLeg) push(payload []byte, now time.Time) {
	l.p.jb.Push(l.seq, l.ts, payload, now)
	l.seq++
	l.ts += l.step
}

// tickBench measures one room tick with every leg receiving one packet
// per tick.
func tickBench(b *testing.B, legs []*benchLeg, r *Room) {
	const ahead = 50
	frames := make([][][]byte, len(legs))
	for i, l := range legs {
		frames[i] = l.encodeAhead(b, ahead)
	}
	now := time.Now()
	step := func(i int) {
		now = now.Add(audio.FrameDuration)
		for j, l := range legs {
			l.push(frames[j][i%ahead], now)
		}
		r.tick()
	}
	for i := range 10 { // fill the jitter buffers, warm the codecs
		step(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		step(i)
	}
	b.StopTimer()
	perTick := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	// 50 ticks per second of call.
	b.ReportMetric(perTick*50/1e6, "cpu-ms/call-s")
	for _, l := range legs {
		if l.conn.n == 0 {
			b.Fatalf("%s sent nothing", l.p.Name())
		}
	}
}

// idleRoom is a room whose loop never ticks on its own: benchmarks and
// allocation tests drive tick directly.
func idleRoom() *Room { return NewRoom("bench", WithClock(newManualClock())) }

func BenchmarkTwoPartyTick(b *testing.B) {
	for _, tc := range []struct{ a, b string }{{"PCMU", "PCMU"}, {"opus", "PCMU"}, {"opus", "opus"}} {
		b.Run(tc.a+"-"+tc.b, func(b *testing.B) {
			r := idleRoom()
			defer r.Close()
			legs := []*benchLeg{
				newBenchLeg(b, r, "agent", tc.a, ptFor(tc.a), 1500),
				newBenchLeg(b, r, "customer", tc.b, ptFor(tc.b), 1000),
			}
			tickBench(b, legs, r)
		})
	}
}

// BenchmarkOpusTickComplexity: an Opus↔PCMU tick at the room's Opus
// complexity against the neighbours it was chosen from.
func BenchmarkOpusTickComplexity(b *testing.B) {
	for _, c := range []int{3, 5, 10} {
		b.Run(fmt.Sprint("c", c), func(b *testing.B) {
			o := DefaultOpusOptions()
			o.Complexity = c
			r := NewRoom("bench", WithClock(newManualClock()), WithOpusOptions(o))
			defer r.Close()
			legs := []*benchLeg{
				newBenchLeg(b, r, "agent", "opus", 111, 1500),
				newBenchLeg(b, r, "customer", "PCMU", 0, 1000),
			}
			tickBench(b, legs, r)
		})
	}
}

func BenchmarkMixN(b *testing.B) {
	for _, n := range []int{2, 3, 5, 10} {
		b.Run(fmt.Sprintf("PCMU-%d", n), func(b *testing.B) {
			r := idleRoom()
			defer r.Close()
			var legs []*benchLeg
			for i := range n {
				legs = append(legs, newBenchLeg(b, r, fmt.Sprintf("p%d", i), "PCMU", 0, float64(500+100*i)))
			}
			tickBench(b, legs, r)
		})
	}
}

func ptFor(name string) uint8 {
	switch name {
	case "PCMA":
		return 8
	case "opus":
		return 111
	}
	return 0
}

// TestTickDoesNotAllocate: the steady state of a call allocates nothing
// per frame, whatever the codecs and hear sets.
func TestTickDoesNotAllocate(t *testing.T) {
	r := idleRoom()
	defer r.Close()
	legs := []*benchLeg{
		newBenchLeg(t, r, "customer", "PCMU", 0, 1000),
		newBenchLeg(t, r, "agent", "opus", 111, 1500),
		newBenchLeg(t, r, "supervisor", "PCMA", 8, 700),
	}
	legs[2].p.SetSpeaks(false)
	legs[0].p.SetHears(Hear("agent", "supervisor"))
	rec := audio.NewVirtualDevice(nil, audio.WithRecordLimit(audio.FrameDuration))
	join(t, r, ParticipantConfig{Name: "recorder", Sink: rec, Hears: HearAll})
	join(t, r, ParticipantConfig{Name: "music", Source: audio.NewTone(440, 0.1, 48000)})
	frames := make([][][]byte, len(legs))
	for i, l := range legs {
		frames[i] = l.encodeAhead(t, 50)
	}
	now := time.Now()
	i := 0
	step := func() {
		now = now.Add(audio.FrameDuration)
		for j, l := range legs {
			l.push(frames[j][i%50], now)
		}
		i++
		r.tick()
	}
	for range 100 { // let the recorder's ring reach its steady size
		step()
	}
	if n := testing.AllocsPerRun(200, step); n != 0 {
		t.Fatalf("%.1f allocations per tick, want 0", n)
	}
}
