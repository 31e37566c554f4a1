package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/agentphone/agentphone/ui/vm"
)

// loginView is the content of the login window.
type loginView struct {
	work, password, server *widget.Entry
	remember               *widget.Check
	submit                 *widget.Button
	progress               *widget.ProgressBarInfinite
	errLabel, notice       *widget.Label
	content                fyne.CanvasObject
}

// newLoginView builds the login form on m. submit runs when the agent
// presses "Log in" or Enter; it must not block (the shell starts a goroutine).
func newLoginView(m *vm.LoginVM, submit func()) *loginView {
	v := &loginView{}
	v.work = widget.NewEntryWithData(m.WorkNumber)
	v.work.SetPlaceHolder(lang.L("e.g. 1001"))
	v.password = widget.NewPasswordEntry()
	v.password.Bind(m.Password)
	v.server = widget.NewEntryWithData(m.Server)
	v.remember = widget.NewCheckWithData(lang.L("Remember password"), m.Remember)
	v.submit = widget.NewButtonWithIcon(lang.L("Log in"), theme.LoginIcon(), submit)
	v.submit.Importance = widget.HighImportance
	for _, e := range []*widget.Entry{v.work, v.password, v.server} {
		e.OnSubmitted = func(string) {
			if !v.submit.Disabled() {
				submit()
			}
		}
	}
	v.progress = widget.NewProgressBarInfinite()
	v.progress.Hide()
	onBool(m.Busy, func(busy bool) {
		if busy {
			v.submit.Disable()
			v.progress.Show()
			v.progress.Start()
		} else {
			v.submit.Enable()
			v.progress.Stop()
			v.progress.Hide()
		}
	})
	v.errLabel = widget.NewLabelWithData(m.Error)
	v.errLabel.Importance = widget.DangerImportance
	v.errLabel.Wrapping = fyne.TextWrapWord
	v.notice = widget.NewLabelWithData(m.Notice)
	v.notice.Importance = widget.WarningImportance
	v.notice.Wrapping = fyne.TextWrapWord

	logo := canvas.NewImageFromResource(AppIcon())
	logo.FillMode = canvas.ImageFillContain
	logo.SetMinSize(fyne.NewSize(64, 64))
	title := widget.NewLabelWithStyle(lang.L("AgentPhone"), fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	form := widget.NewForm(
		widget.NewFormItem(lang.L("Work number"), v.work),
		widget.NewFormItem(lang.L("Password"), v.password),
		widget.NewFormItem(lang.L("Server"), v.server),
	)
	box := container.NewVBox(logo, title, form, v.remember, v.submit, v.progress, v.errLabel, v.notice, layout.NewSpacer())
	showWhenSet(v.errLabel, m.Error, box)
	showWhenSet(v.notice, m.Notice, box)
	v.content = container.NewPadded(box)
	return v
}
