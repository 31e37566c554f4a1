package center

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/acd"
	"github.com/agentphone/agentphone/callcenter/agentstate"
	"github.com/agentphone/agentphone/callcenter/ivr"
	"github.com/agentphone/agentphone/callcenter/sipedge"
	"github.com/nyaruka/phonenumbers"
)

// Prompt names the center plays besides the IVR menus' own.
const (
	PromptAllBusy   = "all_busy"    // nobody can take the call; goodbye
	PromptVoicemail = "voicemail"   // the maximum wait passed: we will call back
	PromptHold      = "please_hold" // entering a queue
	PromptGoodbye   = ivr.PromptGoodbye
)

// Notice codes the center sends besides the state machine's.
const (
	NoticeCallback = "callback_requested" // a caller waited too long; call back
)

// maxOverflowHops bounds a chain of overflow groups (a → b → a).
const maxOverflowHops = 4

type eventKind int

const (
	evOffer eventKind = iota
	evExpired
	evAnnounce
)

type queueEvent struct {
	kind     eventKind
	agents   []string
	position int
	wait     time.Duration // expected wait, with evAnnounce
}

// queued is a call waiting in a group's queue.
type queued struct {
	id        string
	group     string
	ic        sipedge.QueueCall
	enqueued  time.Time // in this group (maximum wait)
	announced time.Time
	expired   bool
	events    chan queueEvent
}

// send hands the call goroutine an event without blocking (called with the
// center's lock held). Offers and expiry come at most once each at a time;
// announcements are dropped when the call is busy.
func (q *queued) send(ev queueEvent) bool {
	if ev.kind == evAnnounce && len(q.events) > 1 {
		return false
	}
	select {
	case q.events <- ev:
		return true
	default:
		return false
	}
}

// dropOffersLocked ends the offers made to a call that left its queue
// before its goroutine rang them (the caller hung up, or the maximum wait
// came first in the same step): the agents were set ringing and reserved
// by the ACD, and nobody else would ever free them. Their phones never
// rang, so it is no missed call.
func (c *Center) dropOffersLocked(q *queued) {
	for {
		var ev queueEvent
		select {
		case ev = <-q.events:
		default:
			return
		}
		if ev.kind != evOffer {
			continue
		}
		for _, wn := range ev.agents {
			c.unringLocked(q.id, wn)
		}
	}
}

// unringLocked frees an agent set ringing for callID whose phone was not
// rung.
func (c *Center) unringLocked(callID, wn string) {
	c.offerResultLocked(callID, wn, false, c.now())
	a := c.agentLocked(wn)
	if a.call != callID {
		return
	}
	a.call = ""
	if _, err := c.transitionLocked(a, func(now time.Time) (callcenter.AgentStatus, error) { return a.m.OfferEnded(true, now) }); err != nil {
		c.log.Warn("center: end an offer not rung", "agent", wn, "call", callID, "error", err)
	}
}

// HandleInbound drives one carrier call (the sipedge.InboundHandler):
// number → IVR → queue → offers → answer → after-call work.
func (c *Center) HandleInbound(ctx context.Context, call *sipedge.InboundCall) {
	num := call.Number()
	log := c.log.With("call", call.ID(), "caller", call.Caller(), "number", num.E164)
	pop := c.basePop(ctx, call)
	action := callcenter.IVRAction{}
	switch {
	case num.RouteIVR != "":
		if err := call.Answer(ctx); err != nil {
			log.Info("center: answer failed", "error", err)
			return
		}
		res, err := ivr.Run(ctx, num.RouteIVR, menus{c.st}, &player{c: c, call: call}, &keys{call.Keys()}, ivr.WithLogger(log))
		if err != nil && ctx.Err() != nil {
			return // the caller hung up in the IVR: abandoned
		}
		if err != nil {
			log.Error("center: IVR", "menu", num.RouteIVR, "error", err)
		}
		action = res.Action
		if res.Reason != ivr.ReasonChoice {
			log.Info("center: IVR ended", "reason", res.Reason, "path", res.Path, "keys", res.Keys)
		}
	case num.RouteGroup != "":
		action = callcenter.IVRAction{Kind: callcenter.IVRGroup, Target: num.RouteGroup}
	case num.RouteAgent != "":
		action = callcenter.IVRAction{Kind: callcenter.IVRAgent, Target: num.RouteAgent}
	default:
		log.Warn("center: number routed nowhere")
		if err := call.Reject(480); err != nil {
			log.Debug("center: reject", "error", err)
		}
		return
	}
	if err := call.Answer(ctx); err != nil {
		log.Info("center: answer failed", "error", err)
		return
	}
	c.route(ctx, call, action, pop, log)
	c.requeued(ctx, call, pop, log)
}

