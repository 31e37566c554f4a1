package vm

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/agentphone/agentphone/callcenter/api"
)

type fakeCall struct {
	mu       sync.Mutex
	dir      Direction
	remote   string
	headers  map[string]string
	state    CallState
	muted    bool
	answered time.Time
	reason   string
	dtmf     string
	ops      []string
}

func (c *fakeCall) op(s string) {
	c.mu.Lock()
	c.ops = append(c.ops, s)
	c.mu.Unlock()
}
func (c *fakeCall) Answer(context.Context) error { c.op("answer"); return nil }
func (c *fakeCall) Reject(context.Context) error { c.op("reject"); return nil }
func (c *fakeCall) Hangup(context.Context) error { c.op("hangup"); return nil }
func (c *fakeCall) SetMute(m bool)               { c.mu.Lock(); c.muted = m; c.mu.Unlock() }
func (c *fakeCall) Muted() bool                  { c.mu.Lock(); defer c.mu.Unlock(); return c.muted }
func (c *fakeCall) SendDTMF(d string) error {
	c.mu.Lock()
	c.dtmf += d
	c.mu.Unlock()
	return nil
}
func (c *fakeCall) State() CallState       { c.mu.Lock(); defer c.mu.Unlock(); return c.state }
func (c *fakeCall) Remote() string         { return c.remote }
func (c *fakeCall) Header(n string) string { return c.headers[n] }
func (c *fakeCall) Direction() Direction   { return c.dir }
func (c *fakeCall) AnsweredAt() time.Time  { return c.answered }
func (c *fakeCall) EndReason() string      { return c.reason }
func (c *fakeCall) lastOps() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.ops...)
}

type fakePhone struct {
	events  chan PhoneEvent
	dial    func(ctx context.Context, target string) (Call, error)
	mu      sync.Mutex
	auto    bool
	dialled []string
}

func (p *fakePhone) Events() <-chan PhoneEvent { return p.events }
func (p *fakePhone) Dial(ctx context.Context, target string) (Call, error) {
	p.mu.Lock()
	p.dialled = append(p.dialled, target)
	p.mu.Unlock()
	return p.dial(ctx, target)
}
func (p *fakePhone) SetAutoAnswer(on bool) { p.mu.Lock(); p.auto = on; p.mu.Unlock() }

type fakeRinger struct{ on, starts int }

func (r *fakeRinger) StartRinging() { r.on++; r.starts++ }
func (r *fakeRinger) StopRinging()  { r.on-- }

// bar is a PhoneBarVM with a frozen clock.
type bar struct {
	*PhoneBarVM
	phone  *fakePhone
	ringer *fakeRinger
	now    time.Time
}

func newBar(t *testing.T) *bar {
	t.Helper()
	test.NewTempApp(t)
	b := &bar{phone: &fakePhone{events: make(chan PhoneEvent)}, ringer: &fakeRinger{}, now: time.Date(2025, 1, 2, 9, 0, 0, 0, time.UTC)}
	b.PhoneBarVM = NewPhoneBarVM(api.Agent{WorkNumber: "1001", Name: "Alice"}, b.phone,
		WithClock(func() time.Time { return b.now }), WithRinger(b.ringer))
	t.Cleanup(b.Close)
	return b
}

func (b *bar) register() { b.Handle(PhoneEvent{Kind: EventRegistration, Reg: RegRegistered}) }
func (b *bar) call(c Call, s CallState) {
	b.Handle(PhoneEvent{Kind: EventCall, Call: c, State: s})
}
func (b *bar) advance(d time.Duration) {
	b.now = b.now.Add(d)
	b.Tick()
}

// buttons is what the bar shows, compared as a whole in the tables.
type buttons struct {
	Call, Answer, Hangup, Mute, Incoming bool
}

func (b *bar) buttons(t *testing.T) buttons {
	return buttons{boolean(t, b.CanCall), boolean(t, b.CanAnswer), boolean(t, b.CanHangup), boolean(t, b.CanMute), boolean(t, b.Incoming)}
}

var (
	idleButtons    = buttons{Call: true}
	offlineButtons = buttons{}
	outButtons     = buttons{Hangup: true}
	ringButtons    = buttons{Answer: true, Hangup: true, Incoming: true}
	talkButtons    = buttons{Hangup: true, Mute: true}
)

