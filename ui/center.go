package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/agentphone/agentphone/ui/vm"
)

// The inbound call center's widgets (issue 3): the status drop-down with
// its timer, after-call work, the figures row with the queue drop-down,
// the customer card of the screen pop, and the call history.

// parts are the view-models of one session besides the bar itself.
type parts struct {
	status  *vm.StatusVM
	pop     *vm.PopVM
	history *vm.HistoryVM
	work    *workParts // in-call work (issue 4); nil without it
}

// statusView is the status row, the after-call work row and the figures row.
type statusView struct {
	status     *widget.Button // "Idle 03:12 ▾"
	autoAnswer *widget.Check
	acwRow     *fyne.Container
	acwLeft    *widget.Label
	finish     *widget.Button
	extend     *widget.Button
	figures    *fyne.Container
	talk       *widget.Label
	calls      *widget.Label
	busy       *widget.Label
	idle       *widget.Label
	queue      *widget.Button
	message    *widget.Label
	content    *fyne.Container
}

// relayout lays out the window again when rows appear or go: the bar's
// border layout must give the status rows their new height.
func newStatusView(m *vm.StatusVM, c func() fyne.Canvas, relayout func()) *statusView {
	v := &statusView{}
	v.status = widget.NewButtonWithIcon("", theme.MenuDropDownIcon(), nil)
	v.status.IconPlacement = widget.ButtonIconTrailingText
	v.status.Alignment = widget.ButtonAlignLeading
	v.status.OnTapped = func() {
		widget.ShowPopUpMenuAtRelativePosition(statusMenu(m), c(), fyne.NewPos(0, v.status.Size().Height), v.status)
	}
	onString(m.Status, func(s string) { v.status.SetText(s) })
	tone := func() {
		t, _ := m.Tone.Get()
		v.status.Importance = toneImportance(vm.Tone(t))
		v.status.Refresh()
	}
	m.Tone.AddListener(binding.NewDataListener(tone))

	v.autoAnswer = widget.NewCheck(lang.L("Auto-answer"), m.SetAutoAnswer)
	bindCheck(v.autoAnswer, m.AutoAnswer, m.SetAutoAnswer)
	statusRow := container.NewBorder(nil, nil, nil, v.autoAnswer, v.status)

	v.acwLeft = widget.NewLabelWithData(newFormatted(m.ACWLeft, func(s string) string {
		return lang.L("After-call work: {{.Time}} left", map[string]any{"Time": s})
	}))
	v.acwLeft.Importance = widget.HighImportance
	v.finish = widget.NewButton(lang.L("Finish now"), m.FinishACW)
	v.extend = widget.NewButton(lang.L("Extend +{{.Seconds}} s", map[string]any{"Seconds": vm.ACWExtendSeconds}), m.ExtendACW)
	v.acwRow = container.NewBorder(nil, nil, nil, container.NewHBox(v.finish, v.extend), v.acwLeft)

	stat := func(caption string, b binding.String) (*widget.Label, fyne.CanvasObject) {
		val := widget.NewLabelWithData(b)
		val.TextStyle.Bold = true
		val.Alignment = fyne.TextAlignCenter
		cap := widget.NewLabel(caption)
		cap.SizeName = theme.SizeNameCaptionText
		cap.Alignment = fyne.TextAlignCenter
		cap.Importance = widget.LowImportance
		return val, container.New(layout.NewCustomPaddedVBoxLayout(-2*theme.Padding()), val, cap)
	}
	var cTalk, cCalls, cBusy, cIdle fyne.CanvasObject
	v.talk, cTalk = stat(lang.L("Talk time"), m.TalkTime)
	v.calls, cCalls = stat(lang.L("Calls"), m.Calls)
	v.busy, cBusy = stat(lang.L("Busy total"), m.BusyTotal)
	v.idle, cIdle = stat(lang.L("Idle total"), m.IdleTotal)
	v.queue = widget.NewButtonWithIcon("", theme.MenuDropDownIcon(), nil)
	v.queue.IconPlacement = widget.ButtonIconTrailingText
	onString(m.Queue, func(n string) {
		v.queue.SetText(lang.L("Queue {{.Count}}", map[string]any{"Count": n}))
	})
	onBool(m.QueueWaiting, func(w bool) {
		if w {
			v.queue.Importance = widget.WarningImportance
		} else {
			v.queue.Importance = widget.MediumImportance
		}
		v.queue.Refresh()
	})
	v.queue.OnTapped = func() { showGroups(m, c(), v.queue) }
	v.figures = container.NewBorder(nil, nil, nil, container.NewCenter(v.queue),
		container.NewGridWithColumns(4, cTalk, cCalls, cBusy, cIdle))

	v.message = widget.NewLabelWithData(m.Message)
	v.message.Wrapping = fyne.TextWrapWord
	v.message.Importance = widget.WarningImportance

	v.content = container.NewVBox(statusRow, v.acwRow, v.figures, v.message)
	showWhenSet(v.acwRow, m.ACWLeft, v.content)
	showWhenSet(v.message, m.Message, v.content)
	onString(m.ACWLeft, func(string) { relayout() })
	onString(m.Message, func(string) { relayout() })
	// An older server has no statuses: the row would show nothing true.
	if ok, _ := m.Supported.Get(); !ok {
		v.status.Hide()
		v.figures.Hide()
	}
	onBool(m.Supported, func(ok bool) {
		if ok == v.status.Visible() {
			return
		}
		if ok {
			v.status.Show()
			v.figures.Show()
		} else {
			v.status.Hide()
			v.figures.Hide()
		}
		relayout()
	})
	return v
}

