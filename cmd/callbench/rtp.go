package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/agentphone/agentphone/audio"
)

// The generator's media engine. It must stay far cheaper than the server
// it measures, since both share the machine's two cores: no goroutine per
// leg, no timer per leg. One goroutine wakes every slotPeriod, sends the
// next packet of a quarter of the legs and drains whatever arrived on
// them with non-blocking reads (no netpoller wake-up per packet).
const (
	slots      = 4
	slotPeriod = audio.FrameDuration / slots
	// lateAfter is when a packet counts as late: this much later than the
	// earliest transit seen on its stream, so it would miss a 60 ms
	// jitter buffer (the phones target 40–60 ms).
	lateAfter = 60 * time.Millisecond
)

// payloadSet is what a leg sends: payloads played in a loop, one per 20 ms.
type payloadSet struct {
	pt       uint8
	tsStep   uint32
	payloads [][]byte
}

// encodeTone pre-encodes a looped tone. G.711 tones whose period divides
// a frame give one payload; Opus is stateful, so a whole second is encoded
// once and played in a loop (the tone is periodic, the seam is inaudible
// to a Goertzel filter).
func encodeTone(c audio.Codec, pt uint8, freq float64) (payloadSet, error) {
	enc, err := c.NewEncoder()
	if err != nil {
		return payloadSet{}, fmt.Errorf("%s encoder: %w", c.Name(), err)
	}
	tone := audio.NewTone(freq, 0.3, c.SampleRate())
	frames := 1
	if c.Name() == "opus" {
		frames = 50
	}
	ps := payloadSet{pt: pt, tsStep: uint32(c.ClockRate() / 50)}
	pcm := make([]int16, c.FrameSamples())
	buf := make([]byte, 1500)
	for range frames {
		tone.Read(pcm)
		n, err := enc.Encode(pcm, buf)
		if err != nil {
			return payloadSet{}, fmt.Errorf("%s encode: %w", c.Name(), err)
		}
		ps.payloads = append(ps.payloads, append([]byte(nil), buf[:n]...))
	}
	return ps, nil
}

// LegStats is what one generator leg saw of the server's stream.
type LegStats struct {
	Sent     uint64
	Received uint64
	Expected uint64 // from the sequence numbers: highest − first + 1
	Late     uint64 // arrived more than lateAfter behind the stream's best transit
	Foreign  uint64 // not RTP, or another SSRC mid-stream
	// Tone check (spot-checked legs only): decoded frames, and how many of
	// them the expected tone dominates, and how many carry our own tone
	// back (the mix must be minus self).
	Decoded, ToneFrames, EchoFrames uint64
}

// Lost is the frames that never came.
func (s LegStats) Lost() uint64 {
	if s.Expected > s.Received {
		return s.Expected - s.Received
	}
	return 0
}

func (s *LegStats) add(o LegStats) {
	s.Sent += o.Sent
	s.Received += o.Received
	s.Expected += o.Expected
	s.Late += o.Late
	s.Foreign += o.Foreign
	s.Decoded += o.Decoded
	s.ToneFrames += o.ToneFrames
	s.EchoFrames += o.EchoFrames
}

// leg is one RTP endpoint of the generator.
type leg struct {
	conn  *net.UDPConn
	rtcp  *net.UDPConn // held, never read (see bindPair)
	raw   syscall.RawConn
	peer  netip.AddrPort
	slot  int
	out   payloadSet
	seq   uint16
	ts    uint32
	ssrc  uint32
	pkt   []byte
	frame int

	// receive side
	started           bool
	inSSRC            uint32
	firstSeq, lastSeq uint32 // extended
	bestTransit       time.Duration
	firstTS           uint32
	firstAt           time.Time
	stats             LegStats
	check             *toneCheck
}

// toneCheck decodes what a leg receives and looks for a tone.
type toneCheck struct {
	dec       audio.Decoder
	rate      int
	want, own float64
	pcm       []int16
	skip      int // frames ignored at the start (jitter buffers filling)
}

