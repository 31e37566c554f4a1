package audio

import (
	"fmt"
	"strings"
)

// Reframed is one FrameDuration frame cut from an RTP payload. An empty
// Payload continues the audio of the frame before it: an Opus packet whose
// single frame is 40 or 60 ms long cannot be cut, so it is handed out
// whole and followed by empty frames for the ticks it covers; its decoder
// returns all of it at once.
type Reframed struct {
	Timestamp uint32
	Payload   []byte
}

// Reframer cuts RTP payloads of any packet time (10, 30, 40, 60 ms...)
// into FrameDuration frames, the unit of a JitterBuffer slot and of a
// room's tick. G.711 is cut at sample boundaries (one byte per sample);
// Opus is repacketized along the frames its TOC byte declares (RFC 6716
// §3): 10 ms frames are paired, multi-frame packets are split.
//
// A Reframer belongs to one stream (one reader goroutine); Reset it when
// the stream changes (new SSRC).
type Reframer struct {
	opus       bool
	frameTicks uint32 // RTP ticks in one frame
	silence    byte   // G.711 code of a zero sample

	// G.711: a frame being filled, on a grid anchored at the first packet.
	grid     uint32
	haveGrid bool
	pend     []byte
	pendTS   uint32
	pendFill int
	havePend bool

	// Opus: frames (2.5 to 10 ms) waiting to make up a whole frame.
	group     []byte // the frames' bytes, back to back
	groupLens []int
	groupTOC  byte
	groupTS   uint32
	groupDur  uint32
	frames    [48][]byte // frames of the packet being parsed
	tocBuf    [1]byte
	hdr       [1 + 1 + 2*47]byte

	out    []Reframed
	outBuf []byte
	ends   []int // end offsets in outBuf of out's payloads; -1: empty
}

// NewReframer returns a Reframer for c (PCMU, PCMA or Opus by name).
func NewReframer(c Codec) (*Reframer, error) {
	r := &Reframer{frameTicks: uint32(SamplesPerFrame(c.ClockRate()))}
	switch {
	case strings.EqualFold(c.Name(), Opus.Name()):
		r.opus = true
	case strings.EqualFold(c.Name(), PCMU.Name()), strings.EqualFold(c.Name(), PCMA.Name()):
		enc, err := c.NewEncoder()
		if err != nil {
			return nil, fmt.Errorf("reframer %s: %w", c.Name(), err)
		}
		var b [1]byte
		if _, err := enc.Encode([]int16{0}, b[:]); err != nil {
			return nil, fmt.Errorf("reframer %s: %w", c.Name(), err)
		}
		r.silence = b[0]
		r.pend = make([]byte, r.frameTicks)
	default:
		return nil, fmt.Errorf("reframer %s: %w", c.Name(), ErrUnsupportedCodec)
	}
	return r, nil
}

// Reset forgets the partial frame held back and the frame grid.
func (r *Reframer) Reset() {
	r.haveGrid, r.havePend = false, false
	r.group, r.groupLens, r.groupDur = r.group[:0], r.groupLens[:0], 0
}

// Push cuts one RTP payload with timestamp ts. It returns the frames now
// complete, oldest first; they stay valid until the next Push. A packet
// of exactly one frame comes back as it is, without copying. Audio that
// does not fill a frame yet is held until the next packet completes it
// (or shows it never will: then the frame goes out padded with silence,
// or, for Opus, shorter).
func (r *Reframer) Push(ts uint32, payload []byte) ([]Reframed, error) {
	r.out, r.outBuf, r.ends = r.out[:0], r.outBuf[:0], r.ends[:0]
	if r.opus && len(payload) > 0 && payload[0]&3 == 0 && opusFrameTicks(payload[0]) == r.frameTicks && r.groupDur == 0 {
		r.out = append(r.out, Reframed{Timestamp: ts, Payload: payload})
		return r.out, nil
	}
	if r.opus {
		if err := r.pushOpus(ts, payload); err != nil {
			return nil, err
		}
	} else {
		if len(payload) == int(r.frameTicks) && !r.havePend && (!r.haveGrid || r.offset(ts) == 0) {
			if !r.haveGrid {
				r.grid, r.haveGrid = ts, true
			}
			r.out = append(r.out, Reframed{Timestamp: ts, Payload: payload})
			return r.out, nil
		}
		r.pushG711(ts, payload)
	}
	start := 0
	for i, end := range r.ends {
		if end < 0 {
			r.out[i].Payload = nil
			continue
		}
		r.out[i].Payload = r.outBuf[start:end:end]
		start = end
	}
	return r.out, nil
}

