package center

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/pstnsim"
)

// strategyStep is one call of a strategy test: prep runs before the call
// is placed, waiting while it waits for its first offer; want are the
// agents its first offer rings (all of them with ring all).
type strategyStep struct {
	prep    func(t *testing.T, r *rig)
	waiting func(t *testing.T, r *rig)
	want    []string
}

// busyThenIdle moves an agent to the back of the longest-idle order
// without a call: phone busy, then idle again a second later.
func busyThenIdle(wn string) func(t *testing.T, r *rig) {
	return func(t *testing.T, r *rig) {
		t.Helper()
		busy := callcenter.PhoneBusy
		if _, err := r.c.ChangeStatus(context.Background(), wn, callcenter.StatusChange{Phone: &busy}); err != nil {
			t.Fatal(err)
		}
		r.online(t, wn)
	}
}

func setBusy(wn string) func(t *testing.T, r *rig) {
	return func(t *testing.T, r *rig) {
		t.Helper()
		busy := callcenter.PhoneBusy
		if _, err := r.c.ChangeStatus(context.Background(), wn, callcenter.StatusChange{Phone: &busy}); err != nil {
			t.Fatal(err)
		}
	}
}

func all(fs ...func(t *testing.T, r *rig)) func(t *testing.T, r *rig) {
	return func(t *testing.T, r *rig) {
		t.Helper()
		for _, f := range fs {
			f(t, r)
		}
	}
}