// requeued sends the customer on after each transfer to a group, on a
// call that came in or one an agent placed: the group's IVR, if it has
// one, then its queue (control.go).
func (c *Center) requeued(ctx context.Context, call sipedge.QueueCall, pop callcenter.ScreenPop, log *slog.Logger) {
	for group := c.ctl.takeRequeue(call.ID()); group != "" && ctx.Err() == nil; group = c.ctl.takeRequeue(call.ID()) {
		// Its offers carry the transfer leg's id (the answering agent's
		// record), so screen, offers and history agree.
		pop.CallID = call.OfferID()
		// The stay is a transfer leg with a record of its own even if
		// the customer hangs up before any agent takes it.
		call.StartTransferLeg(group)
		c.route(ctx, call, c.transferRoute(ctx, call, group, log), pop, log)
	}
	// A requeue asked as the call ended is void.
	c.ctl.takeRequeue(call.ID())
}

// route sends an answered call where the IVR (or the number) says.
func (c *Center) route(ctx context.Context, call sipedge.QueueCall, action callcenter.IVRAction, pop callcenter.ScreenPop, log *slog.Logger) {
	switch action.Kind {
	case callcenter.IVRGroup:
		c.queue(ctx, call, action.Target, pop, log)
	case callcenter.IVRAgent:
		c.direct(ctx, call, action.Target, pop, log)
	default:
		// The IVR said goodbye already.
		call.SetOutcome(callcenter.ResultCancelled, callcenter.PartySystem)
	}
}

// queue waits in group (and its overflow groups) until an agent answers,
// the caller hangs up or the maximum wait sends the caller away.
func (c *Center) queue(ctx context.Context, call sipedge.QueueCall, group string, pop callcenter.ScreenPop, log *slog.Logger) {
	started := c.now()
	c.playMusic(ctx, call)
	for hop := 0; ; hop++ {
		c.mu.Lock()
		g, ok := c.groups[group]
		members := len(c.members[group])
		c.mu.Unlock()
		call.SetGroup(group)
		if !ok || hop > maxOverflowHops {
			log.Error("center: no such group (or overflow loop)", "group", group, "hop", hop)
			c.sayGoodbye(ctx, call, PromptAllBusy, callcenter.ResultFailed)
			return
		}
		if members == 0 {
			// Nobody can ever answer here: the group's overflow applies at
			// once (another group, or the voicemail message), else the
			// caller hears all-busy. Waiting out the maximum wait for no
			// one would only keep the caller longer.
			log.Warn("center: group has no members", "group", group)
			if next, ok := c.overflow(ctx, call, g, started, log); ok {
				group = next
				continue
			}
			return
		}
		q := &queued{id: call.ID(), group: group, ic: call, enqueued: c.now(), events: make(chan queueEvent, 4)}
		q.announced = q.enqueued
		// The caller's wait counts from entering the first queue: an
		// overflowed caller goes ahead of newer callers of its priority,
		// and skill tiers widen with the whole wait. MaxWait counts per
		// group (q.enqueued).
		qc := acd.QueuedCall{ID: q.id, Group: group, Caller: call.Caller(), At: started}
		if c.priority != nil {
			qc.Priority = c.priority(pop)
		}
		c.mu.Lock()
		_, err := c.q.Enqueue(qc)
		if err == nil {
			c.calls[q.id] = q
			c.pushGroupsLocked(group)
			c.wake()
		}
		c.mu.Unlock()
		if err != nil {
			// The group went away since it was read (Reload), or the
			// call is queued twice: a bug either way, never a silent wait.
			log.Error("center: enqueue", "group", group, "error", err)
			call.SetQueueWait(c.now().Sub(started))
			c.sayGoodbye(ctx, call, PromptAllBusy, callcenter.ResultFailed)
			return
		}

		next, done := c.wait(ctx, call, q, g, pop, started, log)
		c.mu.Lock()
		delete(c.calls, q.id)
		c.dropOffersLocked(q)
		c.q.Dequeue(q.id) // not queued any more when answered: harmless
		c.pushGroupsLocked(group)
		c.unlock()
		if done {
			return
		}
		group = next
	}
}

