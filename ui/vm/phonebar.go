package vm

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/lang"

	"github.com/agentphone/agentphone/callcenter/api"
)

// Header names the server puts on calls it offers to agents.
const (
	HeaderCaller = "X-Caller" // the customer's number
	HeaderNumber = "X-Number" // the center number (DID) the customer called
)

// DialPadKeys are the keys of the dial pad, in layout order.
var DialPadKeys = [...]string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"}

// PhoneBarVM is the state of the main window (电话条). Everything the widgets
// show is a binding; everything they do is a method. Methods that would block
// on the network run in goroutines owned by the view-model; Close waits for them.
type PhoneBarVM struct {
	Agent  binding.String // "Name (1001)"
	Status binding.String // "Registered 00:12", "Not signed in"...
	// Registered drives the status indicator's colour.
	Registered binding.Bool
	Number     binding.String // the number field
	CallInfo   binding.String // "Calling 1002…", "Talking 00:42 · 1002", "" when idle
	Message    binding.String // last error or notice, "" when none
	Digits     binding.String // DTMF sent during the current call
	// AudioNotice warns about the headset (none found, unplugged), "" when
	// all is well. It outlives calls and errors, unlike Message.
	AudioNotice binding.String

	CanCall    binding.Bool
	CanAnswer  binding.Bool
	CanHangup  binding.Bool
	CanMute    binding.Bool
	Muted      binding.Bool
	AutoAnswer binding.Bool

	// Incoming is true while an offered call waits for Answer or Reject;
	// the UI shows the incoming-call pop from it.
	Incoming     binding.Bool
	CallerNumber binding.String
	CenterNumber binding.String

	phone  Phone
	ringer Ringer
	events <-chan api.Event
	log    *slog.Logger
	now    func() time.Time
	tick   time.Duration

	onSignedOut func(reason string)
	parts       []Part

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu         sync.Mutex
	reg        RegState
	regSince   time.Time
	cur        Call      // the call on the bar, nil when idle
	state      CallState // state of cur as last reported
	dialing    bool      // Dial in flight, cur may still be nil
	dialCancel context.CancelFunc
	ringing    bool // ringer started for cur
	dtmf       []dtmfKey
	dtmfBusy   bool // a goroutine is draining dtmf
	offline    bool // the server has the agent offline: no calls out
}

// Part is a view-model that follows the bar's events: the status
// drop-down, the screen pop, the history. The bar hands each of them every
// phone event, every server event and every tick, after its own handling
// and outside its lock.
type Part interface {
	HandleCall(PhoneEvent)
	HandleServer(api.Event)
	Tick()
}

// PhoneBarOption configures a PhoneBarVM.
type PhoneBarOption func(*PhoneBarVM)

// WithClock replaces time.Now (tests freeze time with it).
func WithClock(now func() time.Time) PhoneBarOption { return func(m *PhoneBarVM) { m.now = now } }

// WithRinger plays the ringtone while a call is offered.
func WithRinger(r Ringer) PhoneBarOption { return func(m *PhoneBarVM) { m.ringer = r } }

// WithServerEvents feeds the call-center event stream into the bar
// (snapshots, takeover by another login).
func WithServerEvents(c <-chan api.Event) PhoneBarOption {
	return func(m *PhoneBarVM) { m.events = c }
}

// WithAudioNotice shows n (Headset.Notice) as the bar's AudioNotice.
func WithAudioNotice(n binding.String) PhoneBarOption {
	return func(m *PhoneBarVM) { m.AudioNotice = n }
}

// WithParts adds view-models that follow the bar's events.
func WithParts(p ...Part) PhoneBarOption {
	return func(m *PhoneBarVM) { m.parts = append(m.parts, p...) }
}

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) PhoneBarOption { return func(m *PhoneBarVM) { m.log = l } }

// WithTick sets how often the timers refresh (default one second).
func WithTick(d time.Duration) PhoneBarOption { return func(m *PhoneBarVM) { m.tick = d } }

// WithSignedOut is called (from the VM's goroutine) when the server ends the
// session, e.g. because the agent logged in on another device.
func WithSignedOut(f func(reason string)) PhoneBarOption {
	return func(m *PhoneBarVM) { m.onSignedOut = f }
}

