package ui

import (
	"image/color"

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

// phoneBarView is the content of the main window (电话条).
type phoneBarView struct {
	agent, status, callInfo, digits, message *widget.Label
	audioNotice                              *widget.Label
	audioRow                                 *fyne.Container // icon and notice
	header                                   fyne.CanvasObject
	indicator                                *canvas.Circle
	number                                   *widget.Entry
	keys                                     map[string]*widget.Button
	backspace, call, answer, hangup, mute    *widget.Button
	menu                                     *widget.Button
	autoAnswer                               *widget.Check
	// Issue 3: status, figures, customer card and history; nil parts
	// (tests of the bare bar) leave them out.
	statusView *statusView
	card       *customerCard
	cardBox    fyne.CanvasObject
	history    *historyView
	tabs       *container.AppTabs
	// Issue 4: call controls, callbacks tab, customer card and notes
	// beside the call; nil without in-call work.
	work    *workView
	content fyne.CanvasObject
	// The phone tab (with the call center): its rows are arranged for
	// idle or for a call (arrange), actions is the Call or Hang up row
	// pinned under it, keypad folds the dial pad in and out in a call.
	phoneTab, actions *fyne.Container
	numberRow, pad    fyne.CanvasObject
	keypad            *widget.Button
	inCall, keypadOn  bool
	ringing           bool // an incoming call is offered (its pop is up)
	// onResize is told when the bar's size changes (the incoming pop
	// follows it). Main goroutine.
	onResize func()
}

// resizeWatch lays its content over its whole space and tells on when that
// space changes size: Fyne has no resize event for a window's content.
type resizeWatch struct {
	on   func()
	last fyne.Size
}

func (r *resizeWatch) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var m fyne.Size
	for _, o := range objs {
		m = m.Max(o.MinSize())
	}
	return m
}

func (r *resizeWatch) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
	if size != r.last {
		r.last = size
		r.on()
	}
}

// arrange lays the phone tab out for idle or for a call. Idle: the number,
// the dial pad, the last call's card, and Call. In a call: what the call
// is (info, banner, controls, consult), the dial pad only when asked for,
// the customer card, and Hang up / Mute / Keypad pinned at the bottom
// (docs/DECISIONS.md: the layout of the best softphones in a call).
func (v *phoneBarView) arrange() {
	objs := []fyne.CanvasObject{v.audioRow}
	if v.inCall {
		objs = append(objs, v.callInfo)
		if v.work != nil {
			objs = append(objs, v.work.incall.content)
		}
		objs = append(objs, v.digits)
		if v.keypadOn {
			objs = append(objs, v.pad)
		}
		objs = append(objs, v.cardBox, v.message)
		v.actions.Objects = []fyne.CanvasObject{v.hangup, v.mute, v.keypad}
		if v.ringing {
			// The pop has Answer and Reject; the row would peek out
			// under it.
			v.actions.Objects = nil
		}
	} else {
		// A notice of the call control (a transfer done or failed)
		// outlives the call: the in-call box keeps its place on top.
		if v.work != nil {
			objs = append(objs, v.work.incall.content)
		}
		objs = append(objs, v.numberRow, v.pad, v.callInfo, v.cardBox, v.digits, v.message)
		v.actions.Objects = []fyne.CanvasObject{v.call}
	}
	v.actions.Layout = layout.NewGridLayoutWithColumns(max(len(v.actions.Objects), 1))
	if v.keypadOn {
		v.keypad.Importance = widget.HighImportance
	} else {
		v.keypad.Importance = widget.MediumImportance
	}
	v.keypad.Refresh()
	v.phoneTab.Objects = objs
	v.phoneTab.Refresh()
	v.actions.Refresh()
	if v.content != nil {
		v.content.Refresh()
	}
}

var (
	colorOnline  = color.NRGBA{R: 0x2e, G: 0xb8, B: 0x4b, A: 0xff}
	colorOffline = color.NRGBA{R: 0x9e, G: 0x9e, B: 0x9e, A: 0xff}
)

