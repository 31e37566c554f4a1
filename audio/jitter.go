package audio

import (
	"fmt"
	"sync"
	"time"
)

// Status says what Pop produced for one playout tick.
type Status uint8

const (
	// StatusEmpty: nothing to play yet (buffering at the start of a stream
	// or after a long gap). Play silence; do not run loss concealment.
	StatusEmpty Status = iota
	// StatusPacket: Frame.Payload holds the packet to decode.
	StatusPacket
	// StatusLost: the packet for this tick is missing; conceal it. When the
	// packet after it is already here Frame.Next holds its payload (Opus
	// rebuilds the lost frame from that packet's in-band FEC).
	StatusLost
)

func (s Status) String() string {
	switch s {
	case StatusEmpty:
		return "empty"
	case StatusPacket:
		return "packet"
	case StatusLost:
		return "lost"
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// Frame is one playout tick's result. Payload and Next belong to the
// buffer and stay valid until the next Pop.
type Frame struct {
	Seq       uint16
	Timestamp uint32
	Payload   []byte
	Next      []byte
}

// JitterOptions configure a JitterBuffer. Zero fields take the defaults.
type JitterOptions struct {
	// ClockRate is the RTP timestamp clock (default 8000).
	ClockRate int
	// FrameTicks is the timestamp increment of one packet (default
	// ClockRate·FrameDuration, i.e. 20 ms).
	FrameTicks int
	// MinDelay and MaxDelay bound the adaptive target delay (defaults 40 ms
	// and 120 ms). The buffer starts playing once MinDelay worth of audio
	// (or the current target) is buffered.
	MinDelay, MaxDelay time.Duration
	// Capacity is the number of packet slots (default 64, 1.28 s of 20 ms
	// frames). A packet further ahead than that is a stream jump and resets
	// the buffer.
	Capacity int
}

// JitterStats is a snapshot of a JitterBuffer's counters and estimates.
type JitterStats struct {
	Received   uint64 // packets pushed
	Played     uint64 // packets handed out by Pop
	Lost       uint64 // ticks concealed because a packet was missing
	Late       uint64 // packets dropped because their tick had passed
	Duplicates uint64 // packets dropped as duplicates
	Dropped    uint64 // packets discarded to shrink an excessive delay
	Underruns  uint64 // ticks with nothing buffered while playing
	// Stretched counts ticks concealed to grow the delay: the packet for
	// the tick was missing but later ones were here and the buffer held
	// less than the target, so it waited for the late packet instead of
	// declaring it lost.
	Stretched uint64
	// Silences counts comfort-noise packets (PushSilence): the sender
	// stopped talking, which is neither loss nor underrun.
	Silences uint64
	Resets   uint64 // stream jumps (timestamp/sequence discontinuities, Reset)
	// Jitter is the RFC 3550 interarrival jitter estimate.
	Jitter time.Duration
	// Target is the current adaptive target delay, within [MinDelay, MaxDelay].
	Target time.Duration
	// Delay is the smoothed amount of audio buffered ahead of playout.
	Delay time.Duration
	// Buffered is the number of packets held right now.
	Buffered int
}

// JitterBuffer reorders RTP payloads by timestamp and releases one per
// playout tick, hiding network jitter behind an adaptive delay.
//
// Push is called by the network reader as packets arrive, Pop by the
// playout clock once per frame; both are safe to call concurrently.
//
// Adaptation runs all through the stream, not only at its start. The
// target delay is the spread (max − min) of the packets' relative transit
// time over the last 128 packets plus one frame, clamped to [MinDelay,
// MaxDelay]; playout starts when the buffer holds the target. Then:
//
//   - grow: when the packet for a tick is missing and the buffer holds
//     less than the target (later packets are here, or nothing is), the
//     playout point holds for one tick (the consumer conceals) instead of
//     declaring the packet lost. Each such tick lengthens the delay by
//     one frame, so rising jitter turns late packets into a longer delay
//     rather than a stream of losses. A missing packet with the target
//     already buffered behind it is lost.
//   - shrink: when over a whole window of half a second the buffer never
//     held as little as the target, one frame is discarded. The delay
//     thus comes down one frame per 500 ms at most once jitter falls
//     (the target follows the transit window, 2.5 s of packets), never
//     below the target and so never below MinDelay.
//
// Together these also absorb clock drift between sender and playout clock.
// Comfort noise (PushSilence) ends a talkspurt: the ticks after it are
// silence, neither loss nor underrun, and the next talkspurt buffers anew.
type JitterBuffer struct {
	mu sync.Mutex

	clockRate  int
	frameTicks int32
	frameDur   time.Duration
	minDelay   time.Duration
	maxDelay   time.Duration

	slots     []jitterSlot
	head      int    // slot of the playout cursor
	baseTS    uint32 // timestamp of the frame at the cursor
	newest    int    // frames from the cursor to the newest packet, -1 when empty
	count     int    // packets held
	anchored  bool
	started   bool
	holding   int // consecutive underrun ticks
	stretched int // consecutive ticks held for a late packet

	lastSeq  uint16
	lastTS   uint32
	lastArr  time.Time
	havePrev bool
	jitter   float64 // RFC 3550 J, in timestamp ticks

	// Relative transit times (arrival − media time) of recent packets.
	transit   [128]time.Duration
	transitN  int
	transitAt int
	extTS     int64 // unwrapped timestamp of the last packet, for transit
	firstArr  time.Time
	target    time.Duration

	// Level window: frames buffered at each Pop over the last levelWindow pops.
	winPops        int
	winMin, winMax int
	delayAvg       float64 // frames, smoothed
	out, outNext   []byte
	stats          JitterStats
}

type jitterSlot struct {
	used    bool
	silence bool // a comfort-noise marker, no audio
	seq     uint16
	ts      uint32
	payload []byte
}

const (
	jitterLevelWindow = 25  // pops (500 ms) between shrink decisions
	jitterSeqJump     = 100 // sequence jump treated as a new stream
)

// NewJitterBuffer returns an empty buffer.
func NewJitterBuffer(opts JitterOptions) *JitterBuffer {
	if opts.ClockRate <= 0 {
		opts.ClockRate = 8000
	}
	if opts.FrameTicks <= 0 {
		opts.FrameTicks = SamplesPerFrame(opts.ClockRate)
	}
	if opts.MinDelay <= 0 {
		opts.MinDelay = 40 * time.Millisecond
	}
	if opts.MaxDelay <= 0 {
		opts.MaxDelay = 120 * time.Millisecond
	}
	if opts.MaxDelay < opts.MinDelay {
		opts.MaxDelay = opts.MinDelay
	}
	if opts.Capacity <= 0 {
		opts.Capacity = 64
	}
	frameDur := time.Duration(opts.FrameTicks) * time.Second / time.Duration(opts.ClockRate)
	// Room for the largest delay plus a burst of the same size.
	opts.Capacity = max(opts.Capacity, 2*int(opts.MaxDelay/frameDur)+2)
	j := &JitterBuffer{
		clockRate:  opts.ClockRate,
		frameTicks: int32(opts.FrameTicks),
		frameDur:   frameDur,
		minDelay:   opts.MinDelay,
		maxDelay:   opts.MaxDelay,
		slots:      make([]jitterSlot, opts.Capacity),
		newest:     -1,
		target:     opts.MinDelay,
	}
	j.resetWindow()
	return j
}

// Reset empties the buffer for a new stream (new SSRC, re-INVITE). The
// jitter and target estimates are kept: the network has not changed.
func (j *JitterBuffer) Reset() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.reset()
}

func (j *JitterBuffer) reset() {
	for i := range j.slots {
		j.slots[i].used = false
	}
	j.head, j.newest, j.count = 0, -1, 0
	j.anchored, j.started, j.havePrev = false, false, false
	j.holding, j.stretched = 0, 0
	j.transitN, j.transitAt = 0, 0
	j.resetWindow()
	j.stats.Resets++
}

func (j *JitterBuffer) resetWindow() {
	j.winPops, j.winMin, j.winMax = 0, int(^uint(0)>>1), 0
}

// Push stores a packet. The payload is copied; the caller may reuse it.
// arrival is when the packet was read from the network.
func (j *JitterBuffer) Push(seq uint16, ts uint32, payload []byte, arrival time.Time) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.stats.Received++

	if j.havePrev {
		dseq := int16(seq - j.lastSeq)
		if dseq > jitterSeqJump || dseq < -jitterSeqJump {
			j.reset()
		}
	}
	if !j.anchored {
		j.anchor(ts)
	}
	rel := j.frameOf(ts)
	if rel < -len(j.slots) || rel >= len(j.slots) {
		// Far outside anything a network reorders: a new timeline.
		j.reset()
		j.anchor(ts)
		rel = 0
	}
	if rel < 0 && !j.started && j.newest-rel < len(j.slots) {
		// Reordered before playout began: move the start back to it.
		j.head = (j.head + rel + len(j.slots)) % len(j.slots)
		j.baseTS += uint32(int32(rel) * j.frameTicks)
		j.newest -= rel
		rel = 0
	}
	j.estimate(seq, ts, arrival)
	if rel < 0 {
		j.stats.Late++
		return
	}
	s := &j.slots[(j.head+rel)%len(j.slots)]
	if s.used {
		if s.ts == ts && !s.silence {
			j.stats.Duplicates++
			return
		}
		// A misaligned timestamp landing in a used slot, or audio where
		// comfort noise was announced: the newest audio wins.
		j.count--
	}
	s.used, s.silence, s.seq, s.ts = true, false, seq, ts
	s.payload = append(s.payload[:0], payload...)
	j.count++
	if j.started && j.holding > 0 && rel > 0 && j.count == 1 {
		// The buffer ran dry and held. The packets between the cursor and
		// this one are lost, or late. Their ticks were already concealed
		// while holding: catch up so a loss burst does not add delay, but
		// only as far as keeps the target buffered, so that a packet that
		// is merely late (this one overtook it) still plays.
		skip := min(rel, j.holding, max(0, rel+1-j.framesFor(j.target)))
		j.advance(skip)
		j.stats.Lost += uint64(skip)
		rel -= skip
	}
	j.newest = max(j.newest, rel)
}