// NewPhoneBarVM makes the bar for a logged-in agent. Call Run to follow the
// phone's events and Close when the bar goes away.
func NewPhoneBarVM(agent api.Agent, p Phone, opts ...PhoneBarOption) *PhoneBarVM {
	m := &PhoneBarVM{
		Agent:        binding.NewString(),
		Status:       binding.NewString(),
		Registered:   binding.NewBool(),
		Number:       binding.NewString(),
		CallInfo:     binding.NewString(),
		Message:      binding.NewString(),
		Digits:       binding.NewString(),
		AudioNotice:  binding.NewString(),
		CanCall:      binding.NewBool(),
		CanAnswer:    binding.NewBool(),
		CanHangup:    binding.NewBool(),
		CanMute:      binding.NewBool(),
		Muted:        binding.NewBool(),
		AutoAnswer:   binding.NewBool(),
		Incoming:     binding.NewBool(),
		CallerNumber: binding.NewString(),
		CenterNumber: binding.NewString(),
		phone:        p,
		log:          slog.New(slog.DiscardHandler),
		now:          time.Now,
		tick:         time.Second,
	}
	for _, o := range opts {
		o(m)
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.setAgent(agent)
	m.mu.Lock()
	m.render()
	m.mu.Unlock()
	return m
}

func (m *PhoneBarVM) setAgent(a api.Agent) {
	if a.Name != "" {
		_ = m.Agent.Set(fmt.Sprintf("%s (%s)", a.Name, a.WorkNumber))
	} else {
		_ = m.Agent.Set(a.WorkNumber)
	}
}

// Run follows the phone's events, the server's events and the clock until
// ctx ends or Close is called.
func (m *PhoneBarVM) Run(ctx context.Context) {
	t := time.NewTicker(m.tick)
	defer t.Stop()
	pe := m.phone.Events()
	se := m.events
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.ctx.Done():
			return
		case ev, ok := <-pe:
			if !ok {
				pe = nil
				continue
			}
			m.Handle(ev)
		case ev, ok := <-se:
			if !ok {
				se = nil
				continue
			}
			m.HandleServer(ev)
		case <-t.C:
			m.Tick()
		}
	}
}

// Close stops the ringer, cancels commands in flight and waits for them.
// It does not hang up: the phone's Close does that.
func (m *PhoneBarVM) Close() {
	m.cancel()
	m.wg.Wait()
	m.mu.Lock()
	m.stopRinging()
	m.mu.Unlock()
}

// go runs f on a goroutine owned by the view-model.
func (m *PhoneBarVM) goCmd(f func(ctx context.Context)) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		f(m.ctx)
	}()
}

func (m *PhoneBarVM) fail(what string, err error) {
	m.log.Warn(what, "err", err)
	_ = m.Message.Set(lang.L("{{.What}} failed: {{.Error}}", map[string]any{"What": lang.L(what), "Error": err.Error()}))
}

// Dial calls the number in the number field.
func (m *PhoneBarVM) Dial() {
	target, _ := m.Number.Get()
	target = strings.TrimSpace(target)
	m.mu.Lock()
	if target == "" {
		m.mu.Unlock()
		_ = m.Message.Set(lang.L("Enter a number to call"))
		return
	}
	if m.cur != nil || m.dialing || m.reg != RegRegistered {
		m.mu.Unlock()
		return
	}
	if m.offline {
		m.mu.Unlock()
		_ = m.Message.Set(lang.L("You are offline: choose a status to make calls"))
		return
	}
	m.dialing = true
	dctx, cancel := context.WithCancel(m.ctx)
	m.dialCancel = cancel
	m.state = CallDialing
	_ = m.Message.Set("")
	_ = m.Digits.Set("")
	m.render()
	m.mu.Unlock()

	m.goCmd(func(context.Context) {
		defer cancel()
		c, err := m.phone.Dial(dctx, target)
		m.mu.Lock()
		defer m.mu.Unlock()
		m.dialing = false
		m.dialCancel = nil
		if err != nil {
			if m.cur == nil {
				m.state = CallEnded
			}
			m.render()
			if dctx.Err() == nil {
				m.fail("Call", err)
			}
			return
		}
		if m.cur == nil {
			m.cur = c
			m.state = c.State()
		}
		if m.state == CallEnded && m.cur == c {
			m.endCall(c)
		}
		m.render()
	})
}

