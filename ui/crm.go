package ui

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/agentphone/agentphone/ui/vm"
)

// Notes panel, today's callbacks tab, the customer card and their dialogs
// (issue 4).

func tight(o ...fyne.CanvasObject) *fyne.Container {
	return container.New(layout.NewCustomPaddedVBoxLayout(-2*theme.Padding()), o...)
}

func caption(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.SizeName = theme.SizeNameCaptionText
	l.Importance = widget.LowImportance
	return l
}

// relayoutOn lays c out again whenever one of bs changes: rows shown or
// hidden inside a border's edge do not resize the edge by themselves.
func relayoutOn(c fyne.CanvasObject, bs ...binding.String) {
	for _, b := range bs {
		onString(b, func(string) { c.Refresh() })
	}
}

// notesPanel is the notes box beside the call.
type notesPanel struct {
	title         *widget.Label
	message       *widget.Label
	closePrevious *widget.Button
	list          *fyne.Container
	draft         *widget.Entry
	save, cancel  *widget.Button
	closeBox      *widget.Button
	empty         *widget.Label
	content       fyne.CanvasObject
}

func newNotesPanel(m *vm.NotesVM) *notesPanel {
	p := &notesPanel{}
	p.title = widget.NewLabelWithData(newFormatted(m.Customer, func(c string) string {
		return lang.L("Notes · {{.Customer}}", map[string]any{"Customer": c})
	}))
	p.title.TextStyle.Bold = true
	p.closeBox = widget.NewButtonWithIcon(lang.L("Close notes"), theme.WindowCloseIcon(), m.CloseBox)
	p.closeBox.Importance = widget.LowImportance
	enableWhen(p.closeBox, m.Visible)
	p.message = widget.NewLabelWithData(m.Message)
	p.message.Wrapping = fyne.TextWrapWord
	p.message.Importance = widget.WarningImportance
	p.closePrevious = widget.NewButton(lang.L("Close the previous note"), m.CloseBox)
	p.closePrevious.Importance = widget.WarningImportance

	// At most ten notes of any length: a plain box that grows with
	// wrapped text, where a list would cut rows to its template's height.
	p.list = container.NewVBox()
	m.Rows.AddListener(binding.NewDataListener(func() {
		items, _ := m.Rows.Get()
		p.list.RemoveAll()
		for _, it := range items {
			r := newNoteRow().(*noteRow)
			r.set(it.(vm.NoteRow), m.Edit)
			p.list.Add(r)
		}
		p.list.Refresh()
	}))
	p.empty = widget.NewLabel(lang.L("No notes for this customer yet"))
	p.empty.Importance = widget.LowImportance
	p.empty.Alignment = fyne.TextAlignCenter
	m.Rows.AddListener(binding.NewDataListener(func() {
		if m.Rows.Length() == 0 {
			p.empty.Show()
		} else {
			p.empty.Hide()
		}
	}))

	p.draft = widget.NewMultiLineEntry()
	p.draft.SetMinRowsVisible(3)
	p.draft.Wrapping = fyne.TextWrapWord
	p.draft.SetPlaceHolder(lang.L("Write a note about this call"))
	p.draft.OnChanged = m.SetDraft
	onString(m.Draft, func(s string) {
		if p.draft.Text != s {
			p.draft.SetText(s)
		}
	})
	p.save = widget.NewButtonWithIcon(lang.L("Add note"), theme.DocumentSaveIcon(), m.Save)
	p.save.Importance = widget.HighImportance
	enableWhen(p.save, m.CanSave)
	p.cancel = widget.NewButton(lang.L("Cancel edit"), m.CancelEdit)
	onBool(m.Editing, func(on bool) {
		if on {
			p.save.SetText(lang.L("Save note"))
			p.cancel.Show()
		} else {
			p.save.SetText(lang.L("Add note"))
			p.cancel.Hide()
		}
	})
	enableWhen(p.draft, m.Visible)

	top := container.NewVBox(container.NewBorder(nil, nil, nil, p.closeBox, p.title), p.message, p.closePrevious)
	showWhenSet(p.message, m.Message, top)
	if on, _ := m.ClosePrevious.Get(); !on {
		p.closePrevious.Hide()
	}
	onBool(m.ClosePrevious, func(on bool) {
		if on {
			p.closePrevious.Show()
		} else {
			p.closePrevious.Hide()
		}
		top.Refresh()
	})
	bottom := container.NewVBox(p.draft, container.NewHBox(layout.NewSpacer(), p.cancel, p.save))
	p.content = container.NewBorder(top, bottom, nil, nil, container.NewStack(container.NewVScroll(p.list), container.NewCenter(p.empty)))
	relayoutOn(p.content, m.Message)
	onBool(m.ClosePrevious, func(bool) { p.content.Refresh() })
	return p
}

