package vm

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/lang"

	"github.com/agentphone/agentphone/callcenter/api"
)

// Wire values of api.AgentStatus (callcenter.Presence, PhoneStatus, Activity).
const (
	presenceOffline = "offline"
	presenceOnline  = "online"
	presenceCustom  = "custom"
	phoneBusy       = "busy"
	phoneIdle       = "idle"
	activityRinging = "ringing"
	activityTalking = "talking"
	activityACW     = "acw"
)

// ACWExtendSeconds is how much one "extend" adds to after-call work.
const ACWExtendSeconds = 60

// Tone is how the status button is coloured.
type Tone int

const (
	ToneOffline Tone = iota // grey: signed out
	ToneIdle                // green: takes queue calls
	ToneBusy                // orange: busy or a custom status
	ToneCall                // blue: ringing or talking
	ToneACW                 // after-call work
)

func (t Tone) String() string {
	return [...]string{"offline", "idle", "busy", "call", "acw"}[t]
}

// StatusChoice is one entry of the status drop-down.
type StatusChoice struct {
	Label   string
	Current bool
	Change  api.StatusChange
}

// GroupLine is one of the agent's skill groups in the queue drop-down.
type GroupLine struct {
	Label   string
	Waiting int
	Text    string // "3 waiting · longest 01:20 · idle 2 · busy 1 · talking 4"
}

// StatusVM is the agent's status drop-down with its timer, the after-call
// work countdown, today's figures and the queue count (SPEC §2–§3). The
// server owns the status: every change is a request, and what is shown is
// what the server last said (event or answer), so a refused change shows
// the server's reason and leaves the status as it was.
type StatusVM struct {
	// Supported is false until the server sends a status: an older server
	// without the inbound call center; the UI hides the status widgets.
	Supported binding.Bool
	Status    binding.String // "Idle 03:12", "Meeting 00:45", "Talking 01:02"
	Tone      binding.Int    // a Tone
	InACW     binding.Bool
	ACWLeft   binding.String // "00:25"
	// Today's figures, formatted.
	TalkTime, Calls, BusyTotal, IdleTotal binding.String
	Queue                                 binding.String // calls waiting in all the agent's groups
	QueueWaiting                          binding.Bool   // someone is waiting
	AutoAnswer                            binding.Bool
	Message                               binding.String // a refusal or notice, "" when none

	backend Center
	log     *slog.Logger
	now     func() time.Time
	applied func(api.AgentStatus)
	local   func(bool)
	initial *api.StatusChange

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	have     bool // a status arrived from the server
	st       api.AgentStatus
	skew     time.Duration // local clock minus server clock
	figs     api.Figures
	figsAt   time.Time // local time the figures were true
	groups   []api.Group
	groupsAt time.Time
	statuses []api.CustomStatus
}

// StatusOption configures a StatusVM.
type StatusOption func(*StatusVM)

// WithStatusClock replaces time.Now.
func WithStatusClock(now func() time.Time) StatusOption { return func(m *StatusVM) { m.now = now } }

// WithStatusLogger sets the logger.
func WithStatusLogger(l *slog.Logger) StatusOption { return func(m *StatusVM) { m.log = l } }

// WithStatusApplied is called with every status the server reports, after
// the bindings changed: the shell applies auto-answer and offline to the
// phone bar (PhoneBarVM.ApplyStatus).
func WithStatusApplied(f func(api.AgentStatus)) StatusOption {
	return func(m *StatusVM) { m.applied = f }
}

// WithLocalAutoAnswer switches auto-answer on the phone alone while the
// server has no status (an older server).
func WithLocalAutoAnswer(f func(on bool)) StatusOption { return func(m *StatusVM) { m.local = f } }

// WithInitialStatus asks the server for ch after the first status arrives,
// for the fields that differ (command-line -auto-answer and -ready).
func WithInitialStatus(ch api.StatusChange) StatusOption {
	return func(m *StatusVM) { m.initial = &ch }
}

