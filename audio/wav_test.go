package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

// wavBytes builds a WAV file by hand, independently of WriteWAV.
func wavBytes(format, channels, rate, bits int, data []byte, extensible bool, extra ...[]byte) []byte {
	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	fmtLen := 16
	if extensible {
		fmtLen = 40
	}
	b.WriteString("RIFF")
	le(uint32(0)) // patched below
	b.WriteString("WAVE")
	for _, e := range extra {
		b.Write(e)
	}
	b.WriteString("fmt ")
	le(uint32(fmtLen))
	tag := format
	if extensible {
		tag = wavFormatExtensible
	}
	le(uint16(tag))
	le(uint16(channels))
	le(uint32(rate))
	le(uint32(rate * channels * bits / 8))
	le(uint16(channels * bits / 8))
	le(uint16(bits))
	if extensible {
		le(uint16(22))
		le(uint16(bits))
		le(uint32(0))
		le(uint16(format))
		b.Write(make([]byte, 14))
	}
	b.WriteString("data")
	le(uint32(len(data)))
	b.Write(data)
	out := b.Bytes()
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out
}

func TestWAVRoundTrip(t *testing.T) {
	in := toneSamples(440, 0.5, 8000, 0.3)
	var buf bytes.Buffer
	if err := WriteWAV(&buf, 8000, in); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 44+2*len(in) {
		t.Fatalf("file of %d bytes", buf.Len())
	}
	w, err := DecodeWAV(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if w.Rate != 8000 || w.Channels != 1 || w.Bits != 16 || len(w.Samples) != len(in) {
		t.Fatalf("decoded %+v", *w)
	}
	for i := range in {
		if in[i] != w.Samples[i] {
			t.Fatalf("sample %d: %d != %d", i, w.Samples[i], in[i])
		}
	}
}

func TestWAVFormats(t *testing.T) {
	const rate = 16000
	ref := toneSamples(1000, 0.5, rate, 0.1)
	enc := func(bits int, float bool, channels int) []byte {
		var b bytes.Buffer
		for _, s := range ref {
			v := float64(s) / 32768
			for c := range channels {
				cv := v
				if c == 1 {
					cv = v * 0.5 // a quieter second channel: mono is the average
				}
				switch {
				case float && bits == 32:
					binary.Write(&b, binary.LittleEndian, float32(cv))
				case float:
					binary.Write(&b, binary.LittleEndian, cv)
				case bits == 8:
					b.WriteByte(byte(int(math.Round(cv*127)) + 128))
				case bits == 16:
					binary.Write(&b, binary.LittleEndian, int16(math.Round(cv*32767)))
				case bits == 24:
					x := int32(math.Round(cv * (1<<23 - 1)))
					b.Write([]byte{byte(x), byte(x >> 8), byte(x >> 16)})
				default:
					binary.Write(&b, binary.LittleEndian, int32(math.Round(cv*(1<<31-1))))
				}
			}
		}
		return b.Bytes()
	}
	tests := []struct {
		name     string
		format   int
		bits     int
		channels int
		ext      bool
		tol      float64
	}{
		{"pcm8", wavFormatPCM, 8, 1, false, 300},
		{"pcm16", wavFormatPCM, 16, 1, false, 1},
		{"pcm24", wavFormatPCM, 24, 1, false, 1},
		{"pcm32", wavFormatPCM, 32, 1, false, 1},
		{"float32", wavFormatFloat, 32, 1, false, 1},
		{"float64", wavFormatFloat, 64, 1, false, 1},
		{"stereo16", wavFormatPCM, 16, 2, false, 1},
		{"extensible24 stereo", wavFormatPCM, 24, 2, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A LIST chunk before fmt must be skipped.
			list := append([]byte("LIST\x03\x00\x00\x00abc"), 0)
			file := wavBytes(tt.format, tt.channels, rate, tt.bits, enc(tt.bits, tt.format == wavFormatFloat, tt.channels), tt.ext, list)
			w, err := DecodeWAV(bytes.NewReader(file))
			if err != nil {
				t.Fatal(err)
			}
			if w.Channels != tt.channels || w.Bits != tt.bits || len(w.Samples) != len(ref) {
				t.Fatalf("got %d ch %d bits %d samples", w.Channels, w.Bits, len(w.Samples))
			}
			gain := 1.0
			if tt.channels == 2 {
				gain = 0.75
			}
			for i, s := range ref {
				if d := math.Abs(float64(w.Samples[i]) - float64(s)*gain); d > tt.tol {
					t.Fatalf("sample %d: %d, want %.0f", i, w.Samples[i], float64(s)*gain)
				}
			}
		})
	}
}