func TestPhoneBarRegistration(t *testing.T) {
	b := newBar(t)
	if got := str(t, b.Agent); got != "Alice (1001)" {
		t.Errorf("agent = %q", got)
	}
	steps := []struct {
		ev      *PhoneEvent
		advance time.Duration
		status  string
		reg     bool
		buttons buttons
		msg     string
	}{
		{nil, 0, "Not signed in", false, offlineButtons, ""},
		{&PhoneEvent{Kind: EventRegistration, Reg: RegRegistering}, 0, "Signing in…", false, offlineButtons, ""},
		{&PhoneEvent{Kind: EventRegistration, Reg: RegRegistered}, 0, "Registered 00:00", true, idleButtons, ""},
		{nil, 12 * time.Second, "Registered 00:12", true, idleButtons, ""},
		// A refresh that stays registered does not restart the timer.
		{&PhoneEvent{Kind: EventRegistration, Reg: RegRegistered}, 61 * time.Minute, "Registered 1:01:12", true, idleButtons, ""},
		{&PhoneEvent{Kind: EventRegistration, Reg: RegFailed, Err: errors.New("403 Forbidden")}, 0, "Registration failed", false, offlineButtons, "Registration failed: 403 Forbidden"},
		{&PhoneEvent{Kind: EventRegistration, Reg: RegRegistered}, 5 * time.Second, "Registered 00:05", true, idleButtons, ""},
		{&PhoneEvent{Kind: EventRegistration, Reg: RegNone}, 0, "Not signed in", false, offlineButtons, ""},
	}
	for i, s := range steps {
		if s.ev != nil {
			b.Handle(*s.ev)
		}
		if s.advance > 0 {
			b.advance(s.advance)
		}
		if got := str(t, b.Status); got != s.status {
			t.Errorf("step %d: status = %q, want %q", i, got, s.status)
		}
		if got := boolean(t, b.Registered); got != s.reg {
			t.Errorf("step %d: registered = %v", i, got)
		}
		if got := b.buttons(t); got != s.buttons {
			t.Errorf("step %d: buttons = %+v, want %+v", i, got, s.buttons)
		}
		if got := str(t, b.Message); got != s.msg {
			t.Errorf("step %d: message = %q, want %q", i, got, s.msg)
		}
	}
}

func TestPhoneBarOutboundCall(t *testing.T) {
	type step struct {
		name    string
		do      func(b *bar, c *fakeCall)
		info    string
		buttons buttons
	}
	answered := time.Date(2025, 1, 2, 9, 0, 3, 0, time.UTC)
	steps := []step{
		{"idle", func(*bar, *fakeCall) {}, "", idleButtons},
		{"dial", func(b *bar, c *fakeCall) { b.Dial(); b.wg.Wait() }, "Calling 1002…", outButtons},
		{"early", func(b *bar, c *fakeCall) { b.call(c, CallEarly) }, "Ringing 1002…", outButtons},
		{"active", func(b *bar, c *fakeCall) {
			c.answered = answered
			b.now = answered
			b.call(c, CallActive)
		}, "Talking 00:00 · 1002", talkButtons},
		{"timer", func(b *bar, c *fakeCall) { b.advance(75 * time.Second) }, "Talking 01:15 · 1002", talkButtons},
		{"ended", func(b *bar, c *fakeCall) { c.reason = "remote hangup"; b.call(c, CallEnded) }, "", idleButtons},
	}
	b := newBar(t)
	b.register()
	c := &fakeCall{dir: Outbound, remote: "1002", state: CallDialing}
	b.phone.dial = func(context.Context, string) (Call, error) { return c, nil }
	_ = b.Number.Set("1002")
	for _, s := range steps {
		s.do(b, c)
		if got := str(t, b.CallInfo); got != s.info {
			t.Errorf("%s: info = %q, want %q", s.name, got, s.info)
		}
		if got := b.buttons(t); got != s.buttons {
			t.Errorf("%s: buttons = %+v, want %+v", s.name, got, s.buttons)
		}
	}
	if got := str(t, b.Message); got != "Call ended: remote hangup" {
		t.Errorf("message = %q", got)
	}
	if b.phone.dialled[0] != "1002" {
		t.Errorf("dialled %v", b.phone.dialled)
	}
	if b.ringer.starts != 0 {
		t.Error("ringer rang for an outbound call")
	}
}

