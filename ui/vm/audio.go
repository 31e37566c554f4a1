package vm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/lang"
)

// Preference keys of the audio devices. Devices are saved by name: PortAudio
// indexes change when a headset is plugged in, names do not.
const (
	PrefMic     = "audio.mic"
	PrefSpeaker = "audio.speaker"
	PrefRinger  = "audio.ringer"
)

// AudioSettings are the chosen devices; "" means the system default.
type AudioSettings struct {
	Mic, Speaker, Ringer string
}

// LoadAudioSettings reads the saved choice from preferences.
func LoadAudioSettings(p fyne.Preferences) AudioSettings {
	return AudioSettings{Mic: p.String(PrefMic), Speaker: p.String(PrefSpeaker), Ringer: p.String(PrefRinger)}
}

// Output names a playback device for the test tone.
type Output int

const (
	OutputSpeaker Output = iota
	OutputRinger
)

func (o Output) String() string {
	if o == OutputRinger {
		return "ringer"
	}
	return "speaker"
}

// AudioVM is the state of the audio settings dialog.
type AudioVM struct {
	// Choices list "System default" first, then devices of the right kind.
	MicChoices     binding.StringList
	SpeakerChoices binding.StringList
	RingerChoices  binding.StringList
	// Mic, Speaker and Ringer are the selected entries of the choices.
	Mic     binding.String
	Speaker binding.String
	Ringer  binding.String
	// Message explains a missing device or a failed test tone.
	Message binding.String
	// Playing is true while the test tone plays.
	Playing binding.Bool

	prefs  fyne.Preferences
	lister DeviceLister
	tones  TonePlayer
	log    *slog.Logger

	mu      sync.Mutex
	devices []DeviceInfo
}

// NewAudioVM makes the dialog's state. Refresh loads the device list.
func NewAudioVM(prefs fyne.Preferences, l DeviceLister, t TonePlayer, log *slog.Logger) *AudioVM {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &AudioVM{
		MicChoices:     binding.NewStringList(),
		SpeakerChoices: binding.NewStringList(),
		RingerChoices:  binding.NewStringList(),
		Mic:            binding.NewString(),
		Speaker:        binding.NewString(),
		Ringer:         binding.NewString(),
		Message:        binding.NewString(),
		Playing:        binding.NewBool(),
		prefs:          prefs,
		lister:         l,
		tones:          t,
		log:            log,
	}
}

// SystemDefault is the label of the default-device entry.
func SystemDefault() string { return lang.L("System default") }

// Refresh re-reads the device list and selects the saved devices. A saved
// device that is not connected selects the system default and says so; the
// saved choice is kept, so the headset is used again once it is back.
func (m *AudioVM) Refresh() error {
	devs, err := m.lister.Devices()
	def := SystemDefault()
	if err != nil {
		m.log.Warn("list audio devices", "err", err)
		devs = nil
		_ = m.Message.Set(lang.L("Cannot list audio devices: {{.Error}}", map[string]any{"Error": err.Error()}))
	} else {
		_ = m.Message.Set("")
	}
	m.mu.Lock()
	m.devices = devs
	m.mu.Unlock()

	mics, outs := []string{def}, []string{def}
	for _, d := range devs {
		if d.InputChannels > 0 {
			mics = append(mics, d.Name)
		}
		if d.OutputChannels > 0 {
			outs = append(outs, d.Name)
		}
	}
	_ = m.MicChoices.Set(mics)
	_ = m.SpeakerChoices.Set(outs)
	_ = m.RingerChoices.Set(outs)

	saved := LoadAudioSettings(m.prefs)
	var missing []string
	pick := func(b binding.String, name string, list []string, kind string) {
		if name == "" {
			_ = b.Set(def)
			return
		}
		if slices.Contains(list[1:], name) {
			_ = b.Set(name)
			return
		}
		_ = b.Set(def)
		missing = append(missing, lang.L("The {{.Kind}} \"{{.Name}}\" is not connected; the system default is used", map[string]any{"Kind": lang.L(kind), "Name": name}))
	}
	pick(m.Mic, saved.Mic, mics, "microphone")
	pick(m.Speaker, saved.Speaker, outs, "speaker")
	pick(m.Ringer, saved.Ringer, outs, "ringer")
	if len(missing) > 0 && err == nil {
		msg := missing[0]
		for _, s := range missing[1:] {
			msg += "\n" + s
		}
		_ = m.Message.Set(msg)
	}
	return err
}

// Selected returns the selection with the default entry as "".
func (m *AudioVM) Selected() AudioSettings {
	get := func(b binding.String) string {
		v, _ := b.Get()
		if v == SystemDefault() {
			return ""
		}
		return v
	}
	return AudioSettings{Mic: get(m.Mic), Speaker: get(m.Speaker), Ringer: get(m.Ringer)}
}

// Save stores the selection in preferences.
func (m *AudioVM) Save() AudioSettings {
	s := m.Selected()
	m.prefs.SetString(PrefMic, s.Mic)
	m.prefs.SetString(PrefSpeaker, s.Speaker)
	m.prefs.SetString(PrefRinger, s.Ringer)
	return s
}

// PlayTest plays the test tone on the selected speaker or ringer and blocks
// until it ends, so the UI calls it off the main goroutine.
func (m *AudioVM) PlayTest(ctx context.Context, o Output) error {
	s := m.Selected()
	name := s.Speaker
	if o == OutputRinger {
		name = s.Ringer
	}
	m.mu.Lock()
	known := name == "" || slices.ContainsFunc(m.devices, func(d DeviceInfo) bool { return d.Name == name && d.OutputChannels > 0 })
	m.mu.Unlock()
	if !known {
		_ = m.Message.Set(lang.L("The {{.Kind}} \"{{.Name}}\" is not connected", map[string]any{"Kind": lang.L(o.String()), "Name": name}))
		return fmt.Errorf("test tone on %s %q: %w", o, name, ErrNoDevice)
	}
	_ = m.Playing.Set(true)
	defer func() { _ = m.Playing.Set(false) }()
	_ = m.Message.Set("")
	if err := m.tones.PlayTone(ctx, name); err != nil {
		m.log.Warn("test tone", "device", name, "err", err)
		if errors.Is(err, ErrNoDevice) {
			_ = m.Message.Set(lang.L("The {{.Kind}} \"{{.Name}}\" is not connected", map[string]any{"Kind": lang.L(o.String()), "Name": name}))
		} else {
			_ = m.Message.Set(lang.L("The test tone failed: {{.Error}}", map[string]any{"Error": err.Error()}))
		}
		return fmt.Errorf("test tone on %s %q: %w", o, name, err)
	}
	return nil
}
