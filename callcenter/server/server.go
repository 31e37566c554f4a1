// Package server is callcenterd's HTTP+WebSocket API (version /v1): login and
// sessions, the agent's own view, call records, and the event stream that
// pushes call and registration changes to the softphone.
//
// The server keeps no durable state of its own: accounts, sessions and call
// records live in a Store; live calls and registrations are what sipedge
// reports through PublishCall and SetRegistered.
package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/api"
	"github.com/agentphone/agentphone/callcenter/crm"
)

// Store is what the server needs from persistence. callcenter/store's SQLite
// store satisfies it; it is declared here, at the consumer, so that tests
// and other engines only need these methods.
type Store interface {
	// AgentByWorkNumber returns callcenter.ErrNotFound for an unknown agent.
	AgentByWorkNumber(ctx context.Context, workNumber string) (callcenter.Agent, error)
	CreateSession(ctx context.Context, s callcenter.Session) error
	// SessionByToken returns callcenter.ErrNotFound if absent or revoked.
	SessionByToken(ctx context.Context, tokenHash string) (callcenter.Session, error)
	// RevokeSessions revokes the agent's live sessions other than except
	// (a token hash; "" revokes all) and returns the ones it revoked.
	RevokeSessions(ctx context.Context, workNumber string, except string) ([]callcenter.Session, error)
	CallRecords(ctx context.Context, f callcenter.RecordFilter) ([]callcenter.CallRecord, error)
	// Offers returns the agent's queue offers made at or after since (zero:
	// no bound), newest first, at most limit (0: no limit); only the ones
	// not answered (missed calls) when missedOnly.
	Offers(ctx context.Context, agent string, since time.Time, missedOnly bool, limit int) ([]callcenter.Offer, error)
}

// Defaults; each has an option.
const (
	DefaultRealm        = "agentphone"
	DefaultSIPExpires   = 600
	DefaultPingInterval = 20 * time.Second
	DefaultEventBuffer  = 64
)

// Sizes of secrets handed out at login (bytes of randomness as NewSecret takes them).
const (
	tokenBytes     = 32
	sipSecretBytes = 18
)

// maxBody bounds every JSON request body.
const maxBody = 64 << 10

// Server serves the /v1 API. Create it with New, mount Handler, and call
// Close on shutdown to end the event streams.
type Server struct {
	store        Store
	log          *slog.Logger
	realm        string
	registrar    string
	sipExpires   int
	clock        func() time.Time
	presence     func(workNumber string) bool
	pingInterval time.Duration
	eventBuffer  int
	dummyHash    func() string
	loginMu      sync.Mutex // see startSession
	center       Center     // nil: no inbound call center
	adminStore   AdminStore // nil: the store, if it is one; see WithAdminStore
	reloader     Reloader   // nil: the center, if it is one; see WithReloader
	ctl          Controller // nil: no call control; see WithController

	crm *crm.Service // nil: no notes, callbacks, customers; see WithCRM

	labelMu sync.Mutex
	labels  map[string]string // group labels; see groupLabel

	hub *hub
	mux *http.ServeMux
}

// Option configures a Server.
type Option func(*Server)

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithRealm sets the SIP digest realm used for the per-login SIP secret; it
// must be the registrar's realm.
func WithRealm(realm string) Option { return func(s *Server) { s.realm = realm } }

// WithSIPRegistrar sets the host:port the softphone registers to.
func WithSIPRegistrar(hostport string) Option { return func(s *Server) { s.registrar = hostport } }

// WithSIPExpires sets the registration interval (seconds) told to clients.
func WithSIPExpires(sec int) Option { return func(s *Server) { s.sipExpires = sec } }

// WithClock injects the clock (tests).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.clock = now } }

// WithPresence tells the server whether an agent's SIP registration is live,
// for snapshots of agents it has not seen a SetRegistered for; sipedge
// provides it. It is called without the server's locks held.
func WithPresence(f func(workNumber string) bool) Option { return func(s *Server) { s.presence = f } }

