package audio

import (
	"fmt"
	"sync"
	"time"
)

// VirtualDevice is a Device without hardware: the "microphone" plays a
// Source paced in real time, and everything written to the "speaker" is
// recorded for inspection. Tests and headless runs use it to prove audio
// flows end to end (send a tone, detect it in Played). Safe for concurrent
// use.
type VirtualDevice struct {
	mu      sync.Mutex
	src     Source
	paced   bool
	next    time.Time // when the next captured frame is due (monotonic)
	rec     []int16   // ring of the most recent played samples
	recCap  int
	written int64 // samples ever written
	closed  chan struct{}
	once    sync.Once
	reads   int64
}

// VirtualOption configures a VirtualDevice.
type VirtualOption func(*VirtualDevice)

// WithRecordLimit bounds the recording to the most recent d of played
// audio (default one minute), so long headless runs do not grow forever.
func WithRecordLimit(d time.Duration) VirtualOption {
	return func(v *VirtualDevice) { v.recCap = max(int(d*DeviceRate/time.Second), DeviceFrameSamples) }
}

// WithoutPacing makes ReadFrame return at once instead of every 20 ms of
// real time, for tests that drive the device faster than real time.
func WithoutPacing() VirtualOption {
	return func(v *VirtualDevice) { v.paced = false }
}

// NewVirtualDevice returns a device whose microphone plays src (nil plays
// silence) at DeviceRate.
func NewVirtualDevice(src Source, opts ...VirtualOption) *VirtualDevice {
	v := &VirtualDevice{src: src, paced: true, recCap: 60 * DeviceRate, closed: make(chan struct{})}
	for _, o := range opts {
		o(v)
	}
	return v
}

// SetSource switches what the microphone plays, from the next frame on.
func (v *VirtualDevice) SetSource(src Source) {
	v.mu.Lock()
	v.src = src
	v.mu.Unlock()
}

// ReadFrame waits for the next 20 ms tick and fills f from the source.
// Ticks follow a fixed schedule from the first read, so scheduling delays
// do not accumulate into drift; after a stall of more than 100 ms the
// schedule restarts from now instead of bursting to catch up.
func (v *VirtualDevice) ReadFrame(f []int16) error {
	if len(f) != DeviceFrameSamples {
		return fmt.Errorf("virtual device read %d samples, want %d: %w", len(f), DeviceFrameSamples, ErrShortBuffer)
	}
	v.mu.Lock()
	if v.isClosed() {
		v.mu.Unlock()
		return ErrClosed
	}
	var wait time.Duration
	if v.paced {
		now := time.Now()
		if v.next.IsZero() || now.Sub(v.next) > 100*time.Millisecond {
			v.next = now
		}
		wait = v.next.Sub(now)
		v.next = v.next.Add(FrameDuration)
	}
	v.mu.Unlock()

	if wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-v.closed:
			t.Stop()
			return ErrClosed
		}
	}

	v.mu.Lock()
	defer v.mu.Unlock()
	if v.isClosed() {
		return ErrClosed
	}
	if v.src == nil {
		clear(f)
	} else {
		v.src.Read(f)
	}
	v.reads++
	return nil
}

// WriteFrame records f as played. It never blocks.
func (v *VirtualDevice) WriteFrame(f []int16) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.isClosed() {
		return ErrClosed
	}
	v.rec = append(v.rec, f...)
	// Trim in large steps so the copy cost stays amortised.
	if len(v.rec) > 2*v.recCap {
		n := copy(v.rec, v.rec[len(v.rec)-v.recCap:])
		v.rec = v.rec[:n]
	}
	v.written += int64(len(f))
	return nil
}

// Close stops the device; blocked and later calls return ErrClosed.
func (v *VirtualDevice) Close() error {
	v.once.Do(func() { close(v.closed) })
	return nil
}

func (v *VirtualDevice) isClosed() bool {
	select {
	case <-v.closed:
		return true
	default:
		return false
	}
}

// retained returns the recorded samples still held, oldest first, and the
// absolute index (in samples ever written) of the first one. Caller holds mu.
func (v *VirtualDevice) retained() ([]int16, int64) {
	r := v.rec
	if len(r) > v.recCap {
		r = r[len(r)-v.recCap:]
	}
	return r, v.written - int64(len(r))
}

// Played returns a copy of the recorded speaker audio (at most the record
// limit), oldest first.
func (v *VirtualDevice) Played() []int16 {
	v.mu.Lock()
	defer v.mu.Unlock()
	r, _ := v.retained()
	return append([]int16(nil), r...)
}

// PlayedLast returns a copy of the last d of recorded audio (less if less
// was played). "Was a 1 kHz tone heard in the last 500 ms":
//
//	DetectTone(dev.PlayedLast(500*time.Millisecond), DeviceRate, 1000)
func (v *VirtualDevice) PlayedLast(d time.Duration) []int16 {
	v.mu.Lock()
	defer v.mu.Unlock()
	r, _ := v.retained()
	n := min(int(d*DeviceRate/time.Second), len(r))
	return append([]int16(nil), r[len(r)-n:]...)
}

// Mark returns the number of samples written so far; pass it to PlayedSince
// later to get exactly what was played in between.
func (v *VirtualDevice) Mark() int64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.written
}

// PlayedSince returns a copy of what was played after Mark returned mark
// (clipped to what the record limit retained).
func (v *VirtualDevice) PlayedSince(mark int64) []int16 {
	v.mu.Lock()
	defer v.mu.Unlock()
	r, first := v.retained()
	skip := min(max(mark-first, 0), int64(len(r)))
	return append([]int16(nil), r[skip:]...)
}

// Reset discards the recording (Mark keeps counting).
func (v *VirtualDevice) Reset() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.rec = v.rec[:0]
}

// Frames returns how many microphone frames were read.
func (v *VirtualDevice) Frames() int64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.reads
}
