package sipedge

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	"github.com/emiago/diago/media/sdp"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"
)

// Headers on offers to agents, so the softphone can pop the screen before
// it answers.
const (
	HeaderCallID   = "X-Call-ID"   // our call id (uuid), the record's key
	HeaderCallType = "X-Call-Type" // inbound, outbound or internal
	HeaderCaller   = "X-Caller"    // customer number or calling agent's work number
	HeaderNumber   = "X-Number"    // center number involved, if any
)

// call is one B2BUA call: the caller's dialog (in) and the callee's (out).
type call struct {
	id     string
	typ    callcenter.CallType
	caller string
	callee string
	agent  string
	number string
	agents []string

	startedAt  time.Time
	answeredAt time.Time
	codec      string

	in         *diago.DialogServerSession
	out        *diago.DialogClientSession
	inIsTrunk  bool
	outIsTrunk bool
	// legsReported: AgentActivity was told this call's legs ring, so it
	// is told when they end.
	legsReported bool
}

func (c *call) record() callcenter.CallRecord {
	return callcenter.CallRecord{
		CallID: c.id, Type: c.typ, Caller: c.caller, Callee: c.callee, Agent: c.agent,
		Number: c.number, StartedAt: c.startedAt, AnsweredAt: c.answeredAt, Codec: c.codec,
	}
}

// target is where the callee leg goes.
type target struct {
	uri       sip.Uri
	transport string
	from      sip.Uri
	toAgent   bool
}

// validate answers 400 (or 483/488) to initial INVITEs that diago could not
// handle sensibly, before a dialog is created. Requests sipgo cannot parse
// at all never get here: the transport drops them (there is no Via to
// answer to), and requests without Via/CSeq get sipgo's own 400.
func (e *Edge) validate(next sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		// Counted so Close waits for every request, including the BYE
		// diago sends after a handler returns on a live dialog: a send
		// after the transport closed would open a new socket nobody
		// closes. In-dialog requests (the ACK of a call being hung up)
		// still pass while Close hangs up the calls.
		if !e.enterRequest() {
			if req.IsInvite() {
				respond(e, tx, sip.NewResponseFromRequest(req, 503, "Service Unavailable", nil))
			}
			return
		}
		defer e.inflight.Done()
		if b := req.Body(); len(b) > 0 && !sdpSafe(b) && (req.IsInvite() || req.IsAck()) {
			// In-dialog offers (re-INVITE, late-offer ACK) go straight to
			// diago's SDP parser, which would panic on this body.
			e.log.Info("sip: refusing unparsable SDP", "method", req.Method, "source", req.Source())
			if req.IsInvite() {
				respond(e, tx, sip.NewResponseFromRequest(req, 400, "Bad Request", nil))
			}
			return
		}
		if req.IsInvite() {
			if to := req.To(); to == nil || !to.Params.Has("tag") {
				if code := e.checkInvite(req); code != 0 {
					e.log.Info("sip: refusing invalid INVITE", "status", code, "source", req.Source())
					respond(e, tx, sip.NewResponseFromRequest(req, code, reasonPhrase(code), nil))
					return
				}
			}
		}
		next(req, tx)
	}
}

func (e *Edge) checkInvite(req *sip.Request) int {
	from, to, cont := req.From(), req.To(), req.Contact()
	if from == nil || to == nil || req.CallID() == nil || cont == nil || cont.Address.Host == "" {
		return 400
	}
	if !from.Params.Has("tag") {
		return 400
	}
	if cseq := req.CSeq(); cseq == nil || cseq.MethodName != sip.INVITE {
		return 400
	}
	if mf := req.MaxForwards(); mf != nil && mf.Val() == 0 {
		return 483
	}
	if ct := req.ContentType(); ct == nil || !strings.EqualFold(strings.TrimSpace(strings.Split(ct.Value(), ";")[0]), "application/sdp") {
		// No offer (late offer) or not SDP: the B2BUA needs the offer.
		return 400
	}
	codecs := agentCodecs()
	if e.fromTrunk(req) {
		codecs = trunkCodecs()
	}
	return checkOffer(req.Body(), codecs)
}

func (e *Edge) fromTrunk(req *sip.Request) bool {
	return e.trunkAddr != "" && req.Source() == e.trunkAddr
}

