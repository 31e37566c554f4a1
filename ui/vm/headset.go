package vm

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/lang"

	"github.com/agentphone/agentphone/audio"
)

// HeadsetOpener opens a headset from a microphone and a speaker named as
// DeviceLister names them; "" is the system default. It fails with an
// error wrapping ErrNoDevice when a device is not there.
type HeadsetOpener func(mic, speaker string) (audio.Device, error)

// Headset opens the agent's chosen headset for every call. It never fails
// a call for want of a sound card: an agent who cannot hear is told so and
// can still take the call, transfer it or hang up, while a failed call
// leaves the customer ringing into nothing.
//
//   - A chosen device that is not connected (an unplugged USB headset) is
//     replaced by the system default, and Notice says which one.
//   - When the default cannot be opened either (a server or VM with no
//     sound card: PortAudio lists no devices) the call gets a silent
//     virtual headset, and Notice says calls have no sound.
//
// The saved choice is never overwritten, so the headset is used again as
// soon as it is plugged back in.
type Headset struct {
	// Notice is what the phone bar shows about audio, "" when all is well.
	Notice binding.String

	prefs  fyne.Preferences
	lister DeviceLister
	open   HeadsetOpener
	log    *slog.Logger

	mu        sync.Mutex
	checkNote string // what the last Check found
}

// NewHeadset makes a Headset reading the saved choice from prefs.
func NewHeadset(prefs fyne.Preferences, l DeviceLister, open HeadsetOpener, log *slog.Logger) *Headset {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Headset{Notice: binding.NewString(), prefs: prefs, lister: l, open: open, log: log}
}

// NoAudioNotice is the notice shown when the host has no usable audio device.
func NoAudioNotice() string { return lang.L("No audio device found — calls have no sound") }

// Check lists the devices and sets Notice ahead of any call, so the agent
// learns at login, not from a silent customer, that the headset is missing.
// It blocks while the audio system is probed: call it off the main goroutine.
func (h *Headset) Check() {
	devs, err := h.lister.Devices()
	var note string
	switch {
	case err != nil:
		h.log.Warn("list audio devices", "err", err)
		note = lang.L("Cannot list audio devices: {{.Error}}", map[string]any{"Error": err.Error()})
	case !slices.ContainsFunc(devs, isInput) || !slices.ContainsFunc(devs, isOutput):
		note = NoAudioNotice()
	default:
		s := LoadAudioSettings(h.prefs)
		var missing []string
		for _, c := range []struct {
			kind, name string
			ok         func(DeviceInfo) bool
		}{
			{lang.L("microphone"), s.Mic, isInput},
			{lang.L("speaker"), s.Speaker, isOutput},
			{lang.L("ringer"), s.Ringer, isOutput},
		} {
			if c.name != "" && !hasDevice(devs, c.name, c.ok) {
				missing = append(missing, defaultNotice(c.kind, c.name))
			}
		}
		note = strings.Join(missing, "\n")
	}
	h.mu.Lock()
	h.checkNote = note
	h.mu.Unlock()
	_ = h.Notice.Set(note)
}

// Open opens the headset for a call; it is the phone's audio opener. It
// fails only when even the silent stand-in cannot be made, which does not
// happen today; the error return keeps the phone's contract.
func (h *Headset) Open() (audio.Device, error) {
	s := LoadAudioSettings(h.prefs)
	dev, err := h.open(s.Mic, s.Speaker)
	if err == nil {
		h.setOpenNote("")
		return dev, nil
	}
	first := err

	// Replace only the devices that are gone: a separate USB microphone
	// may still be there when the speaker was unplugged.
	if (s.Mic != "" || s.Speaker != "") && errors.Is(err, ErrNoDevice) {
		devs, lerr := h.lister.Devices()
		micGone := s.Mic != "" && (lerr != nil || !hasDevice(devs, s.Mic, isInput))
		spkGone := s.Speaker != "" && (lerr != nil || !hasDevice(devs, s.Speaker, isOutput))
		if !micGone && !spkGone {
			// The list says both are there, yet opening failed: it
			// changed in between. Fall back on both.
			micGone, spkGone = s.Mic != "", s.Speaker != ""
		}
		mic, spk, notes := s.Mic, s.Speaker, []string(nil)
		if micGone {
			notes = append(notes, defaultNotice(lang.L("microphone"), mic))
			mic = ""
		}
		if spkGone {
			notes = append(notes, defaultNotice(lang.L("speaker"), spk))
			spk = ""
		}
		h.log.Warn("chosen audio device missing, using the system default", "mic", s.Mic, "speaker", s.Speaker, "err", err)
		if dev, err = h.open(mic, spk); err == nil {
			h.setOpenNote(strings.Join(notes, "\n"))
			return dev, nil
		}
	}

	// No device at all, or the default one is broken: a silent headset
	// paced in real time keeps the call's media running.
	h.log.Warn("no usable audio device, the call has no sound", "err", err, "first", first)
	if errors.Is(err, ErrNoDevice) {
		h.setOpenNote(NoAudioNotice())
	} else {
		h.setOpenNote(lang.L("The headset could not be opened ({{.Error}}) — calls have no sound", map[string]any{"Error": err.Error()}))
	}
	return SilentHeadset(), nil
}

// SilentHeadset is the stand-in for a missing sound card: its microphone
// is silence and what it plays is dropped (it keeps one frame, the least
// the virtual device allows).
func SilentHeadset() audio.Device {
	return audio.NewVirtualDevice(nil, audio.WithRecordLimit(audio.FrameDuration))
}

// setOpenNote shows what the last Open had to do, or, when it opened the
// chosen devices, what the last Check found.
func (h *Headset) setOpenNote(n string) {
	h.mu.Lock()
	note := h.checkNote
	if n != "" {
		note = n
	}
	h.mu.Unlock()
	_ = h.Notice.Set(note)
}

func defaultNotice(kind, name string) string {
	return lang.L("The {{.Kind}} \"{{.Name}}\" is not connected; the system default is used", map[string]any{"Kind": kind, "Name": name})
}

func isInput(d DeviceInfo) bool  { return d.InputChannels > 0 }
func isOutput(d DeviceInfo) bool { return d.OutputChannels > 0 }

// hasDevice matches names like audio's device lookup does: exactly, or
// failing that without regard to case.
func hasDevice(devs []DeviceInfo, name string, ok func(DeviceInfo) bool) bool {
	return slices.ContainsFunc(devs, func(d DeviceInfo) bool { return ok(d) && strings.EqualFold(d.Name, name) })
}

// markNoDevice makes audio's ErrNoDevice recognisable as the view-models' own.
func markNoDevice(err error) error {
	if errors.Is(err, audio.ErrNoDevice) && !errors.Is(err, ErrNoDevice) {
		return fmt.Errorf("%w: %w", ErrNoDevice, err)
	}
	return err
}