// noteRow is one note: author and time, the text, Edit for one's own.
type noteRow struct {
	widget.BaseWidget
	head *widget.Label
	text *widget.Label
	edit *widget.Button
	row  vm.NoteRow
	on   func(vm.NoteRow)
}

func newNoteRow() fyne.CanvasObject {
	r := &noteRow{}
	r.head = caption("")
	r.text = widget.NewLabel("")
	r.text.Wrapping = fyne.TextWrapWord
	r.edit = widget.NewButtonWithIcon("", theme.DocumentCreateIcon(), func() {
		if r.on != nil {
			r.on(r.row)
		}
	})
	r.edit.Importance = widget.LowImportance
	r.ExtendBaseWidget(r)
	return r
}

func (r *noteRow) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewBorder(nil, nil, nil, container.NewVBox(r.edit), tight(r.head, r.text)))
}

func (r *noteRow) set(n vm.NoteRow, edit func(vm.NoteRow)) {
	r.row, r.on = n, edit
	r.head.SetText(n.Author + " · " + n.When)
	r.text.SetText(n.Text)
	if n.Editable {
		r.edit.Show()
	} else {
		r.edit.Hide()
	}
}

// callbacksView is today's callbacks tab.
type callbacksView struct {
	reminder     *widget.Label
	reminderRow  *fyne.Container
	callReminder *widget.Button
	dismiss      *widget.Button
	list         *widget.List
	empty        *widget.Label
	message      *widget.Label
	content      fyne.CanvasObject
}

func newCallbacksView(m *vm.CallbacksVM, win func() fyne.Window) *callbacksView {
	v := &callbacksView{}
	v.reminder = widget.NewLabelWithData(m.Reminder)
	v.reminder.Wrapping = fyne.TextWrapWord
	v.reminder.Importance = widget.HighImportance
	v.reminder.TextStyle.Bold = true
	v.callReminder = widget.NewButtonWithIcon("", icon("phone"), m.CallReminder)
	v.callReminder.Importance = widget.SuccessImportance
	v.dismiss = widget.NewButtonWithIcon("", theme.WindowCloseIcon(), m.DismissReminder)
	v.dismiss.Importance = widget.LowImportance
	// The buttons keep their own height beside a reminder of two lines.
	v.reminderRow = container.NewBorder(nil, nil, widget.NewIcon(theme.InfoIcon()), container.NewCenter(container.NewHBox(v.callReminder, v.dismiss)), v.reminder)

	v.list = widget.NewListWithData(m.Rows, newCallbackRow, func(it binding.DataItem, o fyne.CanvasObject) {
		val, _ := it.(binding.Untyped).Get()
		row := val.(vm.CallbackRow)
		o.(*callbackRow).set(row, callbackActions{
			call: m.Call,
			reschedule: func(r vm.CallbackRow) {
				showReschedule(win(), r.DueAt, func(t time.Time) { m.Reschedule(r, t) })
			},
			remove: func(r vm.CallbackRow) {
				dialog.ShowConfirm(lang.L("Delete callback"),
					lang.L("Delete the callback to {{.Number}} at {{.Time}}?", map[string]any{"Number": r.Number, "Time": r.When}),
					func(ok bool) {
						if ok {
							m.Delete(r)
						}
					}, win())
			},
		})
	})
	noSelection(v.list)
	v.empty = widget.NewLabel(lang.L("No callbacks today"))
	v.empty.Alignment = fyne.TextAlignCenter
	v.empty.Importance = widget.LowImportance
	onBool(m.Empty, func(e bool) {
		if e {
			v.empty.Show()
		} else {
			v.empty.Hide()
		}
	})
	v.message = widget.NewLabelWithData(m.Message)
	v.message.Wrapping = fyne.TextWrapWord
	v.message.Importance = widget.WarningImportance
	top := container.NewVBox(v.reminderRow, v.message)
	showWhenSet(v.reminderRow, m.Reminder, top)
	showWhenSet(v.message, m.Message, top)
	v.content = container.NewBorder(top, nil, nil, nil, container.NewStack(v.list, container.NewCenter(v.empty)))
	relayoutOn(v.content, m.Reminder, m.Message)
	return v
}

