// Package phone is the softphone's SIP user agent: registration with
// digest auth, outbound and inbound calls, and the media path
// Call ⇄ codec ⇄ jitter buffer ⇄ audio.Device. It is built on diago/sipgo
// and never touches the UI; the UI learns about changes from Events and
// reads current state from Phone and Call.
package phone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Account is what the agent signs in with. For a plain SIP account the
// work number and password are used directly; after /v1/login the server
// hands out per-login SIP credentials.
type Account struct {
	Username    string
	Password    string
	Realm       string // SIP domain of the address-of-record; default: registrar host
	Registrar   string // host:port of callcenterd's SIP side
	DisplayName string
	Expires     time.Duration // requested binding lifetime; default 300 s
}

// Phone is one SIP user agent.
type Phone struct {
	acct      Account
	cfg       config
	log       *slog.Logger
	registrar *sip.Uri // nil in direct mode
	codecs    []media.Codec

	ua *sipgo.UserAgent
	dg *diago.Diago

	events *eventQueue
	reg    atomic.Int32 // RegState
	regErr atomic.Pointer[error]
	auto   atomic.Bool

	mu      sync.Mutex
	started bool
	closed  bool
	calls   []*Call
	addr    string
	host    string
	port    int

	ctx       context.Context // lifetime of background work
	cancel    context.CancelFunc
	regCancel context.CancelFunc
	regDone   chan struct{}
	regState  *registration
	wg        sync.WaitGroup // call goroutines
	handlers  inflight       // sipgo request handlers (incl. diago's post-call cleanup)
	draining  atomic.Bool    // drop incoming SIP while the UA shuts down
}

// New validates the account and options; nothing listens until Start.
func New(acct Account, opts ...Option) (*Phone, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if acct.Username == "" {
		return nil, errors.New("phone: account needs a username")
	}
	if acct.Expires <= 0 {
		acct.Expires = 300 * time.Second
	}
	p := &Phone{acct: acct, cfg: cfg, log: cfg.log.With("sip_user", acct.Username), events: newEventQueue(cfg.eventBuffer)}
	if cfg.register {
		if acct.Registrar == "" {
			return nil, errors.New("phone: registration needs Account.Registrar (host:port)")
		}
		host, portStr, err := net.SplitHostPort(acct.Registrar)
		if err != nil {
			return nil, fmt.Errorf("phone: registrar %q: %w", acct.Registrar, err)
		}
		port, err := strconv.Atoi(portStr)
		if err != nil || port <= 0 || port > 65535 {
			return nil, fmt.Errorf("phone: registrar %q: bad port", acct.Registrar)
		}
		p.registrar = &sip.Uri{Scheme: "sip", Host: host, Port: port}
	}
	codecs, err := sdpCodecs(cfg.codecs)
	if err != nil {
		return nil, err
	}
	p.codecs = codecs
	host, portStr, err := net.SplitHostPort(cfg.listen)
	if err != nil {
		return nil, fmt.Errorf("phone: listen %q: %w", cfg.listen, err)
	}
	if net.ParseIP(host) == nil {
		return nil, fmt.Errorf("phone: listen %q: need an IP address", cfg.listen)
	}
	p.host = host
	if p.port, err = strconv.Atoi(portStr); err != nil {
		return nil, fmt.Errorf("phone: listen %q: bad port", cfg.listen)
	}
	return p, nil
}

