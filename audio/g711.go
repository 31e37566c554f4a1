package audio

import "fmt"

// G.711 (ITU-T, 11/88) in pure Go. Encoding goes through a 64 KiB table per
// law indexed by the 16-bit sample, decoding through a 256-entry table, so a
// 20 ms frame costs 160 lookups. The tables are filled once at package init
// from the reference algorithms below (the Sun/CCITT g711.c formulation) and
// never written again.

var g711Tables = func() (t struct {
	ulawEnc, alawEnc [65536]byte
	ulawDec, alawDec [256]int16
}) {
	for i := range 65536 {
		s := int16(uint16(i))
		t.ulawEnc[i] = linearToUlaw(s)
		t.alawEnc[i] = linearToAlaw(s)
	}
	for i := range 256 {
		t.ulawDec[i] = ulawToLinear(byte(i))
		t.alawDec[i] = alawToLinear(byte(i))
	}
	return t
}()

// Segment end points of the 8 chords, in the 14-bit (µ-law) and 13-bit
// (A-law) magnitude domains the standard is written in.
var (
	ulawSegEnd = [8]int{0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF}
	alawSegEnd = [8]int{0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF}
)

func segment(v int, ends *[8]int) int {
	for i, e := range ends {
		if v <= e {
			return i
		}
	}
	return 8
}

func linearToUlaw(s int16) byte {
	const (
		bias = 0x84 >> 2 // bias in the 14-bit domain
		clip = 8159
	)
	// One's complement for negatives, as the ITU-T G.191 reference does:
	// -1 is "negative zero", not the first negative step.
	v := int(s) >> 2
	mask := byte(0xFF)
	if s < 0 {
		v = int(^s) >> 2
		mask = 0x7F
	}
	v = min(v, clip) + bias
	seg := segment(v, &ulawSegEnd)
	if seg >= 8 {
		return 0x7F ^ mask
	}
	return (byte(seg<<4) | byte((v>>(seg+1))&0xF)) ^ mask
}

func ulawToLinear(u byte) int16 {
	const bias = 0x84
	u = ^u
	t := (int(u&0x0F) << 3) + bias
	t <<= (u & 0x70) >> 4
	if u&0x80 != 0 {
		return int16(bias - t)
	}
	return int16(t - bias)
}

func linearToAlaw(s int16) byte {
	v := int(s) >> 3
	mask := byte(0xD5)
	if v < 0 {
		mask = 0x55
		v = -v - 1
	}
	seg := segment(v, &alawSegEnd)
	if seg >= 8 {
		return 0x7F ^ mask
	}
	a := byte(seg << 4)
	if seg < 2 {
		a |= byte((v >> 1) & 0x0F)
	} else {
		a |= byte((v >> seg) & 0x0F)
	}
	return a ^ mask
}

func alawToLinear(a byte) int16 {
	a ^= 0x55
	t := int(a&0x0F) << 4
	switch seg := int(a&0x70) >> 4; seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t += 0x108
		t <<= seg - 1
	}
	if a&0x80 != 0 {
		return int16(t)
	}
	return int16(-t)
}

// MulawEncode encodes pcm into dst (one byte per sample) and returns the
// number of bytes written: min(len(pcm), len(dst)).
func MulawEncode(dst []byte, pcm []int16) int { return g711Encode(&g711Tables.ulawEnc, dst, pcm) }

// MulawDecode decodes µ-law bytes into dst and returns the number of samples
// written: min(len(src), len(dst)).
func MulawDecode(dst []int16, src []byte) int { return g711Decode(&g711Tables.ulawDec, dst, src) }

// AlawEncode is MulawEncode for A-law.
func AlawEncode(dst []byte, pcm []int16) int { return g711Encode(&g711Tables.alawEnc, dst, pcm) }

// AlawDecode is MulawDecode for A-law.
func AlawDecode(dst []int16, src []byte) int { return g711Decode(&g711Tables.alawDec, dst, src) }

func g711Encode(table *[65536]byte, dst []byte, pcm []int16) int {
	n := min(len(dst), len(pcm))
	dst, pcm = dst[:n], pcm[:n]
	for i, s := range pcm {
		dst[i] = table[uint16(s)]
	}
	return n
}

func g711Decode(table *[256]int16, dst []int16, src []byte) int {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, b := range src {
		dst[i] = table[b]
	}
	return n
}

type g711Encoder struct{ table *[65536]byte }

func (e g711Encoder) Encode(pcm []int16, dst []byte) (int, error) {
	if len(dst) < len(pcm) {
		return 0, fmt.Errorf("g711 encode %d samples into %d bytes: %w", len(pcm), len(dst), ErrShortBuffer)
	}
	return g711Encode(e.table, dst, pcm), nil
}

// g711FadeFrames is how many concealed frames it takes to fade to silence:
// repeating a 20 ms frame longer than ~60 ms turns into an audible buzz,
// silence is the lesser evil (ITU-T G.711 Appendix I also mutes by 60 ms).
const g711FadeFrames = 3

// g711Decoder decodes and conceals losses by repeating the last good frame
// with a linear fade-out over g711FadeFrames frames.
type g711Decoder struct {
	table *[256]int16
	last  []int16 // last decoded frame, the concealment template
	lastN int
	lost  int // consecutive concealed frames
}

func newG711Decoder(table *[256]int16) *g711Decoder {
	return &g711Decoder{table: table, last: make([]int16, SamplesPerFrame(8000))}
}

func (d *g711Decoder) Decode(payload []byte, dst []int16) (int, error) {
	if len(dst) < len(payload) {
		return 0, fmt.Errorf("g711 decode %d bytes into %d samples: %w", len(payload), len(dst), ErrShortBuffer)
	}
	n := g711Decode(d.table, dst, payload)
	if n > len(d.last) {
		d.last = make([]int16, n) // only when a peer changes ptime
	}
	d.lastN = copy(d.last, dst[:n])
	d.lost = 0
	return n, nil
}

func (d *g711Decoder) Conceal(_ []byte, dst []int16) (int, error) {
	n := d.lastN
	if n == 0 {
		n = len(d.last)
	}
	if len(dst) < n {
		return 0, fmt.Errorf("g711 conceal %d samples: %w", n, ErrShortBuffer)
	}
	dst = dst[:n]
	if d.lastN == 0 || d.lost >= g711FadeFrames {
		clear(dst)
		d.lost++
		return n, nil
	}
	// Gain falls linearly from (F-lost)/F to (F-lost-1)/F across this frame,
	// so consecutive concealed frames join without steps.
	total := g711FadeFrames * n
	for i := range dst {
		g := int32(total - (d.lost*n + i))
		dst[i] = int16(int32(d.last[i]) * g / int32(total))
	}
	d.lost++
	return n, nil
}
