package main

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/agentphone/agentphone/audio"
	"github.com/agentphone/agentphone/phone"
)

// burst is a microphone that is silent until armed, then plays a tone and
// notes when its first tone frame was handed to the phone.
type burst struct {
	mu      sync.Mutex
	tone    *audio.Tone
	on      bool
	started time.Time
}

func (s *burst) Read(f []int16) {
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

func (s *burst) set(on bool) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	started := s.started
	s.on, s.started = on, time.Time{}
	return started
}

// ear is a headset that timestamps the first speaker frame carrying freq.
type ear struct {
	*audio.VirtualDevice
	freq float64
	mu   sync.Mutex
	arm  bool
	hit  chan time.Time
}

func (d *ear) WriteFrame(f []int16) error {
	d.mu.Lock()
	if d.arm && audio.DetectTone(f, audio.DeviceRate, d.freq) {
		d.arm = false
		d.hit <- time.Now().Add(onset(f))
	}
	d.mu.Unlock()
	return d.VirtualDevice.WriteFrame(f)
}

// onset is how far into f the tone starts: the first 1 ms block louder than
// -30 dBFS. A codec's look-ahead moves the onset into the middle of a frame;
// counting from the frame's start would flatter the figure by up to 20 ms.
func onset(f []int16) time.Duration {
	const block = audio.DeviceRate / 1000
	for i := 0; i+block <= len(f); i += block {
		if audio.DBFS(f[i:i+block]) > -30 {
			return time.Duration(i) * time.Second / audio.DeviceRate
		}
	}
	return 0
}

func (d *ear) rearm() {
	d.mu.Lock()
	d.arm = true
	d.mu.Unlock()
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkMouthToEar: agent 1001's microphone → callcenterd's room → agent
// 1002's speaker, on loopback through virtual headsets, with each phone's
// jitter buffer and the server's. Each op is one tone burst. "delivery_ms"
// runs from the frame leaving A's device to the tone's first sample reaching
// B's device; "mouth_to_ear_ms" adds the 20 ms the first sample of a frame
// waits to be captured, which is what a listener experiences (real headsets
// add their own device buffers on top). Run: go test -run '^$' -bench MouthToEar -benchtime 20x ./cmd/callcenterd
func BenchmarkMouthToEar(b *testing.B) {
	for _, codec := range []string{"opus", "PCMU"} {
		b.Run(codec, func(b *testing.B) {
			in := startServer(b, "")
			mouth := &burst{tone: audio.NewTone(1000, 0.3, audio.DeviceRate)}
			devA := audio.NewVirtualDevice(mouth, audio.WithRecordLimit(time.Second))
			e := &ear{VirtualDevice: audio.NewVirtualDevice(nil, audio.WithRecordLimit(time.Second)), freq: 1000, hit: make(chan time.Time, 1)}
			a := loginAgent(b, in.HTTPURL(), "1001", devA, devA, codec)
			bb := loginAgent(b, in.HTTPURL(), "1002", e.VirtualDevice, e, codec)
			bb.phone.SetAutoAnswer(true)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			out, err := a.phone.Dial(ctx, "1002")
			if err != nil {
				b.Fatal(err)
			}
			waitFor(b, 5*time.Second, "call active", func() bool { return out.State() == phone.Active })
			time.Sleep(300 * time.Millisecond) // jitter buffers settle
			var lat []time.Duration
			b.ResetTimer()
			for range b.N {
				e.rearm()
				mouth.set(true)
				var heard time.Time
				select {
				case heard = <-e.hit:
				case <-time.After(2 * time.Second):
					b.Fatal("tone burst never reached the far speaker")
				}
				lat = append(lat, heard.Sub(mouth.set(false)))
				time.Sleep(200 * time.Millisecond) // silence between bursts
			}
			b.StopTimer()
			out.Hangup(ctx)
			b.ReportMetric(ms(percentile(lat, 0.5)), "delivery_p50_ms")
			b.ReportMetric(ms(percentile(lat, 0.5)+audio.FrameDuration), "mouth_to_ear_p50_ms")
			b.ReportMetric(ms(percentile(lat, 0.95)+audio.FrameDuration), "mouth_to_ear_p95_ms")
		})
	}
}

// BenchmarkCallSetup: Dial on agent 1001 → INVITE through callcenterd (auth,
// routing, B2BUA offer to 1002, which auto-answers) → 200 OK back → caller
// active. Each op is one call, hung up before the next.
// Run: go test -run '^$' -bench CallSetup -benchtime 50x ./cmd/callcenterd
func BenchmarkCallSetup(b *testing.B) {
	in := startServer(b, "")
	devA := audio.NewVirtualDevice(nil, audio.WithRecordLimit(time.Second))
	devB := audio.NewVirtualDevice(nil, audio.WithRecordLimit(time.Second))
	a := loginAgent(b, in.HTTPURL(), "1001", devA, devA, "PCMU")
	bb := loginAgent(b, in.HTTPURL(), "1002", devB, devB, "PCMU")
	bb.phone.SetAutoAnswer(true)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var setup []time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		out, err := a.phone.Dial(ctx, "1002")
		if err != nil {
			b.Fatal(err)
		}
		for out.State() != phone.Active {
			select {
			case <-out.Done():
				b.Fatalf("call ended during setup: %v", out.EndReason())
			default:
			}
			time.Sleep(100 * time.Microsecond)
		}
		setup = append(setup, time.Since(t0))
		b.StopTimer()
		out.Hangup(ctx)
		<-out.Done()
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(ms(percentile(setup, 0.5)), "setup_p50_ms")
	b.ReportMetric(ms(percentile(setup, 0.99)), "setup_p99_ms")
}
