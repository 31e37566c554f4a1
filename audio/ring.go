package audio

// sampleRing is a fixed-capacity FIFO of samples that, when full, drops the
// oldest audio to make room: for live audio a late sample is worth less than
// a current one. Not synchronised; callers hold their own lock.
type sampleRing struct {
	buf        []int16
	head, size int
}

func newSampleRing(capacity int) sampleRing { return sampleRing{buf: make([]int16, capacity)} }

func (r *sampleRing) Len() int { return r.size }

// Write appends s and returns how many old samples were dropped for it.
func (r *sampleRing) Write(s []int16) (dropped int) {
	if len(s) > len(r.buf) {
		dropped = len(s) - len(r.buf)
		s = s[dropped:]
	}
	if over := r.size + len(s) - len(r.buf); over > 0 {
		r.head = (r.head + over) % len(r.buf)
		r.size -= over
		dropped += over
	}
	tail := (r.head + r.size) % len(r.buf)
	n := copy(r.buf[tail:], s)
	copy(r.buf, s[n:])
	r.size += len(s)
	return dropped
}

// Read moves up to len(dst) samples into dst and returns how many.
func (r *sampleRing) Read(dst []int16) int {
	n := min(len(dst), r.size)
	m := copy(dst[:n], r.buf[r.head:])
	copy(dst[m:n], r.buf)
	r.head = (r.head + n) % len(r.buf)
	r.size -= n
	return n
}

// Clear empties the ring.
func (r *sampleRing) Clear() { r.head, r.size = 0, 0 }
