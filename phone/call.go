package phone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"
)

type opKind int

const (
	opAnswer opKind = iota
	opReject
	opHangup
)

// callOp is a request to the goroutine that owns the dialog. One owner
// per dialog keeps answer/hangup/cancel/BYE races out of diago.
type callOp struct {
	kind  opKind
	ctx   context.Context
	code  int
	reply chan error
}

// Call is one SIP call, inbound or outbound. All methods are safe for
// concurrent use.
type Call struct {
	p      *Phone
	log    *slog.Logger
	id     string
	dir    Direction
	remote string
	invite *sip.Request // the INVITE (ours or theirs); read only

	ops         chan callOp
	done        chan struct{}
	dtmf        chan rune
	aborted     chan error // the SIP layer ends the call (see abort)
	muted       atomic.Bool
	localHangup atomic.Bool
	cancelDial  context.CancelCauseFunc // outbound only

	mu         sync.Mutex
	state      CallState
	response   *sip.Response // outbound: the final 2xx
	codec      string
	endReason  error
	answeredAt time.Time
	endedAt    time.Time
	media      *mediaPath
}

func newCall(p *Phone, dir Direction, invite *sip.Request, id, remote string) *Call {
	return &Call{
		p:       p,
		log:     p.log.With("call_id", id, "dir", dir.String()),
		id:      id,
		dir:     dir,
		remote:  remote,
		invite:  invite,
		ops:     make(chan callOp),
		done:    make(chan struct{}),
		dtmf:    make(chan rune, 64),
		aborted: make(chan error, 1),
	}
}

// abort asks the owner goroutine to end an answered call with BYE and
// reason (e.g. the peer's ACK carried SDP we could not read). The first
// reason wins; it never blocks the SIP goroutine that calls it.
func (c *Call) abort(reason error) {
	select {
	case c.aborted <- reason:
	default:
	}
}

// ID is the SIP Call-ID of this leg.
func (c *Call) ID() string { return c.id }

// Direction tells whether we placed or received the call.
func (c *Call) Direction() Direction { return c.dir }

// Remote is the other party's number or user name.
func (c *Call) Remote() string { return c.remote }

// Header returns a header of the call's signalling: for inbound calls the
// offer (callcenterd puts X-Call-ID, X-Caller, X-Number, X-Queue there),
// for outbound calls the 2xx answer first, then our INVITE.
func (c *Call) Header(name string) string {
	c.mu.Lock()
	res := c.response
	c.mu.Unlock()
	if res != nil {
		if h := res.GetHeader(name); h != nil {
			return h.Value()
		}
	}
	if h := c.invite.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}

// State is the current call state.
func (c *Call) State() CallState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Codec is the negotiated audio codec name ("opus", "PCMU", "PCMA"),
// empty until media starts.
func (c *Call) Codec() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.codec
}

// Done is closed when the call has ended and its goroutines are gone.
func (c *Call) Done() <-chan struct{} { return c.done }

// EndReason says why the call ended: ErrLocalHangup, ErrRemoteHangup,
// ErrRejected, a *StatusError with the SIP code (486, 603, 404...), or a
// transport error. nil while the call is up.
func (c *Call) EndReason() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.endReason
}

// AnsweredAt is when the call became Active (zero if never).
func (c *Call) AnsweredAt() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.answeredAt
}

// EndedAt is when the call ended (zero while up).
func (c *Call) EndedAt() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.endedAt
}

// SetMute stops (true) or resumes sending microphone audio. Packets keep
// flowing with silence so NAT bindings and the far jitter buffer stay warm.
func (c *Call) SetMute(on bool) { c.muted.Store(on) }

// Muted reports the mute switch.
func (c *Call) Muted() bool { return c.muted.Load() }

// Stats reports media counters; zero before media starts.
func (c *Call) Stats() Stats {
	c.mu.Lock()
	m := c.media
	c.mu.Unlock()
	if m == nil {
		return Stats{}
	}
	return m.stats()
}