// wait serves one queue stay; done is false when the call overflows to
// the group next.
func (c *Center) wait(ctx context.Context, call sipedge.QueueCall, q *queued, g callcenter.SkillGroup, pop callcenter.ScreenPop, started time.Time, log *slog.Logger) (next string, done bool) {
	for {
		select {
		case <-ctx.Done():
			call.SetQueueWait(c.now().Sub(started))
			return "", true
		case ev := <-q.events:
			switch ev.kind {
			case evOffer:
				pop.Group = g.Name
				pop.QueueWait = c.now().Sub(started)
				pop.RingTimeout = c.groupRingTimeout(g)
				if c.ring(ctx, call, q.id, ev.agents, g, pop, started, log) {
					return "", true
				}
				// Each agent's offer was reported to the ACD as it ended
				// (offerFailed), so the call may be ringing its next
				// agent already: that offer is in q.events. Nothing to
				// requeue here, and a Requeue would end that new offer.
				if ctx.Err() != nil {
					call.SetQueueWait(c.now().Sub(started))
					return "", true
				}
			case evExpired:
				log.Info("center: maximum wait", "group", g.Name, "overflow", g.Overflow)
				c.mu.Lock()
				c.q.Dequeue(q.id) // gone already if its group was removed
				c.mu.Unlock()
				next, ok := c.overflow(ctx, call, g, started, log)
				return next, !ok
			case evAnnounce:
				c.announce(ctx, call, ev.position, ev.wait)
			}
		}
	}
}

// overflow applies the group's overflow: another group (ok), or a
// message and a callback request, or goodbye.
func (c *Center) overflow(ctx context.Context, call sipedge.QueueCall, g callcenter.SkillGroup, started time.Time, log *slog.Logger) (string, bool) {
	call.SetQueueWait(c.now().Sub(started))
	switch g.Overflow {
	case callcenter.OverflowGroup:
		if g.OverflowGroup != "" {
			return g.OverflowGroup, true
		}
	case callcenter.OverflowVoicemail:
		// A callback is scheduled for one member (WithCallbacks), and
		// the group's members are told who calls back.
		waited := c.now().Sub(started)
		owner, err := c.scheduleCallback(ctx, call.Caller(), g, waited)
		if err != nil {
			log.Error("center: voicemail callback", "error", err)
		}
		msg := fmt.Sprintf("%s waited %s in %s and left a callback request; please call back.",
			call.Caller(), waited.Round(time.Second), groupLabel(g))
		if owner != "" {
			msg = fmt.Sprintf("%s waited %s in %s and left a callback request; a callback is scheduled for %s.",
				call.Caller(), waited.Round(time.Second), groupLabel(g), owner)
		}
		n := callcenter.Notice{Code: NoticeCallback, Message: msg}
		c.mu.Lock()
		for _, m := range c.members[g.Name] {
			c.out.add(func(s Sink) { s.Notice(m.Agent, n) })
		}
		c.unlock()
		c.sayGoodbye(ctx, call, PromptVoicemail, callcenter.ResultNoAnswer)
		return "", false
	}
	c.sayGoodbye(ctx, call, PromptAllBusy, callcenter.ResultNoAnswer)
	return "", false
}