func TestReadWAVResamples(t *testing.T) {
	var buf bytes.Buffer
	WriteWAV(&buf, 44100, toneSamples(1000, 0.5, 44100, 0.5))
	s, err := ReadWAV(bytes.NewReader(buf.Bytes()), 8000)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 4000 {
		t.Fatalf("%d samples at 8 kHz, want 4000", len(s))
	}
	if !DetectTone(s, 8000, 1000) {
		t.Fatal("tone lost")
	}
	// Delay compensated: the tone starts at the start, not a filter
	// length later.
	if RMS(s[:40]) < 0.2*32767 {
		t.Fatalf("start of clip is quiet (rms %.0f): filter delay not compensated", RMS(s[:40]))
	}
}

func TestWAVErrors(t *testing.T) {
	good := wavBytes(wavFormatPCM, 1, 8000, 16, make([]byte, 100), false)
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"not riff", append([]byte("RIFX"), good[4:]...)},
		{"truncated header", good[:20]},
		{"no data", good[:36]},
		{"alaw", wavBytes(6, 1, 8000, 8, make([]byte, 10), false)},
		{"12 bits", wavBytes(wavFormatPCM, 1, 8000, 12, make([]byte, 10), false)},
		{"zero channels", wavBytes(wavFormatPCM, 0, 8000, 16, make([]byte, 10), false)},
		{"zero rate", wavBytes(wavFormatPCM, 1, 0, 16, make([]byte, 10), false)},
		{"data before fmt", []byte("RIFF\x00\x00\x00\x00WAVEdata\x02\x00\x00\x00\x01\x02")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := DecodeWAV(bytes.NewReader(tt.data)); !errors.Is(err, ErrFormat) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	// A streamed file with a bogus data size still decodes what is there.
	streamed := bytes.Clone(good)
	binary.LittleEndian.PutUint32(streamed[40:], 0xFFFFFFFF)
	w, err := DecodeWAV(bytes.NewReader(streamed))
	if err != nil || len(w.Samples) != 50 {
		t.Fatalf("streamed: %v", err)
	}
}

func TestLoop(t *testing.T) {
	l := NewLoop([]int16{1, 2, 3})
	f := make([]int16, 7)
	l.Read(f)
	if want := []int16{1, 2, 3, 1, 2, 3, 1}; !slicesEqual(f, want) {
		t.Fatalf("%v", f)
	}
	l.Read(f[:2])
	if f[0] != 2 || f[1] != 3 {
		t.Fatalf("continues: %v", f[:2])
	}
	NewLoop(nil).Read(f)
	if RMS(f) != 0 {
		t.Fatal("empty loop is not silent")
	}
	var buf bytes.Buffer
	WriteWAV(&buf, 48000, toneSamples(440, 0.3, 48000, 0.25))
	src, err := NewWAVSource(&buf, 48000)
	if err != nil {
		t.Fatal(err)
	}
	long := make([]int16, 48000)
	src.Read(long)
	if !DetectTone(long, 48000, 440) {
		t.Fatal("looped WAV lost its tone")
	}
}

func slicesEqual(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func FuzzDecodeWAV(f *testing.F) {
	f.Add(wavBytes(wavFormatPCM, 1, 8000, 16, []byte{1, 2, 3, 4}, false))
	f.Add(wavBytes(wavFormatPCM, 2, 44100, 8, []byte{1, 2, 3, 4}, false))
	f.Add(wavBytes(wavFormatFloat, 1, 48000, 32, make([]byte, 8), false))
	f.Add(wavBytes(wavFormatPCM, 3, 16000, 24, make([]byte, 18), true))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVE"))
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := DecodeWAV(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error not ErrFormat: %v", err)
			}
			return
		}
		if w.Channels < 1 || w.Rate < 1 || len(w.Samples)*w.Channels*w.Bits/8 > len(data) {
			t.Fatalf("implausible result %d ch %d Hz %d samples from %d bytes", w.Channels, w.Rate, len(w.Samples), len(data))
		}
		// Re-encoding and decoding 16-bit mono is lossless.
		var buf bytes.Buffer
		if err := WriteWAV(&buf, w.Rate, w.Samples); err != nil {
			t.Fatal(err)
		}
		w2, err := DecodeWAV(&buf)
		if err != nil || !slicesEqual(w.Samples, w2.Samples) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
