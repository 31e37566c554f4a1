package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/agentphone/agentphone/callcenter/api"
	"github.com/agentphone/agentphone/ui/vm"
)

// In-call work's widgets (issue 4): the banner and the call controls, the
// consult view, and the transfer / consult dialog.

// workParts are the view-models of in-call work; nil when the server has
// no in-call API.
type workParts struct {
	incall    *vm.InCallVM
	notes     *vm.NotesVM
	callbacks *vm.CallbacksVM
	customer  *vm.CustomerVM
	// win is the window the dialogs open over.
	win fyne.Window
}

var (
	colorHeld       = color.NRGBA{R: 0xf5, G: 0x9e, B: 0x0b, A: 0xff}
	colorConsulting = color.NRGBA{R: 0x25, G: 0x63, B: 0xeb, A: 0xff}
	colorConference = color.NRGBA{R: 0x7c, G: 0x3a, B: 0xed, A: 0xff}
	colorNotice     = color.NRGBA{R: 0xdc, G: 0x26, B: 0x26, A: 0xff}
)

func bannerColor(k vm.BannerKind) color.Color {
	switch k {
	case vm.BannerHeld:
		return colorHeld
	case vm.BannerConsulting, vm.BannerTransferring:
		return colorConsulting
	case vm.BannerConference:
		return colorConference
	case vm.BannerNotice:
		return colorNotice
	}
	return color.Transparent
}

// inCallView is the banner, the control buttons and the consult view under
// the call info of the phone tab.
type inCallView struct {
	banner                            *canvas.Text
	bannerBox                         *fyne.Container
	hold, transfer, consult, callback *widget.Button
	controls                          *fyne.Container
	customer, customerState           *widget.Label
	consulted, consultState           *widget.Label
	toCustomer, threeWay, cancel      *widget.Button
	consultBox                        *fyne.Container
	consultCard                       fyne.CanvasObject // consultBox on its panel
	message                           *widget.Label
	content                           *fyne.Container
	dialog                            *targetDialog
	onNewCallback                     func()
	bannerBg                          *canvas.Rectangle
	m                                 *vm.InCallVM
	win                               fyne.Window
	relayout                          func()
	lastDialog                        vm.DialogKind
	dialogOpen                        dialog.Dialog
}