type callbackActions struct {
	call, reschedule, remove func(vm.CallbackRow)
}

// callbackRow is one callback: time, number and name, remark, state,
// and the three buttons.
type callbackRow struct {
	widget.BaseWidget
	when, who, remark, state *widget.Label
	call, reschedule, remove *widget.Button
	row                      vm.CallbackRow
	act                      callbackActions
}

func newCallbackRow() fyne.CanvasObject {
	r := &callbackRow{}
	r.when = widget.NewLabel("00:00")
	r.when.TextStyle.Bold = true
	r.who = widget.NewLabel("")
	r.who.Truncation = fyne.TextTruncateEllipsis
	r.remark = caption("")
	r.remark.Truncation = fyne.TextTruncateEllipsis
	r.state = caption("")
	do := func(f func(callbackActions) func(vm.CallbackRow)) func() {
		return func() {
			if g := f(r.act); g != nil {
				g(r.row)
			}
		}
	}
	r.call = widget.NewButtonWithIcon("", icon("phone"), do(func(a callbackActions) func(vm.CallbackRow) { return a.call }))
	r.reschedule = widget.NewButtonWithIcon("", theme.HistoryIcon(), do(func(a callbackActions) func(vm.CallbackRow) { return a.reschedule }))
	r.remove = widget.NewButtonWithIcon("", theme.DeleteIcon(), do(func(a callbackActions) func(vm.CallbackRow) { return a.remove }))
	r.ExtendBaseWidget(r)
	return r
}

func (r *callbackRow) CreateRenderer() fyne.WidgetRenderer {
	// Two columns of two lines: the time over its state word, the number
	// and name over the remark. The state under the time leaves the whole
	// width to the number and the customer's name, which it used to cut.
	when := tight(r.when, r.state)
	text := tight(r.who, r.remark)
	buttons := container.NewHBox(r.call, r.reschedule, r.remove)
	return widget.NewSimpleRenderer(container.NewBorder(nil, nil, container.New(fixedWidth{r.whenWidth()}, when), container.NewCenter(buttons), text))
}

// whenWidth is the first column's width: the widest of a time and the
// state words, so every row's number starts at the same x.
func (r *callbackRow) whenWidth() float32 {
	w := r.when.MinSize().Width
	for _, s := range []string{lang.L("Expired"), lang.L("Done"), lang.L("Pending")} {
		w = max(w, caption(s).MinSize().Width)
	}
	return w
}