// bindCheck keeps c showing b without calling set back: a status pushed by
// the server must not be sent to it again as the agent's request.
func bindCheck(c *widget.Check, b binding.Bool, set func(bool)) {
	onBool(b, func(on bool) {
		if c.Checked == on {
			return
		}
		c.OnChanged = nil
		c.SetChecked(on)
		c.OnChanged = set
	})
}

func toneImportance(t vm.Tone) widget.Importance {
	switch t {
	case vm.ToneIdle:
		return widget.SuccessImportance
	case vm.ToneBusy:
		return widget.WarningImportance
	case vm.ToneCall, vm.ToneACW:
		return widget.HighImportance
	}
	return widget.MediumImportance
}

// statusMenu is the status drop-down: the statuses with the current one
// ticked, then the auto-answer switch.
func statusMenu(m *vm.StatusVM) *fyne.Menu {
	var items []*fyne.MenuItem
	for _, c := range m.Choices() {
		it := fyne.NewMenuItem(c.Label, func() { m.Choose(c) })
		it.Checked = c.Current
		items = append(items, it)
	}
	auto, _ := m.AutoAnswer.Get()
	aa := fyne.NewMenuItem(lang.L("Auto-answer"), func() { m.SetAutoAnswer(!auto) })
	aa.Checked = auto
	items = append(items, fyne.NewMenuItemSeparator(), aa)
	return fyne.NewMenu("", items...)
}

// showGroups drops down the agent's groups under the queue button.
func showGroups(m *vm.StatusVM, c fyne.Canvas, under fyne.CanvasObject) {
	box := container.NewVBox()
	lines := m.Groups()
	if len(lines) == 0 {
		box.Add(widget.NewLabel(lang.L("You are in no skill group")))
	}
	for _, g := range lines {
		name := widget.NewLabel(g.Label)
		name.TextStyle.Bold = true
		if g.Waiting > 0 {
			name.Importance = widget.WarningImportance
		}
		text := widget.NewLabel(g.Text)
		text.SizeName = theme.SizeNameCaptionText
		box.Add(container.New(layout.NewCustomPaddedVBoxLayout(-2*theme.Padding()), name, text))
	}
	pop := widget.NewPopUp(box, c)
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(under)
	size := pop.MinSize()
	x := pos.X + under.Size().Width - size.Width
	if x < 0 {
		x = 0
	}
	pop.ShowAtPosition(fyne.NewPos(x, pos.Y+under.Size().Height))
}

// customerCard shows the screen pop's customer: number, name, region and
// carrier, earlier calls, and the center number and group it came through.
// The incoming pop has room for a line each; the bar's card (compact) packs
// them into three lines so a call fits the window with its dial pad.
type customerCard struct {
	title, number, name, region, calls, via *widget.Label
	dismiss                                 *widget.Button
	content                                 *fyne.Container
}

