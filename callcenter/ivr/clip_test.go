package ivr

import (
	"slices"
	"testing"
	"time"
)

func TestClip(t *testing.T) {
	c := NewClip([]int16{1, 2, 3, 4, 5}, 8000)
	if c.Rate() != 8000 || c.Duration() != 625*time.Microsecond {
		t.Errorf("rate %d duration %v", c.Rate(), c.Duration())
	}
	f := make([]int16, 3)
	c.Read(f)
	if !slices.Equal(f, []int16{1, 2, 3}) || isDone(c) {
		t.Fatalf("first frame %v, done %v", f, isDone(c))
	}
	c.Read(f)
	if !slices.Equal(f, []int16{4, 5, 0}) || !isDone(c) {
		t.Fatalf("last frame %v (want silence after the clip), done %v", f, isDone(c))
	}
	f[0] = 9
	c.Read(f)
	if !slices.Equal(f, []int16{0, 0, 0}) {
		t.Fatalf("after the end %v, want silence", f)
	}
}

func TestClipStop(t *testing.T) {
	c := NewClip([]int16{1, 2, 3, 4, 5}, 8000)
	c.Stop()
	c.Stop() // idempotent
	if !isDone(c) {
		t.Fatal("Stop must close Done")
	}
	f := []int16{9, 9}
	c.Read(f)
	if !slices.Equal(f, []int16{0, 0}) {
		t.Fatalf("stopped clip read %v", f)
	}
}

func TestClipEmpty(t *testing.T) {
	c := NewClip(nil, 0)
	if c.Duration() != 0 {
		t.Error(c.Duration())
	}
	c.Read(make([]int16, 4))
	if !isDone(c) {
		t.Fatal("an empty clip is done after one read")
	}
}

func isDone(c *Clip) bool {
	select {
	case <-c.Done():
		return true
	default:
		return false
	}
}
