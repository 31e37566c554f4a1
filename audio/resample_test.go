package audio

import (
	"errors"
	"math"
	"testing"
)

// resampleStream pushes src through r in 20 ms frames, as callers do.
func resampleStream(t *testing.T, r *Resampler, src []int16) []int16 {
	t.Helper()
	frame := SamplesPerFrame(r.From())
	out := make([]int16, 0, len(src)*r.To()/r.From()+16)
	buf := make([]int16, r.MaxOutput(frame))
	for len(src) >= frame {
		n := r.Process(src[:frame], buf)
		out = append(out, buf[:n]...)
		src = src[frame:]
	}
	return out
}

func toneSamples(freq, amp float64, rate int, d float64) []int16 {
	s := make([]int16, int(d*float64(rate)))
	NewTone(freq, amp, rate).Read(s)
	return s
}

func TestResamplerRates(t *testing.T) {
	for _, tt := range []struct{ from, to int }{
		{48000, 8000}, {8000, 48000}, {48000, 16000}, {16000, 48000},
		{16000, 8000}, {8000, 16000}, {48000, 48000}, {44100, 48000}, {22050, 8000},
	} {
		r, err := NewResampler(tt.from, tt.to)
		if err != nil {
			t.Fatalf("%d->%d: %v", tt.from, tt.to, err)
		}
		in := toneSamples(1000, 0.5, tt.from, 0.5)
		out := resampleStream(t, r, in)
		want := len(in) / SamplesPerFrame(tt.from) * SamplesPerFrame(tt.to)
		if d := len(out) - want; d < -1 || d > 1 {
			t.Errorf("%d->%d: %d samples out of %d, want %d", tt.from, tt.to, len(out), len(in), want)
		}
		// Skip the filter's start-up transient before measuring.
		tail := out[len(out)/2:]
		if !DetectTone(tail, tt.to, 1000) {
			t.Errorf("%d->%d: tone lost (ratio %.3f)", tt.from, tt.to, ToneDetector{Rate: tt.to, Freq: 1000}.Ratio(tail))
		}
		if lvl, want := RMS(tail), RMS(in); math.Abs(20*math.Log10(lvl/want)) > 0.2 {
			t.Errorf("%d->%d: level %.0f, input %.0f", tt.from, tt.to, lvl, want)
		}
	}
}

func TestResamplerExactFrames(t *testing.T) {
	// Between 8, 16 and 48 kHz a 20 ms frame always maps to exactly one
	// 20 ms frame: callers rely on it.
	for _, tt := range []struct{ from, to int }{{48000, 8000}, {8000, 48000}, {48000, 16000}, {16000, 48000}, {8000, 16000}} {
		r, _ := NewResampler(tt.from, tt.to)
		in := make([]int16, SamplesPerFrame(tt.from))
		out := make([]int16, r.MaxOutput(len(in)))
		for i := range 10 {
			if n := r.Process(in, out); n != SamplesPerFrame(tt.to) {
				t.Fatalf("%d->%d frame %d: %d samples", tt.from, tt.to, i, n)
			}
		}
	}
}

// distortion returns the fraction of power in samples that is not the
// tone, fitting the tone's amplitude and phase by least squares (THD+N).
func distortion(samples []int16, rate int, freq float64) float64 {
	w := 2 * math.Pi * freq / float64(rate)
	var ss, cc, sc, xs, xc, xx float64
	for i, v := range samples {
		s, c := math.Sin(w*float64(i)), math.Cos(w*float64(i))
		x := float64(v)
		ss += s * s
		cc += c * c
		sc += s * c
		xs += x * s
		xc += x * c
		xx += x * x
	}
	det := ss*cc - sc*sc
	a := (xs*cc - xc*sc) / det
	b := (xc*ss - xs*sc) / det
	var res float64
	for i, v := range samples {
		e := float64(v) - a*math.Sin(w*float64(i)) - b*math.Cos(w*float64(i))
		res += e * e
	}
	return res / xx
}