func newInCallView(m *vm.InCallVM, win fyne.Window, newCallback func()) *inCallView {
	v := &inCallView{m: m, win: win, onNewCallback: newCallback}
	v.bannerBg = canvas.NewRectangle(color.Transparent)
	v.bannerBg.CornerRadius = theme.InputRadiusSize()
	v.banner = canvas.NewText("", color.White)
	v.banner.TextStyle.Bold = true
	v.banner.Alignment = fyne.TextAlignCenter
	v.bannerBox = container.NewStack(v.bannerBg, container.NewPadded(v.banner))
	onString(m.Banner, func(s string) { v.banner.Text = s; v.banner.Refresh() })
	m.BannerKind.AddListener(binding.NewDataListener(func() {
		k, _ := m.BannerKind.Get()
		v.bannerBg.FillColor = bannerColor(vm.BannerKind(k))
		v.bannerBg.Refresh()
	}))

	v.hold = widget.NewButton(lang.L("Hold"), m.ToggleHold)
	enableWhen(v.hold, m.CanHold)
	onBool(m.Held, func(held bool) {
		if held {
			v.hold.SetText(lang.L("Resume"))
			v.hold.Importance = widget.WarningImportance
		} else {
			v.hold.SetText(lang.L("Hold"))
			v.hold.Importance = widget.MediumImportance
		}
		v.hold.Refresh()
	})
	v.transfer = widget.NewButton(lang.L("Transfer"), m.OpenTransfer)
	enableWhen(v.transfer, m.CanConsult)
	v.consult = widget.NewButton(lang.L("Consult"), m.OpenConsult)
	enableWhen(v.consult, m.CanConsult)
	v.callback = widget.NewButton(lang.L("Callback"), func() {
		if v.onNewCallback != nil {
			v.onNewCallback()
		}
	})
	v.controls = container.NewGridWithColumns(4, v.hold, v.transfer, v.consult, v.callback)

	v.customer = widget.NewLabelWithData(m.CustomerParty)
	v.customer.TextStyle.Bold = true
	v.customerState = widget.NewLabelWithData(m.CustomerState)
	v.customerState.Importance = widget.WarningImportance
	v.consulted = widget.NewLabelWithData(m.ConsultParty)
	v.consulted.TextStyle.Bold = true
	v.consultState = widget.NewLabelWithData(m.ConsultState)
	v.consultState.Importance = widget.HighImportance
	v.toCustomer = widget.NewButton(lang.L("Transfer"), m.ConsultTransfer)
	v.toCustomer.Importance = widget.HighImportance
	enableWhen(v.toCustomer, m.CanFinishConsult)
	v.threeWay = widget.NewButton(lang.L("Three-way"), m.Conference)
	enableWhen(v.threeWay, m.CanFinishConsult)
	v.cancel = widget.NewButton(lang.L("Cancel"), m.ConsultCancel)
	v.cancel.Importance = widget.DangerImportance
	party := func(caption string, who, state *widget.Label) fyne.CanvasObject {
		c := widget.NewLabel(caption)
		c.SizeName = theme.SizeNameCaptionText
		c.Importance = widget.LowImportance
		return container.New(layout.NewCustomPaddedVBoxLayout(-2*theme.Padding()), c,
			container.NewBorder(nil, nil, nil, state, who))
	}
	v.consultBox = container.NewVBox(
		party(lang.L("Customer"), v.customer, v.customerState),
		party(lang.L("Consulted"), v.consulted, v.consultState),
		container.NewGridWithColumns(3, v.toCustomer, v.threeWay, v.cancel),
	)
	v.message = widget.NewLabelWithData(m.Message)
	v.message.Wrapping = fyne.TextWrapWord
	v.message.Importance = widget.WarningImportance

	v.content = container.NewVBox(v.bannerBox, v.controls, cardBackground(v.consultBox), v.message)
	v.consultCard = v.content.Objects[2]
	showWhenSet(v.bannerBox, m.Banner, v.content)
	showWhenSet(v.message, m.Message, v.content)
	showWhen := func(o fyne.CanvasObject, b binding.Bool) {
		if on, _ := b.Get(); !on {
			o.Hide()
		}
		onBool(b, func(on bool) {
			if on == o.Visible() {
				return
			}
			if on {
				o.Show()
			} else {
				o.Hide()
			}
			v.content.Refresh()
			if v.relayout != nil {
				v.relayout()
			}
		})
	}
	showWhen(v.consultCard, m.Consulting)
	showWhen(v.controls, m.Active)
	// The banner and message rows change this box's height: the tab
	// holding it must lay out again (listeners run in order, after the
	// show and hide above).
	onString(m.Banner, func(string) { v.relayoutNow() })
	onString(m.Message, func(string) { v.relayoutNow() })

	v.dialog = newTargetDialog(m)
	m.Dialog.AddListener(binding.NewDataListener(func() {
		k, _ := m.Dialog.Get()
		v.showDialog(vm.DialogKind(k))
	}))
	return v
}

func (v *inCallView) relayoutNow() {
	v.content.Refresh()
	if v.relayout != nil {
		v.relayout()
	}
}

// showDialog opens or closes the target dialog as the view-model says.
func (v *inCallView) showDialog(k vm.DialogKind) {
	if k == v.lastDialog {
		return
	}
	v.lastDialog = k
	if v.dialogOpen != nil {
		d := v.dialogOpen
		v.dialogOpen = nil
		d.Hide()
	}
	if k == vm.DialogNone || v.win == nil {
		return
	}
	title := lang.L("Transfer the call")
	if k == vm.DialogConsult {
		title = lang.L("Consult")
	}
	v.dialog.setKind(k)
	d := dialog.NewCustom(title, lang.L("Close"), v.dialog.content, v.win)
	d.SetOnClosed(func() {
		if v.dialogOpen == d {
			v.dialogOpen = nil
			v.m.CloseDialog()
		}
	})
	v.dialogOpen = d
	d.Resize(fyne.NewSize(460, 640))
	d.Show()
}

