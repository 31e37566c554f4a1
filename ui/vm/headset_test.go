package vm

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/agentphone/agentphone/audio"
)

// fakeOpener opens the devices it was told exist, like PortAudio would.
type fakeOpener struct {
	mu     sync.Mutex
	devs   []DeviceInfo
	broken error // every open fails with it when set
	opened [][2]string
}

func (f *fakeOpener) open(mic, spk string) (audio.Device, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.opened = append(f.opened, [2]string{mic, spk})
	if f.broken != nil {
		return nil, f.broken
	}
	if !slices.ContainsFunc(f.devs, isInput) || !slices.ContainsFunc(f.devs, isOutput) {
		return nil, fmt.Errorf("default device: %w", ErrNoDevice)
	}
	if mic != "" && !hasDevice(f.devs, mic, isInput) {
		return nil, fmt.Errorf("input %q: %w", mic, ErrNoDevice)
	}
	if spk != "" && !hasDevice(f.devs, spk, isOutput) {
		return nil, fmt.Errorf("output %q: %w", spk, ErrNoDevice)
	}
	return &namedDevice{VirtualDevice: audio.NewVirtualDevice(nil), mic: mic, spk: spk}, nil
}

// namedDevice remembers which devices it was opened with.
type namedDevice struct {
	*audio.VirtualDevice
	mic, spk string
}

func TestHeadsetFallback(t *testing.T) {
	builtIn := []DeviceInfo{
		{Name: "Built-in Microphone", InputChannels: 2},
		{Name: "Built-in Speakers", OutputChannels: 2},
	}
	usbMic := DeviceInfo{Name: "USB Mic", InputChannels: 1}
	missing := func(kind, name string) string {
		return fmt.Sprintf("The %s %q is not connected; the system default is used", kind, name)
	}
	tests := []struct {
		name        string
		host        []DeviceInfo // what the lister and the opener see
		listErr     error
		broken      error
		saved       AudioSettings
		wantCheck   string
		wantOpen    string // notice after Open
		wantDevice  [2]string
		wantOpened  int  // calls of the opener
		wantSilence bool // got the silent stand-in
	}{
		{
			name:       "chosen devices present",
			host:       append(builtIn, usbMic),
			saved:      AudioSettings{Mic: "USB Mic", Speaker: "Built-in Speakers"},
			wantDevice: [2]string{"USB Mic", "Built-in Speakers"},
			wantOpened: 1,
		},
		{
			name:       "system default",
			host:       builtIn,
			wantDevice: [2]string{"", ""},
			wantOpened: 1,
		},
		{
			name:       "headset unplugged",
			host:       builtIn,
			saved:      AudioSettings{Mic: "USB Headset", Speaker: "USB Headset", Ringer: "USB Headset"},
			wantCheck:  missing("microphone", "USB Headset") + "\n" + missing("speaker", "USB Headset") + "\n" + missing("ringer", "USB Headset"),
			wantOpen:   missing("microphone", "USB Headset") + "\n" + missing("speaker", "USB Headset"),
			wantDevice: [2]string{"", ""},
			wantOpened: 2,
		},
		{
			name:       "only the speaker unplugged keeps the microphone",
			host:       append(builtIn, usbMic),
			saved:      AudioSettings{Mic: "USB Mic", Speaker: "USB Speaker"},
			wantCheck:  missing("speaker", "USB Speaker"),
			wantOpen:   missing("speaker", "USB Speaker"),
			wantDevice: [2]string{"USB Mic", ""},
			wantOpened: 2,
		},
		{
			name:       "names match without case like PortAudio's lookup",
			host:       builtIn,
			saved:      AudioSettings{Mic: "built-in microphone"},
			wantDevice: [2]string{"built-in microphone", ""},
			wantOpened: 1,
		},
		{
			name:        "no sound card",
			host:        nil,
			wantCheck:   "No audio device found — calls have no sound",
			wantOpen:    "No audio device found — calls have no sound",
			wantOpened:  1,
			wantSilence: true,
		},
		{
			name:        "no sound card and a saved headset",
			host:        nil,
			saved:       AudioSettings{Mic: "USB Headset", Speaker: "USB Headset"},
			wantCheck:   "No audio device found — calls have no sound",
			wantOpen:    "No audio device found — calls have no sound",
			wantOpened:  2,
			wantSilence: true,
		},
		{
			name:        "outputs only",
			host:        builtIn[1:],
			wantCheck:   "No audio device found — calls have no sound",
			wantOpen:    "No audio device found — calls have no sound",
			wantOpened:  1,
			wantSilence: true,
		},
		{
			name:        "default device broken",
			host:        builtIn,
			broken:      errors.New("Device unavailable"),
			wantOpen:    "The headset could not be opened (Device unavailable) — calls have no sound",
			wantOpened:  1,
			wantSilence: true,
		},
		{
			name:       "list fails",
			host:       builtIn,
			listErr:    errors.New("PortAudio not initialized"),
			saved:      AudioSettings{Speaker: "Built-in Speakers"},
			wantCheck:  "Cannot list audio devices: PortAudio not initialized",
			wantOpen:   "Cannot list audio devices: PortAudio not initialized",
			wantDevice: [2]string{"", "Built-in Speakers"},
			wantOpened: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prefs := test.NewTempApp(t).Preferences()
			prefs.SetString(PrefMic, tc.saved.Mic)
			prefs.SetString(PrefSpeaker, tc.saved.Speaker)
			prefs.SetString(PrefRinger, tc.saved.Ringer)
			op := &fakeOpener{devs: tc.host, broken: tc.broken}
			h := NewHeadset(prefs, &fakeLister{devs: tc.host, err: tc.listErr}, op.open, nil)

			h.Check()
			if got := str(t, h.Notice); got != tc.wantCheck {
				t.Errorf("after Check: notice %q, want %q", got, tc.wantCheck)
			}
			dev, err := h.Open()
			if err != nil {
				t.Fatalf("Open failed the call: %v", err)
			}
			defer dev.Close()
			if got := str(t, h.Notice); got != tc.wantOpen {
				t.Errorf("after Open: notice %q, want %q", got, tc.wantOpen)
			}
			if len(op.opened) != tc.wantOpened {
				t.Errorf("opener called %d times (%q), want %d", len(op.opened), op.opened, tc.wantOpened)
			}
			nd, named := dev.(*namedDevice)
			if tc.wantSilence {
				if named {
					t.Fatalf("got device %q/%q, want the silent stand-in", nd.mic, nd.spk)
				}
				assertSilentHeadset(t, dev)
			} else if !named || [2]string{nd.mic, nd.spk} != tc.wantDevice {
				t.Errorf("opened %#v, want %q", dev, tc.wantDevice)
			}
			// The saved choice is kept for when the headset is back.
			if got := LoadAudioSettings(prefs); got != tc.saved {
				t.Errorf("saved settings changed to %+v", got)
			}
		})
	}
}

