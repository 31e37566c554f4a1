package vm

import (
	"context"
	"encoding/json"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/lang"

	"github.com/agentphone/agentphone/callcenter/api"
)

// CallbackRow is one scheduled callback of today's list.
type CallbackRow struct {
	ID      int64
	When    string // "15:30"
	Number  string
	Name    string
	Remark  string
	State   string // "Pending", "Done", "Expired", translated
	Expired bool   // shown in red
	Done    bool
	Due     bool // pending and its time has come
	DueAt   time.Time
}

// CallbacksVM is today's callbacks tab (预约回呼): the agent's callbacks of
// the day with their state, call now, reschedule, delete; a new callback
// from the call view; and the reminder when one falls due.
type CallbacksVM struct {
	Rows    binding.UntypedList // of CallbackRow, by due time
	Empty   binding.Bool
	Message binding.String
	Badge   binding.String // pending callbacks already due, "" when none
	// Reminder is the in-app reminder of the last callback that fell due,
	// "" when none or dismissed.
	Reminder   binding.String
	reminderID int64
	// Creatable is CanCreate as a binding, for the call view's button.
	Creatable binding.Bool

	backend CRM
	dial    func(number string)
	calls   *PopVM
	notify  func(title, body string)
	log     *slog.Logger
	now     func() time.Time
	loc     *time.Location

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	items []api.Callback
	gen   int
}

// CallbacksOption configures a CallbacksVM.
type CallbacksOption func(*CallbacksVM)

// WithCallbacksClock replaces time.Now; loc is the zone that decides "today".
func WithCallbacksClock(now func() time.Time, loc *time.Location) CallbacksOption {
	return func(m *CallbacksVM) { m.now, m.loc = now, loc }
}

// WithCallbacksLogger sets the logger.
func WithCallbacksLogger(l *slog.Logger) CallbacksOption { return func(m *CallbacksVM) { m.log = l } }

// WithReminder is called when a callback falls due, with a title and a
// line: the UI raises a desktop notification from it.
func WithReminder(f func(title, body string)) CallbacksOption {
	return func(m *CallbacksVM) { m.notify = f }
}

// NewCallbacksVM makes the tab; dial places a call (the bar's DialNumber);
// calls is the screen pop, whose call a new callback is made in.
func NewCallbacksVM(b CRM, dial func(number string), calls *PopVM, opts ...CallbacksOption) *CallbacksVM {
	m := &CallbacksVM{
		Rows: binding.NewUntypedList(), Empty: binding.NewBool(), Message: binding.NewString(),
		Badge: binding.NewString(), Reminder: binding.NewString(), Creatable: binding.NewBool(),
		backend: b, dial: dial, calls: calls, log: slog.New(slog.DiscardHandler), now: time.Now, loc: time.Local,
	}
	for _, o := range opts {
		o(m)
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m
}

// Close cancels requests in flight and waits for them.
func (m *CallbacksVM) Close() {
	m.cancel()
	m.wg.Wait()
}

// Wait waits for requests in flight (tests).
func (m *CallbacksVM) Wait() { m.wg.Wait() }

func (m *CallbacksVM) goCmd(f func(ctx context.Context)) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		f(m.ctx)
	}()
}

