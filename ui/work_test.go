package ui

import (
	"context"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/agentphone/agentphone/callcenter/api"
	"github.com/agentphone/agentphone/ui/vm"
)

// fakeWork is the InCall and CRM seam of the widget tests: realistic
// canned answers, and the control state each command leads to.
type fakeWork struct {
	mu      sync.Mutex
	control map[string]api.CallControl
	errs    map[string]error
	reqs    []string
}

func (f *fakeWork) ctl(name, id string) (api.CallControl, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, name)
	if err := f.errs[name]; err != nil {
		return api.CallControl{}, err
	}
	cc := f.control[name]
	cc.CallID = id
	return cc, nil
}

var demoTargets = api.TransferTargets{
	Agents: []api.TransferAgent{
		{WorkNumber: "1002", Name: "Han Meimei", Online: true, Status: "idle"},
		{WorkNumber: "1003", Name: "Wang Fang", Online: true, Status: "talking"},
		{WorkNumber: "1005", Name: "Sun Li", Online: true, Status: "acw"},
		{WorkNumber: "1004", Name: "Zhao Lei", Online: false, Status: "offline"},
	},
	Groups: []api.TransferGroup{
		{Name: "sales", Label: "售前咨询", Waiting: 2, Online: 3},
		{Name: "support", Label: "售后服务", Waiting: 0, Online: 2},
		{Name: "vip", Label: "VIP", Waiting: 0, Online: 0},
	},
}

func (f *fakeWork) TransferTargets(context.Context) (api.TransferTargets, error) {
	return demoTargets, nil
}
func (f *fakeWork) Hold(_ context.Context, id string) (api.CallControl, error) {
	return f.ctl("hold", id)
}
func (f *fakeWork) Resume(_ context.Context, id string) (api.CallControl, error) {
	return f.ctl("resume", id)
}
func (f *fakeWork) Transfer(_ context.Context, id string, _ api.Target) (api.CallControl, error) {
	return f.ctl("transfer", id)
}
func (f *fakeWork) Consult(_ context.Context, id string, _ api.Target) (api.CallControl, error) {
	return f.ctl("consult", id)
}
func (f *fakeWork) ConsultTransfer(_ context.Context, id string) (api.CallControl, error) {
	return f.ctl("consult-transfer", id)
}
func (f *fakeWork) Conference(_ context.Context, id string) (api.CallControl, error) {
	return f.ctl("conference", id)
}
func (f *fakeWork) ConsultCancel(_ context.Context, id string) (api.CallControl, error) {
	return f.ctl("consult-cancel", id)
}
func (f *fakeWork) SendDTMF(context.Context, string, string) error { return nil }
func (f *fakeWork) Control(_ context.Context, id string) (api.CallControl, error) {
	return f.ctl("control", id)
}

var demoNotes = []api.Note{
	{ID: 3, CallID: "c1", Customer: "13800138000", Agent: "1001", AgentName: "Alice Wu", Text: "Asked for the delivery date of order 5521; promised a call back after checking with the warehouse.", CreatedAt: t0.Add(-5 * time.Minute), Editable: true},
	{ID: 2, CallID: "c0", Customer: "13800138000", Agent: "1002", AgentName: "Han Meimei", Text: "Wants the blue model, size L.", CreatedAt: t0.Add(-26 * time.Hour)},
	{ID: 1, CallID: "cx", Customer: "13800138000", Agent: "1003", AgentName: "Wang Fang", Text: "First order, paid by transfer.", CreatedAt: t0.Add(-72 * time.Hour), UpdatedAt: t0.Add(-70 * time.Hour)},
}

