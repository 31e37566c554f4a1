package vm

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"fyne.io/fyne/v2/test"
)

type fakeLister struct {
	devs []DeviceInfo
	err  error
}

func (f *fakeLister) Devices() ([]DeviceInfo, error) { return f.devs, f.err }

type fakeTones struct {
	played []string
	err    error
}

func (f *fakeTones) PlayTone(_ context.Context, dev string) error {
	f.played = append(f.played, dev)
	return f.err
}

var hostDevices = []DeviceInfo{
	{Name: "Built-in Microphone", InputChannels: 2},
	{Name: "Built-in Speakers", OutputChannels: 2},
	{Name: "USB Headset", InputChannels: 1, OutputChannels: 2},
}

func list(t *testing.T, m *AudioVM) (mics, outs []string) {
	t.Helper()
	mics, _ = m.MicChoices.Get()
	outs, _ = m.SpeakerChoices.Get()
	return
}

func TestAudioDeviceChoices(t *testing.T) {
	prefs := test.NewTempApp(t).Preferences()
	m := NewAudioVM(prefs, &fakeLister{devs: hostDevices}, &fakeTones{}, nil)
	if err := m.Refresh(); err != nil {
		t.Fatal(err)
	}
	mics, outs := list(t, m)
	if fmt.Sprint(mics) != "[System default Built-in Microphone USB Headset]" {
		t.Errorf("mics = %q", mics)
	}
	if fmt.Sprint(outs) != "[System default Built-in Speakers USB Headset]" {
		t.Errorf("outputs = %q", outs)
	}
	if r, _ := m.RingerChoices.Get(); fmt.Sprint(r) != fmt.Sprint(outs) {
		t.Errorf("ringer choices = %q", r)
	}
	for _, b := range []string{str(t, m.Mic), str(t, m.Speaker), str(t, m.Ringer)} {
		if b != "System default" {
			t.Errorf("initial selection %q", b)
		}
	}
	if (m.Selected() != AudioSettings{}) {
		t.Errorf("selected = %+v", m.Selected())
	}

	_ = m.Mic.Set("USB Headset")
	_ = m.Speaker.Set("USB Headset")
	_ = m.Ringer.Set("Built-in Speakers")
	want := AudioSettings{Mic: "USB Headset", Speaker: "USB Headset", Ringer: "Built-in Speakers"}
	if got := m.Save(); got != want {
		t.Errorf("saved %+v", got)
	}
	if got := LoadAudioSettings(prefs); got != want {
		t.Errorf("loaded %+v", got)
	}
	// A new dialog selects what was saved.
	m2 := NewAudioVM(prefs, &fakeLister{devs: hostDevices}, &fakeTones{}, nil)
	_ = m2.Refresh()
	if m2.Selected() != want || str(t, m2.Message) != "" {
		t.Errorf("reopened: %+v %q", m2.Selected(), str(t, m2.Message))
	}
}

func TestAudioMissingDevice(t *testing.T) {
	prefs := test.NewTempApp(t).Preferences()
	prefs.SetString(PrefMic, "USB Headset")
	prefs.SetString(PrefSpeaker, "USB Headset")
	unplugged := hostDevices[:2]
	tones := &fakeTones{}
	m := NewAudioVM(prefs, &fakeLister{devs: unplugged}, tones, nil)
	if err := m.Refresh(); err != nil {
		t.Fatal(err)
	}
	want := "The microphone \"USB Headset\" is not connected; the system default is used\n" +
		"The speaker \"USB Headset\" is not connected; the system default is used"
	if got := str(t, m.Message); got != want {
		t.Errorf("message = %q", got)
	}
	if (m.Selected() != AudioSettings{}) {
		t.Errorf("selected = %+v", m.Selected())
	}
	// The saved choice survives until the agent saves another one.
	if LoadAudioSettings(prefs).Mic != "USB Headset" {
		t.Error("refresh overwrote the saved device")
	}

	// Test tone on a device that vanished after the list was read.
	_ = m.Ringer.Set("Gone Speaker")
	if err := m.PlayTest(context.Background(), OutputRinger); !errors.Is(err, ErrNoDevice) {
		t.Errorf("err = %v", err)
	}
	if got := str(t, m.Message); got != "The ringer \"Gone Speaker\" is not connected" {
		t.Errorf("message = %q", got)
	}
	if len(tones.played) != 0 {
		t.Error("played on a missing device")
	}
}

func TestAudioPlayTest(t *testing.T) {
	tests := []struct {
		name    string
		out     Output
		err     error
		wantDev string
		wantMsg string
	}{
		{"speaker", OutputSpeaker, nil, "USB Headset", ""},
		{"ringer default", OutputRinger, nil, "", ""},
		{"device vanished", OutputSpeaker, fmt.Errorf("open: %w", ErrNoDevice), "USB Headset", "The speaker \"USB Headset\" is not connected"},
		{"stream error", OutputSpeaker, errors.New("underflow"), "USB Headset", "The test tone failed: underflow"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prefs := test.NewTempApp(t).Preferences()
			tones := &fakeTones{err: tc.err}
			m := NewAudioVM(prefs, &fakeLister{devs: hostDevices}, tones, nil)
			_ = m.Refresh()
			_ = m.Speaker.Set("USB Headset")
			err := m.PlayTest(context.Background(), tc.out)
			if (err != nil) != (tc.err != nil) {
				t.Errorf("err = %v", err)
			}
			if len(tones.played) != 1 || tones.played[0] != tc.wantDev {
				t.Errorf("played on %q", tones.played)
			}
			if got := str(t, m.Message); got != tc.wantMsg {
				t.Errorf("message = %q", got)
			}
			if boolean(t, m.Playing) {
				t.Error("still playing")
			}
		})
	}
}

func TestAudioListError(t *testing.T) {
	prefs := test.NewTempApp(t).Preferences()
	m := NewAudioVM(prefs, &fakeLister{err: errors.New("PortAudio not initialized")}, &fakeTones{}, nil)
	if err := m.Refresh(); err == nil {
		t.Fatal("no error")
	}
	if got := str(t, m.Message); got != "Cannot list audio devices: PortAudio not initialized" {
		t.Errorf("message = %q", got)
	}
	if mics, _ := list(t, m); len(mics) != 1 {
		t.Errorf("choices without devices: %q", mics)
	}
}
