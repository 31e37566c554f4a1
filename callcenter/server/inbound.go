package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/agentstate"
	"github.com/agentphone/agentphone/callcenter/api"
)

// Center is the live inbound call center (callcenter/center) as the API
// uses it: the agents' statuses, their after-call work, figures and groups.
// It is declared here, at the consumer; tests use a fake because the real
// one needs SIP. The server never calls it from a push nor with its event
// hub locked, so the center may push (Status, Figures, ...) from inside
// these methods. Login and Logout are called under the server's login
// lock, so the center sees one agent's sessions change in order.
type Center interface {
	// Login puts the agent online with the phone busy (SPEC §2's default).
	Login(agent string)
	// Logout takes the agent offline.
	Logout(agent string)
	Status(agent string) callcenter.AgentStatus
	// ChangeStatus applies ch or refuses it. Refusals are the state
	// machine's *agentstate.TransitionError (answered 409); see
	// writeCenterError for the other errors.
	ChangeStatus(ctx context.Context, agent string, ch callcenter.StatusChange) (callcenter.AgentStatus, error)
	FinishACW(ctx context.Context, agent string) error
	ExtendACW(ctx context.Context, agent string, d time.Duration) error
	Figures(agent string) callcenter.AgentFigures
	Groups(agent string) []callcenter.GroupFigures
	CustomStatuses() []callcenter.CustomStatus
}

// WithCenter enables the inbound call center endpoints and events. Without
// it they answer 404 and snapshots carry no status (the foundation's API).
func WithCenter(c Center) Option { return func(s *Server) { s.center = c } }

// CodeRefused is the error code of a status change or after-call-work
// command that the agent's current state does not allow (409).
const CodeRefused = "refused"

// MaxACWExtend bounds one POST /v1/me/acw/extend.
const MaxACWExtend = time.Hour

// noCenterMessage answers the inbound endpoints on a server without a center.
const noCenterMessage = "the inbound call center is not enabled on this server"

// inbound wraps an authenticated handler that needs the center. The
// agent's session is valid, so an agent the center has not seen since a
// restart gets its status back first (StatusRestorer).
func (s *Server) inbound(h authedFunc) http.HandlerFunc {
	return s.authed(func(w http.ResponseWriter, r *http.Request, id identity) {
		if s.center == nil {
			writeError(w, http.StatusNotFound, api.CodeNotFound, noCenterMessage)
			return
		}
		s.resume(r.Context(), id.agent.WorkNumber)
		h(w, r, id)
	})
}

// StatusRestorer is optionally implemented by the Center (*center.Center
// does): RestoreStatus gives an agent with a valid session its status from
// before a server restart, once; later calls do nothing.
type StatusRestorer interface {
	RestoreStatus(ctx context.Context, agent string) (bool, error)
}

// resume lets the center restore the agent's status after a restart; call
// it when an agent with a valid session shows up (an API call, its event
// stream connecting), never with the hub locked: the center pushes the
// restored status.
func (s *Server) resume(ctx context.Context, wn string) {
	r, ok := s.center.(StatusRestorer)
	if !ok {
		return
	}
	if _, err := r.RestoreStatus(ctx, wn); err != nil {
		s.log.Warn("restore status after restart", "agent", wn, "err", err)
	}
}

// writeCenterError answers an error of a center command. The agent state
// machine's refusals (*agentstate.TransitionError: a rule of SPEC §2 such
// as no switching answering off while ringing) are 409 "refused" with the
// rule as the message; bad arguments (callcenter.ErrInvalid, which some
// transition errors also match) and unknown names are the client's (400);
// anything else is internal.
func writeCenterError(w http.ResponseWriter, what string, err error) {
	var te *agentstate.TransitionError
	switch {
	case errors.Is(err, callcenter.ErrInvalid), errors.Is(err, callcenter.ErrNotFound):
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, err.Error())
	case errors.As(err, &te):
		msg := "refused"
		if te.Reason != nil {
			msg = te.Reason.Error()
		}
		writeError(w, http.StatusConflict, CodeRefused, msg)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		writeError(w, http.StatusServiceUnavailable, api.CodeInternal, what+": "+err.Error())
	default:
		writeInternal(w, fmt.Errorf("%s: %w", what, err))
	}
}

