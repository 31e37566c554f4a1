package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/admin"
	"github.com/agentphone/agentphone/callcenter/api"
)

// This file is the admin API (/v1/admin/..., see callcenter/api/admin.go):
// what `callcenterd admin` does, over HTTP, for agents whose role is admin.
// Validation is callcenter/admin's and the store's, so the command line and
// the API accept and refuse the same things.

// AdminStore is the persistence the admin API needs; callcenter/store's
// SQLite satisfies it. Errors follow the store's contract:
// callcenter.ErrNotFound, ErrExists and ErrInvalid, wrapped.
type AdminStore interface {
	AgentByWorkNumber(ctx context.Context, workNumber string) (callcenter.Agent, error)
	ListAgents(ctx context.Context) ([]callcenter.Agent, error)
	CreateAgent(ctx context.Context, a callcenter.Agent) (callcenter.Agent, error)
	SetAgentDisabled(ctx context.Context, workNumber string, disabled bool) error
	SetAgentPassword(ctx context.Context, workNumber, passwordHash, ha1MD5, ha1SHA256 string) error

	CreateNumber(ctx context.Context, n callcenter.Number) (callcenter.Number, error)
	NumberByE164(ctx context.Context, e164 string) (callcenter.Number, error)
	ListNumbers(ctx context.Context) ([]callcenter.Number, error)
	SetNumberDisabled(ctx context.Context, e164 string, disabled bool) error
	SetNumberRoute(ctx context.Context, e164, ivr, group, agent string) error

	CreateGroup(ctx context.Context, g callcenter.SkillGroup) (callcenter.SkillGroup, error)
	UpdateGroup(ctx context.Context, g callcenter.SkillGroup) error
	GroupByName(ctx context.Context, name string) (callcenter.SkillGroup, error)
	ListGroups(ctx context.Context) ([]callcenter.SkillGroup, error)
	SetMember(ctx context.Context, m callcenter.Member) error
	RemoveMember(ctx context.Context, group, agent string) error
	Members(ctx context.Context, group string) ([]callcenter.Member, error)

	PutIVRMenu(ctx context.Context, m callcenter.IVRMenu) (callcenter.IVRMenu, error)
	ListIVRMenus(ctx context.Context) ([]callcenter.IVRMenu, error)

	CreateCustomStatus(ctx context.Context, c callcenter.CustomStatus) (callcenter.CustomStatus, error)
	ListCustomStatuses(ctx context.Context) ([]callcenter.CustomStatus, error)
}

// AgentRenamer is the optional store method behind PATCH {"name": ...} of
// an agent. callcenter/store has no such method yet; without it a rename
// is answered 400 and nothing is changed.
type AgentRenamer interface {
	SetAgentName(ctx context.Context, workNumber, name string) error
}

// Reloader makes the live call center re-read groups, members, IVR menus,
// statuses and number routes; *center.Center is one.
type Reloader interface {
	Reload(ctx context.Context) error
}

// WithAdminStore enables the admin API on st. Without it the API uses the
// server's Store if that is an AdminStore too (the SQLite store is), and
// answers 404 otherwise.
func WithAdminStore(st AdminStore) Option { return func(s *Server) { s.adminStore = st } }

// WithReloader sets what the admin API calls after a change that affects
// routing. Without it the center (WithCenter) is used if it is a Reloader.
func WithReloader(r Reloader) Option { return func(s *Server) { s.reloader = r } }

// MaxAdminSeconds bounds every duration of the admin API (one day), so a
// huge number cannot wrap around into a plausible time.Duration.
const MaxAdminSeconds = 24 * 60 * 60

// reloadTimeout bounds the reload after a change.
const reloadTimeout = 10 * time.Second

func (s *Server) adminStoreOf() AdminStore {
	if s.adminStore != nil {
		return s.adminStore
	}
	st, _ := s.store.(AdminStore)
	return st
}

