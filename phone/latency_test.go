package phone

import (
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/agentphone/agentphone/audio"
)

// burstSource is a microphone that is silent until armed, then plays a
// tone and notes when its first tone frame was captured.
type burstSource struct {
	mu      sync.Mutex
	tone    *audio.Tone
	on      bool
	started time.Time
}

func (s *burstSource) Read(f []int16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.on {
		clear(f)
		return
	}
	if s.started.IsZero() {
		s.started = time.Now()
	}
	s.tone.Read(f)
}

func (s *burstSource) set(on bool) (started time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	started, s.on = s.started, on
	s.started = time.Time{}
	return started
}

// earDevice timestamps the first speaker frame that carries the tone.
type earDevice struct {
	*audio.VirtualDevice
	freq float64
	mu   sync.Mutex
	arm  bool
	hit  chan time.Time
}

func (d *earDevice) WriteFrame(f []int16) error {
	d.mu.Lock()
	if d.arm && audio.DetectTone(f, audio.DeviceRate, d.freq) {
		d.arm = false
		d.hit <- time.Now()
	}
	d.mu.Unlock()
	return d.VirtualDevice.WriteFrame(f)
}

func (d *earDevice) rearm() {
	d.mu.Lock()
	d.arm = true
	d.mu.Unlock()
}

// BenchmarkMouthToEar measures A's microphone → B's speaker on loopback in
// direct mode: capture, encode, RTP, jitter buffer, decode, playout.
// Device buffering of real hardware is not included. Run with
// -benchtime=20x; each op is one tone burst.
func BenchmarkMouthToEar(b *testing.B) {
	for _, codec := range []string{"opus", "PCMU"} {
		b.Run(codec, func(b *testing.B) {
			b.ReportAllocs()
			mouth := &burstSource{tone: audio.NewTone(1000, 0.3, audio.DeviceRate)}
			devA := audio.NewVirtualDevice(mouth, audio.WithRecordLimit(time.Second))
			ear := &earDevice{VirtualDevice: audio.NewVirtualDevice(nil, audio.WithRecordLimit(time.Second)),
				freq: 1000, hit: make(chan time.Time, 1)}
			a := newDirectPhone(b, "1001", WithCodecs(codec),
				WithAudio(func() (audio.Device, error) { return devA, nil }))
			bp := newDirectPhone(b, "1002", WithAudio(func() (audio.Device, error) { return ear, nil }))
			bp.SetAutoAnswer(true)
			c, err := a.Dial(ctxT(b), bp.URI())
			if err != nil {
				b.Fatal(err)
			}
			waitState(b, c, Active)
			time.Sleep(300 * time.Millisecond) // jitter buffers settle

			var lat []time.Duration
			b.ResetTimer()
			for range b.N {
				ear.rearm()
				mouth.set(true)
				select {
				case heardAt := <-ear.hit:
					lat = append(lat, heardAt.Sub(mouth.set(false)))
				case <-time.After(2 * time.Second):
					b.Fatal("tone burst never heard")
				}
				time.Sleep(200 * time.Millisecond) // silence between bursts
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			var sum time.Duration
			for _, l := range lat {
				sum += l
			}
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
			b.ReportMetric(ms(sum/time.Duration(len(lat))), "ms-mean")
			b.ReportMetric(ms(lat[len(lat)*95/100]), "ms-p95")
			b.ReportMetric(ms(lat[len(lat)-1]), "ms-max")
			_ = c.Hangup(ctxT(b))
		})
	}
}