// Answer takes the offered call.
func (m *PhoneBarVM) Answer() {
	m.mu.Lock()
	c := m.cur
	if c == nil || m.state != CallRinging {
		m.mu.Unlock()
		return
	}
	m.stopRinging()
	m.mu.Unlock()
	m.goCmd(func(ctx context.Context) {
		if err := c.Answer(ctx); err != nil {
			m.fail("Answer", err)
		}
	})
}

// Reject declines the offered call.
func (m *PhoneBarVM) Reject() {
	m.mu.Lock()
	c := m.cur
	if c == nil || m.state != CallRinging {
		m.mu.Unlock()
		return
	}
	m.stopRinging()
	m.mu.Unlock()
	m.goCmd(func(ctx context.Context) {
		if err := c.Reject(ctx); err != nil {
			m.fail("Reject", err)
		}
	})
}

// Hangup ends the call whatever its state: it cancels a dial in flight,
// rejects an offered call and hangs up an active one.
func (m *PhoneBarVM) Hangup() {
	m.mu.Lock()
	c, st := m.cur, m.state
	if m.dialing && m.dialCancel != nil {
		// Dial is still waiting for an answer: cancelling its context makes
		// the phone send CANCEL, which is the right way to abandon an INVITE.
		m.dialCancel()
		m.mu.Unlock()
		return
	}
	m.mu.Unlock()
	if c == nil {
		return
	}
	if st == CallRinging {
		m.Reject()
		return
	}
	m.goCmd(func(ctx context.Context) {
		if err := c.Hangup(ctx); err != nil {
			m.fail("Hang up", err)
		}
	})
}

// ToggleMute mutes or unmutes the microphone in the active call.
func (m *PhoneBarVM) ToggleMute() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cur == nil || m.state != CallActive {
		return
	}
	m.cur.SetMute(!m.cur.Muted())
	_ = m.Muted.Set(m.cur.Muted())
}

// Key handles a dial-pad key: in an active call it sends DTMF, otherwise it
// types into the number field.
func (m *PhoneBarVM) Key(k string) {
	if m.sendKey(k) {
		return
	}
	m.mu.Lock()
	busy := m.cur != nil || m.dialing
	m.mu.Unlock()
	if busy {
		return
	}
	n, _ := m.Number.Get()
	_ = m.Number.Set(n + k)
}

// KeyboardDTMF handles a character typed on the keyboard while no text
// field has focus: during an active call 0-9 * # (the top row or the
// numeric keypad) send DTMF exactly as the keypad's buttons do, without
// opening it. Anything else, or no active call, is ignored (the number
// field takes digits only when it has focus, so that a stray key between
// calls dials nothing); it reports whether the key was sent.
func (m *PhoneBarVM) KeyboardDTMF(r rune) bool {
	if !strings.ContainsRune(keyboardDTMF, r) {
		return false
	}
	return m.sendKey(string(r))
}

// sendKey queues k as DTMF on the active call, if there is one: the check
// and the queueing under one lock, so a key typed as the call ends is
// dropped rather than typed into the number field.
func (m *PhoneBarVM) sendKey(k string) bool {
	m.mu.Lock()
	c := m.cur
	if c == nil || m.state != CallActive {
		m.mu.Unlock()
		return false
	}
	m.dtmf = append(m.dtmf, dtmfKey{c, k})
	if !m.dtmfBusy {
		m.dtmfBusy = true
		m.goCmd(m.sendDTMF)
	}
	m.mu.Unlock()
	d, _ := m.Digits.Get()
	_ = m.Digits.Set(d + k)
	return true
}

// keyboardDTMF are the keys a keyboard sends as DTMF (A-D are letters the
// agent types in words, not tones).
const keyboardDTMF = "0123456789*#"

type dtmfKey struct {
	call Call
	key  string
}

// sendDTMF sends queued keys one after the other: an RFC 4733 event lasts
// tens of milliseconds, and keys sent from parallel goroutines would
// arrive out of order.
func (m *PhoneBarVM) sendDTMF(ctx context.Context) {
	for {
		m.mu.Lock()
		if len(m.dtmf) == 0 || ctx.Err() != nil {
			m.dtmf = nil
			m.dtmfBusy = false
			m.mu.Unlock()
			return
		}
		k := m.dtmf[0]
		m.dtmf = m.dtmf[1:]
		m.mu.Unlock()
		if err := k.call.SendDTMF(k.key); err != nil {
			m.fail("DTMF", err)
		}
	}
}

