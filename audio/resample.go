package audio

import (
	"fmt"
	"math"
)

// Resampler converts a PCM stream between two rates with a rational
// polyphase FIR (Kaiser-windowed sinc). It keeps the filter history between
// calls, so a stream can be fed frame by frame without clicks at the frame
// edges. One Resampler per stream; it is not safe for concurrent use.
//
// The low-pass is designed for the lower of the two rates: pass band up to
// 0.4·rate (3.2 kHz at 8 kHz, past the 3.4 kHz telephone band's knee),
// stop band from 0.5·rate (Nyquist) with about 70 dB attenuation, so a
// 5 kHz tone sent to 8 kHz does not fold back to 3 kHz.
type Resampler struct {
	from, to int
	up, down int // L and M: rate·L/M
	taps     int // taps per phase
	coef     []float32
	hist     []float32 // 2·taps: each sample written twice so the window is contiguous
	pos      int
	phase    int // position of the next output, in 1/up input samples, relative to the newest input
}

const (
	resampleAttenuationDB = 70.0
	resampleMaxRate       = 384000
	resampleMaxPhases     = 1024
)

// NewResampler returns a resampler from one rate to another (Hz). Any pair
// of rates up to 384 kHz whose ratio reduces to at most 1024/1024 works;
// 8, 16 and 48 kHz and 44.1 kHz are the ones we use.
func NewResampler(from, to int) (*Resampler, error) {
	if from <= 0 || to <= 0 || from > resampleMaxRate || to > resampleMaxRate {
		return nil, fmt.Errorf("resample %d Hz to %d Hz: %w", from, to, ErrUnsupportedRate)
	}
	g := gcd(from, to)
	r := &Resampler{from: from, to: to, up: to / g, down: from / g}
	if r.up > resampleMaxPhases || r.down > resampleMaxPhases {
		return nil, fmt.Errorf("resample %d Hz to %d Hz: ratio %d/%d too fine: %w", from, to, r.up, r.down, ErrUnsupportedRate)
	}
	if r.up == 1 && r.down == 1 {
		return r, nil
	}
	r.design()
	return r, nil
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// design builds the prototype low-pass at the intermediate rate from·up and
// splits it into up phases, each reversed so Process is a plain dot product
// against the history window (oldest first).
func (r *Resampler) design() {
	low := float64(min(r.from, r.to))
	inter := float64(r.from) * float64(r.up)
	passEdge, stopEdge := 0.4*low, 0.5*low
	cutoff := (passEdge + stopEdge) / 2 / inter               // cycles per intermediate sample
	transition := 2 * math.Pi * (stopEdge - passEdge) / inter // rad per sample
	n := int(math.Ceil((resampleAttenuationDB - 7.95) / (2.285 * transition)))
	r.taps = max(2, (n+r.up-1)/r.up)
	total := r.taps * r.up
	beta := 0.1102 * (resampleAttenuationDB - 8.7)
	proto := make([]float64, total)
	mid := float64(total-1) / 2
	var sum float64
	for i := range proto {
		x := float64(i) - mid
		s := 2 * cutoff
		if x != 0 {
			s = math.Sin(2*math.Pi*cutoff*x) / (math.Pi * x)
		}
		w := besselI0(beta*math.Sqrt(1-math.Pow(2*x/float64(total-1), 2))) / besselI0(beta)
		proto[i] = s * w
		sum += proto[i]
	}
	// Unity gain at DC after zero-stuffing by up: the filter sums to up.
	scale := float64(r.up) / sum
	r.coef = make([]float32, total)
	for p := range r.up {
		for j := range r.taps {
			r.coef[p*r.taps+j] = float32(proto[p+(r.taps-1-j)*r.up] * scale)
		}
	}
	r.hist = make([]float32, 2*r.taps)
}

// besselI0 is the modified Bessel function of the first kind, order 0, by
// its power series (converges fast for the β of a Kaiser window).
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 64; k++ {
		term *= (x / (2 * float64(k))) * (x / (2 * float64(k)))
		sum += term
		if term < sum*1e-12 {
			break
		}
	}
	return sum
}

// From returns the input rate.
func (r *Resampler) From() int { return r.from }

// To returns the output rate.
func (r *Resampler) To() int { return r.to }

// MaxOutput is the most samples Process can produce for n input samples;
// size out with it. For whole 20 ms frames between 8, 16 and 48 kHz the
// output is always exactly SamplesPerFrame(To()).
func (r *Resampler) MaxOutput(n int) int { return (n*r.up+r.down-1)/r.down + 1 }

// Delay is the group delay of the filter in output samples.
func (r *Resampler) Delay() int {
	if r.taps == 0 {
		return 0
	}
	return (r.taps*r.up - 1) / 2 / r.down
}

// Reset forgets the history, as at the start of a new stream.
func (r *Resampler) Reset() {
	clear(r.hist)
	r.pos, r.phase = 0, 0
}

// Process resamples in into out and returns the number of samples written.
// Output that does not fit in out is lost, so give out MaxOutput(len(in)).
// It does not allocate.
func (r *Resampler) Process(in []int16, out []int16) int {
	if r.taps == 0 {
		return copy(out, in)
	}
	n := 0
	k := r.taps
	for _, s := range in {
		x := float32(s)
		r.hist[r.pos] = x
		r.hist[r.pos+k] = x
		r.pos++
		if r.pos == k {
			r.pos = 0
		}
		win := r.hist[r.pos : r.pos+k]
		for r.phase < r.up {
			acc := dot(r.coef[r.phase*k:r.phase*k+k], win)
			if n < len(out) {
				out[n] = saturate(acc)
				n++
			}
			r.phase += r.down
		}
		r.phase -= r.up
	}
	return n
}

// dot is the FIR inner loop: four independent accumulators let the CPU
// overlap the multiply-adds, and equal lengths drop the bounds checks.
func dot(c, x []float32) float32 {
	x = x[:len(c)]
	var a0, a1, a2, a3 float32
	i := 0
	for ; i+4 <= len(c); i += 4 {
		a0 += c[i] * x[i]
		a1 += c[i+1] * x[i+1]
		a2 += c[i+2] * x[i+2]
		a3 += c[i+3] * x[i+3]
	}
	for ; i < len(c); i++ {
		a0 += c[i] * x[i]
	}
	return (a0 + a1) + (a2 + a3)
}

func saturate(v float32) int16 {
	switch {
	case v >= math.MaxInt16:
		return math.MaxInt16
	case v <= math.MinInt16:
		return math.MinInt16
	case v >= 0:
		return int16(v + 0.5)
	default:
		return int16(v - 0.5)
	}
}
