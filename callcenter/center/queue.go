package center

import (
	"slices"
	"time"

	"github.com/agentphone/agentphone/callcenter"
)

// dispatcher is what the center needs from the ACD: queues per skill
// group and the choice of agents for the calls waiting. All methods are
// called with the center's lock held.
type dispatcher interface {
	setGroup(g callcenter.SkillGroup, members []callcenter.Member)
	removeGroup(name string)
	// updateAgent tells the ACD an agent's status and calls today.
	updateAgent(st callcenter.AgentStatus, calls int)
	enqueue(callID, group string, priority int, at time.Time)
	dequeue(callID string)
	// next picks agents for waiting calls that are not being offered:
	// one agent per call, or every available member for ring-all.
	next(now time.Time) []assignment
	// offerEnded puts an offered call back in line (not answered).
	offerEnded(callID string)
	// position is the 1-based place of the call in its group's line.
	position(callID string) int
	waiting(group string, now time.Time) (n int, longest time.Duration)
}

type assignment struct {
	callID string
	agents []string
}

// lineQueue is the center's built-in ACD: a line per skill group ordered
// by priority then arrival, agents chosen by the group's strategy among
// the available members. It stands in for callcenter/acd, whose engine had
// not landed when the orchestrator was written; the dispatcher interface
// is the seam to swap it.
type lineQueue struct {
	groups  map[string]*line
	calls   map[string]*waiter
	agents  map[string]agentInfo
	offered map[string]bool // agents being offered a call by us
}

type line struct {
	g       callcenter.SkillGroup
	members []callcenter.Member
	waiters []*waiter
	lastRR  string // round robin: the member offered last
}

type waiter struct {
	callID   string
	group    string
	priority int
	at       time.Time
	offering []string
	// tried are the agents this call was offered to without an answer:
	// the others get their turn before any of them is rung again.
	tried map[string]bool
}

type agentInfo struct {
	st    callcenter.AgentStatus
	calls int
}

func newLineQueue() *lineQueue {
	return &lineQueue{groups: map[string]*line{}, calls: map[string]*waiter{}, agents: map[string]agentInfo{}, offered: map[string]bool{}}
}

func (q *lineQueue) setGroup(g callcenter.SkillGroup, members []callcenter.Member) {
	l := q.groups[g.Name]
	if l == nil {
		l = &line{}
		q.groups[g.Name] = l
	}
	l.g, l.members = g, slices.Clone(members)
}

func (q *lineQueue) removeGroup(name string) {
	if l := q.groups[name]; l != nil && len(l.waiters) == 0 {
		delete(q.groups, name)
	}
}

func (q *lineQueue) updateAgent(st callcenter.AgentStatus, calls int) {
	q.agents[st.Agent] = agentInfo{st, calls}
}

func (q *lineQueue) enqueue(callID, group string, priority int, at time.Time) {
	q.dequeue(callID)
	l := q.groups[group]
	if l == nil {
		l = &line{g: callcenter.SkillGroup{Name: group}}
		q.groups[group] = l
	}
	w := &waiter{callID: callID, group: group, priority: priority, at: at}
	i, _ := slices.BinarySearchFunc(l.waiters, w, func(a, b *waiter) int {
		if a.priority != b.priority {
			return b.priority - a.priority // higher priority first
		}
		if a.at.Before(b.at) || a.at.Equal(b.at) {
			return -1
		}
		return 1
	})
	l.waiters = slices.Insert(l.waiters, i, w)
	q.calls[callID] = w
}

func (q *lineQueue) dequeue(callID string) {
	w := q.calls[callID]
	if w == nil {
		return
	}
	q.release(w)
	delete(q.calls, callID)
	if l := q.groups[w.group]; l != nil {
		l.waiters = slices.DeleteFunc(l.waiters, func(x *waiter) bool { return x == w })
	}
}

func (q *lineQueue) release(w *waiter) {
	for _, a := range w.offering {
		delete(q.offered, a)
	}
	w.offering = nil
}