func (f *fakeWork) OpenNotes(_ context.Context, id string) (api.NoteBox, error) {
	return api.NoteBox{CallID: id, Open: true, Customer: "13800138000", Notes: demoNotes}, nil
}
func (f *fakeWork) CloseNotes(_ context.Context, id string) (api.NoteBox, error) {
	return api.NoteBox{CallID: id}, nil
}
func (f *fakeWork) AddNote(_ context.Context, id, text string) (api.Note, error) {
	return api.Note{ID: 9, CallID: id, Agent: "1001", Text: text, CreatedAt: t0, Editable: true}, nil
}
func (f *fakeWork) EditNote(_ context.Context, id int64, text string) (api.Note, error) {
	return api.Note{ID: id, Agent: "1001", Text: text, CreatedAt: t0, UpdatedAt: t0, Editable: true}, nil
}
func (f *fakeWork) Notes(context.Context, string) ([]api.Note, error) { return demoNotes, nil }

func at(h, m int) time.Time { return time.Date(2025, 3, 4, h, m, 0, 0, time.UTC) }

var demoCallbacks = []api.Callback{
	{ID: 1, Number: "13800138000", Name: "张三", DueAt: at(8, 30), Remark: "Delivery date of order 5521", State: api.CallbackExpired},
	{ID: 2, Number: "13900139000", Name: "李四", DueAt: at(9, 0), Remark: "Quote for 20 units", State: api.CallbackDone},
	{ID: 3, Number: "13700137000", DueAt: at(9, 15), Remark: "Missed call, wants the invoice", State: api.CallbackPending},
	{ID: 4, Number: "02161234567", Name: "上海某某贸易", DueAt: at(14, 0), Remark: "Renewal", State: api.CallbackPending},
}

func (f *fakeWork) Callbacks(context.Context, time.Time) ([]api.Callback, error) {
	return demoCallbacks, nil
}
func (f *fakeWork) CreateCallback(_ context.Context, in api.CallbackInput) (api.Callback, error) {
	return api.Callback{ID: 9, Number: in.Number, DueAt: in.DueAt, Remark: in.Remark, State: api.CallbackPending}, nil
}
func (f *fakeWork) UpdateCallback(_ context.Context, id int64, in api.CallbackInput) (api.Callback, error) {
	return api.Callback{ID: id, DueAt: in.DueAt, Remark: in.Remark, State: api.CallbackPending}, nil
}
func (f *fakeWork) DeleteCallback(context.Context, int64) error { return nil }
func (f *fakeWork) Customers(context.Context, string, bool) ([]api.Customer, error) {
	return nil, nil
}
func (f *fakeWork) CreateCustomer(_ context.Context, c api.Customer) (api.Customer, error) {
	return c, nil
}
func (f *fakeWork) AddCallerToCustomers(_ context.Context, _, name string) (api.Customer, error) {
	return api.Customer{ID: 7, Name: name}, nil
}
func (f *fakeWork) Customer(context.Context, int64) (api.CustomerCard, error) { return demoCard, nil }
func (f *fakeWork) UpdateCustomer(_ context.Context, _ int64, c api.Customer) (api.Customer, error) {
	return c, nil
}
func (f *fakeWork) CustomerByNumber(_ context.Context, n string) (api.CustomerCard, error) {
	if n != "13800138000" {
		return api.CustomerCard{}, vm.ErrNoCustomer
	}
	return demoCard, nil
}

var demoCard = api.CustomerCard{
	Customer: api.Customer{ID: 7, Name: "张三", Numbers: []string{"13800138000", "02161234567"}, Company: "上海某某贸易有限公司",
		Tags: []string{"VIP", "复购"}, Fields: map[string]string{"城市": "上海", "Level": "Gold"}, Owner: "1001"},
	Calls: []api.CallRecord{
		{CallID: "c0", Type: "inbound", StartedAt: t0.Add(-26 * time.Hour), AnsweredAt: t0.Add(-26 * time.Hour), DurationSec: 133, Result: "answered", Agent: "1002"},
		{CallID: "cm", Type: "inbound", StartedAt: t0.Add(-30 * time.Hour), Result: "missed"},
	},
	Notes:     demoNotes[1:2],
	Callbacks: []api.Callback{{ID: 1, DueAt: at(8, 30), Remark: "Delivery date", State: api.CallbackExpired, CreatedAt: t0.Add(-20 * time.Hour)}},
}

