// Package center is the inbound call center's orchestrator: it owns the
// live state (one agentstate.Machine per agent, and an acd.ACD with the
// queues of the skill groups, fed every status change) and drives each carrier call from its number through the IVR and
// a group's queue to an agent, after-call work and back to idle. The SIP
// edge hands it calls (sipedge.WithInbound) and agent legs of other calls
// (sipedge.WithAgentActivity); the API server reads statuses, figures and
// groups from it and receives every change through a Sink.
//
// Locking: one mutex guards all live state, and only decisions are made
// under it. Pushes to the Sink and store writes (status log, offers) are
// queued under it in the order they happened and carried out after it is
// released (outbox.go): pushes by the goroutine that released it, writes
// by one writer goroutine, so every agent's statuses still reach the API
// and the store in order. Group figures are coalesced and pushed at most
// every WithGroupPushInterval by Run. The Sink must not call back into the
// Center.
package center

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/acd"
	"github.com/agentphone/agentphone/callcenter/agentstate"
)

// Store is the persistence the center needs; callcenter/store's SQLite
// satisfies it.
type Store interface {
	ListGroups(ctx context.Context) ([]callcenter.SkillGroup, error)
	Members(ctx context.Context, group string) ([]callcenter.Member, error)
	IVRMenuByName(ctx context.Context, name string) (callcenter.IVRMenu, error)
	ListCustomStatuses(ctx context.Context) ([]callcenter.CustomStatus, error)
	AppendStatus(ctx context.Context, st callcenter.AgentStatus) error
	RecordOffer(ctx context.Context, o callcenter.Offer) error
	CallsWith(ctx context.Context, number string) (count int, last time.Time, err error)
}

// Sink receives the live changes for the API (callcenter/server implements
// it). Calls are made one at a time, in the order the changes happened,
// outside the center's lock but while other goroutines wait to deliver
// theirs: they must not block and must not call the Center.
type Sink interface {
	Status(agent string, s callcenter.AgentStatus)
	Figures(agent string, f callcenter.AgentFigures)
	Groups(agent string, g []callcenter.GroupFigures)
	Offer(agent string, pop callcenter.ScreenPop)
	Missed(agent string, o callcenter.Offer)
	Notice(agent string, n callcenter.Notice)
}

// Option configures a Center.
type Option func(*Center)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *Center) { c.log = l } }

// WithClock injects the time source for statuses, waits and timers.
func WithClock(now func() time.Time) Option { return func(c *Center) { c.now = now } }

// WithEvents sets where changes are pushed (default: nowhere).
func WithEvents(s Sink) Option { return func(c *Center) { c.sink = s } }

// WithPrompts sets the prompts and hold music played to callers (default:
// none; callers then wait in silence and the IVR's prompts are skipped).
func WithPrompts(p Prompts) Option { return func(c *Center) { c.prompts = p } }

// WithTick sets how often Run looks at the timers (ACW expiry, maximum
// wait, announcements, tier widening) when nothing else wakes it. Default
// 250 ms.
func WithTick(d time.Duration) Option { return func(c *Center) { c.tick = d } }

// WithRingTimeout sets the ring timeout for groups that leave theirs zero
// and for calls routed straight to an agent. Default 20 s.
func WithRingTimeout(d time.Duration) Option { return func(c *Center) { c.ringTimeout = d } }

// WithPriority sets the caller priority of queue calls: higher is served
// first, callers of one priority in the order they began to wait. It sees
// the call's screen pop (caller, center number, calls from this number),
// so a VIP list or a number-level rule fits here. Default: 0 for all.
func WithPriority(f func(pop callcenter.ScreenPop) int) Option {
	return func(c *Center) { c.priority = f }
}

// WithGroupPushInterval sets how often at most Run pushes the live figures
// of the skill groups that changed (default DefaultGroupPushInterval).
func WithGroupPushInterval(d time.Duration) Option { return func(c *Center) { c.groupEvery = d } }

