package agentstate

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter"
)

var (
	cst = time.FixedZone("CST", 8*3600)
	t0  = time.Date(2025, 3, 14, 9, 0, 0, 0, cst)
)

// states builds a machine in each class of status the matrix covers.
var states = []struct {
	name  string
	build func(t *testing.T, m *Machine, now time.Time)
}{
	{"offline", func(*testing.T, *Machine, time.Time) {}},
	{"busy", func(t *testing.T, m *Machine, now time.Time) { must(t)(m.Login(now)) }},
	{"idle", func(t *testing.T, m *Machine, now time.Time) {
		must(t)(m.Login(now))
		must(t)(m.SetPhone(callcenter.PhoneIdle, now))
	}},
	{"custom", func(t *testing.T, m *Machine, now time.Time) {
		must(t)(m.Login(now))
		must(t)(m.SetCustom("meeting", now))
	}},
	{"ringing", func(t *testing.T, m *Machine, now time.Time) {
		must(t)(m.Login(now))
		must(t)(m.SetPhone(callcenter.PhoneIdle, now))
		must(t)(m.Offer(now))
	}},
	{"talking", func(t *testing.T, m *Machine, now time.Time) {
		must(t)(m.Login(now))
		must(t)(m.SetPhone(callcenter.PhoneIdle, now))
		must(t)(m.Offer(now))
		must(t)(m.Answer(now))
	}},
	{"acw", func(t *testing.T, m *Machine, now time.Time) {
		must(t)(m.Login(now))
		must(t)(m.SetPhone(callcenter.PhoneIdle, now))
		must(t)(m.Offer(now))
		must(t)(m.Answer(now))
		must(t)(m.Hangup(time.Minute, now))
	}},
}