func TestPhoneBarDialEdgeCases(t *testing.T) {
	t.Run("empty number", func(t *testing.T) {
		b := newBar(t)
		b.register()
		b.phone.dial = func(context.Context, string) (Call, error) { t.Error("dialled"); return nil, nil }
		b.Dial()
		if got := str(t, b.Message); got != "Enter a number to call" {
			t.Errorf("message = %q", got)
		}
	})
	t.Run("not registered", func(t *testing.T) {
		b := newBar(t)
		b.phone.dial = func(context.Context, string) (Call, error) { t.Error("dialled"); return nil, nil }
		_ = b.Number.Set("1002")
		b.Dial()
		b.wg.Wait()
		if got := b.buttons(t); got != offlineButtons {
			t.Errorf("buttons = %+v", got)
		}
	})
	t.Run("dial error", func(t *testing.T) {
		b := newBar(t)
		b.register()
		b.phone.dial = func(context.Context, string) (Call, error) { return nil, errors.New("486 Busy Here") }
		_ = b.Number.Set("1002")
		b.Dial()
		b.wg.Wait()
		if got := b.buttons(t); got != idleButtons {
			t.Errorf("buttons = %+v", got)
		}
		if got := str(t, b.Message); got != "Call failed: 486 Busy Here" {
			t.Errorf("message = %q", got)
		}
	})
	t.Run("hang up while dial blocks", func(t *testing.T) {
		b := newBar(t)
		b.register()
		entered := make(chan struct{})
		b.phone.dial = func(ctx context.Context, _ string) (Call, error) {
			close(entered)
			<-ctx.Done()
			return nil, ctx.Err()
		}
		_ = b.Number.Set("1002")
		b.Dial()
		<-entered
		if got := b.buttons(t); got != outButtons {
			t.Errorf("buttons while dialling = %+v", got)
		}
		b.Hangup()
		b.wg.Wait()
		if got := b.buttons(t); got != idleButtons {
			t.Errorf("buttons after cancel = %+v", got)
		}
		if got := str(t, b.Message); got != "" {
			t.Errorf("cancel reported as failure: %q", got)
		}
	})
	t.Run("events before dial returns", func(t *testing.T) {
		b := newBar(t)
		b.register()
		c := &fakeCall{dir: Outbound, remote: "1002"}
		release := make(chan struct{})
		b.phone.dial = func(ctx context.Context, _ string) (Call, error) { <-release; return c, nil }
		_ = b.Number.Set("1002")
		b.Dial()
		b.call(c, CallEarly)
		if got := str(t, b.CallInfo); got != "Ringing 1002…" {
			t.Errorf("info = %q", got)
		}
		c.state = CallActive
		b.call(c, CallActive)
		close(release)
		b.wg.Wait()
		if got := b.buttons(t); got != talkButtons {
			t.Errorf("buttons = %+v", got)
		}
		b.Hangup()
		b.wg.Wait()
		if ops := c.lastOps(); len(ops) != 1 || ops[0] != "hangup" {
			t.Errorf("ops = %v", ops)
		}
	})
}

func TestPhoneBarIncoming(t *testing.T) {
	tests := []struct {
		name       string
		headers    map[string]string
		auto       bool
		act        func(b *bar)
		wantOp     string
		next       CallState
		caller     string
		center     string
		wantRinger int
	}{
		{"answer", map[string]string{HeaderCaller: "13800138000", HeaderNumber: "4008001234"}, false, (*bar).Answer, "answer", CallActive, "13800138000", "4008001234", 1},
		{"reject", map[string]string{HeaderCaller: "13800138000"}, false, (*bar).Reject, "reject", CallEnded, "13800138000", "", 1},
		{"hang up rejects", nil, false, (*bar).Hangup, "reject", CallEnded, "sip:2000@127.0.0.1", "", 1},
		{"auto answer does not ring", nil, true, func(*bar) {}, "", CallActive, "sip:2000@127.0.0.1", "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBar(t)
			b.register()
			b.SetAutoAnswer(tc.auto)
			if b.phone.auto != tc.auto {
				t.Fatal("auto-answer not passed to the phone")
			}
			c := &fakeCall{dir: Inbound, remote: "sip:2000@127.0.0.1", headers: tc.headers, state: CallRinging}
			b.call(c, CallRinging)
			if got := b.buttons(t); got != ringButtons {
				t.Errorf("ringing buttons = %+v", got)
			}
			if got := str(t, b.CallerNumber); got != tc.caller {
				t.Errorf("caller = %q, want %q", got, tc.caller)
			}
			if got := str(t, b.CenterNumber); got != tc.center {
				t.Errorf("center = %q, want %q", got, tc.center)
			}
			if b.ringer.starts != tc.wantRinger || b.ringer.on != tc.wantRinger {
				t.Errorf("ringer starts=%d on=%d", b.ringer.starts, b.ringer.on)
			}
			tc.act(b)
			b.wg.Wait()
			if b.ringer.on != 0 {
				t.Error("ringer still on after the agent acted")
			}
			if ops := c.lastOps(); tc.wantOp != "" && (len(ops) != 1 || ops[0] != tc.wantOp) {
				t.Errorf("ops = %v, want %s", ops, tc.wantOp)
			}
			b.call(c, tc.next)
			want := talkButtons
			if tc.next == CallEnded {
				want = idleButtons
			}
			if got := b.buttons(t); got != want {
				t.Errorf("buttons after %s = %+v, want %+v", tc.next, got, want)
			}
			if tc.next == CallActive && str(t, b.CallInfo) == "" {
				t.Error("no call info while talking")
			}
			if str(t, b.CallerNumber) != "" {
				t.Error("pop data left after ringing")
			}
		})
	}
}