// emit appends one output frame; payload nil means a continuation.
func (r *Reframer) emit(ts uint32, payload ...[]byte) {
	if payload == nil {
		r.out = append(r.out, Reframed{Timestamp: ts})
		r.ends = append(r.ends, -1)
		return
	}
	for _, p := range payload {
		r.outBuf = append(r.outBuf, p...)
	}
	r.out = append(r.out, Reframed{Timestamp: ts})
	r.ends = append(r.ends, len(r.outBuf))
}

// offset returns where ts falls within its grid frame, in ticks.
func (r *Reframer) offset(ts uint32) uint32 {
	d := int64(int32(ts - r.grid))
	f := int64(r.frameTicks)
	return uint32(((d % f) + f) % f)
}

func (r *Reframer) pushG711(ts uint32, payload []byte) {
	if !r.haveGrid || int32(ts-r.grid) > 1<<28 || int32(ts-r.grid) < -(1<<28) {
		r.grid, r.haveGrid = ts, true
	}
	for len(payload) > 0 {
		off := r.offset(ts)
		frameTS := ts - off
		n := min(int(r.frameTicks-off), len(payload))
		if r.havePend && frameTS != r.pendTS {
			if int32(frameTS-r.pendTS) < 0 {
				// A late piece of a frame already sent: too late to fix.
				payload, ts = payload[n:], ts+uint32(n)
				continue
			}
			r.flushG711()
		}
		if !r.havePend {
			for i := range r.pend {
				r.pend[i] = r.silence
			}
			r.pendTS, r.pendFill, r.havePend = frameTS, 0, true
		}
		copy(r.pend[off:], payload[:n])
		r.pendFill += n
		if r.pendFill >= int(r.frameTicks) {
			r.flushG711()
		}
		payload, ts = payload[n:], ts+uint32(n)
	}
}

func (r *Reframer) flushG711() {
	r.emit(r.pendTS, r.pend)
	r.havePend = false
}

// Opus frame durations at 48 kHz by TOC configuration (RFC 6716 §3.1):
// SILK 10/20/40/60 ms, Hybrid 10/20 ms, CELT 2.5/5/10/20 ms.
func opusFrameTicks(toc byte) uint32 {
	c := toc >> 3
	switch {
	case c < 12:
		return [4]uint32{480, 960, 1920, 2880}[c&3]
	case c < 16:
		return [2]uint32{480, 960}[c&1]
	}
	return [4]uint32{120, 240, 480, 960}[c&3]
}

// parseOpus splits an Opus packet into its frames (RFC 6716 §3.2). The
// frames alias p.
func (r *Reframer) parseOpus(p []byte) ([][]byte, error) {
	if len(p) == 0 {
		return nil, fmt.Errorf("opus packet: empty: %w", ErrBadPacket)
	}
	toc, data := p[0], p[1:]
	fs := r.frames[:0]
	switch toc & 3 {
	case 0:
		fs = append(fs, data)
	case 1:
		if len(data)%2 != 0 {
			return nil, fmt.Errorf("opus code 1 packet of odd length %d: %w", len(data), ErrBadPacket)
		}
		fs = append(fs, data[:len(data)/2], data[len(data)/2:])
	case 2:
		n, k, err := opusFrameLen(data)
		if err != nil {
			return nil, err
		}
		data = data[k:]
		if n > len(data) {
			return nil, fmt.Errorf("opus code 2 frame of %d bytes in %d: %w", n, len(data), ErrBadPacket)
		}
		fs = append(fs, data[:n], data[n:])
	case 3:
		if len(data) == 0 {
			return nil, fmt.Errorf("opus code 3 packet without frame count: %w", ErrBadPacket)
		}
		vbr, padded, m := data[0]&0x80 != 0, data[0]&0x40 != 0, int(data[0]&0x3f)
		data = data[1:]
		if m == 0 || uint32(m)*opusFrameTicks(toc) > 5760 {
			return nil, fmt.Errorf("opus code 3 packet of %d frames: %w", m, ErrBadPacket)
		}
		if padded {
			pad := 0
			for {
				if len(data) == 0 {
					return nil, fmt.Errorf("opus padding length truncated: %w", ErrBadPacket)
				}
				b := int(data[0])
				data = data[1:]
				if b == 255 {
					pad += 254
					continue
				}
				pad += b
				break
			}
			if pad > len(data) {
				return nil, fmt.Errorf("opus padding %d beyond %d bytes: %w", pad, len(data), ErrBadPacket)
			}
			data = data[:len(data)-pad]
		}
		if vbr {
			var lens [48]int
			for i := range m - 1 {
				n, k, err := opusFrameLen(data)
				if err != nil {
					return nil, err
				}
				lens[i], data = n, data[k:]
			}
			for i := range m - 1 {
				if lens[i] > len(data) {
					return nil, fmt.Errorf("opus frame of %d bytes in %d: %w", lens[i], len(data), ErrBadPacket)
				}
				fs, data = append(fs, data[:lens[i]]), data[lens[i]:]
			}
			fs = append(fs, data)
		} else {
			if len(data)%m != 0 {
				return nil, fmt.Errorf("opus CBR packet of %d bytes for %d frames: %w", len(data), m, ErrBadPacket)
			}
			n := len(data) / m
			for i := range m {
				fs = append(fs, data[i*n:(i+1)*n])
			}
		}
	}
	return fs, nil
}

