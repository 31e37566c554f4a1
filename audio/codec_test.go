package audio

import (
	"errors"
	"math"
	"slices"
	"testing"
)

func TestCodecByName(t *testing.T) {
	tests := []struct {
		name  string
		want  CodecID
		pt    uint8
		clock int
		frame int
		err   error
	}{
		{"PCMU", PCMU, 0, 8000, 160, nil},
		{"pcmu", PCMU, 0, 8000, 160, nil},
		{"PCMA", PCMA, 8, 8000, 160, nil},
		{"opus", Opus, 96, 48000, 960, nil},
		{"OPUS", Opus, 96, 48000, 960, nil},
		{"G722", 0, 0, 0, 0, ErrUnsupportedCodec},
		{"", 0, 0, 0, 0, ErrUnsupportedCodec},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := CodecByName(tt.name)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if tt.err != nil {
				return
			}
			if c != tt.want || c.PayloadType() != tt.pt || c.ClockRate() != tt.clock ||
				c.SampleRate() != tt.clock || c.FrameSamples() != tt.frame {
				t.Fatalf("%v: pt %d clock %d frame %d", c, c.PayloadType(), c.ClockRate(), c.FrameSamples())
			}
			if c.(CodecID).String() != c.Name() {
				t.Fatalf("String %q != Name %q", c.(CodecID).String(), c.Name())
			}
		})
	}
}

func TestG711KnownValues(t *testing.T) {
	// Reference points from ITU-T G.711 tables (character signals after
	// even-bit inversion for A-law).
	enc := []struct {
		in         int16
		ulaw, alaw byte
	}{
		{0, 0xFF, 0xD5},
		{-1, 0x7F, 0x55}, // one's complement: -1 is negative zero
		{32767, 0x80, 0xAA},
		{-32768, 0x00, 0x2A},
		{1000, 0xCE, 0xFA},
		{-1000, 0x4E, 0x7A},
	}
	for _, tt := range enc {
		var u, a [1]byte
		MulawEncode(u[:], []int16{tt.in})
		AlawEncode(a[:], []int16{tt.in})
		if u[0] != tt.ulaw || a[0] != tt.alaw {
			t.Errorf("encode %d: µ %#02x (want %#02x) A %#02x (want %#02x)", tt.in, u[0], tt.ulaw, a[0], tt.alaw)
		}
	}
	// Decoded extremes and zeros, unambiguous per the standard.
	for _, tt := range []struct {
		law  string
		code byte
		want int16
	}{
		{"µ", 0xFF, 0}, {"µ", 0x7F, 0}, {"µ", 0x80, 32124}, {"µ", 0x00, -32124},
		{"µ", 0xFE, 8}, {"µ", 0x7E, -8},
		{"A", 0xD5, 8}, {"A", 0x55, -8}, {"A", 0xAA, 32256}, {"A", 0x2A, -32256},
	} {
		var out [1]int16
		if tt.law == "µ" {
			MulawDecode(out[:], []byte{tt.code})
		} else {
			AlawDecode(out[:], []byte{tt.code})
		}
		if out[0] != tt.want {
			t.Errorf("%s-law decode %#02x = %d, want %d", tt.law, tt.code, out[0], tt.want)
		}
	}
}

