package vm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"fyne.io/fyne/v2"

	"github.com/agentphone/agentphone/audio"
)

// TestToneLength is how long "Play test tone" plays.
const TestToneLength = time.Second

// testTone is the settings dialog's tone: 440 Hz at -10 dBFS.
func testTone() audio.Source { return audio.NewTone(440, 0.3, audio.DeviceRate) }

// PortAudio is the host's audio through PortAudio: the device list, the
// test tone and the ringer. Devices are chosen by the names saved in prefs.
type PortAudio struct {
	Prefs    fyne.Preferences
	Ringtone []int16 // DeviceRate mono, looped while ringing
	Log      *slog.Logger
}

// Devices implements DeviceLister.
func (p PortAudio) Devices() ([]DeviceInfo, error) {
	devs, err := audio.ListDevices()
	if err != nil {
		return nil, err
	}
	out := make([]DeviceInfo, 0, len(devs))
	for _, d := range devs {
		out = append(out, DeviceInfo{Name: d.Name, InputChannels: d.InputChannels, OutputChannels: d.OutputChannels})
	}
	return out, nil
}

// PlayTone implements TonePlayer.
func (p PortAudio) PlayTone(ctx context.Context, device string) error {
	pl, err := audio.NewPlayer(device, testTone())
	if err != nil {
		return markNoDevice(err)
	}
	t := time.NewTimer(TestToneLength)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
	return pl.Stop()
}

// OpenHeadset implements HeadsetOpener over PortAudio. Headset calls it for
// every call, so a change in the settings applies to the next call.
func (p PortAudio) OpenHeadset(mic, speaker string) (audio.Device, error) {
	d, err := audio.OpenPortAudio(mic, speaker)
	if err != nil {
		return nil, markNoDevice(err)
	}
	return d, nil
}

// Ringer returns a Ringer playing the ringtone on the chosen ringer device,
// or on the system default when that one is unplugged: a ringing call
// nobody hears is a missed call.
func (p PortAudio) Ringer() *PlayerRinger {
	return NewPlayerRinger(func() (func() error, error) {
		name := LoadAudioSettings(p.Prefs).Ringer
		pl, err := audio.NewPlayer(name, audio.NewLoop(p.Ringtone))
		if err != nil && name != "" && errors.Is(err, audio.ErrNoDevice) {
			if p.Log != nil {
				p.Log.Warn("ringer device missing, ringing on the system default", "device", name)
			}
			pl, err = audio.NewPlayer("", audio.NewLoop(p.Ringtone))
		}
		if err != nil {
			return nil, markNoDevice(err)
		}
		return pl.Stop, nil
	}, p.Log)
}

// VirtualAudio stands in for the sound card in headless runs: one virtual
// headset, tones and ringtone written, in real time, to virtual devices.
type VirtualAudio struct {
	Ringtone []int16
	Log      *slog.Logger
}

// VirtualDeviceName is the one device VirtualAudio lists.
const VirtualDeviceName = "Virtual headset"

// Devices implements DeviceLister.
func (VirtualAudio) Devices() ([]DeviceInfo, error) {
	return []DeviceInfo{{Name: VirtualDeviceName, InputChannels: 1, OutputChannels: 1}}, nil
}

// PlayTone implements TonePlayer.
func (v VirtualAudio) PlayTone(ctx context.Context, device string) error {
	if device != "" && device != VirtualDeviceName {
		return fmt.Errorf("output %q: %w", device, ErrNoDevice)
	}
	ctx, cancel := context.WithTimeout(ctx, TestToneLength)
	defer cancel()
	return playVirtual(ctx, testTone())
}

// OpenHeadset implements HeadsetOpener: the one virtual headset, whose
// microphone plays a quiet 440 Hz tone so the far end of a headless call
// hears something checkable. Other names are not connected.
func (VirtualAudio) OpenHeadset(mic, speaker string) (audio.Device, error) {
	for _, n := range []string{mic, speaker} {
		if n != "" && n != VirtualDeviceName {
			return nil, fmt.Errorf("virtual audio %q: %w", n, ErrNoDevice)
		}
	}
	return audio.NewVirtualDevice(audio.NewTone(440, 0.1, audio.DeviceRate)), nil
}

// Ringer returns a Ringer that plays the ringtone into a virtual device.
func (v VirtualAudio) Ringer() *PlayerRinger {
	return NewPlayerRinger(func() (func() error, error) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- playVirtual(ctx, audio.NewLoop(v.Ringtone)) }()
		return func() error { cancel(); return <-done }, nil
	}, v.Log)
}

// playVirtual writes src to a virtual device at the device's pace until ctx ends.
func playVirtual(ctx context.Context, src audio.Source) error {
	dev := audio.NewVirtualDevice(nil, audio.WithRecordLimit(time.Second))
	defer dev.Close()
	frame := make([]int16, audio.DeviceFrameSamples)
	t := time.NewTicker(audio.FrameDuration)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			src.Read(frame)
			if err := dev.WriteFrame(frame); err != nil {
				return err
			}
		}
	}
}

// PlayerRinger is a Ringer over a start function returning a stop
// function. A ringer that fails to start is logged, not fatal: the call
// still pops on screen.
type PlayerRinger struct {
	start func() (stop func() error, err error)
	log   *slog.Logger

	mu   sync.Mutex
	stop func() error
}

// NewPlayerRinger makes a PlayerRinger.
func NewPlayerRinger(start func() (func() error, error), log *slog.Logger) *PlayerRinger {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &PlayerRinger{start: start, log: log}
}

// StartRinging implements Ringer.
func (r *PlayerRinger) StartRinging() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stop != nil {
		return
	}
	stop, err := r.start()
	if err != nil {
		r.log.Warn("ringtone", "err", err)
		return
	}
	r.stop = stop
}

// StopRinging implements Ringer.
func (r *PlayerRinger) StopRinging() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stop == nil {
		return
	}
	if err := r.stop(); err != nil {
		r.log.Warn("stop ringtone", "err", err)
	}
	r.stop = nil
}
