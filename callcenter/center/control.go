package center

// Call control on the customer call's one room (DESIGN.md "the room"):
// hold, blind transfer, consult (then transfer, three-way or cancel) and
// DTMF are done by adding legs to the room, removing them and changing who
// hears whom; the phones never see a re-INVITE.
//
// Each answered customer call has a session: one goroutine (the call's
// own, in converse) owns its state and applies the agents' requests and
// the legs' news (answered, failed, hung up) one at a time, so no two
// changes ever interleave. The API reaches it through the Center's
// registry, by the customer call's id or any of its legs' ids.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/api"
	"github.com/agentphone/agentphone/callcenter/crm"
	"github.com/agentphone/agentphone/callcenter/ivr"
	cmedia "github.com/agentphone/agentphone/callcenter/media"
	"github.com/agentphone/agentphone/callcenter/sipedge"
	"github.com/google/uuid"
)

// ControlState is a call's control state as its agent sees it.
type ControlState int

const (
	ControlTalking      ControlState = iota // agent(s) and customer talk
	ControlHeld                             // customer hears music, agent hears nothing
	ControlConsulting                       // customer held; agent with the consulted party
	ControlConference                       // three-way: all hear all
	ControlTransferring                     // blind transfer ringing; customer hears music
	ControlEnded
)

func (s ControlState) String() string {
	switch s {
	case ControlTalking:
		return "talking"
	case ControlHeld:
		return "held"
	case ControlConsulting:
		return "consulting"
	case ControlConference:
		return "conference"
	case ControlTransferring:
		return "transferring"
	case ControlEnded:
		return "ended"
	}
	return "unknown"
}

// TargetKind is whom a transfer or consult goes to.
type TargetKind int

const (
	TargetAgent  TargetKind = iota // a work number
	TargetGroup                    // a skill group's queue
	TargetNumber                   // an outside number over the trunk
)

func (k TargetKind) String() string {
	switch k {
	case TargetAgent:
		return "agent"
	case TargetGroup:
		return "group"
	case TargetNumber:
		return "number"
	}
	return "unknown"
}

// ParseTargetKind is the inverse of String.
func ParseTargetKind(s string) (TargetKind, bool) {
	for k := TargetAgent; k <= TargetNumber; k++ {
		if k.String() == s {
			return k, true
		}
	}
	return 0, false
}

// Target is a transfer or consult target.
type Target struct {
	Kind TargetKind
	To   string
}

// Party is one participant of a controlled call.
type Party struct {
	Kind   string // customer, agent, number
	ID     string // number or work number
	Name   string // the agent's name, the customer's from the library; "" when unknown
	State  string // ringing, talking, held, ended
	Speaks bool
}

// ConsultInfo is the consult (or blind transfer) leg of a call.
type ConsultInfo struct {
	Target Target
	State  string // ringing, queued, talking, ended
	Reason string // refusal code when it failed
}

// Control is the in-call state of one customer call.
type Control struct {
	CallID  string
	State   ControlState
	Parties []Party
	Consult *ConsultInfo
	Notice  *callcenter.Notice
}

// Refusal codes of call control (api.Code* carry the same strings).
const (
	CodeAgentBusy      = "agent_busy"
	CodeAgentOffline   = "agent_offline"
	CodeNoAnswer       = "no_answer"
	CodeRejected       = "rejected"
	CodeNoAgentsOnline = "no_agents_online"
	CodeNotInCall      = "not_in_call"
	CodeBadState       = "bad_state"
	CodeBadTarget      = "bad_request"
	// An outside number that was busy or does not exist.
	CodeNumberBusy    = "number_busy"
	CodeNumberInvalid = "invalid_number"
)

// ControlError is a refused call-control request; Code is one of the
// Code* constants, Message is shown to the agent as is.
type ControlError struct {
	Code    string
	Message string
}

func (e *ControlError) Error() string { return "center: " + e.Code + ": " + e.Message }

// Refused marks the error as a refusal for the API.
func (e *ControlError) Refused() bool { return true }

// RefusalMessage is the message shown to the agent.
func (e *ControlError) RefusalMessage() string { return e.Message }

// RefusalCode is the api.Code* the API answers with (409).
func (e *ControlError) RefusalCode() string { return e.Code }

func refuse(code, format string, args ...any) error {
	return &ControlError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ControlSink is implemented by a Sink that wants call-control changes
// (the API server pushes them as "control" events). Called without the
// center's lock; it must not block.
type ControlSink interface {
	Control(agent string, cc api.CallControl)
}

// controls is the registry of live sessions (a field of Center).
type controls struct {
	mu       sync.Mutex
	sessions map[string]*session // by customer call id and leg ids
	requeue  map[string]string   // call id → group its customer goes to next
}

func (r *controls) add(id string, s *session) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sessions == nil {
		r.sessions = map[string]*session{}
	}
	r.sessions[id] = s
}

func (r *controls) remove(s *session) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, x := range r.sessions {
		if x == s {
			delete(r.sessions, id)
		}
	}
}

func (r *controls) get(id string) *session {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sessions[id]
}

func (r *controls) setRequeue(callID, group string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.requeue == nil {
		r.requeue = map[string]string{}
	}
	r.requeue[callID] = group
}

// takeRequeue returns (and forgets) the group a call was transferred to.
func (r *controls) takeRequeue(callID string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	g := r.requeue[callID]
	delete(r.requeue, callID)
	return g
}

