package ui

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/zalando/go-keyring"
	"go.uber.org/goleak"

	"github.com/agentphone/agentphone/audio"
	"github.com/agentphone/agentphone/callcenter/api"
	"github.com/agentphone/agentphone/ui/vm"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2025, 3, 4, 9, 30, 0, 0, time.UTC)

// barFixture is a phone bar in a test window with a frozen clock.
type barFixture struct {
	m      *vm.PhoneBarVM
	parts  *parts
	center *fakeCenter
	v      *phoneBarView
	pop    *incomingPop
	w      fyne.Window
	now    time.Time
	menu   *fyne.Menu
}

func newBarFixture(t *testing.T) *barFixture {
	a := test.NewTempApp(t)
	f := &barFixture{now: t0, center: &fakeCenter{}}
	clock := func() time.Time { return f.now }
	f.parts = &parts{
		status: vm.NewStatusVM(f.center, vm.WithStatusClock(clock),
			vm.WithStatusApplied(func(st api.AgentStatus) { f.m.ApplyStatus(st) })),
		pop: vm.NewPopVM(vm.WithPopClock(clock, time.UTC)),
		history: vm.NewHistoryVM(f.center, a.Preferences(), func(n string) { f.m.DialNumber(n) },
			vm.WithHistoryClock(clock, time.UTC)),
	}
	t.Cleanup(f.parts.status.Close)
	t.Cleanup(f.parts.history.Close)
	f.m = vm.NewPhoneBarVM(api.Agent{WorkNumber: "1001", Name: "Alice Wu"}, newFakePhone(),
		vm.WithClock(clock), vm.WithParts(f.parts.status, f.parts.pop, f.parts.history))
	t.Cleanup(f.m.Close)
	f.menu = fyne.NewMenu("", fyne.NewMenuItem("Audio settings…", nil))
	f.w = test.NewTempWindow(t, nil)
	f.v = newPhoneBarView(f.m, f.parts, func() *fyne.Menu { return f.menu }, f.w.Canvas)
	f.w.SetContent(f.v.content)
	f.pop = newIncomingPop(f.m, f.parts.pop, f.w.Canvas(), f.v.header)
	f.w.Resize(fyne.NewSize(400, 720))
	return f
}

func (f *barFixture) advance(d time.Duration) {
	f.now = f.now.Add(d)
	f.m.Tick()
}

// register registers the phone and gives the agent an idle status with
// today's figures and two groups, as callcenterd's snapshot does.
func (f *barFixture) register(t *testing.T) {
	f.m.Handle(vm.PhoneEvent{Kind: vm.EventRegistration, Reg: vm.RegRegistered})
	f.center.status = api.AgentStatus{Presence: "online", Phone: "idle", Since: f.now}
	f.m.HandleServer(serverEvent(t, api.EventSnapshot, f.now, api.Snapshot{
		Agent:    api.Agent{WorkNumber: "1001", Name: "Alice Wu"},
		Status:   &api.AgentStatus{Presence: "online", Phone: "idle", Since: f.now},
		Figures:  &api.Figures{TalkTimeSec: 1505, Calls: 12, BusyTotalSec: 2400, IdleTotalSec: 3130},
		Groups:   []api.Group{{Name: "sales", Label: "Sales", Waiting: 2, LongestWaitSec: 48, Idle: 1, Busy: 2, Talking: 3}, {Name: "vip", Label: "VIP", Idle: 2}},
		Statuses: []api.CustomStatus{{Name: "meeting", Label: "Meeting"}, {Name: "break", Label: "Break"}},
	}))
	f.advance(12 * time.Second)
}

func serverEvent(t *testing.T, typ string, at time.Time, v any) api.Event {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return api.Event{Type: typ, Time: at, Data: b}
}

func TestLoginWindowGolden(t *testing.T) {
	keyring.MockInit()
	a := test.NewTempApp(t)
	s := NewShell(Config{App: a, Connect: func(string) (vm.Backend, error) { return &fakeBackend{}, nil },
		Devices: fakeDevices{}, Tones: &fakeTones{}})
	t.Cleanup(s.Close)
	s.Window().Resize(fyne.NewSize(380, 480))
	test.AssertRendersToMarkup(t, "login.xml", s.Window().Canvas())
	test.AssertRendersToImage(t, "login.png", s.Window().Canvas())
}