// Center is the orchestrator. Create with New, then run Run.
type Center struct {
	st          Store
	log         *slog.Logger
	now         func() time.Time
	sink        Sink
	prompts     Prompts
	tick        time.Duration
	ringTimeout time.Duration
	priority    func(callcenter.ScreenPop) int
	customers   Customers // nil: no names (customers.go)
	callbacks   Callbacks // nil: voicemail overflow makes no callback
	// callbackOwner owns the callbacks of groups without members.
	callbackOwner string
	groupEvery    time.Duration
	kick          chan struct{}
	out           *outbox
	w             *writer

	mu       sync.Mutex
	agents   map[string]*agent
	groups   map[string]callcenter.SkillGroup
	members  map[string][]callcenter.Member // by group
	memberOf map[string][]string            // agent -> group names
	statuses []callcenter.CustomStatus
	// q is the ACD: the queues and the choice of agents. It is fed every
	// agent status change (changedLocked) and the groups and members
	// (Reload); offers are made from its decisions in step.
	q     *acd.ACD
	calls map[string]*queued
	// dirty are the groups whose figures changed since Run last pushed
	// them (markGroupsLocked).
	dirty map[string]struct{}
	// seen are the agents whose status was restored (RestoreStatus) or changed
	// since New: a stored status is never restored over a newer one.
	seen map[string]bool
	ctl  controls // live call control sessions (control.go)
}

// defaultHandleTime is assumed for expected-wait announcements until a
// group has answered calls.
const defaultHandleTime = 2 * time.Minute

// agent is one agent's live state.
type agent struct {
	m *agentstate.Machine
	// call is the call the agent is ringing for or talking on, when the
	// center (or an AgentActivity) put it there.
	call string
}