// holdSource is the hold music's participant name in the room.
const holdSource = "hold"

// party is an agent (or outside number) leg talking with the customer.
type party struct {
	leg        *sipedge.AgentLeg
	wn         string // work number; "" for an outside number
	name       string // the agent's name, read once when it joined
	answeredAt time.Time
	// queued: the agent answered the call from its group's queue (the
	// group's handle time counts its talk).
	queued bool
	// group whose after-call work applies when the leg ends.
	group callcenter.SkillGroup
}

// consult is the consult or blind-transfer leg being placed or talking.
type consult struct {
	target   Target
	by       string // the agent who asked
	blind    bool   // a blind transfer: on answer the asker leaves
	id       string // the leg's call id
	state    string // ringing, queued, talking, ended
	cancel   context.CancelFunc
	p        *party // once answered
	ringing  bool   // an agent set ringing by us
	asked    time.Time
	released bool   // hung up or given up by us
	member   string // the member rung, for a group consult
}

type request struct {
	op     string
	agent  string
	target Target
	digits string
	reply  chan reply
}

type reply struct {
	cc   Control
	live crm.LiveCall
	err  error
}

// session is the control state of one customer call. All fields below
// mu are owned by the session's loop.
type session struct {
	c    *Center
	call sipedge.CustomerCall
	g    callcenter.SkillGroup
	pop  callcenter.ScreenPop
	log  *slog.Logger
	reqs chan request
	evs  chan func()
	done chan struct{}

	state        ControlState
	parties      []*party // with the customer; parties[0] is in charge
	consult      *consult
	music        *cmedia.Participant
	notice       *callcenter.Notice
	customerGone bool
	// orphan: the asking agent left while its consult or transfer still
	// rang; the customer goes to whoever answers, else back to the queue.
	orphan bool
	// watchers are agents told about changes (everyone ever involved
	// until told the call ended for them).
	watchers []string
	dialers  sync.WaitGroup
}

// converse runs call control for an answered customer call until nobody
// is left talking to anybody. leg is the first agent's, answered at
// answeredAt (center clock) for group g.
func (c *Center) converse(ctx context.Context, call sipedge.CustomerCall, leg *sipedge.AgentLeg, g callcenter.SkillGroup, pop callcenter.ScreenPop, answeredAt time.Time, log *slog.Logger) {
	s := &session{c: c, call: call, g: g, pop: pop, log: log,
		reqs: make(chan request), evs: make(chan func(), 16), done: make(chan struct{})}
	p := &party{leg: leg, wn: leg.Agent(), answeredAt: answeredAt, group: g, queued: g.Name != ""}
	p.name = c.agentName(p.wn)
	s.parties = []*party{p}
	s.watch(p)
	s.watchers = []string{p.wn}
	c.ctl.add(call.ID(), s)
	if leg.ID() != call.ID() {
		c.ctl.add(leg.ID(), s)
	}
	s.applyHears()
	s.push()
	s.run(ctx)
	close(s.done)
	c.ctl.remove(s)
	s.dialers.Wait()
	// News posted as the loop ended (a consult's CANCEL, a leg's end)
	// still frees agents and legs.
	for {
		select {
		case f := <-s.evs:
			f()
		default:
			return
		}
	}
}

// watch posts the leg's end to the loop.
func (s *session) watch(p *party) {
	context.AfterFunc(p.leg.Context(), func() { s.post(func() { s.legEnded(p) }) })
}

// post runs f on the session's loop and reports true, unless the
// session is over.
func (s *session) post(f func()) bool {
	select {
	case s.evs <- f:
		return true
	case <-s.done:
		return false
	}
}

func (s *session) run(ctx context.Context) {
	custDone := ctx.Done()
	for !s.over() {
		select {
		case <-custDone:
			custDone = nil
			s.customerHungUp()
		case r := <-s.reqs:
			if r.op == "live" {
				lc, ok := s.live(r.agent)
				r.reply <- reply{live: lc, err: liveErr(ok)}
				continue
			}
			cc, err := s.handle(r)
			r.reply <- reply{cc: cc, err: err}
		case f := <-s.evs:
			f()
		}
		s.push()
	}
	s.state = ControlEnded
	s.push()
}

// over: nobody talks with anybody and nothing is being dialled.
func (s *session) over() bool {
	if s.consult != nil {
		return false
	}
	if s.customerGone {
		return len(s.parties) < 2
	}
	return len(s.parties) == 0
}

// controller is the agent in charge (who may hold, transfer, consult).
func (s *session) controller() string {
	if len(s.parties) == 0 {
		return ""
	}
	return s.parties[0].wn
}

func (s *session) handle(r request) (Control, error) {
	if r.op == "control" {
		if !s.involved(r.agent) {
			return Control{}, refuse(CodeNotInCall, "you are not in this call")
		}
		return s.snapshot(), nil
	}
	if s.customerGone && r.op != "dtmf" {
		return Control{}, refuse(CodeNotInCall, "the customer has hung up")
	}
	if r.op == "dtmf" {
		return s.snapshot(), s.dtmf(r.agent, r.digits)
	}
	if r.agent != s.controller() {
		return Control{}, refuse(CodeNotInCall, "you are not in charge of this call")
	}
	var err error
	switch r.op {
	case "hold":
		err = s.hold()
	case "resume":
		err = s.resume()
	case "transfer":
		err = s.transfer(r.agent, r.target)
	case "consult":
		err = s.startConsult(r.agent, r.target)
	case "consult/transfer":
		err = s.consultTransfer()
	case "consult/conference":
		err = s.conference()
	case "consult/cancel":
		err = s.cancelConsult()
	default:
		err = refuse(CodeBadState, "unknown operation %q", r.op)
	}
	if err != nil {
		return Control{}, err
	}
	s.notice = nil
	return s.snapshot(), nil
}

