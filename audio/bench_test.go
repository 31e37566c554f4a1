package audio

import (
	"fmt"
	"testing"
	"time"
)

// Every benchmark processes one 20 ms frame per iteration.

func benchEncode(b *testing.B, c Codec) {
	enc, err := c.NewEncoder()
	if err != nil {
		b.Fatal(err)
	}
	pcm := make([]int16, c.FrameSamples())
	NewTone(1000, 0.3, c.SampleRate()).Read(pcm)
	dst := make([]byte, 1500)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := enc.Encode(pcm, dst); err != nil {
			b.Fatal(err)
		}
	}
}

func benchDecode(b *testing.B, c Codec) {
	enc, _ := c.NewEncoder()
	dec, err := c.NewDecoder()
	if err != nil {
		b.Fatal(err)
	}
	pcm := make([]int16, c.FrameSamples())
	NewTone(1000, 0.3, c.SampleRate()).Read(pcm)
	pay := make([]byte, 1500)
	n, _ := enc.Encode(pcm, pay)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dec.Decode(pay[:n], pcm); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPCMUEncode(b *testing.B) { benchEncode(b, PCMU) }
func BenchmarkPCMUDecode(b *testing.B) { benchDecode(b, PCMU) }
func BenchmarkPCMAEncode(b *testing.B) { benchEncode(b, PCMA) }
func BenchmarkPCMADecode(b *testing.B) { benchDecode(b, PCMA) }
func BenchmarkOpusEncode(b *testing.B) { benchEncode(b, Opus) }
func BenchmarkOpusDecode(b *testing.B) { benchDecode(b, Opus) }

func benchResample(b *testing.B, from, to int) {
	r, err := NewResampler(from, to)
	if err != nil {
		b.Fatal(err)
	}
	in := make([]int16, SamplesPerFrame(from))
	NewTone(1000, 0.3, from).Read(in)
	out := make([]int16, r.MaxOutput(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		r.Process(in, out)
	}
}

func BenchmarkResample48kTo8k(b *testing.B) { benchResample(b, 48000, 8000) }
func BenchmarkResample8kTo48k(b *testing.B) { benchResample(b, 8000, 48000) }

func BenchmarkJitterPushPop(b *testing.B) {
	jb := NewJitterBuffer(JitterOptions{ClockRate: 48000})
	payload := make([]byte, 80)
	now := time.Now()
	var seq uint16
	var ts uint32
	b.ReportAllocs()
	for b.Loop() {
		seq++
		ts += 960
		now = now.Add(FrameDuration)
		jb.Push(seq, ts, payload, now)
		jb.Pop()
	}
}

func BenchmarkGoertzel(b *testing.B) {
	s := make([]int16, DeviceFrameSamples)
	NewTone(1000, 0.3, DeviceRate).Read(s)
	b.ReportAllocs()
	for b.Loop() {
		Goertzel(s, DeviceRate, 1000)
	}
}

func BenchmarkMix4(b *testing.B) {
	acc := make([]int32, DeviceFrameSamples)
	src := make([]int16, DeviceFrameSamples)
	out := make([]int16, DeviceFrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		clear(acc)
		MixInto(acc, src, src, src, src)
		Saturate(out, acc)
	}
}

// BenchmarkOpusEncodeComplexity measures the CPU each Opus complexity
// costs per 20 ms frame of speech-like audio.
func BenchmarkOpusEncodeComplexity(b *testing.B) {
	voice := voiceLike(DeviceRate, DeviceRate)
	dst := make([]byte, 1500)
	for c := 0; c <= 10; c++ {
		b.Run(fmt.Sprint("c", c), func(b *testing.B) {
			o := DefaultOpusOptions()
			o.Complexity = c
			enc, err := NewOpusEncoder(o)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := enc.Encode(voice[i:i+DeviceFrameSamples], dst); err != nil {
					b.Fatal(err)
				}
				i = (i + DeviceFrameSamples) % len(voice)
			}
		})
	}
}