func TestLoginWrongPasswordShowsMessage(t *testing.T) {
	keyring.MockInit()
	a := test.NewTempApp(t)
	started := 0
	s := NewShell(Config{App: a, Connect: func(string) (vm.Backend, error) { return &fakeBackend{work: "1001", pw: "right"}, nil },
		StartPhone: func(context.Context, vm.Session) (vm.Phone, func(), error) {
			started++
			return newFakePhone(), func() {}, nil
		},
		Devices: fakeDevices{}, Tones: &fakeTones{}})
	t.Cleanup(s.Close)
	lv := s.loginView
	test.Type(lv.work, "1001")
	test.Type(lv.password, "wrong")
	test.Tap(lv.submit)
	s.wg.Wait()
	if got := lv.errLabel.Text; got != "Wrong work number or password" {
		t.Errorf("error label = %q", got)
	}
	if !lv.errLabel.Visible() {
		t.Error("error label hidden")
	}
	if started != 0 || s.session != nil {
		t.Error("phone started after a failed login")
	}
	if lv.progress.Visible() || lv.submit.Disabled() {
		t.Error("login still shows progress")
	}
}

func TestLoginThenPhoneBarThenLogout(t *testing.T) {
	keyring.MockInit()
	a := test.NewTempApp(t)
	stopped := make(chan struct{})
	var gotSession vm.Session
	s := NewShell(Config{App: a, Connect: func(string) (vm.Backend, error) { return &fakeBackend{work: "1001", pw: "pw"}, nil },
		StartPhone: func(_ context.Context, sess vm.Session) (vm.Phone, func(), error) {
			gotSession = sess
			return newFakePhone(), func() { close(stopped) }, nil
		},
		Devices: fakeDevices{}, Tones: &fakeTones{},
		WorkNumber: "1001", Password: "pw", AutoLogin: true})
	t.Cleanup(s.Close)
	s.Show()
	s.wg.Wait()
	if s.session == nil {
		t.Fatal("no session after login")
	}
	if gotSession.Login.Agent.Name != "Alice" {
		t.Errorf("session %+v", gotSession)
	}
	if s.Window().Content() != s.session.view.content {
		t.Fatal("window does not show the phone bar")
	}
	if s.Window().Canvas().OnTypedRune() == nil {
		t.Error("keys typed in the phone window do not reach the bar (keyboard DTMF)")
	}
	if got := s.session.view.agent.Text; got != "Alice (1001)" {
		t.Errorf("agent label %q", got)
	}
	if got := s.session.view.status.Text; got != "Not signed in" {
		t.Errorf("status %q", got)
	}
	if !s.session.view.call.Disabled() {
		t.Error("Call enabled while not registered")
	}
	// Log out through the ☰ menu's action.
	s.logout(false)
	s.wg.Wait()
	select {
	case <-stopped:
	default:
		t.Error("phone not stopped at logout")
	}
	if s.Window().Content() != s.loginView.content {
		t.Error("window does not show the login form after logout")
	}
	if s.Window().Canvas().OnTypedRune() != nil {
		t.Error("keyboard DTMF still wired on the login form")
	}
	if got := s.loginView.password.Text; got != "" {
		t.Errorf("password kept after logout without remember: %q", got)
	}
}

func TestPhoneBarIdleGolden(t *testing.T) {
	f := newBarFixture(t)
	f.register(t)
	if f.v.status.Text != "Registered 00:12" {
		t.Errorf("status %q", f.v.status.Text)
	}
	if f.v.call.Disabled() || !f.v.hangup.Disabled() || !f.v.answer.Disabled() || !f.v.mute.Disabled() {
		t.Error("idle buttons wrong")
	}
	test.AssertRendersToMarkup(t, "phonebar_idle.xml", f.w.Canvas())
	test.AssertRendersToImage(t, "phonebar_idle.png", f.w.Canvas())
}

func TestDialPadTypesThenCalls(t *testing.T) {
	f := newBarFixture(t)
	f.register(t)
	for _, k := range []string{"1", "0", "0", "2"} {
		test.Tap(f.v.keys[k])
	}
	if f.v.number.Text != "1002" {
		t.Fatalf("number %q", f.v.number.Text)
	}
	test.Tap(f.v.backspace)
	test.Type(f.v.number, "3")
	if f.v.number.Text != "1003" {
		t.Fatalf("number %q", f.v.number.Text)
	}
	test.Tap(f.v.call)
	f.m.Close() // waits for the dial command
	if !f.v.call.Disabled() || f.v.hangup.Disabled() {
		t.Error("buttons not in calling state")
	}
	if f.v.callInfo.Text != "Calling 1003…" {
		t.Errorf("info %q", f.v.callInfo.Text)
	}
}