// Backspace removes the last character of the number field.
func (m *PhoneBarVM) Backspace() {
	n, _ := m.Number.Get()
	if n == "" {
		return
	}
	r := []rune(n)
	_ = m.Number.Set(string(r[:len(r)-1]))
}

// SetAutoAnswer switches auto-answer on or off.
func (m *PhoneBarVM) SetAutoAnswer(on bool) {
	_ = m.AutoAnswer.Set(on)
	m.phone.SetAutoAnswer(on)
}

// Tick refreshes the timers (registration and call); Run calls it every tick.
func (m *PhoneBarVM) Tick() {
	m.mu.Lock()
	m.render()
	m.mu.Unlock()
	for _, p := range m.parts {
		p.Tick()
	}
}

// ApplyStatus follows the agent's status on the server: its auto-answer
// switch drives the phone's, and offline forbids calling out (SPEC §2).
func (m *PhoneBarVM) ApplyStatus(st api.AgentStatus) {
	_ = m.AutoAnswer.Set(st.AutoAnswer)
	m.phone.SetAutoAnswer(st.AutoAnswer)
	m.mu.Lock()
	m.offline = st.Presence == presenceOffline
	m.render()
	m.mu.Unlock()
}

// DialNumber puts number in the number field and calls it (call-back).
func (m *PhoneBarVM) DialNumber(number string) {
	m.mu.Lock()
	busy := m.cur != nil || m.dialing
	m.mu.Unlock()
	if busy {
		_ = m.Message.Set(lang.L("Finish the current call first"))
		return
	}
	_ = m.Number.Set(number)
	m.Dial()
}

// Handle applies one phone event. Run calls it for every event of the
// phone; it is exported so that callers (and tests) can apply events
// synchronously.
func (m *PhoneBarVM) Handle(ev PhoneEvent) {
	m.handle(ev)
	for _, p := range m.parts {
		p.HandleCall(ev)
	}
}

func (m *PhoneBarVM) handle(ev PhoneEvent) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch ev.Kind {
	case EventRegistration:
		if ev.Reg != m.reg {
			m.reg = ev.Reg
			m.regSince = m.now()
		}
		if ev.Reg == RegFailed && ev.Err != nil {
			_ = m.Message.Set(lang.L("Registration failed: {{.Error}}", map[string]any{"Error": ev.Err.Error()}))
		} else if ev.Reg == RegRegistered {
			_ = m.Message.Set("")
		}
	case EventCall:
		c := ev.Call
		if c == nil {
			return
		}
		switch {
		case m.cur == c:
		case m.cur == nil && m.dialing && c.Direction() == Outbound:
			// The phone reported our outgoing call before Dial returned.
			m.cur = c
		case m.cur == nil && ev.State != CallEnded:
			m.cur = c
			_ = m.Message.Set("")
			_ = m.Digits.Set("")
		default:
			// Another call while we are busy: the phone answers it (busy
			// here or queue elsewhere); the bar stays on its call.
			return
		}
		m.state = ev.State
		if ev.State == CallEnded {
			m.endCall(c)
		}
	}
	m.render()
}

// endCall returns the bar to idle after c ended. Call with mu held.
func (m *PhoneBarVM) endCall(c Call) {
	if r := c.EndReason(); r != "" {
		_ = m.Message.Set(lang.L("Call ended: {{.Reason}}", map[string]any{"Reason": r}))
	}
	m.cur = nil
	m.dialing = false
	_ = m.Muted.Set(false)
}

// HandleServer applies one event of the call-center stream.
func (m *PhoneBarVM) HandleServer(ev api.Event) {
	m.handleServer(ev)
	for _, p := range m.parts {
		p.HandleServer(ev)
	}
}

