package ui

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// sideWidth is the width of the panel beside the bar (customer card and
// notes); the window grows by it while the panel shows, and to sideHeight
// at least (below maxBarHeight, for a 768 px screen): the card with its
// history, the notes with the note box, and the transfer dialog (640 high)
// over them.
const (
	sideWidth  = 360
	sideHeight = 690
)

// workView puts in-call work into the phone bar: the controls under the
// call's card, today's callbacks as a tab, and the customer card and notes
// in a panel beside the bar while a call is popped or its note box open.
type workView struct {
	w         *workParts
	incall    *inCallView
	notes     *notesPanel
	callbacks *callbacksView
	customer  *customerPanel
	sideTabs  *container.AppTabs
	side      *fyne.Container
	// onSide is told when the panel shows or hides (the shell widens the
	// window by sideWidth). Main goroutine.
	onSide func(shown bool)
}

func newWorkView(w *workParts, relayout func()) *workView {
	v := &workView{w: w}
	win := func() fyne.Window { return w.win }
	v.incall = newInCallView(w.incall, w.win, func() { showNewCallback(w.callbacks, w.win, time.Now()) })
	v.incall.relayout = relayout
	v.notes = newNotesPanel(w.notes)
	v.callbacks = newCallbacksView(w.callbacks, win)
	v.customer = newCustomerPanel(w.customer, win)
	customerItem := container.NewTabItemWithIcon(lang.L("Customer"), theme.AccountIcon(), v.customer.content)
	notesItem := container.NewTabItemWithIcon(lang.L("Notes"), theme.DocumentIcon(), v.notes.content)
	v.sideTabs = container.NewAppTabs(customerItem, notesItem)
	v.side = container.New(fixedWidth{sideWidth}, container.NewBorder(nil, nil, widget.NewSeparator(), nil, v.sideTabs))
	v.side.Hide()
	shown := func() {
		c, _ := w.customer.Visible.Get()
		n, _ := w.notes.Visible.Get()
		on := c || n
		if on == v.side.Visible() {
			return
		}
		if on {
			v.side.Show()
		} else {
			v.side.Hide()
		}
		if relayout != nil {
			relayout()
		}
		if v.onSide != nil {
			v.onSide(on)
		}
	}
	w.customer.Visible.AddListener(binding.NewDataListener(shown))
	w.notes.Visible.AddListener(binding.NewDataListener(shown))
	// A refusal of the note box (close the previous one first) must be
	// seen: bring the notes to the front.
	onString(w.notes.Message, func(s string) {
		if s != "" && v.side.Visible() {
			v.sideTabs.Select(notesItem)
		}
	})
	// The callback button needs a call whose customer is known.
	enableWhen(v.incall.callback, w.callbacks.Creatable)
	return v
}

// callbacksTab is today's callbacks, its title carrying the due count.
func (v *workView) callbacksTab() *container.TabItem {
	it := container.NewTabItemWithIcon(lang.L("Callbacks"), theme.HistoryIcon(), v.callbacks.content)
	return it
}

// bindBadge keeps the callbacks tab's title showing the due count.
func (v *workView) bindBadge(tabs *container.AppTabs, it *container.TabItem) {
	onString(v.w.callbacks.Badge, func(b string) {
		if b == "" {
			it.Text = lang.L("Callbacks")
		} else {
			it.Text = lang.L("Callbacks ({{.Count}})", map[string]any{"Count": b})
		}
		tabs.Refresh()
	})
}

// fixedWidth asks for a fixed width and its content's height.
type fixedWidth struct{ w float32 }

func (f fixedWidth) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var h float32
	for _, o := range objs {
		if o.Visible() {
			h = max(h, o.MinSize().Height)
		}
	}
	return fyne.NewSize(f.w, h)
}

func (f fixedWidth) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}
