// Package sipedge is the call-center server's SIP edge: a registrar with
// digest authentication for agents' phones, and a B2BUA that anchors every
// call on the server. Each call has a caller leg and a callee leg (separate
// dialogs); when the callee answers, both legs join one media.Room so the
// server can mix, record and transcode (Opus toward agents, G.711 toward the
// carrier).
//
// The edge runs on diago/sipgo. One UDP socket (and a TCP listener on the
// same port when it is free) carries all signalling; trunk (carrier) legs and
// agent legs differ only in the codecs offered, which is set per dialog.
//
// Choices:
//   - Digest: challenges for SHA-256 then MD5 with one stateless HMAC nonce
//     (60 s; an expired one is answered stale=true). Valid HA1s are the
//     password's and each live login's SIP secret. Unknown, disabled and
//     wrong-password users get the same 401; after 3 failures from one
//     (user, source IP) within a minute the answer becomes 403 until the
//     minute has passed. Clients that reject the whole 401 when they see
//     an algorithm they do not know (baresip 1.0.0, whatever the order) can
//     be challenged with MD5 alone by User-Agent (WithMD5OnlyFor).
//   - INVITEs from agents are accepted from the exact address the agent
//     registered from, or with valid Proxy-Authorization (407 otherwise).
//     INVITEs from the trunk address (ip:port exactly) are trusted.
//   - Registration: one binding per agent (a new device takes over), sent
//     to the REGISTER's source address (NAT); expiry clamped, not refused
//     with 423.
//   - A call ended by the caller before our ACK arrived still counts as
//     answered once our 200 OK went out.
package sipedge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/emiago/diago"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Directory is where the edge looks up agents, their live logins and the
// center's numbers. The SQLite store satisfies it.
type Directory interface {
	AgentByWorkNumber(ctx context.Context, workNumber string) (callcenter.Agent, error)
	// LiveSessions returns the agent's unrevoked logins; each carries the
	// HA1s of its per-login SIP secret.
	LiveSessions(ctx context.Context, workNumber string) ([]callcenter.Session, error)
	NumberByE164(ctx context.Context, e164 string) (callcenter.Number, error)
}

// NumberLister is optionally implemented by a Directory: the edge then picks
// the first enabled center number as caller ID for calls over the trunk
// (unless WithCallerID sets one).
type NumberLister interface {
	ListNumbers(ctx context.Context) ([]callcenter.Number, error)
}

// Records receives call records; exactly one record per call id.
type Records interface {
	// BeginCallRecord is called when the call is answered.
	BeginCallRecord(ctx context.Context, r callcenter.CallRecord) error
	// EndCallRecord is called when the call ends (inserting the record when
	// it was never answered).
	EndCallRecord(ctx context.Context, r callcenter.CallRecord) error
}

// Option configures an Edge.
type Option func(*Edge)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(e *Edge) { e.log = l } }

// WithRealm sets the digest realm; it must match the realm the agents' HA1s
// were computed in. Default "agentphone".
func WithRealm(realm string) Option { return func(e *Edge) { e.realm = realm } }

// WithDigestAlgorithms sets the digest algorithms challenged with, in order
// of preference ("SHA-256", "MD5"; default both, SHA-256 first as RFC 8760
// asks). Only these are accepted. Some old clients answer only the first
// challenge and give up when it is not MD5 (sipp 3.6 does): a deployment
// with such phones lists "MD5" first.
func WithDigestAlgorithms(algs ...string) Option {
	return func(e *Edge) { e.digestAlgs = algs }
}

// WithMD5OnlyFor challenges requests whose User-Agent starts with one of
// prefixes (case-insensitive) with MD5 alone. Some clients give up on the
// whole 401 when any challenge names an algorithm they do not know, wherever
// it stands in the list: baresip 1.0.0 (libre's sip_auth answers ENOSYS,
// "Function not implemented") does. MD5 must be among the accepted
// algorithms, so this lowers nothing: any client could already answer the
// MD5 challenge. Default: none.
func WithMD5OnlyFor(userAgentPrefixes ...string) Option {
	return func(e *Edge) { e.md5OnlyUAs = slices.Clone(userAgentPrefixes) }
}