// Each strategy over real SIP: agents' phones (diago UAs) answer, the
// caller hangs up, the next call comes; which agents the first offer of
// each call rings shows the strategy, its memory across calls, and that
// the ACD is fed by the agents' state machines (idle times, calls today,
// busy/idle changes) and by Reload.
func TestStrategies(t *testing.T) {
	three := []callcenter.Member{
		{Group: "g", Agent: "1001", Level: 1},
		{Group: "g", Agent: "1002", Level: 1},
		{Group: "g", Agent: "1003", Level: 1},
	}
	reload := func(t *testing.T, r *rig) {
		t.Helper()
		if err := r.c.Reload(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		strategy callcenter.Strategy
		widen    time.Duration
		members  []callcenter.Member
		online   []string // set idle in this order: the first idle longest
		busy     []string // signed in, phone busy
		steps    []strategyStep
	}{
		{
			name: "longest idle", strategy: callcenter.StrategyLongestIdle, members: three,
			online: []string{"1002", "1003", "1001"},
			// Answering a call puts an agent at the back.
			steps: []strategyStep{{want: []string{"1002"}}, {want: []string{"1003"}}, {want: []string{"1001"}}, {want: []string{"1002"}}},
		},
		{
			name: "round robin with memory", strategy: callcenter.StrategyRoundRobin, members: three,
			// Longest idle would start with 1003: round robin goes by
			// member order, remembers its place across calls and a
			// Reload, and skips a busy member without losing it.
			online: []string{"1003", "1002", "1001"},
			steps: []strategyStep{
				{want: []string{"1001"}},
				{prep: reload, want: []string{"1002"}},
				{prep: setBusy("1003"), want: []string{"1001"}},
				{prep: func(t *testing.T, r *rig) { r.online(t, "1003") }, want: []string{"1002"}},
				{want: []string{"1003"}},
			},
		},
		{
			name: "fewest calls", strategy: callcenter.StrategyFewestCalls, members: three,
			online: []string{"1001", "1002", "1003"},
			steps: []strategyStep{
				{want: []string{"1001"}},
				// 1001 is now idle longest but has a call today.
				{prep: all(busyThenIdle("1002"), busyThenIdle("1003")), want: []string{"1002"}},
				{want: []string{"1003"}},
				// One call each: longest idle decides.
				{want: []string{"1001"}},
			},
		},
		{
			name: "ring all", strategy: callcenter.StrategyRingAll, members: three,
			online: []string{"1001", "1002", "1003"},
			steps: []strategyStep{
				{want: []string{"1001", "1002", "1003"}},
				{prep: setBusy("1002"), want: []string{"1001", "1003"}},
			},
		},
		{
			name: "skill tiers widen after a wait", strategy: callcenter.StrategySkillTiers, widen: 30 * time.Second,
			members: []callcenter.Member{
				{Group: "g", Agent: "1001", Level: 1},
				{Group: "g", Agent: "1002", Level: 2},
				{Group: "g", Agent: "1003", Level: 3},
			},
			online: []string{"1003", "1002"},
			busy:   []string{"1001"},
			steps: []strategyStep{
				{
					// The expert is busy: level 2 is asked only after a
					// 30 s wait, level 3 not yet.
					waiting: func(t *testing.T, r *rig) {
						t.Helper()
						time.Sleep(300 * time.Millisecond)
						r.sink.mu.Lock()
						n := len(r.sink.offerLog)
						r.sink.mu.Unlock()
						if n != 0 {
							t.Fatalf("offered before the tier widened")
						}
						r.clock.Advance(31 * time.Second)
					},
					want: []string{"1002"},
				},
				// The expert, idle the shortest, comes first.
				{prep: func(t *testing.T, r *rig) { r.online(t, "1001") }, want: []string{"1001"}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var agents []string
			for _, m := range tc.members {
				agents = append(agents, m.Agent)
			}
			r := newRig(t, setup{
				agents:  agents,
				groups:  []callcenter.SkillGroup{{Name: "g", Strategy: tc.strategy, TierWiden: tc.widen, RingTimeout: 5 * time.Second}},
				members: tc.members,
				numbers: map[string]string{"4008001234": "group:g"},
			})
			for _, wn := range agents {
				r.phone(t, wn, answerTone)
			}
			for _, wn := range tc.busy {
				r.c.Login(wn)
			}
			for _, wn := range tc.online {
				r.online(t, wn)
			}
			for i, s := range tc.steps {
				if s.prep != nil {
					s.prep(t, r)
				}
				got, rec := r.serveOne(t, fmt.Sprintf("1380000%04d", i), "4008001234", len(s.want), s.waiting)
				if !slices.Equal(got, s.want) {
					t.Fatalf("call %d rang %v, want %v", i, got, s.want)
				}
				if rec.Result != callcenter.ResultAnswered || !slices.Contains(s.want, rec.Agent) || rec.Group != "g" {
					t.Errorf("call %d: record %+v", i, rec)
				}
			}
			r.quiet(t)
			r.recordsOnce(t, len(tc.steps))
		})
	}
}

// serveOne places a call, returns the agents its first offer rang (n of
// them, sorted) once one answered, hangs up and waits until every agent
// is free of it.
func (r *rig) serveOne(t *testing.T, from, to string, n int, waiting func(*testing.T, *rig)) ([]string, callcenter.CallRecord) {
	t.Helper()
	r.sink.mu.Lock()
	n0 := len(r.sink.offerLog)
	r.sink.mu.Unlock()
	call := r.call(t, from, to)
	if waiting != nil {
		waiting(t, r)
	}
	var got []string
	r.sink.waitFor(t, from+" offered", func(s *recSink) bool {
		got = got[:0]
		for _, o := range s.offerLog[n0:] {
			if o.pop.Customer == from {
				got = append(got, o.agent)
			}
		}
		return len(got) >= n
	})
	got = got[:n]
	slices.Sort(got)
	// Bridged: the caller hears the agent.
	waitUntil(t, from+" hears the agent", func() bool { return call.Heard(agentTone) })
	call.Hangup(context.Background())
	rec := r.rec.waitEnded(t)
	r.quiet(t)
	return got, rec
}

// Caller priority: a caller with a higher priority (here chosen by
// WithPriority from the caller's number) is served before one who has
// waited longer.
func TestPriority(t *testing.T) {
	const vip = "13900000002"
	r := newRig(t, setup{
		agents:  []string{"1001"},
		groups:  []callcenter.SkillGroup{{Name: "g", RingTimeout: 5 * time.Second}},
		members: []callcenter.Member{{Group: "g", Agent: "1001", Level: 1}},
		numbers: map[string]string{"4008001234": "group:g"},
		opts: []Option{WithPriority(func(pop callcenter.ScreenPop) int {
			if pop.Customer == vip {
				return 5
			}
			return 0
		})},
	})
	r.phone(t, "1001", answerTone)
	r.c.Login("1001") // busy: both callers wait
	waiting := func(n int) func(*recSink) bool {
		return func(s *recSink) bool { g := s.groups["1001"]; return len(g) == 1 && g[0].Waiting == n }
	}
	first := r.call(t, "13900000001", "4008001234")
	r.sink.waitFor(t, "one waiting", waiting(1))
	second := r.call(t, vip, "4008001234")
	r.sink.waitFor(t, "two waiting", waiting(2))
	r.online(t, "1001")
	for i, c := range []struct {
		call *pstnsim.Call
		from string
	}{{second, vip}, {first, "13900000001"}} {
		r.sink.waitFor(t, "offer", func(s *recSink) bool { return len(s.offerLog) > i })
		r.sink.mu.Lock()
		got := r.sink.offerLog[i].pop.Customer
		r.sink.mu.Unlock()
		if got != c.from {
			t.Fatalf("offer %d is %s's call, want %s's", i, got, c.from)
		}
		waitUntil(t, c.from+" hears the agent", func() bool { return c.call.Heard(agentTone) })
		c.call.Hangup(context.Background())
		if rec := r.rec.waitEnded(t); rec.Caller != c.from || rec.Agent != "1001" {
			t.Errorf("record %+v", rec)
		}
	}
	r.quiet(t)
	r.recordsOnce(t, 2)
}

// waitUntil polls cond every 20 ms for up to 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