func (s *session) involved(wn string) bool {
	if slices.ContainsFunc(s.parties, func(p *party) bool { return p.wn == wn }) {
		return true
	}
	return s.consult != nil && (s.consult.by == wn || (s.consult.target.Kind == TargetAgent && s.consult.target.To == wn) || s.consult.member == wn)
}

func (s *session) hold() error {
	if s.state != ControlTalking || len(s.parties) != 1 {
		return refuse(CodeBadState, "only a two-party call can be held (now %s)", s.state)
	}
	s.state = ControlHeld
	s.startMusic()
	s.applyHears()
	return nil
}

func (s *session) resume() error {
	if s.state != ControlHeld {
		return refuse(CodeBadState, "the call is not on hold (now %s)", s.state)
	}
	s.state = ControlTalking
	s.stopMusic()
	s.applyHears()
	return nil
}

// check refuses a target nobody can take now.
func (s *session) check(asker string, t Target) error {
	t.To = strings.TrimSpace(t.To)
	if t.To == "" {
		return refuse(CodeBadTarget, "no %s given", t.Kind)
	}
	c := s.c
	switch t.Kind {
	case TargetAgent:
		if t.To == asker || slices.ContainsFunc(s.parties, func(p *party) bool { return p.wn == t.To }) {
			return refuse(CodeBadTarget, "agent %s is already in this call", t.To)
		}
		c.mu.Lock()
		a, known := c.agents[t.To]
		var st callcenter.AgentStatus
		if known {
			st = a.m.Status()
		}
		c.unlock()
		switch {
		case !known || st.Presence == callcenter.PresenceOffline || !s.call.Registered(t.To):
			return refuse(CodeAgentOffline, "agent %s is not online", t.To)
		case !st.Available() || a.call != "":
			return refuse(CodeAgentBusy, "agent %s is busy", t.To)
		}
	case TargetGroup:
		c.mu.Lock()
		_, ok := c.groups[t.To]
		online := c.onlineLocked(t.To)
		c.unlock()
		if !ok {
			return refuse(CodeBadTarget, "no skill group %q", t.To)
		}
		if online == 0 {
			return refuse(CodeNoAgentsOnline, "nobody in %s is online", c.GroupLabel(t.To))
		}
	case TargetNumber:
		if !sipedge.Dialable(t.To) {
			return refuse(CodeBadTarget, "%q is not a telephone number", t.To)
		}
	default:
		return refuse(CodeBadTarget, "unknown target kind %d", t.Kind)
	}
	return nil
}

// onlineLocked counts a group's members signed in (not offline).
func (c *Center) onlineLocked(group string) int {
	n := 0
	for _, m := range c.members[group] {
		if a := c.agents[m.Agent]; a != nil && a.m.Status().Presence != callcenter.PresenceOffline {
			n++
		}
	}
	return n
}

func (s *session) transfer(asker string, t Target) error {
	if (s.state != ControlTalking && s.state != ControlHeld) || len(s.parties) != 1 {
		return refuse(CodeBadState, "transfer needs a two-party call (now %s)", s.state)
	}
	if err := s.check(asker, t); err != nil {
		return err
	}
	if _, queues := s.call.(sipedge.QueueCall); t.Kind == TargetGroup && queues {
		// The customer leaves this agent and queues (through the
		// group's IVR): the session ends, HandleInbound or
		// HandleOutbound requeues. (A call that cannot queue rings the
		// group's member free the longest, in dial.)
		s.c.ctl.setRequeue(s.call.ID(), t.To)
		s.stopMusic()
		s.leave(s.parties[0])
		return nil
	}
	s.state = ControlTransferring
	s.startMusic()
	s.applyHears()
	s.dial(asker, t, true)
	return nil
}

func (s *session) startConsult(asker string, t Target) error {
	if (s.state != ControlTalking && s.state != ControlHeld) || len(s.parties) != 1 {
		return refuse(CodeBadState, "consult needs a two-party call (now %s)", s.state)
	}
	if err := s.check(asker, t); err != nil {
		return err
	}
	s.state = ControlConsulting
	s.startMusic()
	s.applyHears()
	s.dial(asker, t, false)
	return nil
}

func (s *session) consultTransfer() error {
	cl := s.consult
	if s.state != ControlConsulting || cl == nil || cl.p == nil {
		return refuse(CodeBadState, "no consulted party to transfer to")
	}
	s.consult = nil
	s.adopt(cl.p)
	s.leave(s.parties[0])
	s.state = ControlTalking
	s.stopMusic()
	s.applyHears()
	return nil
}

func (s *session) conference() error {
	cl := s.consult
	if s.state != ControlConsulting || cl == nil || cl.p == nil {
		return refuse(CodeBadState, "no consulted party to join")
	}
	s.consult = nil
	s.adopt(cl.p)
	s.state = ControlConference
	s.stopMusic()
	s.applyHears()
	return nil
}

func (s *session) cancelConsult() error {
	cl := s.consult
	if s.state != ControlConsulting || cl == nil {
		return refuse(CodeBadState, "no consult to cancel")
	}
	s.dropConsult(cl)
	s.state = ControlTalking
	s.stopMusic()
	s.applyHears()
	return nil
}