// sayGoodbye plays a last prompt and sets the record's outcome.
func (c *Center) sayGoodbye(ctx context.Context, call sipedge.QueueCall, prompt string, res callcenter.Result) {
	call.SetOutcome(res, callcenter.PartySystem)
	p := &player{c: c, call: call}
	if err := p.Play(ctx, prompt); err != nil && ctx.Err() == nil {
		c.log.Debug("center: goodbye prompt", "prompt", prompt, "error", err)
	}
}

func (c *Center) groupRingTimeout(g callcenter.SkillGroup) time.Duration {
	if g.RingTimeout > 0 {
		return g.RingTimeout
	}
	return c.ringTimeout
}

type offerResult struct {
	agent string
	leg   *sipedge.AgentLeg
	err   error
	at    time.Time
}

// ring offers the call to agents (one, or several for ring-all) at once;
// the first to answer is bridged and the others cancelled. It reports
// whether the call was answered (and is over now).
func (c *Center) ring(ctx context.Context, call sipedge.QueueCall, callID string, agents []string, g callcenter.SkillGroup, pop callcenter.ScreenPop, started time.Time, log *slog.Logger) bool {
	offeredAt := c.now()
	// The agent's screen shows the group's label; the SIP offer's
	// X-Group header and the records keep its name.
	shown := pop
	shown.Group = groupLabel(g)
	c.mu.Lock()
	for _, a := range agents {
		c.out.add(func(s Sink) { s.Offer(a, shown) })
	}
	c.unlock()
	octx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan offerResult, len(agents))
	for _, a := range agents {
		go func() {
			leg, err := call.Offer(octx, a, pop.RingTimeout, pop)
			results <- offerResult{agent: a, leg: leg, err: err, at: c.now()}
		}()
	}
	var winner *sipedge.AgentLeg
	// answeredAt is on the center's clock, like started: the leg's own
	// AnsweredAt is wall time, which an injected clock need not follow.
	var answeredAt time.Time
	var bridgeErr error
	for range agents {
		r := <-results
		if r.err == nil && winner == nil && ctx.Err() == nil {
			winner, answeredAt = r.leg, r.at
			cancel() // ring-all: the others stop ringing
			// The customer is connected first; the bookkeeping (ACD,
			// status, offer record) follows and never delays the voice.
			call.SetQueueWait(answeredAt.Sub(started))
			bridgeErr = call.Bridge(winner)
			c.answered(r.agent, callID, pop.CallID, g, call, offeredAt, r.at)
			continue
		}
		if r.err == nil {
			// A second answer (ring-all race) or a caller gone meanwhile.
			hctx, hcancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			r.leg.Hangup(hctx)
			hcancel()
			r.err = sipedge.ErrCallEnded
			if winner != nil {
				r.err = context.Canceled
			}
		}
		c.offerFailed(r, winner != nil, callID, pop.CallID, g, call, offeredAt, log)
	}
	if winner == nil {
		return false
	}
	if bridgeErr == nil {
		// Hold, transfer, consult... until nobody talks with the
		// customer (control.go); it ends every agent's part.
		c.converse(ctx, call, winner, g, pop, answeredAt, log)
		return true
	}
	log.Info("center: bridge failed", "agent", winner.Agent(), "error", bridgeErr)
	hctx, hcancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	winner.Hangup(hctx)
	hcancel()
	c.hungUp(winner.Agent(), callID, g, c.now().Sub(answeredAt))
	return true
}

