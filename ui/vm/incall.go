package vm

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"

	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/lang"

	"github.com/agentphone/agentphone/callcenter/api"
)

// BannerKind says what the in-call banner is about; the UI colours it.
type BannerKind int

const (
	BannerNone         BannerKind = iota // nothing to say
	BannerHeld                           // the customer is on hold
	BannerConsulting                     // customer on hold, agent with the consulted party
	BannerConference                     // three-way call
	BannerTransferring                   // a blind transfer is ringing its target
	BannerNotice                         // a step failed; the server's notice
)

func (k BannerKind) String() string {
	switch k {
	case BannerNone:
		return "none"
	case BannerHeld:
		return "held"
	case BannerConsulting:
		return "consulting"
	case BannerConference:
		return "conference"
	case BannerTransferring:
		return "transferring"
	case BannerNotice:
		return "notice"
	}
	return "unknown"
}

// DialogKind is which target dialog is open.
type DialogKind int

const (
	DialogNone     DialogKind = iota
	DialogTransfer            // blind transfer
	DialogConsult             // consult (customer held while the target rings)
)

func (k DialogKind) String() string {
	switch k {
	case DialogNone:
		return "none"
	case DialogTransfer:
		return "transfer"
	case DialogConsult:
		return "consult"
	}
	return "unknown"
}

// TargetAgent is an agent row of the transfer and consult dialogs.
type TargetAgent struct {
	WorkNumber, Name string
	Online           bool   // the green dot
	Status           string // the status word, translated
	// Selectable: only online agents take a transfer or a consult.
	Selectable bool
	// Refusal says why the agent cannot be chosen ("1002 Han Meimei is
	// offline"), "" when selectable.
	Refusal string
}

// TargetGroup is a skill-group row of the dialogs.
type TargetGroup struct {
	Name, Label string
	Detail      string // "2 waiting · 3 online"
	Waiting     int
	Online      int
	// Selectable: a group with nobody online refuses transfers at once.
	Selectable bool
}

// InCallVM is the in-call work of the call on the bar (SPEC §5): hold and
// resume, blind transfer, consult then transfer, three-way or cancel, and
// the banner that says which of these the call is in. The state comes from
// the server (control responses and "control" events): the controls act on
// the server's room, not on the SIP call, so the phone keeps one plain call
// to the server throughout.
type InCallVM struct {
	Active     binding.Bool   // a live call the server knows: the controls show
	Banner     binding.String // "On hold — the customer hears music", a notice...
	BannerKind binding.Int    // a BannerKind
	Held       binding.Bool   // the hold button reads "Resume"
	CanHold    binding.Bool
	CanConsult binding.Bool // also transfer: both only while simply talking
	Message    binding.String

	// The consult view: both parties and what can be done with them.
	Consulting       binding.Bool
	CustomerParty    binding.String // "13800138000 张三"
	CustomerState    binding.String // "On hold"
	ConsultParty     binding.String // "1002 Han Meimei"
	ConsultState     binding.String // "Ringing…", "Talking"
	CanFinishConsult binding.Bool   // the consulted party answered: transfer or three-way

	// The transfer / consult dialog.
	Dialog      binding.Int         // a DialogKind
	Agents      binding.UntypedList // of TargetAgent
	Groups      binding.UntypedList // of TargetGroup
	DialogError binding.String      // the server's refusal, shown in the dialog
	Busy        binding.Bool        // a command is in flight

	backend InCall
	calls   *PopVM
	log     *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	live   bool   // the SIP call is answered and not over
	id     string // server call id of the call on the bar
	ctl    api.CallControl
	dialog DialogKind
	// target is whom the last transfer or consult went to, so that its
	// refusal or failure notice names them in the agent's language.
	target subject
}

// InCallOption configures an InCallVM.
type InCallOption func(*InCallVM)

// WithInCallLogger sets the logger.
func WithInCallLogger(l *slog.Logger) InCallOption { return func(m *InCallVM) { m.log = l } }