func TestIncomingPopGolden(t *testing.T) {
	f := newBarFixture(t)
	f.register(t)
	c := &fakeCall{dir: vm.Inbound, remote: "sip:pstn@127.0.0.1", state: vm.CallRinging,
		headers: map[string]string{vm.HeaderCaller: "13800138000", vm.HeaderNumber: "4008001234"}}
	f.m.Handle(vm.PhoneEvent{Kind: vm.EventCall, Call: c, State: vm.CallRinging})
	if !f.pop.popup.Visible() {
		t.Fatal("pop not shown")
	}
	if f.pop.caller.Text != "13800138000" || f.pop.center.Text != "via 4008001234" {
		t.Errorf("pop shows %q / %q", f.pop.caller.Text, f.pop.center.Text)
	}
	test.AssertRendersToMarkup(t, "incoming.xml", f.w.Canvas())
	test.AssertRendersToImage(t, "incoming.png", f.w.Canvas())

	test.Tap(f.pop.answer)
	f.m.Close()
	if ops := c.Ops(); len(ops) != 1 || ops[0] != "answer" {
		t.Errorf("ops %v", ops)
	}
	f.m.Handle(vm.PhoneEvent{Kind: vm.EventCall, Call: c, State: vm.CallActive})
	if f.pop.popup.Visible() {
		t.Error("pop still shown after answer")
	}
}

func TestIncomingPopReject(t *testing.T) {
	f := newBarFixture(t)
	f.register(t)
	c := &fakeCall{dir: vm.Inbound, remote: "2000", state: vm.CallRinging}
	f.m.Handle(vm.PhoneEvent{Kind: vm.EventCall, Call: c, State: vm.CallRinging})
	if f.pop.center.Visible() {
		t.Error("center line shown without a center number")
	}
	test.Tap(f.pop.reject)
	f.m.Close()
	if ops := c.Ops(); len(ops) != 1 || ops[0] != "reject" {
		t.Errorf("ops %v", ops)
	}
	f.m.Handle(vm.PhoneEvent{Kind: vm.EventCall, Call: c, State: vm.CallEnded})
	if f.pop.popup.Visible() || f.v.call.Disabled() {
		t.Error("bar not back to idle")
	}
}

func TestActiveCallGolden(t *testing.T) {
	f := newBarFixture(t)
	f.register(t)
	c := &fakeCall{dir: vm.Inbound, remote: "2000", state: vm.CallActive, answered: f.now,
		headers: map[string]string{vm.HeaderCaller: "13800138000"}}
	f.m.Handle(vm.PhoneEvent{Kind: vm.EventCall, Call: c, State: vm.CallActive})
	f.advance(83 * time.Second)
	// In a call the dial pad is folded away behind Keypad; Hang up
	// stays in the row pinned under the tab.
	if f.v.keypadOn || !f.v.inCall || f.v.hangup.Disabled() {
		t.Errorf("keypad shown %v, in call %v, hang-up disabled %v", f.v.keypadOn, f.v.inCall, f.v.hangup.Disabled())
	}
	for _, o := range f.v.phoneTab.Objects {
		if o == f.v.pad || o == f.v.numberRow {
			t.Error("dial pad or number field in the call's layout")
		}
	}
	test.Tap(f.v.mute)
	test.Tap(f.v.keypad)
	test.Tap(f.v.keys["1"])
	test.Tap(f.v.keys["#"])
	if f.v.callInfo.Text != "Talking 01:23 · 13800138000" {
		t.Errorf("info %q", f.v.callInfo.Text)
	}
	if f.v.mute.Text != "Unmute" || !c.Muted() {
		t.Errorf("mute button %q, muted %v", f.v.mute.Text, c.Muted())
	}
	if f.v.number.Text != "" || f.v.digits.Text != "DTMF 1#" {
		t.Errorf("number %q digits %q", f.v.number.Text, f.v.digits.Text)
	}
	test.AssertRendersToMarkup(t, "phonebar_active.xml", f.w.Canvas())
	test.AssertRendersToImage(t, "phonebar_active.png", f.w.Canvas())
	f.m.Close()
	if ops := c.Ops(); len(ops) != 2 || ops[0] != "dtmf 1" || ops[1] != "dtmf #" {
		t.Errorf("ops %v", ops)
	}
}

