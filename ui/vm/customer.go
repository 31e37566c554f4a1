package vm

import (
	"context"
	"errors"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/lang"

	"github.com/agentphone/agentphone/callcenter/api"
)

// Field is one free field of a customer card.
type Field struct{ Key, Value string }

// TrackRow is one line of a customer's history (客户轨迹): a call, a note
// or a callback, newest first.
type TrackRow struct {
	When   string
	Kind   string // "Call", "Note", "Callback", translated
	Text   string
	Red    bool // a missed call, an expired callback
	sortAt time.Time
}

// CustomerVM is the customer card beside the screen pop (客户): the caller's
// card from the library with its history, "Add to my customers" when the
// number is in no card, and editing.
type CustomerVM struct {
	Visible binding.Bool // a call is popped
	Known   binding.Bool // the number is in the library
	Loading binding.Bool
	Name    binding.String
	Numbers binding.String // "13800138000, 02161234567"
	Company binding.String
	Tags    binding.String // "VIP · 复购"
	Owner   binding.String
	Fields  binding.UntypedList // of Field, by key
	Track   binding.UntypedList // of TrackRow
	// TrackEmpty is the line under the History heading of a card with no
	// history yet, "" otherwise: a bare heading reads as still loading.
	TrackEmpty binding.String
	Message    binding.String
	// CanAdd: the caller is in no card and the call's id is known.
	CanAdd binding.Bool

	backend CRM
	calls   *PopVM
	log     *slog.Logger
	now     func() time.Time
	loc     *time.Location

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	number string // whose card is shown
	card   api.CustomerCard
	gen    int
}

// CustomerOption configures a CustomerVM.
type CustomerOption func(*CustomerVM)

// WithCustomerClock replaces time.Now; loc is the zone times are shown in.
func WithCustomerClock(now func() time.Time, loc *time.Location) CustomerOption {
	return func(m *CustomerVM) { m.now, m.loc = now, loc }
}

// WithCustomerLogger sets the logger.
func WithCustomerLogger(l *slog.Logger) CustomerOption { return func(m *CustomerVM) { m.log = l } }

// NewCustomerVM makes the card of the screen pop's customer.
func NewCustomerVM(b CRM, calls *PopVM, opts ...CustomerOption) *CustomerVM {
	m := &CustomerVM{
		Visible: binding.NewBool(), Known: binding.NewBool(), Loading: binding.NewBool(),
		Name: binding.NewString(), Numbers: binding.NewString(), Company: binding.NewString(),
		Tags: binding.NewString(), Owner: binding.NewString(), Fields: binding.NewUntypedList(),
		Track: binding.NewUntypedList(), TrackEmpty: binding.NewString(), Message: binding.NewString(), CanAdd: binding.NewBool(),
		backend: b, calls: calls, log: slog.New(slog.DiscardHandler), now: time.Now, loc: time.Local,
	}
	for _, o := range opts {
		o(m)
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m
}

// Close cancels requests in flight and waits for them.
func (m *CustomerVM) Close() {
	m.cancel()
	m.wg.Wait()
}

// Wait waits for requests in flight (tests).
func (m *CustomerVM) Wait() { m.wg.Wait() }

// HandleCall looks the popped customer up when a new call pops.
func (m *CustomerVM) HandleCall(PhoneEvent) { m.follow() }

// HandleServer follows the pop's details (the customer's number of an
// outbound call, the call's id).
func (m *CustomerVM) HandleServer(ev api.Event) {
	if ev.Type == api.EventOffer || ev.Type == api.EventCall {
		m.follow()
	}
}

// Tick is part of the bar's parts; the card has no timers.
func (m *CustomerVM) Tick() {}

func (m *CustomerVM) follow() {
	id, number, _, stage := m.calls.Current()
	m.mu.Lock()
	defer m.mu.Unlock()
	_ = m.Visible.Set(stage != PopNone)
	if stage == PopNone {
		m.number, m.card = "", api.CustomerCard{}
		m.render()
		return
	}
	if number != m.number && number != "" && !strings.Contains(number, "*") {
		m.number = number
		m.card = api.CustomerCard{}
		m.render()
		m.lookup(number)
		return
	}
	_ = m.CanAdd.Set(m.card.Customer.ID == 0 && id != "" && m.number != "")
}

// Reload fetches the card of the shown number again.
func (m *CustomerVM) Reload() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.number != "" {
		m.lookup(m.number)
	}
}

// lookup fetches the card of number. Call with mu held.
func (m *CustomerVM) lookup(number string) {
	m.gen++
	gen := m.gen
	_ = m.Loading.Set(true)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		card, err := m.backend.CustomerByNumber(m.ctx, number)
		m.mu.Lock()
		defer m.mu.Unlock()
		if gen != m.gen || m.ctx.Err() != nil {
			return
		}
		_ = m.Loading.Set(false)
		switch {
		case errors.Is(err, ErrNoCustomer):
			m.card = api.CustomerCard{}
			_ = m.Message.Set("")
		case err != nil:
			m.log.Info("customer card", "err", err)
			_ = m.Message.Set(lang.L("Cannot load the customer card: {{.Error}}", map[string]any{"Error": reason(err)}))
			return
		default:
			m.card = card
			_ = m.Message.Set("")
		}
		m.render()
	}()
}