// New loads groups, members and custom statuses from st.
func New(st Store, opts ...Option) (*Center, error) {
	if st == nil {
		return nil, fmt.Errorf("%w: no store", ErrConfig)
	}
	c := &Center{
		st:          st,
		log:         slog.New(slog.DiscardHandler),
		now:         time.Now,
		sink:        nopSink{},
		tick:        250 * time.Millisecond,
		ringTimeout: 20 * time.Second,
		groupEvery:  DefaultGroupPushInterval,
		kick:        make(chan struct{}, 1),
		dirty:       map[string]struct{}{},
		seen:        map[string]bool{},
		agents:      map[string]*agent{},
		groups:      map[string]callcenter.SkillGroup{},
		members:     map[string][]callcenter.Member{},
		memberOf:    map[string][]string{},
		calls:       map[string]*queued{},
	}
	for _, o := range opts {
		o(c)
	}
	if c.log == nil || c.now == nil || c.sink == nil || c.tick <= 0 || c.ringTimeout <= 0 || c.groupEvery <= 0 {
		return nil, fmt.Errorf("%w: nil logger, clock or sink, or non-positive tick, ring timeout or group push interval", ErrConfig)
	}
	c.out = &outbox{sink: c.sink}
	c.w = newWriter(c.log)
	c.q = acd.New(acd.WithClock(c.now), acd.WithDefaultHandleTime(defaultHandleTime))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Reload(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Reload reads groups, members and custom statuses again (after admin
// changes). Calls waiting keep their place.
func (c *Center) Reload(ctx context.Context) error {
	groups, err := c.st.ListGroups(ctx)
	if err != nil {
		return fmt.Errorf("center: load groups: %w", err)
	}
	members := map[string][]callcenter.Member{}
	for _, g := range groups {
		ms, err := c.st.Members(ctx, g.Name)
		if err != nil {
			return fmt.Errorf("center: load members of %s: %w", g.Name, err)
		}
		members[g.Name] = ms
	}
	statuses, err := c.st.ListCustomStatuses(ctx)
	if err != nil {
		return fmt.Errorf("center: load custom statuses: %w", err)
	}

	c.mu.Lock()
	defer c.unlock()
	for name := range c.groups {
		if _, ok := members[name]; ok {
			continue
		}
		// The group is gone: its callers leave the queue as if they had
		// waited their maximum (its overflow, else all-busy).
		for _, qc := range c.q.RemoveGroup(name) {
			if q := c.calls[qc.ID]; q != nil {
				q.expired = true
				q.send(queueEvent{kind: evExpired})
			}
		}
	}
	c.groups = map[string]callcenter.SkillGroup{}
	c.memberOf = map[string][]string{}
	for _, g := range groups {
		if err := c.q.SetGroup(g); err != nil {
			c.log.Error("center: skill group not loaded", "group", g.Name, "error", err)
			continue
		}
		if err := c.q.SetMembers(g.Name, members[g.Name]); err != nil {
			c.log.Error("center: members not loaded", "group", g.Name, "error", err)
			members[g.Name] = nil
		}
		c.groups[g.Name] = g
		for _, m := range members[g.Name] {
			c.memberOf[m.Agent] = append(c.memberOf[m.Agent], g.Name)
			c.agentLocked(m.Agent) // the ACD learns every member's status
		}
	}
	c.members = members
	c.statuses = statuses
	for name := range c.groups {
		c.markGroupsLocked(name) // members and labels may have changed
	}
	c.wake()
	return nil
}

// agentLocked returns the agent's live state, creating it offline.
func (c *Center) agentLocked(wn string) *agent {
	a := c.agents[wn]
	if a == nil {
		a = &agent{m: agentstate.New(wn, c.now())}
		c.agents[wn] = a
		c.q.UpdateAgent(a.m.Status(), 0)
	}
	return a
}

// changedLocked queues the agent's new status for the store and pushes it
// with its figures, marks its groups' figures changed, and wakes Run when
// the agent became available. The ACD learns the status at once (before
// any Next: never offer to a busy agent); the rest happens off the lock.
func (c *Center) changedLocked(a *agent, st callcenter.AgentStatus) {
	fig := a.m.Figures(c.now())
	c.q.UpdateAgent(st, fig.Calls)
	c.seen[st.Agent] = true
	c.w.add(write{what: "persist status", agent: st.Agent, do: func(ctx context.Context) error { return c.st.AppendStatus(ctx, st) }})
	c.out.add(func(s Sink) {
		s.Status(st.Agent, st)
		s.Figures(st.Agent, fig)
	})
	c.markGroupsLocked(c.memberOf[st.Agent]...)
	if st.Available() {
		c.wake()
	}
}

// pushGroupsLocked marks groups' figures changed (pushed by Run).
func (c *Center) pushGroupsLocked(groups ...string) { c.markGroupsLocked(groups...) }

func (c *Center) groupsLocked(agent string) []callcenter.GroupFigures {
	var out []callcenter.GroupFigures
	for _, name := range c.memberOf[agent] {
		out = append(out, c.groupFiguresLocked(name))
	}
	return out
}

// groupFiguresLocked counts one group's live figures.
func (c *Center) groupFiguresLocked(name string) callcenter.GroupFigures {
	gf := callcenter.GroupFigures{Group: name}
	gf.Waiting, gf.LongestWait = c.q.Waiting(name)
	for _, m := range c.members[name] {
		a := c.agents[m.Agent]
		if a == nil {
			continue
		}
		st := a.m.Status()
		switch {
		case st.Presence == callcenter.PresenceOffline:
		case st.Available():
			gf.Idle++
		case st.Activity == callcenter.ActivityTalking || st.Activity == callcenter.ActivityRinging:
			gf.Talking++
		default:
			gf.Busy++
		}
	}
	return gf
}

func (c *Center) wake() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// transition runs one state machine operation and publishes its result;
// a refusal comes back as *RefusedError.
func (c *Center) transitionLocked(a *agent, op func(now time.Time) (callcenter.AgentStatus, error)) (callcenter.AgentStatus, error) {
	before := a.m.Status()
	st, err := op(c.now())
	if err != nil {
		var te *agentstate.TransitionError
		if errors.As(err, &te) && !errors.Is(err, agentstate.ErrBadInput) {
			return st, &RefusedError{Agent: st.Agent, Err: err}
		}
		return st, fmt.Errorf("center: agent %s: %w", st.Agent, err)
	}
	if st != before {
		c.changedLocked(a, st)
	}
	return st, nil
}

// Login signs the agent in (phone busy, SPEC §2). A second login of a
// signed-in agent (a takeover) keeps the status as it is.
func (c *Center) Login(agent string) {
	c.mu.Lock()
	defer c.unlock()
	a := c.agentLocked(agent)
	if a.m.Status().Presence != callcenter.PresenceOffline {
		return
	}
	if _, err := c.transitionLocked(a, a.m.Login); err != nil {
		c.log.Warn("center: login", "agent", agent, "error", err)
	}
}

// Logout signs the agent out. A call ringing or up is not cut: the agent
// is signed out when it ends (the state machine refuses it before).
func (c *Center) Logout(agent string) {
	c.mu.Lock()
	defer c.unlock()
	a := c.agentLocked(agent)
	if _, err := c.transitionLocked(a, a.m.Logout); err != nil {
		c.log.Info("center: logout refused", "agent", agent, "error", err)
	}
}

// Status is the agent's current status.
func (c *Center) Status(agent string) callcenter.AgentStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.agentLocked(agent).m.Status()
}

// Figures are the agent's figures today.
func (c *Center) Figures(agent string) callcenter.AgentFigures {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.agentLocked(agent).m.Figures(c.now())
}

// Groups are the live figures of the agent's skill groups.
func (c *Center) Groups(agent string) []callcenter.GroupFigures {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.groupsLocked(agent)
}

// GroupLabel is a group's label (server.GroupLabeler); the name when the
// group is unknown.
func (c *Center) GroupLabel(group string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if g, ok := c.groups[group]; ok && g.Label != "" {
		return g.Label
	}
	return group
}

// CustomStatuses are the admin-defined statuses in menu order.
func (c *Center) CustomStatuses() []callcenter.CustomStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.statuses)
}