func (r *callbackRow) set(row vm.CallbackRow, act callbackActions) {
	r.row, r.act = row, act
	r.when.SetText(row.When)
	who := row.Number
	if row.Name != "" {
		who += "  " + row.Name
	}
	r.who.SetText(who)
	r.remark.SetText(row.Remark)
	r.state.SetText(row.State)
	switch {
	case row.Expired:
		r.state.Importance = widget.DangerImportance
		r.when.Importance = widget.DangerImportance
	case row.Done:
		r.state.Importance = widget.SuccessImportance
		r.when.Importance = widget.LowImportance
	case row.Due:
		r.state.Importance = widget.WarningImportance
		r.when.Importance = widget.WarningImportance
	default:
		r.state.Importance = widget.LowImportance
		r.when.Importance = widget.MediumImportance
	}
	r.state.Refresh()
	r.when.Refresh()
	if row.Done {
		r.reschedule.Disable()
	} else {
		r.reschedule.Enable()
	}
}

// whenPicker is a date and a time (hour and minute drop-downs).
type whenPicker struct {
	date         *widget.DateEntry
	hour, minute *widget.Select
	content      fyne.CanvasObject
}

func newWhenPicker(initial time.Time) *whenPicker {
	p := &whenPicker{date: widget.NewDateEntry()}
	var hours, minutes []string
	for h := 0; h < 24; h++ {
		hours = append(hours, fmt.Sprintf("%02d", h))
	}
	for m := 0; m < 60; m += 5 {
		minutes = append(minutes, fmt.Sprintf("%02d", m))
	}
	p.hour = widget.NewSelect(hours, nil)
	p.minute = widget.NewSelect(minutes, nil)
	d := initial.Truncate(time.Minute)
	day := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, d.Location())
	p.date.SetDate(&day)
	p.hour.SetSelected(fmt.Sprintf("%02d", d.Hour()))
	p.minute.SetSelected(fmt.Sprintf("%02d", d.Minute()/5*5))
	p.content = container.NewBorder(nil, nil, nil, container.NewHBox(p.hour, widget.NewLabel(":"), p.minute), p.date)
	return p
}

// value is the chosen time in the zone of the initial one.
func (p *whenPicker) value(loc *time.Location) (time.Time, bool) {
	if p.date.Date == nil {
		return time.Time{}, false
	}
	var h, m int
	if _, err := fmt.Sscanf(p.hour.Selected+":"+p.minute.Selected, "%d:%d", &h, &m); err != nil {
		return time.Time{}, false
	}
	d := *p.date.Date
	return time.Date(d.Year(), d.Month(), d.Day(), h, m, 0, 0, loc), true
}

// showReschedule asks for a new time for a callback.
func showReschedule(win fyne.Window, due time.Time, ok func(time.Time)) {
	p := newWhenPicker(due.In(time.Local))
	dialog.ShowForm(lang.L("Reschedule callback"), lang.L("Reschedule"), lang.L("Cancel"),
		[]*widget.FormItem{widget.NewFormItem(lang.L("Time"), p.content)},
		func(confirmed bool) {
			if t, valid := p.value(time.Local); confirmed && valid {
				ok(t)
			}
		}, win)
}

// newCallbackForm is the "New callback" dialog's content.
type newCallbackForm struct {
	when    *whenPicker
	remark  *widget.Entry
	errText *widget.Label
	content fyne.CanvasObject
}

func newNewCallbackForm(initial time.Time) *newCallbackForm {
	f := &newCallbackForm{when: newWhenPicker(initial), remark: widget.NewEntry()}
	f.remark.SetPlaceHolder(lang.L("What to call about"))
	f.errText = widget.NewLabel("")
	f.errText.Importance = widget.DangerImportance
	f.errText.Wrapping = fyne.TextWrapWord
	f.errText.Hide()
	f.content = container.NewVBox(
		widget.NewForm(widget.NewFormItem(lang.L("Time"), f.when.content), widget.NewFormItem(lang.L("Remark"), f.remark)),
		f.errText)
	return f
}

