package pstnsim

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/agentphone/agentphone/audio"
)

const (
	// DefaultRingTime is how long outbound calls ring before a late answer
	// or a no-answer, unless WithRingTime says otherwise.
	DefaultRingTime = 6 * time.Second
	// DefaultRecordLimit bounds the audio a call keeps of what it received.
	DefaultRecordLimit = 60 * time.Second
	// sampleRate is G.711's: the trunk only carries narrowband audio.
	sampleRate = 8000
	// answeredQueue is how many answered outbound calls Answered() buffers
	// for a slow reader before further ones are not queued.
	answeredQueue = 64
	// hangupTimeout bounds a BYE transaction when the Sim hangs up.
	hangupTimeout = 5 * time.Second
)

// Clock tells time. Ring and hold timers and call timestamps use it; RTP
// pacing stays on the real clock because the far end listens in real time.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Option configures a Sim.
type Option func(*Sim)

// WithLogger sets the logger; the default discards everything.
func WithLogger(l *slog.Logger) Option { return func(s *Sim) { s.log = l } }

// WithListen sets the local SIP UDP address (default "127.0.0.1:0"). The
// host is also the address put in SDP, so use a concrete IP, not 0.0.0.0.
func WithListen(hostport string) Option { return func(s *Sim) { s.listen = hostport } }

// WithServer sets callcenterd's SIP trunk address ("host:port") that
// inbound calls (customers calling the center) are sent to.
func WithServer(hostport string) Option { return func(s *Sim) { s.server.Store(&hostport) } }

// SetServer points the Sim's customer calls at callcenterd's SIP address.
// It exists because the center must know the trunk's address and the trunk
// the center's, so one of them learns the other after both are listening.
func (s *Sim) SetServer(hostport string) error {
	if _, _, err := splitHostPort(hostport); err != nil {
		return fmt.Errorf("pstnsim: server address: %w", err)
	}
	s.server.Store(&hostport)
	return nil
}

// serverAddr is the current center address, "" when none is set.
func (s *Sim) serverAddr() string {
	if p := s.server.Load(); p != nil {
		return *p
	}
	return ""
}

// WithVoice sets what customers say: voice(n) returns the Source for the
// n-th call (1-based), read at 8 kHz. The default is a 1.5 kHz tone at
// -12 dBFS, a sound no center prompt or hold music is likely to contain.
func WithVoice(voice func(callNumber int) audio.Source) Option {
	return func(s *Sim) { s.voice = voice }
}

// WithClock sets the clock for ring and hold timers and timestamps.
func WithClock(c Clock) Option { return func(s *Sim) { s.clock = c } }

// WithRingTime sets how long outbound calls ring before the scripted
// outcome (late answer, no answer). Ordinary numbers ring a quarter of it.
func WithRingTime(d time.Duration) Option { return func(s *Sim) { s.ringTime = d } }

// WithAnswerHold makes customers who answered the center's call hang up
// after talking d; 0 (the default) waits for the center to hang up.
func WithAnswerHold(d time.Duration) Option { return func(s *Sim) { s.answerHold = d } }

// WithRecordLimit bounds how much received audio each call keeps (the
// most recent d of it).
func WithRecordLimit(d time.Duration) Option { return func(s *Sim) { s.recordLimit = d } }

// Sim is the simulated carrier: a SIP trunk peer that places customer calls
// to the center and answers the center's calls with scripted outcomes.
type Sim struct {
	log         *slog.Logger
	listen      string
	server      atomic.Pointer[string] // callcenterd's SIP address; see SetServer
	voice       func(int) audio.Source
	clock       Clock
	ringTime    time.Duration
	recordLimit time.Duration
	answerHold  time.Duration

	seq      atomic.Int64
	answered chan *Call

	// dialogLocks serialise in-dialog INVITE/ACK handling; see dialogLock.
	dialogLocks [64]sync.Mutex

	mu       sync.Mutex
	started  bool
	closed   bool
	ua       *sipgo.UserAgent
	dg       *diago.Diago
	addr     string
	serveCtx context.Context
	stopServ context.CancelFunc
	// callCtx ends every call; it is cancelled before the transport so
	// that calls can still send their BYE.
	callCtx   context.Context
	stopCalls context.CancelFunc
	stopWatch func() bool
	closeDone chan struct{} // closed when Close has finished
	closeErr  error
	// active counts everything that may still send SIP: call goroutines
	// and request handlers (diago answers and hangs up after our INVITE
	// handler returns). Close drains it before the transport goes, since
	// sipgo opens a fresh socket for a message sent after that.
	active gate
	// deaf makes the transport drop everything it reads (Close).
	deaf atomic.Bool
}

