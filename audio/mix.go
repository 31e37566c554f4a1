package audio

import "math"

// Mixing accumulates in int32 so any number of 16-bit sources can be summed
// without intermediate clipping; saturation happens once, at the end. A
// room's mix-minus is then: accumulate everyone, and for each listener
// subtract its own voice (SubtractFrom) before Saturate.

// MixInto adds each source sample-wise into acc. Sources shorter than acc
// contribute to the first samples only.
func MixInto(acc []int32, srcs ...[]int16) {
	for _, src := range srcs {
		n := min(len(acc), len(src))
		a, s := acc[:n], src[:n]
		for i, v := range s {
			a[i] += int32(v)
		}
	}
}

// SubtractFrom removes src from acc (the inverse of MixInto).
func SubtractFrom(acc []int32, src []int16) {
	n := min(len(acc), len(src))
	a, s := acc[:n], src[:n]
	for i, v := range s {
		a[i] -= int32(v)
	}
}

// Saturate writes acc into dst clamped to the int16 range and returns the
// number of samples written.
func Saturate(dst []int16, acc []int32) int {
	n := min(len(dst), len(acc))
	d, a := dst[:n], acc[:n]
	for i, v := range a {
		d[i] = int16(min(max(v, math.MinInt16), math.MaxInt16))
	}
	return n
}

// Mix sums srcs into dst with saturation: dst[i] = clamp(Σ srcs[k][i]).
// dst is not part of the sum; pass it as a source to add to it.
func Mix(dst []int16, srcs ...[]int16) {
	for i := range dst {
		var sum int32
		for _, s := range srcs {
			if i < len(s) {
				sum += int32(s[i])
			}
		}
		dst[i] = int16(min(max(sum, math.MinInt16), math.MaxInt16))
	}
}

// Gain scales samples in place by g with saturation (g = 0.5 is −6 dB).
func Gain(samples []int16, g float64) {
	for i, v := range samples {
		samples[i] = int16(min(max(math.Round(float64(v)*g), math.MinInt16), math.MaxInt16))
	}
}