// ChangeStatus applies the agent's request: presence first, then the
// phone status, then auto-answer. It stops at the first refusal and
// returns the status reached.
func (c *Center) ChangeStatus(ctx context.Context, agentWN string, ch callcenter.StatusChange) (callcenter.AgentStatus, error) {
	c.mu.Lock()
	defer c.unlock()
	a := c.agentLocked(agentWN)
	m := a.m
	if ch.Presence != nil {
		switch *ch.Presence {
		case callcenter.PresenceOffline:
			if m.Status().Presence != callcenter.PresenceOffline {
				if st, err := c.transitionLocked(a, m.Logout); err != nil {
					return st, err
				}
			}
		case callcenter.PresenceOnline:
			switch m.Status().Presence {
			case callcenter.PresenceOffline:
				if st, err := c.transitionLocked(a, m.Login); err != nil {
					return st, err
				}
			case callcenter.PresenceCustom:
				if st, err := c.transitionLocked(a, m.ClearCustom); err != nil {
					return st, err
				}
			}
		case callcenter.PresenceCustom:
			if ch.Custom == nil || !slices.ContainsFunc(c.statuses, func(s callcenter.CustomStatus) bool { return s.Name == *ch.Custom }) {
				name := ""
				if ch.Custom != nil {
					name = *ch.Custom
				}
				return m.Status(), fmt.Errorf("%w %q: %w", ErrUnknownStatus, name, callcenter.ErrInvalid)
			}
			if m.Status().Presence == callcenter.PresenceOffline {
				if st, err := c.transitionLocked(a, m.Login); err != nil {
					return st, err
				}
			}
			name := *ch.Custom
			if st, err := c.transitionLocked(a, func(now time.Time) (callcenter.AgentStatus, error) { return m.SetCustom(name, now) }); err != nil {
				return st, err
			}
		default:
			return m.Status(), fmt.Errorf("center: presence %d: %w", *ch.Presence, callcenter.ErrInvalid)
		}
	}
	if ch.Phone != nil {
		p := *ch.Phone
		if st, err := c.transitionLocked(a, func(now time.Time) (callcenter.AgentStatus, error) { return m.SetPhone(p, now) }); err != nil {
			return st, err
		}
	}
	if ch.AutoAnswer != nil {
		on := *ch.AutoAnswer
		if st, err := c.transitionLocked(a, func(now time.Time) (callcenter.AgentStatus, error) { return m.SetAutoAnswer(on, now) }); err != nil {
			return st, err
		}
	}
	return m.Status(), nil
}

// FinishACW ends the agent's after-call work now.
func (c *Center) FinishACW(ctx context.Context, agentWN string) error {
	c.mu.Lock()
	defer c.unlock()
	a := c.agentLocked(agentWN)
	_, err := c.transitionLocked(a, a.m.FinishACW)
	return err
}

// ExtendACW adds d to the agent's after-call work.
func (c *Center) ExtendACW(ctx context.Context, agentWN string, d time.Duration) error {
	c.mu.Lock()
	defer c.unlock()
	a := c.agentLocked(agentWN)
	st, err := c.transitionLocked(a, func(now time.Time) (callcenter.AgentStatus, error) { return a.m.ExtendACW(d, now) })
	if err == nil {
		// ExtendACW keeps Since, so transition saw no change; the new
		// countdown still has to reach the store and the phone bar.
		c.changedLocked(a, st)
	}
	return err
}