func TestPhoneBarSecondCallIgnoredWhileBusy(t *testing.T) {
	b := newBar(t)
	b.register()
	first := &fakeCall{dir: Inbound, remote: "A"}
	second := &fakeCall{dir: Inbound, remote: "B"}
	b.call(first, CallActive)
	b.call(second, CallRinging)
	if got := b.buttons(t); got != talkButtons {
		t.Errorf("buttons = %+v", got)
	}
	b.call(second, CallEnded)
	if got := b.buttons(t); got != talkButtons {
		t.Errorf("second call's end ended the first: %+v", got)
	}
	// The remote side hangs up before answer: the pop goes away.
	b.call(first, CallEnded)
	b.call(second, CallRinging)
	b.call(second, CallEnded)
	if got := b.buttons(t); got != idleButtons || b.ringer.on != 0 {
		t.Errorf("after missed call: %+v ringer=%d", got, b.ringer.on)
	}
}

func TestPhoneBarMuteAndDTMF(t *testing.T) {
	b := newBar(t)
	b.register()
	c := &fakeCall{dir: Inbound, remote: "A"}
	b.call(c, CallRinging)
	b.ToggleMute() // not active: no effect
	if c.Muted() || boolean(t, b.Muted) {
		t.Fatal("muted a ringing call")
	}
	b.Key("5") // ringing: neither DTMF nor number field
	b.call(c, CallActive)
	for i, want := range []bool{true, false, true} {
		b.ToggleMute()
		if c.Muted() != want || boolean(t, b.Muted) != want {
			t.Errorf("toggle %d: call muted %v, binding %v, want %v", i, c.Muted(), boolean(t, b.Muted), want)
		}
	}
	for _, k := range []string{"1", "#", "*"} {
		b.Key(k)
	}
	b.wg.Wait()
	if c.dtmf != "1#*" || str(t, b.Digits) != "1#*" {
		t.Errorf("dtmf = %q, digits = %q", c.dtmf, str(t, b.Digits))
	}
	if str(t, b.Number) != "" {
		t.Errorf("keys in a call went to the number field: %q", str(t, b.Number))
	}
	b.call(c, CallEnded)
	if boolean(t, b.Muted) {
		t.Error("mute survives the call")
	}
	for _, k := range DialPadKeys {
		b.Key(k)
	}
	b.Backspace()
	if got := str(t, b.Number); got != "123456789*0" {
		t.Errorf("number = %q", got)
	}
}

func TestPhoneBarServerEvents(t *testing.T) {
	b := newBar(t)
	b.register()
	raw := func(v any) json.RawMessage { j, _ := json.Marshal(v); return j }
	b.HandleServer(api.Event{Type: api.EventSnapshot, Data: raw(api.Snapshot{Agent: api.Agent{WorkNumber: "1001", Name: "Alice Wu"}})})
	if got := str(t, b.Agent); got != "Alice Wu (1001)" {
		t.Errorf("agent = %q", got)
	}
	c := &fakeCall{dir: Inbound, remote: "A"}
	b.call(c, CallRinging)
	b.HandleServer(api.Event{Type: api.EventCall, Data: raw(api.Call{State: "ringing", Number: "4008001234"})})
	if got := str(t, b.CenterNumber); got != "4008001234" {
		t.Errorf("center from server = %q", got)
	}
	var reason string
	b.onSignedOut = func(r string) { reason = r }
	b.HandleServer(api.Event{Type: api.EventTakeover, Data: raw(api.Takeover{Reason: "login from mobile"})})
	if reason != "login from mobile" {
		t.Errorf("signed-out reason = %q", reason)
	}
	if got := str(t, b.Status); got != "Not signed in" {
		t.Errorf("status = %q", got)
	}
}

