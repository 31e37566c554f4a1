package media

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agentphone/agentphone/audio"
	dmedia "github.com/emiago/diago/media"
	"github.com/pion/rtp"
)

// Sink receives what an internal listener (recorder, transcriber) hears,
// one frame per tick at ParticipantConfig.Rate. audio.Device satisfies it.
type Sink interface {
	WriteFrame(f []int16) error
}

// ParticipantConfig describes one participant. Exactly one of Conn
// (an RTP leg), Source (internal audio: hold music, IVR prompt) or Sink
// (internal listener: recorder) is set.
type ParticipantConfig struct {
	Name string // "customer", "agent:1001", "music", ...; unique in the room

	Conn            RTPConn     // RTP leg
	Codec           audio.Codec // negotiated codec of the leg
	PayloadType     uint8       // negotiated PT (dynamic for Opus); 0 with PCMU is valid
	DTMFPayloadType uint8       // telephone-event PT; 0 = none
	// DTMFClockRate is the clock of the telephone-event PT; 0 means 8000,
	// the only rate diago negotiates.
	DTMFClockRate int

	Source audio.Source // internal speaker, read once per tick
	Sink   Sink         // internal listener, written once per tick
	// Rate is the PCM rate of Source or Sink; 0 means audio.DeviceRate.
	Rate int

	Speaks bool    // its audio goes into others' mixes
	Hears  HearSet // whose audio it receives
}

// Stats are a participant's counters since it joined.
type Stats struct {
	PacketsIn  uint64 // RTP audio packets accepted into the jitter buffer
	PacketsOut uint64 // RTP packets written (audio and telephone-event)
	Lost       uint64 // frames missing when their turn came
	Late       uint64 // packets arriving after their turn, discarded
	Concealed  uint64 // frames synthesised by the decoder's concealment
	// DroppedWrongSource counts packets from an address other than the
	// one the leg locked onto (see SourceConn). Conns that cannot tell
	// the sender never lock, and this stays 0.
	DroppedWrongSource uint64
	DroppedOther       uint64 // unknown payload type, undecodable
	// ComfortNoise counts RFC 3389 packets: the far end went quiet. Its
	// silence is played as silence, neither lost nor concealed.
	ComfortNoise uint64
	DTMFIn       uint64 // digits received
	DTMFOut      uint64 // digits sent
	WriteErrors  uint64
}

// Participant is one member of a room.
type Participant struct {
	room *Room
	name string

	conn     RTPConn
	codec    audio.Codec
	pt       uint8
	dtmfPT   uint8
	dtmfStep uint16 // telephone-event clock ticks per frame
	source   audio.Source
	sink     Sink
	// opus is set for audio.Opus legs, whose codec runs at the room's
	// rate when that is narrowband (opusnb.go): rate and natFrame then
	// change with the room's, guarded by room.mu.
	opus      bool
	rate      int    // native PCM rate: the codec's, or Rate for internal ones
	natFrame  int    // samples per frame at rate
	tsStep    uint32 // RTP clock ticks per frame
	stopCtx   func() bool
	leaveOnce sync.Once

	// Guarded by room.mu.
	speaks   bool
	hears    HearSet
	hearFrom []*Participant // hears resolved to members, without p
	roomRate int
	up       *audio.Resampler // rate -> roomRate, nil when equal
	down     *audio.Resampler // roomRate -> rate, nil when equal

	// Tick state, touched only by the tick with room.mu held.
	active  bool    // in holds this tick's audio
	in      []int16 // this tick's audio at the room rate
	mix     []int16 // what p hears this tick at the room rate
	nat     []int16 // native-rate scratch (decode output, encode input)
	dec     audio.Decoder
	enc     audio.Encoder
	payload []byte
	pkt     rtp.Packet
	sent    bool // a packet went out since the last gap
	dtmfOut dtmfSender
	// writeErrLogged keeps a dead leg from logging 50 errors a second.
	writeErrLogged bool

	// jb is safe for the reader's Push and the tick's Pop at once.
	jb *audio.JitterBuffer
	// carry is how much of p.nat, from carryAt, is decoded audio still to
	// play: a 40 or 60 ms Opus frame decodes whole and plays over several
	// ticks. Tick state.
	carry, carryAt int

	// Reader state.
	stopping atomic.Bool
	readDone chan struct{}
	intr     interrupter
	dtmfIn   dtmfReceiver    // reader goroutine only
	inSSRC   uint32          // reader goroutine only: SSRC of the audio stream
	reframe  *audio.Reframer // reader goroutine only: any ptime to 20 ms
	haveSSRC bool            // reader goroutine only
	fromAddr func() net.Addr // sender of the last read; nil when the conn cannot tell
	srcLock  sourceLock      // reader goroutine only
	digits   chan rune       // reader -> tick, for OnDTMF
	stats    counters
}