// workFixture is the bar with in-call work, a call c1 from 13800138000
// answered, in a window wide enough for the side panel.
type workFixture struct {
	*barFixture
	work  *fakeWork
	wp    *workParts
	call  *fakeCall
	clock func() time.Time
}

func newWorkFixture(t *testing.T) *workFixture {
	a := test.NewTempApp(t)
	f := &workFixture{barFixture: &barFixture{now: t0, center: &fakeCenter{}}, work: &fakeWork{control: map[string]api.CallControl{}, errs: map[string]error{}}}
	clock := func() time.Time { return f.now }
	f.clock = clock
	f.w = test.NewTempWindow(t, nil)
	pop := vm.NewPopVM(vm.WithPopClock(clock, time.UTC))
	f.wp = &workParts{
		incall:    vm.NewInCallVM(f.work, pop),
		notes:     vm.NewNotesVM(f.work, pop, vm.WithNotesClock(clock, time.UTC)),
		callbacks: vm.NewCallbacksVM(f.work, func(n string) { f.m.DialNumber(n) }, pop, vm.WithCallbacksClock(clock, time.UTC)),
		customer:  vm.NewCustomerVM(f.work, pop, vm.WithCustomerClock(clock, time.UTC)),
		win:       f.w,
	}
	f.parts = &parts{
		status: vm.NewStatusVM(f.center, vm.WithStatusClock(clock),
			vm.WithStatusApplied(func(st api.AgentStatus) { f.m.ApplyStatus(st) })),
		pop: pop,
		history: vm.NewHistoryVM(f.center, a.Preferences(), func(n string) { f.m.DialNumber(n) },
			vm.WithHistoryClock(clock, time.UTC)),
		work: f.wp,
	}
	for _, c := range []func(){f.parts.status.Close, f.parts.history.Close, f.wp.incall.Close, f.wp.notes.Close, f.wp.callbacks.Close, f.wp.customer.Close} {
		t.Cleanup(c)
	}
	f.m = vm.NewPhoneBarVM(api.Agent{WorkNumber: "1001", Name: "Alice Wu"}, newFakePhone(),
		vm.WithClock(clock), vm.WithParts(f.parts.status, pop, f.parts.history, f.wp.incall, f.wp.callbacks, f.wp.customer, f.wp.notes))
	t.Cleanup(f.m.Close)
	f.menu = fyne.NewMenu("", fyne.NewMenuItem("Audio settings…", nil))
	f.v = newPhoneBarView(f.m, f.parts, func() *fyne.Menu { return f.menu }, f.w.Canvas)
	f.w.SetContent(f.v.content)
	f.pop = newIncomingPop(f.m, pop, f.w.Canvas(), f.v.header)
	f.w.Resize(fyne.NewSize(400+sideWidth, 720))
	return f
}

func (f *workFixture) wait() {
	f.wp.incall.Wait()
	f.wp.notes.Wait()
	f.wp.callbacks.Wait()
	f.wp.customer.Wait()
}

// answer rings and answers call c1 from number.
func (f *workFixture) answer(t *testing.T, number string) {
	f.register(t)
	f.call = &fakeCall{dir: vm.Inbound, remote: "sip:edge", state: vm.CallRinging,
		headers: map[string]string{vm.HeaderCallID: "c1", vm.HeaderCaller: number, vm.HeaderNumber: "4008001234"}}
	f.m.HandleServer(serverEvent(t, api.EventOffer, f.now, api.ScreenPop{CallID: "c1", Direction: "inbound", Customer: number,
		Region: "上海市", Carrier: "中国移动", CallsFrom: 3, LastCallAt: t0.Add(-26 * time.Hour), CenterNumber: "4008001234", Group: "售前咨询"}))
	f.wait()
	f.m.Handle(vm.PhoneEvent{Kind: vm.EventCall, Call: f.call, State: vm.CallRinging})
	// The test driver runs binding listeners on the goroutine that sets
	// the value: let the view-models' lookups finish before going on.
	f.wait()
	f.call.state, f.call.answered = vm.CallActive, f.now
	f.m.Handle(vm.PhoneEvent{Kind: vm.EventCall, Call: f.call, State: vm.CallActive})
	f.wait()
	f.advance(83 * time.Second)
}

