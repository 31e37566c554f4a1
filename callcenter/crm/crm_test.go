package crm

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// cst is the service's zone in these tests: days start at 16:00 UTC.
var cst = time.FixedZone("CST", 8*3600)

// t0 is 09:00 local time.
var t0 = time.Date(2025, 3, 14, 9, 0, 0, 0, cst)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *fakeClock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

// fakeLive is the live center: calls by id, then agent.
type fakeLive struct {
	mu    sync.Mutex
	calls map[string]map[string]LiveCall
}

func (l *fakeLive) set(callID, agent string, c LiveCall) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.calls == nil {
		l.calls = map[string]map[string]LiveCall{}
	}
	if l.calls[callID] == nil {
		l.calls[callID] = map[string]LiveCall{}
	}
	l.calls[callID][agent] = c
}

func (l *fakeLive) LiveCall(callID, agent string) (LiveCall, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.calls[callID][agent]
	return c, ok
}

type event struct {
	due   bool
	agent string
	cb    callcenter.Callback
}

type fakeSink struct{ ch chan event }

func (s *fakeSink) CallbackDue(agent string, cb callcenter.Callback) {
	s.ch <- event{due: true, agent: agent, cb: cb}
}

func (s *fakeSink) CallbackDone(agent string, cb callcenter.Callback) {
	s.ch <- event{agent: agent, cb: cb}
}

// drain returns the events sent so far.
func (s *fakeSink) drain() []event {
	var out []event
	for {
		select {
		case e := <-s.ch:
			out = append(out, e)
		default:
			return out
		}
	}
}

