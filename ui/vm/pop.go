package vm

import (
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/lang"

	"github.com/agentphone/agentphone/callcenter/api"
)

// HeaderCallID is the server's call id on the calls it offers; offer and
// call events carry the same id, which ties a screen pop to the SIP call.
const HeaderCallID = "X-Call-ID"

// PopStage is where the popped call is.
type PopStage int

const (
	PopNone    PopStage = iota // nothing to show
	PopRinging                 // offered to us, or we are calling out
	PopTalking                 // answered
	PopEnded                   // over; the card stays until dismissed or the next call
)

func (s PopStage) String() string {
	return [...]string{"none", "ringing", "talking", "ended"}[s]
}

// PopVM is the screen pop (弹屏): who the customer is, on ringing, talking
// and ended, for inbound and outbound calls (SPEC §4). The SIP call says
// where the call is; the server's offer and call events say who is on it
// (name, region, carrier, earlier calls, center number and group).
type PopVM struct {
	Visible binding.Bool
	Stage   binding.Int    // a PopStage
	Title   binding.String // "Incoming call", "Outgoing call", "Talking", "Call ended"
	Number  binding.String // the customer's number
	Name    binding.String // from the customer library, "" if unknown
	Region  binding.String // "上海市 · 中国移动"
	Calls   binding.String // "3 earlier calls · last 03-01 14:02", "First call"
	Via     binding.String // "via 4001234567 · 售前咨询"

	log    *slog.Logger
	now    func() time.Time
	loc    *time.Location
	notify func(title, body string)

	mu    sync.Mutex
	pops  map[string]api.ScreenPop // by call id, the last few
	order []string                 // call ids in pops, oldest first
	call  Call                     // the popped SIP call, nil when none
	id    string                   // its server call id, if known
	dir   Direction
	stage PopStage
	pop   api.ScreenPop // what is shown
}

// maxPops bounds the pops kept for calls not (yet) seen on SIP.
const maxPops = 8

// PopOption configures a PopVM.
type PopOption func(*PopVM)

// WithPopClock replaces time.Now; loc is the zone times are shown in.
func WithPopClock(now func() time.Time, loc *time.Location) PopOption {
	return func(m *PopVM) { m.now, m.loc = now, loc }
}

// WithPopLogger sets the logger.
func WithPopLogger(l *slog.Logger) PopOption { return func(m *PopVM) { m.log = l } }

// WithNotifier is called when a call starts ringing for us, with a title
// and a one-line summary: the UI raises a desktop notification from it
// when the window is not in front.
func WithNotifier(f func(title, body string)) PopOption { return func(m *PopVM) { m.notify = f } }

// NewPopVM makes an empty screen pop.
func NewPopVM(opts ...PopOption) *PopVM {
	m := &PopVM{
		Visible: binding.NewBool(),
		Stage:   binding.NewInt(),
		Title:   binding.NewString(),
		Number:  binding.NewString(),
		Name:    binding.NewString(),
		Region:  binding.NewString(),
		Calls:   binding.NewString(),
		Via:     binding.NewString(),
		log:     slog.New(slog.DiscardHandler),
		now:     time.Now,
		loc:     time.Local,
		pops:    map[string]api.ScreenPop{},
	}
	for _, o := range opts {
		o(m)
	}
	return m
}

// HandleServer takes the customer's details from offer and call events.
func (m *PopVM) HandleServer(ev api.Event) {
	var p api.ScreenPop
	switch ev.Type {
	case api.EventOffer:
		if err := json.Unmarshal(ev.Data, &p); err != nil {
			m.log.Warn("bad offer event", "err", err)
			return
		}
	case api.EventCall:
		var c api.Call
		if err := json.Unmarshal(ev.Data, &c); err != nil || c.Pop == nil {
			return
		}
		p = *c.Pop
		if p.CallID == "" {
			p.CallID = c.ID
		}
		if p.CenterNumber == "" {
			p.CenterNumber = c.Number
		}
	default:
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keep(p)
	if m.call != nil && m.matches(p) {
		m.pop = merge(m.pop, p)
		m.id = p.CallID
		m.render()
	}
}

// keep remembers p for a SIP call that may come after it. Call with mu held.
func (m *PopVM) keep(p api.ScreenPop) {
	if p.CallID == "" {
		return
	}
	if _, ok := m.pops[p.CallID]; !ok {
		m.order = append(m.order, p.CallID)
		if len(m.order) > maxPops {
			delete(m.pops, m.order[0])
			m.order = m.order[1:]
		}
	}
	m.pops[p.CallID] = merge(m.pops[p.CallID], p)
}

// matches says whether p is about the popped call: the same server call
// id, or, for a call whose id we do not know (our own outbound INVITE
// carries none), the same customer number.
func (m *PopVM) matches(p api.ScreenPop) bool {
	if m.id != "" {
		return p.CallID == m.id
	}
	return p.Customer != "" && p.Customer == m.pop.Customer
}

// merge overlays the non-empty fields of n on o.
func merge(o, n api.ScreenPop) api.ScreenPop {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&o.CallID, n.CallID)
	set(&o.Direction, n.Direction)
	set(&o.Customer, n.Customer)
	set(&o.Name, n.Name)
	set(&o.Region, n.Region)
	set(&o.Carrier, n.Carrier)
	set(&o.CenterNumber, n.CenterNumber)
	set(&o.Group, n.Group)
	if n.CallsFrom > o.CallsFrom {
		o.CallsFrom = n.CallsFrom
	}
	if !n.LastCallAt.IsZero() {
		o.LastCallAt = n.LastCallAt
	}
	return o
}

