package acd

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/agentphone/agentphone/callcenter"
)

var t0 = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)

func sec(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

type fixture struct {
	t   *testing.T
	a   *ACD
	now time.Time
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{t: t, now: t0}
	f.a = New(WithClock(func() time.Time { return f.now }))
	return f
}

func (f *fixture) group(name string, s callcenter.Strategy, members ...string) {
	f.t.Helper()
	f.groupCfg(callcenter.SkillGroup{Name: name, Strategy: s, RingTimeout: 15 * time.Second}, members...)
}

// groupCfg sets a group; members are "agent" or "agent:level".
func (f *fixture) groupCfg(g callcenter.SkillGroup, members ...string) {
	f.t.Helper()
	if err := f.a.SetGroup(g); err != nil {
		f.t.Fatal(err)
	}
	var ms []callcenter.Member
	for _, m := range members {
		name, level := m, 1
		if i := strings.IndexByte(m, ':'); i > 0 {
			name = m[:i]
			fmt.Sscan(m[i+1:], &level)
		}
		ms = append(ms, callcenter.Member{Group: g.Name, Agent: name, Level: level})
	}
	if err := f.a.SetMembers(g.Name, ms); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) idle(name string, since int, calls int) {
	f.a.UpdateAgent(callcenter.AgentStatus{Agent: name, Presence: callcenter.PresenceOnline, Phone: callcenter.PhoneIdle,
		Since: sec(since), IdleSince: sec(since)}, calls)
}

func (f *fixture) status(name string, p callcenter.Presence, ph callcenter.PhoneStatus, act callcenter.Activity) {
	f.a.UpdateAgent(callcenter.AgentStatus{Agent: name, Presence: p, Phone: ph, Activity: act}, 0)
}

func (f *fixture) busy(name string) {
	f.status(name, callcenter.PresenceOnline, callcenter.PhoneBusy, callcenter.ActivityNone)
}

func (f *fixture) enqueue(id, group string, prio, at int) int {
	f.t.Helper()
	pos, err := f.a.Enqueue(QueuedCall{ID: id, Group: group, Priority: prio, Caller: "138" + id, At: sec(at)})
	if err != nil {
		f.t.Fatal(err)
	}
	return pos
}

// next runs Next at second s and renders the offers as "c1>A,B c2>C".
func (f *fixture) next(s int) string {
	f.now = sec(s)
	var out []string
	for _, o := range f.a.Next(sec(s)) {
		out = append(out, o.Call.ID+">"+strings.Join(o.Agents, ","))
	}
	f.check()
	return strings.Join(out, " ")
}

func (f *fixture) result(call, agent string, answered bool) {
	f.t.Helper()
	if err := f.a.OfferResult(call, agent, answered, f.now); err != nil {
		f.t.Fatal(err)
	}
	f.check()
}

// check asserts the internal invariants: an agent is in a group's sorted
// set exactly when it is available, sets and queues are sorted, a call is
// in exactly one queue, the ready set is exact, offers are consistent.
func (f *fixture) check() {
	f.t.Helper()
	a := f.a
	for _, g := range a.groups {
		if !slices.IsSortedFunc(g.avail, g.cmpMember) || !slices.IsSortedFunc(g.waiting, entryCmp) || !slices.IsSortedFunc(g.ringing, entryCmp) {
			f.t.Fatalf("group %s: unsorted", g.cfg.Name)
		}
		for _, m := range g.members {
			if in := slices.Contains(g.avail, m); in != m.a.available() {
				f.t.Fatalf("group %s: %s in avail %v, available %v", g.cfg.Name, m.a.name, in, m.a.available())
			}
		}
		if len(g.avail) > len(g.members) {
			f.t.Fatalf("group %s: avail holds non-members", g.cfg.Name)
		}
		_, isReady := a.ready[g]
		if isReady != (len(g.avail) > 0 && len(g.waiting) > 0) {
			f.t.Fatalf("group %s: ready %v", g.cfg.Name, isReady)
		}
		for _, e := range g.waiting {
			if len(e.ringing) != 0 || a.calls[e.ID] != e || e.g != g {
				f.t.Fatalf("waiting %s inconsistent", e.ID)
			}
		}
		for _, e := range g.ringing {
			if len(e.ringing) == 0 || a.calls[e.ID] != e || e.g != g {
				f.t.Fatalf("ringing %s inconsistent", e.ID)
			}
			for _, ag := range e.ringing {
				if ag.offering != e {
					f.t.Fatalf("%s rings for %s but offering %v", ag.name, e.ID, ag.offering)
				}
			}
		}
	}
	n := 0
	for _, g := range a.groups {
		n += len(g.waiting) + len(g.ringing)
	}
	if n != len(a.calls) {
		f.t.Fatalf("%d calls indexed, %d in queues", len(a.calls), n)
	}
	for _, ag := range a.agents {
		if ag.offering != nil && (a.calls[ag.offering.ID] != ag.offering || !slices.Contains(ag.offering.ringing, ag)) {
			f.t.Fatalf("%s offering a stale call", ag.name)
		}
	}
}

// TestStrategies: one decision per case, per strategy.
func TestStrategies(t *testing.T) {
	type ag struct {
		name  string
		level int
		idle  int // idle since this second; -1 = busy
		calls int
	}
	type call struct {
		id       string
		prio, at int
	}
	li, rr, fc, ra, st := callcenter.StrategyLongestIdle, callcenter.StrategyRoundRobin, callcenter.StrategyFewestCalls, callcenter.StrategyRingAll, callcenter.StrategySkillTiers
	tests := []struct {
		name      string
		strategy  callcenter.Strategy
		tierWiden time.Duration
		agents    []ag
		calls     []call
		at        int
		want      string
	}{
		{"longest idle", li, 0, []ag{{"A", 1, 10, 0}, {"B", 1, 5, 0}, {"C", 1, 20, 0}}, []call{{"c1", 0, 30}}, 30, "c1>B"},
		{"longest idle, two calls", li, 0, []ag{{"A", 1, 10, 0}, {"B", 1, 5, 0}, {"C", 1, 20, 0}}, []call{{"c1", 0, 30}, {"c2", 0, 31}}, 31, "c1>B c2>A"},
		{"longest idle, tie by work number", li, 0, []ag{{"B", 1, 5, 0}, {"A", 1, 5, 0}}, []call{{"c1", 0, 30}}, 30, "c1>A"},
		{"longest idle skips busy", li, 0, []ag{{"A", 1, -1, 0}, {"B", 1, 20, 0}}, []call{{"c1", 0, 30}}, 30, "c1>B"},
		{"nobody available", li, 0, []ag{{"A", 1, -1, 0}}, []call{{"c1", 0, 30}}, 30, ""},
		{"no calls", li, 0, []ag{{"A", 1, 1, 0}}, nil, 30, ""},
		{"more calls than agents", li, 0, []ag{{"A", 1, 1, 0}, {"B", 1, 2, 0}}, []call{{"c1", 0, 30}, {"c2", 0, 31}, {"c3", 0, 32}}, 32, "c1>A c2>B"},
		{"round robin starts at the first member", rr, 0, []ag{{"C", 1, 1, 0}, {"A", 1, 5, 0}, {"B", 1, 2, 0}}, []call{{"c1", 0, 30}}, 30, "c1>C"},
		{"round robin in member order", rr, 0, []ag{{"C", 1, 1, 0}, {"A", 1, 5, 0}, {"B", 1, 2, 0}}, []call{{"c1", 0, 30}, {"c2", 0, 31}, {"c3", 0, 32}}, 32, "c1>C c2>A c3>B"},
		{"round robin skips busy", rr, 0, []ag{{"C", 1, -1, 0}, {"A", 1, 5, 0}, {"B", 1, 2, 0}}, []call{{"c1", 0, 30}}, 30, "c1>A"},
		{"fewest calls", fc, 0, []ag{{"A", 1, 1, 5}, {"B", 1, 9, 2}, {"C", 1, 20, 3}}, []call{{"c1", 0, 30}}, 30, "c1>B"},
		{"fewest calls, tie by longest idle", fc, 0, []ag{{"A", 1, 1, 5}, {"B", 1, 9, 2}, {"C", 1, 3, 2}}, []call{{"c1", 0, 30}}, 30, "c1>C"},
		{"ring all", ra, 0, []ag{{"A", 1, 9, 0}, {"B", 1, -1, 0}, {"C", 1, 3, 0}, {"D", 1, 5, 0}}, []call{{"c1", 0, 30}}, 30, "c1>C,D,A"},
		{"ring all, second call waits", ra, 0, []ag{{"A", 1, 9, 0}, {"C", 1, 3, 0}}, []call{{"c1", 0, 30}, {"c2", 0, 31}}, 31, "c1>C,A"},
		{"tiers: best level first", st, 30 * time.Second, []ag{{"A", 2, 1, 0}, {"B", 1, 20, 0}, {"C", 1, 10, 0}}, []call{{"c1", 0, 30}}, 30, "c1>C"},
		{"tiers: level 2 not yet admitted", st, 30 * time.Second, []ag{{"A", 2, 1, 0}, {"B", 1, -1, 0}}, []call{{"c1", 0, 30}}, 59, ""},
		{"tiers: level 2 after one widening", st, 30 * time.Second, []ag{{"A", 2, 1, 0}, {"B", 1, -1, 0}}, []call{{"c1", 0, 30}}, 60, "c1>A"},
		{"tiers: level 3 needs two widenings", st, 30 * time.Second, []ag{{"A", 3, 1, 0}, {"B", 1, -1, 0}}, []call{{"c1", 0, 30}}, 60, ""},
		{"tiers: level 3 after two", st, 30 * time.Second, []ag{{"A", 3, 1, 0}, {"B", 1, -1, 0}}, []call{{"c1", 0, 30}}, 90, "c1>A"},
		{"tiers: older caller reaches level 2, newer waits", st, 30 * time.Second, []ag{{"A", 2, 1, 0}, {"B", 1, -1, 0}}, []call{{"c1", 0, 0}, {"c2", 0, 20}}, 40, "c1>A"},
		{"tiers: high priority unwidened, low priority served", st, 30 * time.Second, []ag{{"A", 2, 1, 0}, {"B", 1, -1, 0}}, []call{{"c1", 5, 30}, {"c2", 0, 0}}, 40, "c2>A"},
		{"tiers: base is the best member level", st, 30 * time.Second, []ag{{"A", 3, 1, 0}, {"B", 2, 5, 0}}, []call{{"c1", 0, 30}}, 30, "c1>B"},
		{"tiers without widening admit all, best first", st, 0, []ag{{"A", 3, 1, 0}, {"B", 2, 5, 0}}, []call{{"c1", 0, 30}, {"c2", 0, 30}}, 30, "c1>B c2>A"},
		{"priority first", li, 0, []ag{{"A", 1, 1, 0}}, []call{{"low", 0, 10}, {"high", 3, 20}}, 30, "high>A"},
		{"FIFO within priority", li, 0, []ag{{"A", 1, 1, 0}}, []call{{"late", 1, 20}, {"early", 1, 10}}, 30, "early>A"},
		{"same second: arrival order", li, 0, []ag{{"A", 1, 1, 0}}, []call{{"first", 0, 10}, {"second", 0, 10}}, 30, "first>A"},
	}
	for _, tc := range tests {
		t.Run(tc.strategy.String()+"/"+tc.name, func(t *testing.T) {
			f := newFixture(t)
			var members []string
			for _, a := range tc.agents {
				members = append(members, fmt.Sprintf("%s:%d", a.name, a.level))
			}
			f.groupCfg(callcenter.SkillGroup{Name: "g", Strategy: tc.strategy, TierWiden: tc.tierWiden}, members...)
			for _, a := range tc.agents {
				if a.idle < 0 {
					f.busy(a.name)
				} else {
					f.idle(a.name, a.idle, a.calls)
				}
			}
			for _, c := range tc.calls {
				f.enqueue(c.id, "g", c.prio, c.at)
			}
			if got := f.next(tc.at); got != tc.want {
				t.Fatalf("offers %q, want %q", got, tc.want)
			}
			if again := f.next(tc.at); again != "" {
				t.Fatalf("second Next offered %q: reserved agents offered twice", again)
			}
		})
	}
}

func TestRoundRobinMemory(t *testing.T) {
	f := newFixture(t)
	f.group("g1", callcenter.StrategyRoundRobin, "A", "B", "C")
	f.group("g2", callcenter.StrategyRoundRobin, "A", "B", "C")
	for _, n := range []string{"A", "B", "C"} {
		f.idle(n, 0, 0)
	}
	serve := func(id, group string, at int) string {
		f.enqueue(id, group, 0, at)
		got := f.next(at)
		ag := got[strings.IndexByte(got, '>')+1:]
		f.result(id, ag, true)
		f.idle(ag, at, 1) // call over, back to idle
		return ag
	}
	var got []string
	got = append(got, serve("c1", "g1", 1), serve("c2", "g1", 2), serve("c3", "g2", 3), serve("c4", "g1", 4))
	f.busy("B")
	got = append(got, serve("c5", "g1", 5), serve("c6", "g1", 6))
	// g1: A B (g2: A) C, B busy: A, C... memory per group.
	if want := []string{"A", "B", "A", "C", "A", "C"}; !slices.Equal(got, want) {
		t.Fatalf("round robin %v, want %v", got, want)
	}
	// The memory survives a new member list (found by work number).
	f.groupCfg(callcenter.SkillGroup{Name: "g1", Strategy: callcenter.StrategyRoundRobin}, "D", "C", "A", "B")
	f.idle("D", 7, 0)
	f.idle("B", 7, 0)
	if ag := serve("c7", "g1", 8); ag != "A" {
		t.Fatalf("after new member list: %s, want A (after C)", ag)
	}
	// No-answer moves on and keeps the memory at the member offered.
	f.enqueue("c8", "g1", 0, 9)
	if got := f.next(9); got != "c8>B" {
		t.Fatalf("got %q", got)
	}
	f.result("c8", "B", false)
	if got := f.next(9); got != "c8>D" {
		t.Fatalf("after no answer %q, want c8>D", got)
	}
}

// TestNoAnswerTriesEveryoneFirst: a call is not offered again to an agent
// who did not answer it until every other available candidate was tried.
func TestNoAnswerTriesEveryoneFirst(t *testing.T) {
	for _, s := range []callcenter.Strategy{callcenter.StrategyLongestIdle, callcenter.StrategyFewestCalls, callcenter.StrategySkillTiers, callcenter.StrategyRoundRobin} {
		t.Run(s.String(), func(t *testing.T) {
			f := newFixture(t)
			f.group("g", s, "A", "B", "C")
			f.idle("A", 1, 0)
			f.idle("B", 2, 0)
			f.idle("C", 3, 0)
			f.enqueue("c1", "g", 0, 10)
			var order []string
			for range 5 {
				got := f.next(20)
				ag := got[strings.IndexByte(got, '>')+1:]
				order = append(order, ag)
				f.result("c1", ag, false)
			}
			if want := []string{"A", "B", "C", "A", "B"}; !slices.Equal(order, want) {
				t.Fatalf("offer order %v, want %v", order, want)
			}
		})
	}
	t.Run("ring all", func(t *testing.T) {
		f := newFixture(t)
		f.group("g", callcenter.StrategyRingAll, "A", "B", "C")
		f.idle("A", 1, 0)
		f.idle("B", 2, 0)
		f.enqueue("c1", "g", 0, 10)
		if got := f.next(20); got != "c1>A,B" {
			t.Fatalf("%q", got)
		}
		f.result("c1", "A", false)
		if got := f.next(21); got != "" {
			t.Fatalf("offered %q while B still rings", got)
		}
		f.idle("C", 3, 0)
		f.result("c1", "B", false)
		if got := f.next(36); got != "c1>C" {
			t.Fatalf("after all missed: %q, want only the untried C", got)
		}
		f.result("c1", "C", false)
		if got := f.next(50); got != "c1>A,B,C" {
			t.Fatalf("new round %q", got)
		}
		// One answers: the call leaves, the others are free.
		f.result("c1", "B", true)
		if err := f.a.OfferResult("c1", "A", false, f.now); !errors.Is(err, ErrUnknownCall) {
			t.Fatalf("late result: %v", err)
		}
		f.enqueue("c2", "g", 0, 51)
		if got := f.next(51); got != "c2>A,C" {
			t.Fatalf("after answer %q: B is on the call", got)
		}
	})
}

// TestAgentInSeveralGroups: the agent gets the most urgent call across its
// groups, and only one.
func TestAgentInSeveralGroups(t *testing.T) {
	tests := []struct {
		name  string
		calls [][3]any // id, group, prio, at
		want  string
	}{
		{"oldest across groups", [][3]any{{"s1", "sales", 0}, {"v1", "service", 0}}, "s1>X"},
		{"priority across groups", [][3]any{{"s1", "sales", 0}, {"v1", "service", 2}}, "v1>X"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.group("sales", callcenter.StrategyLongestIdle, "X", "Y")
			f.group("service", callcenter.StrategyRoundRobin, "Z", "X")
			f.busy("Y")
			f.busy("Z")
			f.idle("X", 0, 0)
			for i, c := range tc.calls {
				f.enqueue(c[0].(string), c[1].(string), c[2].(int), 10+i)
			}
			if got := f.next(20); got != tc.want {
				t.Fatalf("%q, want %q", got, tc.want)
			}
		})
	}
}