// WithListen sets the UDP host:port to listen on (default 127.0.0.1:0). A TCP
// listener is opened on the same port when it is free.
func WithListen(addr string) Option { return func(e *Edge) { e.listen = addr } }

// WithTrunk sets the carrier's host:port. INVITEs from exactly that source
// address are trusted as trunk calls (no digest), and calls to outside
// numbers go there.
func WithTrunk(hostport string) Option { return func(e *Edge) { e.trunk = hostport } }

// WithCallerID sets the center number presented on calls over the trunk,
// overriding the first enabled number from the Directory.
func WithCallerID(e164 string) Option { return func(e *Edge) { e.callerID = e164 } }

// WithClock injects the time source for records, events and expiries.
func WithClock(now func() time.Time) Option { return func(e *Edge) { e.now = now } }

// WithCallObserver is told about ringing, talking and ended calls. It is
// called from the call's goroutine and must not block.
func WithCallObserver(f func(callcenter.CallEvent)) Option { return func(e *Edge) { e.onCall = f } }

// WithRegistrationObserver is told when an agent's binding appears, moves to
// another contact, or goes away. It must not block.
func WithRegistrationObserver(f func(workNumber string, registered bool, contact string)) Option {
	return func(e *Edge) { e.onReg = f }
}

// WithExpires bounds registration lifetimes: requested expiries are clamped
// into [min, max]. Default [60s, 3600s].
func WithExpires(min, max time.Duration) Option {
	return func(e *Edge) { e.minExpires, e.maxExpires = min, max }
}

// WithRingTimeout sets how long a callee may ring before the call is given up
// with 480 and recorded as no_answer. Default 30s.
func WithRingTimeout(d time.Duration) Option { return func(e *Edge) { e.ringTimeout = d } }

// Edge is the SIP registrar and B2BUA. Create with New, then Start.
type Edge struct {
	dir Directory
	rec Records
	log *slog.Logger

	realm       string
	digestAlgs  []string
	md5OnlyUAs  []string // lower case User-Agent prefixes
	listen      string
	trunk       string
	trunkAddr   string // resolved ip:port of the carrier
	callerID    string
	now         func() time.Time
	onCall      func(callcenter.CallEvent)
	onReg       func(string, bool, string)
	onActivity  func(AgentActivity)
	inbound     InboundHandler
	outbound    OutboundHandler
	minExpires  time.Duration
	maxExpires  time.Duration
	ringTimeout time.Duration

	auth *authenticator

	// Set by Start.
	host    string // IP put in URIs we build
	addr    string
	ua      *sipgo.UserAgent
	dg      *diago.Diago
	udp     net.PacketConn
	tcp     net.Listener
	ctx     context.Context
	cancel  context.CancelFunc
	serving sync.WaitGroup // listeners and the purge loop

	mu       sync.Mutex
	started  bool
	closed   bool
	draining bool           // Close has hung up every call; new requests are dropped
	inflight sync.WaitGroup // SIP requests being handled (enterRequest)
	bindings map[string]*binding
	calls    map[string]*call
	handlers sync.WaitGroup // live INVITE handlers
}