// adopt makes an answered consult or transfer party one of the customer's.
func (s *session) adopt(p *party) {
	p.group = s.g
	s.parties = append(s.parties, p)
}

// dropConsult ends a consult the agent gave up (ringing: CANCEL; talking:
// hang up).
func (s *session) dropConsult(cl *consult) {
	cl.released = true
	s.consult = nil
	cl.cancel()
	if cl.p != nil {
		s.hangup(cl.p)
		s.agentLeft(cl.p, false)
	}
}

// dial places the consult or transfer leg; its outcome comes back on the
// loop (answered or failed).
func (s *session) dial(asker string, t Target, blind bool) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(s.call.Context()))
	cl := &consult{target: t, by: asker, blind: blind, id: uuid.NewString(), state: "ringing", cancel: cancel, asked: s.c.now()}
	s.consult = cl
	s.c.ctl.add(cl.id, s)
	d := sipedge.Dial{ID: cl.id, To: t.To, Caller: s.call.Caller(), RingTimeout: s.c.groupRingTimeout(s.g), Group: s.g.Name}
	switch t.Kind {
	case TargetAgent:
		d.Kind, d.Agent, d.Notify = sipedge.LegToAgent, t.To, []string{t.To}
		d.Type = s.call.Type() // a blind transfer leg is the customer's call
		if !blind {
			// A consult is the asking agent's call to a colleague.
			d.Type, d.Caller = callcenter.CallInternal, asker
		}
		if !s.ringAgent(t.To, cl) {
			// Taken meanwhile (a queue offer won the race).
			s.post(func() { s.dialFailed(cl, refuse(CodeAgentBusy, "agent %s is busy", t.To)) })
			return
		}
	case TargetNumber:
		d.Kind, d.Agent, d.Notify = sipedge.LegToNumber, asker, []string{asker}
		d.Type = callcenter.CallAgentOutbound
		if !blind {
			d.Caller = asker
		}
	case TargetGroup:
		// Rings the group's member free the longest (pickMember).
		wn := s.c.pickMember(t.To)
		if wn == "" || !s.ringAgent(wn, cl) {
			s.post(func() { s.dialFailed(cl, refuse(CodeAgentBusy, "nobody in %s is free", s.c.GroupLabel(t.To))) })
			return
		}
		cl.member = wn
		d.To, d.Kind, d.Agent, d.Notify = wn, sipedge.LegToAgent, wn, []string{wn}
		d.Type, d.Caller, d.Group = callcenter.CallInternal, asker, t.To
		if blind {
			d.Type, d.Caller = s.call.Type(), s.call.Caller()
		}
	}
	s.dialers.Add(1)
	go func() {
		defer s.dialers.Done()
		leg, err := s.call.Dial(ctx, d)
		if err != nil {
			if !s.post(func() { s.dialFailed(cl, err) }) {
				s.unring(cl)
			}
			return
		}
		at := s.c.now()
		if !s.post(func() { s.dialAnswered(cl, leg, at) }) {
			// The session ended before the answer could be taken.
			hctx, hcancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			s.call.Release(hctx, leg)
			hcancel()
			if d.Kind == sipedge.LegToAgent {
				s.agentEnded(d.To, leg.ID(), 0)
			}
		}
	}()
}

func (s *session) isDone() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// ringAgent sets the target agent ringing for this call, and pops its
// screen with the customer.
func (s *session) ringAgent(wn string, cl *consult) bool {
	c := s.c
	c.mu.Lock()
	defer c.unlock()
	a := c.agentLocked(wn)
	if a.call != "" || !a.m.Status().Available() {
		return false
	}
	if _, err := c.transitionLocked(a, a.m.Offer); err != nil {
		return false
	}
	a.call = cl.id
	cl.ringing = true
	pop := s.pop
	pop.CallID = cl.id
	c.out.add(func(sk Sink) { sk.Offer(wn, pop) })
	return true
}

// unring frees an agent rung for a leg that was not answered.
func (s *session) unring(cl *consult) {
	wn := cl.target.To
	if cl.target.Kind == TargetGroup {
		wn = cl.member
	}
	if !cl.ringing || wn == "" {
		return
	}
	c := s.c
	c.mu.Lock()
	defer c.unlock()
	a := c.agentLocked(wn)
	if a.call != cl.id {
		return
	}
	a.call = ""
	if _, err := c.transitionLocked(a, func(now time.Time) (callcenter.AgentStatus, error) { return a.m.OfferEnded(true, now) }); err != nil {
		c.log.Debug("center: consult offer ended", "agent", cl.target.To, "error", err)
	}
}

// dialFailed: the consult or transfer leg was not answered.
func (s *session) dialFailed(cl *consult, err error) {
	s.unring(cl)
	if s.consult != cl {
		return // cancelled by the agent, or replaced
	}
	s.consult = nil
	code, msg := failure(cl.target, err)
	cl.state, cl.released = "ended", true
	s.notice = &callcenter.Notice{Code: code, Message: msg}
	s.log.Info("center: consult/transfer failed", "target", cl.target.To, "blind", cl.blind, "error", err)
	if len(s.parties) == 0 || s.orphan {
		// The asking agent is gone: the customer goes back to the queue
		// it came from, else the call ends.
		s.orphan = false
		if s.g.Name != "" && !s.customerGone {
			s.c.ctl.setRequeue(s.call.ID(), s.g.Name)
		}
		s.stopMusic()
		return
	}
	s.state = ControlTalking
	s.stopMusic()
	s.applyHears()
}

