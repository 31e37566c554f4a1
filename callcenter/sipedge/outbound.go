package sipedge

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	cmedia "github.com/agentphone/agentphone/callcenter/media"
	"github.com/google/uuid"
)

// OutboundHandler takes over call control of an answered call an agent
// placed to an outside number. It runs on the call's goroutine; when it
// returns the edge hangs up whatever is left, closes the room and writes
// the call's one record. ctx ends when the customer hangs up or the edge
// closes (not when the agent hangs up: the customer may have been
// transferred to someone else by then).
type OutboundHandler func(ctx context.Context, c *OutboundCall)

// WithOutbound hands every answered agent → outside number call to h, so
// hold, transfer and consult work on it like on inbound calls. Without
// it such a call ends when either side hangs up (the foundation's
// behaviour).
func WithOutbound(h OutboundHandler) Option { return func(e *Edge) { e.outbound = h } }

// OutboundCall is an answered call an agent placed to an outside number,
// anchored in a room: the customer is CustomerLeg, the agent who dialled
// is Agent(). It is a CustomerCall, so call control acts on it.
type OutboundCall struct {
	e     *Edge
	c     *call
	ctx   context.Context
	room  *cmedia.Room
	agent *AgentLeg

	// keys are the customer's digits (a group's IVR after a transfer).
	keys   chan rune
	offers sync.WaitGroup

	mu          sync.Mutex
	legs        []*AgentLeg
	customerEnd time.Time
	// The queue stay after a transfer to a group (queue.go): the
	// sources the customer hears, the agent bridged from the queue, the
	// id of the transfer leg the queue looks for, and its group and wait.
	sources     map[string]*cmedia.Participant
	bridged     *AgentLeg
	transferred bool
	transferID  string
	group       string
	queueWait   time.Duration
	// stay is the transfer leg a transfer to a group opened
	// (StartTransferLeg); close records it if no agent took it.
	stay    *transferStay
	outcome *outcome
}

// ID is the call's id (its record's key).
func (oc *OutboundCall) ID() string { return oc.c.id }

// Caller is the customer's number: the outside number the agent dialled.
func (oc *OutboundCall) Caller() string { return oc.c.callee }

// Type is CallAgentOutbound.
func (oc *OutboundCall) Type() callcenter.CallType { return oc.c.typ }

// Number is the center number presented to the customer (caller id).
func (oc *OutboundCall) Number() string { return oc.c.number }

// Context ends when the customer hangs up or the edge closes.
func (oc *OutboundCall) Context() context.Context { return oc.ctx }

// Room is the call's room.
func (oc *OutboundCall) Room() *cmedia.Room { return oc.room }

// Agent is the leg of the agent who placed the call; its id is the call's.
func (oc *OutboundCall) Agent() *AgentLeg { return oc.agent }

// AnsweredAt is when the customer answered (edge clock).
func (oc *OutboundCall) AnsweredAt() time.Time { return oc.c.answeredAt }

// Registered reports whether the agent's phone is registered now.
func (oc *OutboundCall) Registered(workNumber string) bool { return oc.e.Registered(workNumber) }

// Dial places a consult or transfer leg (see InboundCall.Dial).
func (oc *OutboundCall) Dial(ctx context.Context, d Dial) (*AgentLeg, error) {
	return dialLeg(ctx, oc, d)
}

// Attach joins an answered leg to the call's room.
func (oc *OutboundCall) Attach(leg *AgentLeg, hears cmedia.HearSet, speaks bool) (*cmedia.Participant, error) {
	return attachLeg(oc, leg, hears, speaks)
}

// Release takes the leg out of the room and hangs it up; the first
// agent's release (a transfer) leaves the customer in the room.
func (oc *OutboundCall) Release(ctx context.Context, leg *AgentLeg) error {
	if leg == nil || leg.owner != anchored(oc) {
		return fmt.Errorf("release on call %s: leg of another call", oc.c.id)
	}
	if p := leg.part.Load(); p != nil {
		p.Leave()
	}
	oc.mu.Lock()
	if leg == oc.agent || leg == oc.bridged {
		// The customer's agent left (a transfer): the next agent a queue
		// reaches gets a transfer leg with an id of its own.
		oc.bridged = nil
		oc.transferred = true
		oc.transferID = uuid.NewString()
	}
	oc.mu.Unlock()
	return leg.Hangup(ctx)
}