// inChinese runs the rest of the test in zh-CN and switches back after.
func inChinese(t *testing.T) {
	t.Cleanup(func() {
		t.Setenv("LANGUAGE", "en")
		t.Setenv("LC_ALL", "en_US.UTF-8")
		_ = LoadTranslations()
	})
	t.Setenv("LANGUAGE", "zh_CN")
	t.Setenv("LC_ALL", "zh_CN.UTF-8")
	if err := LoadTranslations(); err != nil {
		t.Fatal(err)
	}
}

var languages = []struct{ name, suffix string }{{"en", ""}, {"zh-CN", "_zh"}}

func TestTransferDialogGolden(t *testing.T) {
	for _, l := range languages {
		t.Run(l.name, func(t *testing.T) {
			if l.suffix != "" {
				inChinese(t)
			}
			f := newWorkFixture(t)
			f.answer(t, "13800138000")
			iv := f.v.work.incall
			if !iv.controls.Visible() || iv.hold.Disabled() || iv.transfer.Disabled() {
				t.Fatalf("controls visible %v hold disabled %v", iv.controls.Visible(), iv.hold.Disabled())
			}
			test.Tap(iv.transfer)
			f.wait()
			if iv.dialogOpen == nil {
				t.Fatal("no transfer dialog")
			}
			// The refusal is translated and names the agent as the list
			// does, whatever the server's words.
			f.work.errs["transfer"] = &vm.RefusedError{Reason: "agent 1003 is busy", Code: api.CodeAgentBusy}
			f.wp.incall.Choose(api.Target{Kind: api.TargetAgent, To: "1003"})
			f.wait()
			want := map[string]string{"en": "1003 Wang Fang is busy", "zh-CN": "1003 Wang Fang 正忙"}[l.name]
			if got := iv.dialog.errText.Text; got != want {
				t.Errorf("dialog error %q", got)
			}
			test.AssertRendersToImage(t, "transfer_dialog"+l.suffix+".png", f.w.Canvas())
			// Offline agents and groups nobody serves cannot be chosen.
			var offline, vip bool
			for _, o := range test.LaidOutObjects(iv.dialog.agents) {
				if r, ok := o.(*agentRow); ok && r.target.WorkNumber == "1004" {
					offline = r.button.Disabled()
				}
			}
			for _, o := range test.LaidOutObjects(iv.dialog.groups) {
				if r, ok := o.(*groupRow); ok && r.target.Name == "vip" {
					vip = r.button.Disabled()
				}
			}
			if !offline || !vip {
				t.Errorf("offline agent disabled %v, empty group disabled %v", offline, vip)
			}
		})
	}
}

