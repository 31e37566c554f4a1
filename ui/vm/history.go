package vm

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/lang"

	"github.com/agentphone/agentphone/callcenter/api"
)

// History settings.
const (
	HistoryDays  = 30  // how far back the list goes
	HistoryLimit = 200 // rows fetched at most
	// prefMissedSeen is when the agent last looked at the history: missed
	// calls after it count in the badge, across restarts.
	prefMissedSeen = "history.missed_seen"
)

// HistoryRow is one line of the call history: a section header ("Today",
// "Earlier") or a call.
type HistoryRow struct {
	Header  string // non-empty for a section header; the other fields are empty
	Number  string
	Name    string
	When    string // "14:02", "03-01 14:02"
	Detail  string // "Inbound · 02:13 · 售前咨询", "Missed"
	Inbound bool
	Missed  bool
	// CanCallBack is false for masked numbers (****), which cannot be dialled.
	CanCallBack bool
}

// HistoryVM is the call history (通话记录): today and earlier, inbound and
// outbound, missed calls in red with a badge and a call-back button.
type HistoryVM struct {
	Rows       binding.UntypedList // of HistoryRow
	Badge      binding.String      // unseen missed calls, "" when none
	MissedOnly binding.Bool
	Loading    binding.Bool
	Message    binding.String // why the list could not load, "" when it did
	Empty      binding.Bool   // loaded and nothing to show

	backend Center
	prefs   fyne.Preferences
	dial    func(number string)
	log     *slog.Logger
	now     func() time.Time
	loc     *time.Location
	notify  func(title, body string)

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	items   []api.HistoryItem // newest first, as last loaded plus missed events since
	seen    time.Time         // missed calls after this are unseen
	viewing bool              // the history is on screen: missed calls are seen at once
	gen     int               // load generation, so a stale answer is dropped
}

// HistoryOption configures a HistoryVM.
type HistoryOption func(*HistoryVM)

// WithHistoryClock replaces time.Now; loc is the zone that decides "today".
func WithHistoryClock(now func() time.Time, loc *time.Location) HistoryOption {
	return func(m *HistoryVM) { m.now, m.loc = now, loc }
}

// WithHistoryLogger sets the logger.
func WithHistoryLogger(l *slog.Logger) HistoryOption { return func(m *HistoryVM) { m.log = l } }

// WithMissedNotifier is called for each missed call as it happens.
func WithMissedNotifier(f func(title, body string)) HistoryOption {
	return func(m *HistoryVM) { m.notify = f }
}

// NewHistoryVM makes the history; dial places a call-back (the bar's Dial).
// Load fills it.
func NewHistoryVM(b Center, prefs fyne.Preferences, dial func(number string), opts ...HistoryOption) *HistoryVM {
	m := &HistoryVM{
		Rows:       binding.NewUntypedList(),
		Badge:      binding.NewString(),
		MissedOnly: binding.NewBool(),
		Loading:    binding.NewBool(),
		Message:    binding.NewString(),
		Empty:      binding.NewBool(),
		backend:    b,
		prefs:      prefs,
		dial:       dial,
		log:        slog.New(slog.DiscardHandler),
		now:        time.Now,
		loc:        time.Local,
	}
	for _, o := range opts {
		o(m)
	}
	if ns := prefs.String(prefMissedSeen); ns != "" {
		if n, err := strconv.ParseInt(ns, 10, 64); err == nil {
			m.seen = time.Unix(0, n)
		}
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m
}

// Close cancels a load in flight and waits for it.
func (m *HistoryVM) Close() {
	m.cancel()
	m.wg.Wait()
}

// Wait waits for loads in flight (tests, and callers that need the list).
func (m *HistoryVM) Wait() { m.wg.Wait() }

// Load fetches the history in the background.
func (m *HistoryVM) Load() {
	m.mu.Lock()
	m.gen++
	gen := m.gen
	m.mu.Unlock()
	missedOnly, _ := m.MissedOnly.Get()
	_ = m.Loading.Set(true)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		since := startOfDay(m.now(), m.loc).AddDate(0, 0, -HistoryDays)
		items, err := m.backend.History(m.ctx, since, missedOnly, HistoryLimit)
		m.mu.Lock()
		defer m.mu.Unlock()
		if gen != m.gen || m.ctx.Err() != nil {
			return // a newer load (or Close) superseded this one
		}
		_ = m.Loading.Set(false)
		if err != nil {
			m.log.Info("history", "err", err)
			if errors.Is(err, ErrUnsupported) {
				_ = m.Message.Set(lang.L("This server keeps no call history"))
			} else {
				_ = m.Message.Set(lang.L("Cannot load the call history: {{.Error}}", map[string]any{"Error": err.Error()}))
			}
			return
		}
		_ = m.Message.Set("")
		m.items = items
		m.render()
	}()
}