// assertSilentHeadset checks the stand-in behaves like a headset: paced
// silence in, anything accepted out, ErrClosed after Close.
func assertSilentHeadset(t *testing.T, dev audio.Device) {
	t.Helper()
	f := make([]int16, audio.DeviceFrameSamples)
	start := time.Now()
	for range 3 {
		f[0] = 1
		if err := dev.ReadFrame(f); err != nil {
			t.Fatalf("silent headset read: %v", err)
		}
		if slices.ContainsFunc(f, func(s int16) bool { return s != 0 }) {
			t.Fatal("silent headset's microphone is not silent")
		}
		if err := dev.WriteFrame(f); err != nil {
			t.Fatalf("silent headset write: %v", err)
		}
	}
	// Paced in real time, or the phone's device loop would spin.
	if d := time.Since(start); d < 2*audio.FrameDuration {
		t.Errorf("3 frames in %v: not paced", d)
	}
	if err := dev.Close(); err != nil {
		t.Fatal(err)
	}
	if err := dev.ReadFrame(f); !errors.Is(err, audio.ErrClosed) {
		t.Errorf("read after close: %v", err)
	}
}

// TestHeadsetNoticeFollowsOpens: a fallback notice stays until an open of
// the chosen devices succeeds (headset plugged back in), which restores
// what Check found.
func TestHeadsetNoticeFollowsOpens(t *testing.T) {
	prefs := test.NewTempApp(t).Preferences()
	prefs.SetString(PrefSpeaker, "USB Headset")
	host := []DeviceInfo{{Name: "Mic", InputChannels: 1}, {Name: "Speakers", OutputChannels: 2}, {Name: "USB Headset", OutputChannels: 2}}
	op := &fakeOpener{devs: host}
	lister := &fakeLister{devs: host}
	h := NewHeadset(prefs, lister, op.open, nil)
	h.Check()
	if got := str(t, h.Notice); got != "" {
		t.Fatalf("notice %q with every device present", got)
	}
	// Unplugged between login and the call.
	op.devs, lister.devs = host[:2], host[:2]
	d, _ := h.Open()
	d.Close()
	if got := str(t, h.Notice); !strings.Contains(got, `"USB Headset" is not connected`) {
		t.Errorf("after unplugging: %q", got)
	}
	op.devs, lister.devs = host, host
	d, _ = h.Open()
	d.Close()
	if got := str(t, h.Notice); got != "" {
		t.Errorf("after plugging back in: %q", got)
	}
}

// TestHeadsetRealPortAudio runs the fallback on this host's real PortAudio.
// Without a sound card (CI, containers: no /dev/snd) PortAudio lists no
// devices and a call must still get a headset, the silent one.
func TestHeadsetRealPortAudio(t *testing.T) {
	devs, err := PortAudio{}.Devices()
	if err != nil {
		t.Fatalf("list PortAudio devices: %v", err)
	}
	if len(devs) > 0 {
		t.Skipf("this host has %d audio devices; the no-sound-card path needs none", len(devs))
	}
	prefs := test.NewTempApp(t).Preferences()
	prefs.SetString(PrefMic, "USB Headset")
	pa := PortAudio{Prefs: prefs}
	h := NewHeadset(prefs, pa, pa.OpenHeadset, nil)
	h.Check()
	if got := str(t, h.Notice); got != NoAudioNotice() {
		t.Errorf("check: %q", got)
	}
	dev, err := h.Open()
	if err != nil {
		t.Fatalf("a host without devices failed the call: %v", err)
	}
	assertSilentHeadset(t, dev)
	if got := str(t, h.Notice); got != NoAudioNotice() {
		t.Errorf("open: %q", got)
	}
	// The ringer does not fail either: it logs and stays quiet.
	r := pa.Ringer()
	r.StartRinging()
	r.StopRinging()
}
