package ui

import (
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/agentphone/agentphone/callcenter/api"
	"github.com/agentphone/agentphone/ui/vm"
)

// popup returns the canvas's top overlay, where menus and pops go.
func popup(c fyne.Canvas) fyne.CanvasObject { return c.Overlays().Top() }

func TestStatusDropDownAndACW(t *testing.T) {
	f := newBarFixture(t)
	f.register(t)
	sv := f.v.statusView
	if sv.status.Text != "Idle 00:12" || sv.status.Importance != widget.SuccessImportance {
		t.Errorf("status button %q importance %v", sv.status.Text, sv.status.Importance)
	}
	if sv.talk.Text != "25:05" || sv.calls.Text != "12" || sv.busy.Text != "40:00" || sv.idle.Text != "52:22" || sv.queue.Text != "Queue 2" {
		t.Errorf("figures %q %q %q %q %q", sv.talk.Text, sv.calls.Text, sv.busy.Text, sv.idle.Text, sv.queue.Text)
	}
	test.Tap(sv.status)
	menu := popup(f.w.Canvas())
	if menu == nil {
		t.Fatal("no status menu")
	}
	test.AssertRendersToMarkup(t, "status_menu.xml", f.w.Canvas())
	var labels []string
	var meeting *fyne.MenuItem
	for _, it := range statusMenu(f.parts.status).Items {
		labels = append(labels, it.Label)
		if it.Label == "Meeting" {
			meeting = it
		}
	}
	if len(labels) != 7 || labels[0] != "Idle" || labels[6] != "Auto-answer" || meeting == nil {
		t.Fatalf("menu %v", labels)
	}
	f.center.status.Since = f.now
	meeting.Action()
	f.parts.status.Wait()
	f.advance(3 * time.Second)
	if sv.status.Text != "Meeting 00:03" || sv.status.Importance != widget.WarningImportance {
		t.Errorf("after choosing Meeting: %q %v", sv.status.Text, sv.status.Importance)
	}
	if ch := f.center.changes; len(ch) != 1 || *ch[0].Presence != "custom" || *ch[0].Custom != "meeting" {
		t.Errorf("changes %+v", ch)
	}
	f.w.Canvas().Overlays().Remove(menu)

	// After-call work: the countdown row with its two buttons.
	f.m.HandleServer(serverEvent(t, api.EventStatus, f.now, api.AgentStatus{Presence: "online", Phone: "idle", Activity: "acw",
		Since: f.now, ACWUntil: f.now.Add(30 * time.Second)}))
	f.advance(5 * time.Second)
	if !sv.acwRow.Visible() || sv.acwLeft.Text != "After-call work: 00:25 left" {
		t.Errorf("ACW row visible %v text %q", sv.acwRow.Visible(), sv.acwLeft.Text)
	}
	test.AssertRendersToImage(t, "phonebar_acw.png", f.w.Canvas())
}

func TestQueueDropDown(t *testing.T) {
	f := newBarFixture(t)
	f.register(t)
	test.Tap(f.v.statusView.queue)
	if popup(f.w.Canvas()) == nil {
		t.Fatal("no groups pop")
	}
	test.AssertRendersToImage(t, "queue_groups.png", f.w.Canvas())
}