type counters struct {
	packetsIn, packetsOut, concealed           atomic.Uint64
	droppedOther, dtmfIn, dtmfOut, writeErrors atomic.Uint64
	wrongSource, comfortNoise                  atomic.Uint64
}

// comfortNoisePT is the static RTP payload type of RFC 3389 comfort
// noise at 8 kHz (RFC 3551).
const comfortNoisePT = 13

// opusMaxFrame is the largest frame an Opus packet can carry (120 ms at
// 48 kHz); decoding into anything smaller fails on such packets.
const opusMaxFrame = 5760

func newParticipant(r *Room, cfg ParticipantConfig) (*Participant, error) {
	if cfg.Name == "" {
		return nil, fmt.Errorf("empty name: %w", ErrBadConfig)
	}
	kinds := 0
	for _, set := range []bool{cfg.Conn != nil, cfg.Source != nil, cfg.Sink != nil} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return nil, fmt.Errorf("exactly one of Conn, Source, Sink must be set: %w", ErrBadConfig)
	}
	p := &Participant{
		room:   r,
		name:   cfg.Name,
		conn:   cfg.Conn,
		source: cfg.Source,
		sink:   cfg.Sink,
		speaks: cfg.Speaks,
		hears:  cfg.Hears,
		in:     make([]int16, maxFrame),
		mix:    make([]int16, maxFrame),
	}
	if cfg.Source != nil && !cfg.Hears.Empty() {
		return nil, fmt.Errorf("source %s cannot hear: %w", cfg.Name, ErrBadConfig)
	}
	if cfg.Sink != nil && cfg.Speaks {
		return nil, fmt.Errorf("sink %s cannot speak: %w", cfg.Name, ErrBadConfig)
	}
	if cfg.Conn == nil {
		p.rate = cfg.Rate
		if p.rate == 0 {
			p.rate = audio.DeviceRate
		}
		p.natFrame = audio.SamplesPerFrame(p.rate)
		p.nat = make([]int16, p.natFrame)
		return p, nil
	}

	if cfg.Codec == nil {
		return nil, fmt.Errorf("leg %s without codec: %w", cfg.Name, ErrBadConfig)
	}
	var err error
	if cfg.Codec != audio.Codec(audio.Opus) {
		if p.dec, err = cfg.Codec.NewDecoder(); err != nil {
			return nil, fmt.Errorf("%s decoder: %w", cfg.Codec.Name(), err)
		}
	}
	if cfg.Codec == audio.Codec(audio.Opus) {
		// Our own Opus: the room picks its encoder's CPU budget, and the
		// PCM rate follows the room's (see opusnb.go). Any other Codec
		// value brings its own encoder at its own rate.
		p.opus = true
		var c *opusCodec
		if c, err = newOpusCodec(wideRate, r.opus); err == nil {
			p.enc, p.dec = c, c
		}
	} else {
		p.enc, err = cfg.Codec.NewEncoder()
	}
	if err != nil {
		return nil, fmt.Errorf("%s encoder: %w", cfg.Codec.Name(), err)
	}
	p.codec = cfg.Codec
	p.pt = cfg.PayloadType
	p.dtmfPT = cfg.DTMFPayloadType
	p.rate = cfg.Codec.SampleRate()
	p.natFrame = cfg.Codec.FrameSamples()
	p.tsStep = uint32(cfg.Codec.ClockRate() * int(audio.FrameDuration/time.Millisecond) / 1000)
	dtmfClock := cfg.DTMFClockRate
	if dtmfClock == 0 {
		dtmfClock = 8000
	}
	p.dtmfStep = uint16(dtmfClock * int(audio.FrameDuration/time.Millisecond) / 1000)
	// Only Opus decodes more than one frame from a packet (a 40–120 ms
	// frame the Reframer cannot cut); G.711 arrives cut to 20 ms. Sized
	// per codec, a G.711 leg saves 11 KB of the call's memory.
	natCap := p.natFrame
	if p.opus || strings.EqualFold(cfg.Codec.Name(), "opus") {
		natCap = max(opusMaxFrame, p.natFrame)
	}
	p.nat = make([]int16, natCap)
	p.payload = make([]byte, 1500)
	p.jb = audio.NewJitterBuffer(jitterOptions(cfg.Codec))
	if p.reframe, err = audio.NewReframer(cfg.Codec); err != nil {
		return nil, fmt.Errorf("leg %s: %w", cfg.Name, err)
	}
	p.digits = make(chan rune, 16)
	p.intr = interrupterFor(cfg.Conn)
	p.fromAddr = sourceFunc(cfg.Conn)
	p.pkt.Header = rtp.Header{
		Version:        2,
		PayloadType:    p.pt,
		SSRC:           rand.Uint32(),
		SequenceNumber: uint16(rand.Uint32()),
		Timestamp:      rand.Uint32(),
	}
	return p, nil
}