// targetDialog is the content of the transfer and consult dialog: agents
// with their dot and status word, groups with waiting and online counts,
// and a number field.
type targetDialog struct {
	m       *vm.InCallVM
	kind    vm.DialogKind
	errText *widget.Label
	agents  *widget.List
	groups  *widget.List
	// agentItems and groupItems are what the lists show; main goroutine only.
	agentItems []vm.TargetAgent
	groupItems []vm.TargetGroup
	number     *widget.Entry
	dial       *widget.Button
	content    fyne.CanvasObject
}

func newTargetDialog(m *vm.InCallVM) *targetDialog {
	d := &targetDialog{m: m, kind: vm.DialogTransfer}
	d.errText = widget.NewLabelWithData(m.DialogError)
	d.errText.Wrapping = fyne.TextWrapWord
	d.errText.Importance = widget.DangerImportance
	// The lists show copies kept on the main goroutine: the view-model
	// reloads targets from a command goroutine, and a list bound to its
	// binding directly would read the items under another lock than the
	// one they are written under.
	d.agents = widget.NewList(func() int { return len(d.agentItems) }, newAgentRow, func(i widget.ListItemID, o fyne.CanvasObject) {
		if i < len(d.agentItems) {
			o.(*agentRow).set(d.agentItems[i], d)
		}
	})
	d.groups = widget.NewList(func() int { return len(d.groupItems) }, newGroupRow, func(i widget.ListItemID, o fyne.CanvasObject) {
		if i < len(d.groupItems) {
			o.(*groupRow).set(d.groupItems[i], d)
		}
	})
	mirrorList(m.Agents, d.agents, &d.agentItems)
	mirrorList(m.Groups, d.groups, &d.groupItems)
	noSelection(d.agents)
	noSelection(d.groups)
	d.number = widget.NewEntry()
	d.number.SetPlaceHolder(lang.L("Outside number"))
	d.dial = widget.NewButtonWithIcon("", icon("phone"), func() {
		m.Choose(api.Target{Kind: api.TargetNumber, To: d.number.Text})
	})
	d.number.OnSubmitted = func(string) { d.dial.OnTapped() }
	heading := func(s string) *widget.Label {
		l := widget.NewLabel(s)
		l.TextStyle.Bold = true
		return l
	}
	lists := container.NewGridWithRows(2,
		container.NewBorder(heading(lang.L("Agents")), nil, nil, nil, d.agents),
		container.NewBorder(heading(lang.L("Skill groups")), nil, nil, nil, d.groups))
	bottom := container.NewVBox(heading(lang.L("Number")), container.NewBorder(nil, nil, nil, d.dial, d.number))
	// The error line shows only with an error: an empty line kept its
	// place as a gap under the title. The dialog's size is fixed, so the
	// lists give it the room (the border lays itself out again).
	content := container.NewBorder(d.errText, bottom, nil, nil, lists)
	showWhenSet(d.errText, m.DialogError, content)
	d.content = content
	return d
}

func (d *targetDialog) setKind(k vm.DialogKind) {
	d.kind = k
	d.number.SetText("")
	d.dial.SetText(d.action())
	d.agents.Refresh()
	d.groups.Refresh()
}

// action is the rows' button text.
func (d *targetDialog) action() string {
	if d.kind == vm.DialogConsult {
		return lang.L("Consult")
	}
	return lang.L("Transfer")
}

// agentRow is an agent of the dialog: dot, name and number, status word, button.
type agentRow struct {
	widget.BaseWidget
	dot    *canvas.Circle
	name   *widget.Label
	status *widget.Label
	button *widget.Button
	target vm.TargetAgent
	d      *targetDialog
}