// failure names why a leg failed, as a refusal code and a message.
func failure(t Target, err error) (string, string) {
	var se *sipedge.StatusError
	who := t.To
	if t.Kind == TargetNumber {
		switch {
		case errors.As(err, &se) && (se.Code == 486 || se.Code == 600):
			return CodeNumberBusy, who + " is busy; the customer is back with you."
		case errors.As(err, &se) && (se.Code == 404 || se.Code == 484 || se.Code == 604):
			return CodeNumberInvalid, who + " is not a valid number; the customer is back with you."
		case errors.As(err, &se) && (se.Code == 480 || se.Code == 410 || se.Code == 503):
			return CodeNoAnswer, who + " cannot be reached now; the customer is back with you."
		}
	}
	switch {
	case errors.Is(err, sipedge.ErrNoAnswer):
		return CodeNoAnswer, who + " did not answer; the customer is back with you."
	case errors.Is(err, sipedge.ErrUnreachable):
		return CodeAgentOffline, who + " is not online; the customer is back with you."
	case errors.As(err, &se) && (se.Code == 486 || se.Code == 600):
		return CodeAgentBusy, who + " is busy; the customer is back with you."
	case errors.As(err, &se) && se.Code == 603:
		return CodeRejected, who + " declined; the customer is back with you."
	case errors.As(err, &se) && se.Code == 480:
		return CodeNoAnswer, who + " is unavailable; the customer is back with you."
	}
	var ce *ControlError
	if errors.As(err, &ce) {
		return ce.Code, ce.Message
	}
	return CodeRejected, who + " could not be reached; the customer is back with you."
}

// dialAnswered: the consult or transfer target answered.
func (s *session) dialAnswered(cl *consult, leg *sipedge.AgentLeg, at time.Time) {
	p := &party{leg: leg, answeredAt: at, group: callcenter.SkillGroup{}}
	if cl.target.Kind == TargetAgent || cl.target.Kind == TargetGroup {
		p.wn = leg.Agent()
		p.name = s.c.agentName(p.wn)
		s.answerAgent(p.wn, cl.id)
	}
	if s.consult != cl || s.isDone() {
		// Cancelled while it was answering.
		s.hangup(p)
		s.agentLeft(p, false)
		return
	}
	s.c.ctl.add(leg.ID(), s)
	if _, err := s.call.Attach(leg, cmedia.HearNone, true); err != nil {
		s.log.Info("center: attach consult leg", "error", err)
		s.hangup(p)
		s.agentLeft(p, false)
		s.dialFailed(cl, err)
		return
	}
	if p.wn != "" && !slices.Contains(s.watchers, p.wn) {
		s.watchers = append(s.watchers, p.wn)
	}
	cl.p = p
	cl.state = "talking"
	s.watch(p)
	if cl.blind || s.orphan || len(s.parties) == 0 {
		// A blind transfer (or a consult whose agent left): the
		// customer is the new party's now.
		s.consult = nil
		s.orphan = false
		s.adopt(p)
		if len(s.parties) > 1 {
			s.leave(s.parties[0])
		}
		s.state = ControlTalking
		s.stopMusic()
	}
	s.applyHears()
}

// answerAgent moves the agent from ringing to talking.
func (s *session) answerAgent(wn, legID string) {
	c := s.c
	c.mu.Lock()
	defer c.unlock()
	a := c.agentLocked(wn)
	if a.call != legID && a.call != "" {
		return
	}
	a.call = legID
	op := a.m.Answer
	if a.m.Status().Activity != callcenter.ActivityRinging {
		op = a.m.StartOutbound
	}
	if _, err := c.transitionLocked(a, op); err != nil {
		c.log.Debug("center: consult answer", "agent", wn, "error", err)
	}
}

// legEnded: a party hung up (or was hung up).
func (s *session) legEnded(p *party) {
	if cl := s.consult; cl != nil && cl.p == p {
		// The consulted party hung up: back to the customer.
		s.consult = nil
		s.agentLeft(p, false)
		if len(s.parties) == 0 {
			return
		}
		s.notice = &callcenter.Notice{Code: "consult_ended", Message: "The consulted party hung up; the customer is back with you."}
		if !s.customerGone {
			s.state = ControlTalking
			s.stopMusic()
		}
		s.applyHears()
		if s.customerGone {
			// Nobody left with the agent: done.
			for _, q := range slices.Clone(s.parties) {
				s.leave(q)
			}
		}
		return
	}
	i := slices.Index(s.parties, p)
	if i < 0 {
		return // released by us already
	}
	s.leave(p)
	switch {
	case s.customerGone:
		// The two agents talked on after the customer left; one hung up.
		for _, q := range slices.Clone(s.parties) {
			s.leave(q)
		}
		if cl := s.consult; cl != nil {
			s.dropConsult(cl)
		}
	case s.consult != nil && s.consult.p != nil && len(s.parties) == 0:
		// The consulting agent hung up while talking to the consulted
		// party: the customer is connected to it, like a transfer.
		cl := s.consult
		s.consult = nil
		s.adopt(cl.p)
		s.state = ControlTalking
		s.stopMusic()
	case s.consult != nil && len(s.parties) == 0:
		// The asking agent left while the target still rings: whoever
		// answers gets the customer; if nobody does, back to the queue.
		s.orphan = true
	case s.state == ControlConference && len(s.parties) == 1:
		s.state = ControlTalking
	}
	s.applyHears()
}

