package acd

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter"
)

const (
	benchAgents = 10_000
	benchGroups = 100
	benchCalls  = 1_000
)

// benchCenter builds the reference center: 10,000 agents in 100
// groups (each agent in its own group and one other, so ~200 members per
// group, levels 1–3), every strategy in turn, all agents on calls, and
// 1,000 callers waiting with priorities 0–2.
func benchCenter(b *testing.B, r *rand.Rand, now time.Time) (*ACD, []string) {
	a := New(WithClock(func() time.Time { return now }))
	members := make([][]callcenter.Member, benchGroups)
	for i := range benchAgents {
		name := fmt.Sprintf("%05d", i)
		for _, g := range []int{i % benchGroups, (i + 37) % benchGroups} {
			members[g] = append(members[g], callcenter.Member{Agent: name, Level: 1 + r.IntN(3)})
		}
	}
	for g := range benchGroups {
		name := fmt.Sprint("g", g)
		if err := a.SetGroup(callcenter.SkillGroup{Name: name, Strategy: callcenter.Strategy(g % 5), RingTimeout: 15 * time.Second,
			MaxWait: 10 * time.Minute, TierWiden: 30 * time.Second}); err != nil {
			b.Fatal(err)
		}
		if err := a.SetMembers(name, members[g]); err != nil {
			b.Fatal(err)
		}
	}
	agents := make([]string, benchAgents)
	for i := range agents {
		agents[i] = fmt.Sprintf("%05d", i)
		a.UpdateAgent(talking(agents[i]), r.IntN(40))
	}
	for i := range benchCalls {
		enqueueRandom(b, a, r, fmt.Sprint("w", i), now.Add(-time.Duration(r.IntN(120_000))*time.Millisecond))
	}
	return a, agents
}

func talking(name string) callcenter.AgentStatus {
	return callcenter.AgentStatus{Agent: name, Presence: callcenter.PresenceOnline, Phone: callcenter.PhoneIdle, Activity: callcenter.ActivityTalking}
}

func enqueueRandom(b *testing.B, a *ACD, r *rand.Rand, id string, at time.Time) {
	if _, err := a.Enqueue(QueuedCall{ID: id, Group: fmt.Sprint("g", r.IntN(benchGroups)), Priority: r.IntN(3), Caller: "13800000000", At: at}); err != nil {
		b.Fatal(err)
	}
}

func reportPercentiles(b *testing.B, name string, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	q := func(p float64) float64 { return float64(d[int(p*float64(len(d)-1))]) / 1e3 }
	b.ReportMetric(q(0.50), name+"-p50-µs")
	b.ReportMetric(q(0.99), name+"-p99-µs")
}

// BenchmarkDecision: the steady state of a busy center. Each iteration an
// agent finishes a call and becomes idle; Next decides (the timed
// decision); the offer is answered and a new caller arrives, so 1,000
// callers keep waiting. Reports Next's p50/p99 and the whole cycle's.
func BenchmarkDecision(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	now := t0
	a, agents := benchCenter(b, r, now)
	decisions := make([]time.Duration, 0, b.N)
	cycles := make([]time.Duration, 0, b.N)
	offers, id := 0, 0
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		now = now.Add(10 * time.Millisecond)
		name := agents[r.IntN(len(agents))]
		ag := a.agents[name]
		if ag.offering != nil || ag.st.Available() {
			continue // already idle (tier not reached) or ringing
		}
		start := time.Now()
		a.UpdateAgent(callcenter.AgentStatus{Agent: name, Presence: callcenter.PresenceOnline, Phone: callcenter.PhoneIdle,
			Since: now, IdleSince: now}, ag.calls)
		t := time.Now()
		out := a.Next(now)
		decisions = append(decisions, time.Since(t))
		for _, o := range out {
			offers++
			for i, who := range o.Agents {
				if i == 0 {
					if err := a.OfferResult(o.Call.ID, who, true, now); err != nil {
						b.Fatal(err)
					}
					a.UpdateAgent(talking(who), a.agents[who].calls+1)
				} else {
					a.UpdateAgent(callcenter.AgentStatus{Agent: who, Presence: callcenter.PresenceOnline, Phone: callcenter.PhoneIdle, IdleSince: now}, a.agents[who].calls)
				}
			}
			id++
			enqueueRandom(b, a, r, fmt.Sprint("n", id), now)
		}
		cycles = append(cycles, time.Since(start))
	}
	b.StopTimer()
	if len(a.calls) < benchCalls {
		b.Fatalf("%d calls waiting, want %d", len(a.calls), benchCalls)
	}
	if b.N > 1000 && offers < len(decisions)/2 {
		b.Fatalf("only %d offers in %d decisions", offers, len(decisions))
	}
	reportPercentiles(b, "next", decisions)
	reportPercentiles(b, "cycle", cycles)
}

// BenchmarkBurst: 100 agents become idle at once (start of a shift) with
// 1,000 callers waiting; one Next hands out all the offers. Reports the
// time per offer.
func BenchmarkBurst(b *testing.B) {
	r := rand.New(rand.NewPCG(2, 2))
	now := t0
	a, agents := benchCenter(b, r, now)
	var perOffer []time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		now = now.Add(time.Second)
		var freed []string
		for range 100 {
			name := agents[r.IntN(len(agents))]
			if ag := a.agents[name]; ag.offering == nil && !ag.st.Available() {
				a.UpdateAgent(callcenter.AgentStatus{Agent: name, Presence: callcenter.PresenceOnline, Phone: callcenter.PhoneIdle, IdleSince: now}, ag.calls)
				freed = append(freed, name)
			}
		}
		b.StartTimer()
		t := time.Now()
		out := a.Next(now)
		d := time.Since(t)
		b.StopTimer()
		if len(out) > 0 {
			perOffer = append(perOffer, d/time.Duration(len(out)))
		}
		for _, o := range out {
			for _, who := range o.Agents {
				if err := a.OfferResult(o.Call.ID, who, true, now); err != nil && who == o.Agents[0] {
					b.Fatal(err)
				}
				a.UpdateAgent(talking(who), 0)
			}
			enqueueRandom(b, a, r, fmt.Sprint("b", len(a.calls), now.UnixNano(), o.Call.ID), now)
		}
		for _, name := range freed { // the rest go back on calls
			if ag := a.agents[name]; ag.offering == nil {
				a.UpdateAgent(talking(name), ag.calls)
			}
		}
		b.StartTimer()
	}
	b.StopTimer()
	reportPercentiles(b, "offer", perOffer)
}

// BenchmarkQueuedCallMemory: heap bytes per queued call, from
// runtime.MemStats around enqueuing 100,000 calls (ids made beforehand;
// the ACD shares, not copies, their bytes).
func BenchmarkQueuedCallMemory(b *testing.B) {
	const n = 100_000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("call-%08d", i)
	}
	b.ReportAllocs()
	var perCall float64
	for range b.N {
		a := New()
		for g := range benchGroups {
			if err := a.SetGroup(callcenter.SkillGroup{Name: fmt.Sprint("g", g)}); err != nil {
				b.Fatal(err)
			}
		}
		groups := make([]string, benchGroups)
		for g := range groups {
			groups[g] = fmt.Sprint("g", g)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i, id := range ids {
			if _, err := a.Enqueue(QueuedCall{ID: id, Group: groups[i%benchGroups], Priority: i % 3, Caller: "13800000000", At: t0.Add(time.Duration(i) * time.Millisecond)}); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perCall = float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(a)
	}
	b.ReportMetric(perCall, "B/queued-call")
}