func must(t *testing.T) func(callcenter.AgentStatus, error) {
	return func(_ callcenter.AgentStatus, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestMatrix runs every operation in every class of status: the allowed
// ones must land in the expected class, the refused ones must fail with
// the expected reason and leave the status untouched.
func TestMatrix(t *testing.T) {
	type op struct {
		name string
		op   Op
		do   func(m *Machine, now time.Time) (callcenter.AgentStatus, error)
	}
	missed := func(m *Machine, now time.Time) (callcenter.AgentStatus, error) {
		st, _, err := m.MissedOffer(now)
		return st, err
	}
	// want: one entry per states[i]; "!" means refused with that error.
	tests := []struct {
		op
		want [7]any
	}{
		{op{"Login", OpLogin, (*Machine).Login},
			[7]any{"busy", ErrSignedIn, ErrSignedIn, ErrSignedIn, ErrSignedIn, ErrSignedIn, ErrSignedIn}},
		{op{"Logout", OpLogout, (*Machine).Logout},
			[7]any{ErrOffline, "offline", "offline", "offline", ErrRinging, ErrOnCall, "offline"}},
		{op{"SetCustom(meeting)", OpSetCustom, func(m *Machine, now time.Time) (callcenter.AgentStatus, error) { return m.SetCustom("meeting", now) }},
			[7]any{ErrOffline, "custom:meeting", "custom:meeting", "custom:meeting", ErrRinging, ErrOnCall, "custom:meeting"}},
		{op{"SetCustom(break)", OpSetCustom, func(m *Machine, now time.Time) (callcenter.AgentStatus, error) { return m.SetCustom("break", now) }},
			[7]any{ErrOffline, "custom:break", "custom:break", "custom:break", ErrRinging, ErrOnCall, "custom:break"}},
		{op{"SetCustom(empty)", OpSetCustom, func(m *Machine, now time.Time) (callcenter.AgentStatus, error) { return m.SetCustom("", now) }},
			[7]any{ErrBadInput, ErrBadInput, ErrBadInput, ErrBadInput, ErrBadInput, ErrBadInput, ErrBadInput}},
		{op{"ClearCustom", OpClearCustom, (*Machine).ClearCustom},
			[7]any{ErrOffline, ErrNotCustom, ErrNotCustom, "busy", ErrNotCustom, ErrNotCustom, ErrNotCustom}},
		{op{"SetPhone(busy)", OpSetPhone, func(m *Machine, now time.Time) (callcenter.AgentStatus, error) {
			return m.SetPhone(callcenter.PhoneBusy, now)
		}},
			[7]any{ErrOffline, "busy", "busy", "busy", ErrBusyWhileRinging, ErrBusyWhileTalking, "acw"}},
		{op{"SetPhone(idle)", OpSetPhone, func(m *Machine, now time.Time) (callcenter.AgentStatus, error) {
			return m.SetPhone(callcenter.PhoneIdle, now)
		}},
			[7]any{ErrOffline, "idle", "idle", "idle", "ringing", "talking", "acw"}},
		{op{"SetPhone(7)", OpSetPhone, func(m *Machine, now time.Time) (callcenter.AgentStatus, error) { return m.SetPhone(7, now) }},
			[7]any{ErrBadInput, ErrBadInput, ErrBadInput, ErrBadInput, ErrBadInput, ErrBadInput, ErrBadInput}},
		{op{"SetAutoAnswer(on)", OpSetAutoAnswer, func(m *Machine, now time.Time) (callcenter.AgentStatus, error) { return m.SetAutoAnswer(true, now) }},
			[7]any{ErrOffline, "busy", "idle", "custom:meeting", "ringing", "talking", "acw"}},
		{op{"SetAutoAnswer(off)", OpSetAutoAnswer, func(m *Machine, now time.Time) (callcenter.AgentStatus, error) { return m.SetAutoAnswer(false, now) }},
			[7]any{ErrOffline, "busy", "idle", "custom:meeting", "ringing", "talking", "acw"}},
		{op{"Offer", OpOffer, (*Machine).Offer},
			[7]any{ErrOffline, ErrNotAvailable, "ringing", ErrNotAvailable, ErrRinging, ErrOnCall, ErrNotAvailable}},
		{op{"Answer", OpAnswer, (*Machine).Answer},
			[7]any{ErrOffline, ErrNotRinging, ErrNotRinging, ErrNotRinging, "talking", ErrNotRinging, ErrNotRinging}},
		{op{"OfferEnded(elsewhere)", OpOfferEnded, func(m *Machine, now time.Time) (callcenter.AgentStatus, error) { return m.OfferEnded(true, now) }},
			[7]any{ErrOffline, ErrNotRinging, ErrNotRinging, ErrNotRinging, "idle", ErrNotRinging, ErrNotRinging}},
		{op{"OfferEnded(abandoned)", OpOfferEnded, func(m *Machine, now time.Time) (callcenter.AgentStatus, error) { return m.OfferEnded(false, now) }},
			[7]any{ErrOffline, ErrNotRinging, ErrNotRinging, ErrNotRinging, "idle", ErrNotRinging, ErrNotRinging}},
		{op{"MissedOffer", OpMissedOffer, missed},
			[7]any{ErrOffline, ErrNotRinging, ErrNotRinging, ErrNotRinging, "idle", ErrNotRinging, ErrNotRinging}},
		{op{"StartOutbound", OpStartOutbound, (*Machine).StartOutbound},
			[7]any{ErrOffline, "talking", "talking", "talking", ErrRinging, ErrOnCall, "talking"}},
		{op{"Hangup(0)", OpHangup, func(m *Machine, now time.Time) (callcenter.AgentStatus, error) { return m.Hangup(0, now) }},
			[7]any{ErrOffline, ErrNotOnCall, ErrNotOnCall, ErrNotOnCall, ErrNotOnCall, "idle", ErrNotOnCall}},
		{op{"Hangup(30s)", OpHangup, func(m *Machine, now time.Time) (callcenter.AgentStatus, error) { return m.Hangup(30*time.Second, now) }},
			[7]any{ErrOffline, ErrNotOnCall, ErrNotOnCall, ErrNotOnCall, ErrNotOnCall, "acw", ErrNotOnCall}},
		{op{"Hangup(-1s)", OpHangup, func(m *Machine, now time.Time) (callcenter.AgentStatus, error) { return m.Hangup(-time.Second, now) }},
			[7]any{ErrBadInput, ErrBadInput, ErrBadInput, ErrBadInput, ErrBadInput, ErrBadInput, ErrBadInput}},
		{op{"FinishACW", OpFinishACW, (*Machine).FinishACW},
			[7]any{ErrOffline, ErrNotInACW, ErrNotInACW, ErrNotInACW, ErrNotInACW, ErrNotInACW, "idle"}},
		{op{"ExtendACW(30s)", OpExtendACW, func(m *Machine, now time.Time) (callcenter.AgentStatus, error) {
			return m.ExtendACW(30*time.Second, now)
		}},
			[7]any{ErrOffline, ErrNotInACW, ErrNotInACW, ErrNotInACW, ErrNotInACW, ErrNotInACW, "acw"}},
		{op{"ExtendACW(0)", OpExtendACW, func(m *Machine, now time.Time) (callcenter.AgentStatus, error) { return m.ExtendACW(0, now) }},
			[7]any{ErrBadInput, ErrBadInput, ErrBadInput, ErrBadInput, ErrBadInput, ErrBadInput, ErrBadInput}},
		{op{"Restore(idle)", OpRestore, restore(callcenter.PresenceOnline, "", callcenter.PhoneIdle)},
			[7]any{"idle", ErrSignedIn, ErrSignedIn, ErrSignedIn, ErrSignedIn, ErrSignedIn, ErrSignedIn}},
		{op{"Restore(busy)", OpRestore, restore(callcenter.PresenceOnline, "", callcenter.PhoneBusy)},
			[7]any{"busy", ErrSignedIn, ErrSignedIn, ErrSignedIn, ErrSignedIn, ErrSignedIn, ErrSignedIn}},
		{op{"Restore(meeting)", OpRestore, restore(callcenter.PresenceCustom, "meeting", callcenter.PhoneIdle)},
			[7]any{"custom:meeting", ErrSignedIn, ErrSignedIn, ErrSignedIn, ErrSignedIn, ErrSignedIn, ErrSignedIn}},
		{op{"Restore(offline)", OpRestore, restore(callcenter.PresenceOffline, "", callcenter.PhoneBusy)},
			[7]any{ErrBadInput, ErrBadInput, ErrBadInput, ErrBadInput, ErrBadInput, ErrBadInput, ErrBadInput}},
		{op{"Restore(custom without name)", OpRestore, restore(callcenter.PresenceCustom, "", callcenter.PhoneBusy)},
			[7]any{ErrBadInput, ErrBadInput, ErrBadInput, ErrBadInput, ErrBadInput, ErrBadInput, ErrBadInput}},
	}
	for _, tc := range tests {
		for i, s := range states {
			t.Run(tc.name+"/"+s.name, func(t *testing.T) {
				m := New("1001", t0, WithLocation(cst))
				s.build(t, m, t0)
				before := m.Status()
				now := t0.Add(5 * time.Second)
				got, err := tc.do(m, now)
				switch want := tc.want[i].(type) {
				case string:
					if err != nil {
						t.Fatalf("refused: %v", err)
					}
					if d := Describe(got); d != want {
						t.Fatalf("got %s, want %s", d, want)
					}
					if got != m.Status() {
						t.Fatalf("returned %+v, Status() %+v", got, m.Status())
					}
				case error:
					if !errors.Is(err, want) {
						t.Fatalf("err = %v, want %v (status %s)", err, want, Describe(got))
					}
					var te *TransitionError
					if !errors.As(err, &te) || te.Op != tc.op.op || te.From != before || te.Agent != "1001" {
						t.Fatalf("err %#v: want TransitionError{Op: %s, From: %+v}", err, tc.op.op, before)
					}
					if m.Status() != before || got != before {
						t.Fatalf("refused op changed status: %+v -> %+v", before, m.Status())
					}
				}
			})
		}
	}
}

func TestErrorsMatchInvalid(t *testing.T) {
	m := New("1001", t0)
	_, err := m.SetCustom("", t0)
	if !errors.Is(err, callcenter.ErrInvalid) {
		t.Fatalf("%v does not match callcenter.ErrInvalid", err)
	}
	if want := "agent 1001: set custom status while offline: invalid input: bad argument"; err.Error() != want {
		t.Fatalf("message %q, want %q", err.Error(), want)
	}
}

func TestSinceRestartsOnSwitchOnly(t *testing.T) {
	m := New("1001", t0)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	steps := []struct {
		name      string
		do        func(time.Time) (callcenter.AgentStatus, error)
		at        int
		wantSince int
	}{
		{"login", m.Login, 1, 1},
		{"auto-answer does not restart", func(n time.Time) (callcenter.AgentStatus, error) { return m.SetAutoAnswer(true, n) }, 2, 1},
		{"same phone status does not restart", func(n time.Time) (callcenter.AgentStatus, error) { return m.SetPhone(callcenter.PhoneBusy, n) }, 3, 1},
		{"idle restarts", func(n time.Time) (callcenter.AgentStatus, error) { return m.SetPhone(callcenter.PhoneIdle, n) }, 4, 4},
		{"custom", func(n time.Time) (callcenter.AgentStatus, error) { return m.SetCustom("meeting", n) }, 5, 5},
		{"same custom does not restart", func(n time.Time) (callcenter.AgentStatus, error) { return m.SetCustom("meeting", n) }, 6, 5},
		{"other custom restarts", func(n time.Time) (callcenter.AgentStatus, error) { return m.SetCustom("break", n) }, 7, 7},
		{"clear", m.ClearCustom, 8, 8},
		{"offer", m.Offer, 9, 9},
		{"answer", m.Answer, 10, 10},
		{"hangup to acw", func(n time.Time) (callcenter.AgentStatus, error) { return m.Hangup(30*time.Second, n) }, 20, 20},
		{"extend keeps the acw timer", func(n time.Time) (callcenter.AgentStatus, error) { return m.ExtendACW(30*time.Second, n) }, 25, 20},
		{"phone busy during acw restarts", func(n time.Time) (callcenter.AgentStatus, error) { return m.SetPhone(callcenter.PhoneBusy, n) }, 26, 26},
	}
	for _, s := range steps {
		st, err := s.do(at(s.at))
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if !st.Since.Equal(at(s.wantSince)) {
			t.Fatalf("%s: Since = %v, want %v", s.name, st.Since.Sub(t0), at(s.wantSince).Sub(t0))
		}
	}
	// ACW (20 s + 30 s + 30 s extension) ends at 80 s; a late tick still
	// starts the next status at the end of the work, not at the tick.
	if d := m.NextDeadline(); !d.Equal(at(80)) {
		t.Fatalf("deadline %v, want 80s", d.Sub(t0))
	}
	if st, changed := m.Tick(at(79)); changed || st.Activity != callcenter.ActivityACW {
		t.Fatalf("tick before the end changed %v: %+v", changed, st)
	}
	st, changed := m.Tick(at(95))
	if !changed || Describe(st) != "busy" || !st.Since.Equal(at(80)) {
		t.Fatalf("late tick: changed %v, %s since %v", changed, Describe(st), st.Since.Sub(t0))
	}
	if !m.NextDeadline().IsZero() {
		t.Fatal("deadline after acw")
	}
}

func TestACWExpiresBeforeAnyOp(t *testing.T) {
	m := New("1001", t0)
	states[6].build(t, m, t0) // acw for 1 minute, phone idle
	if _, err := m.ExtendACW(time.Minute, t0.Add(time.Minute)); !errors.Is(err, ErrNotInACW) {
		t.Fatalf("extend after expiry: %v", err)
	}
	st := m.Status()
	if !st.Available() || !st.IdleSince.Equal(t0.Add(time.Minute)) {
		t.Fatalf("after acw: %+v", st)
	}
}

func TestIdleSince(t *testing.T) {
	m := New("1001", t0)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	must(t)(m.Login(at(0)))
	if !m.Status().IdleSince.IsZero() {
		t.Fatal("busy agent has IdleSince")
	}
	must(t)(m.SetPhone(callcenter.PhoneIdle, at(10)))
	must(t)(m.SetAutoAnswer(true, at(11)))
	if got := m.Status().IdleSince; !got.Equal(at(10)) {
		t.Fatalf("IdleSince %v", got.Sub(t0))
	}
	// Unanswered offers give the place in the longest-idle order back.
	must(t)(m.Offer(at(20)))
	if !m.Status().IdleSince.IsZero() {
		t.Fatal("ringing agent has IdleSince")
	}
	must(t)(m.OfferEnded(true, at(25)))
	if got := m.Status().IdleSince; !got.Equal(at(10)) {
		t.Fatalf("after ring-all loss IdleSince %v", got.Sub(t0))
	}
	must(t)(m.Offer(at(30)))
	if _, _, err := m.MissedOffer(at(45)); err != nil {
		t.Fatal(err)
	}
	if got := m.Status().IdleSince; !got.Equal(at(10)) {
		t.Fatalf("after missed offer IdleSince %v", got.Sub(t0))
	}
	// A call sends the agent to the back.
	must(t)(m.Offer(at(50)))
	must(t)(m.Answer(at(52)))
	must(t)(m.Hangup(0, at(100)))
	if got := m.Status().IdleSince; !got.Equal(at(100)) {
		t.Fatalf("after call IdleSince %v", got.Sub(t0))
	}
}

func TestMissedTwiceSetsBusy(t *testing.T) {
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	tests := []struct {
		name string
		// seq: o = offer then missed, a = offer then answer+hangup,
		// x = offer then caller abandoned, b = agent sets busy then idle
		seq        string
		wantNotice []int // indexes in seq where the notice comes
		wantMissed int
	}{
		{"two in a row", "oo", []int{1}, 2},
		{"answer resets", "oaoo", []int{3}, 3},
		{"abandon is neutral", "oxo", []int{2}, 3},
		{"four in a row: two notices", "oooo", []int{1, 3}, 4},
		{"agent's own busy resets", "obo", nil, 2},
		{"one miss", "o", nil, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := New("1001", t0, WithLocation(cst))
			must(t)(m.Login(at(0)))
			sec := 1
			var notices []int
			for i, c := range tc.seq {
				if m.Status().Phone == callcenter.PhoneBusy || c == 'b' {
					if c == 'b' {
						must(t)(m.SetPhone(callcenter.PhoneBusy, at(sec)))
						sec++
					}
					must(t)(m.SetPhone(callcenter.PhoneIdle, at(sec)))
					sec++
					if c == 'b' {
						continue
					}
				}
				must(t)(m.Offer(at(sec)))
				sec += 15
				switch c {
				case 'o':
					st, n, err := m.MissedOffer(at(sec))
					if err != nil {
						t.Fatal(err)
					}
					if n != nil {
						if n.Code != NoticeMissedTwice || n.Message == "" {
							t.Fatalf("notice %+v", n)
						}
						if st.Phone != callcenter.PhoneBusy || st.Available() || m.MissStreak() != 0 {
							t.Fatalf("after notice: %+v streak %d", st, m.MissStreak())
						}
						notices = append(notices, i)
					} else if !st.Available() {
						t.Fatalf("after one miss not available: %+v", st)
					}
				case 'a':
					must(t)(m.Answer(at(sec)))
					must(t)(m.Hangup(0, at(sec+1)))
				case 'x':
					must(t)(m.OfferEnded(false, at(sec)))
				}
				sec += 2
			}
			if fmt.Sprint(notices) != fmt.Sprint(tc.wantNotice) && !(len(notices) == 0 && len(tc.wantNotice) == 0) {
				t.Fatalf("notices at %v, want %v", notices, tc.wantNotice)
			}
			if f := m.Figures(at(sec)); f.Missed != tc.wantMissed {
				t.Fatalf("missed %d, want %d", f.Missed, tc.wantMissed)
			}
		})
	}
	t.Run("limit option", func(t *testing.T) {
		m := New("1001", t0, WithMissLimit(3))
		must(t)(m.Login(t0))
		for i := range 3 {
			must(t)(m.SetPhone(callcenter.PhoneIdle, t0))
			must(t)(m.Offer(t0))
			_, n, err := m.MissedOffer(t0)
			if err != nil || (n != nil) != (i == 2) {
				t.Fatalf("miss %d: notice %v err %v", i, n, err)
			}
		}
	})
}

func TestCustomAndOutbound(t *testing.T) {
	m := New("1001", t0)
	must(t)(m.Login(t0))
	must(t)(m.SetPhone(callcenter.PhoneIdle, t0))
	must(t)(m.SetCustom("break", t0))
	// Leaving a custom status returns to the phone status from before.
	if st, err := m.ClearCustom(t0); err != nil || Describe(st) != "idle" {
		t.Fatalf("clear: %s %v", Describe(st), err)
	}
	// A custom status may dial out and is back in it after the call.
	must(t)(m.SetCustom("meeting", t0))
	must(t)(m.StartOutbound(t0))
	if st, err := m.Hangup(0, t0); err != nil || Describe(st) != "custom:meeting" {
		t.Fatalf("after outbound from custom: %s %v", Describe(st), err)
	}
	// Auto-answer survives logout and login; custom status does not.
	must(t)(m.SetAutoAnswer(true, t0))
	must(t)(m.Logout(t0))
	st, err := m.Login(t0)
	if err != nil || !st.AutoAnswer || st.Presence != callcenter.PresenceOnline || st.Phone != callcenter.PhoneBusy {
		t.Fatalf("relogin: %+v %v", st, err)
	}
}

// TestFiguresAcrossMidnight drives a day with a fake clock: busy, idle,
// custom, a call that spans midnight and after-call work after it.
func TestFiguresAcrossMidnight(t *testing.T) {
	day := func(d, h, mi, s int) time.Time { return time.Date(2025, 3, d, h, mi, s, 0, cst) }
	m := New("1001", day(14, 8, 0, 0), WithLocation(cst))
	type fig struct {
		talk, busy, idle time.Duration
		calls, missed    int
	}
	check := func(now time.Time, want fig) {
		t.Helper()
		f := m.Figures(now)
		got := fig{f.TalkTime, f.BusyTotal, f.IdleTotal, f.Calls, f.Missed}
		if got != want || f.Agent != "1001" {
			t.Fatalf("at %s: got %+v, want %+v", now.Format("15:04:05"), got, want)
		}
	}
	check(day(14, 8, 30, 0), fig{}) // offline counts nowhere
	must(t)(m.Login(day(14, 9, 0, 0)))
	must(t)(m.SetPhone(callcenter.PhoneIdle, day(14, 9, 10, 0))) // 10 min busy
	must(t)(m.SetCustom("meeting", day(14, 10, 0, 0)))           // 50 min idle
	must(t)(m.ClearCustom(day(14, 10, 30, 0)))                   // 30 min custom = busy
	must(t)(m.Offer(day(14, 11, 0, 0)))                          // 30 min idle
	must(t)(m.Answer(day(14, 11, 0, 20)))                        // 20 s ringing = idle
	must(t)(m.Hangup(2*time.Minute, day(14, 11, 5, 20)))         // 5 min talk
	check(day(14, 11, 6, 20), fig{5 * time.Minute, 41 * time.Minute, 80*time.Minute + 20*time.Second, 1, 0})
	must(t)(m.Offer(day(14, 11, 10, 0)))                             // acw 2 min busy, then 2:40 idle
	if _, _, err := m.MissedOffer(day(14, 11, 10, 15)); err != nil { // 15 s idle
		t.Fatal(err)
	}
	check(day(14, 11, 10, 15), fig{5 * time.Minute, 42 * time.Minute, 83*time.Minute + 15*time.Second, 1, 1})
	// A call from 23:50 to 00:10: ten minutes count on each day.
	must(t)(m.Offer(day(14, 23, 50, 0)))
	must(t)(m.Answer(day(14, 23, 50, 0)))
	f := m.Figures(day(14, 23, 59, 59))
	if f.Calls != 2 || f.TalkTime != 5*time.Minute+9*time.Minute+59*time.Second {
		t.Fatalf("before midnight: %+v", f)
	}
	must(t)(m.Hangup(time.Minute, day(15, 0, 10, 0)))
	check(day(15, 0, 10, 30), fig{talk: 10 * time.Minute, busy: 30 * time.Second})
	check(day(15, 0, 12, 0), fig{talk: 10 * time.Minute, busy: time.Minute, idle: time.Minute})
	// A whole day idle, looked at two days later: only today counts.
	check(day(17, 6, 0, 0), fig{idle: 6 * time.Hour})
	// Time does not run backwards: a late event counts as now.
	check(day(17, 5, 0, 0), fig{idle: 6 * time.Hour})
	must(t)(m.Logout(day(17, 7, 0, 0)))
	check(day(17, 9, 0, 0), fig{idle: 7 * time.Hour})
}

func TestFiguresRestored(t *testing.T) {
	m := New("1001", t0, WithLocation(cst), WithFigures(callcenter.AgentFigures{Agent: "1001", Calls: 7, TalkTime: time.Hour}))
	must(t)(m.Login(t0))
	f := m.Figures(t0.Add(time.Minute))
	if f.Calls != 7 || f.TalkTime != time.Hour || f.BusyTotal != time.Minute {
		t.Fatalf("%+v", f)
	}
}

func TestFiguresDST(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	// 2025-03-09 is 23 hours long in New York.
	start := time.Date(2025, 3, 9, 0, 0, 0, 0, ny)
	m := New("1001", start, WithLocation(ny))
	must(t)(m.Login(start))
	must(t)(m.SetPhone(callcenter.PhoneIdle, start))
	if f := m.Figures(start.Add(23 * time.Hour).Add(-time.Second)); f.IdleTotal != 23*time.Hour-time.Second {
		t.Fatalf("end of short day: %+v", f)
	}
	if f := m.Figures(start.Add(23 * time.Hour).Add(time.Minute)); f.IdleTotal != time.Minute {
		t.Fatalf("after midnight: %+v", f)
	}
}

// TestRandomWalk applies random operations at random times and checks the
// invariants after each: talk+busy+idle is the signed-in time of the day,
// IdleSince is set exactly when available, Since never lies in the future.
func TestRandomWalk(t *testing.T) {
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 1))
		m := New("1001", t0, WithLocation(cst))
		now := t0
		var online time.Duration // signed-in time since the last midnight
		for step := range 2000 {
			dt := time.Duration(r.IntN(600)) * time.Second
			prevOnline := m.Status().Presence != callcenter.PresenceOffline
			next := now.Add(dt)
			y, mo, d := next.Date()
			from := now
			if mid := time.Date(y, mo, d, 0, 0, 0, 0, cst); now.Before(mid) {
				online, from = 0, mid
			}
			if prevOnline {
				online += next.Sub(from)
			}
			now = next
			switch r.IntN(14) {
			case 0:
				m.Login(now)
			case 1:
				m.Logout(now)
			case 2:
				m.SetCustom([]string{"meeting", "break"}[r.IntN(2)], now)
			case 3:
				m.ClearCustom(now)
			case 4:
				m.SetPhone(callcenter.PhoneStatus(r.IntN(2)), now)
			case 5:
				m.SetAutoAnswer(r.IntN(2) == 0, now)
			case 6, 7:
				m.Offer(now)
			case 8:
				m.Answer(now)
			case 9:
				m.OfferEnded(r.IntN(2) == 0, now)
			case 10:
				m.MissedOffer(now)
			case 11:
				m.StartOutbound(now)
			case 12:
				m.Hangup(time.Duration(r.IntN(3))*30*time.Second, now)
			case 13:
				m.FinishACW(now)
			}
			st := m.Status()
			f := m.Figures(now)
			if sum := f.TalkTime + f.BusyTotal + f.IdleTotal; sum != online {
				t.Fatalf("seed %d step %d: talk+busy+idle = %v, signed in %v (%+v)", seed, step, sum, online, f)
			}
			if st.Available() == st.IdleSince.IsZero() {
				t.Fatalf("seed %d step %d: available %v but IdleSince %v", seed, step, st.Available(), st.IdleSince)
			}
			if st.Since.After(now) || (st.Activity == callcenter.ActivityACW) == st.ACWUntil.IsZero() {
				t.Fatalf("seed %d step %d: %+v at %v", seed, step, st, now)
			}
		}
	}
}