// PushSilence records an RFC 3389 comfort-noise packet: the sender stops
// sending audio from ts on because its speaker went quiet. When playout
// reaches ts the talkspurt is over: Pop returns StatusEmpty (play silence,
// no concealment, no loss counted) until the next talkspurt has buffered
// the target delay. The jitter estimates are kept: the network is the same.
func (j *JitterBuffer) PushSilence(seq uint16, ts uint32, arrival time.Time) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.stats.Silences++
	if !j.anchored {
		return // nothing playing: silence already
	}
	rel := j.frameOf(ts)
	if rel < 0 || rel >= len(j.slots) {
		if rel < 0 && j.count == 0 {
			// Its tick has passed (the buffer holds on an underrun):
			// end the talkspurt now rather than concealing on.
			j.idle()
		}
		return
	}
	s := &j.slots[(j.head+rel)%len(j.slots)]
	if s.used {
		return // audio for that tick is here: it plays
	}
	s.used, s.silence, s.seq, s.ts = true, true, seq, ts
	s.payload = s.payload[:0]
	j.count++
	j.newest = max(j.newest, rel)
}

// idle stops playout until the next packet anchors a new talkspurt.
func (j *JitterBuffer) idle() {
	j.started, j.anchored = false, false
	j.holding, j.stretched = 0, 0
}

