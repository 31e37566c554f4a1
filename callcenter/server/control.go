package server

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/api"
)

// Controller is in-call control of live calls (callcenter/center): hold,
// transfer, consult, three-way and DTMF, carried out on the server's room
// of the call. callID is the customer call's id or any of its legs'.
// Refusals are errors with a RefusalCode() string method (an api.Code*),
// answered 409.
type Controller interface {
	Hold(ctx context.Context, agent, callID string) (api.CallControl, error)
	Resume(ctx context.Context, agent, callID string) (api.CallControl, error)
	Transfer(ctx context.Context, agent, callID string, t api.Target) (api.CallControl, error)
	Consult(ctx context.Context, agent, callID string, t api.Target) (api.CallControl, error)
	ConsultTransfer(ctx context.Context, agent, callID string) (api.CallControl, error)
	Conference(ctx context.Context, agent, callID string) (api.CallControl, error)
	ConsultCancel(ctx context.Context, agent, callID string) (api.CallControl, error)
	SendDTMF(ctx context.Context, agent, callID, digits string) error
	CallControl(ctx context.Context, agent, callID string) (api.CallControl, error)
	// TransferGroups lists the skill groups with waiting and online counts.
	TransferGroups() []api.TransferGroup
}

// WithController enables the call-control endpoints. Without it they
// answer 404. The center needs to be set too (WithCenter) for the agents'
// statuses in GET /v1/transfer-targets.
func WithController(c Controller) Option { return func(s *Server) { s.ctl = c } }

// refusal is an error a Controller returns for a request it refuses.
type refusal interface{ RefusalCode() string }

const noControlMessage = "call control is not enabled on this server"