// Name returns the participant's name.
func (p *Participant) Name() string { return p.name }

// Room returns the room p joined.
func (p *Participant) Room() *Room { return p.room }

// Codec returns the leg's codec, nil for internal participants.
func (p *Participant) Codec() audio.Codec { return p.codec }

// SSRC returns the SSRC of what the room sends to this leg.
func (p *Participant) SSRC() uint32 { return p.pkt.SSRC }

// SetHears changes whose audio p receives, from the next tick on.
func (p *Participant) SetHears(h HearSet) {
	r := p.room
	r.mu.Lock()
	defer r.mu.Unlock()
	p.hears = h
	p.resolveHears(r.parts)
}

// Hears returns p's hear set.
func (p *Participant) Hears() HearSet {
	p.room.mu.Lock()
	defer p.room.mu.Unlock()
	return p.hears
}

// SetSpeaks changes whether p's audio goes into others' mixes.
func (p *Participant) SetSpeaks(on bool) {
	p.room.mu.Lock()
	defer p.room.mu.Unlock()
	p.speaks = on
}

// Speaks reports whether p's audio goes into others' mixes.
func (p *Participant) Speaks() bool {
	p.room.mu.Lock()
	defer p.room.mu.Unlock()
	return p.speaks
}

// Leave removes p from its room and stops its reader. It is idempotent.
// The RTPConn stays open: it can join another room (transfer). When the
// conn can be interrupted (SetReadDeadline, or diago's StopRTP) Leave
// waits for the reader; otherwise the reader ends with the conn's next
// packet or error and never touches the room again.
func (p *Participant) Leave() {
	p.leaveOnce.Do(func() {
		if stopCtx, ok := p.room.remove(p); ok {
			stopCtx()
			p.detach()
			p.room.log.Debug("left", "participant", p.name)
		}
	})
}