// NewStatusVM makes the status view-model. Feed it the server's events
// with HandleServer and the clock with Tick; Close waits for requests.
func NewStatusVM(b Center, opts ...StatusOption) *StatusVM {
	m := &StatusVM{
		Supported:    binding.NewBool(),
		Status:       binding.NewString(),
		Tone:         binding.NewInt(),
		InACW:        binding.NewBool(),
		ACWLeft:      binding.NewString(),
		TalkTime:     binding.NewString(),
		Calls:        binding.NewString(),
		BusyTotal:    binding.NewString(),
		IdleTotal:    binding.NewString(),
		Queue:        binding.NewString(),
		QueueWaiting: binding.NewBool(),
		AutoAnswer:   binding.NewBool(),
		Message:      binding.NewString(),
		backend:      b,
		log:          slog.New(slog.DiscardHandler),
		now:          time.Now,
	}
	for _, o := range opts {
		o(m)
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.mu.Lock()
	m.render()
	m.mu.Unlock()
	return m
}

// Close cancels requests in flight and waits for them.
func (m *StatusVM) Close() {
	m.cancel()
	m.wg.Wait()
}

// Wait waits for the requests in flight.
func (m *StatusVM) Wait() { m.wg.Wait() }

func (m *StatusVM) goCmd(f func(ctx context.Context)) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		f(m.ctx)
	}()
}

// HandleServer applies snapshot, status, figures, groups and notice events.
func (m *StatusVM) HandleServer(ev api.Event) {
	switch ev.Type {
	case api.EventSnapshot:
		var s api.Snapshot
		if err := json.Unmarshal(ev.Data, &s); err != nil {
			m.log.Warn("bad snapshot", "err", err)
			return
		}
		m.mu.Lock()
		m.clockFrom(ev.Time)
		if s.Statuses != nil {
			m.statuses = s.Statuses
		}
		if s.Figures != nil {
			m.figs, m.figsAt = *s.Figures, m.now()
		}
		m.groups, m.groupsAt = s.Groups, m.now()
		m.mu.Unlock()
		if s.Status != nil {
			m.setStatus(*s.Status)
		} else {
			m.mu.Lock()
			m.render()
			m.mu.Unlock()
		}
		if s.Status != nil && s.Statuses == nil {
			m.loadStatuses()
		}
	case api.EventStatus:
		var st api.AgentStatus
		if err := json.Unmarshal(ev.Data, &st); err != nil {
			m.log.Warn("bad status event", "err", err)
			return
		}
		m.mu.Lock()
		m.clockFrom(ev.Time)
		m.mu.Unlock()
		m.setStatus(st)
	case api.EventFigures:
		var f api.Figures
		if err := json.Unmarshal(ev.Data, &f); err != nil {
			m.log.Warn("bad figures event", "err", err)
			return
		}
		m.mu.Lock()
		m.clockFrom(ev.Time)
		m.figs, m.figsAt = f, m.now()
		m.render()
		m.mu.Unlock()
	case api.EventGroups:
		var g []api.Group
		if err := json.Unmarshal(ev.Data, &g); err != nil {
			m.log.Warn("bad groups event", "err", err)
			return
		}
		m.mu.Lock()
		m.clockFrom(ev.Time)
		m.groups, m.groupsAt = g, m.now()
		m.render()
		m.mu.Unlock()
	case api.EventNotice:
		var n api.Notice
		if err := json.Unmarshal(ev.Data, &n); err != nil {
			return
		}
		_ = m.Message.Set(noticeText(n))
	}
}

// noticeText translates the notices the agent must understand; others
// show the server's own message.
func noticeText(n api.Notice) string {
	switch n.Code {
	case "missed_twice":
		return lang.L("Set to busy: you missed two calls in a row")
	case "takeover":
		return lang.L("You were signed out: this account logged in on another device")
	}
	return n.Message
}

// clockFrom learns how far the local clock is from the server's, so that
// timers counting from the server's times start at zero here. Network
// delay makes it a few milliseconds generous. Call with mu held.
func (m *StatusVM) clockFrom(server time.Time) {
	if !server.IsZero() {
		m.skew = m.now().Sub(server)
	}
}

// loadStatuses fetches the custom statuses when the snapshot had none.
func (m *StatusVM) loadStatuses() {
	m.goCmd(func(ctx context.Context) {
		s, err := m.backend.Statuses(ctx)
		if err != nil {
			m.log.Info("custom statuses", "err", err)
			return
		}
		m.mu.Lock()
		m.statuses = s
		m.mu.Unlock()
	})
}

// setStatus shows st, tells the bar, and sends the initial change once.
func (m *StatusVM) setStatus(st api.AgentStatus) {
	m.mu.Lock()
	first := !m.have
	m.have = true
	if st.Since.IsZero() {
		// A server that does not date statuses: the timer starts now.
		st.Since = m.now().Add(-m.skew)
	}
	m.st = st
	m.render()
	applied := m.applied
	var initial *api.StatusChange
	if first && m.initial != nil {
		initial = diffChange(st, *m.initial)
	}
	m.mu.Unlock()
	if applied != nil {
		applied(st)
	}
	if initial != nil {
		m.request(*initial)
	}
}

