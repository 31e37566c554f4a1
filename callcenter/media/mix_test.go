package media

import (
	"math"
	"testing"
)

func TestMixSaturates(t *testing.T) {
	tests := []struct {
		name    string
		sources [][]int16
		own     []int16
		want    []int16
	}{
		{"sum", [][]int16{{100, -200}, {50, 50}}, nil, []int16{150, -150}},
		{"clips high", [][]int16{{30000, 1}, {30000, 1}}, nil, []int16{math.MaxInt16, 2}},
		{"clips low", [][]int16{{-30000}, {-30000}}, nil, []int16{math.MinInt16}},
		{"minus own", [][]int16{{1000, 20000}, {-500, 20000}}, []int16{1000, 20000}, []int16{-500, 20000}},
		// The total clips, but the listener's share does not: the
		// int32 sum keeps everything until the very end.
		{"minus own after overflow", [][]int16{{32767}, {32767}, {-10}}, []int16{32767}, []int16{32757}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acc := make([]int32, len(tt.want))
			for _, s := range tt.sources {
				accumulate(acc, s)
			}
			got := make([]int16, len(tt.want))
			if tt.own != nil {
				saturateMinus(got, acc, tt.own)
			} else {
				saturate(got, acc)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}
