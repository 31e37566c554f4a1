package center

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/crm"
	"github.com/agentphone/agentphone/callcenter/sipedge"
)

// HandleOutbound runs call control on a call an agent placed to an
// outside number (the sipedge.OutboundHandler): hold, transfer to an
// agent or a group (the customer queues, through the group's IVR), consult,
// three-way and DTMF, exactly as on inbound calls, until nobody talks with
// the customer. The agent's
// status follows the call through AgentActivity as before; a transfer or
// consult target's through the session.
func (c *Center) HandleOutbound(ctx context.Context, call *sipedge.OutboundCall) {
	leg := call.Agent()
	log := c.log.With("call", call.ID(), "agent", leg.Agent(), "customer", call.Caller())
	pop := callcenter.ScreenPop{CallID: call.ID(), Customer: call.Caller(), CenterNumber: call.Number()}
	pop.Region, pop.Carrier = NumberInfo(call.Caller())
	pop.Name = c.customerName(ctx, leg.Agent(), call.Caller())
	lctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	n, last, err := c.st.CallsWith(lctx, call.Caller())
	cancel()
	if err != nil {
		log.Warn("center: customer history", "error", err)
	}
	pop.CallsFrom, pop.LastCallAt = n, last
	c.converse(ctx, call, leg, callcenter.SkillGroup{}, pop, c.now(), log)
	// Transferred to a group: the customer goes through the group's IVR
	// and queue like a caller (call.go), and the agent who answers there
	// gets the call's control session.
	c.requeued(ctx, call, pop, log)
}

// agentNamer is the part of the store that names agents (the SQLite
// store has it); without it parties show work numbers only.
type agentNamer interface {
	AgentByWorkNumber(ctx context.Context, workNumber string) (callcenter.Agent, error)
}

// agentName is the directory's name of an agent, "" when unknown. It is
// read once per party, when the party joins a call.
func (c *Center) agentName(wn string) string {
	an, ok := c.st.(agentNamer)
	if !ok || wn == "" {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	defer cancel()
	a, err := an.AgentByWorkNumber(ctx, wn)
	if err != nil {
		if !errors.Is(err, callcenter.ErrNotFound) {
			c.log.Debug("center: agent name", "agent", wn, "error", err)
		}
		return ""
	}
	return a.Name
}

// errNotLive: the call is not live or the agent has no part in it.
var errNotLive = errors.New("center: not live")

func liveErr(ok bool) error {
	if ok {
		return nil
	}
	return errNotLive
}

// live is the call as agent sees it: its customer and whether the agent
// answered (talks or talked on it). ok is false when the agent has no
// part in the call now.
func (s *session) live(agent string) (crm.LiveCall, bool) {
	lc := crm.LiveCall{CallID: s.call.ID(), Customer: s.call.Caller()}
	if slices.ContainsFunc(s.parties, func(p *party) bool { return p.wn == agent }) {
		lc.Answered = true
		return lc, true
	}
	if cl := s.consult; cl != nil {
		if cl.p != nil && cl.p.wn == agent {
			lc.Answered = true
			return lc, true
		}
		if cl.by == agent || (cl.target.Kind == TargetAgent && cl.target.To == agent) || cl.member == agent {
			return lc, true // rung, not answered yet (or the asker, see above)
		}
	}
	return lc, false
}

// liveTimeout bounds how long LiveCall waits for a call's session.
const liveTimeout = 2 * time.Second

// LiveCall implements crm.Live: the customer's number of a live call (by
// the customer call's id or any of its legs') and whether agent has
// answered it; ok is false when the call is not live or agent has no part
// in it. A queue call still ringing the agent is live, not answered.
func (c *Center) LiveCall(callID, agent string) (crm.LiveCall, bool) {
	if s := c.ctl.get(callID); s != nil {
		ctx, cancel := context.WithTimeout(context.Background(), liveTimeout)
		defer cancel()
		r := request{op: "live", agent: agent, reply: make(chan reply, 1)}
		select {
		case s.reqs <- r:
		case <-s.done:
			return crm.LiveCall{}, false
		case <-ctx.Done():
			return crm.LiveCall{}, false
		}
		select {
		case rep := <-r.reply:
			return rep.live, rep.err == nil
		case <-ctx.Done():
			return crm.LiveCall{}, false
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if a := c.agents[agent]; a != nil && a.call != "" {
		// Queue offers hold the agent on the customer call's id; after a
		// transfer to a group they carry the transfer leg's id.
		if q := c.calls[a.call]; q != nil && (callID == q.id || callID == q.ic.OfferID()) {
			return crm.LiveCall{CallID: q.id, Customer: q.ic.Caller()}, true
		}
	}
	return crm.LiveCall{}, false
}

var _ crm.Live = (*Center)(nil)
