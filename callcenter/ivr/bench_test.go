package ivr

import (
	"testing"

	"github.com/agentphone/agentphone/audio"
)

// BenchmarkClipRead is the per-tick cost of a prompt in a room (one 20 ms
// frame at 8 kHz).
func BenchmarkClipRead(b *testing.B) {
	c := NewClip(make([]int16, 8000*60), 8000)
	f := make([]int16, audio.SamplesPerFrame(8000))
	b.ReportAllocs()
	for b.Loop() {
		c.Read(f)
		if c.pos >= len(c.samples) {
			c.pos = 0
		}
	}
}

// BenchmarkPromptClip is what each Play costs before joining the room: a
// cached lookup and a Clip.
func BenchmarkPromptClip(b *testing.B) {
	p := builtin(b)
	if _, err := p.Clip("zh/queue_position_3", 0); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Clip("zh/queue_position_3", 0); err != nil {
			b.Fatal(err)
		}
	}
}