// SetMissedOnly switches between all calls and missed calls only.
func (m *HistoryVM) SetMissedOnly(on bool) {
	if cur, _ := m.MissedOnly.Get(); cur == on {
		return
	}
	_ = m.MissedOnly.Set(on)
	m.Load()
}

// SetViewing says whether the history is on screen; showing it marks
// every missed call seen.
func (m *HistoryVM) SetViewing(on bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.viewing = on
	if on {
		m.markSeen()
	}
	m.render()
}

// markSeen clears the badge. Call with mu held.
func (m *HistoryVM) markSeen() {
	m.seen = m.now()
	m.prefs.SetString(prefMissedSeen, strconv.FormatInt(m.seen.UnixNano(), 10))
}

// CallBack dials the number of row i.
func (m *HistoryVM) CallBack(r HistoryRow) {
	if !r.CanCallBack || m.dial == nil {
		return
	}
	m.dial(r.Number)
}

// HandleServer adds missed calls as they happen.
func (m *HistoryVM) HandleServer(ev api.Event) {
	if ev.Type != api.EventMissed {
		return
	}
	var it api.HistoryItem
	if err := json.Unmarshal(ev.Data, &it); err != nil {
		m.log.Warn("bad missed event", "err", err)
		return
	}
	it.Missed = true
	m.mu.Lock()
	dup := false
	for _, o := range m.items {
		if o.CallID != "" && o.CallID == it.CallID {
			dup = true
		}
	}
	if !dup {
		m.items = append([]api.HistoryItem{it}, m.items...)
	}
	if m.viewing {
		m.markSeen()
	}
	m.render()
	m.mu.Unlock()
	if !dup && m.notify != nil {
		m.notify(lang.L("Missed call"), customerLine(it))
	}
}

// HandleCall reloads the history when one of our calls ends.
func (m *HistoryVM) HandleCall(ev PhoneEvent) {
	if ev.Kind == EventCall && ev.State == CallEnded {
		m.Load()
	}
}

// Tick is part of the bar's parts; the history has no timers.
func (m *HistoryVM) Tick() {}

func customerLine(it api.HistoryItem) string {
	if it.Name != "" {
		return it.Customer + " · " + it.Name
	}
	return it.Customer
}

func startOfDay(t time.Time, loc *time.Location) time.Time {
	y, mo, d := t.In(loc).Date()
	return time.Date(y, mo, d, 0, 0, 0, 0, loc)
}

// render writes the rows and the badge. Call with mu held.
func (m *HistoryVM) render() {
	now := m.now()
	today := startOfDay(now, m.loc)
	missedOnly, _ := m.MissedOnly.Get()
	var rows []any
	section := ""
	unseen := 0
	for _, it := range m.items {
		if it.Missed && it.StartedAt.After(m.seen) {
			unseen++
		}
		if missedOnly && !it.Missed {
			continue
		}
		s := lang.L("Earlier")
		if !it.StartedAt.Before(today) {
			s = lang.L("Today")
		}
		if s != section {
			section = s
			rows = append(rows, HistoryRow{Header: s})
		}
		rows = append(rows, m.row(it, now))
	}
	_ = m.Rows.Set(rows)
	_ = m.Empty.Set(len(rows) == 0)
	badge := ""
	if unseen > 0 {
		badge = strconv.Itoa(unseen)
	}
	_ = m.Badge.Set(badge)
}

func (m *HistoryVM) row(it api.HistoryItem, now time.Time) HistoryRow {
	inbound := it.Type != "outbound" && it.Type != "task" && it.Type != "callback"
	number := it.Customer
	if number == "" {
		if inbound {
			number = it.Caller
		} else {
			number = it.Callee
		}
	}
	var parts []string
	switch {
	case it.Missed:
		parts = append(parts, lang.L("Missed"))
	case inbound:
		parts = append(parts, lang.L("Inbound"))
	default:
		parts = append(parts, lang.L("Outbound"))
	}
	if !it.Missed && it.DurationSec > 0 {
		parts = append(parts, Clock(secs(it.DurationSec)))
	}
	if it.Group != "" {
		parts = append(parts, it.Group)
	}
	if it.Region != "" {
		parts = append(parts, it.Region)
	}
	return HistoryRow{
		Number:      number,
		Name:        it.Name,
		When:        ShortTime(it.StartedAt, now, m.loc),
		Detail:      strings.Join(parts, " · "),
		Inbound:     inbound,
		Missed:      it.Missed,
		CanCallBack: number != "" && !strings.Contains(number, "*"),
	}
}