// AddToMine adds the popped caller to the agent's customers under name.
func (m *CustomerVM) AddToMine(name string, done func(error)) {
	name = strings.TrimSpace(name)
	id, _, _, _ := m.calls.Current()
	if name == "" {
		if done != nil {
			done(ErrMissingName)
		}
		return
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		_, err := m.backend.AddCallerToCustomers(m.ctx, id, name)
		if err == nil {
			m.Reload()
		} else {
			m.log.Info("add to my customers", "err", err)
		}
		if done != nil {
			done(err)
		}
	}()
}

// ErrMissingName: a customer needs a name.
var ErrMissingName = errors.New("vm: the customer's name is required")

// SaveError is the line an add or edit dialog shows for err.
func SaveError(err error) string {
	if errors.Is(err, ErrMissingName) {
		return lang.L("Enter the customer's name")
	}
	return failure(lang.L("Save customer"), err)
}

// Card is the shown customer, for the edit form.
func (m *CustomerVM) Card() api.Customer {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.card.Customer
}

// Save writes an edited card.
func (m *CustomerVM) Save(c api.Customer, done func(error)) {
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" {
		if done != nil {
			done(ErrMissingName)
		}
		return
	}
	m.mu.Lock()
	id := m.card.Customer.ID
	m.mu.Unlock()
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		_, err := m.backend.UpdateCustomer(m.ctx, id, c)
		if err == nil {
			m.Reload()
		} else {
			m.log.Info("save customer", "err", err)
		}
		if done != nil {
			done(err)
		}
	}()
}

// SplitList reads "a, b，c" (either comma) into its trimmed items.
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '，' || r == '\n' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ParseFields reads "key: value" lines into free fields.
func ParseFields(s string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			k, v, ok = strings.Cut(line, "：")
		}
		if k = strings.TrimSpace(k); ok && k != "" {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out
}

// FormatFields is the inverse of ParseFields, keys sorted.
func FormatFields(f map[string]string) string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	lines := make([]string, 0, len(keys))
	for _, k := range keys {
		lines = append(lines, k+": "+f[k])
	}
	return strings.Join(lines, "\n")
}

// render writes the card. Call with mu held.
func (m *CustomerVM) render() {
	c := m.card.Customer
	known := c.ID != 0
	id, _, _, _ := m.calls.Current()
	_ = m.Known.Set(known)
	_ = m.CanAdd.Set(!known && id != "" && m.number != "")
	_ = m.Name.Set(c.Name)
	_ = m.Numbers.Set(strings.Join(c.Numbers, ", "))
	_ = m.Company.Set(c.Company)
	_ = m.Tags.Set(strings.Join(c.Tags, " · "))
	_ = m.Owner.Set(c.Owner)
	keys := make([]string, 0, len(c.Fields))
	for k := range c.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fields := make([]any, 0, len(keys))
	for _, k := range keys {
		fields = append(fields, Field{k, c.Fields[k]})
	}
	_ = m.Fields.Set(fields)

	now := m.now()
	var track []TrackRow
	for _, r := range m.card.Calls {
		missed := r.Result == "missed" || r.Result == "abandoned" || (r.AnsweredAt.IsZero() && r.Result != "")
		text := lang.L("Inbound")
		if r.Type == "outbound" || r.Type == "callback" {
			text = lang.L("Outbound")
		}
		if missed {
			text = lang.L("Missed")
		} else if r.DurationSec > 0 {
			text += " · " + Clock(secs(r.DurationSec))
		}
		if r.Agent != "" {
			text += " · " + r.Agent
		}
		track = append(track, TrackRow{When: ShortTime(r.StartedAt, now, m.loc), Kind: lang.L("Call"), Text: text, Red: missed, sortAt: r.StartedAt})
	}
	for _, n := range m.card.Notes {
		track = append(track, TrackRow{When: ShortTime(n.CreatedAt, now, m.loc), Kind: lang.L("Note"),
			Text: agentLabel(n.Agent, n.AgentName) + ": " + n.Text, sortAt: n.CreatedAt})
	}
	for _, cb := range m.card.Callbacks {
		text := callbackState(cb.State) + " · " + ShortTime(cb.DueAt, now, m.loc)
		if cb.Remark != "" {
			text += " · " + cb.Remark
		}
		track = append(track, TrackRow{When: ShortTime(cb.CreatedAt, now, m.loc), Kind: lang.L("Callback"), Text: text,
			Red: cb.State == api.CallbackExpired, sortAt: cb.CreatedAt})
	}
	sort.SliceStable(track, func(i, j int) bool { return track[i].sortAt.After(track[j].sortAt) })
	rows := make([]any, len(track))
	for i, t := range track {
		rows[i] = t
	}
	_ = m.Track.Set(rows)
	empty := ""
	if known && len(rows) == 0 {
		empty = lang.L("No calls, notes or callbacks yet")
	}
	_ = m.TrackEmpty.Set(empty)
}