// detach stops the reader goroutine once p is out of the room.
func (p *Participant) detach() {
	if p.readDone == nil {
		return
	}
	p.stopping.Store(true)
	if p.intr == nil {
		return
	}
	if err := p.intr.interrupt(); err != nil && !errors.Is(err, net.ErrClosed) {
		// A closed conn (the call hung up first) ends the read by
		// itself; anything else means the read may never wake.
		p.room.log.Warn("interrupt RTP read", "participant", p.name, "err", err)
		return
	}
	<-p.readDone
	if err := p.intr.resume(); err != nil && !errors.Is(err, net.ErrClosed) {
		p.room.log.Warn("resume RTP read", "participant", p.name, "err", err)
	}
}

// Stats returns p's counters.
func (p *Participant) Stats() Stats {
	c := &p.stats
	var js audio.JitterStats
	if p.jb != nil {
		js = p.jb.Stats()
	}
	return Stats{
		PacketsIn:          c.packetsIn.Load(),
		PacketsOut:         c.packetsOut.Load(),
		Lost:               js.Lost,
		Late:               js.Late,
		Concealed:          c.concealed.Load(),
		DroppedOther:       c.droppedOther.Load(),
		DroppedWrongSource: c.wrongSource.Load(),
		ComfortNoise:       c.comfortNoise.Load(),
		DTMFIn:             c.dtmfIn.Load(),
		DTMFOut:            c.dtmfOut.Load(),
		WriteErrors:        c.writeErrors.Load(),
	}
}

func (p *Participant) String() string { return p.name }

// talks reports whether p has audio to give: a sink never has, whatever
// its speaks flag says.
func (p *Participant) talks() bool { return p.conn != nil || p.source != nil }

// speaking reports whether p's audio goes into mixes this tick. Called
// with room.mu held.
func (p *Participant) speaking() bool { return p.speaks && p.talks() }

// listens reports whether p has anywhere to send audio.
func (p *Participant) listens() bool { return p.conn != nil || p.sink != nil }

// setRoomRate rebuilds p's resamplers for a new room rate. Called with
// room.mu held.
func (p *Participant) setRoomRate(rate int) error {
	p.roomRate = rate
	p.up, p.down = nil, nil
	if p.opus && p.rate != rate {
		// A fresh codec at the new rate: libopus cannot change a
		// decoder's output rate, and the switch (a second Opus leg
		// joins or leaves) costs one frame of decoder history.
		c, err := newOpusCodec(rate, p.room.opus)
		if err != nil {
			return fmt.Errorf("opus at %d Hz for %s: %w", rate, p.name, err)
		}
		p.enc, p.dec = c, c
		p.rate, p.natFrame = rate, c.frame
		p.carry, p.carryAt = 0, 0
	}
	if p.rate == rate {
		return nil
	}
	var err error
	if p.talks() {
		if p.up, err = audio.NewResampler(p.rate, rate); err != nil {
			return fmt.Errorf("resampler %d->%d for %s: %w", p.rate, rate, p.name, err)
		}
	}
	if p.listens() {
		if p.down, err = audio.NewResampler(rate, p.rate); err != nil {
			return fmt.Errorf("resampler %d->%d for %s: %w", rate, p.rate, p.name, err)
		}
	}
	return nil
}

// resolveHears maps p's hear set to members. Called with room.mu held.
func (p *Participant) resolveHears(parts []*Participant) {
	p.hearFrom = p.hearFrom[:0]
	if p.hears.all {
		return
	}
	for _, q := range parts {
		if q != p && p.hears.Contains(q.name) {
			p.hearFrom = append(p.hearFrom, q)
		}
	}
}

// pull fills p.in with this tick's audio at the room rate; it reports
// false when p has nothing to say (no packets yet, buffer underrun).
func (p *Participant) pull(frame int) bool {
	n := 0
	if p.source != nil {
		p.source.Read(p.nat[:p.natFrame])
		n = p.natFrame
	} else {
		var ok bool
		if n, ok = p.decodeNext(); !ok {
			return false
		}
	}
	if p.up == nil {
		m := copy(p.in[:frame], p.nat[:min(n, p.natFrame)])
		clear(p.in[m:frame])
		return true
	}
	m := p.up.Process(p.nat[:min(n, p.natFrame)], p.in[:frame])
	clear(p.in[m:frame])
	return true
}