// NewInCallVM makes the in-call controls of the call the screen pop
// follows (its server call id is the one the controls act on).
func NewInCallVM(b InCall, calls *PopVM, opts ...InCallOption) *InCallVM {
	m := &InCallVM{
		Active: binding.NewBool(), Banner: binding.NewString(), BannerKind: binding.NewInt(),
		Held: binding.NewBool(), CanHold: binding.NewBool(), CanConsult: binding.NewBool(),
		Message: binding.NewString(), Consulting: binding.NewBool(),
		CustomerParty: binding.NewString(), CustomerState: binding.NewString(),
		ConsultParty: binding.NewString(), ConsultState: binding.NewString(),
		CanFinishConsult: binding.NewBool(), Dialog: binding.NewInt(),
		Agents: binding.NewUntypedList(), Groups: binding.NewUntypedList(),
		DialogError: binding.NewString(), Busy: binding.NewBool(),
		backend: b, calls: calls, log: slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		o(m)
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m
}

// Close cancels commands in flight and waits for them.
func (m *InCallVM) Close() {
	m.cancel()
	m.wg.Wait()
}

// Wait waits for commands in flight (tests).
func (m *InCallVM) Wait() { m.wg.Wait() }

func (m *InCallVM) goCmd(f func(ctx context.Context)) {
	m.wg.Add(1)
	_ = m.Busy.Set(true)
	go func() {
		defer m.wg.Done()
		defer func() { _ = m.Busy.Set(false) }()
		f(m.ctx)
	}()
}

// HandleCall follows the SIP call: the controls exist while it is answered.
func (m *InCallVM) HandleCall(ev PhoneEvent) {
	if ev.Kind != EventCall {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.follow()
	m.render()
}

// follow takes the call id and liveness from the screen pop, which has
// already seen the event (it comes before this in the bar's parts). Call
// with mu held.
func (m *InCallVM) follow() {
	id, _, _, stage := m.calls.Current()
	if id != m.id {
		m.id, m.ctl, m.dialog, m.target = id, api.CallControl{}, DialogNone, subject{}
		_ = m.Message.Set("")
	}
	m.live = stage == PopTalking && id != ""
	if !m.live {
		m.dialog = DialogNone
	}
}

// HandleServer applies "control" events; "call" events may tell the pop
// the id of our own outbound call, which turns the controls on.
func (m *InCallVM) HandleServer(ev api.Event) {
	switch ev.Type {
	case api.EventControl:
		var cc api.CallControl
		if err := json.Unmarshal(ev.Data, &cc); err != nil {
			m.log.Warn("bad control event", "err", err)
			return
		}
		m.mu.Lock()
		m.follow()
		m.apply(cc)
		m.mu.Unlock()
	case api.EventCall, api.EventSnapshot:
		m.mu.Lock()
		m.follow()
		m.render()
		m.mu.Unlock()
	}
}

// Tick is part of the bar's parts; the controls have no timers.
func (m *InCallVM) Tick() {}

// apply takes a control state about our call. Call with mu held.
func (m *InCallVM) apply(cc api.CallControl) {
	if cc.CallID == "" || cc.CallID != m.id {
		return
	}
	m.ctl = cc
	if c := cc.Consult; c != nil {
		m.target = subject{kind: c.Target.Kind, name: consultName(c)}
		if c.Target.Kind == api.TargetGroup && c.Name != "" {
			m.target.name = c.Name // a group by its label alone
		}
	}
	m.render()
}

// ToggleHold puts the customer on hold, or resumes.
func (m *InCallVM) ToggleHold() {
	m.mu.Lock()
	id, held := m.id, m.ctl.State == api.ControlHeld
	ok := m.live && (m.state() == api.ControlTalking || held)
	m.mu.Unlock()
	if !ok {
		return
	}
	m.goCmd(func(ctx context.Context) {
		var cc api.CallControl
		var err error
		if held {
			cc, err = m.backend.Resume(ctx, id)
			m.done(lang.L("Resume"), subject{}, cc, err)
		} else {
			cc, err = m.backend.Hold(ctx, id)
			m.done(lang.L("Hold"), subject{}, cc, err)
		}
	})
}

// done applies a control response, or shows why it failed. Not with mu held.
func (m *InCallVM) done(what string, who subject, cc api.CallControl, err error) {
	if err != nil {
		m.log.Info(what, "err", err)
		_ = m.Message.Set(failureAbout(what, who, "", err))
		return
	}
	_ = m.Message.Set("")
	m.mu.Lock()
	m.apply(cc)
	m.mu.Unlock()
}

// OpenTransfer opens the transfer dialog and loads its targets.
func (m *InCallVM) OpenTransfer() { m.open(DialogTransfer) }

// OpenConsult opens the consult dialog and loads its targets.
func (m *InCallVM) OpenConsult() { m.open(DialogConsult) }

func (m *InCallVM) open(k DialogKind) {
	m.mu.Lock()
	if !m.live || m.state() != api.ControlTalking {
		m.mu.Unlock()
		return
	}
	m.dialog = k
	m.render()
	m.mu.Unlock()
	_ = m.DialogError.Set("")
	m.LoadTargets()
}

// CloseDialog closes the dialog without doing anything.
func (m *InCallVM) CloseDialog() {
	m.mu.Lock()
	m.dialog = DialogNone
	m.render()
	m.mu.Unlock()
	_ = m.DialogError.Set("")
}

// staleTargets says whether a refusal means the loaded list is out of date.
func staleTargets(code string) bool {
	return code == api.CodeAgentBusy || code == api.CodeAgentOffline || code == api.CodeNoAgentsOnline
}

// LoadTargets fetches agents and groups for the dialog.
func (m *InCallVM) LoadTargets() { m.goCmd(m.reloadTargets) }

// reloadTargets fetches agents and groups on the calling goroutine.
func (m *InCallVM) reloadTargets(ctx context.Context) {
	tt, err := m.backend.TransferTargets(ctx)
	if err != nil {
		_ = m.DialogError.Set(lang.L("Cannot load agents and groups: {{.Error}}", map[string]any{"Error": reason(err)}))
		return
	}
	agents := make([]any, 0, len(tt.Agents))
	for _, a := range tt.Agents {
		ta := TargetAgent{WorkNumber: a.WorkNumber, Name: a.Name, Online: a.Online,
			Status: statusWord(a.Status, a.Online), Selectable: a.Online}
		ta.Refusal = agentRefusal(ta, a.Status)
		agents = append(agents, ta)
	}
	groups := make([]any, 0, len(tt.Groups))
	for _, g := range tt.Groups {
		label := g.Label
		if label == "" {
			label = g.Name
		}
		groups = append(groups, TargetGroup{Name: g.Name, Label: label, Waiting: g.Waiting, Online: g.Online,
			Detail:     lang.L("{{.Waiting}} waiting · {{.Online}} online", map[string]any{"Waiting": g.Waiting, "Online": g.Online}),
			Selectable: g.Online > 0})
	}
	_ = m.Agents.Set(agents)
	_ = m.Groups.Set(groups)
}

// agentRefusal is why a target agent cannot take the call: the server
// offers only idle agents, and one who is signed in but on a call or in
// after-call work is not "offline" to the agent reading the message.
func agentRefusal(a TargetAgent, status string) string {
	name := agentLabel(a.WorkNumber, a.Name)
	switch {
	case a.Selectable:
		return ""
	case status == "offline" || status == "" || a.Status == "":
		return lang.L("{{.Name}} is offline", map[string]any{"Name": name})
	}
	return lang.L("{{.Name}} is not free: {{.Status}}", map[string]any{"Name": name, "Status": a.Status})
}

// statusWord translates the server's status word of an agent.
func statusWord(s string, online bool) string {
	switch s {
	case "idle":
		return lang.L("Idle")
	case "busy":
		return lang.L("Busy")
	case "ringing":
		return lang.L("Ringing")
	case "talking":
		return lang.L("Talking")
	case "acw":
		return lang.L("After-call work")
	case "offline", "":
		if !online || s == "offline" {
			return lang.L("Offline")
		}
		return ""
	}
	return s // a custom status's label, already in the admin's words
}

// Choose runs the open dialog's action on a target: a blind transfer or a
// consult. Offline agents, groups nobody serves and an empty number are
// refused here, as the server would.
func (m *InCallVM) Choose(t api.Target) {
	t.To = strings.TrimSpace(t.To)
	if t.To == "" {
		_ = m.DialogError.Set(lang.L("Enter a number to call"))
		return
	}
	if msg := m.unselectable(t); msg != "" {
		_ = m.DialogError.Set(msg)
		return
	}
	who := m.subjectOf(t)
	m.mu.Lock()
	id, k := m.id, m.dialog
	if k != DialogNone && id != "" {
		m.target = who
	}
	m.mu.Unlock()
	if k == DialogNone || id == "" {
		return
	}
	_ = m.DialogError.Set("")
	m.goCmd(func(ctx context.Context) {
		var cc api.CallControl
		var err error
		if k == DialogTransfer {
			cc, err = m.backend.Transfer(ctx, id, t)
		} else {
			cc, err = m.backend.Consult(ctx, id, t)
		}
		if err != nil {
			m.log.Info("transfer/consult", "kind", k, "err", err)
			_ = m.DialogError.Set(failureAbout(dialogWhat(k), who, "", err))
			var re *RefusedError
			if errors.As(err, &re) && staleTargets(re.Code) {
				// The list said the target was free and it no longer is:
				// show what the server sees now, the refusal stays.
				m.reloadTargets(ctx)
			}
			return
		}
		m.mu.Lock()
		m.dialog = DialogNone
		m.apply(cc)
		m.render()
		m.mu.Unlock()
		_ = m.Message.Set("")
	})
}

func dialogWhat(k DialogKind) string {
	if k == DialogConsult {
		return lang.L("Consult")
	}
	return lang.L("Transfer")
}

// subjectOf names t as the dialog lists it: "1002 Han Meimei", a group's
// label, the number.
func (m *InCallVM) subjectOf(t api.Target) subject {
	name := t.To
	switch t.Kind {
	case api.TargetAgent:
		name = m.agentName(t.To)
	case api.TargetGroup:
		items, _ := m.Groups.Get()
		for _, it := range items {
			if g := it.(TargetGroup); g.Name == t.To && g.Label != "" {
				name = g.Label
			}
		}
	}
	return subject{kind: t.Kind, name: name}
}

// unselectable says why t cannot be chosen from the loaded lists, "" if it can.
func (m *InCallVM) unselectable(t api.Target) string {
	switch t.Kind {
	case api.TargetAgent:
		items, _ := m.Agents.Get()
		for _, it := range items {
			if a := it.(TargetAgent); a.WorkNumber == t.To && !a.Selectable {
				return a.Refusal
			}
		}
	case api.TargetGroup:
		items, _ := m.Groups.Get()
		for _, it := range items {
			if g := it.(TargetGroup); g.Name == t.To && !g.Selectable {
				return lang.L("Nobody in {{.Group}} is online", map[string]any{"Group": g.Label})
			}
		}
	}
	return ""
}

func agentLabel(work, name string) string {
	if name == "" {
		return work
	}
	return work + " " + name
}

// ConsultTransfer hands the customer to the consulted party.
func (m *InCallVM) ConsultTransfer() { m.consultStep(lang.L("Transfer"), m.backend.ConsultTransfer) }

// Conference joins the customer, the consulted party and the agent.
func (m *InCallVM) Conference() { m.consultStep(lang.L("Three-way call"), m.backend.Conference) }

// ConsultCancel drops the consulted party and returns to the customer.
func (m *InCallVM) ConsultCancel() { m.consultStep(lang.L("Cancel consult"), m.backend.ConsultCancel) }

func (m *InCallVM) consultStep(what string, f func(context.Context, string) (api.CallControl, error)) {
	m.mu.Lock()
	id, ok := m.id, m.live && m.state() == api.ControlConsulting
	who := m.target
	m.mu.Unlock()
	if !ok {
		return
	}
	m.goCmd(func(ctx context.Context) {
		cc, err := f(ctx, id)
		m.done(what, who, cc, err)
	})
}

// state is the control state, talking until the server says otherwise.
// Call with mu held.
func (m *InCallVM) state() string {
	if m.ctl.State == "" {
		return api.ControlTalking
	}
	return m.ctl.State
}

// partyState translates a party or consult leg state.
func partyState(s string) string {
	switch s {
	case "ringing":
		return lang.L("Ringing…")
	case "queued":
		return lang.L("Waiting in the queue…")
	case "talking":
		return lang.L("Talking")
	case "held":
		return lang.L("On hold")
	case "ended":
		return lang.L("Hung up")
	}
	return s
}

// render writes the bindings. Call with mu held.
func (m *InCallVM) render() {
	st := m.state()
	live := m.live && st != api.ControlEnded
	_ = m.Active.Set(live)
	_ = m.Held.Set(live && st == api.ControlHeld)
	_ = m.CanHold.Set(live && (st == api.ControlTalking || st == api.ControlHeld))
	_ = m.CanConsult.Set(live && st == api.ControlTalking)
	if !live || st != api.ControlTalking {
		m.dialog = DialogNone
	}
	_ = m.Dialog.Set(int(m.dialog))

	consulting := live && st == api.ControlConsulting
	_ = m.Consulting.Set(consulting)
	var custParty, custState, conParty, conState string
	_, number, name, _ := m.calls.Current()
	custParty = agentLabel(number, name)
	for _, p := range m.ctl.Parties {
		if p.Kind == "customer" {
			custParty = agentLabel(p.ID, p.Name)
			custState = partyState(p.State)
		}
	}
	c := m.ctl.Consult
	if c != nil {
		conParty = consultName(c)
		if c.Name == "" && c.Target.Kind == api.TargetAgent {
			// The server may name only the work number: the dialog's
			// list, which the consult was chosen from, has the name.
			conParty = m.agentName(c.Target.To)
		}
		conState = partyState(c.State)
	}
	if consulting && custState == "" {
		custState = lang.L("On hold")
	}
	_ = m.CustomerParty.Set(custParty)
	_ = m.CustomerState.Set(custState)
	_ = m.ConsultParty.Set(conParty)
	_ = m.ConsultState.Set(conState)
	_ = m.CanFinishConsult.Set(consulting && c != nil && c.State == "talking")

	kind, text := BannerNone, ""
	switch {
	case !live && m.ctl.State != api.ControlEnded:
	case st == api.ControlHeld:
		kind, text = BannerHeld, lang.L("On hold · the customer hears music")
	case st == api.ControlConsulting:
		kind, text = BannerConsulting, lang.L("Consulting {{.Name}} · customer held", map[string]any{"Name": conParty})
	case st == api.ControlConference:
		kind, text = BannerConference, lang.L("Three-way call · all hear all")
	case st == api.ControlTransferring:
		kind, text = BannerTransferring, lang.L("Transferring to {{.Name}}…", map[string]any{"Name": transferName(m.ctl)})
	}
	if n := m.ctl.Notice; n != nil && (kind == BannerNone || kind == BannerHeld) {
		// A failed step (the target did not answer, the customer is back)
		// matters more than the state it left behind.
		if s := noticeLine(*n, m.target); s != "" {
			kind, text = BannerNotice, s
		}
	}
	_ = m.BannerKind.Set(int(kind))
	_ = m.Banner.Set(text)
}

// agentName is "1003 Zhao Lei" from the loaded targets, else the number.
func (m *InCallVM) agentName(work string) string {
	items, _ := m.Agents.Get()
	for _, it := range items {
		if a := it.(TargetAgent); a.WorkNumber == work {
			return agentLabel(a.WorkNumber, a.Name)
		}
	}
	return work
}

func consultName(c *api.Consult) string {
	if c.Name != "" && c.Name != c.Target.To {
		return agentLabel(c.Target.To, c.Name)
	}
	return c.Target.To
}

// transferName is whom a blind transfer rings: the consult leg when the
// server reports one, else the first party that is not the customer.
func transferName(cc api.CallControl) string {
	if cc.Consult != nil {
		return consultName(cc.Consult)
	}
	for _, p := range cc.Parties {
		if p.Kind != "customer" && p.State == "ringing" {
			return agentLabel(p.ID, p.Name)
		}
	}
	return ""
}