// answered: an agent took the call. offerID is the id its offer carried
// (the call's, or a transfer leg's).
func (c *Center) answered(wn, callID, offerID string, g callcenter.SkillGroup, call sipedge.QueueCall, offeredAt, at time.Time) {
	c.mu.Lock()
	defer c.unlock()
	// First the ACD: it frees the other agents of a ring-all and takes
	// the call out of the queue figures.
	c.offerResultLocked(callID, wn, true, at)
	a := c.agentLocked(wn)
	op := a.m.Answer
	if a.m.Status().Activity != callcenter.ActivityRinging {
		op = a.m.StartOutbound // a busy agent took a direct call
	}
	if _, err := c.transitionLocked(a, op); err != nil {
		c.log.Warn("center: answer", "agent", wn, "error", err)
	}
	a.call = callID
	c.recordOfferLocked(callcenter.Offer{CallID: offerID, Agent: wn, Group: g.Name, Customer: call.Caller(),
		CenterNumber: call.CenterNumber(), OfferedAt: offeredAt, EndedAt: at, Answered: true})
}

// hungUp: the agent's call ended; after-call work when the group wants it.
func (c *Center) hungUp(wn, callID string, g callcenter.SkillGroup, talk time.Duration) {
	c.mu.Lock()
	defer c.unlock()
	var acw time.Duration
	if g.ACW {
		acw = g.ACWDuration
	}
	if g.Name != "" {
		c.q.Handled(g.Name, talk+acw) // expected-wait announcements
	}
	a := c.agentLocked(wn)
	if a.call != callID {
		return
	}
	a.call = ""
	if _, err := c.transitionLocked(a, func(now time.Time) (callcenter.AgentStatus, error) { return a.m.Hangup(acw, now) }); err != nil {
		c.log.Warn("center: hang up", "agent", wn, "error", err)
	}
}

// offerFailed ends one agent's unanswered offer.
func (c *Center) offerFailed(r offerResult, answeredElsewhere bool, callID, offerID string, g callcenter.SkillGroup, call sipedge.QueueCall, offeredAt time.Time, log *slog.Logger) {
	c.mu.Lock()
	defer c.unlock()
	// The ACD frees the agent and passes it over for this call until the
	// others had their turn (not an error for a ring-all loser, whose
	// call left the queue with the answer, nor for a direct call).
	c.offerResultLocked(callID, r.agent, false, r.at)
	a := c.agentLocked(r.agent)
	if a.call == callID {
		a.call = ""
	}
	o := callcenter.Offer{CallID: offerID, Agent: r.agent, Group: g.Name, Customer: call.Caller(),
		CenterNumber: call.CenterNumber(), OfferedAt: offeredAt, EndedAt: r.at}
	var se *sipedge.StatusError
	switch {
	case answeredElsewhere && errors.Is(r.err, context.Canceled):
		if _, err := c.transitionLocked(a, func(now time.Time) (callcenter.AgentStatus, error) { return a.m.OfferEnded(true, now) }); err != nil {
			log.Debug("center: offer ended", "agent", r.agent, "error", err)
		}
		return // not a missed call
	case errors.Is(r.err, sipedge.ErrCallEnded), errors.Is(r.err, context.Canceled):
		o.Reason = "caller_hung_up"
		if _, err := c.transitionLocked(a, func(now time.Time) (callcenter.AgentStatus, error) { return a.m.OfferEnded(false, now) }); err != nil {
			log.Debug("center: offer ended", "agent", r.agent, "error", err)
		}
	default:
		switch {
		case errors.Is(r.err, sipedge.ErrNoAnswer):
			o.Reason = "no_answer"
		case errors.Is(r.err, sipedge.ErrUnreachable):
			o.Reason = "unreachable"
		case errors.As(r.err, &se) && (se.Code == 486 || se.Code == 600 || se.Code == 603):
			o.Reason = "rejected"
		default:
			o.Reason = "failed"
			log.Info("center: offer failed", "agent", r.agent, "error", r.err)
		}
		before := a.m.Status()
		if before.Activity != callcenter.ActivityRinging {
			break // a busy agent's direct call: missed, but no state to end
		}
		st, notice, err := a.m.MissedOffer(c.now())
		if err != nil {
			log.Debug("center: missed offer", "agent", r.agent, "error", err)
		} else if st != before {
			c.changedLocked(a, st)
		}
		if notice != nil {
			c.out.add(func(s Sink) { s.Notice(r.agent, *notice) })
		}
	}
	// The missed push carries the history row itself (the softphone adds
	// it as is), so it goes in order with the status pushes rather than
	// after the offer's row is stored.
	c.recordOfferLocked(o)
	fig := a.m.Figures(c.now())
	c.out.add(func(s Sink) {
		s.Missed(r.agent, o)
		s.Figures(r.agent, fig)
	})
}