func TestAudioSettingsDialog(t *testing.T) {
	a := test.NewTempApp(t)
	tones := &fakeTones{}
	m := vm.NewAudioVM(a.Preferences(), fakeDevices{}, tones, nil)
	_ = m.Refresh()
	w := test.NewTempWindow(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v := newAudioView(ctx, m)
	w.SetContent(v.content)
	if got := v.mic.Options; len(got) != 2 || got[0] != "System default" || got[1] != "Headset" {
		t.Errorf("mic options %q", got)
	}
	if got := v.ringer.Options; len(got) != 3 {
		t.Errorf("ringer options %q", got)
	}
	v.speaker.SetSelected("Speakers")
	v.mic.SetSelected("Headset")
	if got := m.Selected(); got != (vm.AudioSettings{Mic: "Headset", Speaker: "Speakers"}) {
		t.Errorf("selected %+v", got)
	}
	m.Save()
	if a.Preferences().String(vm.PrefSpeaker) != "Speakers" {
		t.Error("not saved")
	}
}

func TestAudioSettingsGolden(t *testing.T) {
	a := test.NewTempApp(t)
	a.Preferences().SetString(vm.PrefMic, "Unplugged USB Headset")
	tones := &fakeTones{}
	m := vm.NewAudioVM(a.Preferences(), fakeDevices{}, tones, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var saved []vm.AudioSettings
	w := showAudioSettings(ctx, a, m, func(s vm.AudioSettings) { saved = append(saved, s) })
	if got, _ := m.Message.Get(); got == "" {
		t.Error("no message for the unplugged headset")
	}
	test.AssertRendersToMarkup(t, "audio.xml", w.Canvas())
	test.AssertRendersToImage(t, "audio.png", w.Canvas())

	// Pick the headset as speaker and save with the window's button.
	var save *widget.Button
	for _, o := range test.LaidOutObjects(w.Content()) {
		if b, ok := o.(*widget.Button); ok && b.Text == "Save" {
			save = b
		}
	}
	_ = m.Speaker.Set("Headset")
	test.Tap(save)
	if len(saved) != 1 || saved[0].Speaker != "Headset" || a.Preferences().String(vm.PrefSpeaker) != "Headset" {
		t.Errorf("saved %+v", saved)
	}
}

func TestTakeoverReturnsToLogin(t *testing.T) {
	keyring.MockInit()
	a := test.NewTempApp(t)
	events := make(chan api.Event)
	stopped := make(chan struct{})
	s := NewShell(Config{App: a,
		Connect: func(string) (vm.Backend, error) {
			return &fakeBackend{work: "1001", pw: "pw", events: events}, nil
		},
		StartPhone: func(context.Context, vm.Session) (vm.Phone, func(), error) {
			return newFakePhone(), func() { close(stopped) }, nil
		},
		Devices: fakeDevices{}, Tones: &fakeTones{},
		WorkNumber: "1001", Password: "pw", AutoLogin: true})
	t.Cleanup(s.Close)
	s.Show()
	s.wg.Wait()
	if s.session == nil {
		t.Fatal("not logged in")
	}
	events <- api.Event{Type: api.EventTakeover, Data: []byte(`{"device":"mobile","reason":"login from mobile"}`)}
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("phone not stopped after takeover")
	}
	s.wg.Wait()
	if s.session != nil || s.Window().Content() != s.loginView.content {
		t.Fatal("not back at the login form")
	}
	if got := s.loginView.errLabel.Text; got != "You were signed out: this account logged in on another device" {
		t.Errorf("error label %q", got)
	}
}

// noDevices is a host without a sound card: PortAudio lists nothing.
type noDevices struct{}

func (noDevices) Devices() ([]vm.DeviceInfo, error) { return nil, nil }

// TestNoSoundCardWarnsOnTheBar: on a host without audio devices the bar
// warns at login, before any call, and a call's headset is the silent one.
func TestNoSoundCardWarnsOnTheBar(t *testing.T) {
	keyring.MockInit()
	a := test.NewTempApp(t)
	h := vm.NewHeadset(a.Preferences(), noDevices{}, func(string, string) (audio.Device, error) {
		return nil, vm.ErrNoDevice
	}, nil)
	s := NewShell(Config{App: a, Connect: func(string) (vm.Backend, error) { return &fakeBackend{work: "1001", pw: "pw"}, nil },
		StartPhone: func(context.Context, vm.Session) (vm.Phone, func(), error) {
			return newFakePhone(), func() {}, nil
		},
		Devices: noDevices{}, Tones: &fakeTones{}, Headset: h,
		WorkNumber: "1001", Password: "pw", AutoLogin: true})
	t.Cleanup(s.Close)
	s.Show()
	s.wg.Wait()
	if s.session == nil {
		t.Fatal("not logged in")
	}
	v := s.session.view
	if got := v.audioNotice.Text; got != "No audio device found — calls have no sound" {
		t.Errorf("audio notice %q", got)
	}
	if !v.audioRow.Visible() {
		t.Error("audio notice hidden")
	}
	dev, err := h.Open()
	if err != nil {
		t.Fatalf("call would fail: %v", err)
	}
	dev.Close()
	s.session.bar.Handle(vm.PhoneEvent{Kind: vm.EventRegistration, Reg: vm.RegRegistered})
	if v.audioNotice.Text == "" || !v.audioRow.Visible() {
		t.Error("registering cleared the audio notice")
	}
	s.Window().Resize(fyne.NewSize(380, 600))
	test.AssertRendersToImage(t, "phonebar_noaudio.png", s.Window().Canvas())
}

// TestAudioNoticeHiddenWhenFine: with a headset there is no warning row.
func TestAudioNoticeHiddenWhenFine(t *testing.T) {
	f := newBarFixture(t)
	if f.v.audioRow.Visible() {
		t.Error("audio notice shown with no notice")
	}
}