func newPhoneBarView(m *vm.PhoneBarVM, p *parts, menu func() *fyne.Menu, c func() fyne.Canvas) *phoneBarView {
	v := &phoneBarView{keys: map[string]*widget.Button{}}

	v.indicator = canvas.NewCircle(colorOffline)
	onBool(m.Registered, func(on bool) {
		if on {
			v.indicator.FillColor = colorOnline
		} else {
			v.indicator.FillColor = colorOffline
		}
		v.indicator.Refresh()
	})
	dot := container.NewGridWrap(fyne.NewSquareSize(12), v.indicator)
	v.agent = widget.NewLabelWithData(m.Agent)
	v.agent.TextStyle.Bold = true
	v.status = widget.NewLabelWithData(m.Status)
	v.menu = widget.NewButtonWithIcon("", theme.MenuIcon(), nil)
	v.menu.OnTapped = func() {
		widget.ShowPopUpMenuAtRelativePosition(menu(), c(), fyne.NewPos(0, v.menu.Size().Height), v.menu)
	}
	// The name and status sit tight together; the menu button keeps its
	// own height at the top right instead of stretching down the header.
	nameStatus := container.New(layout.NewCustomPaddedVBoxLayout(0), v.agent, v.status)
	v.header = container.NewBorder(nil, nil,
		container.NewCenter(dot), container.NewVBox(v.menu),
		nameStatus)

	// The headset warning sits right under the header: it stays for the
	// whole session and explains a silent call before the agent takes one.
	v.audioNotice = widget.NewLabelWithData(m.AudioNotice)
	v.audioNotice.Wrapping = fyne.TextWrapWord
	v.audioNotice.Importance = widget.WarningImportance
	v.audioRow = container.NewBorder(nil, nil,
		container.NewCenter(widget.NewIcon(theme.NewWarningThemedResource(theme.WarningIcon()))), nil,
		v.audioNotice)

	v.number = widget.NewEntryWithData(m.Number)
	v.number.SetPlaceHolder(lang.L("Number to call"))
	v.number.OnSubmitted = func(string) { m.Dial() }
	v.backspace = widget.NewButtonWithIcon("", icon("backspace"), m.Backspace)
	numberRow := container.NewBorder(nil, nil, nil, v.backspace, v.number)
	// Dial-pad keys change the number behind the entry's back; keep the
	// cursor at the end so that typing afterwards appends. While the agent
	// types in the entry (it has focus) the cursor is theirs.
	onString(m.Number, func(n string) {
		if cv := c(); cv != nil && cv.Focused() == v.number {
			return
		}
		v.number.CursorColumn = len([]rune(n))
		v.number.CursorRow = 0
		v.number.Refresh()
	})

	pad := container.NewGridWithColumns(3)
	for _, k := range vm.DialPadKeys {
		b := widget.NewButton(k, func() { m.Key(k) })
		v.keys[k] = b
		pad.Add(b)
	}

	v.callInfo = widget.NewLabelWithData(m.CallInfo)
	v.callInfo.TextStyle.Bold = true
	v.callInfo.Alignment = fyne.TextAlignCenter
	v.digits = widget.NewLabelWithData(newFormatted(m.Digits, func(d string) string {
		if d == "" {
			return ""
		}
		return lang.L("DTMF {{.Digits}}", map[string]any{"Digits": d})
	}))
	v.digits.Alignment = fyne.TextAlignCenter

	v.call = widget.NewButtonWithIcon(lang.L("Call"), icon("phone"), m.Dial)
	v.call.Importance = widget.SuccessImportance
	enableWhen(v.call, m.CanCall)
	v.answer = widget.NewButtonWithIcon(lang.L("Answer"), icon("phone"), m.Answer)
	v.answer.Importance = widget.SuccessImportance
	enableWhen(v.answer, m.CanAnswer)
	v.hangup = widget.NewButtonWithIcon(lang.L("Hang up"), icon("hangup"), m.Hangup)
	v.hangup.Importance = widget.DangerImportance
	enableWhen(v.hangup, m.CanHangup)
	v.mute = widget.NewButtonWithIcon(lang.L("Mute"), icon("mic"), m.ToggleMute)
	enableWhen(v.mute, m.CanMute)
	onBool(m.Muted, func(muted bool) {
		if muted {
			v.mute.SetText(lang.L("Unmute"))
			v.mute.SetIcon(icon("mic-off"))
			v.mute.Importance = widget.WarningImportance
		} else {
			v.mute.SetText(lang.L("Mute"))
			v.mute.SetIcon(icon("mic"))
			v.mute.Importance = widget.MediumImportance
		}
		v.mute.Refresh()
	})

	v.autoAnswer = widget.NewCheck(lang.L("Auto-answer"), m.SetAutoAnswer)
	bindCheck(v.autoAnswer, m.AutoAnswer, m.SetAutoAnswer)

	v.message = widget.NewLabelWithData(m.Message)
	v.message.Wrapping = fyne.TextWrapWord
	v.message.Importance = widget.WarningImportance

	if p == nil {
		box := container.NewVBox(
			v.header,
			widget.NewSeparator(),
			v.audioRow,
			numberRow,
			pad,
			v.callInfo,
			v.digits,
			container.NewGridWithColumns(2, v.call, v.answer, v.hangup, v.mute),
			v.autoAnswer,
			v.message,
		)
		showWhenSet(v.callInfo, m.CallInfo, box)
		showWhenSet(v.digits, m.Digits, box)
		showWhenSet(v.message, m.Message, box)
		showWhenSet(v.audioRow, m.AudioNotice, box)
		v.content = container.NewPadded(box)
		return v
	}

	// With the call center: the status drop-down and figures sit under
	// the header for every tab; the customer card of a live or just
	// ended call sits in the phone tab.
	v.statusView = newStatusView(p.status, c, func() {
		if v.content != nil {
			v.content.Refresh()
		}
	})
	v.card = newCustomerCard(p.pop, true)
	v.cardBox = cardBackground(v.card.content)
	v.numberRow, v.pad = numberRow, pad
	// The keypad toggle: during a call the dial pad folds away (it only
	// sends DTMF then) and comes back on demand, as in Zoiper, Linphone
	// and the phones' own dialers.
	v.keypad = widget.NewButtonWithIcon(lang.L("Keypad"), theme.GridIcon(), func() {
		v.keypadOn = !v.keypadOn
		v.arrange()
	})
	enableWhen(v.keypad, m.CanMute)
	v.phoneTab = container.NewVBox()
	v.actions = container.NewGridWithColumns(1)
	if p.work != nil {
		v.work = newWorkView(p.work, func() {
			if v.content != nil {
				v.content.Refresh()
			}
		})
	}
	v.arrange()
	showWhenSet(v.callInfo, m.CallInfo, v.phoneTab)
	showWhenSet(v.digits, m.Digits, v.phoneTab)
	showWhenSet(v.message, m.Message, v.phoneTab)
	showWhenSet(v.audioRow, m.AudioNotice, v.phoneTab)
	onBool(m.CanHangup, func(on bool) {
		if on == v.inCall {
			return
		}
		v.inCall = on
		// Every call starts with the pad folded: the controls first.
		v.keypadOn = false
		v.arrange()
	})
	onBool(m.Incoming, func(on bool) {
		if on != v.ringing {
			v.ringing = on
			v.arrange()
		}
	})
	// The ringing pop covers the bar and shows the customer itself.
	// While consulting, the consult view names the customer: the card
	// gives its room back to the consult's parties and buttons.
	consulting := func() bool {
		if v.work == nil {
			return false
		}
		on, _ := p.work.incall.Consulting.Get()
		return on
	}
	cardShown := func() {
		vis, _ := p.pop.Visible.Get()
		ringing, _ := m.Incoming.Get()
		if show := vis && !ringing && !consulting(); show != v.cardBox.Visible() {
			if show {
				v.cardBox.Show()
			} else {
				v.cardBox.Hide()
			}
			v.phoneTab.Refresh()
		}
	}
	v.cardBox.Hide()
	p.pop.Visible.AddListener(binding.NewDataListener(cardShown))
	m.Incoming.AddListener(binding.NewDataListener(cardShown))
	if v.work != nil {
		p.work.incall.Consulting.AddListener(binding.NewDataListener(cardShown))
	}

	v.history = newHistoryView(p.history)
	top := container.NewVBox(v.header, widget.NewSeparator(), v.statusView.content)
	// Everything at once (a call's card, ACW, the headset warning and a
	// message) is taller than a 768 px screen: the phone tab then scrolls
	// instead of the window growing off the screen and cutting the bar.
	// The Call / Hang up row is pinned under the scroll, so it is never
	// below the fold, whatever the call shows.
	phoneScroll := container.NewVScroll(v.phoneTab)
	phoneBox := container.NewBorder(nil, v.actions, nil, nil, container.New(capHeight{content: v.phoneTab, max: func() float32 {
		return maxBarHeight - top.MinSize().Height - tabBarHeight - v.actions.MinSize().Height - theme.Padding()
	}}, phoneScroll))
	phoneItem := container.NewTabItemWithIcon(lang.L("Phone"), icon("phone"), phoneBox)
	historyItem := container.NewTabItemWithIcon(lang.L("History"), icon("history"), v.history.content)
	v.tabs = container.NewAppTabs(phoneItem, historyItem)
	var callbacksItem *container.TabItem
	if v.work != nil {
		callbacksItem = v.work.callbacksTab()
		v.tabs.Append(callbacksItem)
		v.work.bindBadge(v.tabs, callbacksItem)
	}
	v.tabs.OnSelected = func(it *container.TabItem) {
		on := it == historyItem
		if on {
			p.history.Load()
		}
		p.history.SetViewing(on)
		if it == callbacksItem {
			p.work.callbacks.Load()
		}
	}
	onString(p.history.Badge, func(b string) {
		if b == "" {
			historyItem.Text = lang.L("History")
		} else {
			historyItem.Text = lang.L("History ({{.Count}})", map[string]any{"Count": b})
		}
		v.tabs.Refresh()
	})
	var side fyne.CanvasObject
	if v.work != nil {
		side = v.work.side
	}
	v.content = container.New(&resizeWatch{on: func() {
		if v.onResize != nil {
			v.onResize()
		}
	}}, container.NewPadded(container.NewBorder(top, nil, nil, side, v.tabs)))
	v.arrange()
	return v
}

