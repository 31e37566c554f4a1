// Package acd is the automatic call distributor of issue 3: one queue per
// skill group, the strategies that choose which agent a call is offered to
// (longest idle, round robin with memory, fewest calls, ring all, skill
// tiers that widen with the caller's wait), caller priority, and position
// and expected-wait figures for announcements.
//
// The ACD does no I/O and starts no goroutines. It decides; the
// orchestrator rings, and reports back with OfferResult, UpdateAgent and
// Dequeue. Times come from the caller (Next, Expired) or the injected clock.
// An ACD is safe for concurrent use.
//
// Data structures are chosen so one decision does not depend on the number
// of agents: each group keeps its available members in a slice sorted by
// the group's strategy, and the set of groups that have both a waiting
// caller and an available member, so Next looks only where an offer is
// possible.
package acd

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/agentphone/agentphone/callcenter"
)

// DefaultHandleTime is the handle time assumed for expected-wait figures
// until a group has handled calls (Handled).
const DefaultHandleTime = 3 * time.Minute

// handleSamples is how many recent handle times the average is taken over.
const handleSamples = 32

// QueuedCall is a caller waiting in a skill group's queue.
type QueuedCall struct {
	ID       string
	Group    string
	Priority int       // higher is served first; FIFO within a priority
	Caller   string    // the caller's number
	At       time.Time // when the caller began to wait; kept across Move
}

// Offer is one decision of Next: ring Agents with Call for RingTimeout.
// Agents holds one agent, or every chosen member with ring all.
type Offer struct {
	Call        QueuedCall
	Agents      []string
	RingTimeout time.Duration
	Wait        time.Duration // how long the caller has waited so far
}

// Option configures an ACD.
type Option func(*ACD)

// WithClock sets the clock used by methods that take no time argument
// (Move, Waiting, GroupFigures, Enqueue of a call without At).
func WithClock(now func() time.Time) Option {
	return func(a *ACD) {
		if now != nil {
			a.now = now
		}
	}
}

// WithDefaultHandleTime sets the handle time assumed before a group has
// reported any (DefaultHandleTime otherwise).
func WithDefaultHandleTime(d time.Duration) Option {
	return func(a *ACD) {
		if d > 0 {
			a.defHandle = d
		}
	}
}

// ACD holds the queues, groups and agents' availability.
type ACD struct {
	mu        sync.Mutex
	now       func() time.Time
	defHandle time.Duration
	groups    map[string]*group
	agents    map[string]*agent
	calls     map[string]*entry
	// ready holds the groups with a waiting (not ringing) call and an
	// available member: the only places Next has to look.
	ready map[*group]struct{}
	seq   uint64
	// scratch holds the members chosen for one offer inside Next.
	scratch []*member
}

type group struct {
	cfg      callcenter.SkillGroup
	members  []*member // in SetMembers order (round robin's order)
	minLevel int
	// avail are the members free to take a call, sorted by strategy.
	avail []*member
	// waiting and ringing are the queue, each sorted by queueLess;
	// a call is in ringing while its offer rings.
	waiting []*entry
	ringing []*entry
	// rrLast is the member order offered last (round robin memory);
	// rrAgent who it was, to find it again after SetMembers.
	rrLast  int
	rrAgent string
	handle  [handleSamples]time.Duration
	nHandle int
	// one is pick's buffer: whether a call has a candidate, without
	// allocating.
	one [1]*member
}

type member struct {
	g     *group
	a     *agent
	level int
	order int
}

type agent struct {
	name    string
	st      callcenter.AgentStatus
	calls   int
	members []*member
	// offering is the call ringing this agent; an agent never has two.
	offering *entry
}

func (a *agent) available() bool { return a.offering == nil && a.st.Available() }

type entry struct {
	QueuedCall
	seq     uint64
	g       *group
	ringing []*agent
	// declined are the agents that did not answer this call; they are
	// passed over until every available candidate declined.
	declined []*agent
	// moved is when the call overflowed into its current group (zero if
	// it never moved): that group's MaxWait counts from here.
	moved time.Time
}

// inGroup is when the call entered its current group.
func (e *entry) inGroup() time.Time {
	if e.moved.IsZero() {
		return e.At
	}
	return e.moved
}