// handleInvite runs one call from INVITE to the end; diago calls it on the
// request's goroutine and hangs up whatever is left when it returns.
func (e *Edge) handleInvite(in *diago.DialogServerSession) {
	if !e.enter() {
		in.Respond(503, "Service Unavailable", nil)
		return
	}
	defer e.handlers.Done()
	req := in.InviteRequest
	c := &call{id: uuid.NewString(), startedAt: e.now(), in: in}

	ctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
	var t target
	var code int
	if e.fromTrunk(req) {
		c.inIsTrunk = true
		if e.inbound != nil {
			cancel()
			e.runInbound(c, req)
			return
		}
		t, code = e.routeInbound(ctx, c, req)
	} else {
		user, ok := e.authorizeInvite(ctx, in)
		if !ok {
			cancel()
			return
		}
		t, code = e.routeFromAgent(ctx, c, req, user)
	}
	cancel()
	if code != 0 {
		e.refuse(c, code, resultFor(code), callcenter.PartySystem)
		return
	}
	e.bridgeCall(c, t)
}

// authorizeInvite accepts an INVITE from an agent: either it comes from the
// exact address the agent registered from (the phone proved the password
// when it registered; RFC 3261 phones often do not expect a second
// challenge), or it carries valid Proxy-Authorization. It returns the
// calling agent's work number, or answers 407/403 and returns false.
func (e *Edge) authorizeInvite(ctx context.Context, in *diago.DialogServerSession) (string, bool) {
	req := in.InviteRequest
	if h := req.GetHeader("Proxy-Authorization"); h == nil {
		fromUser := req.From().Address.User
		if b, ok := e.lookupBinding(fromUser); ok && b.source == req.Source() {
			return fromUser, true
		}
	}
	user, outcome := e.authenticate(ctx, req, "Proxy-Authorization")
	if outcome == authOK {
		return user, true
	}
	res := e.authResponse(req, outcome, true)
	if err := in.WriteResponse(res); err != nil {
		e.log.Debug("sip: respond failed", "status", res.StatusCode, "error", err)
	}
	return "", false
}

// routeInbound routes a carrier call to a center number to its agent.
func (e *Edge) routeInbound(ctx context.Context, c *call, req *sip.Request) (target, int) {
	c.typ = callcenter.CallInbound
	c.caller = req.From().Address.User
	dialed := req.Recipient.User
	c.callee = dialed
	num, err := e.dir.NumberByE164(ctx, dialed)
	if err != nil || num.Disabled {
		if err != nil && !errors.Is(err, callcenter.ErrNotFound) {
			e.log.Error("sip: number lookup failed", "number", dialed, "error", err)
			return target{}, 500
		}
		return target{}, 404
	}
	c.number = num.E164
	c.agent = num.RouteAgent
	c.callee = num.RouteAgent
	c.agents = []string{num.RouteAgent}
	return e.agentTarget(ctx, c, num.RouteAgent, sip.Uri{Scheme: "sip", User: c.caller, Host: e.host})
}

// routeFromAgent routes a call placed by an agent: to another agent, or to
// an outside number over the trunk.
func (e *Edge) routeFromAgent(ctx context.Context, c *call, req *sip.Request, user string) (target, int) {
	dialed := req.Recipient.User
	c.caller, c.agent, c.callee = user, user, dialed
	c.agents = []string{user}
	c.typ = callcenter.CallInternal
	if dialed == "" {
		return target{}, 404
	}
	_, err := e.dir.AgentByWorkNumber(ctx, dialed)
	switch {
	case err == nil:
		if dialed != user {
			c.agents = append(c.agents, dialed)
		}
		return e.agentTarget(ctx, c, dialed, sip.Uri{Scheme: "sip", User: user, Host: e.host})
	case !errors.Is(err, callcenter.ErrNotFound):
		e.log.Error("sip: agent lookup failed", "agent", dialed, "error", err)
		return target{}, 500
	case !Dialable(dialed):
		return target{}, 404
	}
	c.typ = callcenter.CallAgentOutbound
	if e.trunk == "" {
		return target{}, 503
	}
	cid, err := e.pickCallerID(ctx)
	if err != nil {
		e.log.Error("sip: caller id lookup failed", "error", err)
		return target{}, 500
	}
	c.number = cid
	fromUser := cid
	if fromUser == "" {
		fromUser = user
	}
	host, port, _ := sip.ParseAddr(e.trunkAddr)
	return target{
		uri:  sip.Uri{Scheme: "sip", User: dialed, Host: host, Port: port},
		from: sip.Uri{Scheme: "sip", User: fromUser, Host: e.host},
	}, 0
}