func newCustomerCard(m *vm.PopVM, compact bool) *customerCard {
	k := &customerCard{}
	k.title = widget.NewLabelWithData(m.Title)
	k.title.TextStyle.Bold = true
	k.number = widget.NewLabelWithData(m.Number)
	k.number.TextStyle.Bold = true
	k.name = widget.NewLabelWithData(m.Name)
	k.region = widget.NewLabelWithData(m.Region)
	k.calls = widget.NewLabelWithData(m.Calls)
	k.calls.Importance = widget.LowImportance
	k.via = widget.NewLabelWithData(m.Via)
	k.via.Importance = widget.LowImportance
	k.dismiss = widget.NewButtonWithIcon("", theme.WindowCloseIcon(), m.Dismiss)
	k.dismiss.Importance = widget.LowImportance
	tight := func(o ...fyne.CanvasObject) *fyne.Container {
		return container.New(layout.NewCustomPaddedVBoxLayout(-2*theme.Padding()), o...)
	}
	if !compact {
		k.number.SizeName = theme.SizeNameSubHeadingText
		for _, l := range []*widget.Label{k.number, k.name, k.region, k.calls, k.via} {
			l.Alignment = fyne.TextAlignCenter
		}
		lines := tight(k.number, k.name, k.region, k.calls, k.via)
		for _, pair := range []struct {
			l *widget.Label
			b binding.String
		}{{k.name, m.Name}, {k.region, m.Region}, {k.calls, m.Calls}, {k.via, m.Via}} {
			showWhenSet(pair.l, pair.b, lines)
		}
		k.content = container.NewVBox(lines)
		return k
	}
	// Compact: "In call  13800138000  ×" / "张三 · 上海市 · 中国移动" /
	// "3 earlier calls · last 03-02 07:30 · via 4008001234 · Sales".
	who := widget.NewLabelWithData(joined(" · ", m.Name, m.Region))
	who.Truncation = fyne.TextTruncateEllipsis
	more := widget.NewLabelWithData(joined(" · ", m.Calls, m.Via))
	more.Importance = widget.LowImportance
	more.SizeName = theme.SizeNameCaptionText
	more.Truncation = fyne.TextTruncateEllipsis
	head := container.NewBorder(nil, nil, k.title, k.dismiss, k.number)
	lines := tight(head, who, more)
	showWhenSet(who, joined(" · ", m.Name, m.Region), lines)
	showWhenSet(more, joined(" · ", m.Calls, m.Via), lines)
	// The title's width changes with the stage ("Incoming call", "In
	// call", "Call ended"): lay the head out again, or the number keeps
	// the place an earlier, longer title left it.
	onString(m.Title, func(string) { head.Refresh() })
	k.content = lines
	// Only an ended call's card can be closed.
	m.Stage.AddListener(binding.NewDataListener(func() {
		st, _ := m.Stage.Get()
		if vm.PopStage(st) == vm.PopEnded {
			k.dismiss.Show()
		} else {
			k.dismiss.Hide()
		}
	}))
	return k
}

// joined derives "a · b" from the non-empty values of src.
func joined(sep string, src ...binding.String) binding.String {
	out := binding.NewString()
	update := func() {
		var parts []string
		for _, b := range src {
			if v, _ := b.Get(); v != "" {
				parts = append(parts, v)
			}
		}
		_ = out.Set(strings.Join(parts, sep))
	}
	for _, b := range src {
		b.AddListener(binding.NewDataListener(update))
	}
	return out
}

// cardBackground puts o on a rounded panel.
func cardBackground(o fyne.CanvasObject) fyne.CanvasObject {
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
	bg.CornerRadius = theme.InputRadiusSize()
	return container.NewStack(bg, container.NewPadded(o))
}

// historyView is the call history tab.
type historyView struct {
	filter  *widget.RadioGroup
	list    *widget.List
	empty   *widget.Label
	message *widget.Label
	content fyne.CanvasObject
}

