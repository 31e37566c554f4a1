package media

import "math"

// The mixing core works on one frame at the room rate. Sums are kept in
// int32 so that any realistic number of speakers cannot overflow
// (65536 full-scale speakers would be needed), and are saturated to
// int16 only once, for each listener.

// accumulate adds src into acc.
func accumulate(acc []int32, src []int16) {
	acc = acc[:len(src)]
	for i, s := range src {
		acc[i] += int32(s)
	}
}

// saturate writes acc clipped to the int16 range into dst.
func saturate(dst []int16, acc []int32) {
	dst = dst[:len(acc)]
	for i, v := range acc {
		dst[i] = clip(v)
	}
}

// saturateMinus writes acc-own clipped into dst: a listener's mix when it
// hears everybody is the room total minus its own voice, which makes an
// all-hear-all room O(N) instead of O(N²).
func saturateMinus(dst []int16, acc []int32, own []int16) {
	dst = dst[:len(acc)]
	own = own[:len(acc)]
	for i, v := range acc {
		dst[i] = clip(v - int32(own[i]))
	}
}

func clip(v int32) int16 {
	if v > math.MaxInt16 {
		return math.MaxInt16
	}
	if v < math.MinInt16 {
		return math.MinInt16
	}
	return int16(v)
}