func TestConsultViewGolden(t *testing.T) {
	for _, l := range languages {
		t.Run(l.name, func(t *testing.T) {
			if l.suffix != "" {
				inChinese(t)
			}
			f := newWorkFixture(t)
			f.answer(t, "13800138000")
			iv := f.v.work.incall
			test.Tap(iv.consult)
			f.wait()
			f.work.control["consult"] = api.CallControl{State: api.ControlConsulting,
				Parties: []api.Party{{Kind: "customer", ID: "13800138000", State: "held"}},
				Consult: &api.Consult{Target: api.Target{Kind: api.TargetAgent, To: "1002"}, Name: "Han Meimei", State: "ringing"}}
			f.wp.incall.Choose(api.Target{Kind: api.TargetAgent, To: "1002"})
			f.wait()
			if iv.dialogOpen != nil || !iv.consultCard.Visible() || !iv.threeWay.Disabled() {
				t.Fatalf("dialog %v consult view %v three-way disabled %v", iv.dialogOpen != nil, iv.consultBox.Visible(), iv.threeWay.Disabled())
			}
			// The consulted agent answers.
			f.m.HandleServer(serverEvent(t, api.EventControl, f.now, api.CallControl{CallID: "c1", State: api.ControlConsulting,
				Parties: []api.Party{{Kind: "customer", ID: "13800138000", State: "held"}},
				Consult: &api.Consult{Target: api.Target{Kind: api.TargetAgent, To: "1002"}, Name: "Han Meimei", State: "talking"}}))
			if iv.threeWay.Disabled() || iv.toCustomer.Disabled() || iv.banner.Text == "" {
				t.Errorf("answered: three-way disabled %v banner %q", iv.threeWay.Disabled(), iv.banner.Text)
			}
			test.AssertRendersToImage(t, "consult"+l.suffix+".png", f.w.Canvas())
			f.work.control["conference"] = api.CallControl{State: api.ControlConference}
			test.Tap(iv.threeWay)
			f.wait()
			if iv.consultCard.Visible() || iv.banner.Text != "Three-way call · all hear all" && l.suffix == "" {
				t.Error("consult view still shown in the three-way call")
			}
		})
	}
}

func TestNotesPanelGolden(t *testing.T) {
	for _, l := range languages {
		t.Run(l.name, func(t *testing.T) {
			if l.suffix != "" {
				inChinese(t)
			}
			f := newWorkFixture(t)
			f.answer(t, "13800138000")
			if !f.v.work.side.Visible() {
				t.Fatal("side panel hidden in a call")
			}
			f.v.work.sideTabs.SelectIndex(1)
			np := f.v.work.notes
			if n := len(np.list.Objects); n != 3 {
				t.Fatalf("%d notes", n)
			}
			var edits int
			for _, o := range test.LaidOutObjects(np.list) {
				if r, ok := o.(*noteRow); ok && r.edit.Visible() {
					edits++
				}
			}
			if edits != 1 {
				t.Errorf("%d notes editable, want only our own", edits)
			}
			test.Type(np.draft, "Customer will send the invoice by mail")
			if np.save.Disabled() {
				t.Error("cannot save")
			}
			test.AssertRendersToImage(t, "notes"+l.suffix+".png", f.w.Canvas())
		})
	}
}

func TestCallbacksTabGolden(t *testing.T) {
	for _, l := range languages {
		t.Run(l.name, func(t *testing.T) {
			if l.suffix != "" {
				inChinese(t)
			}
			f := newWorkFixture(t)
			f.w.Resize(fyne.NewSize(400, 720))
			f.register(t)
			tab := f.v.tabs.Items[2]
			f.v.tabs.Select(tab)
			f.wait()
			f.m.HandleServer(serverEvent(t, api.EventCallbackDue, f.now, demoCallbacks[2]))
			if !f.v.work.callbacks.reminderRow.Visible() {
				t.Error("no reminder")
			}
			var expired *callbackRow
			for _, o := range test.LaidOutObjects(f.v.work.callbacks.list) {
				if r, ok := o.(*callbackRow); ok && r.row.ID == 1 {
					expired = r
				}
			}
			if expired == nil || expired.state.Importance != widget.DangerImportance {
				t.Errorf("expired row not red: %+v", expired)
			}
			test.AssertRendersToImage(t, "callbacks"+l.suffix+".png", f.w.Canvas())
		})
	}
}

