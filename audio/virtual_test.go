package audio

import (
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestVirtualDevicePacing(t *testing.T) {
	dev := NewVirtualDevice(NewTone(1000, 0.3, DeviceRate))
	defer dev.Close()
	f := make([]int16, DeviceFrameSamples)
	start := time.Now()
	const frames = 15
	for range frames {
		if err := dev.ReadFrame(f); err != nil {
			t.Fatal(err)
		}
	}
	// The first frame is immediate; the rest follow the 20 ms schedule.
	el := time.Since(start)
	want := (frames - 1) * FrameDuration
	if el < want-5*time.Millisecond || el > want+200*time.Millisecond {
		t.Fatalf("%d frames took %v, want about %v", frames, el, want)
	}
	if !DetectTone(f, DeviceRate, 1000) {
		t.Fatal("microphone does not play the source")
	}
	if dev.Frames() != frames {
		t.Fatalf("Frames = %d", dev.Frames())
	}
}

func TestVirtualDeviceRecording(t *testing.T) {
	dev := NewVirtualDevice(nil, WithoutPacing(), WithRecordLimit(time.Second))
	defer dev.Close()
	f := make([]int16, DeviceFrameSamples)
	if err := dev.ReadFrame(f); err != nil || RMS(f) != 0 {
		t.Fatalf("nil source: %v rms %f", err, RMS(f))
	}
	if err := dev.ReadFrame(f[:10]); !errors.Is(err, ErrShortBuffer) {
		t.Fatalf("short frame: %v", err)
	}
	tone := NewTone(1000, 0.3, DeviceRate)
	for range 50 { // 1 s of 1 kHz
		tone.Read(f)
		dev.WriteFrame(f)
	}
	mark := dev.Mark()
	other := NewTone(1500, 0.3, DeviceRate)
	for range 25 { // then 500 ms of 1.5 kHz
		other.Read(f)
		dev.WriteFrame(f)
	}
	if !DetectTone(dev.PlayedLast(500*time.Millisecond), DeviceRate, 1500) {
		t.Fatal("1.5 kHz not in the last 500 ms")
	}
	if DetectTone(dev.PlayedLast(500*time.Millisecond), DeviceRate, 1000) {
		t.Fatal("1 kHz still in the last 500 ms")
	}
	since := dev.PlayedSince(mark)
	if len(since) != 25*DeviceFrameSamples || !DetectTone(since, DeviceRate, 1500) {
		t.Fatalf("PlayedSince: %d samples", len(since))
	}
	// The record limit keeps the last second only.
	if p := dev.Played(); len(p) != DeviceRate {
		t.Fatalf("Played holds %d samples, limit %d", len(p), DeviceRate)
	}
	if got := len(dev.PlayedSince(0)); got != DeviceRate {
		t.Fatalf("PlayedSince(0) after trimming: %d", got)
	}
	dev.Reset()
	if len(dev.Played()) != 0 || dev.Mark() != mark+int64(25*DeviceFrameSamples) {
		t.Fatal("Reset")
	}
	// SetSource switches the microphone.
	dev.SetSource(NewTone(700, 0.3, DeviceRate))
	dev.ReadFrame(f)
	if !DetectTone(f, DeviceRate, 700) {
		t.Fatal("SetSource")
	}
}

func TestVirtualDeviceClose(t *testing.T) {
	dev := NewVirtualDevice(Silence{})
	f := make([]int16, DeviceFrameSamples)
	dev.ReadFrame(f) // starts the schedule; the next read waits
	var wg sync.WaitGroup
	var err error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for err == nil {
			err = dev.ReadFrame(make([]int16, DeviceFrameSamples))
		}
	}()
	time.Sleep(30 * time.Millisecond)
	dev.Close()
	wg.Wait()
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("blocked read after Close: %v", err)
	}
	if err := dev.WriteFrame(f); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after Close: %v", err)
	}
	if err := dev.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestVirtualDeviceConcurrent(t *testing.T) {
	dev := NewVirtualDevice(NewTone(1000, 0.3, DeviceRate), WithoutPacing())
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := make([]int16, DeviceFrameSamples)
			for range 100 {
				dev.ReadFrame(f)
				dev.WriteFrame(f)
				dev.PlayedLast(100 * time.Millisecond)
				dev.SetSource(Silence{})
			}
		}()
	}
	wg.Wait()
	dev.Close()
	if dev.Mark() != int64(400*DeviceFrameSamples) {
		t.Fatalf("Mark %d", dev.Mark())
	}
}