func TestG711Exhaustive(t *testing.T) {
	for _, law := range []struct {
		name  string
		enc   func([]byte, []int16) int
		dec   func([]int16, []byte) int
		slack float64 // truncated low bits
	}{
		{"ulaw", MulawEncode, MulawDecode, 4},
		{"alaw", AlawEncode, AlawDecode, 8},
	} {
		t.Run(law.name, func(t *testing.T) {
			// Every code decodes to a value that re-encodes to a code
			// decoding to the same value (quantiser is idempotent), and
			// decoded values are monotonic in the magnitude bits.
			for c := range 256 {
				var v [1]int16
				var c2 [1]byte
				var v2 [1]int16
				law.dec(v[:], []byte{byte(c)})
				law.enc(c2[:], v[:])
				law.dec(v2[:], c2[:])
				if v[0] != v2[0] {
					t.Fatalf("code %#02x -> %d -> %#02x -> %d", c, v[0], c2[0], v2[0])
				}
			}
			// Every 16-bit input decodes to a level no further than half the
			// local step (levels are interval midpoints), give or take the
			// 2 (µ) or 3 (A) low bits the standard drops before quantising.
			halfStep := map[int16]float64{}
			var levels []int
			for c := range 256 {
				var v [1]int16
				law.dec(v[:], []byte{byte(c)})
				levels = append(levels, int(v[0]))
			}
			slices.Sort(levels)
			levels = slices.Compact(levels)
			for i, l := range levels {
				gap := 0
				if i > 0 {
					gap = l - levels[i-1]
				}
				if i+1 < len(levels) {
					gap = max(gap, levels[i+1]-l)
				}
				halfStep[int16(l)] = float64(gap) / 2
			}
			pcm := make([]int16, 65536)
			for i := range pcm {
				pcm[i] = int16(uint16(i))
			}
			codes := make([]byte, len(pcm))
			out := make([]int16, len(pcm))
			law.enc(codes, pcm)
			law.dec(out, codes)
			for i, in := range pcm {
				bound := halfStep[out[i]] + law.slack
				if int(in) > levels[len(levels)-1] || int(in) < levels[0] {
					continue // beyond the largest level: clipped
				}
				if d := math.Abs(float64(out[i]) - float64(in)); d > bound {
					t.Fatalf("%d -> %#02x -> %d: error %.0f > %.0f", in, codes[i], out[i], d, bound)
				}
			}
			// Monotonic: a larger input never decodes smaller.
			for i := 1; i < len(pcm); i++ {
				a, b := int16(i-32769), int16(i-32768)
				if out[uint16(b)] < out[uint16(a)] {
					t.Fatalf("not monotonic at %d: %d < %d", b, out[uint16(b)], out[uint16(a)])
				}
			}
		})
	}
}

func TestG711ToneSNR(t *testing.T) {
	// A −10 dBFS 1 kHz tone through G.711 keeps an SNR near the standard's
	// ~38 dB for both laws.
	for _, c := range []CodecID{PCMU, PCMA} {
		t.Run(c.Name(), func(t *testing.T) {
			enc, _ := c.NewEncoder()
			dec, _ := c.NewDecoder()
			tone := NewTone(1000, 0.3, 8000)
			in := make([]int16, 160)
			pay := make([]byte, 160)
			out := make([]int16, 160)
			var sig, noise float64
			for range 50 {
				tone.Read(in)
				n, err := enc.Encode(in, pay)
				if err != nil || n != 160 {
					t.Fatalf("encode: %d %v", n, err)
				}
				m, err := dec.Decode(pay[:n], out)
				if err != nil || m != 160 {
					t.Fatalf("decode: %d %v", m, err)
				}
				for i := range in {
					sig += float64(in[i]) * float64(in[i])
					d := float64(out[i]) - float64(in[i])
					noise += d * d
				}
			}
			if snr := 10 * math.Log10(sig/noise); snr < 33 {
				t.Fatalf("SNR %.1f dB, want >= 33", snr)
			}
		})
	}
}

func TestG711ShortBuffers(t *testing.T) {
	enc, _ := PCMU.NewEncoder()
	if _, err := enc.Encode(make([]int16, 160), make([]byte, 10)); !errors.Is(err, ErrShortBuffer) {
		t.Fatalf("encode short: %v", err)
	}
	dec, _ := PCMU.NewDecoder()
	if _, err := dec.Decode(make([]byte, 160), make([]int16, 10)); !errors.Is(err, ErrShortBuffer) {
		t.Fatalf("decode short: %v", err)
	}
	if _, err := dec.Conceal(nil, make([]int16, 10)); !errors.Is(err, ErrShortBuffer) {
		t.Fatalf("conceal short: %v", err)
	}
}

