package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/agentphone/agentphone/ui/vm"
)

// audioView is the content of the audio settings dialog.
type audioView struct {
	mic, speaker, ringer    *widget.Select
	testSpeaker, testRinger *widget.Button
	message                 *widget.Label
	content                 fyne.CanvasObject
}

// newAudioView builds the pickers on m. ctx bounds the test tones.
func newAudioView(ctx context.Context, m *vm.AudioVM) *audioView {
	v := &audioView{}
	picker := func(choices binding.StringList, sel binding.String) *widget.Select {
		s := widget.NewSelect(nil, nil)
		choices.AddListener(binding.NewDataListener(func() {
			opts, _ := choices.Get()
			s.SetOptions(opts)
		}))
		s.Bind(sel)
		return s
	}
	v.mic = picker(m.MicChoices, m.Mic)
	v.speaker = picker(m.SpeakerChoices, m.Speaker)
	v.ringer = picker(m.RingerChoices, m.Ringer)
	play := func(o vm.Output) func() {
		return func() {
			// The tone blocks for its length; the VM reports errors in Message.
			go func() { _ = m.PlayTest(ctx, o) }()
		}
	}
	v.testSpeaker = widget.NewButtonWithIcon(lang.L("Play test tone"), theme.MediaPlayIcon(), play(vm.OutputSpeaker))
	v.testRinger = widget.NewButtonWithIcon(lang.L("Play test tone"), theme.MediaPlayIcon(), play(vm.OutputRinger))
	onBool(m.Playing, func(p bool) {
		for _, b := range []*widget.Button{v.testSpeaker, v.testRinger} {
			if p {
				b.Disable()
			} else {
				b.Enable()
			}
		}
	})
	v.message = widget.NewLabelWithData(m.Message)
	v.message.Wrapping = fyne.TextWrapWord
	v.message.Importance = widget.WarningImportance
	form := widget.NewForm(
		widget.NewFormItem(lang.L("Microphone"), v.mic),
		widget.NewFormItem(lang.L("Speaker"), container.NewBorder(nil, nil, nil, v.testSpeaker, v.speaker)),
		widget.NewFormItem(lang.L("Ringer"), container.NewBorder(nil, nil, nil, v.testRinger, v.ringer)),
	)
	box := container.NewVBox(form, v.message)
	showWhenSet(v.message, m.Message, box)
	v.content = box
	return v
}

// showAudioSettings opens the settings in their own window: the phone bar
// is too narrow for a dialog with device names. saved receives the choice.
func showAudioSettings(ctx context.Context, a fyne.App, m *vm.AudioVM, saved func(vm.AudioSettings)) fyne.Window {
	_ = m.Refresh()
	v := newAudioView(ctx, m)
	w := a.NewWindow(lang.L("Audio settings"))
	save := widget.NewButtonWithIcon(lang.L("Save"), theme.ConfirmIcon(), func() {
		s := m.Save()
		if saved != nil {
			saved(s)
		}
		w.Close()
	})
	save.Importance = widget.HighImportance
	cancel := widget.NewButtonWithIcon(lang.L("Cancel"), theme.CancelIcon(), w.Close)
	w.SetContent(container.NewPadded(container.NewVBox(v.content, container.NewHBox(layout.NewSpacer(), cancel, save))))
	w.Resize(fyne.NewSize(520, w.Content().MinSize().Height))
	w.Show()
	return w
}