// bindPair binds an even RTP port and the RTCP port above it. The server
// sends RTCP to port+1 (RFC 3550 §11); on one host that port could be
// another leg's RTP socket or a SIP socket, which would then read the
// reports as garbage, so the generator holds it (and never reads it:
// full, the kernel drops the reports).
func bindPair() (rtpConn, rtcpConn *net.UDPConn, err error) {
	lo := net.IPv4(127, 0, 0, 1)
	for range 64 {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: lo})
		if err != nil {
			return nil, nil, fmt.Errorf("rtp listen: %w", err)
		}
		port := c.LocalAddr().(*net.UDPAddr).Port
		if port%2 == 0 {
			if r, err := net.ListenUDP("udp4", &net.UDPAddr{IP: lo, Port: port + 1}); err == nil {
				_ = r.SetReadBuffer(4 << 10)
				return c, r, nil
			}
		}
		c.Close()
	}
	return nil, nil, errors.New("rtp listen: no free even/odd port pair")
}

func newLeg(ps payloadSet) (*leg, error) {
	c, rtcp, err := bindPair()
	if err != nil {
		return nil, err
	}
	// The kernel default (~200 KB) holds ~1,000 packets; generous for one
	// leg, but set it so a slow slot never drops.
	_ = c.SetReadBuffer(64 << 10)
	raw, err := c.SyscallConn()
	if err != nil {
		c.Close()
		rtcp.Close()
		return nil, fmt.Errorf("rtp raw conn: %w", err)
	}
	return &leg{conn: c, rtcp: rtcp, raw: raw, out: ps, seq: uint16(rand.Uint32()), ts: rand.Uint32(), ssrc: rand.Uint32(),
		pkt: make([]byte, 1600)}, nil
}

func (l *leg) port() int { return l.conn.LocalAddr().(*net.UDPAddr).Port }

// send writes the next packet.
func (l *leg) send() {
	p := l.out.payloads[l.frame%len(l.out.payloads)]
	l.frame++
	b := l.pkt[:12+len(p)]
	b[0] = 0x80
	b[1] = l.out.pt
	if l.frame == 1 {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], l.seq)
	binary.BigEndian.PutUint32(b[4:], l.ts)
	binary.BigEndian.PutUint32(b[8:], l.ssrc)
	copy(b[12:], p)
	l.seq++
	l.ts += l.out.tsStep
	if _, err := l.conn.WriteToUDPAddrPort(b, l.peer); err == nil {
		l.stats.Sent++
	}
}

// drain reads every datagram waiting on the socket without blocking.
func (l *leg) drain(now time.Time, buf []byte, rate int) {
	for {
		var n int
		var rerr error
		err := l.raw.Read(func(fd uintptr) bool {
			n, _, rerr = syscall.Recvfrom(int(fd), buf, syscall.MSG_DONTWAIT)
			return true
		})
		if err != nil || rerr != nil {
			if rerr != nil && !errors.Is(rerr, syscall.EAGAIN) && !errors.Is(rerr, syscall.EINTR) {
				l.stats.Foreign++
			}
			return
		}
		l.receive(buf[:n], now, rate)
	}
}

func (l *leg) receive(b []byte, now time.Time, rate int) {
	if len(b) < 12 || b[0]>>6 != 2 {
		l.stats.Foreign++
		return
	}
	off := 12 + 4*int(b[0]&0x0f)
	if b[0]&0x10 != 0 && len(b) >= off+4 {
		off += 4 + 4*int(binary.BigEndian.Uint16(b[off+2:]))
	}
	if off > len(b) {
		l.stats.Foreign++
		return
	}
	pt := b[1] & 0x7f
	if pt != l.out.pt {
		// telephone-event or comfort noise: not audio frames
		return
	}
	seq := binary.BigEndian.Uint16(b[2:])
	ts := binary.BigEndian.Uint32(b[4:])
	ssrc := binary.BigEndian.Uint32(b[8:])
	if !l.started {
		l.started, l.inSSRC = true, ssrc
		l.firstSeq, l.lastSeq = uint32(seq), uint32(seq)
		l.firstTS, l.firstAt = ts, now
	} else if ssrc != l.inSSRC {
		l.stats.Foreign++
		return
	}
	// Extend the sequence number around the last one seen.
	ext := l.lastSeq&^0xffff | uint32(seq)
	switch d := int32(ext - l.lastSeq); {
	case d < -0x8000:
		ext += 0x10000
	case d > 0x8000:
		ext -= 0x10000
	}
	if int32(ext-l.lastSeq) > 0 {
		l.lastSeq = ext
	}
	l.stats.Received++
	// Transit relative to the first packet: arrival minus media time.
	media := time.Duration(int32(ts-l.firstTS)) * time.Second / time.Duration(rate)
	transit := now.Sub(l.firstAt) - media
	if transit < l.bestTransit {
		l.bestTransit = transit
	}
	if transit-l.bestTransit > lateAfter {
		l.stats.Late++
	}
	if c := l.check; c != nil {
		c.frame(b[off:], &l.stats)
	}
}