// parseStatusChange checks a PUT /v1/me/status body. A custom status name
// alone implies presence "custom"; the name must be one of customs.
func parseStatusChange(in api.StatusChange, customs []callcenter.CustomStatus) (callcenter.StatusChange, error) {
	var out callcenter.StatusChange
	if in.Presence != nil {
		p, err := parsePresence(*in.Presence)
		if err != nil {
			return out, err
		}
		out.Presence = &p
	}
	if in.Custom != nil {
		name := *in.Custom
		if !slices.ContainsFunc(customs, func(c callcenter.CustomStatus) bool { return c.Name == name }) {
			return out, fmt.Errorf("custom: unknown custom status %q (GET /v1/statuses lists them)", name)
		}
		if out.Presence == nil {
			p := callcenter.PresenceCustom
			out.Presence = &p
		}
		if *out.Presence != callcenter.PresenceCustom {
			return out, fmt.Errorf("custom: given with presence %q; want presence %q", out.Presence, callcenter.PresenceCustom)
		}
		out.Custom = &name
	} else if out.Presence != nil && *out.Presence == callcenter.PresenceCustom {
		return out, errors.New(`presence "custom" needs custom: the name of a custom status`)
	}
	if in.Phone != nil {
		ph, err := parsePhone(*in.Phone)
		if err != nil {
			return out, err
		}
		out.Phone = &ph
	}
	out.AutoAnswer = in.AutoAnswer
	return out, nil
}

func parsePresence(v string) (callcenter.Presence, error) {
	for p := callcenter.PresenceOffline; p <= callcenter.PresenceCustom; p++ {
		if p.String() == v {
			return p, nil
		}
	}
	return 0, fmt.Errorf("presence: want offline, online or custom, got %q", v)
}

func parsePhone(v string) (callcenter.PhoneStatus, error) {
	for p := callcenter.PhoneBusy; p <= callcenter.PhoneIdle; p++ {
		if p.String() == v {
			return p, nil
		}
	}
	return 0, fmt.Errorf("phone: want busy or idle, got %q", v)
}

// handleGetStatus is GET /v1/me/status: the agent's status as it is.
func (s *Server) handleGetStatus(w http.ResponseWriter, _ *http.Request, id identity) {
	writeJSON(w, http.StatusOK, wireStatus(s.center.Status(id.agent.WorkNumber)))
}

// handleStatus is PUT /v1/me/status.
func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request, id identity) {
	var req api.StatusChange
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, err.Error())
		return
	}
	var customs []callcenter.CustomStatus
	if req.Custom != nil {
		customs = s.center.CustomStatuses()
	}
	ch, err := parseStatusChange(req, customs)
	if err != nil {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, err.Error())
		return
	}
	wn := id.agent.WorkNumber
	if ch == (callcenter.StatusChange{}) {
		// Nothing asked: answer the status as it is, as a PUT of the same
		// state would.
		writeJSON(w, http.StatusOK, wireStatus(s.center.Status(wn)))
		return
	}
	st, err := s.center.ChangeStatus(r.Context(), wn, ch)
	if err != nil {
		writeCenterError(w, "change status of "+wn, err)
		return
	}
	writeJSON(w, http.StatusOK, wireStatus(st))
}

// handleACWFinish is POST /v1/me/acw/finish; it answers the new status.
func (s *Server) handleACWFinish(w http.ResponseWriter, r *http.Request, id identity) {
	wn := id.agent.WorkNumber
	if err := s.center.FinishACW(r.Context(), wn); err != nil {
		writeCenterError(w, "finish after-call work of "+wn, err)
		return
	}
	writeJSON(w, http.StatusOK, wireStatus(s.center.Status(wn)))
}

// handleACWExtend is POST /v1/me/acw/extend; it answers the new status.
func (s *Server) handleACWExtend(w http.ResponseWriter, r *http.Request, id identity) {
	var req api.ACWExtend
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, err.Error())
		return
	}
	d := time.Duration(req.Seconds) * time.Second
	if req.Seconds < 1 || d > MaxACWExtend {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest,
			fmt.Sprintf("seconds: want 1 to %d, got %d", int(MaxACWExtend/time.Second), req.Seconds))
		return
	}
	wn := id.agent.WorkNumber
	if err := s.center.ExtendACW(r.Context(), wn, d); err != nil {
		writeCenterError(w, "extend after-call work of "+wn, err)
		return
	}
	writeJSON(w, http.StatusOK, wireStatus(s.center.Status(wn)))
}

