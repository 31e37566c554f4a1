package ivr

import (
	"slices"
	"testing"
	"time"
)

func TestQueuePrompts(t *testing.T) {
	p := builtin(t)
	tests := []struct {
		pos  int
		wait time.Duration
		want []string
	}{
		{1, 30 * time.Second, []string{"queue_position_1", "expected_wait_1"}},
		{3, 2 * time.Minute, []string{"queue_position_3", "expected_wait_2"}},
		{3, 2*time.Minute + time.Second, []string{"queue_position_3", "expected_wait_3"}},
		{10, 10 * time.Minute, []string{"queue_position_10", "expected_wait_10"}},
		{11, 11 * time.Minute, nil},
		{0, 0, nil},
		{-1, -time.Minute, nil},
		{2, 0, []string{"queue_position_2"}},
		{40, time.Minute, []string{"expected_wait_1"}},
	}
	for _, tt := range tests {
		got := QueuePrompts(tt.pos, tt.wait)
		if !slices.Equal(got, tt.want) {
			t.Errorf("QueuePrompts(%d, %v) = %q, want %q", tt.pos, tt.wait, got, tt.want)
		}
		for _, name := range got {
			for _, key := range []string{name, p.Localize("zh", name)} {
				if !p.Has(key) {
					t.Errorf("%s: no such prompt", key)
				}
			}
		}
	}
}