func TestG711Conceal(t *testing.T) {
	dec, _ := PCMA.NewDecoder()
	out := make([]int16, 160)
	// Before any packet: silence.
	n, err := dec.Conceal(nil, out)
	if err != nil || n != 160 || RMS(out[:n]) != 0 {
		t.Fatalf("first conceal: n=%d err=%v rms=%f", n, err, RMS(out[:n]))
	}
	enc, _ := PCMA.NewEncoder()
	tone := NewTone(1000, 0.5, 8000)
	in := make([]int16, 160)
	pay := make([]byte, 160)
	tone.Read(in)
	enc.Encode(in, pay)
	dec.Decode(pay, out)
	ref := RMS(out)
	// Repeat-and-fade: each concealed frame is quieter than the one before
	// and the tone is still the dominant content; by the 4th it is silent.
	prev := ref
	for i := range 4 {
		n, err := dec.Conceal(nil, out)
		if err != nil || n != 160 {
			t.Fatalf("conceal %d: %d %v", i, n, err)
		}
		r := RMS(out)
		if i < g711FadeFrames {
			if r >= prev || r == 0 {
				t.Fatalf("conceal %d: rms %.0f, previous %.0f", i, r, prev)
			}
			if i == 0 && !DetectTone(out, 8000, 1000) {
				t.Fatal("first concealed frame lost the tone")
			}
		} else if r != 0 {
			t.Fatalf("conceal %d: rms %.0f, want silence", i, r)
		}
		prev = r
	}
	// A good frame resets the fade.
	dec.Decode(pay, out)
	dec.Conceal(nil, out)
	if RMS(out) < ref*0.6 {
		t.Fatalf("fade not reset: %.0f vs %.0f", RMS(out), ref)
	}
}

func TestOpusRoundTrip(t *testing.T) {
	enc, err := Opus.NewEncoder()
	if err != nil {
		t.Fatal(err)
	}
	dec, err := Opus.NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	tone := NewTone(1000, 0.3, 48000)
	in := make([]int16, 960)
	pay := make([]byte, 1500)
	out := make([]int16, 960)
	var played []int16
	for range 25 {
		tone.Read(in)
		n, err := enc.Encode(in, pay)
		if err != nil {
			t.Fatal(err)
		}
		if n < 20 || n > 200 { // ~32 kbit/s is 80 bytes per 20 ms
			t.Fatalf("payload %d bytes", n)
		}
		m, err := dec.Decode(pay[:n], out)
		if err != nil || m != 960 {
			t.Fatalf("decode: %d %v", m, err)
		}
		played = append(played, out[:m]...)
	}
	if !DetectTone(played[4800:], 48000, 1000) {
		t.Fatal("1 kHz tone lost through Opus")
	}
	if DetectTone(played[4800:], 48000, 1500) {
		t.Fatal("1.5 kHz detected in a 1 kHz Opus stream")
	}
}

func TestOpusConceal(t *testing.T) {
	enc, _ := Opus.NewEncoder()
	tone := NewTone(800, 0.3, 48000)
	in := make([]int16, 960)
	var packets [][]byte
	for range 30 {
		tone.Read(in)
		pay := make([]byte, 1500)
		n, err := enc.Encode(in, pay)
		if err != nil {
			t.Fatal(err)
		}
		packets = append(packets, pay[:n])
	}
	for _, tt := range []struct {
		name string
		fec  bool
	}{{"PLC", false}, {"FEC", true}} {
		t.Run(tt.name, func(t *testing.T) {
			dec, _ := Opus.NewDecoder()
			out := make([]int16, 5760) // large dst: Conceal must still give one frame
			for i := range 20 {
				if _, err := dec.Decode(packets[i], out); err != nil {
					t.Fatal(err)
				}
			}
			var next []byte
			if tt.fec {
				next = packets[21]
			}
			n, err := dec.Conceal(next, out)
			if err != nil || n != 960 {
				t.Fatalf("conceal: %d %v", n, err)
			}
			if !DetectTone(out[:n], 48000, 800) {
				t.Fatalf("concealed frame does not carry the tone (ratio %.2f)",
					ToneDetector{Rate: 48000, Freq: 800}.Ratio(out[:n]))
			}
		})
	}
}

func TestCodecsNoAlloc(t *testing.T) {
	for _, c := range []CodecID{PCMU, PCMA} {
		enc, _ := c.NewEncoder()
		dec, _ := c.NewDecoder()
		in := make([]int16, 160)
		NewTone(1000, 0.3, 8000).Read(in)
		pay := make([]byte, 160)
		out := make([]int16, 160)
		if a := testing.AllocsPerRun(100, func() {
			enc.Encode(in, pay)
			dec.Decode(pay, out)
			dec.Conceal(nil, out)
		}); a != 0 {
			t.Errorf("%v: %.1f allocs per frame", c, a)
		}
	}
}