// agentTarget is the callee leg toward an agent's registered phone.
func (e *Edge) agentTarget(ctx context.Context, c *call, workNumber string, from sip.Uri) (target, int) {
	a, err := e.dir.AgentByWorkNumber(ctx, workNumber)
	if err != nil {
		if errors.Is(err, callcenter.ErrNotFound) {
			return target{}, 480
		}
		return target{}, 500
	}
	if a.Disabled {
		return target{}, 480
	}
	b, ok := e.lookupBinding(workNumber)
	if !ok {
		return target{}, 480
	}
	return target{uri: b.target, transport: b.transport, from: from, toAgent: true}, 0
}

func (e *Edge) pickCallerID(ctx context.Context) (string, error) {
	if e.callerID != "" {
		return e.callerID, nil
	}
	nl, ok := e.dir.(NumberLister)
	if !ok {
		return "", nil
	}
	nums, err := nl.ListNumbers(ctx)
	if err != nil {
		return "", err
	}
	for _, n := range nums {
		if !n.Disabled {
			return n.E164, nil
		}
	}
	return "", nil
}

// Dialable reports whether s looks like a telephone number the trunk can
// dial: digits with an optional leading +, at most 32.
func Dialable(s string) bool {
	s = strings.TrimPrefix(s, "+")
	if s == "" || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// refuse answers the caller with a final failure and writes the
// unanswered call's record.
func (e *Edge) refuse(c *call, code int, res callcenter.Result, by callcenter.Party) {
	if err := c.in.Respond(code, reasonPhrase(code), nil); err != nil {
		e.log.Debug("sip: respond failed", "status", code, "error", err)
	}
	e.finish(c, res, by)
}

// finish writes the end of the record and tells the observer.
func (e *Edge) finish(c *call, res callcenter.Result, by callcenter.Party) {
	r := c.record()
	r.EndedAt = e.now()
	r.Result = res
	r.HangupBy = by
	if c.legsReported {
		e.activity(c, LegEnded)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(e.ctx), 5*time.Second)
	defer cancel()
	if err := e.rec.EndCallRecord(ctx, r); err != nil {
		e.log.Error("sip: end call record", "call", c.id, "error", err)
	}
	e.log.Info("sip: call ended", "call", c.id, "type", c.typ, "caller", c.caller, "callee", c.callee, "result", res, "hangup_by", by)
	e.emit(c, callcenter.CallEnded, res, by)
}

func (e *Edge) emit(c *call, st callcenter.CallState, res callcenter.Result, by callcenter.Party) {
	if e.onCall == nil {
		return
	}
	e.onCall(callcenter.CallEvent{
		CallID: c.id, Type: c.typ, State: st, From: c.caller, To: c.callee,
		Agents: append([]string(nil), c.agents...), Number: c.number, At: e.now(),
		Result: res, HangupBy: by,
	})
}

// bridgeCall places the callee leg, relays its progress, answers the caller
// when the callee answers, joins both legs in a room and waits for either
// side to hang up.
func (e *Edge) bridgeCall(c *call, t target) {
	e.log.Info("sip: call", "call", c.id, "type", c.typ, "caller", c.caller, "callee", c.callee, "target", t.uri.String())
	if err := c.in.Trying(); err != nil {
		e.finish(c, callcenter.ResultCancelled, callcenter.PartyCaller)
		return
	}
	e.emit(c, callcenter.CallRinging, callcenter.ResultUnknown, callcenter.PartyNone)
	c.legsReported = true
	e.activity(c, LegRinging)

	out, err := e.dg.NewDialog(t.uri, diago.NewDialogOptions{Transport: t.transport})
	if err != nil {
		e.log.Error("sip: new dialog", "call", c.id, "error", err)
		e.refuse(c, 500, callcenter.ResultFailed, callcenter.PartySystem)
		return
	}
	defer out.Close()
	c.out = out
	c.outIsTrunk = !t.toAgent
	if !t.toAgent {
		// The dialog's default media offers Opus; the carrier gets G.711.
		ms, err := e.newMediaSession(trunkCodecs())
		if err != nil {
			e.log.Error("sip: media session", "call", c.id, "error", err)
			e.refuse(c, 500, callcenter.ResultFailed, callcenter.PartySystem)
			return
		}
		out.InitMediaSession(ms, nil, nil)
	}

	headers := []sip.Header{&sip.FromHeader{Address: t.from, Params: sip.NewParams()}}
	if t.toAgent {
		headers = append(headers,
			sip.NewHeader(HeaderCallID, c.id),
			sip.NewHeader(HeaderCallType, c.typ.String()),
			sip.NewHeader(HeaderCaller, c.caller),
			sip.NewHeader(HeaderNumber, c.number),
		)
	}

	ringCtx, cancelRing := context.WithTimeout(e.ctx, e.ringTimeout)
	defer cancelRing()
	var callerGone atomic.Bool
	stop := context.AfterFunc(c.in.Context(), func() {
		callerGone.Store(true)
		cancelRing()
	})
	ringing := false
	err = out.Invite(ringCtx, diago.InviteClientOptions{
		Headers: headers,
		OnResponse: func(res *sip.Response) error {
			if res.IsSuccess() && !sdpSafe(res.Body()) {
				// diago would parse this answer next and panic (see sdpSafe).
				return errUnsafeSDP
			}
			if (res.StatusCode == 180 || res.StatusCode == 183) && !ringing {
				ringing = true
				if err := c.in.Ringing(); err != nil {
					e.log.Debug("sip: relay ringing", "call", c.id, "error", err)
				}
			}
			return nil
		},
	})
	stop()
	if err != nil {
		switch {
		case errors.Is(err, errUnsafeSDP):
			// The callee's 2xx is ACKed even though its answer is refused,
			// then the session ended with BYE (RFC 3261 §13.2.2.4), so the
			// callee neither retransmits nor keeps a half-open call.
			e.log.Warn("sip: callee answered with unparsable SDP", "call", c.id, "callee", t.uri.String())
			hctx, cancel := context.WithTimeout(context.WithoutCancel(e.ctx), 2*time.Second)
			if err := out.DialogClientSession.Ack(hctx); err == nil {
				if err := out.DialogClientSession.Bye(hctx); err != nil {
					e.log.Debug("sip: bye callee", "call", c.id, "error", err)
				}
			}
			cancel()
			e.refuse(c, 502, callcenter.ResultFailed, callcenter.PartyCallee)
		case callerGone.Load():
			// sipgo answered the CANCEL with 200 and the INVITE with 487.
			e.finish(c, callcenter.ResultCancelled, callcenter.PartyCaller)
		case e.ctx.Err() != nil:
			e.refuse(c, 503, callcenter.ResultFailed, callcenter.PartySystem)
		case errors.Is(ringCtx.Err(), context.DeadlineExceeded):
			e.refuse(c, 480, callcenter.ResultNoAnswer, callcenter.PartySystem)
		default:
			code := responseCode(err)
			e.log.Info("sip: callee refused", "call", c.id, "status", code, "error", err)
			e.refuse(c, relayCode(code), resultFor(code), callcenter.PartyCallee)
		}
		return
	}

	hangupCtx := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.WithoutCancel(e.ctx), 5*time.Second)
	}
	if err := out.Ack(ringCtx); err != nil {
		e.log.Warn("sip: ack callee", "call", c.id, "error", err)
	}
	callerCodecs := agentCodecs()
	if c.inIsTrunk {
		callerCodecs = trunkCodecs()
	}
	if err := c.in.AnswerOptions(diago.AnswerOptions{Codecs: callerCodecs}); err != nil && !answerSent(c.in) {
		// The caller gave up while the callee was answering.
		e.log.Info("sip: answer caller failed", "call", c.id, "error", err)
		hctx, cancel := hangupCtx()
		out.Hangup(hctx)
		cancel()
		e.finish(c, callcenter.ResultCancelled, callcenter.PartyCaller)
		return
	}
	c.answeredAt = e.now()
	c.codec = legCodec(c)
	rctx, rcancel := hangupCtx()
	if err := e.rec.BeginCallRecord(rctx, c.record()); err != nil {
		e.log.Error("sip: begin call record", "call", c.id, "error", err)
	}
	rcancel()
	e.emit(c, callcenter.CallTalking, callcenter.ResultAnswered, callcenter.PartyNone)
	e.activity(c, LegTalking)

	// The room lives until this call ends below; closing it removes both
	// legs. (Legs are not tied to a context: the call's own select is the
	// one place that decides the end.) A leg that never got media (caller
	// hung up before its ACK) just ends the call below.
	room, err := e.joinRoom(context.WithoutCancel(e.ctx), c)
	if err != nil && c.in.Context().Err() == nil && out.Context().Err() == nil {
		e.log.Error("sip: media room", "call", c.id, "error", err)
	}
	if room != nil && e.outbound != nil && c.typ == callcenter.CallAgentOutbound && c.outIsTrunk {
		// Call control (hold, transfer, consult) on the call the agent
		// placed: the handler owns it until nobody talks with the
		// customer any more.
		e.runOutbound(c, room)
		return
	}

	var by callcenter.Party
	select {
	case <-c.in.Context().Done():
		by = callcenter.PartyCaller
	case <-out.Context().Done():
		by = callcenter.PartyCallee
	case <-e.ctx.Done():
		by = callcenter.PartySystem
	}
	if room != nil {
		room.Close()
	}
	hctx, cancel := hangupCtx()
	if err := out.Hangup(hctx); err != nil {
		e.log.Debug("sip: hangup callee", "call", c.id, "error", err)
	}
	if err := c.in.Hangup(hctx); err != nil {
		e.log.Debug("sip: hangup caller", "call", c.id, "error", err)
	}
	cancel()
	e.finish(c, callcenter.ResultAnswered, by)
}