// diffChange keeps the fields of want that st does not have yet; nil when
// there are none.
func diffChange(st api.AgentStatus, want api.StatusChange) *api.StatusChange {
	var ch api.StatusChange
	changed := false
	if want.Presence != nil && *want.Presence != st.Presence {
		ch.Presence, changed = want.Presence, true
	}
	if want.Custom != nil && *want.Custom != st.Custom {
		ch.Custom, changed = want.Custom, true
	}
	if want.Phone != nil && *want.Phone != st.Phone {
		ch.Phone, changed = want.Phone, true
	}
	if want.AutoAnswer != nil && *want.AutoAnswer != st.AutoAnswer {
		ch.AutoAnswer, changed = want.AutoAnswer, true
	}
	if !changed {
		return nil
	}
	return &ch
}

// Choices lists the drop-down's entries with the current one marked:
// idle, busy, each custom status, offline.
func (m *StatusVM) Choices() []StatusChoice {
	m.mu.Lock()
	defer m.mu.Unlock()
	on, idle, busy, off := presenceOnline, phoneIdle, phoneBusy, presenceOffline
	st := m.st
	out := []StatusChoice{
		{Label: lang.L("Idle"), Current: st.Presence == on && st.Phone == idle,
			Change: api.StatusChange{Presence: &on, Phone: &idle}},
		{Label: lang.L("Busy"), Current: st.Presence == on && st.Phone == busy,
			Change: api.StatusChange{Presence: &on, Phone: &busy}},
	}
	for _, cs := range m.statuses {
		custom, name := presenceCustom, cs.Name
		out = append(out, StatusChoice{Label: statusLabel(cs), Current: st.Presence == custom && st.Custom == name,
			Change: api.StatusChange{Presence: &custom, Custom: &name}})
	}
	out = append(out, StatusChoice{Label: lang.L("Offline"), Current: st.Presence == off,
		Change: api.StatusChange{Presence: &off}})
	return out
}

func statusLabel(cs api.CustomStatus) string {
	if cs.Label != "" {
		return cs.Label
	}
	return cs.Name
}

// Choose asks the server for one of Choices.
func (m *StatusVM) Choose(c StatusChoice) { m.request(c.Change) }

// SetAutoAnswer asks the server to switch auto-answer; with an older
// server it switches the phone alone.
func (m *StatusVM) SetAutoAnswer(on bool) {
	m.mu.Lock()
	have := m.have
	m.mu.Unlock()
	if !have {
		_ = m.AutoAnswer.Set(on)
		if m.local != nil {
			m.local(on)
		}
		return
	}
	m.request(api.StatusChange{AutoAnswer: &on})
}

// request sends a change; the answer (or the refusal) is shown when it comes.
func (m *StatusVM) request(ch api.StatusChange) {
	_ = m.Message.Set("")
	m.goCmd(func(ctx context.Context) {
		st, err := m.backend.SetStatus(ctx, ch)
		if err != nil {
			m.refused(err)
			return
		}
		m.setStatus(st)
	})
}

// refused shows why a request failed and puts the widgets back to what
// the server last said (a check box the agent flipped flips back).
func (m *StatusVM) refused(err error) {
	if m.ctx.Err() != nil {
		return
	}
	var re *RefusedError
	switch {
	case errors.As(err, &re):
		_ = m.Message.Set(lang.L("Refused: {{.Reason}}", map[string]any{"Reason": re.Reason}))
	case errors.Is(err, ErrUnreachable):
		_ = m.Message.Set(lang.L("The server cannot be reached; try again"))
	default:
		_ = m.Message.Set(lang.L("Status change failed: {{.Error}}", map[string]any{"Error": err.Error()}))
	}
	m.log.Info("status change failed", "err", err)
	m.mu.Lock()
	m.render()
	m.mu.Unlock()
}

// FinishACW ends after-call work now.
func (m *StatusVM) FinishACW() {
	m.goCmd(func(ctx context.Context) {
		if err := m.backend.FinishACW(ctx); err != nil {
			m.refused(err)
		}
	})
}

// ExtendACW adds ACWExtendSeconds to after-call work.
func (m *StatusVM) ExtendACW() {
	m.goCmd(func(ctx context.Context) {
		if err := m.backend.ExtendACW(ctx, ACWExtendSeconds); err != nil {
			m.refused(err)
		}
	})
}