// SendDTMF queues digits (0-9 * # A-D) to be sent as RFC 4733 events,
// in order, each about 100 ms with 60 ms gaps. It returns once queued.
func (c *Call) SendDTMF(digits string) error {
	for _, r := range digits {
		if !strings.ContainsRune("0123456789*#ABCD", r) {
			return fmt.Errorf("%w: %q", ErrBadDTMF, r)
		}
	}
	c.mu.Lock()
	st, m := c.state, c.media
	c.mu.Unlock()
	if st == Ended {
		return ErrCallEnded
	}
	if st != Active || m == nil {
		return fmt.Errorf("send DTMF while %s: %w", st, ErrCallState)
	}
	if !m.dtmfOK {
		return ErrDTMFUnsupported
	}
	for _, r := range digits {
		select {
		case c.dtmf <- r:
		case <-c.done:
			return ErrCallEnded
		default:
			return fmt.Errorf("send DTMF: queue full")
		}
	}
	return nil
}

// Answer accepts a ringing inbound call. It returns once the answer is
// acknowledged and media runs.
func (c *Call) Answer(ctx context.Context) error {
	if c.dir != Inbound {
		return fmt.Errorf("answer outbound call: %w", ErrCallState)
	}
	return c.do(ctx, opAnswer, 0)
}

// Reject refuses a ringing inbound call with 486 Busy Here.
func (c *Call) Reject(ctx context.Context) error {
	return c.reject(ctx, sip.StatusBusyHere)
}

// Decline refuses a ringing inbound call with 603 Decline.
func (c *Call) Decline(ctx context.Context) error {
	return c.reject(ctx, sip.StatusGlobalDecline)
}

func (c *Call) reject(ctx context.Context, code int) error {
	if c.dir != Inbound {
		return fmt.Errorf("reject outbound call: %w", ErrCallState)
	}
	return c.do(ctx, opReject, code)
}

