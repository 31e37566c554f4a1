package vm

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestVirtualAudio(t *testing.T) {
	v := VirtualAudio{Ringtone: make([]int16, 960)}
	devs, err := v.Devices()
	if err != nil || len(devs) != 1 || devs[0].Name != VirtualDeviceName {
		t.Fatalf("devices %+v %v", devs, err)
	}
	if err := v.PlayTone(context.Background(), "Some USB thing"); !errors.Is(err, ErrNoDevice) {
		t.Errorf("unknown device: %v", err)
	}
	// A cancelled context ends the tone early.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := v.PlayTone(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > TestToneLength/2 {
		t.Errorf("tone ignored cancel: %v", d)
	}
	d, err := v.OpenHeadset("", VirtualDeviceName)
	if err != nil {
		t.Fatal(err)
	}
	f := make([]int16, 960)
	if err := d.ReadFrame(f); err != nil {
		t.Fatal(err)
	}
	var peak int16
	for _, s := range f {
		peak = max(peak, s)
	}
	if peak == 0 {
		t.Error("virtual microphone is silent")
	}
	_ = d.Close()

	r := v.Ringer()
	r.StartRinging()
	r.StartRinging() // idempotent
	r.StopRinging()
	r.StopRinging()
}

func TestPlayerRinger(t *testing.T) {
	starts, stops := 0, 0
	fail := false
	r := NewPlayerRinger(func() (func() error, error) {
		if fail {
			return nil, ErrNoDevice
		}
		starts++
		return func() error { stops++; return nil }, nil
	}, nil)
	r.StopRinging() // not ringing: nothing to stop
	r.StartRinging()
	r.StartRinging()
	r.StopRinging()
	if starts != 1 || stops != 1 {
		t.Errorf("starts %d stops %d", starts, stops)
	}
	fail = true
	r.StartRinging() // logged, not fatal
	r.StopRinging()
	if stops != 1 {
		t.Errorf("stopped a ringer that never started")
	}
}