// handleGroups is GET /v1/me/groups.
func (s *Server) handleGroups(w http.ResponseWriter, r *http.Request, id identity) {
	writeJSON(w, http.StatusOK, wireGroups(s.center.Groups(id.agent.WorkNumber), s.groupLabel))
}

// handleStatuses is GET /v1/statuses: the custom statuses an agent may choose.
func (s *Server) handleStatuses(w http.ResponseWriter, r *http.Request, _ identity) {
	writeJSON(w, http.StatusOK, wireCustomStatuses(s.center.CustomStatuses()))
}

func wireStatus(st callcenter.AgentStatus) api.AgentStatus {
	out := api.AgentStatus{
		Presence:   st.Presence.String(),
		Phone:      st.Phone.String(),
		AutoAnswer: st.AutoAnswer,
		Activity:   st.Activity.String(),
		Since:      st.Since,
	}
	if st.Presence == callcenter.PresenceCustom {
		out.Custom = st.Custom
	}
	if st.Activity == callcenter.ActivityACW {
		out.ACWUntil = st.ACWUntil
	}
	return out
}

func wireFigures(f callcenter.AgentFigures) api.Figures {
	return api.Figures{
		TalkTimeSec:  f.TalkTime.Seconds(),
		Calls:        f.Calls,
		BusyTotalSec: f.BusyTotal.Seconds(),
		IdleTotalSec: f.IdleTotal.Seconds(),
		Missed:       f.Missed,
	}
}

// GroupLabeler is optionally implemented by the Center: it knows the skill
// groups' configuration, and so their labels (GroupFigures carries only the
// name). Without it, or for an unknown group, the name stands in.
type GroupLabeler interface {
	GroupLabel(group string) string
}

// groupLabel asks the center for a group's label. The center is asked only
// on the pull side (requests and snapshots), which runs outside the
// center's locks; what it said is remembered for pushes, which may come
// from inside them.
func (s *Server) groupLabel(name string) string {
	l := ""
	if gl, ok := s.center.(GroupLabeler); ok {
		l = gl.GroupLabel(name)
	}
	s.labelMu.Lock()
	defer s.labelMu.Unlock()
	if l == "" {
		delete(s.labels, name)
		return name
	}
	s.labels[name] = l
	return l
}

// knownLabel is the label remembered by groupLabel, without asking.
func (s *Server) knownLabel(name string) string {
	s.labelMu.Lock()
	defer s.labelMu.Unlock()
	if l, ok := s.labels[name]; ok {
		return l
	}
	return name
}

// wireGroups converts group figures, each labelled by label.
func wireGroups(gs []callcenter.GroupFigures, label func(string) string) []api.Group {
	out := make([]api.Group, len(gs))
	for i, g := range gs {
		out[i] = api.Group{
			Name:           g.Group,
			Label:          label(g.Group),
			Waiting:        g.Waiting,
			LongestWaitSec: g.LongestWait.Seconds(),
			Idle:           g.Idle,
			Busy:           g.Busy,
			Talking:        g.Talking,
		}
	}
	return out
}

func wireCustomStatuses(cs []callcenter.CustomStatus) []api.CustomStatus {
	out := make([]api.CustomStatus, len(cs))
	for i, c := range cs {
		out[i] = api.CustomStatus{Name: c.Name, Label: c.Label}
	}
	return out
}

func wirePop(p callcenter.ScreenPop) api.ScreenPop {
	dir := "outbound"
	if p.Inbound {
		dir = "inbound"
	}
	return api.ScreenPop{
		CallID:         p.CallID,
		Direction:      dir,
		Customer:       p.Customer,
		Name:           p.Name,
		Region:         p.Region,
		Carrier:        p.Carrier,
		CallsFrom:      p.CallsFrom,
		LastCallAt:     p.LastCallAt,
		CenterNumber:   p.CenterNumber,
		Group:          p.Group,
		QueueWaitSec:   p.QueueWait.Seconds(),
		RingTimeoutSec: p.RingTimeout.Seconds(),
	}
}