// Run serves the timers (ACW expiry, maximum waits, announcements, tier
// widening), hands waiting calls to agents and pushes the changed groups'
// figures, until ctx ends. On its way out it flushes the queued pushes
// and store writes (Flush).
func (c *Center) Run(ctx context.Context) error {
	defer c.Flush()
	t := time.NewTicker(c.tick)
	defer t.Stop()
	g := time.NewTicker(c.groupEvery)
	defer g.Stop()
	timers := true
	for {
		c.step(timers)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			timers = true
		case <-c.kick:
			// An agent or a call became free: offers only. Walking
			// every agent's and call's timers at each kick made the
			// lock's hold time grow with the center's size.
			timers = false
		case <-g.C:
			c.pushGroups()
			timers = false
		}
	}
}

// Close flushes the queued pushes and store writes, as Run does when it
// ends. Call it (or end Run) after the SIP edge has closed, before the
// store closes: status changes made by the last calls' hang-ups are then
// stored. The Center stays usable.
func (c *Center) Close() error {
	c.Flush()
	return nil
}

// step makes the offers the ACD picks; with timers, it first applies the
// passing of time (ACW expiry, maximum waits, announcements).
func (c *Center) step(timers bool) {
	c.mu.Lock()
	defer c.unlock()
	now := c.now()
	if timers {
		c.timersLocked(now)
	}
	c.offersLocked(now)
}

// timersLocked applies the passing of time to agents and waiting calls.
func (c *Center) timersLocked(now time.Time) {
	for _, a := range c.agents {
		if st, changed := a.m.Tick(now); changed {
			c.changedLocked(a, st)
		}
	}
	for _, q := range c.calls {
		g := c.groups[q.group]
		if g.MaxWait > 0 && !q.expired && now.Sub(q.enqueued) >= g.MaxWait {
			q.expired = true
			q.send(queueEvent{kind: evExpired})
		}
		if g.AnnounceEvery > 0 && now.Sub(q.announced) >= g.AnnounceEvery {
			q.announced = now
			if pos, wait := c.q.Position(q.id); pos > 0 {
				q.send(queueEvent{kind: evAnnounce, position: pos, wait: wait})
			}
		}
	}
}

// offersLocked makes the offers the ACD picks.
func (c *Center) offersLocked(now time.Time) {
	for _, o := range c.q.Next(now) {
		q := c.calls[o.Call.ID]
		if q == nil {
			// Not waiting in the center (cannot happen while enqueue and
			// the calls map change together): drop it, freeing the agents.
			c.q.Dequeue(o.Call.ID)
			continue
		}
		var rung []string
		for _, wn := range o.Agents {
			a := c.agentLocked(wn)
			if _, err := c.transitionLocked(a, a.m.Offer); err != nil {
				// The ACD was fed every change, so this is a bug; the
				// agent is released and passed over for this call.
				c.log.Warn("center: offer refused", "agent", wn, "error", err)
				c.offerResultLocked(q.id, wn, false, now)
				continue
			}
			a.call = q.id
			rung = append(rung, wn)
		}
		if len(rung) > 0 && !q.send(queueEvent{kind: evOffer, agents: rung}) {
			// Cannot happen (one offer at a time, expiry once,
			// announcements only into an empty queue); never leave the
			// agents ringing for nobody.
			c.log.Error("center: offer not delivered", "call", q.id)
			for _, wn := range rung {
				c.unringLocked(q.id, wn)
			}
		}
	}
}

// offerResultLocked tells the ACD how one agent's offer of a call ended.
// A call that is no longer queued (answered elsewhere in a ring-all,
// abandoned, a direct call that never was) has nothing to report.
func (c *Center) offerResultLocked(callID, agent string, answered bool, at time.Time) {
	err := c.q.OfferResult(callID, agent, answered, at)
	switch {
	case err == nil:
		c.wake() // the agent, or the call, may be free for another offer
	case errors.Is(err, acd.ErrUnknownCall), errors.Is(err, acd.ErrNotOffered):
	default:
		c.log.Warn("center: offer result", "call", callID, "agent", agent, "error", err)
	}
}

type nopSink struct{}

func (nopSink) Status(string, callcenter.AgentStatus)    {}
func (nopSink) Figures(string, callcenter.AgentFigures)  {}
func (nopSink) Groups(string, []callcenter.GroupFigures) {}
func (nopSink) Offer(string, callcenter.ScreenPop)       {}
func (nopSink) Missed(string, callcenter.Offer)          {}
func (nopSink) Notice(string, callcenter.Notice)         {}