func TestDequeueAndMove(t *testing.T) {
	f := newFixture(t)
	f.groupCfg(callcenter.SkillGroup{Name: "sales", MaxWait: time.Minute, Overflow: callcenter.OverflowGroup, OverflowGroup: "backup"}, "A")
	f.groupCfg(callcenter.SkillGroup{Name: "backup", MaxWait: 2 * time.Minute}, "B")
	f.busy("B")
	f.idle("A", 0, 0)
	f.enqueue("c1", "sales", 0, 10)
	f.enqueue("c2", "sales", 0, 20)
	if got := f.next(20); got != "c1>A" {
		t.Fatalf("%q", got)
	}
	// The caller hangs up while ringing: A is free for the next call.
	if c, err := f.a.Dequeue("c1"); err != nil || c.ID != "c1" {
		t.Fatalf("dequeue: %v %v", c, err)
	}
	if _, err := f.a.Dequeue("c1"); !errors.Is(err, ErrUnknownCall) || !errors.Is(err, callcenter.ErrNotFound) {
		t.Fatalf("second dequeue: %v", err)
	}
	if got := f.next(21); got != "c2>A" {
		t.Fatalf("after abandon %q", got)
	}
	if _, err := f.a.Move("c2", "backup"); !errors.Is(err, ErrRinging) {
		t.Fatalf("move ringing: %v", err)
	}
	f.result("c2", "A", false)
	f.busy("A")
	f.check()
	f.enqueue("c3", "sales", 0, 30)
	if got := f.a.Expired(sec(79)); len(got) != 0 {
		t.Fatalf("expired early: %v", got)
	}
	exp := f.a.Expired(sec(80))
	if len(exp) != 1 || exp[0].ID != "c2" {
		t.Fatalf("expired %v", exp)
	}
	if d := f.a.NextDeadline(sec(80)); !d.Equal(sec(90)) {
		t.Fatalf("deadline %v", d.Sub(t0))
	}
	f.now = sec(80)
	f.enqueue("b1", "backup", 0, 50)
	pos, err := f.a.Move("c2", "backup")
	if err != nil || pos != 1 {
		t.Fatalf("move: pos %d %v (kept wait puts it first)", pos, err)
	}
	f.check()
	if p, _ := f.a.Position("b1"); p != 2 {
		t.Fatalf("b1 at %d", p)
	}
	// MaxWait of the new group counts from the move.
	ids := func(cs []QueuedCall) (out []string) {
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	if got := ids(f.a.Expired(sec(199))); !slices.Equal(got, []string{"c3", "b1"}) {
		t.Fatalf("expired at 199 s: %v", got)
	}
	if got := ids(f.a.Expired(sec(200))); !slices.Equal(got, []string{"c2", "c3", "b1"}) {
		t.Fatalf("expired at 200 s: %v", got)
	}
	for _, tc := range []struct {
		id, group string
		want      error
	}{{"nope", "backup", ErrUnknownCall}, {"c3", "nope", ErrUnknownGroup}} {
		if _, err := f.a.Move(tc.id, tc.group); !errors.Is(err, tc.want) {
			t.Fatalf("move %s to %s: %v", tc.id, tc.group, err)
		}
	}
	if p, err := f.a.Move("c3", "sales"); err != nil || p != 1 {
		t.Fatalf("move to own group: %d %v", p, err)
	}
}

func TestPositionAndFigures(t *testing.T) {
	f := newFixture(t)
	f.group("g", callcenter.StrategyLongestIdle, "A", "B", "C", "D")
	f.idle("A", 0, 0)
	f.status("B", callcenter.PresenceOnline, callcenter.PhoneIdle, callcenter.ActivityTalking)
	f.status("C", callcenter.PresenceCustom, callcenter.PhoneIdle, callcenter.ActivityNone)
	if fig, err := f.a.GroupFigures("g"); err != nil || fig != (callcenter.GroupFigures{Group: "g", Idle: 1, Talking: 1, Busy: 1}) {
		t.Fatalf("figures %+v %v", fig, err)
	}
	for i, id := range []string{"c1", "c2", "c3"} {
		if p := f.enqueue(id, "g", 0, 10+i); p != i+1 {
			t.Fatalf("%s at %d", id, p)
		}
	}
	if p := f.enqueue("vip", "g", 9, 13); p != 1 {
		t.Fatalf("vip at %d", p)
	}
	f.next(20) // vip rings A
	f.now = sec(40)
	if n, longest := f.a.Waiting("g"); n != 4 || longest != 30*time.Second {
		t.Fatalf("waiting %d %v", n, longest)
	}
	if fig, _ := f.a.GroupFigures("g"); fig != (callcenter.GroupFigures{Group: "g", Waiting: 4, LongestWait: 30 * time.Second, Talking: 1, Busy: 2}) {
		t.Fatalf("figures %+v", fig)
	}
	// Two members answer (A ringing, B talking; C is in a custom status):
	// expected wait = position × handle time ÷ 2.
	tests := []struct {
		id      string
		pos     int
		handled []time.Duration
		want    time.Duration
	}{
		{"vip", 1, nil, 90 * time.Second},
		{"c1", 2, nil, 3 * time.Minute},
		{"c3", 4, nil, 6 * time.Minute},
		{"c3", 4, []time.Duration{time.Minute, 3 * time.Minute}, 4 * time.Minute},
		{"nope", 0, nil, 0},
	}
	for _, tc := range tests {
		for _, d := range tc.handled {
			f.a.Handled("g", d)
		}
		if p, w := f.a.Position(tc.id); p != tc.pos || w != tc.want {
			t.Fatalf("%s: position %d wait %v, want %d %v", tc.id, p, w, tc.pos, tc.want)
		}
	}
	f.busy("A")
	f.busy("B")
	if _, w := f.a.Position("c1"); w != 0 {
		t.Fatalf("nobody answering, wait %v", w)
	}
	if n, l := f.a.Waiting("nope"); n != 0 || l != 0 {
		t.Fatal("unknown group waiting")
	}
	if _, err := f.a.GroupFigures("nope"); !errors.Is(err, ErrUnknownGroup) {
		t.Fatal(err)
	}
}

func TestTierDeadline(t *testing.T) {
	f := newFixture(t)
	f.groupCfg(callcenter.SkillGroup{Name: "g", Strategy: callcenter.StrategySkillTiers, TierWiden: 30 * time.Second}, "A:1", "B:2")
	f.busy("A")
	f.idle("B", 0, 0)
	f.enqueue("c1", "g", 0, 10)
	if got := f.next(15); got != "" {
		t.Fatal(got)
	}
	if d := f.a.NextDeadline(sec(15)); !d.Equal(sec(40)) {
		t.Fatalf("deadline %v, want 40s", d.Sub(t0))
	}
	if got := f.next(40); got != "c1>B" {
		t.Fatal(got)
	}
	if d := f.a.NextDeadline(sec(40)); !d.IsZero() {
		t.Fatalf("deadline %v with nothing waiting", d)
	}
}

func TestGroupsAndMembers(t *testing.T) {
	f := newFixture(t)
	bad := []callcenter.SkillGroup{
		{},
		{Name: "g", RingTimeout: -1},
		{Name: "g", MaxWait: -1},
		{Name: "g", TierWiden: -1},
		{Name: "g", Strategy: 99},
	}
	for _, g := range bad {
		if err := f.a.SetGroup(g); !errors.Is(err, ErrBadInput) || !errors.Is(err, callcenter.ErrInvalid) {
			t.Fatalf("%+v: %v", g, err)
		}
	}
	f.group("g", callcenter.StrategyLongestIdle, "A", "B")
	for _, ms := range [][]callcenter.Member{
		{{Agent: ""}},
		{{Agent: "A", Level: 0}},
		{{Agent: "A", Level: 1}, {Agent: "A", Level: 2}},
	} {
		if err := f.a.SetMembers("g", ms); !errors.Is(err, ErrBadInput) {
			t.Fatalf("%v: %v", ms, err)
		}
	}
	if err := f.a.SetMembers("nope", nil); !errors.Is(err, ErrUnknownGroup) {
		t.Fatal(err)
	}
	for _, c := range []QueuedCall{{ID: "", Group: "g"}, {ID: "x", Group: "nope"}} {
		if _, err := f.a.Enqueue(c); err == nil {
			t.Fatalf("enqueue %+v accepted", c)
		}
	}
	f.idle("A", 5, 3)
	f.idle("B", 1, 9)
	f.enqueue("c1", "g", 0, 10)
	if _, err := f.a.Enqueue(QueuedCall{ID: "c1", Group: "g"}); !errors.Is(err, ErrDuplicateCall) {
		t.Fatal(err)
	}
	// A strategy change re-sorts the available members.
	if err := f.a.SetGroup(callcenter.SkillGroup{Name: "g", Strategy: callcenter.StrategyFewestCalls}); err != nil {
		t.Fatal(err)
	}
	f.check()
	if got := f.next(20); got != "c1>A" {
		t.Fatalf("fewest calls after change: %q", got)
	}
	// A group with no members keeps its callers waiting (MaxWait and
	// overflow are the orchestrator's way out), and offers nothing.
	f.group("empty", callcenter.StrategyRingAll)
	f.enqueue("e1", "empty", 0, 20)
	if got := f.next(21); got != "" {
		t.Fatalf("empty group offered %q", got)
	}
	// Removing a group hands back its calls, ringing ones included, and
	// frees their agents.
	f.enqueue("c2", "g", 0, 22)
	got := f.a.RemoveGroup("g")
	if len(got) != 2 || got[0].ID != "c1" || got[1].ID != "c2" {
		t.Fatalf("removed %v", got)
	}
	f.check()
	if f.a.RemoveGroup("g") != nil {
		t.Fatal("second remove")
	}
	if err := f.a.OfferResult("c1", "A", true, f.now); !errors.Is(err, ErrUnknownCall) {
		t.Fatal(err)
	}
	f.group("g2", callcenter.StrategyLongestIdle, "A")
	f.enqueue("c3", "g2", 0, 30)
	if got := f.next(30); got != "c3>A" {
		t.Fatalf("A not freed: %q", got)
	}
	if err := f.a.OfferResult("c3", "B", true, f.now); !errors.Is(err, ErrNotOffered) {
		t.Fatal(err)
	}
	// The answering agent is not offered another call before its status
	// arrives.
	f.result("c3", "A", true)
	f.enqueue("c4", "g2", 0, 31)
	if got := f.next(31); got != "" {
		t.Fatalf("answering agent offered %q", got)
	}
}

// TestRandomOps applies random operations and checks the invariants and
// the promises of Next after each: offers go to available members of the
// call's group only, never to an agent already ringing, and the most
// urgent offerable call goes first.
func TestRandomOps(t *testing.T) {
	total := 0
	strategies := []callcenter.Strategy{callcenter.StrategyLongestIdle, callcenter.StrategyRoundRobin, callcenter.StrategyFewestCalls, callcenter.StrategyRingAll, callcenter.StrategySkillTiers}
	for seed := range uint64(30) {
		r := rand.New(rand.NewPCG(seed, 2))
		f := newFixture(t)
		agents := []string{"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7"}
		for gi := range 4 {
			var ms []string
			for _, ag := range agents {
				if r.IntN(2) == 0 {
					ms = append(ms, fmt.Sprintf("%s:%d", ag, 1+r.IntN(3)))
				}
			}
			f.groupCfg(callcenter.SkillGroup{Name: fmt.Sprint("g", gi), Strategy: strategies[r.IntN(len(strategies))], TierWiden: 20 * time.Second, MaxWait: 5 * time.Minute}, ms...)
		}
		ringing := map[string][]string{} // call -> agents
		nextID := 0
		for step := range 400 {
			s := 10 * step
			f.now = sec(s)
			switch r.IntN(7) {
			case 0, 1:
				nextID++
				f.enqueue(fmt.Sprint("c", nextID), fmt.Sprint("g", r.IntN(4)), r.IntN(3), s)
			case 2:
				ag := agents[r.IntN(len(agents))]
				if r.IntN(2) == 0 {
					f.idle(ag, s, r.IntN(5))
				} else {
					f.busy(ag)
				}
			case 3, 4:
				for id, ags := range ringing {
					ag := ags[r.IntN(len(ags))]
					answered := r.IntN(3) == 0
					f.result(id, ag, answered)
					if answered {
						delete(ringing, id)
					} else if ags = slices.DeleteFunc(ags, func(x string) bool { return x == ag }); len(ags) == 0 {
						delete(ringing, id)
					} else {
						ringing[id] = ags
					}
					break
				}
			case 5:
				if nextID > 0 {
					id := fmt.Sprint("c", 1+r.IntN(nextID))
					if _, err := f.a.Dequeue(id); err == nil {
						delete(ringing, id)
					}
				}
			case 6:
				for _, c := range f.a.Expired(sec(s)) {
					if _, err := f.a.Move(c.ID, fmt.Sprint("g", r.IntN(4))); err != nil {
						t.Fatal(err)
					}
				}
			}
			f.check()
			busyAgents := map[string]bool{}
			for _, ags := range ringing {
				for _, ag := range ags {
					busyAgents[ag] = true
				}
			}
			offers := f.a.Next(sec(s))
			for i, o := range offers {
				if i > 0 && entryCmp(f.a.calls[offers[i-1].Call.ID], f.a.calls[o.Call.ID]) > 0 {
					t.Fatalf("seed %d step %d: %s offered before the more urgent %s", seed, step, offers[i-1].Call.ID, o.Call.ID)
				}
				total++
				g := f.a.groups[o.Call.Group]
				for _, name := range o.Agents {
					if busyAgents[name] {
						t.Fatalf("seed %d step %d: %s offered a second call", seed, step, name)
					}
					busyAgents[name] = true
					if !slices.ContainsFunc(g.members, func(m *member) bool { return m.a.name == name }) {
						t.Fatalf("seed %d step %d: %s is not in %s", seed, step, name, g.cfg.Name)
					}
					if st := f.a.agents[name].st; !st.Available() {
						t.Fatalf("seed %d step %d: %s offered while %+v", seed, step, name, st)
					}
				}
				if ringing[o.Call.ID] != nil {
					t.Fatalf("seed %d step %d: %s offered while ringing", seed, step, o.Call.ID)
				}
				ringing[o.Call.ID] = o.Agents
			}
			f.check()
			for g := range f.a.ready {
				if e := g.pick(sec(s)); e != nil {
					t.Fatalf("seed %d step %d: %s left waiting with a candidate", seed, step, e.ID)
				}
			}
		}
	}
	if total < 1000 {
		t.Fatalf("only %d offers: the walk does not exercise Next", total)
	}
}

// TestConcurrentUse: the ACD's methods may be called from several
// goroutines (run with -race).
func TestConcurrentUse(t *testing.T) {
	defer goleak.VerifyNone(t)
	a := New()
	for g := range 3 {
		name := fmt.Sprint("g", g)
		if err := a.SetGroup(callcenter.SkillGroup{Name: name, Strategy: callcenter.Strategy(g), MaxWait: time.Second}); err != nil {
			t.Fatal(err)
		}
		if err := a.SetMembers(name, []callcenter.Member{{Agent: "a1", Level: 1}, {Agent: "a2", Level: 1}, {Agent: fmt.Sprint("b", g), Level: 2}}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 3))
			for i := range 500 {
				now := t0.Add(time.Duration(i) * 10 * time.Millisecond)
				id := fmt.Sprint("w", w, "-", i)
				a.Enqueue(QueuedCall{ID: id, Group: fmt.Sprint("g", r.IntN(3)), At: now})
				a.UpdateAgent(callcenter.AgentStatus{Agent: []string{"a1", "a2", "b0", "b1", "b2"}[r.IntN(5)], Presence: callcenter.PresenceOnline,
					Phone: callcenter.PhoneIdle, IdleSince: now}, i)
				for _, o := range a.Next(now) {
					a.OfferResult(o.Call.ID, o.Agents[0], r.IntN(2) == 0, now)
				}
				a.Position(id)
				a.Waiting("g1")
				a.GroupFigures("g2")
				for _, c := range a.Expired(now) {
					a.Dequeue(c.ID)
				}
				a.NextDeadline(now)
			}
		})
	}
	wg.Wait()
}

func TestRequeue(t *testing.T) {
	f := newFixture(t)
	f.group("g", callcenter.StrategyRingAll, "A", "B", "C")
	f.idle("A", 1, 0)
	f.idle("B", 2, 0)
	f.enqueue("c1", "g", 0, 10)
	if got := f.next(10); got != "c1>A,B" {
		t.Fatal(got)
	}
	if err := f.a.Requeue("c1"); err != nil {
		t.Fatal(err)
	}
	f.check()
	f.idle("C", 3, 0)
	if got := f.next(30); got != "c1>C" {
		t.Fatalf("after requeue %q, want the untried C only", got)
	}
	if p, _ := f.a.Position("c1"); p != 1 {
		t.Fatalf("position %d", p)
	}
	if err := f.a.Requeue("nope"); !errors.Is(err, ErrUnknownCall) {
		t.Fatal(err)
	}
	// A waiting call (nobody ringing) is left as it is.
	if err := f.a.Requeue("c1"); err != nil {
		t.Fatal(err)
	}
	if err := f.a.Requeue("c1"); err != nil {
		t.Fatal(err)
	}
	f.check()
}
