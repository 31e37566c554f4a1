package audio

import "testing"

func TestSampleRing(t *testing.T) {
	r := newSampleRing(5)
	if d := r.Write([]int16{1, 2, 3}); d != 0 || r.Len() != 3 {
		t.Fatalf("dropped %d len %d", d, r.Len())
	}
	out := make([]int16, 2)
	if n := r.Read(out); n != 2 || out[0] != 1 || out[1] != 2 {
		t.Fatalf("read %d %v", n, out)
	}
	// Wraps around, then overflows: the oldest (3, 4) go.
	if d := r.Write([]int16{4, 5, 6, 7, 8, 9}); d != 2 {
		t.Fatalf("dropped %d", d)
	}
	out = make([]int16, 10)
	if n := r.Read(out); n != 5 || !slicesEqual(out[:5], []int16{5, 6, 7, 8, 9}) {
		t.Fatalf("read %d %v", n, out[:n])
	}
	if n := r.Read(out); n != 0 {
		t.Fatalf("empty read %d", n)
	}
	// A write larger than the ring keeps its newest part.
	if d := r.Write([]int16{1, 2, 3, 4, 5, 6, 7}); d != 2 || r.Len() != 5 {
		t.Fatalf("dropped %d len %d", d, r.Len())
	}
	r.Read(out)
	if !slicesEqual(out[:5], []int16{3, 4, 5, 6, 7}) {
		t.Fatalf("%v", out[:5])
	}
	r.Write([]int16{1})
	r.Clear()
	if r.Len() != 0 {
		t.Fatal("Clear")
	}
}