func newAgentRow() fyne.CanvasObject {
	r := &agentRow{}
	r.dot = canvas.NewCircle(colorOffline)
	r.name = widget.NewLabel("")
	r.name.Truncation = fyne.TextTruncateEllipsis
	// Sized for the longest status word: rows are laid out from the
	// template before their text is set.
	r.status = widget.NewLabel(lang.L("After-call work"))
	r.status.Importance = widget.LowImportance
	r.button = widget.NewButton(lang.L("Transfer"), func() {
		if r.d != nil {
			r.d.m.Choose(api.Target{Kind: api.TargetAgent, To: r.target.WorkNumber})
		}
	})
	r.ExtendBaseWidget(r)
	return r
}

func (r *agentRow) CreateRenderer() fyne.WidgetRenderer {
	dot := container.NewCenter(container.NewGridWrap(fyne.NewSquareSize(10), r.dot))
	return widget.NewSimpleRenderer(container.NewBorder(nil, nil, dot, container.NewHBox(r.status, r.button), r.name))
}

func (r *agentRow) set(a vm.TargetAgent, d *targetDialog) {
	r.target, r.d = a, d
	if a.Online {
		r.dot.FillColor = colorOnline
	} else {
		r.dot.FillColor = colorOffline
	}
	r.dot.Refresh()
	r.name.SetText(a.WorkNumber + "  " + a.Name)
	r.status.SetText(a.Status)
	r.button.SetText(d.action())
	if a.Selectable {
		r.button.Enable()
		r.name.Importance = widget.MediumImportance
	} else {
		r.button.Disable()
		r.name.Importance = widget.LowImportance
	}
	r.name.Refresh()
}

// groupRow is a skill group of the dialog: label, counts, button.
type groupRow struct {
	widget.BaseWidget
	label  *widget.Label
	detail *widget.Label
	button *widget.Button
	target vm.TargetGroup
	d      *targetDialog
}

func newGroupRow() fyne.CanvasObject {
	r := &groupRow{}
	r.label = widget.NewLabel("")
	r.label.TextStyle.Bold = true
	r.label.Truncation = fyne.TextTruncateEllipsis
	r.detail = widget.NewLabel("")
	r.detail.Importance = widget.LowImportance
	r.button = widget.NewButton(lang.L("Transfer"), func() {
		if r.d != nil {
			r.d.m.Choose(api.Target{Kind: api.TargetGroup, To: r.target.Name})
		}
	})
	r.ExtendBaseWidget(r)
	return r
}

func (r *groupRow) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewBorder(nil, nil, nil, container.NewHBox(r.detail, r.button), r.label))
}

func (r *groupRow) set(g vm.TargetGroup, d *targetDialog) {
	r.target, r.d = g, d
	r.label.SetText(g.Label)
	r.detail.SetText(g.Detail)
	if g.Waiting > 0 {
		r.detail.Importance = widget.WarningImportance
	} else {
		r.detail.Importance = widget.LowImportance
	}
	r.detail.Refresh()
	r.button.SetText(d.action())
	if g.Selectable {
		r.button.Enable()
	} else {
		r.button.Disable()
	}
	// The counts' width changes with the text: lay the row out again,
	// or they stay cut to the template's (an empty label's) width.
	r.Refresh()
}

// noSelection keeps a list's rows from staying highlighted when tapped:
// their buttons act, a row itself is not something to select, and a blue
// bar on a disabled row reads as if it had been chosen.
func noSelection(l *widget.List) {
	l.OnSelected = func(id widget.ListItemID) { l.Unselect(id) }
}

// mirrorList keeps *dst a copy of the binding's items, set on the main
// goroutine, and refreshes list after each change.
func mirrorList[T any](from binding.UntypedList, list *widget.List, dst *[]T) {
	from.AddListener(binding.NewDataListener(func() {
		vals, _ := from.Get()
		items := make([]T, 0, len(vals))
		for _, v := range vals {
			items = append(items, v.(T))
		}
		fyne.Do(func() {
			*dst = items
			list.Refresh()
		})
	}))
}
