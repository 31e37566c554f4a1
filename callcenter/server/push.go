package server

import (
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/api"
)

// The push side of the inbound call center: the orchestrator
// (callcenter/center) calls these as live state changes, and each becomes
// an event on the agent's streams. None blocks on a client, and none calls
// back into the center, so the center may call them holding its own locks.

// Notice codes the server itself sends.
const (
	NoticeTakeover = "takeover"
)

// How long screen pops are kept: popGrace after their call ended (a
// missed-offer notice after the end still finds the customer's name), and
// popTTL for a call never reported at all (the customer hung up before any
// agent leg existed).
const (
	popGrace = time.Minute
	popTTL   = time.Hour
)

// minSweep is the fewest pops worth sweeping; see sweepPopsLocked.
const minSweep = 256

// centerView is the center's state of one agent, as a snapshot carries it.
type centerView struct {
	pushes   uint64 // the agent's push count before the center was read
	status   api.AgentStatus
	figures  api.Figures
	groups   []api.Group
	statuses []api.CustomStatus
}

// centerView reads the agent's state from the center, or nil without one.
// It is called without the hub's lock: the center may push meanwhile.
func (s *Server) centerView(wn string) *centerView {
	if s.center == nil {
		return nil
	}
	s.hub.mu.Lock()
	pushes := s.hub.pushes[wn]
	s.hub.mu.Unlock()
	return &centerView{
		pushes:   pushes,
		status:   wireStatus(s.center.Status(wn)),
		figures:  wireFigures(s.center.Figures(wn)),
		groups:   wireGroups(s.center.Groups(wn), s.groupLabel),
		statuses: wireCustomStatuses(s.center.CustomStatuses()),
	}
}

// overlayLocked replaces what v read with what the center pushed last, if
// it pushed while v was being read: the read may then predate the push,
// whose event this stream, not yet open, did not get. Otherwise the read
// stands: it is newer than any push, and its running totals (idle time,
// longest wait) are up to date.
func (h *hub) overlayLocked(wn string, v *centerView) {
	if h.pushes[wn] == v.pushes {
		return
	}
	if st, ok := h.status[wn]; ok {
		v.status = st
	}
	if f, ok := h.figures[wn]; ok {
		v.figures = f
	}
	if g, ok := h.groups[wn]; ok {
		v.groups = g
	}
}

// Status pushes an agent's new status (api.EventStatus).
func (s *Server) Status(agent string, st callcenter.AgentStatus) {
	w := wireStatus(st)
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	h.status[agent] = w
	h.pushes[agent]++
	h.pushLocked(agent, mustEvent(api.EventStatus, s.clock(), w))
}

// Figures pushes an agent's figures of today (api.EventFigures).
func (s *Server) Figures(agent string, f callcenter.AgentFigures) {
	w := wireFigures(f)
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	h.figures[agent] = w
	h.pushes[agent]++
	h.pushLocked(agent, mustEvent(api.EventFigures, s.clock(), w))
}

// Groups pushes the live figures of an agent's groups (api.EventGroups).
func (s *Server) Groups(agent string, g []callcenter.GroupFigures) {
	w := wireGroups(g, s.knownLabel) // never ask the center from a push
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	h.groups[agent] = w
	h.pushes[agent]++
	h.pushLocked(agent, mustEvent(api.EventGroups, s.clock(), w))
}

// Offer tells an agent that a queue call rings it (api.EventOffer) and
// attaches pop to the call: every later call event of pop.CallID (ringing,
// talking, ended) carries it, and so do snapshots while the call lives.
func (s *Server) Offer(agent string, pop callcenter.ScreenPop) {
	w := wirePop(pop)
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	h.attachPopLocked(w, s.clock())
	h.pushLocked(agent, mustEvent(api.EventOffer, s.clock(), w))
}

// PublishPop attaches a screen pop to a call that is not a queue offer (an
// outbound call, or new data for a live one). If the call is live, its
// agents get a call event carrying the pop at once; otherwise the pop waits
// for the call's first PublishCall.
func (s *Server) PublishPop(pop callcenter.ScreenPop) {
	w := wirePop(pop)
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	lc := h.attachPopLocked(w, s.clock())
	if lc == nil {
		return
	}
	ev := mustEvent(api.EventCall, s.clock(), lc.call)
	for _, wn := range lc.agents {
		h.pushLocked(wn, ev)
	}
}

// attachPopLocked keeps pop for its call and sets it on the live call, which
// it returns (nil when the call is not live yet).
func (h *hub) attachPopLocked(pop api.ScreenPop, now time.Time) *liveCall {
	if len(h.pops) >= h.nextSweep {
		h.sweepPopsLocked(now)
	}
	h.pops[pop.CallID] = popEntry{pop: pop, at: now}
	lc := h.calls[pop.CallID]
	if lc != nil {
		p := pop
		lc.call.Pop = &p
	}
	return lc
}

// sweepPopsLocked forgets the pops of calls that ended more than popGrace
// ago or were never seen within popTTL. It runs when the map has doubled
// since the last sweep, so its cost per pop stays constant however many
// calls are live.
func (h *hub) sweepPopsLocked(now time.Time) {
	for id, pe := range h.pops {
		if _, live := h.calls[id]; live {
			continue
		}
		if !pe.ended.IsZero() && now.Sub(pe.ended) > popGrace || now.Sub(pe.at) > popTTL {
			delete(h.pops, id)
		}
	}
	h.nextSweep = max(minSweep, 2*len(h.pops))
}

// Missed tells an agent about an offer it did not answer (api.EventMissed),
// as the history row it now has. Name and region come from the call's
// screen pop when the server still has it.
func (s *Server) Missed(agent string, o callcenter.Offer) {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	item := offerItem(o)
	if pe, ok := h.pops[o.CallID]; ok {
		item.Name, item.Region = pe.pop.Name, pe.pop.Region
	}
	h.pushLocked(agent, mustEvent(api.EventMissed, s.clock(), item))
}

// Notice pushes a message for the agent (api.EventNotice), such as being
// set to busy after two missed offers.
func (s *Server) Notice(agent string, n callcenter.Notice) {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pushLocked(agent, mustEvent(api.EventNotice, s.clock(), api.Notice{Code: n.Code, Message: n.Message}))
}