// New returns an empty ACD.
func New(opts ...Option) *ACD {
	a := &ACD{
		now:       time.Now,
		defHandle: DefaultHandleTime,
		groups:    make(map[string]*group),
		agents:    make(map[string]*agent),
		calls:     make(map[string]*entry),
		ready:     make(map[*group]struct{}),
	}
	for _, o := range opts {
		o(a)
	}
	return a
}

// SetGroup adds a skill group or updates its settings. A new strategy
// re-sorts the group's available members; queue and members stay.
func (a *ACD) SetGroup(cfg callcenter.SkillGroup) error {
	if cfg.Name == "" || cfg.RingTimeout < 0 || cfg.MaxWait < 0 || cfg.TierWiden < 0 ||
		cfg.Strategy < callcenter.StrategyLongestIdle || cfg.Strategy > callcenter.StrategySkillTiers {
		return fmt.Errorf("set group %q: %w", cfg.Name, ErrBadInput)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	g := a.groups[cfg.Name]
	if g == nil {
		a.groups[cfg.Name] = &group{cfg: cfg, rrLast: -1, minLevel: 1}
		return nil
	}
	resort := g.cfg.Strategy != cfg.Strategy
	g.cfg = cfg
	if resort {
		slices.SortFunc(g.avail, g.cmpMember)
	}
	return nil
}

// RemoveGroup deletes a group and returns the calls that were queued in it,
// for the orchestrator to route elsewhere or end. Agents ringing for them
// are freed.
func (a *ACD) RemoveGroup(name string) []QueuedCall {
	a.mu.Lock()
	defer a.mu.Unlock()
	g := a.groups[name]
	if g == nil {
		return nil
	}
	a.setMembers(g, nil)
	var out []QueuedCall
	for _, e := range slices.Concat(g.waiting, g.ringing) {
		a.dropEntry(e)
		out = append(out, e.QueuedCall)
	}
	slices.SortFunc(out, func(x, y QueuedCall) int { return queueCmp(x, y) })
	delete(a.groups, name)
	delete(a.ready, g)
	return out
}

// SetMembers replaces the members of group: an agent may be in several
// groups, with a skill level (1 best) in each.
func (a *ACD) SetMembers(groupName string, members []callcenter.Member) error {
	seen := make(map[string]bool, len(members))
	for _, m := range members {
		if m.Agent == "" || m.Level < 1 || seen[m.Agent] {
			return fmt.Errorf("members of %q: agent %q level %d: %w", groupName, m.Agent, m.Level, ErrBadInput)
		}
		seen[m.Agent] = true
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	g := a.groups[groupName]
	if g == nil {
		return fmt.Errorf("members of %q: %w", groupName, ErrUnknownGroup)
	}
	a.setMembers(g, members)
	return nil
}

func (a *ACD) setMembers(g *group, members []callcenter.Member) {
	for _, m := range g.members {
		m.a.members = slices.DeleteFunc(m.a.members, func(x *member) bool { return x == m })
	}
	g.members = g.members[:0]
	g.avail = g.avail[:0]
	g.minLevel = 1
	for i, cm := range members {
		ag := a.agent(cm.Agent)
		m := &member{g: g, a: ag, level: cm.Level, order: i}
		g.members = append(g.members, m)
		ag.members = append(ag.members, m)
		if i == 0 || cm.Level < g.minLevel {
			g.minLevel = cm.Level
		}
		if ag.available() {
			g.avail = append(g.avail, m)
		}
		if cm.Agent == g.rrAgent {
			g.rrLast = i
		}
	}
	slices.SortFunc(g.avail, g.cmpMember)
	a.refresh(g)
}

func (a *ACD) agent(name string) *agent {
	ag := a.agents[name]
	if ag == nil {
		ag = &agent{name: name, st: callcenter.AgentStatus{Agent: name}}
		a.agents[name] = ag
	}
	return ag
}

// UpdateAgent feeds an agent's status (from its agentstate machine) and
// calls answered today (fewest-calls strategy). Feed every change before
// calling Next, so the ACD never offers a call to an agent who just became
// busy.
func (a *ACD) UpdateAgent(st callcenter.AgentStatus, callsToday int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ag := a.agent(st.Agent)
	a.withdraw(ag)
	ag.st, ag.calls = st, callsToday
	a.restore(ag)
}

// withdraw takes an available agent out of its groups' sorted sets; it
// must run before anything the sort keys depend on changes.
func (a *ACD) withdraw(ag *agent) {
	if !ag.available() {
		return
	}
	for _, m := range ag.members {
		g := m.g
		i, ok := slices.BinarySearchFunc(g.avail, m, g.cmpMember)
		if !ok || g.avail[i] != m {
			i = slices.Index(g.avail, m) // unreachable while keys are unique
		}
		if i >= 0 {
			g.avail = slices.Delete(g.avail, i, i+1)
		}
		a.refresh(g)
	}
}

// restore puts an agent back into its groups' sets if it is available.
func (a *ACD) restore(ag *agent) {
	if !ag.available() {
		return
	}
	for _, m := range ag.members {
		g := m.g
		i, _ := slices.BinarySearchFunc(g.avail, m, g.cmpMember)
		g.avail = slices.Insert(g.avail, i, m)
		a.refresh(g)
	}
}

// refresh keeps g's membership of the ready set right.
func (a *ACD) refresh(g *group) {
	if len(g.avail) > 0 && len(g.waiting) > 0 {
		a.ready[g] = struct{}{}
	} else {
		delete(a.ready, g)
	}
}

// Enqueue puts a caller in a group's queue and returns its position (1 is
// next). A call without At waits from the clock's now.
func (a *ACD) Enqueue(c QueuedCall) (int, error) {
	if c.ID == "" {
		return 0, fmt.Errorf("enqueue: empty call id: %w", ErrBadInput)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	g := a.groups[c.Group]
	if g == nil {
		return 0, fmt.Errorf("enqueue %s in %q: %w", c.ID, c.Group, ErrUnknownGroup)
	}
	if a.calls[c.ID] != nil {
		return 0, fmt.Errorf("enqueue %s: %w", c.ID, ErrDuplicateCall)
	}
	if c.At.IsZero() {
		c.At = a.now()
	}
	a.seq++
	e := &entry{QueuedCall: c, seq: a.seq, g: g}
	a.calls[c.ID] = e
	g.waiting = insertEntry(g.waiting, e)
	a.refresh(g)
	return g.position(e), nil
}

// Dequeue removes a call from its queue: the caller hung up, or the call
// was answered or routed elsewhere. Agents it was ringing are freed (the
// orchestrator stops their ringing).
func (a *ACD) Dequeue(callID string) (QueuedCall, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e := a.calls[callID]
	if e == nil {
		return QueuedCall{}, fmt.Errorf("dequeue %s: %w", callID, ErrUnknownCall)
	}
	a.dropEntry(e)
	return e.QueuedCall, nil
}

// dropEntry removes e from its group and the index, freeing its agents.
func (a *ACD) dropEntry(e *entry) {
	g := e.g
	if len(e.ringing) > 0 {
		g.ringing = removeEntry(g.ringing, e)
	} else {
		g.waiting = removeEntry(g.waiting, e)
	}
	delete(a.calls, e.ID)
	for _, ag := range e.ringing {
		ag.offering = nil
		a.restore(ag)
	}
	e.ringing = nil
	a.refresh(g)
}

// Move sends a waiting call to another group's queue (overflow). The
// caller keeps its wait time (At): having waited already, it goes ahead of
// newer callers of the same priority; MaxWait of the new group counts from
// the move. A ringing call cannot move until its offer ends.
func (a *ACD) Move(callID, toGroup string) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e := a.calls[callID]
	if e == nil {
		return 0, fmt.Errorf("move %s: %w", callID, ErrUnknownCall)
	}
	to := a.groups[toGroup]
	if to == nil {
		return 0, fmt.Errorf("move %s to %q: %w", callID, toGroup, ErrUnknownGroup)
	}
	if len(e.ringing) > 0 {
		return 0, fmt.Errorf("move %s to %q: %w", callID, toGroup, ErrRinging)
	}
	if to == e.g {
		return to.position(e), nil
	}
	from := e.g
	from.waiting = removeEntry(from.waiting, e)
	a.refresh(from)
	e.g, e.Group, e.declined = to, to.cfg.Name, nil
	a.seq++
	e.seq = a.seq // FIFO among equal At: behind those already there
	e.moved = a.now()
	to.waiting = insertEntry(to.waiting, e)
	a.refresh(to)
	return to.position(e), nil
}

// OfferResult reports how an offer ended for one agent. answered: the call
// is taken and leaves the queue, and any other agent it rang (ring all) is
// freed. Not answered: the agent is passed over for this call until every
// other available candidate was tried, and the call waits again once no
// agent rings for it. now is when the offer ended; no strategy needs it
// yet, it is part of the contract so one may.
func (a *ACD) OfferResult(callID, agentName string, answered bool, now time.Time) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	e := a.calls[callID]
	if e == nil {
		return fmt.Errorf("offer of %s to %s: %w", callID, agentName, ErrUnknownCall)
	}
	return a.offerResult(e, agentName, answered)
}

func (a *ACD) offerResult(e *entry, agentName string, answered bool) error {
	callID := e.ID
	ag := a.agents[agentName]
	if ag == nil || ag.offering != e {
		return fmt.Errorf("offer of %s to %s: %w", callID, agentName, ErrNotOffered)
	}
	e.ringing = slices.DeleteFunc(e.ringing, func(x *agent) bool { return x == ag })
	ag.offering = nil
	g := e.g
	if answered {
		// Until UpdateAgent says otherwise the agent is on this call;
		// never offer it another in between.
		ag.st.Activity = callcenter.ActivityTalking
		g.ringing = removeEntry(g.ringing, e)
		delete(a.calls, e.ID)
		for _, other := range e.ringing {
			other.offering = nil
			a.restore(other)
		}
		e.ringing = nil
		a.refresh(g)
		return nil
	}
	if !slices.Contains(e.declined, ag) {
		e.declined = append(e.declined, ag)
	}
	if len(e.ringing) == 0 {
		g.ringing = removeEntry(g.ringing, e)
		g.waiting = insertEntry(g.waiting, e)
	}
	a.restore(ag)
	a.refresh(g)
	return nil
}

// Requeue ends every offer of a call without an answer, as if OfferResult
// (not answered) came from each agent it rings: they are freed and passed
// over for this call, which waits again. For an orchestrator that tracks
// offers per call rather than per agent.
func (a *ACD) Requeue(callID string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	e := a.calls[callID]
	if e == nil {
		return fmt.Errorf("requeue %s: %w", callID, ErrUnknownCall)
	}
	for len(e.ringing) > 0 {
		if err := a.offerResult(e, e.ringing[0].name, false); err != nil {
			return err
		}
	}
	return nil
}

// Handled reports the handle time (talk plus after-call work) of a call
// the group served, for expected-wait figures.
func (a *ACD) Handled(groupName string, d time.Duration) {
	if d <= 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if g := a.groups[groupName]; g != nil {
		g.handle[g.nHandle%handleSamples] = d
		g.nHandle++
	}
}

// Next decides which waiting calls to offer to which agents now. Calls are
// served across all groups in queue order (higher priority first, then the
// longest waiting), so an agent in several groups gets the most urgent of
// their calls; within a group the strategy picks the agent. Chosen agents
// are reserved until OfferResult or Dequeue; an agent is never offered two
// calls at once.
func (a *ACD) Next(now time.Time) []Offer {
	a.mu.Lock()
	defer a.mu.Unlock()
	var offers []Offer
	for len(a.ready) > 0 {
		var best *entry
		for g := range a.ready {
			if e := g.pick(now); e != nil && (best == nil || entryCmp(e, best) < 0) {
				best = e
			}
		}
		if best == nil {
			break // only tier groups whose callers may not reach their members yet
		}
		a.scratch = best.g.candidates(best, now, a.scratch[:0], true)
		offers = append(offers, a.assign(best, a.scratch, now))
	}
	clear(a.scratch) // keep no members alive through the scratch buffer
	return offers
}

func (a *ACD) assign(e *entry, ms []*member, now time.Time) Offer {
	g := e.g
	names := make([]string, len(ms))
	for i, m := range ms {
		ag := m.a
		a.withdraw(ag)
		ag.offering = e
		e.ringing = append(e.ringing, ag)
		names[i] = ag.name
	}
	if g.cfg.Strategy == callcenter.StrategyRoundRobin {
		g.rrLast, g.rrAgent = ms[0].order, ms[0].a.name
	}
	g.waiting = removeEntry(g.waiting, e)
	g.ringing = insertEntry(g.ringing, e)
	a.refresh(g)
	return Offer{Call: e.QueuedCall, Agents: names, RingTimeout: g.cfg.RingTimeout, Wait: max(now.Sub(e.At), 0)}
}

// pick returns the first waiting call that can be offered now, or nil.
func (g *group) pick(now time.Time) *entry {
	for i := 0; i < len(g.waiting); {
		e := g.waiting[i]
		if ms := g.candidates(e, now, g.one[:0], false); len(ms) > 0 {
			return e
		}
		// Only skill tiers can leave a call without candidates. Within
		// one priority the calls behind waited less and admit no more
		// levels: skip to the next priority.
		p := e.Priority
		i += 1 + sort.Search(len(g.waiting)-i-1, func(j int) bool { return g.waiting[i+1+j].Priority != p })
	}
	return nil
}

// candidates appends to dst the member(s) to ring for e, chosen by
// strategy among the available members admitted for e, passing over those
// that declined e unless all admitted ones did (then the round of tries
// starts again). With all false it stops at the first (ring all included):
// enough to know whether e can be offered.
func (g *group) candidates(e *entry, now time.Time, dst []*member, all bool) []*member {
	avail := g.avail
	if g.cfg.Strategy == callcenter.StrategySkillTiers && g.cfg.TierWiden > 0 {
		maxLevel := g.minLevel + int(max(now.Sub(e.At), 0)/g.cfg.TierWiden)
		n := sort.Search(len(avail), func(i int) bool { return avail[i].level > maxLevel })
		avail = avail[:n]
	}
	if len(avail) == 0 {
		return dst
	}
	start := 0
	if g.cfg.Strategy == callcenter.StrategyRoundRobin {
		start = sort.Search(len(avail), func(i int) bool { return avail[i].order > g.rrLast })
	}
	ringAll := all && g.cfg.Strategy == callcenter.StrategyRingAll
	for k := range len(avail) {
		m := avail[(start+k)%len(avail)]
		if !slices.Contains(e.declined, m.a) {
			dst = append(dst, m)
			if !ringAll {
				return dst
			}
		}
	}
	if len(dst) > 0 {
		return dst
	}
	// Every admitted member declined e: a new round.
	e.declined = e.declined[:0]
	if ringAll {
		return append(dst, avail...)
	}
	return append(dst, avail[start%len(avail)])
}

// cmpMember orders available members by the group's strategy; the agent
// name breaks ties so keys are unique.
func (g *group) cmpMember(x, y *member) int {
	switch g.cfg.Strategy {
	case callcenter.StrategyRoundRobin:
		return cmp.Compare(x.order, y.order)
	case callcenter.StrategyFewestCalls:
		if c := cmp.Compare(x.a.calls, y.a.calls); c != 0 {
			return c
		}
	case callcenter.StrategySkillTiers:
		if c := cmp.Compare(x.level, y.level); c != 0 {
			return c
		}
	}
	if c := x.a.st.IdleSince.Compare(y.a.st.IdleSince); c != 0 {
		return c
	}
	return cmp.Compare(x.a.name, y.a.name)
}

// position is e's place in its group's queue, ringing calls included.
func (g *group) position(e *entry) int {
	n, _ := slices.BinarySearchFunc(g.waiting, e, entryCmp)
	r, _ := slices.BinarySearchFunc(g.ringing, e, entryCmp)
	return n + r + 1
}

// Position is a queued call's place in its group's queue (1 is next) and
// the expected wait: position × average handle time ÷ members answering
// (online, phone idle). The wait is 0 when no member answers.
func (a *ACD) Position(callID string) (pos int, expectedWait time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e := a.calls[callID]
	if e == nil {
		return 0, 0
	}
	g := e.g
	pos = g.position(e)
	staffed := 0
	for _, m := range g.members {
		if m.a.st.Presence == callcenter.PresenceOnline && m.a.st.Phone == callcenter.PhoneIdle {
			staffed++
		}
	}
	if staffed == 0 {
		return pos, 0
	}
	return pos, time.Duration(int64(pos) * int64(a.handleTime(g)) / int64(staffed))
}

func (a *ACD) handleTime(g *group) time.Duration {
	n := min(g.nHandle, handleSamples)
	if n == 0 {
		return a.defHandle
	}
	var sum time.Duration
	for _, d := range g.handle[:n] {
		sum += d
	}
	return sum / time.Duration(n)
}

// Waiting is how many callers are in group's queue (ringing included) and
// how long the longest has waited.
func (a *ACD) Waiting(groupName string) (n int, longest time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	g := a.groups[groupName]
	if g == nil {
		return 0, 0
	}
	return g.waitingFigures(a.now())
}

func (g *group) waitingFigures(now time.Time) (int, time.Duration) {
	var longest time.Duration
	for _, q := range [][]*entry{g.waiting, g.ringing} {
		for _, e := range q {
			longest = max(longest, now.Sub(e.At))
		}
	}
	return len(g.waiting) + len(g.ringing), longest
}

// GroupFigures are a group's live figures: queue, and members idle
// (available), talking, and busy (signed in, neither).
func (a *ACD) GroupFigures(groupName string) (callcenter.GroupFigures, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	g := a.groups[groupName]
	if g == nil {
		return callcenter.GroupFigures{}, fmt.Errorf("figures of %q: %w", groupName, ErrUnknownGroup)
	}
	f := callcenter.GroupFigures{Group: groupName}
	f.Waiting, f.LongestWait = g.waitingFigures(a.now())
	for _, m := range g.members {
		switch st := m.a.st; {
		case st.Presence == callcenter.PresenceOffline:
		case m.a.available():
			f.Idle++
		case st.Activity == callcenter.ActivityTalking:
			f.Talking++
		default:
			f.Busy++
		}
	}
	return f, nil
}

// Expired returns the waiting callers who have been in their current
// group for its MaxWait or longer, oldest first, for the orchestrator to
// overflow (Move) or end (Dequeue). Ringing calls are left to their offer.
// Calls stay queued until then, so they are reported again.
func (a *ACD) Expired(now time.Time) []QueuedCall {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []QueuedCall
	for _, g := range a.groups {
		if g.cfg.MaxWait <= 0 {
			continue
		}
		for _, e := range g.waiting {
			if now.Sub(e.inGroup()) >= g.cfg.MaxWait {
				out = append(out, e.QueuedCall)
			}
		}
	}
	slices.SortFunc(out, func(x, y QueuedCall) int {
		if c := x.At.Compare(y.At); c != 0 {
			return c
		}
		return cmp.Compare(x.ID, y.ID)
	})
	return out
}

// NextDeadline is the earliest time after now at which the passing of time
// alone changes a decision: a caller reaching MaxWait, or a skill-tier
// caller reaching one more level while members are available. Zero if
// none: the orchestrator sets its timer for it.
func (a *ACD) NextDeadline(now time.Time) time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	var next time.Time
	consider := func(t time.Time) {
		if t.After(now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, g := range a.groups {
		tiers := g.cfg.Strategy == callcenter.StrategySkillTiers && g.cfg.TierWiden > 0 && len(g.avail) > 0
		if g.cfg.MaxWait <= 0 && !tiers {
			continue
		}
		for _, e := range g.waiting {
			if g.cfg.MaxWait > 0 {
				consider(e.inGroup().Add(g.cfg.MaxWait))
			}
			if tiers {
				w := max(now.Sub(e.At), 0)
				consider(e.At.Add((w/g.cfg.TierWiden + 1) * g.cfg.TierWiden))
			}
		}
	}
	return next
}

// Queue order: higher priority first, then the longest waiting, then the
// order of arrival.
func entryCmp(x, y *entry) int {
	if c := cmp.Compare(y.Priority, x.Priority); c != 0 {
		return c
	}
	if c := x.At.Compare(y.At); c != 0 {
		return c
	}
	return cmp.Compare(x.seq, y.seq)
}

// queueCmp is entryCmp for calls handed out (seq unknown: ID decides).
func queueCmp(x, y QueuedCall) int {
	if c := cmp.Compare(y.Priority, x.Priority); c != 0 {
		return c
	}
	if c := x.At.Compare(y.At); c != 0 {
		return c
	}
	return cmp.Compare(x.ID, y.ID)
}

func insertEntry(q []*entry, e *entry) []*entry {
	i, _ := slices.BinarySearchFunc(q, e, entryCmp)
	return slices.Insert(q, i, e)
}

func removeEntry(q []*entry, e *entry) []*entry {
	i, ok := slices.BinarySearchFunc(q, e, entryCmp)
	if !ok || q[i] != e {
		return q
	}
	return slices.Delete(q, i, i+1)
}