// incomingPop is the modal screen pop shown while a call is offered. It
// covers the whole bar below the header: the agent sees who is calling
// and the two buttons that matter, not the bar's own Answer and Hang up
// peeking out around a small box.
type incomingPop struct {
	caller, center *widget.Label
	answer, reject *widget.Button
	popup          *widget.PopUp
	size           func()
}

// newIncomingPop makes the pop; it leaves above (the bar's header) in view.
// With a screen pop view-model it shows the customer's card from it.
func newIncomingPop(m *vm.PhoneBarVM, sp *vm.PopVM, c fyne.Canvas, above fyne.CanvasObject) *incomingPop {
	p := &incomingPop{}
	title := widget.NewLabelWithStyle(lang.L("Incoming call"), fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	var who fyne.CanvasObject
	var center binding.String
	if sp != nil {
		card := newCustomerCard(sp, false)
		p.caller, p.center, who, center = card.number, card.via, card.content, sp.Via
	} else {
		p.caller = widget.NewLabelWithData(m.CallerNumber)
		p.caller.Alignment = fyne.TextAlignCenter
		p.caller.SizeName = theme.SizeNameSubHeadingText
		p.caller.TextStyle.Bold = true
		center = newFormatted(m.CenterNumber, func(n string) string {
			if n == "" {
				return ""
			}
			return lang.L("via {{.Number}}", map[string]any{"Number": n})
		})
		p.center = widget.NewLabelWithData(center)
		p.center.Alignment = fyne.TextAlignCenter
		who = container.NewVBox(p.caller, p.center)
	}
	p.answer = widget.NewButtonWithIcon(lang.L("Answer"), icon("phone"), m.Answer)
	p.answer.Importance = widget.SuccessImportance
	p.reject = widget.NewButtonWithIcon(lang.L("Reject"), icon("hangup"), m.Reject)
	p.reject.Importance = widget.DangerImportance
	content := container.NewVBox(
		layout.NewSpacer(), // centre vertically in a pop taller than its content
		container.NewCenter(widget.NewIcon(icon("phone"))),
		title, who,
		container.NewGridWithColumns(2, p.answer, p.reject),
		layout.NewSpacer(),
	)
	p.popup = widget.NewModalPopUp(container.NewPadded(content), c)
	if sp == nil {
		showWhenSet(p.center, center, content)
	}
	// The customer's details may arrive after the pop is up (from the
	// server's event stream): lay the pop out again so it grows with them.
	onString(center, func(string) { p.popup.Refresh() })
	p.size = func() {
		pad := theme.Padding()
		top := pad
		if above != nil {
			top = fyne.CurrentApp().Driver().AbsolutePositionForObject(above).Y + above.Size().Height + pad
		}
		// Modal pops are centred: as much space below as above the
		// header. Fyne raises a size below the content's minimum.
		size := c.Size()
		p.popup.Resize(fyne.NewSize(size.Width-2*pad, size.Height-2*top))
	}
	onBool(m.Incoming, func(on bool) {
		if on {
			p.size()
			p.popup.Show()
		} else {
			p.popup.Hide()
		}
	})
	return p
}

// fit sizes a shown pop to the window again: the window widens and grows
// for the customer card while the call rings, and a pop sized before
// that left the bar's buttons peeking out around it.
func (p *incomingPop) fit() {
	if p.popup.Visible() {
		p.size()
	}
}

// maxBarHeight is the tallest the bar's content may ask for: a 768 px
// screen less a title bar and a panel. tabBarHeight is the tabs' own row
// with its padding.
const (
	maxBarHeight = 700
	tabBarHeight = 56
)

// capHeight lays out one scroll container over its whole space and asks
// for its content's height, but no more than max: below that the bar
// looks as without a scroll, above it the content scrolls.
type capHeight struct {
	content fyne.CanvasObject
	max     func() float32
}

func (c capHeight) MinSize([]fyne.CanvasObject) fyne.Size {
	m := c.content.MinSize()
	return fyne.NewSize(m.Width, min(m.Height, max(c.max(), 0)))
}

func (c capHeight) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

// keyboardDTMF makes the keys typed in the phone window send DTMF during a
// call, as the Keypad buttons do (PhoneBarVM.KeyboardDTMF), without
// opening the dial pad. Fyne hands a typed character to the canvas only
// when no widget has focus, so the number field, the notes and the
// dialogs' fields keep their typing. While a dialog, a menu or the pop is
// up the keys go nowhere either: the agent is busy with it, and a digit
// meant for a dialog's field must not reach the customer as a tone.
func keyboardDTMF(c fyne.Canvas, m *vm.PhoneBarVM) {
	c.SetOnTypedRune(func(r rune) {
		// The driver already gives a focused widget its typing; the
		// check states the rule here too.
		if c.Focused() != nil || c.Overlays().Top() != nil {
			return
		}
		m.KeyboardDTMF(r)
	})
}
