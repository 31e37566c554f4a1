package server

import (
	"sync/atomic"

	"github.com/agentphone/agentphone/callcenter"
)

// Forwarder passes the orchestrator's and the SIP edge's reports to a
// Server that is set later. callcenterd must build them in this order —
// the center first, then the edge (which needs the center), then the
// Server (which needs the edge's address) — so the earlier parts report
// to a Forwarder; reports before Set have no listener to miss them.
// It implements the center's Sink.
type Forwarder struct{ s atomic.Pointer[Server] }

// Set makes f pass everything on to s from now on.
func (f *Forwarder) Set(s *Server) { f.s.Store(s) }

func (f *Forwarder) Status(agent string, st callcenter.AgentStatus) {
	if s := f.s.Load(); s != nil {
		s.Status(agent, st)
	}
}

func (f *Forwarder) Figures(agent string, fig callcenter.AgentFigures) {
	if s := f.s.Load(); s != nil {
		s.Figures(agent, fig)
	}
}

func (f *Forwarder) Groups(agent string, g []callcenter.GroupFigures) {
	if s := f.s.Load(); s != nil {
		s.Groups(agent, g)
	}
}

func (f *Forwarder) Offer(agent string, pop callcenter.ScreenPop) {
	if s := f.s.Load(); s != nil {
		s.Offer(agent, pop)
	}
}

func (f *Forwarder) Missed(agent string, o callcenter.Offer) {
	if s := f.s.Load(); s != nil {
		s.Missed(agent, o)
	}
}

func (f *Forwarder) Notice(agent string, n callcenter.Notice) {
	if s := f.s.Load(); s != nil {
		s.Notice(agent, n)
	}
}

// PublishCall is the SIP edge's call observer.
func (f *Forwarder) PublishCall(ev callcenter.CallEvent) {
	if s := f.s.Load(); s != nil {
		s.PublishCall(ev)
	}
}

// SetRegistered is the SIP edge's registration observer.
func (f *Forwarder) SetRegistered(workNumber string, registered bool, contact string) {
	if s := f.s.Load(); s != nil {
		s.SetRegistered(workNumber, registered, contact)
	}
}
