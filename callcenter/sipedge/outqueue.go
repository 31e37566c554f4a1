package sipedge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/agentphone/agentphone/audio"
	"github.com/agentphone/agentphone/callcenter"
	cmedia "github.com/agentphone/agentphone/callcenter/media"
)

// An OutboundCall is a QueueCall: once the agent who placed it transferred
// the customer to a skill group, the center plays the queue's music and
// the group's IVR to the customer, offers the call to the group's agents
// and bridges the one who answers, exactly as for a caller. Each agent
// reached so is a transfer leg with its own record (ParentID the call,
// the group and the queue wait on it); the call's own record stays the
// dialling agent's.

// ErrAgentConnected: the customer still talks with an agent; the queue
// may play to it and offer it only once that agent left.
var ErrAgentConnected = errors.New("sipedge: an agent has the customer")

// CenterNumber is the center number shown to the customer (caller id).
func (oc *OutboundCall) CenterNumber() string { return oc.c.number }

// Keys delivers the customer's DTMF digits (RFC 4733). Digits nobody
// reads are dropped past a small buffer.
func (oc *OutboundCall) Keys() <-chan rune { return oc.keys }

// queueableLocked reports why the queue may not act on the call now: the
// dialling agent still has the customer, or an agent is bridged.
// Called with oc.mu held.
func (oc *OutboundCall) queueableLocked() error {
	switch {
	case !oc.transferred:
		return fmt.Errorf("call %s: agent %s: %w", oc.c.id, oc.agent.agent, ErrAgentConnected)
	case oc.bridged != nil:
		return fmt.Errorf("call %s: agent %s: %w", oc.c.id, oc.bridged.agent, ErrAgentConnected)
	}
	return nil
}

// Play adds a source the customer hears (a prompt, the queue's music)
// under name, at rate Hz (0: audio.DeviceRate), until stop is called,
// ctx ends or an agent is bridged. Playing under a name in use replaces
// that source.
func (oc *OutboundCall) Play(ctx context.Context, name string, src audio.Source, rate int) (stop func(), err error) {
	oc.mu.Lock()
	defer oc.mu.Unlock()
	if err := oc.queueableLocked(); err != nil {
		return nil, fmt.Errorf("play %s: %w", name, err)
	}
	if name == CustomerLeg || name == "" {
		return nil, fmt.Errorf("play on call %s: bad source name %q", oc.c.id, name)
	}
	if old := oc.sources[name]; old != nil {
		old.Leave()
		delete(oc.sources, name)
	}
	p, err := oc.room.Join(ctx, cmedia.ParticipantConfig{Name: name, Source: src, Rate: rate, Speaks: true, Hears: cmedia.HearNone})
	if err != nil {
		return nil, fmt.Errorf("play %s on call %s: %w", name, oc.c.id, err)
	}
	oc.sources[name] = p
	customerHearsAll(oc.room)
	return func() {
		oc.mu.Lock()
		if oc.sources[name] == p {
			delete(oc.sources, name)
		}
		oc.mu.Unlock()
		p.Leave()
	}, nil
}

// OfferID is the id of the transfer leg the queue is looking for: its
// offers, screen pops and the answering agent's record carry it, with
// the call's id as X-Parent-Call-ID.
func (oc *OutboundCall) OfferID() string {
	oc.mu.Lock()
	defer oc.mu.Unlock()
	if oc.transferID != "" {
		return oc.transferID
	}
	return oc.c.id
}

// Offer rings workNumber's phone with the customer (InboundCall.Offer's
// contract). It is refused while an agent has the customer.
func (oc *OutboundCall) Offer(ctx context.Context, workNumber string, ringTimeout time.Duration, pop callcenter.ScreenPop) (*AgentLeg, error) {
	oc.mu.Lock()
	err := oc.queueableLocked()
	group := pop.Group
	if group == "" {
		group = oc.group
	}
	oc.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("offer to %s: %w", workNumber, err)
	}
	return offerLeg(ctx, oc, offerSpec{callID: oc.c.id, offerID: oc.OfferID(), customer: oc.Caller(), number: oc.c.number,
		group: group, typ: oc.c.typ, callCtx: oc.ctx, offers: &oc.offers}, workNumber, ringTimeout)
}

// Bridge connects an agent who answered a queue offer with the customer:
// the sources stop, both hear each other, and the leg's record (a
// transfer leg of the call) begins.
func (oc *OutboundCall) Bridge(leg *AgentLeg) error {
	if leg == nil || leg.owner != anchored(oc) {
		return fmt.Errorf("bridge call %s: leg of another call", oc.c.id)
	}
	oc.mu.Lock()
	if err := oc.queueableLocked(); err != nil {
		oc.mu.Unlock()
		return fmt.Errorf("bridge: %w", err)
	}
	if oc.ctx.Err() != nil {
		oc.mu.Unlock()
		return fmt.Errorf("bridge call %s: %w", oc.c.id, ErrCallEnded)
	}
	for name, p := range oc.sources {
		p.Leave()
		delete(oc.sources, name)
	}
	cfg, err := legConfig(leg.name, leg.dlg.Media())
	var p *cmedia.Participant
	if err == nil {
		p, err = oc.room.Join(context.WithoutCancel(oc.e.ctx), cfg)
	}
	if err != nil {
		oc.mu.Unlock()
		return fmt.Errorf("bridge call %s: %w", oc.c.id, err)
	}
	leg.part.Store(p)
	oc.bridged = leg
	if oc.stay != nil {
		oc.stay.bridged = true
	}
	customerHearsAll(oc.room)
	group, wait := oc.group, oc.queueWait
	oc.mu.Unlock()
	transferRecord(oc, leg, oc.c.typ, oc.Caller(), oc.c.number, group, wait)
	return nil
}

// SetGroup records the group the customer queues in; the transfer leg's
// record carries it.
func (oc *OutboundCall) SetGroup(name string) {
	oc.mu.Lock()
	oc.group = name
	oc.mu.Unlock()
}

// SetQueueWait records how long the customer waited in the queue; the
// transfer leg's record carries it.
func (oc *OutboundCall) SetQueueWait(d time.Duration) {
	oc.mu.Lock()
	oc.queueWait = d
	oc.mu.Unlock()
}

// SetOutcome marks a call the queue ended (a goodbye, an overflow
// message): its record says the system hung up. The record's result
// stays answered (the customer answered the agent's call).
func (oc *OutboundCall) SetOutcome(res callcenter.Result, by callcenter.Party) {
	oc.mu.Lock()
	oc.outcome = &outcome{res, by}
	if oc.stay != nil && !oc.stay.bridged {
		oc.stay.outcome = oc.outcome
	}
	oc.mu.Unlock()
}

// StartTransferLeg opens the transfer leg (OfferID) of a transfer to
// group: its record is written at the call's end if no agent takes it.
// It does nothing while the dialling agent has the customer.
func (oc *OutboundCall) StartTransferLeg(group string) {
	oc.mu.Lock()
	defer oc.mu.Unlock()
	if !oc.transferred || oc.transferID == "" {
		return
	}
	oc.stay = startStay(oc.stay, oc.transferID, oc.e.now())
	// This stay's group and wait, not an earlier stay's.
	oc.group, oc.queueWait = group, 0
}
