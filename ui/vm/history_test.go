package vm

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/agentphone/agentphone/callcenter/api"
)

type historyFixture struct {
	*HistoryVM
	center *fakeCenter
	dialed []string
	notes  [][2]string
	now    time.Time
}

func newHistory(t *testing.T, items ...api.HistoryItem) *historyFixture {
	t.Helper()
	a := test.NewTempApp(t)
	f := &historyFixture{center: &fakeCenter{history: items}, now: t9}
	f.HistoryVM = NewHistoryVM(f.center, a.Preferences(), func(n string) { f.dialed = append(f.dialed, n) },
		WithHistoryClock(func() time.Time { return f.now }, time.UTC),
		WithMissedNotifier(func(title, body string) { f.notes = append(f.notes, [2]string{title, body}) }))
	t.Cleanup(f.Close)
	return f
}

func (f *historyFixture) load() {
	f.Load()
	f.wg.Wait()
}

func (f *historyFixture) rows(t *testing.T) []HistoryRow {
	t.Helper()
	vs, err := f.Rows.Get()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]HistoryRow, len(vs))
	for i, v := range vs {
		out[i] = v.(HistoryRow)
	}
	return out
}

func item(id, typ, customer string, at time.Time, dur float64, missed bool) api.HistoryItem {
	return api.HistoryItem{CallRecord: api.CallRecord{CallID: id, Type: typ, StartedAt: at, DurationSec: dur}, Customer: customer, Missed: missed}
}

var sample = []api.HistoryItem{
	{CallRecord: api.CallRecord{CallID: "1", Type: "inbound", StartedAt: t9.Add(-time.Hour), DurationSec: 133}, Customer: "13800138000", Name: "张三", Group: "售前咨询"},
	item("2", "inbound", "13700137000", t9.Add(-2*time.Hour), 0, true),
	item("3", "outbound", "13900139000", t9.Add(-10*time.Hour), 61, false),
	item("4", "inbound", "1360013****", t9.Add(-30*time.Hour), 0, true),
}

func TestHistoryRows(t *testing.T) {
	f := newHistory(t, sample...)
	f.load()
	want := []HistoryRow{
		{Header: "Today"},
		{Number: "13800138000", Name: "张三", When: "08:00", Detail: "Inbound · 02:13 · 售前咨询", Inbound: true, CanCallBack: true},
		{Number: "13700137000", When: "07:00", Detail: "Missed", Inbound: true, Missed: true, CanCallBack: true},
		{Header: "Earlier"},
		{Number: "13900139000", When: "03-03 23:00", Detail: "Outbound · 01:01", CanCallBack: true},
		{Number: "1360013****", When: "03-03 03:00", Detail: "Missed", Inbound: true, Missed: true},
	}
	if got := f.rows(t); !reflect.DeepEqual(got, want) {
		t.Errorf("rows\n%+v\nwant\n%+v", got, want)
	}
	if got := f.center.histReqs[0]; !got.since.Equal(time.Date(2025, 2, 2, 0, 0, 0, 0, time.UTC)) || got.missedOnly || got.limit != HistoryLimit {
		t.Errorf("request %+v", got)
	}
	if str(t, f.Badge) != "2" {
		t.Errorf("badge %q, want 2 unseen missed calls", str(t, f.Badge))
	}

	f.SetMissedOnly(true)
	f.wg.Wait()
	var numbers []string
	for _, r := range f.rows(t) {
		numbers = append(numbers, r.Header+r.Number)
	}
	if want := []string{"Today", "13700137000", "Earlier", "1360013****"}; !reflect.DeepEqual(numbers, want) {
		t.Errorf("missed only %v", numbers)
	}
	if last := f.center.histReqs[len(f.center.histReqs)-1]; !last.missedOnly {
		t.Error("missed-only not asked of the server")
	}
}

func TestHistoryCallBack(t *testing.T) {
	f := newHistory(t, sample...)
	f.load()
	rows := f.rows(t)
	for _, r := range rows {
		f.CallBack(r)
	}
	// Headers and the masked number are not dialled.
	if want := []string{"13800138000", "13700137000", "13900139000"}; !reflect.DeepEqual(f.dialed, want) {
		t.Errorf("dialled %v, want %v", f.dialed, want)
	}
}

func TestHistoryBadgeAndMissedEvents(t *testing.T) {
	f := newHistory(t, sample...)
	f.load()
	f.SetViewing(true)
	if b := str(t, f.Badge); b != "" {
		t.Errorf("badge while viewing %q", b)
	}
	f.SetViewing(false)
	f.now = f.now.Add(time.Minute)
	missed := item("9", "inbound", "13500135000", f.now, 0, false) // the event says missed
	missed.Name = "李四"
	f.HandleServer(event(t, api.EventMissed, f.now, missed))
	f.HandleServer(event(t, api.EventMissed, f.now, missed)) // a duplicate is one call
	if b := str(t, f.Badge); b != "1" {
		t.Errorf("badge %q after a missed call", b)
	}
	if rows := f.rows(t); len(rows) != 7 || rows[1].Number != "13500135000" || !rows[1].Missed {
		t.Errorf("missed call not first: %+v", rows)
	}
	if want := [][2]string{{"Missed call", "13500135000 · 李四"}}; !reflect.DeepEqual(f.notes, want) {
		t.Errorf("notes %v", f.notes)
	}
	// The seen mark survives a restart (preferences).
	missed.Missed = true
	g := &historyFixture{center: &fakeCenter{history: append([]api.HistoryItem{missed}, sample...)}, now: f.now}
	g.HistoryVM = NewHistoryVM(g.center, f.prefs, nil, WithHistoryClock(func() time.Time { return g.now }, time.UTC))
	t.Cleanup(g.Close)
	g.load()
	if b := str(t, g.Badge); b != "1" {
		t.Errorf("badge after restart %q, want 1", b)
	}
}

func TestHistoryLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("h: %w", ErrUnsupported), "This server keeps no call history"},
		{fmt.Errorf("boom"), "Cannot load the call history: boom"},
	} {
		f := newHistory(t)
		f.center.histErr = tc.err
		f.load()
		if got := str(t, f.Message); got != tc.want || boolean(t, f.Loading) {
			t.Errorf("message %q loading %v", got, boolean(t, f.Loading))
		}
	}
	f := newHistory(t)
	f.load()
	if !boolean(t, f.Empty) || str(t, f.Message) != "" {
		t.Error("empty history not flagged")
	}
	// A call's end reloads.
	f.HandleCall(PhoneEvent{Kind: EventCall, Call: &fakeCall{}, State: CallEnded})
	f.wg.Wait()
	if len(f.center.histReqs) != 2 {
		t.Errorf("%d loads", len(f.center.histReqs))
	}
}