// sdpCodecs maps codec names to what diago puts in SDP, preserving order
// (the order is our preference; the answer follows the offer's order).
func sdpCodecs(names []string) ([]media.Codec, error) {
	var out []media.Codec
	seen := map[string]bool{}
	for _, n := range names {
		var c media.Codec
		switch n {
		case "opus", "OPUS", "Opus":
			c = media.CodecAudioOpus
		case "PCMU", "pcmu":
			c = media.CodecAudioUlaw
		case "PCMA", "pcma":
			c = media.CodecAudioAlaw
		default:
			return nil, fmt.Errorf("%w: %q", ErrNoCodec, n)
		}
		if !seen[c.Name] {
			seen[c.Name] = true
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, ErrNoCodec
	}
	return append(out, media.CodecTelephoneEvent8000), nil
}

// Start binds the SIP socket, starts answering requests and, unless in
// direct mode, starts the registration loop. ctx bounds the phone's
// background work; Close stops it as well.
func (p *Phone) Start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	if p.started {
		return errors.New("phone: already started")
	}
	hostname := p.acct.Realm
	if hostname == "" && p.registrar != nil {
		hostname = p.registrar.Host
	}
	if hostname == "" {
		hostname = p.host
	}
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent(p.acct.Username),
		sipgo.WithUserAgentHostname(hostname),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerReadFilter(p.readFilter)),
	)
	if err != nil {
		return fmt.Errorf("phone: user agent: %w", err)
	}
	dg := diago.NewDiago(ua,
		diago.WithLogger(p.log),
		diago.WithTransport(diago.Transport{Transport: "udp", BindHost: p.host, BindPort: p.port}),
		diago.WithMediaConfig(diago.MediaConfig{Codecs: p.codecs}),
		diago.WithServerRequestMiddleware(p.serverMiddleware),
	)
	p.ctx, p.cancel = context.WithCancel(ctx)
	if err := dg.ServeBackground(p.ctx, p.serveInbound); err != nil {
		p.cancel()
		ua.Close()
		return fmt.Errorf("phone: listen %s: %w", p.cfg.listen, err)
	}
	p.ua, p.dg = ua, dg
	// diago signals readiness before sipgo records the bound port and puts
	// the listener in its connection pool; a request sent before that would
	// try to bind the same port again. Poll the locked accessors briefly.
	for i := 0; ; i++ {
		ports := ua.TransportLayer().ListenPorts("udp")
		if len(ports) > 0 && ua.TransportLayer().Pool("udp").Size() > 0 {
			p.port = ports[0]
			break
		}
		if i == 200 {
			p.cancel()
			ua.Close()
			return fmt.Errorf("phone: listen %s: bound port unknown", p.cfg.listen)
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.addr = net.JoinHostPort(p.host, strconv.Itoa(p.port))
	p.started = true
	p.log.Info("phone listening", "addr", p.addr)

	if p.registrar != nil {
		client, err := sipgo.NewClient(ua,
			sipgo.WithClientConnectionAddr(p.addr),
			sipgo.WithClientNAT(),
			sipgo.WithClientLogger(p.log),
		)
		if err != nil {
			return fmt.Errorf("phone: sip client: %w", err)
		}
		contact := sip.Uri{Scheme: "sip", User: p.acct.Username, Host: p.host, Port: p.port,
			UriParams: sip.NewParams()}
		contact.UriParams.Add("transport", "udp")
		p.regState = newRegistration(client, p.acct, *p.registrar, contact, p.cfg.regTimeout)
		rctx, rcancel := context.WithCancel(p.ctx)
		p.regCancel = rcancel
		p.regDone = make(chan struct{})
		go p.registerLoop(rctx)
	}
	return nil
}

// Addr is the local SIP address (host:port) once started.
func (p *Phone) Addr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addr
}

// URI is the sip: URI peers can dial to reach this phone directly.
func (p *Phone) URI() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return "sip:" + p.acct.Username + "@" + p.addr
}

// Events delivers registration and call changes. It is buffered and never
// blocks the SIP stack: if the reader falls behind, the oldest events are
// dropped (see DroppedEvents); current state is always readable directly.
// The channel is closed when Close returns.
func (p *Phone) Events() <-chan Event { return p.events.ch }

// DroppedEvents counts events discarded because Events was full.
func (p *Phone) DroppedEvents() uint64 { return p.events.dropped.Load() }

// Registration returns the current registration state.
func (p *Phone) Registration() RegState { return RegState(p.reg.Load()) }

// RegistrationErr returns why the last registration attempt failed, or nil.
func (p *Phone) RegistrationErr() error {
	if e := p.regErr.Load(); e != nil {
		return *e
	}
	return nil
}

// SetAutoAnswer makes inbound calls answer without Answer being called.
func (p *Phone) SetAutoAnswer(on bool) { p.auto.Store(on) }

// AutoAnswer reports the auto-answer switch.
func (p *Phone) AutoAnswer() bool { return p.auto.Load() }

// Calls returns the calls that have not ended, oldest first.
func (p *Phone) Calls() []*Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*Call(nil), p.calls...)
}

func (p *Phone) setReg(s RegState, err error) {
	old := RegState(p.reg.Swap(int32(s)))
	if err != nil {
		p.regErr.Store(&err)
	} else {
		p.regErr.Store(nil)
	}
	if old == s && s != Failed {
		return
	}
	if s == Failed {
		p.log.Warn("registration failed", "err", err)
	} else {
		p.log.Info("registration", "state", s)
	}
	p.events.push(Event{Kind: EventRegistration, Reg: s, Err: err})
}