// Hangup ends the call: CANCEL while an outbound call is not answered,
// 486 for a ringing inbound call, BYE once answered. It waits until the
// call has ended or ctx is done.
func (c *Call) Hangup(ctx context.Context) error {
	c.mu.Lock()
	st := c.state
	c.mu.Unlock()
	if st == Ended {
		return ErrCallEnded
	}
	if c.dir == Outbound && st != Active {
		c.localHangup.Store(true)
		c.cancelDial(nil)
		select {
		case <-c.done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := c.do(ctx, opHangup, 0); err != nil {
		return err
	}
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Call) do(ctx context.Context, kind opKind, code int) error {
	op := callOp{kind: kind, ctx: ctx, code: code, reply: make(chan error, 1)}
	select {
	case c.ops <- op:
	case <-c.done:
		return ErrCallEnded
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-op.reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Call) setState(s CallState) {
	c.mu.Lock()
	if c.state == s || c.state == Ended {
		c.mu.Unlock()
		return
	}
	c.state = s
	if s == Active {
		c.answeredAt = time.Now()
	}
	c.mu.Unlock()
	c.log.Debug("call state", "state", s)
	c.p.events.push(Event{Kind: EventCall, Call: c, State: s})
}

// finish records the end; the owner goroutine calls it after media stopped.
func (c *Call) finish(reason error) {
	c.mu.Lock()
	if c.state == Ended {
		c.mu.Unlock()
		return
	}
	c.state = Ended
	c.endReason = reason
	c.endedAt = time.Now()
	c.mu.Unlock()
	c.log.Info("call ended", "reason", reason)
	c.p.forget(c)
	c.p.events.push(Event{Kind: EventCall, Call: c, State: Ended, Err: reason})
	close(c.done)
}

// serveInbound owns an inbound dialog from INVITE to the end. diago calls
// it on the sipgo server goroutine for the INVITE and hangs up when it
// returns.
func (p *Phone) serveInbound(d *diago.DialogServerSession) {
	remote := d.FromUser()
	if remote == "" {
		remote = d.InviteRequest.From().Address.Host
	}
	c := newCall(p, Inbound, d.InviteRequest, d.InviteRequest.CallID().Value(), remote)
	if !p.track(c) {
		_ = d.Respond(sip.StatusServiceUnavailable, "Service Unavailable", nil)
		return
	}
	defer p.untrack(c)

	if err := d.Trying(); err != nil {
		c.finish(fmt.Errorf("100 trying: %w", err))
		return
	}
	if err := d.Ringing(); err != nil {
		c.finish(fmt.Errorf("180 ringing: %w", err))
		return
	}
	c.setState(Ringing)

	// With auto-answer on, answer at once; otherwise wait for the agent.
	var answerOp *callOp
	if !p.auto.Load() {
	ringing:
		for {
			select {
			case op := <-c.ops:
				switch op.kind {
				case opAnswer:
					answerOp = &op
					break ringing
				case opReject, opHangup:
					code := op.code
					if code == 0 {
						code = sip.StatusBusyHere
					}
					err := d.Respond(code, reasonPhrase(code), nil)
					c.finish(ErrRejected)
					op.reply <- err
					return
				}
			case <-d.Context().Done():
				c.finish(ErrRemoteHangup) // the caller cancelled
				return
			case <-p.ctx.Done():
				_ = d.Respond(sip.StatusTemporarilyUnavailable, "Temporarily Unavailable", nil)
				c.finish(ErrLocalHangup)
				return
			}
		}
	}
	reply := func(err error) {
		if answerOp != nil {
			answerOp.reply <- err
		}
	}
	// AnswerOptions blocks until the ACK arrives.
	if err := d.AnswerOptions(diago.AnswerOptions{}); err != nil {
		err = fmt.Errorf("answer: %w", err)
		reply(err)
		c.finish(err)
		return
	}
	c.talk(d, reply)
}

// Dial places a call to target: a number or user routed through the
// registrar ("1002", "13800138000") or a full sip: URI. It returns as soon
// as the INVITE is on its way; progress arrives as events and on the Call
// (Early on 180/183, Active on answer, Ended with EndReason otherwise).
func (p *Phone) Dial(ctx context.Context, target string) (*Call, error) {
	p.mu.Lock()
	started, closed := p.started, p.closed
	p.mu.Unlock()
	switch {
	case closed:
		return nil, ErrClosed
	case !started:
		return nil, ErrNotStarted
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	uri, err := parseTarget(target, p.registrar)
	if err != nil {
		return nil, err
	}
	d, err := p.dg.NewDialog(uri, diago.NewDialogOptions{Transport: "udp"})
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", uri.String(), err)
	}
	callID := sip.CallIDHeader(uuid.NewString())
	d.InviteRequest.AppendHeader(&callID)
	remote := uri.User
	if remote == "" {
		remote = uri.Host
	}
	c := newCall(p, Outbound, d.InviteRequest, string(callID), remote)
	dialCtx, cancel := context.WithCancelCause(p.ctx)
	c.cancelDial = cancel
	if !p.track(c) {
		cancel(nil)
		_ = d.Close()
		return nil, ErrClosed
	}
	c.log.Info("dialing", "uri", uri.String())
	c.p.events.push(Event{Kind: EventCall, Call: c, State: Dialing})
	go p.runOutbound(dialCtx, c, d)
	return c, nil
}

func (p *Phone) runOutbound(ctx context.Context, c *Call, d *diago.DialogClientSession) {
	defer p.untrack(c)
	defer d.Close()
	defer c.cancelDial(nil)

	host := p.acct.Realm
	if host == "" && p.registrar != nil {
		host = p.registrar.Host
	}
	if host == "" {
		host = p.host
	}
	from := &sip.FromHeader{
		DisplayName: p.acct.DisplayName,
		Address:     sip.Uri{Scheme: "sip", User: p.acct.Username, Host: host},
		Params:      sip.NewParams(),
	}
	opts := diago.InviteClientOptions{
		Headers: []sip.Header{from},
		OnResponse: func(res *sip.Response) error {
			// Returning an error stops diago before it parses the answer.
			if err := checkAnswer(res); err != nil {
				return err
			}
			if res.StatusCode == sip.StatusRinging || res.StatusCode == sip.StatusSessionInProgress {
				c.setState(Early)
			}
			return nil
		},
	}
	if p.registrar != nil {
		// callcenterd challenges INVITEs from agents like REGISTERs.
		opts.Username, opts.Password = p.acct.Username, p.acct.Password
	}
	if err := d.Invite(ctx, opts); err != nil {
		if errors.Is(err, ErrBadSDP) {
			c.log.Warn("refusing the answer's SDP", "err", err)
			if derr := dropBadAnswer(d); derr != nil {
				err = errors.Join(err, derr)
			}
			c.finish(err)
			return
		}
		c.finish(c.inviteError(err))
		return
	}
	c.mu.Lock()
	c.response = d.InviteResponse
	c.mu.Unlock()
	if err := d.Ack(p.ctx); err != nil {
		c.finish(fmt.Errorf("ack: %w", err))
		return
	}
	if c.localHangup.Load() {
		// Hangup raced with the 200 OK: the dialog exists, so BYE it.
		hctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = d.Hangup(hctx)
		c.finish(ErrLocalHangup)
		return
	}
	c.talk(d, nil)
}

func (c *Call) inviteError(err error) error {
	var rp *sipgo.ErrDialogResponse
	var rv sipgo.ErrDialogResponse
	switch {
	case errors.As(err, &rp):
		return &StatusError{Code: rp.Res.StatusCode, Reason: rp.Res.Reason}
	case errors.As(err, &rv):
		return &StatusError{Code: rv.Res.StatusCode, Reason: rv.Res.Reason}
	case c.localHangup.Load():
		return ErrLocalHangup
	case errors.Is(err, sip.ErrTransactionTimeout):
		return fmt.Errorf("invite: %w", ErrTimeout)
	}
	return fmt.Errorf("invite: %w", err)
}

// talk runs an answered call: media up, then wait for either side to end.
// onActive (inbound Answer's reply) is called once media runs or failed.
func (c *Call) talk(sess diago.DialogSession, onActive func(error)) {
	m, err := c.startMedia(sess.Media())
	if err != nil {
		err = fmt.Errorf("media: %w", err)
		if onActive != nil {
			onActive(err)
		}
		hctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = sess.Hangup(hctx)
		cancel()
		c.finish(err)
		return
	}
	c.setState(Active)
	if onActive != nil {
		onActive(nil)
	}
	for {
		select {
		case op := <-c.ops:
			if op.kind != opHangup {
				op.reply <- fmt.Errorf("call is active: %w", ErrCallState)
				continue
			}
			m.stop()
			err := sess.Hangup(op.ctx)
			if byeCrossed(err) {
				// Both sides hung up at once: the dialog is gone either way.
				err = nil
			}
			c.finish(ErrLocalHangup)
			op.reply <- err
			return
		case <-sess.Context().Done():
			m.stop()
			c.finish(ErrRemoteHangup)
			return
		case err := <-c.aborted:
			m.stop()
			hctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = sess.Hangup(hctx)
			cancel()
			c.finish(err)
			return
		case err := <-m.failed:
			m.stop()
			hctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = sess.Hangup(hctx)
			cancel()
			c.finish(fmt.Errorf("media: %w", err))
			return
		case <-c.p.ctx.Done():
			m.stop()
			hctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = sess.Hangup(hctx)
			cancel()
			c.finish(ErrLocalHangup)
			return
		}
	}
}

// byeCrossed reports a BYE answered with 481 (the far end already tore the
// dialog down, typically because its BYE crossed ours).
func byeCrossed(err error) bool {
	var rp *sipgo.ErrDialogResponse
	var rv sipgo.ErrDialogResponse
	switch {
	case errors.As(err, &rp):
		return rp.Res.StatusCode == sip.StatusCallTransactionDoesNotExists
	case errors.As(err, &rv):
		return rv.Res.StatusCode == sip.StatusCallTransactionDoesNotExists
	}
	return false
}
