package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/api"
)

// identity is who an authenticated request comes from.
type identity struct {
	session callcenter.Session
	agent   callcenter.Agent
}

type authedFunc func(w http.ResponseWriter, r *http.Request, id identity)

// errNoToken and errBadToken both answer 401 "unauthorized"; they differ only
// in the message, which never reveals whether a token existed.
var (
	errNoToken  = errors.New("missing bearer token")
	errBadToken = errors.New("invalid or expired token")
)

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	const prefix = "bearer "
	if len(h) > len(prefix) && strings.EqualFold(h[:len(prefix)], prefix) {
		return strings.TrimSpace(h[len(prefix):])
	}
	return ""
}

// authenticate resolves token to its live session and agent. A disabled
// agent's session no longer authenticates (callcenter.ErrDisabled).
func (s *Server) authenticate(ctx context.Context, token string) (identity, error) {
	if token == "" {
		return identity{}, errNoToken
	}
	sess, err := s.store.SessionByToken(ctx, callcenter.HashToken(token))
	if errors.Is(err, callcenter.ErrNotFound) {
		return identity{}, errBadToken
	}
	if err != nil {
		return identity{}, fmt.Errorf("session: %w", err)
	}
	ag, err := s.store.AgentByWorkNumber(ctx, sess.WorkNumber)
	if errors.Is(err, callcenter.ErrNotFound) {
		return identity{}, errBadToken
	}
	if err != nil {
		return identity{}, fmt.Errorf("agent %s: %w", sess.WorkNumber, err)
	}
	if ag.Disabled {
		return identity{}, callcenter.ErrDisabled
	}
	return identity{session: sess, agent: ag}, nil
}

// writeAuthError answers a failed authenticate.
func writeAuthError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, errNoToken), errors.Is(err, errBadToken):
		w.Header().Set("WWW-Authenticate", `Bearer realm="agentphone"`)
		writeError(w, http.StatusUnauthorized, api.CodeUnauthorized, err.Error())
	case errors.Is(err, callcenter.ErrDisabled):
		writeError(w, http.StatusForbidden, api.CodeDisabled, "account disabled")
	default:
		writeInternal(w, err)
	}
}

// authed wraps h with bearer-token authentication.
func (s *Server) authed(h authedFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := s.authenticate(r.Context(), bearer(r))
		if err != nil {
			writeAuthError(w, err)
			return
		}
		h(w, r, id)
	}
}

const badCredentialsMessage = "wrong work number or password"

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req api.LoginRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, err.Error())
		return
	}
	switch {
	case req.WorkNumber == "":
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, "work_number is required")
		return
	case req.Password == "":
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, "password is required")
		return
	}
	// Made before the lookup, so that the first login after start-up costs
	// the same whether or not the user exists.
	dummy := s.dummyHash()
	ctx := r.Context()
	ag, err := s.store.AgentByWorkNumber(ctx, req.WorkNumber)
	switch {
	case errors.Is(err, callcenter.ErrNotFound):
		// Spend the same work as for a real agent so that response time
		// does not tell which work numbers exist.
		callcenter.CheckPassword(dummy, req.Password)
		writeError(w, http.StatusUnauthorized, api.CodeBadCredentials, badCredentialsMessage)
		return
	case err != nil:
		writeInternal(w, fmt.Errorf("login %s: %w", req.WorkNumber, err))
		return
	}
	// Password first, then disabled: a disabled account is only revealed to
	// someone who knows its password.
	if !callcenter.CheckPassword(ag.PasswordHash, req.Password) {
		writeError(w, http.StatusUnauthorized, api.CodeBadCredentials, badCredentialsMessage)
		return
	}
	if ag.Disabled {
		writeError(w, http.StatusForbidden, api.CodeDisabled, "account disabled")
		return
	}

	token := callcenter.NewSecret(tokenBytes)
	sipSecret := callcenter.NewSecret(sipSecretBytes)
	sess := callcenter.Session{
		TokenHash:    callcenter.HashToken(token),
		WorkNumber:   ag.WorkNumber,
		Device:       req.Device,
		SIPHA1MD5:    callcenter.DigestHA1("MD5", ag.WorkNumber, s.realm, sipSecret),
		SIPHA1SHA256: callcenter.DigestHA1("SHA-256", ag.WorkNumber, s.realm, sipSecret),
		CreatedAt:    s.clock(),
	}
	if err := s.startSession(ctx, sess); err != nil {
		writeInternal(w, fmt.Errorf("login %s: %w", ag.WorkNumber, err))
		return
	}
	if s.crm != nil {
		// A note box is the old session's UI state: a softphone that
		// crashed with one open must not block every note of the new one.
		s.crm.CloseBoxes(ag.WorkNumber)
	}
	writeJSON(w, http.StatusOK, api.LoginResponse{
		Token: token,
		Agent: publicAgent(ag),
		SIP: api.SIPCredentials{
			Username:  ag.WorkNumber,
			Password:  sipSecret,
			Realm:     s.realm,
			Registrar: s.registrar,
			Transport: "udp",
			Expires:   s.sipExpires,
		},
	})
}

// takeoverReason is what a replaced device is told.
const takeoverReason = "logged in on another device"

// startSession stores sess and revokes the agent's other sessions: one
// device per agent, the newest login wins, and the replaced devices are
// told. Logins are serialised here so that two at once cannot revoke each
// other and leave the agent with none, and so that the center sees the
// logouts and logins of one agent in the order the sessions changed.
func (s *Server) startSession(ctx context.Context, sess callcenter.Session) error {
	s.loginMu.Lock()
	defer s.loginMu.Unlock()
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	old, err := s.store.RevokeSessions(ctx, sess.WorkNumber, sess.TokenHash)
	if err != nil {
		return fmt.Errorf("revoke older sessions: %w", err)
	}
	if len(old) > 0 {
		to := api.Takeover{Device: sess.Device, Reason: takeoverReason}
		var notice *api.Notice
		if s.center != nil {
			notice = &api.Notice{Code: NoticeTakeover, Message: "Your session was taken over: " + takeoverReason + "."}
		}
		// Old streams end before the center speaks, so that they do not get
		// the status of the new login.
		s.hub.takeover(tokenHashes(old), notice, to, s.clock())
	}
	if s.center != nil {
		if len(old) > 0 {
			// The new device starts from a fresh login (phone busy), not
			// from whatever the replaced device left.
			s.center.Logout(sess.WorkNumber)
		}
		s.center.Login(sess.WorkNumber)
	}
	return nil
}

func tokenHashes(ss []callcenter.Session) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.TokenHash
	}
	return out
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request, id identity) {
	// The store revokes per agent; with one live session per agent (login
	// revokes the others) that is exactly this session.
	s.loginMu.Lock()
	revoked, err := s.store.RevokeSessions(r.Context(), id.agent.WorkNumber, "")
	if err == nil {
		s.hub.logout(append(tokenHashes(revoked), id.session.TokenHash))
		if s.center != nil {
			s.center.Logout(id.agent.WorkNumber)
		}
	}
	s.loginMu.Unlock()
	if err != nil {
		writeInternal(w, fmt.Errorf("logout %s: %w", id.agent.WorkNumber, err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request, id identity) {
	reg := s.registeredFor(id.agent.WorkNumber)
	writeJSON(w, http.StatusOK, api.Me{Agent: publicAgent(id.agent), Registered: reg})
}

func publicAgent(a callcenter.Agent) api.Agent {
	return api.Agent{WorkNumber: a.WorkNumber, Name: a.Name, Role: a.Role.String(), Disabled: a.Disabled}
}