func (m *PhoneBarVM) handleServer(ev api.Event) {
	switch ev.Type {
	case api.EventSnapshot:
		var s api.Snapshot
		if err := json.Unmarshal(ev.Data, &s); err != nil {
			m.log.Warn("bad snapshot", "err", err)
			return
		}
		m.setAgent(s.Agent)
	case api.EventTakeover:
		var t api.Takeover
		_ = json.Unmarshal(ev.Data, &t)
		_ = m.Message.Set(lang.L("You were signed out: this account logged in on another device"))
		m.mu.Lock()
		m.reg = RegNone
		m.regSince = m.now()
		m.render()
		m.mu.Unlock()
		if m.onSignedOut != nil {
			m.onSignedOut(t.Reason)
		}
	case api.EventCall:
		// The server knows the center number even when the SIP header was
		// stripped on the way; fill the pop from it.
		var c api.Call
		if err := json.Unmarshal(ev.Data, &c); err != nil || c.Number == "" || c.State != "ringing" {
			return
		}
		m.mu.Lock()
		if m.cur != nil && m.state == CallRinging {
			if n, _ := m.CenterNumber.Get(); n == "" {
				_ = m.CenterNumber.Set(c.Number)
			}
		}
		m.mu.Unlock()
	}
}

func (m *PhoneBarVM) startRinging() {
	if m.ringing || m.ringer == nil {
		return
	}
	m.ringing = true
	m.ringer.StartRinging()
}

func (m *PhoneBarVM) stopRinging() {
	if !m.ringing {
		return
	}
	m.ringing = false
	m.ringer.StopRinging()
}

// render writes every binding from the current state. Call with mu held.
func (m *PhoneBarVM) render() {
	now := m.now()
	switch {
	case m.offline:
		_ = m.Status.Set(lang.L("Not signed in"))
	case m.reg == RegRegistered:
		_ = m.Status.Set(lang.L("Registered {{.Time}}", map[string]any{"Time": Clock(now.Sub(m.regSince))}))
	case m.reg == RegRegistering:
		_ = m.Status.Set(lang.L("Signing in…"))
	case m.reg == RegFailed:
		_ = m.Status.Set(lang.L("Registration failed"))
	default:
		_ = m.Status.Set(lang.L("Not signed in"))
	}
	_ = m.Registered.Set(m.reg == RegRegistered)

	idle := m.cur == nil && !m.dialing
	ringing := m.cur != nil && m.state == CallRinging
	active := m.cur != nil && m.state == CallActive
	_ = m.CanCall.Set(idle && m.reg == RegRegistered && !m.offline)
	_ = m.CanAnswer.Set(ringing)
	_ = m.CanHangup.Set(!idle)
	_ = m.CanMute.Set(active)
	_ = m.Incoming.Set(ringing)
	if ringing {
		if caller := m.cur.Header(HeaderCaller); caller != "" {
			_ = m.CallerNumber.Set(caller)
		} else {
			_ = m.CallerNumber.Set(m.cur.Remote())
		}
		if n := m.cur.Header(HeaderNumber); n != "" {
			_ = m.CenterNumber.Set(n)
		}
		if auto, _ := m.AutoAnswer.Get(); !auto {
			m.startRinging()
		}
	} else {
		m.stopRinging()
		_ = m.CenterNumber.Set("")
		_ = m.CallerNumber.Set("")
	}

	var info string
	switch {
	case idle:
	case m.cur == nil: // dial in flight
		number, _ := m.Number.Get()
		info = lang.L("Calling {{.Number}}…", map[string]any{"Number": number})
	case m.state == CallDialing:
		info = lang.L("Calling {{.Number}}…", map[string]any{"Number": m.cur.Remote()})
	case m.state == CallEarly:
		info = lang.L("Ringing {{.Number}}…", map[string]any{"Number": m.cur.Remote()})
	case m.state == CallRinging:
		info = lang.L("Incoming call from {{.Number}}", map[string]any{"Number": peer(m.cur)})
	case m.state == CallActive:
		since := m.cur.AnsweredAt()
		if since.IsZero() {
			since = now
		}
		info = lang.L("Talking {{.Time}} · {{.Number}}", map[string]any{"Time": Clock(now.Sub(since)), "Number": peer(m.cur)})
	}
	_ = m.CallInfo.Set(info)
}

// peer is the number to show for the other side of c.
func peer(c Call) string {
	if c.Direction() == Inbound {
		if x := c.Header(HeaderCaller); x != "" {
			return x
		}
	}
	return c.Remote()
}

// Clock formats a duration as mm:ss, or h:mm:ss past an hour.
func Clock(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int(d / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}