func (oc *OutboundCall) edge() *Edge             { return oc.e }
func (oc *OutboundCall) base() *call             { return oc.c }
func (oc *OutboundCall) centerNumber() string    { return oc.c.number }
func (oc *OutboundCall) mediaRoom() *cmedia.Room { return oc.room }
func (oc *OutboundCall) addLeg(l *AgentLeg) {
	oc.mu.Lock()
	oc.legs = append(oc.legs, l)
	oc.mu.Unlock()
}

// runOutbound hands an answered agent → outside call, anchored in room,
// to the outbound handler and ends it when the handler returns: every
// leg hung up, the room closed, one record for the customer call (each
// consult or transfer leg has its own).
func (e *Edge) runOutbound(c *call, room *cmedia.Room) {
	callCtx, cancelCall := context.WithCancel(e.ctx)
	defer cancelCall()
	stop := context.AfterFunc(c.out.Context(), cancelCall)
	defer stop()
	oc := &OutboundCall{e: e, c: c, ctx: callCtx, room: room, keys: make(chan rune, 32), sources: map[string]*cmedia.Participant{}}
	customerKeys(room, oc.keys)
	oc.agent = &AgentLeg{owner: oc, agent: c.caller, dlg: c.in, answeredAt: c.answeredAt, id: c.id,
		kind: LegToAgent, name: e.legName(c, true)}
	oc.agent.part.Store(room.Participant(oc.agent.name))
	stopEnd := context.AfterFunc(c.out.Context(), func() {
		oc.mu.Lock()
		oc.customerEnd = e.now()
		oc.mu.Unlock()
	})
	defer stopEnd()

	e.outbound(callCtx, oc)

	// Queue offers the handler left running (it should not) end with
	// the call.
	cancelCall()
	oc.offers.Wait()
	oc.close()
}

// close ends the call after its handler.
func (oc *OutboundCall) close() {
	e, c := oc.e, oc.c
	customerGone := c.out.Context().Err() != nil
	oc.mu.Lock()
	legs := append(slices.Clone(oc.legs), oc.agent)
	if oc.bridged != nil && !slices.Contains(legs, oc.bridged) {
		legs = append(legs, oc.bridged)
	}
	customerEnd := oc.customerEnd
	oc.mu.Unlock()
	live := false
	for _, l := range legs {
		live = live || l.dlg.Context().Err() == nil
	}
	oc.mu.Lock()
	sentAway := oc.outcome != nil
	var stay *transferStay
	if oc.stay != nil && !oc.stay.bridged {
		st := *oc.stay
		stay = &st
	}
	group, wait := oc.group, oc.queueWait
	oc.mu.Unlock()
	var by callcenter.Party
	switch {
	case customerGone:
		by = callcenter.PartyCallee
	case sentAway:
		// A queue the customer was transferred to ended the call (its
		// IVR's goodbye, an overflow message).
		by = callcenter.PartySystem
	case !live:
		by = callcenter.PartyCaller
	default:
		by = callcenter.PartySystem
	}
	oc.room.Close()
	hctx, cancel := context.WithTimeout(context.WithoutCancel(e.ctx), 5*time.Second)
	defer cancel()
	for _, l := range legs {
		if err := l.Hangup(hctx); err != nil {
			e.log.Debug("sip: hangup leg", "call", c.id, "leg", l.id, "error", err)
		}
	}
	if err := c.out.Hangup(hctx); err != nil {
		e.log.Debug("sip: hangup customer", "call", c.id, "error", err)
	}
	if stay != nil {
		unservedRecord(oc, *stay, c.typ, c.callee, c.number, group, wait, customerGone, customerEnd)
	}
	r := c.record()
	r.EndedAt = e.now()
	if customerGone && !customerEnd.IsZero() {
		r.EndedAt = customerEnd
	}
	r.Result, r.HangupBy = callcenter.ResultAnswered, by
	if c.legsReported {
		e.activity(c, LegEnded)
	}
	if err := e.rec.EndCallRecord(hctx, r); err != nil {
		e.log.Error("sip: end call record", "call", c.id, "error", err)
	}
	e.log.Info("sip: outbound call ended", "call", c.id, "agent", c.caller, "callee", c.callee, "hangup_by", by)
	e.emit(c, callcenter.CallEnded, callcenter.ResultAnswered, by)
}
