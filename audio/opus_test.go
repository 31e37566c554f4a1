package audio

import (
	"errors"
	"fmt"
	"math"
	"testing"
)

// voiceLike returns n samples of a vowel-like signal at rate: harmonics
// of a gliding 110-170 Hz pitch shaped by three formants, four syllables
// a second. Unlike a pure tone it exercises Opus's speech paths (pitch,
// LPC, transients), which is where a lower complexity would show.
func voiceLike(n, rate int) []int16 {
	out := make([]int16, n)
	formants := []struct{ f, bw, g float64 }{{700, 130, 1}, {1220, 70, 0.5}, {2600, 160, 0.25}}
	ph := 0.0
	for i := range out {
		t := float64(i) / float64(rate)
		f0 := 140 + 30*math.Sin(2*math.Pi*1.3*t)
		ph += 2 * math.Pi * f0 / float64(rate)
		env := 0.5 - 0.5*math.Cos(2*math.Pi*4*t)
		var v float64
		for h := 1; float64(h)*f0 < 3800; h++ {
			fh := float64(h) * f0
			g := 0.0
			for _, fm := range formants {
				d := (fh - fm.f) / fm.bw
				g += fm.g / (1 + d*d)
			}
			v += g * math.Sin(float64(h)*ph)
		}
		out[i] = int16(4000 * env * v)
	}
	return out
}

// opusRoundTrip encodes pcm frame by frame with opts and decodes it.
func opusRoundTrip(t *testing.T, opts OpusOptions, pcm []int16) []int16 {
	t.Helper()
	enc, err := NewOpusEncoder(opts)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := Opus.NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	var out []int16
	buf := make([]byte, 1500)
	frame := make([]int16, DeviceFrameSamples)
	for i := 0; i+DeviceFrameSamples <= len(pcm); i += DeviceFrameSamples {
		n, err := enc.Encode(pcm[i:i+DeviceFrameSamples], buf)
		if err != nil {
			t.Fatal(err)
		}
		m, err := dec.Decode(buf[:n], frame)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, frame[:m]...)
	}
	return out
}

// snr returns the signal-to-noise ratio of got against ref in dB, at the
// best alignment within the codec's delay range (Opus at 48 kHz delays by
// about 6.5 ms).
func snr(ref, got []int16) float64 {
	best := math.Inf(-1)
	for lag := 250; lag < 400; lag++ {
		var sig, noise float64
		for i := 4800; i+lag < len(got) && i < len(ref); i++ {
			d := float64(got[i+lag]) - float64(ref[i])
			sig += float64(ref[i]) * float64(ref[i])
			noise += d * d
		}
		best = max(best, 10*math.Log10(sig/noise))
	}
	return best
}

func TestOpusOptions(t *testing.T) {
	def := DefaultOpusOptions()
	tests := []struct {
		name string
		mod  func(*OpusOptions)
		want error
	}{
		{"defaults", func(*OpusOptions) {}, nil},
		{"complexity 0", func(o *OpusOptions) { o.Complexity = 0 }, nil},
		{"complexity 5 without FEC", func(o *OpusOptions) { o.Complexity, o.FEC, o.LossPercent = 5, false, 0 }, nil},
		{"complexity 11", func(o *OpusOptions) { o.Complexity = 11 }, ErrBadOption},
		{"complexity -1", func(o *OpusOptions) { o.Complexity = -1 }, ErrBadOption},
		{"bitrate 0", func(o *OpusOptions) { o.Bitrate = 0 }, ErrBadOption},
		{"bitrate 6 kbit/s", func(o *OpusOptions) { o.Bitrate = 6000 }, nil},
		{"bitrate 1 Mbit/s", func(o *OpusOptions) { o.Bitrate = 1000000 }, ErrBadOption},
		{"loss 101%", func(o *OpusOptions) { o.LossPercent = 101 }, ErrBadOption},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := def
			tt.mod(&o)
			_, err := NewOpusEncoder(o)
			if !errors.Is(err, tt.want) {
				t.Fatalf("NewOpusEncoder(%+v) err = %v, want %v", o, err, tt.want)
			}
		})
	}
}

// TestOpusComplexity: every complexity carries a tone, and the cheaper
// complexity 5 the rooms use keeps speech-like audio close to 10's
// (measured: 15.0 dB SNR against 17.1 dB; on espeak-ng speech 10.15
// against 10.29 dB, at about half the CPU).
func TestOpusComplexity(t *testing.T) {
	tone := make([]int16, DeviceRate)
	NewTone(1000, 0.3, DeviceRate).Read(tone)
	voice := voiceLike(DeviceRate, DeviceRate)
	snrAt := map[int]float64{}
	for _, c := range []int{0, 3, 5, 10} {
		t.Run(fmt.Sprint("complexity ", c), func(t *testing.T) {
			o := DefaultOpusOptions()
			o.Complexity = c
			got := opusRoundTrip(t, o, tone)
			if r := (ToneDetector{Rate: DeviceRate, Freq: 1000}).Ratio(got[4800:]); r < 0.95 {
				t.Errorf("1 kHz holds %.3f of the power after the round trip", r)
			}
			snrAt[c] = snr(voice, opusRoundTrip(t, o, voice))
		})
	}
	if snrAt[5] < snrAt[10]-3 || snrAt[5] < 10 {
		t.Errorf("speech-like SNR %.1f dB at complexity 5, %.1f dB at 10", snrAt[5], snrAt[10])
	}
	if snrAt[10] < snrAt[0] {
		t.Errorf("complexity 10 (%.1f dB) worse than 0 (%.1f dB): options not applied?", snrAt[10], snrAt[0])
	}
}