// settleTime lets SIP messages read just before Close finish handling.
const settleTime = 30 * time.Millisecond

func (s *Sim) deafFilter(_ sip.TransportReadProps, data []byte) ([]byte, error) {
	if s.deaf.Load() {
		return nil, nil
	}
	return data, nil
}

// gate counts work in progress and, once drained, admits no more. Unlike
// a WaitGroup it may be entered while a drain is waiting.
type gate struct {
	mu   sync.Mutex
	n    int
	down bool
	zero sync.Cond
}

func (g *gate) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.down {
		return false
	}
	g.n++
	return true
}

func (g *gate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.n--; g.n == 0 {
		g.zero.Broadcast()
	}
}

// drain waits until nothing is in progress and shuts the gate.
func (g *gate) drain() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.n > 0 {
		g.zero.Wait()
	}
	g.down = true
}

// New builds a Sim. It binds nothing until Start.
func New(opts ...Option) (*Sim, error) {
	s := &Sim{
		log:         slog.New(slog.DiscardHandler),
		listen:      "127.0.0.1:0",
		clock:       realClock{},
		ringTime:    DefaultRingTime,
		recordLimit: DefaultRecordLimit,
		answered:    make(chan *Call, answeredQueue),
	}
	s.active.zero.L = &s.active.mu
	s.closeDone = make(chan struct{})
	for _, o := range opts {
		o(s)
	}
	if s.voice == nil {
		s.voice = func(int) audio.Source { return DefaultVoice() }
	}
	if _, _, err := splitHostPort(s.listen); err != nil {
		return nil, fmt.Errorf("pstnsim: listen address: %w", err)
	}
	if srv := s.serverAddr(); srv != "" {
		if _, _, err := splitHostPort(srv); err != nil {
			return nil, fmt.Errorf("pstnsim: server address: %w", err)
		}
	}
	if s.ringTime < 0 || s.recordLimit <= 0 || s.answerHold < 0 {
		return nil, fmt.Errorf("pstnsim: ring time %v, record limit %v, answer hold %v: %w", s.ringTime, s.recordLimit, s.answerHold, ErrBadOption)
	}
	return s, nil
}

// Start binds the SIP listener and starts answering. The Sim runs until
// Close, or until ctx is cancelled, which closes it the same way.
func (s *Sim) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.started {
		return errors.New("pstnsim: already started")
	}
	host, port, _ := splitHostPort(s.listen)

	sipLog := s.log.With("component", "sip")
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("pstnsim"), sipgo.WithUserAgentHostname(host),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(sipLog)),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(sipLog),
			sip.WithTransportLayerReadFilter(s.deafFilter)))
	if err != nil {
		return fmt.Errorf("pstnsim: user agent: %w", err)
	}
	dg := diago.NewDiago(ua,
		diago.WithLogger(sipLog),
		diago.WithServerRequestMiddleware(s.admit),
		diago.WithTransport(diago.Transport{ID: "udp", Transport: "udp", BindHost: host, BindPort: port}),
		// The trunk carries G.711 only, like a real PSTN interconnect.
		diago.WithMediaConfig(diago.MediaConfig{Codecs: []media.Codec{
			media.CodecAudioUlaw, media.CodecAudioAlaw, media.CodecTelephoneEvent8000,
		}}),
	)
	s.serveCtx, s.stopServ = context.WithCancel(context.WithoutCancel(ctx))
	s.callCtx, s.stopCalls = context.WithCancel(s.serveCtx)
	if err := dg.ServeBackground(s.serveCtx, s.handleInvite); err != nil {
		s.stopServ()
		ua.Close()
		return fmt.Errorf("pstnsim: listen %s: %w", s.listen, err)
	}
	bound, err := boundPort(ua)
	if err != nil {
		s.stopServ()
		ua.Close()
		return fmt.Errorf("pstnsim: listen %s: %w", s.listen, err)
	}
	s.ua, s.dg = ua, dg
	s.addr = net.JoinHostPort(host, strconv.Itoa(bound))
	s.started = true
	s.stopWatch = context.AfterFunc(ctx, func() { s.Close() })
	s.log.Info("pstnsim listening", "addr", s.addr, "server", s.serverAddr())
	return nil
}

// Addr is the bound SIP address ("127.0.0.1:port"); empty before Start.
func (s *Sim) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Answered delivers the outbound calls the Sim answered, so a test can
// check their audio. It buffers a few; when nobody reads, later calls are
// still answered but not queued.
func (s *Sim) Answered() <-chan *Call { return s.answered }