func (j *JitterBuffer) anchor(ts uint32) {
	j.baseTS = ts
	j.anchored = true
}

// frameOf returns the frame distance of ts from the cursor, rounded to the
// nearest frame and wrap-safe.
func (j *JitterBuffer) frameOf(ts uint32) int {
	d := int64(int32(ts - j.baseTS))
	f := int64(j.frameTicks)
	if d >= 0 {
		return int((d + f/2) / f)
	}
	return -int((-d + f/2 - 1) / f)
}

// estimate updates the RFC 3550 jitter and the transit window, and from it
// the target delay.
func (j *JitterBuffer) estimate(seq uint16, ts uint32, arrival time.Time) {
	if !j.havePrev {
		j.havePrev = true
		j.extTS = 0
		j.firstArr = arrival
	} else {
		dts := int32(ts - j.lastTS)
		j.extTS += int64(dts)
		arrTicks := float64(arrival.Sub(j.lastArr)) * float64(j.clockRate) / float64(time.Second)
		d := arrTicks - float64(dts)
		if d < 0 {
			d = -d
		}
		j.jitter += (d - j.jitter) / 16
	}
	j.lastSeq, j.lastTS, j.lastArr = seq, ts, arrival
	tr := arrival.Sub(j.firstArr) - time.Duration(j.extTS)*time.Second/time.Duration(j.clockRate)
	j.transit[j.transitAt] = tr
	j.transitAt = (j.transitAt + 1) % len(j.transit)
	j.transitN = min(j.transitN+1, len(j.transit))
	lo, hi := tr, tr
	for _, v := range j.transit[:j.transitN] {
		lo, hi = min(lo, v), max(hi, v)
	}
	j.target = min(max(hi-lo+j.frameDur, j.minDelay), j.maxDelay)
}

// framesFor converts a delay to whole frames, rounding up.
func (j *JitterBuffer) framesFor(d time.Duration) int {
	return int((d + j.frameDur - 1) / j.frameDur)
}