// recordOfferLocked queues an ended offer for the store.
func (c *Center) recordOfferLocked(o callcenter.Offer) {
	c.w.add(write{what: "record offer", agent: o.Agent, call: o.CallID,
		do: func(ctx context.Context) error { return c.st.RecordOffer(ctx, o) }})
}

// direct rings one agent (a number or IVR choice routed to an agent): no
// queue. A direct call is not a queue call, so a signed-in agent's phone
// rings even when busy (the status then does not show the ringing); an
// agent signed out or already on a call is not rung and the caller hears
// all-busy.
func (c *Center) direct(ctx context.Context, call sipedge.QueueCall, wn string, pop callcenter.ScreenPop, log *slog.Logger) {
	c.playMusic(ctx, call)
	started := c.now()
	c.mu.Lock()
	a := c.agentLocked(wn)
	st := a.m.Status()
	free := st.Presence != callcenter.PresenceOffline && a.call == "" &&
		st.Activity != callcenter.ActivityRinging && st.Activity != callcenter.ActivityTalking
	if free {
		a.call = call.ID()
		if st.Available() {
			if _, err := c.transitionLocked(a, a.m.Offer); err != nil {
				log.Debug("center: direct offer", "agent", wn, "error", err)
			}
		}
	}
	c.unlock()
	if !free {
		log.Info("center: agent cannot take a direct call", "agent", wn, "status", agentstate.Describe(st))
		c.sayGoodbye(ctx, call, PromptAllBusy, callcenter.ResultBusy)
		return
	}
	pop.RingTimeout = c.ringTimeout
	if !c.ring(ctx, call, call.ID(), []string{wn}, callcenter.SkillGroup{}, pop, started, log) && ctx.Err() == nil {
		c.sayGoodbye(ctx, call, PromptAllBusy, callcenter.ResultNoAnswer)
	}
}

// basePop is the screen pop's customer part, looked up once per call.
func (c *Center) basePop(ctx context.Context, call *sipedge.InboundCall) callcenter.ScreenPop {
	pop := callcenter.ScreenPop{CallID: call.ID(), Inbound: true, Customer: call.Caller(), CenterNumber: call.Number().E164}
	pop.Region, pop.Carrier = NumberInfo(call.Caller())
	pop.Name = c.customerName(ctx, "", call.Caller())
	lctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	n, last, err := c.st.CallsWith(lctx, call.Caller())
	if err != nil {
		c.log.Warn("center: customer history", "caller", call.Caller(), "error", err)
	}
	pop.CallsFrom, pop.LastCallAt = n, last
	return pop
}

// NumberInfo returns a number's region (号码归属地) and carrier in Chinese,
// read as a CN number when it has no country code; empty when unknown.
func NumberInfo(number string) (region, carrier string) {
	n, err := phonenumbers.Parse(number, "CN")
	if err != nil {
		return "", ""
	}
	region, _ = phonenumbers.GetGeocodingForNumber(n, "zh")
	carrier, _ = phonenumbers.GetCarrierForNumber(n, "zh")
	return region, carrier
}