type env struct {
	t     *testing.T
	st    *store.SQLite
	clock *fakeClock
	live  *fakeLive
	sink  *fakeSink
	svc   *Service
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "cc.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, st: st, clock: &fakeClock{t: t0}, live: &fakeLive{}, sink: &fakeSink{ch: make(chan event, 100)}}
	e.svc = e.service()
	for _, a := range []callcenter.Agent{
		{WorkNumber: "1001", Name: "Li Lei"}, {WorkNumber: "1002", Name: "Han Meimei"},
		{WorkNumber: "1003", Name: "Lucy"}, {WorkNumber: "1004", Name: "Lily"},
		{WorkNumber: "2001", Name: "Wang Fang", Role: callcenter.RoleSupervisor},
	} {
		if _, err := st.CreateAgent(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// service is a service on e's store, clock, live center and sink; a second
// one is the server after a restart.
func (e *env) service(opts ...Option) *Service {
	return New(e.st, append([]Option{WithClock(e.clock.Now), WithLocation(cst), WithLive(e.live), WithSink(e.sink)}, opts...)...)
}

// record stores an ended call record.
func (e *env) record(r callcenter.CallRecord) {
	e.t.Helper()
	if r.StartedAt.IsZero() {
		r.StartedAt = e.clock.Now().Add(-time.Minute)
	}
	if r.EndedAt.IsZero() {
		r.EndedAt = e.clock.Now()
	}
	if err := e.st.EndCallRecord(context.Background(), r); err != nil {
		e.t.Fatal(err)
	}
}

func inbound(id, caller, agent string, answeredAt time.Time) callcenter.CallRecord {
	return callcenter.CallRecord{CallID: id, Type: callcenter.CallInbound, Caller: caller, Callee: "4008001234",
		Agent: agent, Number: "4008001234", StartedAt: answeredAt.Add(-10 * time.Second), AnsweredAt: answeredAt,
		EndedAt: answeredAt.Add(time.Minute), Result: callcenter.ResultAnswered, HangupBy: callcenter.PartyCaller}
}

func reasonOf(err error) Reason {
	var re *RefusedError
	if errors.As(err, &re) {
		return re.Reason
	}
	return 0
}

// TestNoteRules plays the note rules of SPEC §5 as one script: each step is
// an agent's request and what it must give.
func TestNoteRules(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.record(inbound("c1", "13800138000", "1001", t0.Add(-time.Hour)))
	e.record(inbound("c2", "13900000000", "1001", t0.Add(-30*time.Minute)))
	// c1 was transferred to 1002, who answered: a leg of its own.
	leg := callcenter.CallRecord{CallID: "t1", ParentID: "c1", Type: callcenter.CallInternal, Caller: "1001", Callee: "1002",
		Agent: "1002", StartedAt: t0.Add(-50 * time.Minute), AnsweredAt: t0.Add(-49 * time.Minute),
		EndedAt: t0.Add(-40 * time.Minute), Result: callcenter.ResultAnswered, HangupBy: callcenter.PartyCaller}
	e.record(leg)
	// c3 is live: transferred to 1003, still ringing there.
	e.live.set("c3", "1003", LiveCall{Customer: "137-0000-0000"})

	var first callcenter.Note
	steps := []struct {
		name   string
		do     func() error
		reason Reason // 0: must succeed (unless err is set)
		err    error
	}{
		{"open c1", func() error { _, err := e.svc.OpenNotes(ctx, "1001", "c1"); return err }, 0, nil},
		{"add to c1", func() (err error) { first, err = e.svc.AddNote(ctx, "1001", "c1", "wants a refund"); return err }, 0, nil},
		{"open c2 with c1 open", func() error { _, err := e.svc.OpenNotes(ctx, "1001", "c2"); return err }, ReasonNoteBoxOpen, nil},
		{"add to c2 with c1 open", func() error { _, err := e.svc.AddNote(ctx, "1001", "c2", "x"); return err }, ReasonNoteBoxOpen, nil},
		{"open c1 again", func() error { _, err := e.svc.OpenNotes(ctx, "1001", "c1"); return err }, 0, nil},
		{"blank note", func() error { _, err := e.svc.AddNote(ctx, "1001", "c1", "  "); return err }, 0, callcenter.ErrInvalid},
		{"close c1", func() error { _, err := e.svc.CloseNotes(ctx, "1001", "c1"); return err }, 0, nil},
		{"add to closed c1", func() error { _, err := e.svc.AddNote(ctx, "1001", "c1", "x"); return err }, ReasonNoteBoxClosed, nil},
		{"open c2 after close", func() error { _, err := e.svc.OpenNotes(ctx, "1001", "c2"); return err }, 0, nil},
		{"add to c2", func() error { _, err := e.svc.AddNote(ctx, "1001", "c2", "asked for a brochure"); return err }, 0, nil},
		{"author edits after the call", func() error { _, err := e.svc.EditNote(ctx, "1001", first.ID, "wants a refund of ¥100"); return err }, 0, nil},
		{"stranger opens c1", func() error { _, err := e.svc.OpenNotes(ctx, "1004", "c1"); return err }, ReasonNotInCall, nil},
		{"stranger adds to c1", func() error { _, err := e.svc.AddNote(ctx, "1004", "c1", "x"); return err }, ReasonNotInCall, nil},
		{"unknown call", func() error { _, err := e.svc.OpenNotes(ctx, "1001", "nope"); return err }, ReasonNotInCall, nil},
		{"receiver opens c1 by its leg", func() error {
			b, err := e.svc.OpenNotes(ctx, "1002", "t1")
			if err == nil && (b.CallID != "c1" || len(b.Notes) != 1 || b.Notes[0].Text != "wants a refund of ¥100") {
				t.Errorf("receiver's box = %+v, want c1 with the earlier note", b)
			}
			return err
		}, 0, nil},
		{"receiver edits the earlier note", func() error { _, err := e.svc.EditNote(ctx, "1002", first.ID, "x"); return err }, ReasonNoteReadOnly, nil},
		{"receiver adds after answering", func() error { _, err := e.svc.AddNote(ctx, "1002", "c1", "refund approved"); return err }, 0, nil},
		{"ringing receiver opens c3", func() error {
			b, err := e.svc.OpenNotes(ctx, "1003", "c3")
			if err == nil && b.Customer != "13700000000" {
				t.Errorf("live call's customer = %q, want 13700000000", b.Customer)
			}
			return err
		}, 0, nil},
		{"ringing receiver adds", func() error { _, err := e.svc.AddNote(ctx, "1003", "c3", "x"); return err }, ReasonNotAnsweredYet, nil},
		{"receiver answers, then adds", func() error {
			e.live.set("c3", "1003", LiveCall{Customer: "13700000000", Answered: true})
			_, err := e.svc.AddNote(ctx, "1003", "c3", "transferred from sales")
			return err
		}, 0, nil},
		{"edit unknown note", func() error { _, err := e.svc.EditNote(ctx, "1001", 9999, "x"); return err }, 0, callcenter.ErrNotFound},
	}
	for _, st := range steps {
		e.clock.Add(time.Second)
		err := st.do()
		switch {
		case st.reason != 0:
			if !errors.Is(err, ErrRefused) || reasonOf(err) != st.reason {
				t.Fatalf("%s: err = %v, want refusal %v", st.name, err, st.reason)
			}
		case st.err != nil:
			if !errors.Is(err, st.err) {
				t.Fatalf("%s: err = %v, want %v", st.name, err, st.err)
			}
		case err != nil:
			t.Fatalf("%s: %v", st.name, err)
		}
	}
	notes, err := e.svc.Notes(ctx, "138 0013 8000")
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, n := range notes {
		texts = append(texts, n.Agent+": "+n.Text)
	}
	if want := []string{"1002: refund approved", "1001: wants a refund of ¥100"}; !slices.Equal(texts, want) {
		t.Fatalf("notes of the customer = %q, want %q", texts, want)
	}
	if notes[1].UpdatedAt.IsZero() || notes[1].CallID != "c1" || notes[0].CallID != "c1" {
		t.Fatalf("notes %+v: want both on c1, the edited one with UpdatedAt", notes)
	}
	if _, err := e.svc.Notes(ctx, "not a number"); !errors.Is(err, callcenter.ErrInvalid) {
		t.Fatalf("notes of a non-number: err = %v", err)
	}
	if got := e.service().OpenBox("1001"); got != "" {
		t.Fatalf("a new service (restart) has box %q open, want none", got)
	}
}

func TestTenNewestNotes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i := range 12 {
		id := "call" + string(rune('a'+i))
		e.record(inbound(id, "13800138000", "1001", e.clock.Now()))
		if _, err := e.svc.OpenNotes(ctx, "1001", id); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.AddNote(ctx, "1001", id, "note "+id); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.CloseNotes(ctx, "1001", id); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(time.Hour)
	}
	b, err := e.svc.OpenNotes(ctx, "1001", "calla")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Notes) != NotesShown || b.Notes[0].Text != "note calll" || b.Notes[9].Text != "note callc" {
		t.Fatalf("box shows %d notes from %q to %q; want 10 from call l down to c", len(b.Notes), b.Notes[0].Text, b.Notes[len(b.Notes)-1].Text)
	}
}

func TestCallbackRules(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.record(inbound("c1", "13800138000", "1001", t0.Add(-time.Hour)))
	e.record(inbound("anon", "", "1001", t0.Add(-time.Hour)))
	in := func(callID, number string, due time.Duration, remark string) CallbackInput {
		return CallbackInput{CallID: callID, Number: number, DueAt: t0.Add(due), Remark: remark}
	}
	tests := []struct {
		name       string
		agent      string
		in         CallbackInput
		reason     Reason
		wantNumber string
	}{
		{"from a call", "1001", in("c1", "", time.Hour, "send the quote"), 0, "13800138000"},
		{"with a number", "1001", in("", "(021) 6123-4567", time.Hour, ""), 0, "02161234567"},
		{"a call with another number", "1001", in("c1", "13900000000", time.Hour, ""), 0, "13900000000"},
		{"due now", "1001", in("c1", "", 0, ""), ReasonCallbackInvalid, ""},
		{"due in the past", "1001", in("c1", "", -time.Minute, ""), ReasonCallbackInvalid, ""},
		{"no due time", "1001", CallbackInput{Number: "13800138000"}, ReasonCallbackInvalid, ""},
		{"bad number", "1001", in("", "call me", time.Hour, ""), ReasonCallbackInvalid, ""},
		{"short number", "1001", in("", "12", time.Hour, ""), ReasonCallbackInvalid, ""},
		{"no number, no call", "1001", in("", "", time.Hour, ""), ReasonCallbackInvalid, ""},
		{"anonymous caller", "1001", in("anon", "", time.Hour, ""), ReasonCallbackInvalid, ""},
		{"someone else's call", "1002", in("c1", "", time.Hour, ""), ReasonNotInCall, ""},
		{"long remark", "1001", in("", "13800138000", time.Hour, strings.Repeat("r", callcenter.MaxRemarkLen+1)), ReasonCallbackInvalid, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cb, err := e.svc.CreateCallback(ctx, tt.agent, tt.in)
			if tt.reason != 0 {
				if reasonOf(err) != tt.reason {
					t.Fatalf("err = %v, want refusal %v", err, tt.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cb.ID == 0 || cb.Number != tt.wantNumber || cb.State != callcenter.CallbackPending || cb.Agent != tt.agent ||
				!cb.DueAt.Equal(tt.in.DueAt) || cb.Remark != tt.in.Remark || cb.CallID != tt.in.CallID {
				t.Fatalf("created %+v from %+v", cb, tt.in)
			}
		})
	}
	all, err := e.svc.Callbacks(ctx, "1001", t0)
	if err != nil || len(all) != 3 {
		t.Fatalf("1001's callbacks today: %d, %v; want 3 (refused ones stored nothing)", len(all), err)
	}

	// Reschedule, delete: only the owner; a done one cannot be moved.
	cb := all[0]
	upd := []struct {
		name   string
		agent  string
		in     CallbackInput
		reason Reason
		err    error
	}{
		{"another agent's", "1002", in("", "", 2*time.Hour, ""), 0, callcenter.ErrNotFound},
		{"into the past", "1001", in("", "", -time.Hour, ""), ReasonCallbackInvalid, nil},
		{"bad new number", "1001", in("", "x", 2*time.Hour, ""), ReasonCallbackInvalid, nil},
		{"later with a remark", "1001", in("", "", 2*time.Hour, "after lunch"), 0, nil},
	}
	for _, u := range upd {
		t.Run("reschedule "+u.name, func(t *testing.T) {
			got, err := e.svc.UpdateCallback(ctx, u.agent, cb.ID, u.in)
			switch {
			case u.reason != 0:
				if reasonOf(err) != u.reason {
					t.Fatalf("err = %v, want %v", err, u.reason)
				}
			case u.err != nil:
				if !errors.Is(err, u.err) {
					t.Fatalf("err = %v, want %v", err, u.err)
				}
			case err != nil:
				t.Fatal(err)
			default:
				if !got.DueAt.Equal(u.in.DueAt) || got.Remark != u.in.Remark || got.Number != cb.Number {
					t.Fatalf("rescheduled %+v from %+v", got, u.in)
				}
			}
		})
	}
	e.record(inbound("c9", cb.Number, "1001", t0.Add(time.Minute)))
	if err := e.svc.CallCompleted(ctx, inbound("c9", cb.Number, "1001", t0.Add(time.Minute))); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.UpdateCallback(ctx, "1001", cb.ID, in("", "", 3*time.Hour, "")); reasonOf(err) != ReasonCallbackDone {
		t.Fatalf("rescheduling a done callback: err = %v, want %v", err, ReasonCallbackDone)
	}
	if err := e.svc.DeleteCallback(ctx, "1002", cb.ID); !errors.Is(err, callcenter.ErrNotFound) {
		t.Fatalf("deleting another agent's: err = %v, want ErrNotFound", err)
	}
	if err := e.svc.DeleteCallback(ctx, "1001", cb.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeleteCallback(ctx, "1001", cb.ID); !errors.Is(err, callcenter.ErrNotFound) {
		t.Fatalf("deleting twice: err = %v", err)
	}
}

// TestCallCompleted: which completed calls make a callback done.
func TestCallCompleted(t *testing.T) {
	const number = "13800138000"
	answered := t0.Add(2 * time.Hour)
	out := func(agent string, at time.Time) callcenter.CallRecord {
		return callcenter.CallRecord{CallID: "o-" + agent, Type: callcenter.CallAgentOutbound, Caller: agent, Callee: number,
			Agent: agent, StartedAt: at.Add(-5 * time.Second), AnsweredAt: at, EndedAt: at.Add(time.Minute),
			Result: callcenter.ResultAnswered}
	}
	tests := []struct {
		name string
		rec  callcenter.CallRecord
		done bool
	}{
		{"outbound answered after creation", out("1001", answered), true},
		{"inbound from the number", inbound("in", number, "1001", answered), true},
		{"number typed with separators in the record", inbound("in", "138-0013-8000", "1001", answered), true},
		{"another agent's call", out("1002", answered), false},
		{"another number", inbound("in", "13900000000", "1001", answered), false},
		{"not answered", func() callcenter.CallRecord { r := out("1001", answered); r.AnsweredAt = time.Time{}; return r }(), false},
		{"answered before the callback was made", out("1001", t0.Add(-time.Minute)), false},
		{"internal call", callcenter.CallRecord{CallID: "i", Type: callcenter.CallInternal, Caller: "1001", Callee: number,
			Agent: "1001", StartedAt: answered, AnsweredAt: answered}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			cb, err := e.svc.CreateCallback(ctx, "1001", CallbackInput{Number: number, DueAt: t0.Add(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			e.clock.Set(answered.Add(time.Minute))
			if err := e.svc.CallCompleted(ctx, tt.rec); err != nil {
				t.Fatal(err)
			}
			evs := e.sink.drain()
			got, _ := e.st.Callback(ctx, cb.ID)
			if tt.done {
				if got.State != callcenter.CallbackDone || got.DoneCall != tt.rec.CallID {
					t.Fatalf("callback %+v, want done by %s", got, tt.rec.CallID)
				}
				if len(evs) != 1 || evs[0].due || evs[0].agent != "1001" || evs[0].cb.State != callcenter.CallbackDone {
					t.Fatalf("events %+v, want one done for 1001", evs)
				}
				return
			}
			if got.State != callcenter.CallbackPending || len(evs) != 0 {
				t.Fatalf("callback %v with events %+v, want pending and none", got.State, evs)
			}
		})
	}
}

// TestCallbackDayWithFakeClock walks a callback's life on the fake clock:
// reminded once at its due time (also across a restart), expired when its
// local day ends, rescheduled back to pending.
func TestCallbackDayWithFakeClock(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	mk := func(number string, due time.Time) callcenter.Callback {
		t.Helper()
		cb, err := e.svc.CreateCallback(ctx, "1001", CallbackInput{Number: number, DueAt: due, Remark: "r"})
		if err != nil {
			t.Fatal(err)
		}
		return cb
	}
	ten := mk("13800138000", t0.Add(time.Hour))                    // 10:00
	eleven := mk("13900000000", t0.Add(2*time.Hour))               // 11:00
	late := mk("13700000000", t0.Add(14*time.Hour+59*time.Minute)) // 23:59 local, 15:59 UTC
	tomorrow := mk("13600000000", t0.Add(24*time.Hour))            // 09:00 tomorrow

	type tick struct {
		at   time.Time
		want []string // events in order: "due <id>", "done <id> <state>"
	}
	name := map[int64]string{ten.ID: "ten", eleven.ID: "eleven", late.ID: "late", tomorrow.ID: "tomorrow"}
	steps := []tick{
		{t0.Add(59 * time.Minute), nil},
		{t0.Add(time.Hour), []string{"due ten"}},
		{t0.Add(time.Hour + time.Second), nil},
		{t0.Add(3 * time.Hour), []string{"due eleven"}},
		{t0.Add(14*time.Hour + 59*time.Minute + 30*time.Second), []string{"due late"}},
		// 00:00 local: yesterday's three never called expire, once.
		{time.Date(2025, 3, 15, 0, 0, 0, 0, cst), []string{"done ten expired", "done eleven expired", "done late expired"}},
		{time.Date(2025, 3, 15, 0, 0, 1, 0, cst), nil},
		{time.Date(2025, 3, 15, 9, 0, 0, 0, cst), []string{"due tomorrow"}},
	}
	for i, st := range steps {
		e.clock.Set(st.at)
		svc := e.svc
		if i%2 == 1 {
			svc = e.service() // a restart must not repeat anything
		}
		svc.Tick(ctx)
		var got []string
		for _, ev := range e.sink.drain() {
			if ev.agent != "1001" {
				t.Fatalf("event for %s", ev.agent)
			}
			if ev.due {
				got = append(got, "due "+name[ev.cb.ID])
				if ev.cb.Reminded.IsZero() {
					t.Errorf("due event without reminder time")
				}
			} else {
				got = append(got, "done "+name[ev.cb.ID]+" "+ev.cb.State.String())
			}
		}
		if !slices.Equal(got, st.want) {
			t.Fatalf("tick at %s: events %q, want %q", st.at, got, st.want)
		}
	}

	// Yesterday's list shows them expired; today's the one reminded.
	yday, err := e.svc.Callbacks(ctx, "1001", t0)
	if err != nil || len(yday) != 3 || yday[0].State != callcenter.CallbackExpired || yday[2].ID != late.ID {
		t.Fatalf("yesterday's callbacks %+v, %v", yday, err)
	}
	// The day is the date as written, read in the service's zone: 15 March
	// in UTC is still 15 March.
	today, err := e.svc.Callbacks(ctx, "1001", time.Date(2025, 3, 15, 0, 0, 0, 0, time.UTC))
	if err != nil || len(today) != 1 || today[0].ID != tomorrow.ID || today[0].State != callcenter.CallbackPending {
		t.Fatalf("today's callbacks %+v, %v", today, err)
	}

	// A call to an expired callback's number does not make it done.
	e.clock.Add(time.Hour)
	if err := e.svc.CallCompleted(ctx, inbound("late-call", "13800138000", "1001", e.clock.Now())); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.st.Callback(ctx, ten.ID); got.State != callcenter.CallbackExpired {
		t.Fatalf("expired callback after a later call: %v", got.State)
	}
	// Rescheduled: pending again, reminded again at the new time.
	re, err := e.svc.UpdateCallback(ctx, "1001", ten.ID, CallbackInput{DueAt: e.clock.Now().Add(time.Hour), Remark: "again"})
	if err != nil {
		t.Fatal(err)
	}
	if re.State != callcenter.CallbackPending || !re.Reminded.IsZero() || re.Remark != "again" {
		t.Fatalf("rescheduled %+v", re)
	}
	e.sink.drain()
	e.clock.Add(time.Hour)
	e.svc.Tick(ctx)
	if evs := e.sink.drain(); len(evs) != 1 || !evs[0].due || evs[0].cb.ID != ten.ID {
		t.Fatalf("after reschedule: events %+v, want ten due", evs)
	}
}

// TestRun: the loop reminds on its own as the (fake) clock moves, and ends
// with its context.
func TestRun(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	svc := e.service(WithPollInterval(5 * time.Millisecond))
	cb, err := svc.CreateCallback(ctx, "1001", CallbackInput{Number: "13800138000", DueAt: t0.Add(30 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		svc.Run(ctx)
	}()
	select {
	case ev := <-e.sink.ch:
		t.Fatalf("event %+v before the due time", ev)
	case <-time.After(50 * time.Millisecond):
	}
	e.clock.Add(31 * time.Minute)
	select {
	case ev := <-e.sink.ch:
		if !ev.due || ev.cb.ID != cb.ID {
			t.Fatalf("event %+v, want the callback due", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no reminder within 10 s of the due time")
	}
	cancel()
	<-done
}

func TestCustomers(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.record(inbound("c1", "13800138000", "1001", t0.Add(-2*time.Hour)))
	e.record(inbound("c2", "13800138000", "1002", t0.Add(-time.Hour)))
	e.record(inbound("other", "13900000000", "1001", t0.Add(-time.Hour)))

	zhang, err := e.svc.AddCaller(ctx, "1001", "c1", "张伟")
	if err != nil {
		t.Fatal(err)
	}
	if zhang.Owner != "1001" || !slices.Equal(zhang.Numbers, []string{"13800138000"}) || zhang.Name != "张伟" {
		t.Fatalf("added caller %+v", zhang)
	}
	if _, err := e.svc.AddCaller(ctx, "1001", "c1", ""); !errors.Is(err, callcenter.ErrExists) {
		t.Fatalf("adding the caller twice: err = %v, want ErrExists", err)
	}
	if _, err := e.svc.AddCaller(ctx, "1003", "c1", "x"); reasonOf(err) != ReasonNotInCall {
		t.Fatalf("adding the caller of another's call: err = %v", err)
	}
	bobs, err := e.svc.AddCaller(ctx, "1002", "c2", "")
	if err != nil || bobs.Name != "13800138000" {
		t.Fatalf("1002 adds the same caller without a name: %+v, %v", bobs, err)
	}
	acme, err := e.svc.CreateCustomer(ctx, "1002", callcenter.Customer{Name: " Acme Ltd ", Numbers: []string{"021 6123 4567", "+86 139 1234 5678", "02161234567"},
		Company: "Acme", Tags: []string{"vip", " vip ", ""}, Fields: map[string]string{"city": "Shanghai"}, Owner: "9999"})
	if err != nil {
		t.Fatal(err)
	}
	if acme.Owner != "1002" || acme.Name != "Acme Ltd" || !slices.Equal(acme.Numbers, []string{"02161234567", "+8613912345678"}) || !slices.Equal(acme.Tags, []string{"vip"}) {
		t.Fatalf("created %+v: want owner 1002, normalized numbers and tags", acme)
	}
	for _, bad := range []callcenter.Customer{
		{Name: "x"},
		{Name: "", Numbers: []string{"13800000001"}},
		{Name: "x", Numbers: []string{"abc"}},
	} {
		if _, err := e.svc.CreateCustomer(ctx, "1001", bad); !errors.Is(err, callcenter.ErrInvalid) {
			t.Fatalf("CreateCustomer(%+v) err = %v, want ErrInvalid", bad, err)
		}
	}

	search := []struct {
		q     string
		agent string
		mine  bool
		want  []int64
	}{
		{"", "1001", false, []int64{bobs.ID, acme.ID, zhang.ID}},
		{"张", "1001", false, []int64{zhang.ID}},
		{"acme", "1001", false, []int64{acme.ID}},
		{"138", "1001", false, []int64{bobs.ID, zhang.ID}},
		{"138-0013", "1001", false, []int64{bobs.ID, zhang.ID}},
		{"4567", "1001", false, []int64{acme.ID}},
		{"+86139", "1001", false, []int64{acme.ID}},
		{"138", "1001", true, []int64{zhang.ID}},
		{"", "1002", true, []int64{bobs.ID, acme.ID}},
		{"0013", "1001", false, []int64{bobs.ID}}, // not a prefix or suffix, but in the name "13800138000"
		{"3913", "1001", false, nil},
	}
	for _, s := range search {
		cs, err := e.svc.SearchCustomers(ctx, s.agent, s.q, s.mine)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
		if !slices.Equal(ids, s.want) {
			t.Errorf("search %q by %s (mine %v) = %v, want %v", s.q, s.agent, s.mine, ids, s.want)
		}
	}

	// Edit: the owner or a supervisor; only a supervisor hands it over.
	edit := zhang
	edit.Company = "Zhang & Co"
	edits := []struct {
		name   string
		who    Actor
		c      callcenter.Customer
		reason Reason
		err    error
	}{
		{"another agent", Actor{"1002", callcenter.RoleAgent}, edit, ReasonNotOwner, nil},
		{"owner", Actor{"1001", callcenter.RoleAgent}, edit, 0, nil},
		{"owner hands over", Actor{"1001", callcenter.RoleAgent}, func() callcenter.Customer { c := edit; c.Owner = "1003"; return c }(), ReasonNotOwner, nil},
		{"supervisor", Actor{"2001", callcenter.RoleSupervisor}, func() callcenter.Customer { c := edit; c.Name = "张伟 (VIP)"; return c }(), 0, nil},
		{"supervisor to nobody", Actor{"2001", callcenter.RoleSupervisor}, func() callcenter.Customer { c := edit; c.Owner = "7777"; return c }(), 0, callcenter.ErrNotFound},
		{"bad number", Actor{"1001", callcenter.RoleAgent}, func() callcenter.Customer { c := edit; c.Numbers = []string{"x"}; return c }(), 0, callcenter.ErrInvalid},
	}
	for _, ed := range edits {
		e.clock.Add(time.Second)
		got, err := e.svc.UpdateCustomer(ctx, ed.who, zhang.ID, ed.c)
		switch {
		case ed.reason != 0:
			if reasonOf(err) != ed.reason {
				t.Fatalf("%s: err = %v, want %v", ed.name, err, ed.reason)
			}
		case ed.err != nil:
			if !errors.Is(err, ed.err) {
				t.Fatalf("%s: err = %v, want %v", ed.name, err, ed.err)
			}
		case err != nil:
			t.Fatalf("%s: %v", ed.name, err)
		default:
			if got.Owner != "1001" || got.Company != "Zhang & Co" || !got.CreatedAt.Equal(zhang.CreatedAt) || !got.UpdatedAt.Equal(e.clock.Now()) {
				t.Fatalf("%s: updated %+v", ed.name, got)
			}
		}
	}
	if _, err := e.svc.UpdateCustomer(ctx, Actor{"1001", callcenter.RoleAgent}, 9999, edit); !errors.Is(err, callcenter.ErrNotFound) {
		t.Fatalf("update unknown: %v", err)
	}

	// The card: calls with any of its numbers, notes and callbacks.
	if _, err := e.svc.OpenNotes(ctx, "1001", "c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AddNote(ctx, "1001", "c1", "prefers mornings"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateCallback(ctx, "1001", CallbackInput{CallID: "c1", DueAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	card, err := e.svc.Card(ctx, zhang.ID)
	if err != nil {
		t.Fatal(err)
	}
	if card.Customer.Name != "张伟 (VIP)" || len(card.Calls) != 2 || card.Calls[0].CallID != "c2" || card.Calls[1].CallID != "c1" ||
		len(card.Notes) != 1 || len(card.Callbacks) != 1 {
		t.Fatalf("card %+v", card)
	}
	// By number: the agent's own customer first, else the one updated last.
	for _, tc := range []struct {
		agent string
		want  int64
	}{{"1001", zhang.ID}, {"1002", bobs.ID}, {"1003", zhang.ID}} {
		c, err := e.svc.CustomerByNumber(ctx, tc.agent, "138 0013 8000")
		if err != nil || c.ID != tc.want {
			t.Errorf("CustomerByNumber for %s = %d, %v; want %d", tc.agent, c.ID, err, tc.want)
		}
	}
	if _, err := e.svc.CardByNumber(ctx, "1001", "13700000000"); !errors.Is(err, callcenter.ErrNotFound) {
		t.Fatalf("card of an unknown number: err = %v", err)
	}
	if got := e.svc.CustomerName(ctx, "1002", "+8613912345678"); got != "Acme Ltd" {
		t.Fatalf("CustomerName = %q", got)
	}
}

func TestNormalizeNumber(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"13800138000", "13800138000"},
		{" 138-0013-8000 ", "13800138000"},
		{"+86 (21) 6123.4567", "+862161234567"},
		{"110", "110"},
		{"12", ""},
		{"1+2345", ""},
		{"abc", ""},
		{"", ""},
		{"１３８００１３８０００", ""}, // full-width digits are not ASCII digits
	} {
		got, err := NormalizeNumber(tc.in)
		if tc.want == "" {
			if !errors.Is(err, callcenter.ErrInvalid) {
				t.Errorf("NormalizeNumber(%q) = %q, %v; want ErrInvalid", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("NormalizeNumber(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