// advance moves the cursor n frames, discarding what it passes.
func (j *JitterBuffer) advance(n int) {
	for range n {
		s := &j.slots[j.head]
		if s.used {
			s.used = false
			j.count--
		}
		j.head = (j.head + 1) % len(j.slots)
		j.baseTS += uint32(j.frameTicks)
		j.newest--
	}
	if j.count == 0 {
		j.newest = -1
	}
}

// Pop returns what to play for the current tick. Call it once per frame
// from the playout clock.
func (j *JitterBuffer) Pop() (Frame, Status) {
	j.mu.Lock()
	defer j.mu.Unlock()

	if !j.started {
		// Start at the oldest packet held, once the target is buffered.
		for j.count > 0 && !j.slots[j.head].used {
			j.advance(1)
		}
		if j.count > 0 && j.slots[j.head].silence {
			// A talkspurt that ended before it started.
			j.advance(1)
			return Frame{}, StatusEmpty
		}
		if j.count == 0 || (j.newest+1)*int(j.frameDur) < int(j.target) {
			return Frame{}, StatusEmpty
		}
		j.started = true
		j.holding, j.stretched = 0, 0
		j.resetWindow()
	}
	level := 0
	if j.count > 0 {
		level = j.newest + 1
	}
	j.track(level)

	// Never hold more than MaxDelay: shed the excess at once.
	if maxFrames := j.framesFor(j.maxDelay); level > maxFrames+1 {
		j.discard(level - maxFrames - 1)
		level = maxFrames + 1
	}

	s := &j.slots[j.head]
	switch {
	case s.used && s.silence:
		// The talkspurt is over. What is buffered after the marker (a
		// new talkspurt overtaking it) starts like a new stream.
		j.advance(1)
		if j.count == 0 {
			j.idle()
		} else {
			j.started = false
		}
		return Frame{}, StatusEmpty
	case s.used:
		f := Frame{Seq: s.seq, Timestamp: s.ts}
		j.out = append(j.out[:0], s.payload...)
		f.Payload = j.out
		j.advance(1)
		j.holding, j.stretched = 0, 0
		j.stats.Played++
		return f, StatusPacket
	case j.count > 0 && level < j.framesFor(j.target) && j.stretched < j.framesFor(j.maxDelay):
		// The packet is late and later ones are here, but the buffer
		// holds less than the target: jitter has grown. Wait for it one
		// tick, which lengthens the delay by a frame, rather than lose it.
		j.stretched++
		j.stats.Stretched++
		return Frame{Timestamp: j.baseTS}, StatusLost
	case j.count > 0:
		f := Frame{Timestamp: j.baseTS}
		n := &j.slots[(j.head+1)%len(j.slots)]
		if n.used && !n.silence && n.ts == j.baseTS+uint32(j.frameTicks) {
			j.outNext = append(j.outNext[:0], n.payload...)
			f.Next = j.outNext
		}
		j.advance(1)
		j.holding, j.stretched = 0, 0
		j.stats.Lost++
		return f, StatusLost
	}
	// Underrun: the packet is late or the stream paused. Hold the cursor so
	// a late packet still plays; after MaxDelay of nothing, start over.
	j.stats.Underruns++
	j.holding++
	if j.holding > j.framesFor(j.maxDelay) {
		j.idle()
		return Frame{}, StatusEmpty
	}
	return Frame{Timestamp: j.baseTS}, StatusLost
}

// track feeds the level window and shrinks the delay by one frame when
// the buffer held more than the target throughout the window: that frame
// of delay protected against nothing. Under high jitter the level swings
// and its minimum touches the target, so the delay stays.
func (j *JitterBuffer) track(level int) {
	j.delayAvg += (float64(level) - j.delayAvg) / 8
	j.winMin, j.winMax = min(j.winMin, level), max(j.winMax, level)
	j.winPops++
	if j.winPops < jitterLevelWindow {
		return
	}
	if j.winMin > j.framesFor(j.target) && level > j.framesFor(j.target) {
		j.discard(1)
	}
	j.resetWindow()
}

func (j *JitterBuffer) discard(n int) {
	for range n {
		if s := &j.slots[j.head]; s.used && !s.silence {
			j.stats.Dropped++
		}
		j.advance(1)
	}
}

// Stats returns a snapshot of the counters and estimates.
func (j *JitterBuffer) Stats() JitterStats {
	j.mu.Lock()
	defer j.mu.Unlock()
	s := j.stats
	s.Jitter = time.Duration(j.jitter * float64(time.Second) / float64(j.clockRate))
	s.Target = j.target
	s.Delay = time.Duration(j.delayAvg * float64(j.frameDur))
	s.Buffered = j.count
	return s
}