// HandleCall follows the SIP call: a new call pops, its progress moves
// the stage, and its end leaves the card showing "Call ended".
func (m *PopVM) HandleCall(ev PhoneEvent) {
	if ev.Kind != EventCall || ev.Call == nil {
		return
	}
	m.mu.Lock()
	c := ev.Call
	fresh := false
	if c != m.call {
		if ev.State == CallEnded || (m.call != nil && m.stage != PopEnded) {
			// An end of a call we never popped, or a second call while
			// busy (the phone turns it away): the card stays on ours.
			m.mu.Unlock()
			return
		}
		m.call, m.dir, fresh = c, c.Direction(), true
		m.id = c.Header(HeaderCallID)
		m.pop = api.ScreenPop{Customer: peer(c), CenterNumber: c.Header(HeaderNumber), Direction: c.Direction().String()}
		if p, ok := m.pops[m.id]; ok && m.id != "" {
			m.pop = merge(m.pop, p)
		} else if m.id == "" {
			for _, id := range m.order {
				if p := m.pops[id]; m.matches(p) {
					m.pop, m.id = merge(m.pop, p), id
				}
			}
		}
	}
	prev := m.stage
	switch ev.State {
	case CallActive:
		m.stage = PopTalking
	case CallEnded:
		m.stage = PopEnded
	default:
		m.stage = PopRinging
	}
	m.render()
	notify := m.notify != nil && fresh && m.dir == Inbound && m.stage == PopRinging && prev != PopRinging
	title, body := lang.L("Incoming call"), m.summary()
	m.mu.Unlock()
	if notify {
		m.notify(title, body)
	}
}

// summary is the pop in one line for a notification. Call with mu held.
func (m *PopVM) summary() string {
	parts := []string{m.pop.Customer}
	if m.pop.Name != "" {
		parts = append(parts, m.pop.Name)
	}
	if r := region(m.pop); r != "" {
		parts = append(parts, r)
	}
	if v := m.via(); v != "" {
		parts = append(parts, v)
	}
	return strings.Join(parts, " · ")
}

// Dismiss closes the card of an ended call.
func (m *PopVM) Dismiss() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stage != PopEnded {
		return
	}
	m.call, m.id, m.stage, m.pop = nil, "", PopNone, api.ScreenPop{}
	m.render()
}

// Tick is part of the bar's parts; the pop has no timers.
func (m *PopVM) Tick() {}

func region(p api.ScreenPop) string {
	switch {
	case p.Region != "" && p.Carrier != "":
		return p.Region + " · " + p.Carrier
	case p.Region != "":
		return p.Region
	}
	return p.Carrier
}

// via is "via 4001234567 · 售前咨询". Call with mu held.
func (m *PopVM) via() string {
	p := m.pop
	switch {
	case p.CenterNumber != "" && p.Group != "":
		return lang.L("via {{.Number}} · {{.Group}}", map[string]any{"Number": p.CenterNumber, "Group": p.Group})
	case p.CenterNumber != "":
		return lang.L("via {{.Number}}", map[string]any{"Number": p.CenterNumber})
	case p.Group != "":
		return lang.L("via {{.Group}}", map[string]any{"Group": p.Group})
	}
	return ""
}

// ShortTime shows t as "14:02" today and "03-01 14:02" before.
func ShortTime(t, now time.Time, loc *time.Location) string {
	t, now = t.In(loc), now.In(loc)
	y1, m1, d1 := t.Date()
	y2, m2, d2 := now.Date()
	if y1 == y2 && m1 == m2 && d1 == d2 {
		return t.Format("15:04")
	}
	if y1 == y2 {
		return t.Format("01-02 15:04")
	}
	return t.Format("2006-01-02 15:04")
}

// render writes the bindings. Call with mu held.
func (m *PopVM) render() {
	_ = m.Visible.Set(m.stage != PopNone)
	_ = m.Stage.Set(int(m.stage))
	var title string
	switch m.stage {
	case PopRinging:
		if m.dir == Inbound {
			title = lang.L("Incoming call")
		} else {
			title = lang.L("Outgoing call")
		}
	case PopTalking:
		title = lang.L("In call")
	case PopEnded:
		title = lang.L("Call ended")
	}
	_ = m.Title.Set(title)
	_ = m.Number.Set(m.pop.Customer)
	_ = m.Name.Set(m.pop.Name)
	_ = m.Region.Set(region(m.pop))
	calls := ""
	switch {
	case m.stage == PopNone:
	case m.pop.CallsFrom > 0 && !m.pop.LastCallAt.IsZero():
		calls = lang.L("{{.Count}} earlier calls · last {{.Time}}", map[string]any{"Count": m.pop.CallsFrom, "Time": ShortTime(m.pop.LastCallAt, m.now(), m.loc)})
	case m.pop.CallsFrom > 0:
		calls = lang.L("{{.Count}} earlier calls", map[string]any{"Count": m.pop.CallsFrom})
	case m.pop.CallID != "":
		// Only the server knows; without its data say nothing.
		calls = lang.L("First call from this number")
	}
	_ = m.Calls.Set(calls)
	_ = m.Via.Set(m.via())
}

// Current is the popped call as the in-call view-models need it: the
// server's call id ("" until known), the customer's number, its name from
// the library and the stage.
func (m *PopVM) Current() (id, customer, name string, stage PopStage) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.id, m.pop.Customer, m.pop.Name, m.stage
}