// Groups lists the agent's skill groups with their live figures.
func (m *StatusVM) Groups() []GroupLine {
	m.mu.Lock()
	defer m.mu.Unlock()
	grow := m.now().Sub(m.groupsAt)
	out := make([]GroupLine, 0, len(m.groups))
	for _, g := range m.groups {
		label := g.Label
		if label == "" {
			label = g.Name
		}
		longest := secs(g.LongestWaitSec)
		if g.Waiting > 0 {
			longest += grow // the longest waiter is still waiting
		}
		text := lang.L("{{.Waiting}} waiting · longest {{.Longest}} · idle {{.Idle}} · busy {{.Busy}} · talking {{.Talking}}",
			map[string]any{"Waiting": g.Waiting, "Longest": Clock(longest), "Idle": g.Idle, "Busy": g.Busy, "Talking": g.Talking})
		out = append(out, GroupLine{Label: label, Waiting: g.Waiting, Text: text})
	}
	return out
}

// HandleCall is part of the bar's parts: the server reports the agent's
// ringing and talking itself, as status events.
func (m *StatusVM) HandleCall(PhoneEvent) {}

// Tick refreshes the timers.
func (m *StatusVM) Tick() {
	m.mu.Lock()
	m.render()
	m.mu.Unlock()
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// render writes every binding. Call with mu held.
func (m *StatusVM) render() {
	_ = m.Supported.Set(m.have)
	now := m.now()
	st := m.st
	since := st.Since.Add(m.skew)
	elapsed := now.Sub(since)

	var text string
	tone := ToneOffline
	switch {
	case !m.have:
	case st.Activity == activityRinging:
		text, tone = lang.L("Ringing {{.Time}}", map[string]any{"Time": Clock(elapsed)}), ToneCall
	case st.Activity == activityTalking:
		text, tone = lang.L("Talking {{.Time}}", map[string]any{"Time": Clock(elapsed)}), ToneCall
	case st.Activity == activityACW:
		text, tone = lang.L("After-call work {{.Time}}", map[string]any{"Time": Clock(elapsed)}), ToneACW
	case st.Presence == presenceOffline:
		text = lang.L("Offline {{.Time}}", map[string]any{"Time": Clock(elapsed)})
	case st.Presence == presenceCustom:
		label := st.Custom
		for _, cs := range m.statuses {
			if cs.Name == st.Custom {
				label = statusLabel(cs)
			}
		}
		text, tone = label+" "+Clock(elapsed), ToneBusy
	case st.Phone == phoneIdle:
		text, tone = lang.L("Idle {{.Time}}", map[string]any{"Time": Clock(elapsed)}), ToneIdle
	default:
		text, tone = lang.L("Busy {{.Time}}", map[string]any{"Time": Clock(elapsed)}), ToneBusy
	}
	_ = m.Status.Set(text)
	_ = m.Tone.Set(int(tone))
	_ = m.AutoAnswer.Set(m.have && st.AutoAnswer || !m.have && m.autoLocal())

	acw := m.have && st.Activity == activityACW
	_ = m.InACW.Set(acw)
	left := ""
	if acw && !st.ACWUntil.IsZero() {
		left = Clock(st.ACWUntil.Add(m.skew).Sub(now))
	}
	_ = m.ACWLeft.Set(left)

	// The figures were true at figsAt; the running status keeps adding
	// to its total until the server's next figures event.
	f := m.figs
	run := now.Sub(m.figsAt)
	if m.figsAt.IsZero() || run < 0 {
		run = 0
	}
	talk, busyT, idleT := secs(f.TalkTimeSec), secs(f.BusyTotalSec), secs(f.IdleTotalSec)
	switch tone {
	case ToneCall:
		if st.Activity == activityTalking {
			talk += run
		}
	case ToneIdle:
		idleT += run
	case ToneBusy:
		busyT += run
	}
	_ = m.TalkTime.Set(Clock(talk))
	_ = m.Calls.Set(strconv.Itoa(f.Calls))
	_ = m.BusyTotal.Set(Clock(busyT))
	_ = m.IdleTotal.Set(Clock(idleT))

	waiting := 0
	for _, g := range m.groups {
		waiting += g.Waiting
	}
	_ = m.Queue.Set(strconv.Itoa(waiting))
	_ = m.QueueWaiting.Set(waiting > 0)
}

// autoLocal is the auto-answer switch as last set locally (no server
// status yet). Call with mu held.
func (m *StatusVM) autoLocal() bool {
	v, _ := m.AutoAnswer.Get()
	return v
}