func (s *Server) reloaderOf() Reloader {
	if s.reloader != nil {
		return s.reloader
	}
	r, _ := s.center.(Reloader)
	return r
}

type adminFunc func(w http.ResponseWriter, r *http.Request, id identity, st AdminStore)

// admin wraps h with authentication and the admin role check.
func (s *Server) admin(h adminFunc) http.HandlerFunc {
	return s.authed(func(w http.ResponseWriter, r *http.Request, id identity) {
		st := s.adminStoreOf()
		if st == nil {
			writeError(w, http.StatusNotFound, api.CodeNotFound, "the admin API is not enabled on this server")
			return
		}
		if id.agent.Role != callcenter.RoleAdmin {
			writeError(w, http.StatusForbidden, api.CodeForbidden, "the admin API needs an account with the admin role")
			return
		}
		h(w, r, id, st)
	})
}

// adminRoutes registers /v1/admin/... on m. Several methods share a path,
// so the JSON 405 of the other methods lists all of them (routes' handle
// registers one method per path).
func (s *Server) adminRoutes(m *http.ServeMux) {
	type route struct {
		method string
		h      adminFunc
	}
	for _, p := range []struct {
		path   string
		routes []route
	}{
		{"/agents", []route{{http.MethodGet, s.handleAdminAgents}, {http.MethodPost, s.handleAdminAgentCreate}}},
		{"/agents/{wn}", []route{{http.MethodPatch, s.handleAdminAgentPatch}}},
		{"/numbers", []route{{http.MethodGet, s.handleAdminNumbers}, {http.MethodPost, s.handleAdminNumberCreate}}},
		{"/numbers/{e164}", []route{{http.MethodPatch, s.handleAdminNumberPatch}}},
		{"/groups", []route{{http.MethodGet, s.handleAdminGroups}, {http.MethodPost, s.handleAdminGroupCreate}}},
		{"/groups/{name}", []route{{http.MethodPatch, s.handleAdminGroupPatch}}},
		{"/groups/{name}/members", []route{{http.MethodGet, s.handleAdminMembers}}},
		{"/groups/{name}/members/{wn}", []route{{http.MethodPut, s.handleAdminMemberPut}, {http.MethodDelete, s.handleAdminMemberDelete}}},
		{"/ivr", []route{{http.MethodGet, s.handleAdminIVRMenus}}},
		{"/ivr/{name}", []route{{http.MethodPut, s.handleAdminIVRPut}}},
		{"/statuses", []route{{http.MethodGet, s.handleAdminStatuses}, {http.MethodPost, s.handleAdminStatusCreate}}},
	} {
		path := api.Version + "/admin" + p.path
		var allow []string
		for _, rt := range p.routes {
			m.HandleFunc(rt.method+" "+path, s.admin(rt.h))
			allow = append(allow, rt.method)
		}
		allowed := strings.Join(allow, ", ")
		m.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allowed)
			writeError(w, http.StatusMethodNotAllowed, api.CodeBadRequest, "method "+r.Method+" not allowed on "+path)
		})
	}
}

// writeAdminError answers an error of the store or of validation.
func writeAdminError(w http.ResponseWriter, what string, err error) {
	switch {
	case errors.Is(err, callcenter.ErrExists):
		writeError(w, http.StatusConflict, api.CodeExists, err.Error())
	case errors.Is(err, callcenter.ErrNotFound):
		writeError(w, http.StatusNotFound, api.CodeNotFound, err.Error())
	case errors.Is(err, callcenter.ErrInvalid):
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, err.Error())
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		writeError(w, http.StatusServiceUnavailable, api.CodeInternal, what+": "+err.Error())
	default:
		writeInternal(w, fmt.Errorf("%s: %w", what, err))
	}
}

func badRequest(w http.ResponseWriter, msg string) {
	writeError(w, http.StatusBadRequest, api.CodeBadRequest, msg)
}