func TestCustomerCardGolden(t *testing.T) {
	for _, l := range languages {
		t.Run(l.name, func(t *testing.T) {
			if l.suffix != "" {
				inChinese(t)
			}
			f := newWorkFixture(t)
			f.answer(t, "13800138000")
			cp := f.v.work.customer
			if cp.name.Text != "张三" || cp.addRow.Visible() || cp.track.len() != 4 {
				t.Errorf("card name %q add row %v track %d", cp.name.Text, cp.addRow.Visible(), cp.track.len())
			}
			test.AssertRendersToImage(t, "customer"+l.suffix+".png", f.w.Canvas())
		})
	}
}

func TestAddToMyCustomers(t *testing.T) {
	f := newWorkFixture(t)
	f.answer(t, "13700137000")
	cp := f.v.work.customer
	if !cp.addRow.Visible() {
		t.Fatal("no add-to-my-customers for an unknown caller")
	}
	test.AssertRendersToImage(t, "customer_add.png", f.w.Canvas())
}

// inView fails unless o is shown and drawn wholly inside the window: an
// agent in a call must see it without scrolling.
func inView(t *testing.T, c fyne.Canvas, name string, o fyne.CanvasObject) {
	t.Helper()
	if !o.Visible() {
		t.Errorf("%s hidden", name)
		return
	}
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(o)
	end := pos.Add(o.Size())
	if size := c.Size(); pos.X < 0 || pos.Y < 0 || end.X > size.Width || end.Y > size.Height {
		t.Errorf("%s at %v–%v, outside the %v window", name, pos, end, size)
	}
}

// In a consult at the bar's default height, everything the call needs is
// on screen at once with the phone tab not scrolled: the banner, the
// controls, both parties with Transfer / Three-way / Cancel, and the
// pinned Hang up and Mute. The dial pad comes back with Keypad, and the
// keys send DTMF.
func TestConsultControlsAboveTheFold(t *testing.T) {
	f := newWorkFixture(t)
	f.w.Resize(fyne.NewSize(400+sideWidth, sideHeight))
	f.answer(t, "13800138000")
	iv := f.v.work.incall
	f.work.control["consult"] = api.CallControl{State: api.ControlConsulting,
		Parties: []api.Party{{Kind: "customer", ID: "13800138000", State: "held"}},
		Consult: &api.Consult{Target: api.Target{Kind: api.TargetAgent, To: "1002"}, Name: "Han Meimei", State: "talking"}}
	test.Tap(iv.consult)
	f.wait()
	f.wp.incall.Choose(api.Target{Kind: api.TargetAgent, To: "1002"})
	f.wait()
	c := f.w.Canvas()
	for _, o := range []struct {
		name string
		o    fyne.CanvasObject
	}{
		{"call info", f.v.callInfo}, {"banner", iv.bannerBox}, {"hold", iv.hold}, {"callback", iv.callback},
		{"consult transfer", iv.toCustomer}, {"three-way", iv.threeWay}, {"cancel", iv.cancel},
		{"hang up", f.v.hangup}, {"mute", f.v.mute}, {"keypad", f.v.keypad},
	} {
		inView(t, c, o.name, o.o)
	}
	if f.v.hangup.Disabled() {
		t.Error("hang-up disabled in a consult")
	}
	if containsObject(f.v.phoneTab, f.v.pad) {
		t.Error("dial pad open at the start of a call")
	}
	test.Tap(f.v.keypad)
	if !containsObject(f.v.phoneTab, f.v.pad) {
		t.Fatal("Keypad did not open the dial pad")
	}
	inView(t, c, "key 5", f.v.keys["5"])
	test.Tap(f.v.keys["5"])
	if got := f.v.digits.Text; got != "DTMF 5" {
		t.Errorf("digits %q", got)
	}
	test.Tap(f.v.keypad)
	if containsObject(f.v.phoneTab, f.v.pad) {
		t.Error("Keypad did not fold the dial pad")
	}
}