// New checks the options and returns an Edge that is not listening yet.
func New(dir Directory, rec Records, opts ...Option) (*Edge, error) {
	if dir == nil || rec == nil {
		return nil, fmt.Errorf("%w: directory and records are required", ErrConfig)
	}
	e := &Edge{
		dir:         dir,
		rec:         rec,
		log:         slog.New(slog.DiscardHandler),
		realm:       "agentphone",
		digestAlgs:  []string{algSHA256, algMD5},
		listen:      "127.0.0.1:0",
		now:         time.Now,
		minExpires:  60 * time.Second,
		maxExpires:  3600 * time.Second,
		ringTimeout: 30 * time.Second,
		bindings:    make(map[string]*binding),
		calls:       make(map[string]*call),
	}
	for _, o := range opts {
		o(e)
	}
	if e.log == nil || e.now == nil {
		return nil, fmt.Errorf("%w: nil logger or clock", ErrConfig)
	}
	if e.realm == "" {
		return nil, fmt.Errorf("%w: empty realm", ErrConfig)
	}
	if len(e.digestAlgs) == 0 {
		return nil, fmt.Errorf("%w: no digest algorithms", ErrConfig)
	}
	for i, a := range e.digestAlgs {
		a = strings.ToUpper(a)
		if a != algSHA256 && a != algMD5 {
			return nil, fmt.Errorf("%w: digest algorithm %q", ErrConfig, a)
		}
		e.digestAlgs[i] = a
	}
	for i, p := range e.md5OnlyUAs {
		if p == "" {
			return nil, fmt.Errorf("%w: empty User-Agent prefix for MD5-only challenges", ErrConfig)
		}
		e.md5OnlyUAs[i] = strings.ToLower(p)
	}
	if len(e.md5OnlyUAs) > 0 && !slices.Contains(e.digestAlgs, algMD5) {
		return nil, fmt.Errorf("%w: MD5-only challenges for %v but MD5 is not accepted", ErrConfig, e.md5OnlyUAs)
	}
	if e.minExpires <= 0 || e.maxExpires < e.minExpires {
		return nil, fmt.Errorf("%w: expires bounds [%v, %v]", ErrConfig, e.minExpires, e.maxExpires)
	}
	if e.ringTimeout <= 0 {
		return nil, fmt.Errorf("%w: ring timeout %v", ErrConfig, e.ringTimeout)
	}
	if _, _, err := net.SplitHostPort(e.listen); err != nil {
		return nil, fmt.Errorf("%w: listen %q: %v", ErrConfig, e.listen, err)
	}
	if e.trunk != "" {
		ua, err := net.ResolveUDPAddr("udp", e.trunk)
		if err != nil {
			return nil, fmt.Errorf("%w: trunk %q: %v", ErrConfig, e.trunk, err)
		}
		e.trunkAddr = ua.String()
	}
	a, err := newAuthenticator(e.realm, e.digestAlgs, e.now)
	if err != nil {
		return nil, fmt.Errorf("sipedge: nonce key: %w", err)
	}
	e.auth = a
	return e, nil
}