// reload applies a committed change to the live call center. It reports
// false after answering 500 when that failed: the change is saved and
// applies at the next successful reload or restart, and the admin must
// know it is not live yet.
func (s *Server) reload(w http.ResponseWriter, r *http.Request) bool {
	rl := s.reloaderOf()
	if rl == nil {
		return true
	}
	// The change is committed: a client hanging up must not leave the
	// center on the old settings.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), reloadTimeout)
	defer cancel()
	if err := rl.Reload(ctx); err != nil {
		if sw, ok := w.(*statusWriter); ok {
			sw.err = fmt.Errorf("admin reload: %w", err)
		}
		writeError(w, http.StatusInternalServerError, api.CodeInternal,
			"the change is saved but the live call center could not apply it; it applies at the next change or restart")
		return false
	}
	return true
}

// ---- agents

func (s *Server) handleAdminAgents(w http.ResponseWriter, r *http.Request, _ identity, st AdminStore) {
	agents, err := st.ListAgents(r.Context())
	if err != nil {
		writeAdminError(w, "list agents", err)
		return
	}
	out := make([]api.Agent, 0, len(agents))
	for _, a := range agents {
		out = append(out, publicAgent(a))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleAdminAgentCreate(w http.ResponseWriter, r *http.Request, _ identity, st AdminStore) {
	var in api.NewAgent
	if err := decodeJSON(w, r, &in); err != nil {
		badRequest(w, err.Error())
		return
	}
	if in.Role == "" {
		in.Role = callcenter.RoleAgent.String()
	}
	role, err := callcenter.ParseRole(in.Role)
	if err != nil {
		badRequest(w, fmt.Sprintf("role: %v (want agent, supervisor or admin)", err))
		return
	}
	if err := firstError(callcenter.ValidateWorkNumber(in.WorkNumber), callcenter.ValidateName(in.Name),
		callcenter.ValidatePassword(in.Password)); err != nil {
		badRequest(w, err.Error())
		return
	}
	ctx := r.Context()
	// Refuse a taken work number before paying for scrypt; CreateAgent
	// still catches a race with another admin.
	if _, err := st.AgentByWorkNumber(ctx, in.WorkNumber); err == nil {
		writeAdminError(w, "create agent", fmt.Errorf("agent %q: %w", in.WorkNumber, callcenter.ErrExists))
		return
	} else if !errors.Is(err, callcenter.ErrNotFound) {
		writeAdminError(w, "create agent", err)
		return
	}
	hash, md5, sha, err := admin.Credentials(s.realm, in.WorkNumber, in.Password)
	if err != nil {
		writeAdminError(w, "create agent", err)
		return
	}
	a, err := st.CreateAgent(ctx, callcenter.Agent{WorkNumber: in.WorkNumber, Name: in.Name, Role: role,
		PasswordHash: hash, HA1MD5: md5, HA1SHA256: sha, CreatedAt: s.clock()})
	if err != nil {
		writeAdminError(w, "create agent", err)
		return
	}
	writeJSON(w, http.StatusCreated, publicAgent(a))
}

func (s *Server) handleAdminAgentPatch(w http.ResponseWriter, r *http.Request, id identity, st AdminStore) {
	wn := r.PathValue("wn")
	var in api.AgentPatch
	if err := decodeJSON(w, r, &in); err != nil {
		badRequest(w, err.Error())
		return
	}
	if in.Name == nil && in.Password == nil && in.Disabled == nil {
		badRequest(w, "nothing to change: give name, password or disabled")
		return
	}
	var renamer AgentRenamer
	if in.Name != nil {
		if err := callcenter.ValidateName(*in.Name); err != nil {
			badRequest(w, err.Error())
			return
		}
		var ok bool
		if renamer, ok = st.(AgentRenamer); !ok {
			badRequest(w, "this server cannot rename agents")
			return
		}
	}
	if in.Password != nil {
		if err := callcenter.ValidatePassword(*in.Password); err != nil {
			badRequest(w, err.Error())
			return
		}
	}
	if in.Disabled != nil && *in.Disabled && wn == id.agent.WorkNumber {
		// It would lock the admin out with no one left to undo it.
		badRequest(w, "you cannot disable your own account")
		return
	}
	ctx := r.Context()
	if _, err := st.AgentByWorkNumber(ctx, wn); err != nil {
		writeAdminError(w, "change agent", err)
		return
	}
	if in.Password != nil {
		hash, md5, sha, err := admin.Credentials(s.realm, wn, *in.Password)
		if err == nil {
			err = st.SetAgentPassword(ctx, wn, hash, md5, sha)
		}
		if err != nil {
			writeAdminError(w, "change password of agent "+wn, err)
			return
		}
	}
	if renamer != nil {
		if err := renamer.SetAgentName(ctx, wn, *in.Name); err != nil {
			writeAdminError(w, "rename agent "+wn, err)
			return
		}
	}
	if in.Disabled != nil {
		if err := st.SetAgentDisabled(ctx, wn, *in.Disabled); err != nil {
			writeAdminError(w, "disable agent "+wn, err)
			return
		}
		if *in.Disabled {
			if err := s.endSessions(ctx, wn); err != nil {
				writeAdminError(w, "end the sessions of agent "+wn, err)
				return
			}
		}
	}
	a, err := st.AgentByWorkNumber(ctx, wn)
	if err != nil {
		writeAdminError(w, "change agent", err)
		return
	}
	writeJSON(w, http.StatusOK, publicAgent(a))
}

// endSessions logs a disabled agent out everywhere: its token stops working
// anyway, but its event streams and its place in the queues would remain.
// Locked like a logout, so the center sees the agent's sessions change in
// order.
func (s *Server) endSessions(ctx context.Context, wn string) error {
	s.loginMu.Lock()
	defer s.loginMu.Unlock()
	revoked, err := s.store.RevokeSessions(ctx, wn, "")
	if err != nil {
		return err
	}
	if len(revoked) > 0 {
		s.hub.logout(tokenHashes(revoked))
		if s.center != nil {
			s.center.Logout(wn)
		}
	}
	return nil
}

// ---- numbers

func publicNumber(n callcenter.Number) api.Number {
	return api.Number{E164: n.E164, Name: n.Name, RouteIVR: n.RouteIVR, RouteGroup: n.RouteGroup,
		RouteAgent: n.RouteAgent, Disabled: n.Disabled}
}

func (s *Server) handleAdminNumbers(w http.ResponseWriter, r *http.Request, _ identity, st AdminStore) {
	numbers, err := st.ListNumbers(r.Context())
	if err != nil {
		writeAdminError(w, "list numbers", err)
		return
	}
	out := make([]api.Number, 0, len(numbers))
	for _, n := range numbers {
		out = append(out, publicNumber(n))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleAdminNumberCreate(w http.ResponseWriter, r *http.Request, _ identity, st AdminStore) {
	var in api.Number
	if err := decodeJSON(w, r, &in); err != nil {
		badRequest(w, err.Error())
		return
	}
	if err := firstError(callcenter.ValidateNumber(in.E164), callcenter.ValidateName(in.Name)); err != nil {
		badRequest(w, err.Error())
		return
	}
	n, err := st.CreateNumber(r.Context(), callcenter.Number{E164: in.E164, Name: in.Name, RouteIVR: in.RouteIVR,
		RouteGroup: in.RouteGroup, RouteAgent: in.RouteAgent, Disabled: in.Disabled})
	if err != nil {
		writeAdminError(w, "create number", err)
		return
	}
	if s.reload(w, r) {
		writeJSON(w, http.StatusCreated, publicNumber(n))
	}
}

func (s *Server) handleAdminNumberPatch(w http.ResponseWriter, r *http.Request, _ identity, st AdminStore) {
	e164 := r.PathValue("e164")
	var in api.NumberPatch
	if err := decodeJSON(w, r, &in); err != nil {
		badRequest(w, err.Error())
		return
	}
	route := in.RouteIVR != nil || in.RouteGroup != nil || in.RouteAgent != nil
	if !route && in.Disabled == nil {
		badRequest(w, "nothing to change: give route_ivr, route_group, route_agent or disabled")
		return
	}
	ctx := r.Context()
	if _, err := st.NumberByE164(ctx, e164); err != nil {
		writeAdminError(w, "change number", err)
		return
	}
	if route {
		if err := st.SetNumberRoute(ctx, e164, deref(in.RouteIVR), deref(in.RouteGroup), deref(in.RouteAgent)); err != nil {
			writeAdminError(w, "route number "+e164, err)
			return
		}
	}
	if in.Disabled != nil {
		if err := st.SetNumberDisabled(ctx, e164, *in.Disabled); err != nil {
			writeAdminError(w, "disable number "+e164, err)
			return
		}
	}
	n, err := st.NumberByE164(ctx, e164)
	if err != nil {
		writeAdminError(w, "change number", err)
		return
	}
	if s.reload(w, r) {
		writeJSON(w, http.StatusOK, publicNumber(n))
	}
}

// ---- groups and members

func publicGroup(g callcenter.SkillGroup) api.GroupSettings {
	acw := 0
	if g.ACW {
		acw = seconds(g.ACWDuration)
	}
	return api.GroupSettings{Name: g.Name, Label: g.Label, Strategy: g.Strategy.String(),
		RingTimeoutSec: seconds(g.RingTimeout), MaxWaitSec: seconds(g.MaxWait), Overflow: g.Overflow.String(),
		OverflowGroup: g.OverflowGroup, ACWSec: acw, TierWidenSec: seconds(g.TierWiden),
		AnnounceSec: seconds(g.AnnounceEvery), IVR: g.IVR}
}

func seconds(d time.Duration) int { return int(d / time.Second) }

// duration converts a seconds field of a request, refusing what no group
// setting can mean.
func duration(field string, sec *int) (*time.Duration, error) {
	if sec == nil {
		return nil, nil
	}
	if *sec < 0 || *sec > MaxAdminSeconds {
		return nil, fmt.Errorf("%w: %s: want 0 to %d seconds, got %d", callcenter.ErrInvalid, field, MaxAdminSeconds, *sec)
	}
	d := time.Duration(*sec) * time.Second
	return &d, nil
}

// groupChange converts the settings of a GroupPatch (all but the name).
func groupChange(in api.GroupPatch) (admin.GroupChange, error) {
	ch := admin.GroupChange{Label: in.Label, Strategy: in.Strategy, Overflow: in.Overflow,
		OverflowGroup: in.OverflowGroup, IVR: in.IVR}
	var errs [5]error
	ch.RingTimeout, errs[0] = duration("ring_timeout_sec", in.RingTimeoutSec)
	ch.MaxWait, errs[1] = duration("max_wait_sec", in.MaxWaitSec)
	ch.ACW, errs[2] = duration("acw_sec", in.ACWSec)
	ch.TierWiden, errs[3] = duration("tier_widen_sec", in.TierWidenSec)
	ch.Announce, errs[4] = duration("announce_sec", in.AnnounceSec)
	return ch, firstError(errs[:]...)
}

func (s *Server) handleAdminGroups(w http.ResponseWriter, r *http.Request, _ identity, st AdminStore) {
	groups, err := st.ListGroups(r.Context())
	if err != nil {
		writeAdminError(w, "list groups", err)
		return
	}
	out := make([]api.GroupSettings, 0, len(groups))
	for _, g := range groups {
		out = append(out, publicGroup(g))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleAdminGroupCreate(w http.ResponseWriter, r *http.Request, _ identity, st AdminStore) {
	var in api.GroupPatch
	if err := decodeJSON(w, r, &in); err != nil {
		badRequest(w, err.Error())
		return
	}
	if in.Name == nil || *in.Name == "" {
		badRequest(w, "name is required")
		return
	}
	ch, err := groupChange(in)
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	g, err := ch.Apply(admin.NewGroupDefaults(*in.Name))
	if err != nil {
		writeAdminError(w, "create group", err)
		return
	}
	if g, err = st.CreateGroup(r.Context(), g); err != nil {
		writeAdminError(w, "create group", err)
		return
	}
	if s.reload(w, r) {
		writeJSON(w, http.StatusCreated, publicGroup(g))
	}
}

func (s *Server) handleAdminGroupPatch(w http.ResponseWriter, r *http.Request, _ identity, st AdminStore) {
	name := r.PathValue("name")
	var in api.GroupPatch
	if err := decodeJSON(w, r, &in); err != nil {
		badRequest(w, err.Error())
		return
	}
	if in.Name != nil && *in.Name != name {
		badRequest(w, fmt.Sprintf("name %q differs from the group in the path %q: groups cannot be renamed", *in.Name, name))
		return
	}
	ch, err := groupChange(in)
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	if ch == (admin.GroupChange{}) {
		badRequest(w, "nothing to change")
		return
	}
	ctx := r.Context()
	cur, err := st.GroupByName(ctx, name)
	if err != nil {
		writeAdminError(w, "change group", err)
		return
	}
	g, err := ch.Apply(cur)
	if err != nil {
		writeAdminError(w, "change group", err)
		return
	}
	if err := st.UpdateGroup(ctx, g); err != nil {
		writeAdminError(w, "change group", err)
		return
	}
	if g, err = st.GroupByName(ctx, name); err != nil {
		writeAdminError(w, "change group", err)
		return
	}
	if s.reload(w, r) {
		writeJSON(w, http.StatusOK, publicGroup(g))
	}
}

// agentNames maps work numbers to names, for member lists.
func agentNames(ctx context.Context, st AdminStore) (map[string]string, error) {
	agents, err := st.ListAgents(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(agents))
	for _, a := range agents {
		out[a.WorkNumber] = a.Name
	}
	return out, nil
}

func (s *Server) handleAdminMembers(w http.ResponseWriter, r *http.Request, _ identity, st AdminStore) {
	ctx := r.Context()
	members, err := st.Members(ctx, r.PathValue("name"))
	if err != nil {
		writeAdminError(w, "list members", err)
		return
	}
	names, err := agentNames(ctx, st)
	if err != nil {
		writeAdminError(w, "list members", err)
		return
	}
	out := make([]api.Member, 0, len(members))
	for _, m := range members {
		out = append(out, api.Member{WorkNumber: m.Agent, Name: names[m.Agent], Level: m.Level})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleAdminMemberPut(w http.ResponseWriter, r *http.Request, _ identity, st AdminStore) {
	var in api.MemberLevel
	// An empty body is the default level; "{}" is too.
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &in); err != nil {
			badRequest(w, err.Error())
			return
		}
	}
	level := 1
	if in.Level != nil {
		level = *in.Level
	}
	m := callcenter.Member{Group: r.PathValue("name"), Agent: r.PathValue("wn"), Level: level}
	ctx := r.Context()
	if err := st.SetMember(ctx, m); err != nil {
		writeAdminError(w, "set member", err)
		return
	}
	a, err := st.AgentByWorkNumber(ctx, m.Agent)
	if err != nil {
		writeAdminError(w, "set member", err)
		return
	}
	if s.reload(w, r) {
		writeJSON(w, http.StatusOK, api.Member{WorkNumber: m.Agent, Name: a.Name, Level: m.Level})
	}
}

func (s *Server) handleAdminMemberDelete(w http.ResponseWriter, r *http.Request, _ identity, st AdminStore) {
	if err := st.RemoveMember(r.Context(), r.PathValue("name"), r.PathValue("wn")); err != nil {
		writeAdminError(w, "remove member", err)
		return
	}
	if s.reload(w, r) {
		w.WriteHeader(http.StatusNoContent)
	}
}

// ---- IVR menus

func publicIVRMenu(m callcenter.IVRMenu) api.IVRMenu {
	return api.IVRMenu{Name: m.Name, Prompt: m.Prompt, TimeoutSec: seconds(m.Timeout), MaxTries: m.MaxTries,
		Choices: admin.FormatChoices(m.Choices), OnFail: admin.FormatAction(m.OnFail)}
}

// ivrMenu converts a PUT body, with the command line's defaults.
func ivrMenu(name string, in api.IVRMenuPut) (callcenter.IVRMenu, error) {
	m := callcenter.IVRMenu{Name: name, Prompt: in.Prompt, Timeout: admin.DefaultIVRTimeout,
		MaxTries: admin.DefaultIVRTries, OnFail: callcenter.IVRAction{Kind: callcenter.IVRHangup}}
	if in.Prompt == "" {
		return m, fmt.Errorf("%w: prompt is required", callcenter.ErrInvalid)
	}
	if in.TimeoutSec != nil {
		d, err := duration("timeout_sec", in.TimeoutSec)
		if err != nil {
			return m, err
		}
		m.Timeout = *d
	}
	if in.MaxTries != nil {
		m.MaxTries = *in.MaxTries // below 1: the store says why
	}
	var err error
	if m.Choices, err = admin.ParseChoices(in.Choices); err != nil {
		return m, err
	}
	if in.OnFail != nil {
		if m.OnFail, err = admin.ParseAction(*in.OnFail); err != nil {
			return m, fmt.Errorf("on_fail: %w", err)
		}
	}
	return m, nil
}

func (s *Server) handleAdminIVRMenus(w http.ResponseWriter, r *http.Request, _ identity, st AdminStore) {
	menus, err := st.ListIVRMenus(r.Context())
	if err != nil {
		writeAdminError(w, "list IVR menus", err)
		return
	}
	out := make([]api.IVRMenu, 0, len(menus))
	for _, m := range menus {
		out = append(out, publicIVRMenu(m))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleAdminIVRPut(w http.ResponseWriter, r *http.Request, _ identity, st AdminStore) {
	var in api.IVRMenuPut
	if err := decodeJSON(w, r, &in); err != nil {
		badRequest(w, err.Error())
		return
	}
	m, err := ivrMenu(r.PathValue("name"), in)
	if err != nil {
		writeAdminError(w, "set IVR menu", err)
		return
	}
	if m, err = st.PutIVRMenu(r.Context(), m); err != nil {
		writeAdminError(w, "set IVR menu", err)
		return
	}
	if s.reload(w, r) {
		writeJSON(w, http.StatusOK, publicIVRMenu(m))
	}
}

// ---- custom statuses

func (s *Server) handleAdminStatuses(w http.ResponseWriter, r *http.Request, _ identity, st AdminStore) {
	list, err := st.ListCustomStatuses(r.Context())
	if err != nil {
		writeAdminError(w, "list statuses", err)
		return
	}
	out := make([]api.CustomStatus, 0, len(list))
	for _, c := range list {
		out = append(out, api.CustomStatus{Name: c.Name, Label: c.Label})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleAdminStatusCreate(w http.ResponseWriter, r *http.Request, _ identity, st AdminStore) {
	var in api.CustomStatus
	if err := decodeJSON(w, r, &in); err != nil {
		badRequest(w, err.Error())
		return
	}
	if in.Label == "" {
		badRequest(w, "label is required")
		return
	}
	c, err := st.CreateCustomStatus(r.Context(), callcenter.CustomStatus{Name: in.Name, Label: in.Label})
	if err != nil {
		writeAdminError(w, "create status", err)
		return
	}
	if s.reload(w, r) {
		writeJSON(w, http.StatusCreated, api.CustomStatus{Name: c.Name, Label: c.Label})
	}
}

// ---- helpers

func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