// showNewCallback asks for the time and remark of a callback to the
// popped call's customer; refusals stay in the dialog.
func showNewCallback(m *vm.CallbacksVM, win fyne.Window, now time.Time) {
	if !m.CanCreate() {
		return
	}
	f := newNewCallbackForm(now.Add(time.Hour).Truncate(5 * time.Minute))
	var d *dialog.CustomDialog
	save := widget.NewButton(lang.L("Schedule"), func() {
		t, ok := f.when.value(time.Local)
		if !ok {
			return
		}
		m.Create(t, f.remark.Text, func(err error) {
			fyne.Do(func() {
				if err != nil {
					f.errText.SetText(vm.CreateError(err))
					f.errText.Show()
					return
				}
				d.Hide()
			})
		})
	})
	save.Importance = widget.HighImportance
	cancel := widget.NewButton(lang.L("Cancel"), func() { d.Hide() })
	d = dialog.NewCustomWithoutButtons(lang.L("New callback"), f.content, win)
	d.SetButtons([]fyne.CanvasObject{cancel, save})
	d.Resize(fyne.NewSize(360, 260))
	d.Show()
}

// customerPanel is the customer card beside the screen pop.
type customerPanel struct {
	name, numbers, company, tags, owner *widget.Label
	fields                              *fyne.Container
	track                               *trackTable
	trackEmpty                          *widget.Label
	addName                             *widget.Entry
	add                                 *widget.Button
	addRow                              *fyne.Container
	edit                                *widget.Button
	unknown                             *widget.Label
	message                             *widget.Label
	content                             fyne.CanvasObject
}

func newCustomerPanel(m *vm.CustomerVM, win func() fyne.Window) *customerPanel {
	p := &customerPanel{}
	p.name = widget.NewLabelWithData(m.Name)
	p.name.TextStyle.Bold = true
	p.name.SizeName = theme.SizeNameSubHeadingText
	p.numbers = widget.NewLabelWithData(m.Numbers)
	p.company = widget.NewLabelWithData(m.Company)
	p.tags = widget.NewLabelWithData(m.Tags)
	p.tags.Importance = widget.HighImportance
	p.owner = widget.NewLabelWithData(newFormatted(m.Owner, func(o string) string {
		if o == "" {
			return ""
		}
		return lang.L("Owner {{.Agent}}", map[string]any{"Agent": o})
	}))
	p.owner.Importance = widget.LowImportance
	p.fields = container.New(layout.NewFormLayout())
	m.Fields.AddListener(binding.NewDataListener(func() {
		items, _ := m.Fields.Get()
		p.fields.RemoveAll()
		for _, it := range items {
			f := it.(vm.Field)
			k := caption(f.Key)
			p.fields.Add(k)
			p.fields.Add(widget.NewLabel(f.Value))
		}
		p.fields.Refresh()
	}))
	p.track = newTrackTable()
	m.Track.AddListener(binding.NewDataListener(func() {
		items, _ := m.Track.Get()
		rows := make([]vm.TrackRow, 0, len(items))
		for _, it := range items {
			rows = append(rows, it.(vm.TrackRow))
		}
		p.track.set(rows)
	}))
	p.unknown = widget.NewLabel(lang.L("This caller is not in the customer library"))
	p.unknown.Importance = widget.LowImportance
	p.unknown.Wrapping = fyne.TextWrapWord
	p.addName = widget.NewEntry()
	p.addName.SetPlaceHolder(lang.L("Customer's name"))
	p.message = widget.NewLabelWithData(m.Message)
	p.message.Wrapping = fyne.TextWrapWord
	p.message.Importance = widget.WarningImportance
	p.add = widget.NewButtonWithIcon(lang.L("Add to my customers"), theme.ContentAddIcon(), func() {
		m.AddToMine(p.addName.Text, func(err error) {
			fyne.Do(func() {
				if err != nil {
					_ = m.Message.Set(vm.SaveError(err))
					return
				}
				p.addName.SetText("")
			})
		})
	})
	p.add.Importance = widget.HighImportance
	p.addRow = container.NewVBox(p.unknown, p.addName, p.add)
	p.edit = widget.NewButtonWithIcon(lang.L("Edit"), theme.DocumentCreateIcon(), func() { showEditCustomer(m, win()) })
	p.edit.Importance = widget.LowImportance

	head := container.NewBorder(nil, nil, nil, container.NewVBox(p.edit), tight(p.name, p.numbers))
	card := container.NewVBox(head, tight(p.company, p.tags, p.owner), p.fields)
	heading := widget.NewLabel(lang.L("History"))
	heading.TextStyle.Bold = true
	p.trackEmpty = widget.NewLabelWithData(m.TrackEmpty)
	p.trackEmpty.Importance = widget.LowImportance
	p.trackEmpty.Wrapping = fyne.TextWrapWord
	headBox := container.NewVBox(card, widget.NewSeparator(), heading, p.trackEmpty)
	showWhenSet(p.trackEmpty, m.TrackEmpty, headBox)
	known := container.NewBorder(headBox, nil, nil, nil, container.NewVScroll(p.track.box))
	top := container.NewVBox(p.message, p.addRow)
	showWhenSet(p.message, m.Message, top)
	for _, pair := range []struct {
		l *widget.Label
		b binding.String
	}{{p.company, m.Company}, {p.tags, m.Tags}, {p.owner, m.Owner}} {
		showWhenSet(pair.l, pair.b, card)
	}
	sync := func() {
		k, _ := m.Known.Get()
		can, _ := m.CanAdd.Get()
		if k {
			known.Show()
		} else {
			known.Hide()
		}
		if can {
			p.addRow.Show()
		} else {
			p.addRow.Hide()
		}
		top.Refresh()
	}
	sync()
	m.Known.AddListener(binding.NewDataListener(sync))
	m.CanAdd.AddListener(binding.NewDataListener(sync))
	p.content = container.NewBorder(top, nil, nil, nil, known)
	relayoutOn(p.content, m.Message)
	onBool(m.CanAdd, func(bool) { p.content.Refresh() })
	return p
}