func (s *Server) controlRoutes(handle func(method, path string, h http.HandlerFunc)) {
	v := api.Version
	handle(http.MethodGet, v+"/transfer-targets", s.control(s.handleTransferTargets))
	type call func(Controller, context.Context, string, string) (api.CallControl, error)
	for _, op := range []struct {
		path string
		do   call
	}{
		{"hold", Controller.Hold},
		{"resume", Controller.Resume},
		{"consult/transfer", Controller.ConsultTransfer},
		{"consult/conference", Controller.Conference},
		{"consult/cancel", Controller.ConsultCancel},
	} {
		handle(http.MethodPost, v+"/calls/{id}/"+op.path, s.control(func(w http.ResponseWriter, r *http.Request, id identity) {
			cc, err := op.do(s.ctl, r.Context(), id.agent.WorkNumber, r.PathValue("id"))
			s.answerControl(w, cc, err)
		}))
	}
	type toTarget func(Controller, context.Context, string, string, api.Target) (api.CallControl, error)
	for _, op := range []struct {
		path string
		do   toTarget
	}{
		{"transfer", Controller.Transfer},
		{"consult", Controller.Consult},
	} {
		handle(http.MethodPost, v+"/calls/{id}/"+op.path, s.control(func(w http.ResponseWriter, r *http.Request, id identity) {
			var t api.Target
			if err := decodeJSON(w, r, &t); err != nil {
				writeError(w, http.StatusBadRequest, api.CodeBadRequest, err.Error())
				return
			}
			cc, err := op.do(s.ctl, r.Context(), id.agent.WorkNumber, r.PathValue("id"), t)
			s.answerControl(w, cc, err)
		}))
	}
	handle(http.MethodPost, v+"/calls/{id}/dtmf", s.control(func(w http.ResponseWriter, r *http.Request, id identity) {
		var d api.DTMF
		if err := decodeJSON(w, r, &d); err != nil {
			writeError(w, http.StatusBadRequest, api.CodeBadRequest, err.Error())
			return
		}
		if err := s.ctl.SendDTMF(r.Context(), id.agent.WorkNumber, r.PathValue("id"), d.Digits); err != nil {
			s.answerControl(w, api.CallControl{}, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	handle(http.MethodGet, v+"/calls/{id}/control", s.control(func(w http.ResponseWriter, r *http.Request, id identity) {
		cc, err := s.ctl.CallControl(r.Context(), id.agent.WorkNumber, r.PathValue("id"))
		s.answerControl(w, cc, err)
	}))
}

// control wraps an authenticated handler that needs the controller.
func (s *Server) control(h authedFunc) http.HandlerFunc {
	return s.authed(func(w http.ResponseWriter, r *http.Request, id identity) {
		if s.ctl == nil {
			writeError(w, http.StatusNotFound, api.CodeNotFound, noControlMessage)
			return
		}
		h(w, r, id)
	})
}

func (s *Server) answerControl(w http.ResponseWriter, cc api.CallControl, err error) {
	var rf refusal
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, cc)
	case errors.As(err, &rf) && rf.RefusalCode() == api.CodeBadRequest:
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, refusalMessage(err))
	case errors.As(err, &rf):
		writeError(w, http.StatusConflict, rf.RefusalCode(), refusalMessage(err))
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		writeError(w, http.StatusServiceUnavailable, api.CodeInternal, "call control: "+err.Error())
	default:
		writeInternal(w, err)
	}
}

// refusalMessage is the message a refusal carries for the agent.
func refusalMessage(err error) string {
	if m, ok := err.(interface{ RefusalMessage() string }); ok {
		return m.RefusalMessage()
	}
	return err.Error()
}

// handleTransferTargets lists the other agents (a green dot when online:
// registered, signed in, phone idle and free) and the skill groups.
func (s *Server) handleTransferTargets(w http.ResponseWriter, r *http.Request, id identity) {
	out := api.TransferTargets{Agents: []api.TransferAgent{}, Groups: s.ctl.TransferGroups()}
	st := s.adminStoreOf()
	if st == nil {
		writeJSON(w, http.StatusOK, out)
		return
	}
	agents, err := st.ListAgents(r.Context())
	if err != nil {
		writeInternal(w, err)
		return
	}
	for _, a := range agents {
		// Administrators configure the center; they take no calls.
		if a.Disabled || a.WorkNumber == id.agent.WorkNumber || a.Role == callcenter.RoleAdmin {
			continue
		}
		ta := api.TransferAgent{WorkNumber: a.WorkNumber, Name: a.Name, Status: "offline"}
		if s.center != nil && s.registeredFor(a.WorkNumber) {
			ta.Status, ta.Online = s.statusWord(s.center.Status(a.WorkNumber))
		}
		out.Agents = append(out.Agents, ta)
	}
	slices.SortFunc(out.Agents, func(a, b api.TransferAgent) int {
		if a.Online != b.Online {
			if a.Online {
				return -1
			}
			return 1
		}
		return strings.Compare(a.WorkNumber, b.WorkNumber)
	})
	writeJSON(w, http.StatusOK, out)
}

// statusWord is an agent's status in a word for the transfer dialog, and
// whether a transfer to it would be taken.
func (s *Server) statusWord(st callcenter.AgentStatus) (string, bool) {
	switch {
	case st.Presence == callcenter.PresenceOffline:
		return "offline", false
	case st.Activity == callcenter.ActivityRinging:
		return "ringing", false
	case st.Activity == callcenter.ActivityTalking:
		return "talking", false
	case st.Activity == callcenter.ActivityACW:
		return "acw", false
	case st.Presence == callcenter.PresenceCustom:
		for _, c := range s.center.CustomStatuses() {
			if c.Name == st.Custom {
				return c.Label, false
			}
		}
		return st.Custom, false
	case st.Available():
		return "idle", true
	}
	return "busy", false
}

// Control pushes a call's control state to an agent (api.EventControl);
// the center calls it (through the Forwarder) on every change.
func (s *Server) Control(agent string, cc api.CallControl) {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pushLocked(agent, mustEvent(api.EventControl, s.clock(), cc))
}

// Control passes a control change on to the server (center.ControlSink).
func (f *Forwarder) Control(agent string, cc api.CallControl) {
	if s := f.s.Load(); s != nil {
		s.Control(agent, cc)
	}
}