// customerHungUp: the customer's leg ended.
func (s *session) customerHungUp() {
	s.customerGone = true
	s.stopMusic()
	cl := s.consult
	switch {
	case cl != nil && cl.p != nil && len(s.parties) == 1:
		// The agent and the consulted party stay connected until one of
		// them hangs up.
		s.consult = nil
		s.parties = append(s.parties, cl.p)
		s.state = ControlConference
	case cl != nil:
		s.dropConsult(cl)
		if len(s.parties) >= 2 {
			break
		}
		fallthrough
	case len(s.parties) < 2:
		for _, p := range slices.Clone(s.parties) {
			s.leave(p)
		}
	}
	if len(s.parties) >= 2 {
		s.state = ControlConference
	}
	s.applyHears()
}

// leave takes a party off the call: out of the room, hung up, its agent
// to after-call work (or idle).
func (s *session) leave(p *party) {
	i := slices.Index(s.parties, p)
	if i >= 0 {
		s.parties = slices.Delete(s.parties, i, i+1)
	}
	s.hangup(p)
	// After-call work follows the group of a party that had the
	// customer (adopt); a consulted party that stayed with the agent
	// after the customer left has none.
	s.agentLeft(p, true)
}

func (s *session) hangup(p *party) {
	hctx, cancel := context.WithTimeout(context.WithoutCancel(s.call.Context()), 2*time.Second)
	defer cancel()
	if err := s.call.Release(hctx, p.leg); err != nil {
		s.log.Debug("center: release leg", "leg", p.leg.ID(), "error", err)
	}
}

// agentLeft puts a party's agent after its call: after-call work when it
// served the customer in a group that wants it.
func (s *session) agentLeft(p *party, servedCustomer bool) {
	if p.wn == "" {
		return
	}
	var acw time.Duration
	if servedCustomer && p.group.ACW {
		acw = p.group.ACWDuration
	}
	if servedCustomer && p.group.Name != "" && p.queued {
		s.c.mu.Lock()
		s.c.q.Handled(p.group.Name, s.c.now().Sub(p.answeredAt)+acw)
		s.c.mu.Unlock()
	}
	s.agentEnded(p.wn, p.leg.ID(), acw)
	s.c.pushControl(p.wn, Control{CallID: s.call.ID(), State: ControlEnded})
	s.watchers = slices.DeleteFunc(s.watchers, func(w string) bool { return w == p.wn })
}

// agentEnded ends an agent's part in a call: ringing → free again;
// talking → after-call work for acw (or idle).
func (s *session) agentEnded(wn, legID string, acw time.Duration) {
	c := s.c
	c.mu.Lock()
	defer c.unlock()
	a := c.agentLocked(wn)
	if a.call != legID && a.call != s.call.ID() {
		return
	}
	a.call = ""
	op := func(now time.Time) (callcenter.AgentStatus, error) { return a.m.Hangup(acw, now) }
	if a.m.Status().Activity == callcenter.ActivityRinging {
		op = func(now time.Time) (callcenter.AgentStatus, error) { return a.m.OfferEnded(true, now) }
	}
	if _, err := c.transitionLocked(a, op); err != nil {
		c.log.Debug("center: agent left call", "agent", wn, "error", err)
	}
}

// startMusic joins the hold music to the room (silence without prompts).
func (s *session) startMusic() {
	if s.music != nil || s.c.prompts == nil {
		return
	}
	room := s.call.Room()
	if room == nil {
		return
	}
	src, rate, err := s.c.prompts.Music(0)
	if err != nil {
		s.log.Warn("center: hold music", "error", err)
		return
	}
	p, err := room.Join(context.WithoutCancel(s.call.Context()), cmedia.ParticipantConfig{
		Name: holdSource, Source: src, Rate: rate, Speaks: true, Hears: cmedia.HearNone})
	if err != nil {
		s.log.Warn("center: hold music", "error", err)
		return
	}
	s.music = p
}

func (s *session) stopMusic() {
	if s.music != nil {
		s.music.Leave()
		s.music = nil
	}
}

// applyHears sets who hears whom for the state. The customer hears the
// music while held, consulting or being transferred; agents on hold hear
// nothing and are not heard.
func (s *session) applyHears() {
	room := s.call.Room()
	if room == nil {
		return
	}
	names := make([]string, 0, len(s.parties))
	for _, p := range s.parties {
		names = append(names, p.leg.Name())
	}
	custHeld := s.state == ControlHeld || s.state == ControlConsulting || s.state == ControlTransferring
	if cust := room.Participant(sipedge.CustomerLeg); cust != nil && !s.customerGone {
		if custHeld {
			cust.SetHears(cmedia.Hear(holdSource))
		} else {
			cust.SetHears(cmedia.Hear(names...))
		}
	}
	var consultName string
	if cl := s.consult; cl != nil && cl.p != nil {
		consultName = cl.p.leg.Name()
	}
	for _, p := range s.parties {
		part := p.leg.Participant()
		if part == nil {
			continue
		}
		var hears []string
		speaks := true
		switch {
		case s.state == ControlHeld || s.state == ControlTransferring:
			speaks = false
		case s.state == ControlConsulting:
			if consultName != "" {
				hears = append(hears, consultName)
			}
		default:
			if !s.customerGone {
				hears = append(hears, sipedge.CustomerLeg)
			}
			for _, n := range names {
				if n != p.leg.Name() {
					hears = append(hears, n)
				}
			}
		}
		part.SetHears(cmedia.Hear(hears...))
		part.SetSpeaks(speaks)
	}
	if consultName != "" {
		if part := s.consult.p.leg.Participant(); part != nil {
			var hears []string
			if s.state == ControlConsulting {
				hears = append(hears, names...)
			}
			part.SetHears(cmedia.Hear(hears...))
			part.SetSpeaks(true)
		}
	}
}