func (p *Phone) registerLoop(ctx context.Context) {
	defer close(p.regDone)
	attempt := 0
	for {
		if p.Registration() != Registered {
			p.setReg(Registering, nil)
		}
		exp, err := p.regState.register(ctx, p.acct.Expires)
		if ctx.Err() != nil {
			return
		}
		var wait time.Duration
		switch {
		case err == nil && exp == 0:
			// A registrar granting 0 s dropped our binding; treat as failure.
			err = &StatusError{Code: 200, Reason: "OK with expires=0"}
			fallthrough
		case err != nil:
			p.setReg(Failed, err)
			if errors.Is(err, ErrBadCredentials) {
				wait = p.cfg.authRetry
			} else {
				wait = backoff(attempt, p.cfg.backoffMin, p.cfg.backoffMax, rand.Float64)
				attempt++
			}
		default:
			attempt = 0
			p.setReg(Registered, nil)
			wait = refreshAfter(exp)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// Close hangs up every call, removes the registration (Expires: 0) and
// stops all goroutines. It is safe to call more than once.
func (p *Phone) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	started := p.started
	calls := append([]*Call(nil), p.calls...)
	p.mu.Unlock()
	if !started {
		p.events.close()
		return nil
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var errs []error
	for _, c := range calls {
		if err := c.Hangup(ctx); err != nil && !errors.Is(err, ErrCallEnded) {
			errs = append(errs, fmt.Errorf("hangup %s: %w", c.ID(), err))
		}
	}
	if p.regCancel != nil {
		p.regCancel()
		<-p.regDone
		if p.Registration() == Registered {
			if _, err := p.regState.register(ctx, 0); err != nil {
				errs = append(errs, fmt.Errorf("unregister: %w", err))
			}
		}
		p.setReg(Unregistered, nil)
	}
	p.cancel()
	if !waitGroupTimeout(&p.wg, 2*time.Second) {
		// A dial that never got any response waits for one before it may
		// CANCEL (RFC 3261 §9.1), up to Timer B (32 s). Closing the UA
		// terminates its transaction instead.
		p.draining.Store(true)
		_ = p.ua.Close()
		p.wg.Wait()
	}
	// diago keeps working on a dialog after our handler returns (final
	// hangup, cache cleanup); closing the UA under it makes sipgo open a
	// fresh socket for the last message, which nobody would ever close.
	p.handlers.wait(2 * time.Second)
	// A straggler (say the ACK of a 487) that lands while sipgo tears down
	// would re-create a transaction and a socket behind its back: from here
	// on incoming datagrams are dropped, and a second transport close reaps
	// anything created in the window.
	p.draining.Store(true)
	if err := p.ua.Close(); err != nil {
		errs = append(errs, err)
	}
	p.handlers.wait(time.Second)
	if err := p.ua.TransportLayer().Close(); err != nil {
		errs = append(errs, err)
	}
	p.events.close()
	return errors.Join(errs...)
}

// track registers a call goroutine unless the phone is closing.
func (p *Phone) track(c *Call) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.wg.Add(1)
	p.calls = append(p.calls, c)
	return true
}

// callByID returns the live call with that SIP Call-ID, or nil.
func (p *Phone) callByID(id string) *Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.calls {
		if c.id == id {
			return c
		}
	}
	return nil
}

// untrack marks a call goroutine finished.
func (p *Phone) untrack(c *Call) {
	p.forget(c)
	p.wg.Done()
}

// forget drops an ended call from Calls; finish calls it before Done closes
// so a caller woken by Done never still sees the call listed.
func (p *Phone) forget(c *Call) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, x := range p.calls {
		if x == c {
			p.calls = append(p.calls[:i], p.calls[i+1:]...)
			return
		}
	}
}

// trackRequest wraps every incoming request handler so Close can wait for
// them.
func (p *Phone) trackRequest(next sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		p.handlers.add(1)
		defer p.handlers.add(-1)
		next(req, tx)
	}
}

// inflight counts running handlers; unlike sync.WaitGroup it allows adds
// while someone waits (requests keep arriving during Close).
type inflight struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n drops to 0; nil while n == 0
}

func (f *inflight) add(d int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == 0 && d > 0 {
		f.idle = make(chan struct{})
	}
	f.n += d
	if f.n == 0 && f.idle != nil {
		close(f.idle)
		f.idle = nil
	}
}

func (f *inflight) wait(limit time.Duration) {
	f.mu.Lock()
	ch := f.idle
	f.mu.Unlock()
	if ch == nil {
		return
	}
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	}
}

func (p *Phone) readFilter(_ sip.TransportReadProps, data []byte) ([]byte, error) {
	if p.draining.Load() {
		return nil, nil
	}
	return data, nil
}

func waitGroupTimeout(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		// The helper exits once wg drains; the caller unblocks it and
		// then waits on wg itself.
		return false
	}
}