// WithPingInterval sets how often idle event streams are pinged; a peer that
// does not answer within the interval is dropped.
func WithPingInterval(d time.Duration) Option { return func(s *Server) { s.pingInterval = d } }

// WithEventBuffer sets how many events may wait for one slow WebSocket
// before it is disconnected (it then reconnects and gets a snapshot).
func WithEventBuffer(n int) Option { return func(s *Server) { s.eventBuffer = n } }

// New returns a server on st.
func New(st Store, opts ...Option) *Server {
	s := &Server{
		store:        st,
		log:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		realm:        DefaultRealm,
		sipExpires:   DefaultSIPExpires,
		clock:        time.Now,
		pingInterval: DefaultPingInterval,
		eventBuffer:  DefaultEventBuffer,
		labels:       make(map[string]string),
	}
	for _, o := range opts {
		o(s)
	}
	if s.eventBuffer < 1 {
		s.eventBuffer = 1
	}
	// The dummy hash makes an unknown user cost one password check, like a
	// known one; it is made on first need so New stays cheap.
	s.dummyHash = sync.OnceValue(func() string {
		h, err := callcenter.HashPassword(callcenter.NewSecret(16))
		if err != nil {
			s.log.Error("dummy password hash", "err", err)
		}
		return h
	})
	s.hub = newHub()
	s.mux = s.routes()
	return s
}

// Handler returns the API's http.Handler, logging each request once.
func (s *Server) Handler() http.Handler { return s.logRequests(s.mux) }

// Close ends every event stream and waits for their goroutines. Other
// requests are not affected; shut the http.Server down for those.
func (s *Server) Close() error {
	s.hub.close()
	return nil
}

func (s *Server) routes() *http.ServeMux {
	m := http.NewServeMux()
	// allowed lists each path's methods; it is complete before the first
	// request, and only read afterwards.
	allowed := map[string][]string{}
	handle := func(method, path string, h http.HandlerFunc) {
		m.HandleFunc(method+" "+path, h)
		if _, seen := allowed[path]; !seen {
			// Same path, other method: a JSON 405 rather than ServeMux's text.
			m.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Allow", strings.Join(allowed[path], ", "))
				writeError(w, http.StatusMethodNotAllowed, api.CodeBadRequest, "method "+r.Method+" not allowed on "+path)
			})
		}
		allowed[path] = append(allowed[path], method)
	}
	handle(http.MethodGet, "/healthz", s.handleHealth)
	handle(http.MethodPost, api.Version+"/login", s.handleLogin)
	handle(http.MethodPost, api.Version+"/logout", s.authed(s.handleLogout))
	handle(http.MethodGet, api.Version+"/me", s.authed(s.handleMe))
	handle(http.MethodGet, api.Version+"/calls", s.authed(s.handleCalls))
	handle(http.MethodGet, api.Version+"/events", s.handleEvents)
	handle(http.MethodGet, api.Version+"/history", s.authed(s.handleHistory))
	handle(http.MethodGet, api.Version+"/me/status", s.inbound(s.handleGetStatus))
	handle(http.MethodPut, api.Version+"/me/status", s.inbound(s.handleStatus))
	handle(http.MethodPost, api.Version+"/me/acw/finish", s.inbound(s.handleACWFinish))
	handle(http.MethodPost, api.Version+"/me/acw/extend", s.inbound(s.handleACWExtend))
	handle(http.MethodGet, api.Version+"/me/groups", s.inbound(s.handleGroups))
	handle(http.MethodGet, api.Version+"/statuses", s.inbound(s.handleStatuses))
	s.adminRoutes(m)
	s.controlRoutes(handle)
	s.crmRoutes(handle)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, api.CodeNotFound, "no such endpoint: "+r.URL.Path)
	})
	return m
}

func (s *Server) handleHealth(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