func (q *lineQueue) offerEnded(callID string) {
	if w := q.calls[callID]; w != nil {
		if w.tried == nil {
			w.tried = map[string]bool{}
		}
		for _, a := range w.offering {
			w.tried[a] = true
		}
		q.release(w)
	}
}

func (q *lineQueue) position(callID string) int {
	w := q.calls[callID]
	if w == nil {
		return 0
	}
	return slices.Index(q.groups[w.group].waiters, w) + 1
}

func (q *lineQueue) waiting(group string, now time.Time) (int, time.Duration) {
	l := q.groups[group]
	if l == nil {
		return 0, 0
	}
	var longest time.Duration
	for _, w := range l.waiters {
		longest = max(longest, now.Sub(w.at))
	}
	return len(l.waiters), longest
}

func (q *lineQueue) next(now time.Time) []assignment {
	var out []assignment
	for _, l := range q.groups {
		for _, w := range l.waiters {
			if len(w.offering) > 0 {
				continue
			}
			agents := q.pick(l, w, now)
			if len(agents) == 0 {
				// The calls behind this one would compete for the
				// same members: first come, first served.
				break
			}
			w.offering = agents
			for _, a := range agents {
				q.offered[a] = true
			}
			out = append(out, assignment{callID: w.callID, agents: agents})
		}
	}
	return out
}

// pick chooses agents for w among l's available members.
func (q *lineQueue) pick(l *line, w *waiter, now time.Time) []string {
	var cands []callcenter.Member
	for _, m := range l.members {
		a, ok := q.agents[m.Agent]
		if !ok || !a.st.Available() || q.offered[m.Agent] {
			continue
		}
		cands = append(cands, m)
	}
	if len(cands) == 0 {
		return nil
	}
	if fresh := slices.DeleteFunc(slices.Clone(cands), func(m callcenter.Member) bool { return w.tried[m.Agent] }); len(fresh) > 0 {
		cands = fresh
	} else {
		w.tried = nil // everyone had a turn: start over
	}
	// Tiers widen from the group's best level, not the best free one:
	// callers wait for the experts before the others are asked.
	best := l.members[0].Level
	for _, m := range l.members {
		best = min(best, m.Level)
	}
	idle := func(a, b callcenter.Member) int {
		return q.agents[a.Agent].st.IdleSince.Compare(q.agents[b.Agent].st.IdleSince)
	}
	switch l.g.Strategy {
	case callcenter.StrategyRingAll:
		out := make([]string, len(cands))
		for i, m := range cands {
			out[i] = m.Agent
		}
		return out
	case callcenter.StrategyFewestCalls:
		slices.SortStableFunc(cands, func(a, b callcenter.Member) int {
			if d := q.agents[a.Agent].calls - q.agents[b.Agent].calls; d != 0 {
				return d
			}
			return idle(a, b)
		})
	case callcenter.StrategyRoundRobin:
		slices.SortStableFunc(cands, func(a, b callcenter.Member) int {
			return rrIndex(l.members, a.Agent) - rrIndex(l.members, b.Agent)
		})
		after := rrIndex(l.members, l.lastRR)
		i := slices.IndexFunc(cands, func(m callcenter.Member) bool { return rrIndex(l.members, m.Agent) > after })
		if i < 0 {
			i = 0
		}
		l.lastRR = cands[i].Agent
		return []string{cands[i].Agent}
	case callcenter.StrategySkillTiers:
		level := best
		if l.g.TierWiden > 0 {
			level += int(now.Sub(w.at) / l.g.TierWiden)
		}
		cands = slices.DeleteFunc(cands, func(m callcenter.Member) bool { return m.Level > level })
		slices.SortStableFunc(cands, func(a, b callcenter.Member) int {
			if a.Level != b.Level {
				return a.Level - b.Level
			}
			return idle(a, b)
		})
	default:
		slices.SortStableFunc(cands, idle)
	}
	return []string{cands[0].Agent}
}

func rrIndex(ms []callcenter.Member, agent string) int {
	return slices.IndexFunc(ms, func(m callcenter.Member) bool { return m.Agent == agent })
}