// opusFrameLen reads a frame length (one or two bytes) and returns it and
// the bytes it took.
func opusFrameLen(b []byte) (n, k int, err error) {
	switch {
	case len(b) == 0:
		return 0, 0, fmt.Errorf("opus frame length truncated: %w", ErrBadPacket)
	case b[0] < 252:
		return int(b[0]), 1, nil
	case len(b) < 2:
		return 0, 0, fmt.Errorf("opus frame length truncated: %w", ErrBadPacket)
	}
	return 4*int(b[1]) + int(b[0]), 2, nil
}

// appendOpusFrameLen appends the RFC 6716 §3.2.1 encoding of n.
func appendOpusFrameLen(b []byte, n int) []byte {
	if n < 252 {
		return append(b, byte(n))
	}
	first := 252 + (n-252)&3
	return append(b, byte(first), byte((n-first)/4))
}

func (r *Reframer) pushOpus(ts uint32, payload []byte) error {
	frames, err := r.parseOpus(payload)
	if err != nil {
		return err
	}
	toc := payload[0]
	dur := opusFrameTicks(toc)
	for i, f := range frames {
		fts := ts + uint32(i)*dur
		if dur >= r.frameTicks {
			r.flushOpus()
			// A 20 ms frame is a packet of its own; a 40 or 60 ms SILK
			// frame cannot be cut: it goes whole, then continuations.
			r.tocBuf[0] = toc &^ 3
			r.emit(fts, r.tocBuf[:], f)
			for k := r.frameTicks; k < dur; k += r.frameTicks {
				r.emit(fts + k)
			}
			continue
		}
		if r.groupDur > 0 && (toc&^3 != r.groupTOC || fts != r.groupTS+r.groupDur) {
			// Another configuration, or a gap: what is held cannot
			// be completed.
			r.flushOpus()
		}
		if r.groupDur == 0 {
			r.groupTOC, r.groupTS = toc&^3, fts
		}
		r.group = append(r.group, f...)
		r.groupLens = append(r.groupLens, len(f))
		r.groupDur += dur
		if r.groupDur >= r.frameTicks {
			r.flushOpus()
		}
	}
	return nil
}

// flushOpus emits the held frames as one packet (RFC 6716 §3.2 code 0,
// 2 or 3), shorter than a frame when they never made one up.
func (r *Reframer) flushOpus() {
	if r.groupDur == 0 {
		return
	}
	h := r.hdr[:0]
	switch len(r.groupLens) {
	case 1:
		h = append(h, r.groupTOC)
	case 2:
		h = append(h, r.groupTOC|2)
		h = appendOpusFrameLen(h, r.groupLens[0])
	default:
		h = append(h, r.groupTOC|3, 0x80|byte(len(r.groupLens)))
		for _, n := range r.groupLens[:len(r.groupLens)-1] {
			h = appendOpusFrameLen(h, n)
		}
	}
	r.emit(r.groupTS, h, r.group)
	r.group, r.groupLens, r.groupDur = r.group[:0], r.groupLens[:0], 0
}