// trackTable is the customer's history as a table: when, kind and detail
// each start at the same x on every row (a call, a callback and a note
// alike), the first two columns as wide as their widest cell, and the
// detail wrapping in what is left so a callback's remark or a note is read
// whole, not cut at the panel's edge.
type trackTable struct {
	box *fyne.Container
	// widths of the when and kind columns, shared by the rows' layouts.
	cols *trackColumns
}

func newTrackTable() *trackTable {
	return &trackTable{box: container.NewVBox(), cols: &trackColumns{}}
}

// set replaces the rows. The kind column is as wide as the widest of the
// three kinds whatever the rows hold, so it does not move from one
// customer to the next.
func (t *trackTable) set(rows []vm.TrackRow) {
	t.box.RemoveAll()
	t.cols.when, t.cols.kind = 0, 0
	for _, k := range []string{lang.L("Call"), lang.L("Note"), lang.L("Callback")} {
		t.cols.kind = max(t.cols.kind, newTrackKind(k).MinSize().Width)
	}
	for i, r := range rows {
		row := newTrackRow(r, t.cols)
		t.cols.when = max(t.cols.when, row.when.MinSize().Width)
		if i > 0 {
			t.box.Add(widget.NewSeparator())
		}
		t.box.Add(row)
	}
	t.box.Refresh()
}

// len is the number of rows.
func (t *trackTable) len() int {
	n := 0
	for _, o := range t.box.Objects {
		if _, ok := o.(*trackRow); ok {
			n++
		}
	}
	return n
}

// trackRow is a line of the customer's history.
type trackRow struct {
	widget.BaseWidget
	when, kind, text *widget.Label
	cols             *trackColumns
	row              vm.TrackRow
}

func newTrackKind(k string) *widget.Label {
	l := widget.NewLabel(k)
	l.TextStyle.Bold = true
	return l
}