// dtmf sends digits to the far end of the asking agent: the consulted
// party while consulting, else the customer.
func (s *session) dtmf(agent, digits string) error {
	if !slices.ContainsFunc(s.parties, func(p *party) bool { return p.wn == agent }) {
		return refuse(CodeNotInCall, "you are not talking in this call")
	}
	room := s.call.Room()
	if room == nil {
		return refuse(CodeBadState, "the call has no media")
	}
	far := room.Participant(sipedge.CustomerLeg)
	if cl := s.consult; cl != nil && cl.p != nil && s.state == ControlConsulting {
		far = cl.p.leg.Participant()
	}
	if far == nil || (s.customerGone && far.Name() == sipedge.CustomerLeg) {
		return refuse(CodeBadState, "nobody to send digits to")
	}
	for _, d := range digits {
		if err := room.SendDTMF(far, d); err != nil {
			if errors.Is(err, cmedia.ErrNoDTMF) || errors.Is(err, cmedia.ErrDTMFQueueFull) {
				return refuse(CodeBadState, "%v", err)
			}
			return fmt.Errorf("send DTMF: %w", err)
		}
	}
	return nil
}

// snapshot is the call's control state.
func (s *session) snapshot() Control {
	cc := Control{CallID: s.call.ID(), State: s.state, Notice: s.notice}
	cust := Party{Kind: "customer", ID: s.call.Caller(), Name: s.pop.Name, State: "talking", Speaks: true}
	switch {
	case s.customerGone:
		cust.State, cust.Speaks = "ended", false
	case s.state == ControlHeld || s.state == ControlConsulting || s.state == ControlTransferring:
		cust.State, cust.Speaks = "held", false
	}
	cc.Parties = append(cc.Parties, cust)
	for _, p := range s.parties {
		cc.Parties = append(cc.Parties, partyOf(p, s.state != ControlHeld && s.state != ControlTransferring))
	}
	if cl := s.consult; cl != nil {
		cc.Consult = &ConsultInfo{Target: cl.target, State: cl.state}
		if cl.p != nil {
			cc.Parties = append(cc.Parties, partyOf(cl.p, true))
		}
	}
	return cc
}

func partyOf(p *party, speaks bool) Party {
	out := Party{Kind: "agent", ID: p.wn, Name: p.name, State: "talking", Speaks: speaks}
	if p.leg.Kind() == sipedge.LegToNumber {
		out.Kind, out.ID = "number", p.leg.Agent()
	}
	if !speaks {
		out.State = "held"
	}
	return out
}

// push sends the control state to every agent involved.
func (s *session) push() {
	cc := s.snapshot()
	for _, wn := range s.watchers {
		s.c.pushControl(wn, cc)
	}
	if cl := s.consult; cl != nil && cl.target.Kind == TargetAgent && !slices.Contains(s.watchers, cl.target.To) && cl.p == nil {
		return
	}
}

func (c *Center) pushControl(agent string, cc Control) {
	if _, ok := c.sink.(ControlSink); ok {
		// Through the outbox: after the status pushes queued before it.
		w := cc.API()
		c.out.add(func(sk Sink) { sk.(ControlSink).Control(agent, w) })
		c.out.flush()
	}
}

// pickMember chooses whom a consult to a group rings: the member free
// for calls the longest (the ACD's default order). A consult is the
// agent's own call, not a queue call: it does not wait in the group's
// queue behind customers, so it rings a free member or is refused.
func (c *Center) pickMember(group string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	best, since := "", time.Time{}
	for _, m := range c.members[group] {
		a := c.agents[m.Agent]
		if a == nil || a.call != "" {
			continue
		}
		st := a.m.Status()
		if st.Available() && (best == "" || st.IdleSince.Before(since)) {
			best, since = m.Agent, st.IdleSince
		}
	}
	return best
}

// do hands a request to the call's session.
func (c *Center) do(ctx context.Context, callID string, r request) (Control, error) {
	s := c.ctl.get(callID)
	if s == nil {
		return Control{}, refuse(CodeNotInCall, "no such call in progress")
	}
	r.reply = make(chan reply, 1)
	select {
	case s.reqs <- r:
	case <-s.done:
		return Control{}, refuse(CodeNotInCall, "the call has ended")
	case <-ctx.Done():
		return Control{}, ctx.Err()
	}
	select {
	case rep := <-r.reply:
		return rep.cc, rep.err
	case <-ctx.Done():
		return Control{}, ctx.Err()
	}
}

// Hold puts the customer on hold (music); the agent hears nothing.
func (c *Center) Hold(ctx context.Context, agent, callID string) (api.CallControl, error) {
	return c.doAPI(ctx, callID, request{op: "hold", agent: agent})
}

// Resume takes the customer off hold.
func (c *Center) Resume(ctx context.Context, agent, callID string) (api.CallControl, error) {
	return c.doAPI(ctx, callID, request{op: "resume", agent: agent})
}