// Close hangs up every call (BYE), waits for them to finish and releases
// the listener. It is safe to call more than once and from several
// goroutines; every call returns once the Sim is fully closed.
func (s *Sim) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		<-s.closeDone
		return s.closeErr
	}
	s.closed = true
	started := s.started
	s.mu.Unlock()
	defer close(s.closeDone)
	if !started {
		return nil
	}
	s.stopWatch()
	s.stopCalls()
	s.active.drain()
	// sipgo handles each message on its own goroutine and, once its
	// transport is closed, answers a late one (an ACK or retransmission)
	// from a brand-new socket that nobody closes. Stop reading first, let
	// messages already read settle, then close.
	s.deaf.Store(true)
	time.Sleep(settleTime)
	s.stopServ()
	s.closeErr = s.ua.Close()
	s.log.Info("pstnsim stopped")
	return s.closeErr
}

// track registers an inbound call's goroutine; false once closing. The
// caller must s.active.leave() when it is done.
func (s *Sim) track() (context.Context, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started || s.closed || !s.active.enter() {
		return nil, false
	}
	return s.callCtx, true
}

// admit wraps every incoming request so Close waits for its handling to
// finish, including what diago does after our INVITE handler returns.
// Requests arriving after the drain are dropped: the transport is going.
func (s *Sim) admit(next sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		if !s.active.enter() {
			return
		}
		defer s.active.leave()
		if mu := s.dialogLock(req); mu != nil {
			mu.Lock()
			defer mu.Unlock()
		}
		next(req, tx)
	}
}

// dialogLock returns the lock that serialises a dialog's re-INVITEs and
// ACKs. diago v0.31.0 swaps a dialog's RTP session on a re-INVITE while the
// ACK of the previous one reads it (a data race, seen on hold then resume
// in quick succession), and sipgo runs each request on its own goroutine.
// Both handlers answer at once, so a small striped set of locks is enough
// and needs no clean-up. Initial INVITEs (no To tag) run for the whole
// call and must not take it.
func (s *Sim) dialogLock(req *sip.Request) *sync.Mutex {
	if req.Method != sip.INVITE && req.Method != sip.ACK {
		return nil
	}
	to := req.To()
	if to == nil || to.Params == nil {
		return nil
	}
	if tag, ok := to.Params.Get("tag"); !ok || tag == "" {
		return nil
	}
	id := req.CallID()
	if id == nil {
		return nil
	}
	h := fnv.New32a()
	h.Write([]byte(id.Value()))
	return &s.dialogLocks[h.Sum32()%uint32(len(s.dialogLocks))]
}

// closing reports whether Close has begun.
func (s *Sim) closing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Sim) state() (*diago.Diago, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return nil, ErrClosed
	case !s.started:
		return nil, ErrNotStarted
	}
	return s.dg, nil
}

// boundPort learns the UDP port the listener got and waits until sipgo can
// send from it. diago reports ready just before sipgo records the port (and
// sipgo's GetListenPort reads it without its lock) and before the listener
// joins the connection pool; a request sent in between would make sipgo
// bind a second socket on the same port.
func boundPort(ua *sipgo.UserAgent) (int, error) {
	tl := ua.TransportLayer()
	deadline := time.Now().Add(2 * time.Second)
	for {
		if ports := tl.ListenPorts("udp"); len(ports) > 0 && tl.Pool("udp").Size() > 0 {
			return ports[0], nil
		}
		if time.Now().After(deadline) {
			return 0, errors.New("listener reported no port")
		}
		time.Sleep(time.Millisecond)
	}
}

func splitHostPort(hp string) (string, int, error) {
	host, p, err := net.SplitHostPort(hp)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port in %q", hp)
	}
	if host == "" {
		return "", 0, fmt.Errorf("no host in %q", hp)
	}
	return host, port, nil
}

// sleep waits d on the Sim's clock; false if done fired first.
func (s *Sim) sleep(done <-chan struct{}, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	select {
	case <-s.clock.After(d):
		return true
	case <-done:
		return false
	}
}

// errStatus extracts the final status of a refused INVITE.
func errStatus(err error) (*StatusError, bool) {
	var res *sip.Response
	var pe *sipgo.ErrDialogResponse
	var ve sipgo.ErrDialogResponse
	switch {
	case errors.As(err, &pe):
		res = pe.Res
	case errors.As(err, &ve):
		res = ve.Res
	default:
		return nil, false
	}
	se := &StatusError{Code: res.StatusCode, Phrase: res.Reason}
	if h := res.GetHeader("Reason"); h != nil {
		se.Reason = h.Value()
	}
	return se, true
}