// emit sends p's mix: to the sink, or encoded to the leg. heard=false
// means a gap: nothing is sent but the RTP clock still advances, and the
// next packet carries the marker bit.
func (p *Participant) emit(heard bool) {
	frame := audio.SamplesPerFrame(p.roomRate)
	if p.sink != nil {
		if !heard {
			clear(p.mix[:frame])
		}
		out := p.toNative(frame)
		if err := p.sink.WriteFrame(out); err != nil && !p.writeErrLogged {
			p.writeErrLogged = true
			p.room.log.Warn("sink write", "participant", p.name, "err", err)
		}
		return
	}
	defer func() { p.pkt.Timestamp += p.tsStep }()
	if p.dtmfOut.active() {
		p.sendDTMFPacket()
		return
	}
	if !heard {
		p.sent = false
		return
	}
	out := p.toNative(frame)
	n, err := p.enc.Encode(out, p.payload)
	if err != nil {
		p.stats.droppedOther.Add(1)
		p.logWriteErr("encode", err)
		return
	}
	p.pkt.PayloadType = p.pt
	p.pkt.Marker = !p.sent
	p.pkt.Payload = p.payload[:n]
	p.write()
}

// toNative returns p.mix at p's native rate.
func (p *Participant) toNative(frame int) []int16 {
	if p.down == nil {
		return p.mix[:frame]
	}
	m := p.down.Process(p.mix[:frame], p.nat[:p.natFrame])
	clear(p.nat[m:p.natFrame])
	return p.nat[:p.natFrame]
}

func (p *Participant) write() {
	err := p.conn.WriteRTP(&p.pkt)
	p.pkt.SequenceNumber++
	if err != nil {
		p.stats.writeErrors.Add(1)
		p.logWriteErr("write RTP", err)
		return
	}
	p.sent = true
	p.stats.packetsOut.Add(1)
}

func (p *Participant) logWriteErr(what string, err error) {
	if p.writeErrLogged {
		return
	}
	p.writeErrLogged = true
	p.room.log.Warn(what, "participant", p.name, "err", err)
}

// startReader starts the goroutine feeding the jitter buffer.
func (p *Participant) startReader() {
	p.readDone = make(chan struct{})
	if p.intr != nil {
		p.room.readers.Add(1)
	}
	go p.read()
}

// rtpBufSize fits any datagram on a 1500-byte MTU path; diago's ReadRTP
// refuses smaller buffers.
const rtpBufSize = 1600

func (p *Participant) read() {
	defer func() {
		close(p.readDone)
		if p.intr != nil {
			p.room.readers.Done()
		}
	}()
	buf := make([]byte, rtpBufSize)
	var pkt rtp.Packet
	for {
		n, err := p.conn.ReadRTP(buf, &pkt)
		if p.stopping.Load() {
			return
		}
		if err != nil {
			// A closed conn is the normal end of a call; anything else
			// (a deadline set by the conn's owner) still ends this
			// reader, since reading on would spin.
			if !errors.Is(err, net.ErrClosed) {
				p.room.log.Warn("RTP read ended", "participant", p.name, "err", err)
			}
			return
		}
		if n == 0 || pkt.Version != 2 || len(pkt.Payload) == 0 {
			// diago returns n=0 for packets it parsed but wants
			// ignored (sendonly, unknown PT); empty payloads are
			// keep-alives.
			continue
		}
		if p.fromAddr != nil && !p.srcLock.accept(p.fromAddr(), pkt.SequenceNumber) {
			p.stats.wrongSource.Add(1)
			continue
		}
		p.receive(&pkt)
	}
}