// Transfer blind-transfers the call: to an online agent (rung while the
// customer hears music; the asking agent leaves on answer, gets the
// customer back on failure), a group (queued at once) or a number.
func (c *Center) Transfer(ctx context.Context, agent, callID string, t api.Target) (api.CallControl, error) {
	tg, err := parseTarget(t)
	if err != nil {
		return api.CallControl{}, err
	}
	return c.doAPI(ctx, callID, request{op: "transfer", agent: agent, target: tg})
}

// Consult holds the customer and calls t for the agent.
func (c *Center) Consult(ctx context.Context, agent, callID string, t api.Target) (api.CallControl, error) {
	tg, err := parseTarget(t)
	if err != nil {
		return api.CallControl{}, err
	}
	return c.doAPI(ctx, callID, request{op: "consult", agent: agent, target: tg})
}

// ConsultTransfer hands the customer to the consulted party.
func (c *Center) ConsultTransfer(ctx context.Context, agent, callID string) (api.CallControl, error) {
	return c.doAPI(ctx, callID, request{op: "consult/transfer", agent: agent})
}

// Conference joins customer, agent and consulted party (three-way).
func (c *Center) Conference(ctx context.Context, agent, callID string) (api.CallControl, error) {
	return c.doAPI(ctx, callID, request{op: "consult/conference", agent: agent})
}

// ConsultCancel ends the consult and resumes the customer.
func (c *Center) ConsultCancel(ctx context.Context, agent, callID string) (api.CallControl, error) {
	return c.doAPI(ctx, callID, request{op: "consult/cancel", agent: agent})
}

// SendDTMF sends digits (RFC 4733) to the agent's far end: the customer,
// or the consulted party while consulting.
func (c *Center) SendDTMF(ctx context.Context, agent, callID, digits string) error {
	if digits == "" || len(digits) > 32 {
		return refuse(CodeBadTarget, "send 1 to 32 digits")
	}
	for _, d := range digits {
		if !strings.ContainsRune("0123456789*#ABCDabcd", d) {
			return refuse(CodeBadTarget, "%q is not a DTMF digit", d)
		}
	}
	_, err := c.do(ctx, callID, request{op: "dtmf", agent: agent, digits: strings.ToUpper(digits)})
	return err
}

// CallControl is the call's control state, for an agent in it.
func (c *Center) CallControl(ctx context.Context, agent, callID string) (api.CallControl, error) {
	return c.doAPI(ctx, callID, request{op: "control", agent: agent})
}

func (c *Center) doAPI(ctx context.Context, callID string, r request) (api.CallControl, error) {
	cc, err := c.do(ctx, callID, r)
	if err != nil {
		return api.CallControl{}, err
	}
	return cc.API(), nil
}

func parseTarget(t api.Target) (Target, error) {
	k, ok := ParseTargetKind(t.Kind)
	if !ok {
		return Target{}, refuse(CodeBadTarget, "target kind %q: want agent, group or number", t.Kind)
	}
	return Target{Kind: k, To: strings.TrimSpace(t.To)}, nil
}

// API is the wire form of the control state.
func (cc Control) API() api.CallControl {
	out := api.CallControl{CallID: cc.CallID, State: cc.State.String(), Parties: []api.Party{}}
	for _, p := range cc.Parties {
		out.Parties = append(out.Parties, api.Party{Kind: p.Kind, ID: p.ID, Name: p.Name, State: p.State, Speaks: p.Speaks})
	}
	if ci := cc.Consult; ci != nil {
		out.Consult = &api.Consult{Target: api.Target{Kind: ci.Target.Kind.String(), To: ci.Target.To}, State: ci.State, Reason: ci.Reason}
	}
	if n := cc.Notice; n != nil {
		out.Notice = &api.Notice{Code: n.Code, Message: n.Message}
	}
	return out
}

// TransferGroups are the skill groups with their waiting callers and
// members online (a transfer to a group with none online is refused).
func (c *Center) TransferGroups() []api.TransferGroup {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := []api.TransferGroup{}
	for name, g := range c.groups {
		w, _ := c.q.Waiting(name)
		label := g.Label
		if label == "" {
			label = name
		}
		out = append(out, api.TransferGroup{Name: name, Label: label, Waiting: w, Online: c.onlineLocked(name)})
	}
	slices.SortFunc(out, func(a, b api.TransferGroup) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// transferRoute is where a customer transferred to group goes: the
// group's IVR first when it has one (its choice decides), else the queue.
func (c *Center) transferRoute(ctx context.Context, call sipedge.QueueCall, group string, log *slog.Logger) callcenter.IVRAction {
	action := callcenter.IVRAction{Kind: callcenter.IVRGroup, Target: group}
	c.mu.Lock()
	g := c.groups[group]
	c.unlock()
	if g.IVR == "" {
		return action
	}
	// Digits the customer pressed while talking with the agent (an
	// account number read out, say) are not answers to this menu.
	for drained := false; !drained; {
		select {
		case <-call.Keys():
		default:
			drained = true
		}
	}
	res, err := ivr.Run(ctx, g.IVR, menus{c.st}, &player{c: c, call: call}, &keys{call.Keys()}, ivr.WithLogger(log))
	if err != nil {
		log.Info("center: transfer IVR", "group", group, "menu", g.IVR, "error", err)
		if ctx.Err() != nil {
			return callcenter.IVRAction{}
		}
		return action
	}
	return res.Action
}