// Start opens the listeners and serves until Close (or until ctx is done).
// It returns once the edge is listening.
func (e *Edge) Start(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	if e.started {
		return ErrStarted
	}

	laddr, err := net.ResolveUDPAddr("udp", e.listen)
	if err != nil {
		return fmt.Errorf("sipedge: resolve %s: %w", e.listen, err)
	}
	udp, err := net.ListenUDP("udp", laddr)
	if err != nil {
		return fmt.Errorf("sipedge: listen udp %s: %w", e.listen, err)
	}
	local := udp.LocalAddr().(*net.UDPAddr)
	host := local.IP
	if host.IsUnspecified() {
		// URIs and SDP need an address peers can reach.
		ip, _, err := sip.ResolveInterfacesIP("ip4", nil)
		if err != nil {
			udp.Close()
			return fmt.Errorf("sipedge: resolve interface address: %w", err)
		}
		host = ip
	}
	e.host = host.String()
	e.addr = net.JoinHostPort(e.host, strconv.Itoa(local.Port))

	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent("callcenterd"),
		sipgo.WithUserAgentHostname(e.host),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(e.log)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(e.log)),
	)
	if err != nil {
		udp.Close()
		return fmt.Errorf("sipedge: user agent: %w", err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(e.log))
	if err != nil {
		udp.Close()
		ua.Close()
		return fmt.Errorf("sipedge: server: %w", err)
	}
	bindHost := local.IP.String()
	opts := []diago.DiagoOption{
		diago.WithServer(srv),
		diago.WithLogger(e.log),
		diago.WithMediaConfig(diago.MediaConfig{Codecs: agentCodecs()}),
		diago.WithServerRequestMiddleware(e.validate),
		diago.WithTransport(diago.Transport{
			Transport: "udp", BindHost: bindHost, BindPort: local.Port,
			ExternalHost: e.host, ExternalPort: local.Port,
			// Send in-dialog requests to where the phone really is (NAT).
			RewriteContact: true,
		}),
	}
	// TCP on the same port, when free: cheap and lets large messages through.
	tcp, err := net.Listen("tcp", net.JoinHostPort(bindHost, strconv.Itoa(local.Port)))
	if err != nil {
		e.log.Info("sip: no TCP listener on the UDP port", "port", local.Port, "error", err)
		tcp = nil
	} else {
		opts = append(opts, diago.WithTransport(diago.Transport{
			Transport: "tcp", BindHost: bindHost, BindPort: local.Port,
			ExternalHost: e.host, ExternalPort: local.Port, RewriteContact: true,
		}))
	}
	e.dg = diago.NewDiago(ua, opts...)
	e.dg.HandleFunc(e.handleInvite)
	srv.OnRegister(e.handleRegister)

	e.ua, e.udp, e.tcp = ua, udp, tcp
	e.ctx, e.cancel = context.WithCancel(ctx)
	e.started = true

	rc := newReadyConn(udp)
	e.serving.Add(2)
	go func() {
		defer e.serving.Done()
		if err := srv.ServeUDP(rc); err != nil && !errors.Is(err, net.ErrClosed) {
			e.log.Error("sip: udp serve stopped", "error", err)
		}
	}()
	go func() {
		defer e.serving.Done()
		e.purgeLoop()
	}()
	if tcp != nil {
		e.serving.Add(1)
		go func() {
			defer e.serving.Done()
			if err := srv.ServeTCP(tcp); err != nil && !errors.Is(err, net.ErrClosed) {
				e.log.Error("sip: tcp serve stopped", "error", err)
			}
		}()
	}
	<-rc.ready
	e.log.Info("sip edge listening", "addr", e.addr, "tcp", tcp != nil, "trunk", e.trunkAddr)
	return nil
}

// Addr returns the host:port the edge listens on (UDP; TCP uses the same
// port when it could be opened).
func (e *Edge) Addr() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.addr
}

// Close hangs up every live call, waits for the calls' goroutines and stops
// the listeners. It is safe to call more than once.
func (e *Edge) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	started := e.started
	e.mu.Unlock()
	if !started {
		return nil
	}

	// Calls watch e.ctx: cancelling it makes each handler hang up both legs
	// and write its record before returning.
	e.cancel()
	e.handlers.Wait()
	// Then the requests still in diago's hands (its own BYE after a
	// handler returned on a live dialog waits for the answer).
	e.mu.Lock()
	e.draining = true
	e.mu.Unlock()
	e.inflight.Wait()

	var errs []error
	if err := e.udp.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		errs = append(errs, err)
	}
	if e.tcp != nil {
		if err := e.tcp.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	if err := e.ua.Close(); err != nil {
		errs = append(errs, err)
	}
	e.serving.Wait()
	// Clear again: a retransmission timer that fired between the first
	// clear and the transaction layer stopping may have dialled a new
	// socket, whose reader would otherwise outlive the edge.
	_ = e.ua.Close()
	return errors.Join(errs...)
}

// purgeLoop removes expired bindings and stale failure counters.
func (e *Edge) purgeLoop() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-t.C:
			e.purgeBindings()
			e.auth.purge()
		}
	}
}

// enter registers a request handler so Close can wait for it; it reports
// false once the edge is closing.
func (e *Edge) enter() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return false
	}
	e.handlers.Add(1)
	return true
}

// enterRequest counts a SIP request in diago's hands so Close can wait for
// it; it reports false once Close has hung up every call.
func (e *Edge) enterRequest() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.draining {
		return false
	}
	e.inflight.Add(1)
	return true
}