// Load fetches today's callbacks in the background.
func (m *CallbacksVM) Load() {
	m.mu.Lock()
	m.gen++
	gen := m.gen
	m.mu.Unlock()
	m.goCmd(func(ctx context.Context) {
		today := startOfDay(m.now(), m.loc)
		items, err := m.backend.Callbacks(ctx, today)
		var missed []api.Callback
		if err == nil {
			// Yesterday's callbacks that expired uncalled are still work
			// to do: they stay on today's plan until rescheduled (which
			// makes them pending again) or deleted. The server expires a
			// callback only when its day has ended, so an expired one is
			// never among today's own.
			missed, err = m.backend.Callbacks(ctx, today.AddDate(0, 0, -1))
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		if gen != m.gen || ctx.Err() != nil {
			return
		}
		if err != nil {
			m.log.Info("callbacks", "err", err)
			_ = m.Message.Set(lang.L("Cannot load the callbacks: {{.Error}}", map[string]any{"Error": reason(err)}))
			return
		}
		_ = m.Message.Set("")
		m.items = items
		for _, cb := range missed {
			if cb.State == api.CallbackExpired && !m.has(cb.ID) {
				m.items = append(m.items, cb)
			}
		}
		m.render()
	})
}

// has says whether the list holds callback id. Call with mu held.
func (m *CallbacksVM) has(id int64) bool {
	for _, it := range m.items {
		if it.ID == id {
			return true
		}
	}
	return false
}

// Call dials the callback's number now.
func (m *CallbacksVM) Call(r CallbackRow) {
	if m.dial != nil && r.Number != "" {
		m.dial(r.Number)
	}
}

// Reschedule moves a callback to a new time.
func (m *CallbacksVM) Reschedule(r CallbackRow, due time.Time) {
	// The stored remark, not the row's: an earlier day's row shows its
	// date in front of it.
	remark := r.Remark
	m.mu.Lock()
	for _, it := range m.items {
		if it.ID == r.ID {
			remark = it.Remark
		}
	}
	m.mu.Unlock()
	m.goCmd(func(ctx context.Context) {
		cb, err := m.backend.UpdateCallback(ctx, r.ID, api.CallbackInput{DueAt: due, Remark: remark})
		if err != nil {
			m.log.Info("reschedule callback", "err", err)
			_ = m.Message.Set(failureAbout(lang.L("Reschedule"), subject{}, lang.L("This callback is already done"), err))
			return
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		m.put(cb)
		_ = m.Message.Set("")
		m.render()
	})
}

// Delete removes a callback (the UI asks first).
func (m *CallbacksVM) Delete(r CallbackRow) {
	m.goCmd(func(ctx context.Context) {
		if err := m.backend.DeleteCallback(ctx, r.ID); err != nil {
			m.log.Info("delete callback", "err", err)
			_ = m.Message.Set(failureAbout(lang.L("Delete"), subject{}, lang.L("This callback is already done"), err))
			return
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		out := m.items[:0]
		for _, it := range m.items {
			if it.ID != r.ID {
				out = append(out, it)
			}
		}
		m.items = out
		_ = m.Message.Set("")
		m.render()
	})
}

// CanCreate says whether the call view may offer "New callback": a call
// is on the bar or just ended and its number is known.
func (m *CallbacksVM) CanCreate() bool {
	_, number, _, stage := m.calls.Current()
	return number != "" && (stage == PopTalking || stage == PopEnded)
}

// Create schedules a callback to the popped call's customer; done gets
// nil, or the refusal or failure to show in the dialog.
func (m *CallbacksVM) Create(due time.Time, remark string, done func(error)) {
	id, number, _, _ := m.calls.Current()
	m.goCmd(func(ctx context.Context) {
		cb, err := m.backend.CreateCallback(ctx, api.CallbackInput{CallID: id, Number: number, DueAt: due, Remark: strings.TrimSpace(remark)})
		if err == nil {
			m.mu.Lock()
			if sameDay(cb.DueAt, m.now(), m.loc) {
				m.put(cb)
				m.render()
			}
			m.mu.Unlock()
		} else {
			m.log.Info("create callback", "err", err)
		}
		if done != nil {
			done(err)
		}
	})
}

// CreateError is the line a create dialog shows for err.
func CreateError(err error) string { return failure(lang.L("New callback"), err) }

// DismissReminder hides the in-app reminder.
func (m *CallbacksVM) DismissReminder() {
	m.mu.Lock()
	m.reminderID = 0
	m.mu.Unlock()
	_ = m.Reminder.Set("")
}

// CallReminder dials the reminded callback and hides the reminder.
func (m *CallbacksVM) CallReminder() {
	m.mu.Lock()
	var number string
	for _, it := range m.items {
		if it.ID == m.reminderID {
			number = it.Number
		}
	}
	m.mu.Unlock()
	m.DismissReminder()
	if number != "" && m.dial != nil {
		m.dial(number)
	}
}

// HandleServer takes reminders and state changes.
func (m *CallbacksVM) HandleServer(ev api.Event) {
	_ = m.Creatable.Set(m.CanCreate())
	if ev.Type != api.EventCallbackDue && ev.Type != api.EventCallbackDone {
		return
	}
	var cb api.Callback
	if err := json.Unmarshal(ev.Data, &cb); err != nil {
		m.log.Warn("bad callback event", "type", ev.Type, "err", err)
		return
	}
	m.mu.Lock()
	if sameDay(cb.DueAt, m.now(), m.loc) {
		m.put(cb)
	}
	var line string
	if ev.Type == api.EventCallbackDue {
		m.reminderID = cb.ID
		line = callbackLine(cb)
	} else if m.reminderID == cb.ID && cb.State != api.CallbackPending {
		m.reminderID = 0
		_ = m.Reminder.Set("")
	}
	m.render()
	m.mu.Unlock()
	if line == "" {
		return
	}
	_ = m.Reminder.Set(lang.L("Callback due: {{.Callback}}", map[string]any{"Callback": line}))
	if m.notify != nil {
		m.notify(lang.L("Callback due"), line)
	}
}

// HandleCall reloads the list when a call ends: a completed call may have
// done a callback.
func (m *CallbacksVM) HandleCall(ev PhoneEvent) {
	_ = m.Creatable.Set(m.CanCreate())
	if ev.Kind == EventCall && ev.State == CallEnded {
		m.Load()
	}
}

// Tick redraws: a pending callback turns due as time passes.
func (m *CallbacksVM) Tick() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.items) > 0 {
		m.render()
	}
}

func callbackLine(cb api.Callback) string {
	parts := []string{cb.Number}
	if cb.Name != "" {
		parts = append(parts, cb.Name)
	}
	if cb.Remark != "" {
		parts = append(parts, cb.Remark)
	}
	return strings.Join(parts, " · ")
}

func sameDay(a, b time.Time, loc *time.Location) bool {
	return startOfDay(a, loc).Equal(startOfDay(b, loc))
}

// put replaces or adds cb. Call with mu held.
func (m *CallbacksVM) put(cb api.Callback) {
	for i, it := range m.items {
		if it.ID == cb.ID {
			if sameDay(cb.DueAt, m.now(), m.loc) || (cb.State == api.CallbackExpired && !cb.DueAt.After(m.now())) {
				m.items[i] = cb
			} else {
				// Rescheduled to another day: not today's any more.
				m.items = append(m.items[:i], m.items[i+1:]...)
			}
			return
		}
	}
	m.items = append(m.items, cb)
}

func callbackState(s string) string {
	switch s {
	case api.CallbackPending:
		return lang.L("Pending")
	case api.CallbackDone:
		return lang.L("Done")
	case api.CallbackExpired:
		return lang.L("Expired")
	}
	return s
}

// render writes the rows, by due time. Call with mu held.
func (m *CallbacksVM) render() {
	sort.SliceStable(m.items, func(i, j int) bool { return m.items[i].DueAt.Before(m.items[j].DueAt) })
	now := m.now()
	rows := make([]any, 0, len(m.items))
	due := 0
	for _, it := range m.items {
		r := CallbackRow{ID: it.ID, When: it.DueAt.In(m.loc).Format("15:04"), Number: it.Number, Name: it.Name,
			Remark: it.Remark, State: callbackState(it.State), Expired: it.State == api.CallbackExpired,
			Done: it.State == api.CallbackDone, DueAt: it.DueAt}
		if !sameDay(it.DueAt, now, m.loc) {
			// An earlier day's (expired) callback: the date goes on the
			// remark line, so the time column stays one width.
			r.Remark = strings.TrimSuffix(it.DueAt.In(m.loc).Format("01-02")+" · "+it.Remark, " · ")
		}
		r.Due = it.State == api.CallbackPending && !it.DueAt.After(now)
		if r.Due {
			due++
		}
		rows = append(rows, r)
	}
	_ = m.Rows.Set(rows)
	_ = m.Empty.Set(len(rows) == 0)
	badge := ""
	if due > 0 {
		badge = lang.L("{{.Count}} due", map[string]any{"Count": due})
	}
	_ = m.Badge.Set(badge)
}
