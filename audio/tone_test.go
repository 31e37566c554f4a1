package audio

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestTonePhaseContinuous(t *testing.T) {
	// Reading in odd-sized pieces gives the same samples as one read.
	a, b := NewTone(1000, 0.5, 8000), NewTone(1000, 0.5, 8000)
	whole := make([]int16, 1000)
	a.Read(whole)
	var parts []int16
	for _, n := range []int{1, 159, 160, 7, 673} {
		p := make([]int16, n)
		b.Read(p)
		parts = append(parts, p...)
	}
	for i := range whole {
		if d := int(whole[i]) - int(parts[i]); d < -1 || d > 1 {
			t.Fatalf("sample %d: %d vs %d", i, whole[i], parts[i])
		}
	}
	if peak := math.Abs(float64(slicesMax(whole))); math.Abs(peak-0.5*32767) > 50 {
		t.Fatalf("peak %f", peak)
	}
}

func slicesMax(s []int16) int16 {
	m := s[0]
	for _, v := range s {
		m = max(m, v)
	}
	return m
}

func TestGoertzelScale(t *testing.T) {
	s := make([]int16, 960)
	NewTone(1000, 0.5, 48000).Read(s)
	p := Goertzel(s, 48000, 1000)
	want := math.Pow(0.5*32767, 2) / 2
	if math.Abs(p/want-1) > 0.01 {
		t.Fatalf("Goertzel power %.0f, want %.0f", p, want)
	}
	if ms := MeanSquare(s); math.Abs(ms/want-1) > 0.01 {
		t.Fatalf("mean square %.0f, want %.0f", ms, want)
	}
	if off := Goertzel(s, 48000, 1500); off > want*1e-3 {
		t.Fatalf("off-frequency power %.0f", off)
	}
	if Goertzel(nil, 8000, 1000) != 0 {
		t.Fatal("empty input")
	}
}

func TestDBFS(t *testing.T) {
	s := make([]int16, 8000)
	NewTone(1000, 1, 8000).Read(s)
	if d := DBFS(s); math.Abs(d+3.01) > 0.05 {
		t.Fatalf("full-scale sine %.2f dBFS", d)
	}
	if !math.IsInf(DBFS(make([]int16, 10)), -1) {
		t.Fatal("silence is not -Inf dBFS")
	}
}

func TestDetectTone(t *testing.T) {
	const rate = 8000
	mk := func(gen func(s []int16)) []int16 {
		s := make([]int16, rate/2)
		gen(s)
		return s
	}
	tone := func(f, a float64) func([]int16) { return func(s []int16) { NewTone(f, a, rate).Read(s) } }
	rng := rand.New(rand.NewPCG(3, 4))
	noise := func(a float64) func([]int16) {
		return func(s []int16) {
			for i := range s {
				s[i] += int16(rng.NormFloat64() * a * 32767)
			}
		}
	}
	both := func(gens ...func([]int16)) func([]int16) {
		return func(s []int16) {
			tmp := make([]int16, len(s))
			for _, g := range gens {
				clear(tmp)
				g(tmp)
				Mix(s, s, tmp)
			}
		}
	}
	g711 := func(gen func([]int16)) func([]int16) {
		return func(s []int16) {
			gen(s)
			b := make([]byte, len(s))
			MulawEncode(b, s)
			MulawDecode(s, b)
		}
	}
	tests := []struct {
		name string
		gen  func([]int16)
		want bool
	}{
		{"tone", tone(1000, 0.3), true},
		{"quiet tone", tone(1000, 0.01), true},
		{"tone through µ-law", g711(tone(1000, 0.1)), true},
		{"tone in noise at +10 dB", both(tone(1000, 0.1), noise(0.1/math.Sqrt2/3.16)), true},
		{"tone with quieter second tone", both(tone(1000, 0.3), tone(1500, 0.1)), true},
		{"silence", func([]int16) {}, false},
		{"other frequency", tone(1500, 0.3), false},
		{"near frequency", tone(1100, 0.3), false},
		{"equal second tone", both(tone(1000, 0.2), tone(1500, 0.2), tone(700, 0.2)), false},
		{"noise", noise(0.2), false},
		{"below level floor", tone(1000, 0.001), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mk(tt.gen)
			if got := DetectTone(s, rate, 1000); got != tt.want {
				t.Fatalf("DetectTone = %v (ratio %.3f, %.1f dBFS)", got,
					ToneDetector{Rate: rate, Freq: 1000}.Ratio(s), DBFS(s))
			}
		})
	}
}

func TestDetectToneAcrossPhaseJumps(t *testing.T) {
	// Frames from two tone generators out of phase, alternating every
	// 20 ms (as after concealment or jitter-buffer drops), still detect.
	a, b := NewTone(1000, 0.3, 48000), NewTone(1000, 0.3, 48000)
	skip := make([]int16, 17)
	b.Read(skip)
	s := make([]int16, 0, 48000/2)
	f := make([]int16, 960)
	for i := range 25 {
		if i%2 == 0 {
			a.Read(f)
		} else {
			b.Read(f)
		}
		s = append(s, f...)
	}
	if !DetectTone(s, 48000, 1000) {
		t.Fatal("tone with phase jumps not detected")
	}
}

func TestMix(t *testing.T) {
	acc := make([]int32, 4)
	MixInto(acc, []int16{30000, -30000, 1, 2}, []int16{30000, -30000, 1}, []int16{100, 0, 0, 0})
	dst := make([]int16, 4)
	Saturate(dst, acc)
	if dst[0] != 32767 || dst[1] != -32768 || dst[2] != 2 || dst[3] != 2 {
		t.Fatalf("saturate: %v", dst)
	}
	SubtractFrom(acc, []int16{30000, -30000, 1, 2})
	Saturate(dst, acc)
	if dst[0] != 30100 || dst[1] != -30000 || dst[2] != 1 || dst[3] != 0 {
		t.Fatalf("mix-minus: %v", dst)
	}
	out := []int16{20000, 5}
	Mix(out, out, []int16{20000, -10})
	if out[0] != 32767 || out[1] != -5 {
		t.Fatalf("Mix: %v", out)
	}
	g := []int16{1000, -32768, 30000}
	Gain(g, 2)
	if g[0] != 2000 || g[1] != -32768 || g[2] != 32767 {
		t.Fatalf("Gain: %v", g)
	}
	var sil [3]int16
	sil[0] = 5
	Silence{}.Read(sil[:])
	if sil[0] != 0 {
		t.Fatal("Silence")
	}
}

func TestMixNoAlloc(t *testing.T) {
	acc := make([]int32, 960)
	a, b := make([]int16, 960), make([]int16, 960)
	if n := testing.AllocsPerRun(100, func() {
		clear(acc)
		MixInto(acc, a)
		MixInto(acc, b)
		Saturate(a, acc)
	}); n != 0 {
		t.Fatalf("%.1f allocs", n)
	}
}
