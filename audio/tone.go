package audio

import "math"

// Tone is a sine generator Source. Its phase runs on across Reads, so
// consecutive frames join without clicks. Not safe for concurrent use.
type Tone struct {
	step  float64 // phase increment per sample, radians
	amp   float64 // peak amplitude in sample units
	phase float64
}

// NewTone returns a sine of freqHz at amplitude (0..1 of full scale) for a
// stream at rate Hz. A 0.5 amplitude is −6 dBFS peak.
func NewTone(freqHz, amplitude float64, rate int) *Tone {
	return &Tone{
		step: 2 * math.Pi * freqHz / float64(rate),
		amp:  min(max(amplitude, 0), 1) * math.MaxInt16,
	}
}

// Read implements Source.
func (t *Tone) Read(f []int16) {
	for i := range f {
		f[i] = int16(math.Round(t.amp * math.Sin(t.phase)))
		t.phase += t.step
	}
	// Keep the phase small so float precision does not decay over hours.
	t.phase = math.Mod(t.phase, 2*math.Pi)
}

// Silence is a Source of zeros.
type Silence struct{}

// Read implements Source.
func (Silence) Read(f []int16) { clear(f) }

// Goertzel returns the power of the freq component of samples (rate Hz),
// as a mean square in sample units: a sine of peak amplitude A yields about
// A²/2, the same scale as MeanSquare, so the two can be compared.
func Goertzel(samples []int16, rate int, freq float64) float64 {
	n := len(samples)
	if n == 0 {
		return 0
	}
	w := 2 * math.Pi * freq / float64(rate)
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, x := range samples {
		s0 := float64(x) + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	re := s1 - s2*math.Cos(w)
	im := s2 * math.Sin(w)
	return 2 * (re*re + im*im) / (float64(n) * float64(n))
}

// MeanSquare returns the mean of the squared samples (the signal power).
func MeanSquare(samples []int16) float64 {
	if len(samples) == 0 {
		return 0
	}
	var sum float64
	for _, x := range samples {
		sum += float64(x) * float64(x)
	}
	return sum / float64(len(samples))
}

// RMS returns the root mean square of samples in sample units.
func RMS(samples []int16) float64 { return math.Sqrt(MeanSquare(samples)) }

// DBFS returns the RMS level relative to a full-scale square wave: 0 dBFS is
// the loudest possible signal, a full-scale sine is −3 dBFS, and silence is
// −Inf.
func DBFS(samples []int16) float64 {
	return 20 * math.Log10(RMS(samples)/-math.MinInt16)
}

// ToneDetector decides whether a tone dominates a stretch of audio.
//
// The audio is cut into 20 ms blocks; the tone's Goertzel power and the
// total power are summed over blocks. Summing power per block (instead of
// one Goertzel over everything) keeps the detector working across the phase
// jumps that packet loss concealment, jitter buffer drops and resampler
// restarts put into real received audio.
type ToneDetector struct {
	Rate int     // sample rate of the audio
	Freq float64 // tone frequency, Hz
	// MinRatio is the least fraction of the total power the tone must hold
	// (default 0.5: codec noise and a quieter second tone still pass, an
	// equal-level other tone or speech does not).
	MinRatio float64
	// MinDBFS is the least level of the audio (default −50 dBFS), so that
	// dither or codec noise on a silent line is never a tone.
	MinDBFS float64
}

// Ratio returns the fraction of the power of samples that lies at Freq.
func (d ToneDetector) Ratio(samples []int16) float64 {
	block := max(SamplesPerFrame(d.Rate), 1)
	var tone, total float64
	for len(samples) > 0 {
		b := samples[:min(block, len(samples))]
		samples = samples[len(b):]
		n := float64(len(b))
		tone += Goertzel(b, d.Rate, d.Freq) * n
		total += MeanSquare(b) * n
	}
	if total == 0 {
		return 0
	}
	return min(tone/total, 1)
}

// Detect reports whether the tone dominates samples.
func (d ToneDetector) Detect(samples []int16) bool {
	minRatio, minDB := d.MinRatio, d.MinDBFS
	if minRatio == 0 {
		minRatio = 0.5
	}
	if minDB == 0 {
		minDB = -50
	}
	if len(samples) == 0 || DBFS(samples) < minDB {
		return false
	}
	return d.Ratio(samples) >= minRatio
}

// DetectTone reports whether a tone of freq Hz dominates samples, with the
// default ToneDetector thresholds.
func DetectTone(samples []int16, rate int, freq float64) bool {
	return ToneDetector{Rate: rate, Freq: freq}.Detect(samples)
}