func newHistoryView(m *vm.HistoryVM) *historyView {
	v := &historyView{}
	all, missed := lang.L("All calls"), lang.L("Missed calls")
	v.filter = widget.NewRadioGroup([]string{all, missed}, func(s string) { m.SetMissedOnly(s == missed) })
	v.filter.Horizontal = true
	v.filter.Required = true
	v.filter.SetSelected(all)

	v.list = widget.NewListWithData(m.Rows, newHistoryRow, func(item binding.DataItem, o fyne.CanvasObject) {
		val, _ := item.(binding.Untyped).Get()
		row, _ := val.(vm.HistoryRow)
		o.(*historyRow).set(row, m.CallBack)
	})
	v.empty = widget.NewLabel(lang.L("No calls yet"))
	v.empty.Alignment = fyne.TextAlignCenter
	v.empty.Importance = widget.LowImportance
	v.message = widget.NewLabelWithData(m.Message)
	v.message.Wrapping = fyne.TextWrapWord
	v.message.Importance = widget.WarningImportance
	onBool(m.Empty, func(e bool) {
		if e {
			v.empty.Show()
		} else {
			v.empty.Hide()
		}
	})
	top := container.NewVBox(v.filter, v.message)
	showWhenSet(v.message, m.Message, top)
	v.content = container.NewBorder(top, nil, nil, nil, container.NewStack(v.list, container.NewCenter(v.empty)))
	return v
}

// historyRow is one list row: a section header, or a call with its
// direction icon, number (red when missed), details, time and call-back.
type historyRow struct {
	widget.BaseWidget
	header, number, detail, when *widget.Label
	icon                         *widget.Icon
	callBack                     *widget.Button
	row                          vm.HistoryRow
	onCall                       func(vm.HistoryRow)
}

func newHistoryRow() fyne.CanvasObject {
	r := &historyRow{}
	r.header = widget.NewLabel("")
	r.header.TextStyle.Bold = true
	r.number = widget.NewLabel("")
	r.number.TextStyle.Bold = true
	r.number.Truncation = fyne.TextTruncateEllipsis
	r.detail = widget.NewLabel("")
	r.detail.SizeName = theme.SizeNameCaptionText
	r.detail.Truncation = fyne.TextTruncateEllipsis
	// Sized for the longest time shown ("03-01 14:02"): rows are laid out
	// once from the template, before their text is set.
	r.when = widget.NewLabel("00-00 00:00")
	r.when.Importance = widget.LowImportance
	r.icon = widget.NewIcon(nil)
	r.callBack = widget.NewButtonWithIcon("", icon("phone"), func() {
		if r.onCall != nil {
			r.onCall(r.row)
		}
	})
	r.ExtendBaseWidget(r)
	return r
}

func (r *historyRow) CreateRenderer() fyne.WidgetRenderer {
	text := container.New(layout.NewCustomPaddedVBoxLayout(-2*theme.Padding()), r.number, r.detail)
	call := container.NewBorder(nil, nil, container.NewCenter(r.icon), container.NewHBox(r.when, container.NewCenter(r.callBack)), text)
	return widget.NewSimpleRenderer(container.NewStack(r.header, call))
}

func (r *historyRow) set(row vm.HistoryRow, onCall func(vm.HistoryRow)) {
	r.row, r.onCall = row, onCall
	if row.Header != "" {
		r.header.SetText(row.Header)
		r.header.Show()
		for _, o := range []fyne.CanvasObject{r.number, r.detail, r.when, r.icon, r.callBack} {
			o.Hide()
		}
		return
	}
	r.header.Hide()
	for _, o := range []fyne.CanvasObject{r.number, r.detail, r.when, r.icon, r.callBack} {
		o.Show()
	}
	name := row.Number
	if row.Name != "" {
		name += "  " + row.Name
	}
	r.number.SetText(name)
	r.detail.SetText(row.Detail)
	r.when.SetText(row.When)
	switch {
	case row.Missed:
		r.number.Importance = widget.DangerImportance
		r.detail.Importance = widget.DangerImportance
		r.icon.SetResource(theme.NewErrorThemedResource(icon("phone-missed")))
	case row.Inbound:
		r.number.Importance = widget.MediumImportance
		r.detail.Importance = widget.LowImportance
		r.icon.SetResource(icon("phone-in"))
	default:
		r.number.Importance = widget.MediumImportance
		r.detail.Importance = widget.LowImportance
		r.icon.SetResource(icon("phone-out"))
	}
	r.number.Refresh()
	r.detail.Refresh()
	if row.CanCallBack {
		r.callBack.Enable()
	} else {
		r.callBack.Disable()
	}
}