func TestPhoneBarRunFollowsEvents(t *testing.T) {
	test.NewTempApp(t)
	p := &fakePhone{events: make(chan PhoneEvent)}
	se := make(chan api.Event)
	m := NewPhoneBarVM(api.Agent{WorkNumber: "1"}, p, WithServerEvents(se), WithTick(time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	p.events <- PhoneEvent{Kind: EventRegistration, Reg: RegRegistered}
	se <- api.Event{Type: api.EventSnapshot, Data: json.RawMessage(`{"agent":{"work_number":"1","name":"Bo"}}`)}
	close(se)
	deadline := time.Now().Add(5 * time.Second)
	for str(t, m.Agent) != "Bo (1)" || !boolean(t, m.Registered) {
		if time.Now().After(deadline) {
			t.Fatal("Run did not apply events")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	m.Close()
}

func TestClock(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "00:00", -time.Second: "00:00", 59 * time.Second: "00:59", 61 * time.Second: "01:01",
		time.Hour: "1:00:00", 25*time.Hour + 62*time.Second: "25:01:02",
	} {
		if got := Clock(d); got != want {
			t.Errorf("Clock(%v) = %q, want %q", d, got, want)
		}
	}
}

// recPart records what the bar hands its parts.
type recPart struct{ calls, server, ticks int }

func (p *recPart) HandleCall(PhoneEvent)  { p.calls++ }
func (p *recPart) HandleServer(api.Event) { p.server++ }
func (p *recPart) Tick()                  { p.ticks++ }

func TestPhoneBarStatusAndParts(t *testing.T) {
	test.NewTempApp(t)
	p := &recPart{}
	ph := &fakePhone{events: make(chan PhoneEvent), dial: func(_ context.Context, target string) (Call, error) {
		return &fakeCall{dir: Outbound, remote: target, state: CallDialing}, nil
	}}
	m := NewPhoneBarVM(api.Agent{WorkNumber: "1001"}, ph, WithParts(p))
	t.Cleanup(m.Close)
	m.Handle(PhoneEvent{Kind: EventRegistration, Reg: RegRegistered})
	m.HandleServer(api.Event{Type: api.EventFigures, Data: []byte(`{}`)})
	m.Tick()
	if *p != (recPart{1, 1, 1}) {
		t.Errorf("parts got %+v", *p)
	}
	for _, tc := range []struct {
		st      api.AgentStatus
		canCall bool
		status  string
		auto    bool
	}{
		{api.AgentStatus{Presence: "offline", AutoAnswer: false}, false, "Not signed in", false},
		{api.AgentStatus{Presence: "online", Phone: "busy", AutoAnswer: true}, true, "Registered 00:00", true},
		{api.AgentStatus{Presence: "custom", Custom: "meeting"}, true, "Registered 00:00", false},
	} {
		m.ApplyStatus(tc.st)
		ph.mu.Lock()
		auto := ph.auto
		ph.mu.Unlock()
		if boolean(t, m.CanCall) != tc.canCall || str(t, m.Status) != tc.status || auto != tc.auto || boolean(t, m.AutoAnswer) != tc.auto {
			t.Errorf("%+v: can call %v status %q phone auto %v", tc.st, boolean(t, m.CanCall), str(t, m.Status), auto)
		}
	}
	m.ApplyStatus(api.AgentStatus{Presence: "offline"})
	m.DialNumber("13800138000")
	m.wg.Wait()
	if len(ph.dialled) != 0 || str(t, m.Message) != "You are offline: choose a status to make calls" {
		t.Errorf("offline dialled %v, message %q", ph.dialled, str(t, m.Message))
	}
	m.ApplyStatus(api.AgentStatus{Presence: "online", Phone: "busy"})
	m.DialNumber("13800138000")
	m.wg.Wait()
	if !reflect.DeepEqual(ph.dialled, []string{"13800138000"}) || str(t, m.Number) != "13800138000" {
		t.Errorf("call-back dialled %v", ph.dialled)
	}
	m.DialNumber("110")
	if str(t, m.Message) != "Finish the current call first" {
		t.Errorf("second call-back message %q", str(t, m.Message))
	}
}