func containsObject(c *fyne.Container, o fyne.CanvasObject) bool {
	for _, x := range c.Objects {
		if x == o {
			return true
		}
	}
	return false
}

// The pop shown while the window is narrow follows it when the customer
// card widens it: the bar's own buttons never peek out around the pop.
func TestIncomingPopFollowsTheWindow(t *testing.T) {
	f := newWorkFixture(t)
	f.v.onResize = f.pop.fit
	f.w.Resize(fyne.NewSize(400, 600))
	f.register(t)
	f.call = &fakeCall{dir: vm.Inbound, remote: "sip:edge", state: vm.CallRinging,
		headers: map[string]string{vm.HeaderCallID: "c1", vm.HeaderCaller: "13800138000", vm.HeaderNumber: "4008001234"}}
	f.m.Handle(vm.PhoneEvent{Kind: vm.EventCall, Call: f.call, State: vm.CallRinging})
	f.wait()
	if !f.pop.popup.Visible() {
		t.Fatal("no pop")
	}
	f.w.Resize(fyne.NewSize(400+sideWidth, sideHeight))
	size, pop := f.w.Canvas().Size(), f.pop.popup.Content.Size()
	if pop.Width < size.Width-4*theme.Padding() || pop.Height < size.Height/2 {
		t.Errorf("pop %v in a %v window", pop, size)
	}
}

// Keys typed in the window during a call send DTMF like the Keypad
// buttons, without opening the dial pad; not into a focused text field,
// not while a dialog is up, and not without a call.
func TestKeyboardSendsDTMF(t *testing.T) {
	f := newWorkFixture(t)
	c := f.w.Canvas()
	keyboardDTMF(c, f.m)

	// No call: typing dials nothing and sends nothing.
	f.register(t)
	test.TypeOnCanvas(c, "123")
	if n := f.v.number.Text; n != "" {
		t.Errorf("number %q typed without focus", n)
	}

	f.answer(t, "13800138000")
	ops := func() []string {
		var d []string
		for _, o := range f.call.Ops() {
			if strings.HasPrefix(o, "dtmf ") {
				d = append(d, strings.TrimPrefix(o, "dtmf "))
			}
		}
		return d
	}
	waitOps := func(want []string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !reflect.DeepEqual(ops(), want) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if got := ops(); !reflect.DeepEqual(got, want) {
			t.Fatalf("dtmf sent %q, want %q", got, want)
		}
	}
	// The top row and the numeric keypad both arrive as characters;
	// letters are not tones.
	test.TypeOnCanvas(c, "12a*#0")
	waitOps([]string{"1", "2", "*", "#", "0"})
	if got := f.v.digits.Text; got != "DTMF 12*#0" {
		t.Errorf("digits %q", got)
	}
	if f.v.keypadOn || containsObject(f.v.phoneTab, f.v.pad) {
		t.Error("typing opened the dial pad")
	}

	// A focused text field (the notes) keeps its typing.
	draft := f.v.work.notes.draft
	f.v.work.sideTabs.SelectIndex(1)
	c.Focus(draft)
	if c.Focused() != draft {
		t.Fatalf("focus on %T, not the note draft", c.Focused())
	}
	test.TypeOnCanvas(c, "9")
	test.Type(draft, "9")
	c.Unfocus()
	if draft.Text != "9" {
		t.Errorf("note draft %q", draft.Text)
	}

	// A dialog up: its fields are the agent's focus, not the customer.
	test.Tap(f.v.work.incall.transfer)
	f.wait()
	if c.Overlays().Top() == nil {
		t.Fatal("no transfer dialog")
	}
	test.TypeOnCanvas(c, "7")
	f.v.work.incall.dialogOpen.Hide()
	if c.Overlays().Top() != nil {
		t.Fatal("transfer dialog still up")
	}

	test.TypeOnCanvas(c, "5")
	waitOps([]string{"1", "2", "*", "#", "0", "5"})
}