func TestCustomerCardThroughACall(t *testing.T) {
	f := newBarFixture(t)
	f.register(t)
	c := &fakeCall{dir: vm.Inbound, remote: "sip:edge", state: vm.CallRinging,
		headers: map[string]string{vm.HeaderCallID: "c1", vm.HeaderCaller: "13800138000", vm.HeaderNumber: "4008001234"}}
	f.m.HandleServer(serverEvent(t, api.EventOffer, f.now, api.ScreenPop{CallID: "c1", Direction: "inbound", Customer: "13800138000",
		Name: "张三", Region: "上海市", Carrier: "中国移动", CallsFrom: 3, LastCallAt: t0.Add(-50 * time.Hour),
		CenterNumber: "4008001234", Group: "Sales"}))
	f.m.Handle(vm.PhoneEvent{Kind: vm.EventCall, Call: c, State: vm.CallRinging})
	if !f.pop.popup.Visible() || f.v.cardBox.Visible() {
		t.Fatalf("ringing: pop %v, card in bar %v", f.pop.popup.Visible(), f.v.cardBox.Visible())
	}
	if f.pop.center.Text != "via 4008001234 · Sales" {
		t.Errorf("pop via %q", f.pop.center.Text)
	}
	test.AssertRendersToImage(t, "incoming_customer.png", f.w.Canvas())

	c.answered = f.now
	f.m.Handle(vm.PhoneEvent{Kind: vm.EventCall, Call: c, State: vm.CallActive})
	f.advance(42 * time.Second)
	if f.pop.popup.Visible() || !f.v.cardBox.Visible() {
		t.Fatalf("talking: pop %v, card %v", f.pop.popup.Visible(), f.v.cardBox.Visible())
	}
	if f.v.card.title.Text != "In call" || f.v.card.name.Text != "张三" || f.v.card.region.Text != "上海市 · 中国移动" ||
		f.v.card.calls.Text != "3 earlier calls · last 03-02 07:30" || f.v.card.dismiss.Visible() {
		t.Errorf("card %q %q %q %q dismiss %v", f.v.card.title.Text, f.v.card.name.Text, f.v.card.region.Text, f.v.card.calls.Text, f.v.card.dismiss.Visible())
	}
	test.AssertRendersToImage(t, "phonebar_talking.png", f.w.Canvas())

	f.m.Handle(vm.PhoneEvent{Kind: vm.EventCall, Call: c, State: vm.CallEnded})
	if f.v.card.title.Text != "Call ended" || !f.v.card.dismiss.Visible() {
		t.Errorf("ended: %q dismiss %v", f.v.card.title.Text, f.v.card.dismiss.Visible())
	}
	test.Tap(f.v.card.dismiss)
	if f.v.cardBox.Visible() {
		t.Error("card still shown after dismiss")
	}
}

func TestHistoryTab(t *testing.T) {
	f := newBarFixture(t)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	f.center.history = []api.HistoryItem{
		{CallRecord: api.CallRecord{CallID: "1", Type: "inbound", StartedAt: at(-1), DurationSec: 133}, Customer: "13800138000", Name: "张三", Group: "Sales"},
		{CallRecord: api.CallRecord{CallID: "2", Type: "inbound", StartedAt: at(-2)}, Customer: "13700137000", Missed: true, Group: "Sales"},
		{CallRecord: api.CallRecord{CallID: "3", Type: "outbound", StartedAt: at(-20), DurationSec: 61}, Customer: "13900139000"},
		{CallRecord: api.CallRecord{CallID: "4", Type: "inbound", StartedAt: at(-30)}, Customer: "1360013****", Missed: true},
	}
	f.register(t)
	f.parts.history.Load()
	f.parts.history.Wait()
	hist := f.v.tabs.Items[1]
	if hist.Text != "History (2)" {
		t.Errorf("tab %q, want the badge of 2 missed calls", hist.Text)
	}
	f.v.tabs.Select(hist)
	f.parts.history.Wait()
	if hist.Text != "History" {
		t.Errorf("tab %q after viewing", hist.Text)
	}
	if n := f.v.history.list.Length(); n != 6 {
		t.Errorf("%d rows", n)
	}
	test.AssertRendersToImage(t, "history.png", f.w.Canvas())

	// Call back the missed call from its row's button.
	var row *historyRow
	for _, o := range test.LaidOutObjects(f.v.history.list) {
		if r, ok := o.(*historyRow); ok && r.row.Number == "13700137000" {
			row = r
		}
	}
	if row == nil || row.number.Importance != widget.DangerImportance {
		t.Fatalf("missed row %+v not red", row)
	}
	f.m.Handle(vm.PhoneEvent{Kind: vm.EventRegistration, Reg: vm.RegRegistered})
	test.Tap(row.callBack)
	f.m.Close()
	if f.v.number.Text != "13700137000" || f.v.callInfo.Text != "Calling 13700137000…" {
		t.Errorf("call-back: number %q info %q", f.v.number.Text, f.v.callInfo.Text)
	}
}

func TestNotificationsOnlyInBackground(t *testing.T) {
	f := newBarFixture(t)
	s := &Shell{cfg: Config{App: fyne.CurrentApp()}, foreground: true}
	n := fyne.NewNotification("Incoming call", "13800138000")
	test.AssertNotificationSent(t, nil, func() { s.notify(n.Title, n.Content) })
	s.foreground = false
	test.AssertNotificationSent(t, n, func() { s.notify(n.Title, n.Content) })
	_ = f
}
