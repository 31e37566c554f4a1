package center

import (
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/sipedge"
)

// AgentActivity follows an agent's leg of a call the B2BUA bridges
// (internal, outbound; sipedge.WithAgentActivity), so the agent's status
// shows ringing and talking for every call, not only queue calls.
//
// An agent dialling is talking from the first ring (the state machine has
// no separate dialling state; the agent is not free either way). An agent
// called by a colleague rings only when free for calls; a busy agent's
// phone still rings, the status just does not say so.
func (c *Center) AgentActivity(act sipedge.AgentActivity) {
	c.mu.Lock()
	defer c.unlock()
	a := c.agentLocked(act.Agent)
	m := a.m
	st := m.Status()
	var op func(time.Time) (callcenter.AgentStatus, error)
	switch act.State {
	case sipedge.LegRinging:
		if a.call != "" {
			return // already on a call the center knows of
		}
		if act.Outgoing {
			op = m.StartOutbound
		} else if st.Available() {
			op = m.Offer
		}
		if op != nil {
			a.call = act.CallID
		}
	case sipedge.LegTalking:
		if a.call != act.CallID {
			if a.call != "" {
				return
			}
			a.call = act.CallID // answered while busy: talking now
		}
		switch st.Activity {
		case callcenter.ActivityRinging:
			op = m.Answer
		case callcenter.ActivityNone, callcenter.ActivityACW:
			op = m.StartOutbound
		}
	case sipedge.LegEnded:
		if a.call != act.CallID {
			return
		}
		a.call = ""
		switch st.Activity {
		case callcenter.ActivityRinging:
			// Not a queue offer: never a missed call for the streak.
			op = func(now time.Time) (callcenter.AgentStatus, error) { return m.OfferEnded(true, now) }
		case callcenter.ActivityTalking:
			op = func(now time.Time) (callcenter.AgentStatus, error) { return m.Hangup(0, now) }
		}
	}
	if op == nil {
		return
	}
	if _, err := c.transitionLocked(a, op); err != nil {
		if act.State == sipedge.LegRinging {
			a.call = ""
		}
		c.log.Info("center: agent activity refused", "agent", act.Agent, "call", act.CallID, "state", act.State, "error", err)
	}
}