func (c *toneCheck) frame(payload []byte, st *LegStats) {
	n, err := c.dec.Decode(payload, c.pcm)
	if err != nil {
		return
	}
	if c.skip > 0 {
		c.skip--
		return
	}
	f := c.pcm[:n]
	st.Decoded++
	if audio.DetectTone(f, c.rate, c.want) {
		st.ToneFrames++
	}
	if audio.DetectTone(f, c.rate, c.own) {
		st.EchoFrames++
	}
}

// finish returns the leg's figures and closes its socket.
func (l *leg) finish() LegStats {
	s := l.stats
	if l.started {
		s.Expected = uint64(l.lastSeq-l.firstSeq) + 1
	}
	l.close()
	return s
}

func (l *leg) close() {
	l.conn.Close()
	l.rtcp.Close()
}

// engine paces every leg of the generator.
type engine struct {
	mu     sync.Mutex
	legs   []*leg
	next   int // slot of the next leg added
	rate   map[*leg]int
	closed bool
	done   chan struct{}
	total  LegStats
	// behind counts slot passes that started more than a slot late: the
	// generator itself was starved, and its figures are suspect.
	behind, passes uint64
}

func newEngine() *engine {
	e := &engine{done: make(chan struct{}), rate: map[*leg]int{}}
	go e.run()
	return e
}

// add starts sending on l toward peer; rate is the RTP clock of the
// stream it receives.
func (e *engine) add(l *leg, peer netip.AddrPort, rate int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	l.peer = peer
	l.slot = e.next % slots
	e.next++
	e.rate[l] = rate
	e.legs = append(e.legs, l)
}

// remove stops l and folds its figures into the total.
func (e *engine) remove(l *leg) LegStats {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, x := range e.legs {
		if x == l {
			e.legs[i] = e.legs[len(e.legs)-1]
			e.legs = e.legs[:len(e.legs)-1]
			break
		}
	}
	delete(e.rate, l)
	s := l.finish()
	e.total.add(s)
	return s
}

// snapshot returns the figures of finished legs plus the live ones.
func (e *engine) snapshot() (LegStats, uint64, uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.total
	for _, l := range e.legs {
		s := l.stats
		if l.started {
			s.Expected = uint64(l.lastSeq-l.firstSeq) + 1
		}
		t.add(s)
	}
	return t, e.behind, e.passes
}

func (e *engine) close() {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.closed = true
	e.mu.Unlock()
	<-e.done
}

func (e *engine) run() {
	defer close(e.done)
	buf := make([]byte, 1600)
	start := time.Now()
	t := time.NewTimer(slotPeriod)
	defer t.Stop()
	for n := 1; ; n++ {
		due := start.Add(time.Duration(n) * slotPeriod)
		<-t.C
		now := time.Now()
		e.mu.Lock()
		if e.closed {
			e.mu.Unlock()
			return
		}
		e.passes++
		if now.Sub(due) > slotPeriod {
			e.behind++
		}
		slot := n % slots
		for _, l := range e.legs {
			if l.slot != slot {
				continue
			}
			l.send()
			l.drain(now, buf, e.rate[l])
		}
		e.mu.Unlock()
		t.Reset(time.Until(start.Add(time.Duration(n+1) * slotPeriod)))
	}
}