func TestResamplerRoundTripDistortion(t *testing.T) {
	// 1 kHz at 48 kHz down to 8 kHz and back: the telephone path of every
	// G.711 call. THD+N must stay below −40 dB.
	down, _ := NewResampler(48000, 8000)
	up, _ := NewResampler(8000, 48000)
	in := toneSamples(1000, 0.5, 48000, 1)
	out := resampleStream(t, up, resampleStream(t, down, in))
	tail := out[len(out)/4:]
	if d := 10 * math.Log10(distortion(tail, 48000, 1000)); d > -40 {
		t.Fatalf("THD+N %.1f dB, want <= -40", d)
	} else {
		t.Logf("48k->8k->48k 1 kHz THD+N %.1f dB", d)
	}
}

func TestResamplerAntiAliasing(t *testing.T) {
	// Tones above the 8 kHz Nyquist must not fold back into the band.
	for _, tt := range []struct {
		from  int
		freq  float64
		maxDB float64 // output level relative to input
	}{
		{48000, 5000, -60},
		{48000, 6000, -60},
		{48000, 4400, -40}, // just past Nyquist, in the transition
		{16000, 5000, -60},
	} {
		r, _ := NewResampler(tt.from, 8000)
		in := toneSamples(tt.freq, 0.5, tt.from, 0.5)
		out := resampleStream(t, r, in)
		tail := out[len(out)/2:]
		rel := 20 * math.Log10(RMS(tail)/RMS(in))
		if rel > tt.maxDB {
			t.Errorf("%d Hz from %d to 8 kHz: %.1f dB, want <= %.0f", int(tt.freq), tt.from, rel, tt.maxDB)
		}
	}
	// The pass band is kept: 3 kHz loses less than 0.5 dB.
	r, _ := NewResampler(48000, 8000)
	in := toneSamples(3000, 0.5, 48000, 0.5)
	out := resampleStream(t, r, in)
	if rel := 20 * math.Log10(RMS(out[len(out)/2:])/RMS(in)); rel < -0.5 {
		t.Errorf("3 kHz pass band: %.2f dB", rel)
	}
}

func TestResamplerContinuity(t *testing.T) {
	// Frame-by-frame processing equals one-shot processing: the history
	// carries across calls.
	in := toneSamples(700, 0.5, 8000, 0.2)
	a, _ := NewResampler(8000, 48000)
	b, _ := NewResampler(8000, 48000)
	whole := make([]int16, a.MaxOutput(len(in)))
	n := a.Process(in, whole)
	parts := resampleStream(t, b, in)
	if n != len(parts) {
		t.Fatalf("one-shot %d samples, framed %d", n, len(parts))
	}
	for i := range parts {
		if parts[i] != whole[i] {
			t.Fatalf("sample %d: framed %d, one-shot %d", i, parts[i], whole[i])
		}
	}
	// Reset starts over: the same input gives the same output again.
	a.Reset()
	again := make([]int16, a.MaxOutput(len(in)))
	a.Process(in, again)
	for i := range n {
		if again[i] != whole[i] {
			t.Fatalf("after Reset sample %d differs", i)
		}
	}
}

func TestResamplerErrors(t *testing.T) {
	for _, tt := range []struct{ from, to int }{{0, 8000}, {8000, -1}, {1000000, 8000}, {48000, 47999}} {
		if _, err := NewResampler(tt.from, tt.to); !errors.Is(err, ErrUnsupportedRate) {
			t.Errorf("%d->%d: %v", tt.from, tt.to, err)
		}
	}
}

func TestResamplerNoAlloc(t *testing.T) {
	r, _ := NewResampler(48000, 8000)
	in := toneSamples(1000, 0.5, 48000, 0.02)
	out := make([]int16, r.MaxOutput(len(in)))
	if a := testing.AllocsPerRun(100, func() { r.Process(in, out) }); a != 0 {
		t.Fatalf("%.1f allocs per frame", a)
	}
}