func newTrackRow(t vm.TrackRow, cols *trackColumns) *trackRow {
	r := &trackRow{when: caption(t.When), kind: newTrackKind(t.Kind), text: widget.NewLabel(t.Text), cols: cols, row: t}
	r.text.Wrapping = fyne.TextWrapWord
	if t.Red {
		r.text.Importance = widget.DangerImportance
	}
	r.ExtendBaseWidget(r)
	return r
}

func (r *trackRow) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.New(r.cols, r.when, r.kind, r.text))
}

// trackColumns lays out a row's when, kind and detail at the table's
// column widths, the small caption of the time moved down onto the
// baseline of the bold kind beside it.
type trackColumns struct{ when, kind float32 }

func (c *trackColumns) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var h float32
	for _, o := range objs {
		h = max(h, o.MinSize().Height)
	}
	return fyne.NewSize(c.when+c.kind+objs[2].MinSize().Width, h)
}

func (c *trackColumns) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	when, kind, text := objs[0], objs[1], objs[2]
	when.Move(fyne.NewPos(0, baselineShift()))
	when.Resize(fyne.NewSize(c.when, when.MinSize().Height))
	kind.Move(fyne.NewPos(c.when, 0))
	kind.Resize(fyne.NewSize(c.kind, kind.MinSize().Height))
	text.Move(fyne.NewPos(c.when+c.kind, 0))
	text.Resize(fyne.NewSize(max(size.Width-c.when-c.kind, 0), size.Height))
}

// baselineShift is how far a caption label must move down for its text
// to sit on the baseline of a regular label's first line.
func baselineShift() float32 {
	d := fyne.CurrentApp().Driver()
	_, body := d.RenderedTextSize("0", theme.TextSize(), fyne.TextStyle{Bold: true}, nil)
	_, small := d.RenderedTextSize("0", theme.CaptionTextSize(), fyne.TextStyle{}, nil)
	return max(body-small, 0)
}

// showEditCustomer edits the card: name, numbers, company, tags, free fields.
func showEditCustomer(m *vm.CustomerVM, win fyne.Window) {
	c := m.Card()
	if c.ID == 0 {
		return
	}
	name := widget.NewEntry()
	name.SetText(c.Name)
	numbers := widget.NewEntry()
	numbers.SetText(strings.Join(c.Numbers, ", "))
	company := widget.NewEntry()
	company.SetText(c.Company)
	tags := widget.NewEntry()
	tags.SetText(strings.Join(c.Tags, ", "))
	fields := widget.NewMultiLineEntry()
	fields.SetText(vm.FormatFields(c.Fields))
	fields.SetPlaceHolder(lang.L("key: value, one a line"))
	errText := widget.NewLabel("")
	errText.Importance = widget.DangerImportance
	errText.Hide()
	form := widget.NewForm(
		widget.NewFormItem(lang.L("Name"), name),
		widget.NewFormItem(lang.L("Numbers"), numbers),
		widget.NewFormItem(lang.L("Company"), company),
		widget.NewFormItem(lang.L("Tags"), tags),
		widget.NewFormItem(lang.L("Fields"), fields),
	)
	var d *dialog.CustomDialog
	save := widget.NewButton(lang.L("Save"), func() {
		c.Name, c.Numbers, c.Company = name.Text, vm.SplitList(numbers.Text), strings.TrimSpace(company.Text)
		c.Tags, c.Fields = vm.SplitList(tags.Text), vm.ParseFields(fields.Text)
		m.Save(c, func(err error) {
			fyne.Do(func() {
				if err != nil {
					errText.SetText(vm.SaveError(err))
					errText.Show()
					return
				}
				d.Hide()
			})
		})
	})
	save.Importance = widget.HighImportance
	d = dialog.NewCustomWithoutButtons(lang.L("Edit customer"), container.NewVBox(form, errText), win)
	d.SetButtons([]fyne.CanvasObject{widget.NewButton(lang.L("Cancel"), func() { d.Hide() }), save})
	d.Resize(fyne.NewSize(380, 400))
	d.Show()
}
