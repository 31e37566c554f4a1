package audio

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// WAV is decoded audio: mono at its native rate, whatever the file held.
type WAV struct {
	Rate     int // sample rate of the file and of Samples
	Channels int // channels in the file (Samples is their average)
	Bits     int // bits per sample in the file
	Samples  []int16
}

// Limits on what we accept from outside: WAV files come from users
// (ringtones, IVR prompts) and must not make us allocate without bound.
const (
	wavMaxData     = 256 << 20
	wavMaxChannels = 16
)

const (
	wavFormatPCM        = 1
	wavFormatFloat      = 3
	wavFormatExtensible = 0xFFFE
)

// DecodeWAV parses a RIFF/WAVE stream: integer PCM of 8, 16, 24 or 32 bits
// or 32/64-bit float, any number of channels (mixed down to mono), plain or
// WAVE_FORMAT_EXTENSIBLE. Unknown chunks are skipped.
func DecodeWAV(r io.Reader) (*WAV, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("wav header: %w: %w", ErrFormat, err)
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return nil, fmt.Errorf("wav header %q: %w", hdr[:], ErrFormat)
	}
	var (
		w       WAV
		format  int
		block   int
		haveFmt bool
	)
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return nil, fmt.Errorf("wav: no data chunk: %w: %w", ErrFormat, err)
		}
		id, size := string(ch[0:4]), int64(binary.LittleEndian.Uint32(ch[4:8]))
		switch id {
		case "fmt ":
			if size < 16 || size > 1024 {
				return nil, fmt.Errorf("wav fmt chunk of %d bytes: %w", size, ErrFormat)
			}
			b := make([]byte, size+size&1)
			if _, err := io.ReadFull(r, b); err != nil {
				return nil, fmt.Errorf("wav fmt chunk: %w: %w", ErrFormat, err)
			}
			format = int(binary.LittleEndian.Uint16(b[0:2]))
			w.Channels = int(binary.LittleEndian.Uint16(b[2:4]))
			w.Rate = int(binary.LittleEndian.Uint32(b[4:8]))
			block = int(binary.LittleEndian.Uint16(b[12:14]))
			w.Bits = int(binary.LittleEndian.Uint16(b[14:16]))
			if format == wavFormatExtensible {
				if size < 40 {
					return nil, fmt.Errorf("wav extensible fmt of %d bytes: %w", size, ErrFormat)
				}
				format = int(binary.LittleEndian.Uint16(b[24:26])) // sub-format GUID's first field
			}
			if err := checkWAVFormat(format, w.Channels, w.Rate, w.Bits, block); err != nil {
				return nil, err
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return nil, fmt.Errorf("wav data before fmt: %w", ErrFormat)
			}
			// Streamed files carry a bogus size (0 or 0xFFFFFFFF): read what
			// is there, up to the limit, in whole sample frames.
			data, err := io.ReadAll(io.LimitReader(r, min(size, wavMaxData)))
			if err != nil {
				return nil, fmt.Errorf("wav data: %w", err)
			}
			data = data[:len(data)/block*block]
			w.Samples = decodeWAVSamples(data, format, w.Channels, w.Bits/8)
			return &w, nil
		default:
			if _, err := io.CopyN(io.Discard, r, size+size&1); err != nil {
				return nil, fmt.Errorf("wav chunk %q: %w: %w", id, ErrFormat, err)
			}
		}
	}
}

func checkWAVFormat(format, channels, rate, bits, block int) error {
	ok := false
	switch format {
	case wavFormatPCM:
		ok = bits == 8 || bits == 16 || bits == 24 || bits == 32
	case wavFormatFloat:
		ok = bits == 32 || bits == 64
	}
	if !ok {
		return fmt.Errorf("wav format %d with %d bits: %w", format, bits, ErrFormat)
	}
	if channels < 1 || channels > wavMaxChannels || rate < 1 || rate > resampleMaxRate || block != channels*bits/8 {
		return fmt.Errorf("wav %d channels at %d Hz, block %d: %w", channels, rate, block, ErrFormat)
	}
	return nil
}