// receive handles one packet from the leg.
func (p *Participant) receive(pkt *rtp.Packet) {
	switch {
	case p.dtmfPT != 0 && pkt.PayloadType == p.dtmfPT:
		p.receiveDTMF(pkt)
	case pkt.PayloadType == comfortNoisePT && p.pt != comfortNoisePT:
		// The far end stopped talking (RFC 3389): end the talkspurt in
		// the jitter buffer so its silence is not taken for loss and
		// concealed. The noise level itself is not rendered: the room
		// mixes silence, and the listeners' phones add their own.
		p.stats.comfortNoise.Add(1)
		if p.haveSSRC && pkt.SSRC == p.inSSRC {
			p.jb.PushSilence(pkt.SequenceNumber, pkt.Timestamp, p.room.clock.Now())
		}
	case pkt.PayloadType == p.pt:
		if !p.haveSSRC || pkt.SSRC != p.inSSRC {
			// A new stream (the far end restarted it, or a re-INVITE
			// moved it): its sequence and timestamps have nothing to do
			// with the old ones.
			if p.haveSSRC {
				p.jb.Reset()
				p.reframe.Reset()
			}
			p.inSSRC, p.haveSSRC = pkt.SSRC, true
		}
		// Peers may send 10 to 60 ms per packet; the jitter buffer and
		// the tick work in 20 ms frames.
		frames, err := p.reframe.Push(pkt.Timestamp, pkt.Payload)
		if err != nil {
			p.stats.droppedOther.Add(1)
			return
		}
		now := p.room.clock.Now()
		for _, f := range frames {
			p.jb.Push(pkt.SequenceNumber, f.Timestamp, f.Payload, now)
		}
		p.stats.packetsIn.Add(1)
	default:
		p.stats.droppedOther.Add(1)
	}
}

func (p *Participant) receiveDTMF(pkt *rtp.Packet) {
	ev, err := ParseDTMF(pkt.Payload)
	if err != nil {
		p.stats.droppedOther.Add(1)
		return
	}
	prev, prevOK, cur, curOK := p.dtmfIn.push(pkt.Timestamp, ev)
	if prevOK {
		p.reportDTMF(prev)
	}
	if curOK {
		p.reportDTMF(cur)
	}
}

// reportDTMF hands a digit to the tick, which calls OnDTMF. The reader
// never runs the callback itself: a callback that moves the leg to
// another room (Leave) would otherwise wait for its own goroutine.
func (p *Participant) reportDTMF(d rune) {
	p.stats.dtmfIn.Add(1)
	select {
	case p.digits <- d:
	default:
		// Nobody dials 16 digits within 20 ms; a flood is not worth
		// blocking the reader for.
		p.room.log.Warn("DTMF digit dropped, queue full", "participant", p.name, "digit", string(d))
	}
}

// interrupter wakes a blocked ReadRTP without closing the conn, so that
// the conn can move to another room.
type interrupter interface {
	interrupt() error
	resume() error
}

type deadlineConn interface{ SetReadDeadline(time.Time) error }

// rtpStopper is diago's *media.MediaSession.
type rtpStopper interface {
	StopRTP(rw int8, dur time.Duration) error
	StartRTP(rw int8) error
}

type deadlineIntr struct{ c deadlineConn }

func (d deadlineIntr) interrupt() error { return d.c.SetReadDeadline(time.Unix(1, 0)) }
func (d deadlineIntr) resume() error    { return d.c.SetReadDeadline(time.Time{}) }

type stopperIntr struct{ s rtpStopper }

func (s stopperIntr) interrupt() error { return s.s.StopRTP(1, 0) }
func (s stopperIntr) resume() error    { return s.s.StartRTP(1) }

func interrupterFor(c RTPConn) interrupter {
	switch c := c.(type) {
	case *dmedia.RTPSession:
		// The session reads through its MediaSession, which owns the
		// socket deadline.
		return stopperIntr{c.Sess}
	case deadlineConn:
		return deadlineIntr{c}
	case rtpStopper:
		return stopperIntr{c}
	}
	return nil
}