var errUnsafeSDP = errors.New("callee answered with SDP we cannot parse")

// answerSent reports whether our 200 OK went out: a caller that hangs up
// before its ACK reached us still had the call answered.
func answerSent(in *diago.DialogServerSession) bool {
	r := in.InviteResponse
	return r != nil && r.IsSuccess()
}

// newMediaSession binds RTP for a leg that offers codecs.
func (e *Edge) newMediaSession(codecs []media.Codec) (*media.MediaSession, error) {
	ms := &media.MediaSession{
		Codecs: codecs,
		Laddr:  net.UDPAddr{IP: net.ParseIP(e.host)},
		Mode:   sdp.ModeSendrecv,
	}
	if err := ms.Init(); err != nil {
		return nil, fmt.Errorf("rtp listen: %w", err)
	}
	return ms, nil
}

// legCodec is the codec negotiated on the agent's leg (the caller's leg for
// calls from agents, the callee's for inbound calls).
func legCodec(c *call) string {
	var ms *media.MediaSession
	if c.inIsTrunk {
		ms = c.out.MediaSession()
	} else {
		ms = c.in.MediaSession()
	}
	if ms == nil {
		return ""
	}
	return media.CodecAudioFromSession(ms).Name
}

// responseCode extracts the final status from an Invite error; 408 for
// timeouts and transport failures.
func responseCode(err error) int {
	var pe *sipgo.ErrDialogResponse
	if errors.As(err, &pe) && pe.Res != nil {
		return pe.Res.StatusCode
	}
	var ve sipgo.ErrDialogResponse
	if errors.As(err, &ve) && ve.Res != nil {
		return ve.Res.StatusCode
	}
	return 408
}

// relayCode is what the caller is told when the callee leg failed.
func relayCode(code int) int {
	switch {
	case code == 401 || code == 407:
		// The callee wanted credentials from us: our problem, not the caller's.
		return 502
	case code == 408:
		return 480
	case code >= 400 && code < 700:
		return code
	}
	return 500
}

// resultFor classifies a final status for the call record.
func resultFor(code int) callcenter.Result {
	switch code {
	case 486, 600:
		return callcenter.ResultBusy
	case 603:
		return callcenter.ResultRejected
	case 404, 484, 604:
		return callcenter.ResultInvalid
	case 480, 408, 503, 410:
		return callcenter.ResultUnreachable
	case 487:
		return callcenter.ResultCancelled
	}
	return callcenter.ResultFailed
}