// decodeWAVSamples converts interleaved frames to mono int16 by averaging
// the channels.
func decodeWAVSamples(data []byte, format, channels, width int) []int16 {
	frames := len(data) / (channels * width)
	out := make([]int16, frames)
	for i := range out {
		var sum float64
		for c := range channels {
			b := data[(i*channels+c)*width:]
			var v float64 // -1..1
			switch {
			case format == wavFormatFloat && width == 4:
				v = float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
			case format == wavFormatFloat:
				v = math.Float64frombits(binary.LittleEndian.Uint64(b))
			case width == 1:
				v = (float64(b[0]) - 128) / 128
			case width == 2:
				v = float64(int16(binary.LittleEndian.Uint16(b))) / 32768
			case width == 3:
				v = float64(int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24)) / (1 << 31)
			default:
				v = float64(int32(binary.LittleEndian.Uint32(b))) / (1 << 31)
			}
			if math.IsNaN(v) {
				v = 0
			}
			sum += v
		}
		out[i] = int16(min(max(math.Round(sum/float64(channels)*32768), math.MinInt16), math.MaxInt16))
	}
	return out
}

// ReadWAV decodes a WAV stream to mono at rate Hz (0 keeps the file's rate).
func ReadWAV(r io.Reader, rate int) ([]int16, error) {
	w, err := DecodeWAV(r)
	if err != nil {
		return nil, err
	}
	if rate == 0 || rate == w.Rate {
		return w.Samples, nil
	}
	return resampleAll(w.Samples, w.Rate, rate)
}

// resampleAll converts a whole clip, compensating the filter delay so the
// output lines up with the input and has len·to/from samples.
func resampleAll(in []int16, from, to int) ([]int16, error) {
	rs, err := NewResampler(from, to)
	if err != nil {
		return nil, fmt.Errorf("wav: %w", err)
	}
	want := int(int64(len(in)) * int64(to) / int64(from))
	pad := (rs.Delay()+2)*from/to + 2
	out := make([]int16, rs.MaxOutput(len(in)+pad))
	n := rs.Process(in, out)
	n += rs.Process(make([]int16, pad), out[n:])
	d := rs.Delay()
	return out[d:min(d+want, n)], nil
}

// WriteWAV writes samples as a 16-bit PCM mono WAV file at rate Hz.
func WriteWAV(w io.Writer, rate int, samples []int16) error {
	const hdrLen = 44
	data := len(samples) * 2
	if data > math.MaxUint32-hdrLen {
		return fmt.Errorf("wav write %d samples: too long for RIFF: %w", len(samples), ErrFormat)
	}
	var b bytes.Buffer
	b.Grow(hdrLen + data)
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(hdrLen-8+data))
	b.WriteString("WAVEfmt ")
	binary.Write(&b, binary.LittleEndian, struct {
		Size          uint32
		Format, Chans uint16
		Rate, ByteRt  uint32
		Block, Bits   uint16
	}{16, wavFormatPCM, 1, uint32(rate), uint32(rate * 2), 2, 16})
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(data))
	binary.Write(&b, binary.LittleEndian, samples)
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("wav write: %w", err)
	}
	return nil
}

// Loop is a Source that plays a clip over and over (ringtones, hold music,
// test prompts). Not safe for concurrent use.
type Loop struct {
	samples []int16
	pos     int
}

// NewLoop returns a Source looping samples; an empty clip plays silence.
func NewLoop(samples []int16) *Loop { return &Loop{samples: samples} }

// NewWAVSource decodes a WAV stream to mono at rate and loops it.
func NewWAVSource(r io.Reader, rate int) (*Loop, error) {
	s, err := ReadWAV(r, rate)
	if err != nil {
		return nil, err
	}
	return NewLoop(s), nil
}

// Read implements Source.
func (l *Loop) Read(f []int16) {
	if len(l.samples) == 0 {
		clear(f)
		return
	}
	for len(f) > 0 {
		n := copy(f, l.samples[l.pos:])
		f = f[n:]
		l.pos = (l.pos + n) % len(l.samples)
	}
}