// restore is a Restore of a previous status with an ongoing call and
// auto-answer on (the call must not come back; auto-answer must).
func restore(p callcenter.Presence, custom string, ph callcenter.PhoneStatus) func(*Machine, time.Time) (callcenter.AgentStatus, error) {
	return func(m *Machine, now time.Time) (callcenter.AgentStatus, error) {
		return m.Restore(callcenter.AgentStatus{Agent: "1001", Presence: p, Custom: custom, Phone: ph,
			AutoAnswer: true, Activity: callcenter.ActivityTalking, Since: t0.Add(-time.Hour)}, now)
	}
}

// TestRestoreKeepsAutoAnswerNotTheCall: a restored agent has its
// auto-answer back, no call, its status since the restore, and counts as
// idle from then on (the figures do not invent time before the restart).
func TestRestoreKeepsAutoAnswerNotTheCall(t *testing.T) {
	m := New("1001", t0, WithLocation(cst))
	now := t0.Add(time.Minute)
	st, err := restore(callcenter.PresenceOnline, "", callcenter.PhoneIdle)(m, now)
	if err != nil {
		t.Fatal(err)
	}
	if !st.AutoAnswer || st.Activity != callcenter.ActivityNone || !st.Since.Equal(now) || !st.Available() || !st.IdleSince.Equal(now) {
		t.Fatalf("restored %+v", st)
	}
	f := m.Figures(now.Add(10 * time.Second))
	if f.IdleTotal != 10*time.Second || f.BusyTotal != 0 || f.TalkTime != 0 {
		t.Fatalf("figures after restore %+v", f)
	}
}
