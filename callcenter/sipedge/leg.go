package sipedge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	cmedia "github.com/agentphone/agentphone/callcenter/media"
	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"
)

// HeaderParentCallID names the customer call a consult or transfer leg
// belongs to, on offers to agents: the softphone pops the customer's
// screen and sends call control for that call.
const HeaderParentCallID = "X-Parent-Call-ID"

// LegKind is what a consult or transfer leg dials.
type LegKind int

const (
	LegToAgent  LegKind = iota // an agent's registered phone
	LegToNumber                // an outside number over the trunk (G.711)
)

func (k LegKind) String() string {
	switch k {
	case LegToAgent:
		return "agent"
	case LegToNumber:
		return "number"
	}
	return "unknown"
}

// ErrNoTrunk: a leg to an outside number needs a trunk (WithTrunk).
var ErrNoTrunk = errors.New("sipedge: no trunk for outside numbers")

// Dial describes a consult or transfer leg of a customer call. The leg has
// its own call id and record (ParentID: the customer call).
type Dial struct {
	// ID is the leg's call id (a new one when empty): known before the
	// leg rings, so a screen pop can name it.
	ID   string
	Kind LegKind
	To   string // work number or outside number
	// Type, Caller and Agent are the leg record's: a transfer leg is the
	// customer's call (Caller the customer, Agent the new agent); a consult
	// is the consulting agent's internal or outbound call.
	Type   callcenter.CallType
	Caller string
	Agent  string
	// Notify are the agents told about the leg's ringing, talking and end
	// (callcenter.CallEvent.Agents).
	Notify      []string
	Group       string        // X-Group on offers to agents
	RingTimeout time.Duration // 0: the edge's
}

// CustomerCall is a customer's call anchored in a room: what call control
// (hold, consult, transfer, three-way) acts on. InboundCall provides it.
type CustomerCall interface {
	ID() string
	// Caller is the customer's number (the callee of a call an agent
	// placed to an outside number).
	Caller() string
	// Type is the customer call's type: inbound, or agent outbound.
	Type() callcenter.CallType
	// Context ends when the customer hangs up or the edge closes.
	Context() context.Context
	// Room is the call's room; the customer is CustomerLeg in it.
	Room() *cmedia.Room
	// Registered reports whether an agent's phone is registered.
	Registered(workNumber string) bool
	// Dial places a consult or transfer leg and returns it once answered.
	Dial(ctx context.Context, d Dial) (*AgentLeg, error)
	// Attach joins an answered leg to the room, hearing hears.
	Attach(leg *AgentLeg, hears cmedia.HearSet, speaks bool) (*cmedia.Participant, error)
	// Release takes a leg out of the room and hangs it up (the first
	// agent after a transfer, a cancelled consult).
	Release(ctx context.Context, leg *AgentLeg) error
}

var (
	_ CustomerCall = (*InboundCall)(nil)
	_ CustomerCall = (*OutboundCall)(nil)
)

// anchored is what a leg needs from the customer call it belongs to;
// InboundCall and OutboundCall provide it, so consult and transfer legs
// (Dial, Attach) work the same on calls that came in and calls an agent
// placed.
type anchored interface {
	edge() *Edge
	base() *call
	// centerNumber is the center number the call went through.
	centerNumber() string
	// mediaRoom is the call's room once answered.
	mediaRoom() *cmedia.Room
	// addLeg keeps a leg so the call's end hangs it up.
	addLeg(l *AgentLeg)
}

// legDialog is a leg's SIP dialog: one we placed (consult, transfer,
// queue offer) or the agent's own call to us (the first agent of an
// outbound call).
type legDialog interface {
	Context() context.Context
	Hangup(ctx context.Context) error
	Close() error
	Media() *diago.DialogMedia
}

// Type is CallInbound.
func (ic *InboundCall) Type() callcenter.CallType { return ic.c.typ }

func (ic *InboundCall) edge() *Edge          { return ic.e }
func (ic *InboundCall) base() *call          { return ic.c }
func (ic *InboundCall) centerNumber() string { return ic.num.E164 }
func (ic *InboundCall) mediaRoom() *cmedia.Room {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	return ic.room
}
func (ic *InboundCall) addLeg(l *AgentLeg) {
	ic.mu.Lock()
	ic.legs = append(ic.legs, l)
	ic.mu.Unlock()
}

// Registered reports whether the agent's phone is registered now.
func (ic *InboundCall) Registered(workNumber string) bool { return ic.e.Registered(workNumber) }

// ID is the leg's call id: its record's key and X-Call-ID on its offer.
// Queue offers share their customer call's id.
func (l *AgentLeg) ID() string { return l.id }

// Kind is what the leg reached: an agent or an outside number.
func (l *AgentLeg) Kind() LegKind { return l.kind }

// Name is the leg's participant name in the room.
func (l *AgentLeg) Name() string { return l.name }

// Context ends when the leg is hung up, by either side.
func (l *AgentLeg) Context() context.Context { return l.dlg.Context() }

// Participant is the leg in the room, nil until attached.
func (l *AgentLeg) Participant() *cmedia.Participant { return l.part.Load() }

// legName names a dialled leg in the room.
func legName(kind LegKind, to string) string {
	if kind == LegToNumber {
		return "number:" + to
	}
	return "agent:" + to
}

// Dial places a consult or transfer leg: an agent's registered phone rung
// with the call's headers (its own X-Call-ID, the customer call as
// X-Parent-Call-ID), or an outside number over the trunk. The leg is not
// tied to the customer leg: a consult may outlive the customer. It returns
// ErrUnreachable (no registered phone), ErrNoAnswer, a *StatusError when
// refused, ErrNoTrunk, or ctx's error (CANCEL sent). The leg's record is
// written whatever happens: ended at once on failure, begun on answer and
// ended when the leg ends.
func (ic *InboundCall) Dial(ctx context.Context, d Dial) (*AgentLeg, error) {
	ic.mu.Lock()
	answered := ic.answered
	ic.mu.Unlock()
	if !answered {
		return nil, fmt.Errorf("dial %s for call %s: %w", d.To, ic.c.id, ErrNotAnswered)
	}
	return dialLeg(ctx, ic, d)
}

// dialLeg places a consult or transfer leg of the customer call ac (see
// InboundCall.Dial).
func dialLeg(ctx context.Context, ac anchored, d Dial) (*AgentLeg, error) {
	e, c := ac.edge(), ac.base()
	ringTimeout := d.RingTimeout
	if ringTimeout <= 0 {
		ringTimeout = e.ringTimeout
	}
	if d.ID == "" {
		d.ID = uuid.NewString()
	}
	leg := &AgentLeg{owner: ac, agent: d.To, id: d.ID, kind: d.Kind, name: legName(d.Kind, d.To), notify: d.Notify}
	leg.rec = &callcenter.CallRecord{CallID: leg.id, Type: d.Type, Caller: d.Caller, Callee: d.To, Agent: d.Agent,
		Number: ac.centerNumber(), StartedAt: e.now(), ParentID: c.id}
	fail := func(res callcenter.Result, err error) (*AgentLeg, error) {
		leg.endRecord(res, callcenter.PartyNone)
		return nil, fmt.Errorf("dial %s for call %s: %w", d.To, c.id, err)
	}

	var t target
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	switch d.Kind {
	case LegToAgent:
		var code int
		t, code = e.agentTarget(lctx, c, d.To, sip.Uri{Scheme: "sip", User: d.Caller, Host: e.host})
		cancel()
		if code == 480 {
			return fail(callcenter.ResultUnreachable, ErrUnreachable)
		}
		if code != 0 {
			return fail(resultFor(code), &StatusError{Code: code, Reason: reasonPhrase(code)})
		}
	case LegToNumber:
		cid, err := e.pickCallerID(lctx)
		cancel()
		if e.trunk == "" {
			return fail(callcenter.ResultFailed, ErrNoTrunk)
		}
		if !Dialable(d.To) {
			return fail(callcenter.ResultInvalid, &StatusError{Code: 404, Reason: reasonPhrase(404)})
		}
		if err != nil {
			return fail(callcenter.ResultFailed, fmt.Errorf("caller id: %w", err))
		}
		if cid == "" {
			cid = ac.centerNumber()
		}
		leg.rec.Number = cid
		host, port, _ := sip.ParseAddr(e.trunkAddr)
		t = target{uri: sip.Uri{Scheme: "sip", User: d.To, Host: host, Port: port}, from: sip.Uri{Scheme: "sip", User: cid, Host: e.host}}
	default:
		cancel()
		return fail(callcenter.ResultFailed, fmt.Errorf("leg kind %d", d.Kind))
	}

	out, err := e.dg.NewDialog(t.uri, diago.NewDialogOptions{Transport: t.transport})
	if err != nil {
		return fail(callcenter.ResultFailed, err)
	}
	if d.Kind == LegToNumber {
		ms, err := e.newMediaSession(trunkCodecs())
		if err != nil {
			out.Close()
			return fail(callcenter.ResultFailed, err)
		}
		out.InitMediaSession(ms, nil, nil)
	}
	headers := []sip.Header{&sip.FromHeader{Address: t.from, Params: sip.NewParams()}}
	if d.Kind == LegToAgent {
		headers = append(headers,
			sip.NewHeader(HeaderCallID, leg.id),
			sip.NewHeader(HeaderParentCallID, c.id),
			sip.NewHeader(HeaderCallType, d.Type.String()),
			sip.NewHeader(HeaderCaller, d.Caller),
			sip.NewHeader(HeaderNumber, ac.centerNumber()),
		)
		if d.Group != "" {
			headers = append(headers, sip.NewHeader(HeaderGroup, d.Group))
		}
	}
	leg.emit(callcenter.CallRinging, callcenter.ResultUnknown, callcenter.PartyNone)

	ringCtx, cancelRing := context.WithTimeout(ctx, ringTimeout)
	defer cancelRing()
	err = out.Invite(ringCtx, diago.InviteClientOptions{
		Headers: headers,
		OnResponse: func(res *sip.Response) error {
			if res.IsSuccess() && !sdpSafe(res.Body()) {
				return errUnsafeSDP
			}
			return nil
		},
	})
	if err != nil {
		defer out.Close()
		switch {
		case errors.Is(err, errUnsafeSDP):
			hctx, cancel := context.WithTimeout(context.WithoutCancel(e.ctx), 2*time.Second)
			if err := out.DialogClientSession.Ack(hctx); err == nil {
				out.DialogClientSession.Bye(hctx)
			}
			cancel()
			return fail(callcenter.ResultFailed, &StatusError{Code: 502, Reason: "unparsable SDP answer"})
		case ctx.Err() != nil:
			return fail(callcenter.ResultCancelled, ctx.Err())
		case errors.Is(ringCtx.Err(), context.DeadlineExceeded):
			return fail(callcenter.ResultNoAnswer, ErrNoAnswer)
		default:
			code := responseCode(err)
			return fail(resultFor(code), &StatusError{Code: code, Reason: reasonPhrase(code)})
		}
	}
	if err := out.Ack(context.WithoutCancel(ringCtx)); err != nil {
		e.log.Warn("sip: ack leg", "call", c.id, "leg", leg.id, "to", d.To, "error", err)
	}
	leg.dlg = out
	leg.answeredAt = e.now()
	leg.rec.AnsweredAt = leg.answeredAt
	if ms := out.MediaSession(); ms != nil {
		leg.rec.Codec = media.CodecAudioFromSession(ms).Name
	}
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(e.ctx), 5*time.Second)
	if err := e.rec.BeginCallRecord(rctx, *leg.rec); err != nil {
		e.log.Error("sip: begin leg record", "call", c.id, "leg", leg.id, "error", err)
	}
	rcancel()
	leg.emit(callcenter.CallTalking, callcenter.ResultAnswered, callcenter.PartyNone)
	track(ac, leg)
	return leg, nil
}

// track keeps a leg so that the call's end hangs it up, and finishes its
// record when its far end hangs up.
func track(ac anchored, leg *AgentLeg) {
	ac.addLeg(leg)
	if leg.rec != nil {
		context.AfterFunc(leg.dlg.Context(), func() { leg.finish(callcenter.PartyCallee) })
	}
}

// Attach joins an answered leg to the call's room.
func (ic *InboundCall) Attach(leg *AgentLeg, hears cmedia.HearSet, speaks bool) (*cmedia.Participant, error) {
	return attachLeg(ic, leg, hears, speaks)
}

func attachLeg(ac anchored, leg *AgentLeg, hears cmedia.HearSet, speaks bool) (*cmedia.Participant, error) {
	id := ac.base().id
	if leg == nil || leg.owner != ac || leg.dlg == nil {
		return nil, fmt.Errorf("attach to call %s: leg of another call", id)
	}
	room := ac.mediaRoom()
	if room == nil {
		return nil, fmt.Errorf("attach to call %s: %w", id, ErrNotAnswered)
	}
	if leg.dlg.Context().Err() != nil {
		return nil, fmt.Errorf("attach %s to call %s: %w", leg.name, id, ErrCallEnded)
	}
	cfg, err := legConfig(leg.name, leg.dlg.Media())
	if err != nil {
		return nil, fmt.Errorf("attach to call %s: %w", id, err)
	}
	cfg.Hears, cfg.Speaks = hears, speaks
	p, err := room.Join(context.WithoutCancel(ac.edge().ctx), cfg)
	if err != nil {
		return nil, fmt.Errorf("attach to call %s: %w", id, err)
	}
	leg.part.Store(p)
	return p, nil
}

// Release takes the leg out of the room and hangs it up. Releasing the
// bridged agent (a transfer) lets the call be played to and bridged
// again; its record stays the customer call's.
func (ic *InboundCall) Release(ctx context.Context, leg *AgentLeg) error {
	if leg == nil || leg.owner != anchored(ic) {
		return fmt.Errorf("release on call %s: leg of another call", ic.c.id)
	}
	if p := leg.part.Load(); p != nil {
		p.Leave()
	}
	ic.mu.Lock()
	if ic.bridged == leg {
		ic.bridged = nil
		ic.transferred = true
		// The next agent the queue reaches is a transfer leg with an id
		// of its own, the same on its offers, its screen and its record.
		ic.transferID = uuid.NewString()
	}
	ic.mu.Unlock()
	return leg.Hangup(ctx)
}

// finish ends the leg's own record once (a queue offer has none).
func (l *AgentLeg) finish(by callcenter.Party) {
	l.finishOnce.Do(func() {
		if l.rec == nil {
			return
		}
		if l.hungUp.Load() {
			by = callcenter.PartySystem
		}
		l.endRecord(callcenter.ResultAnswered, by)
	})
}

// endRecord writes the end of the leg's record and tells the agents.
func (l *AgentLeg) endRecord(res callcenter.Result, by callcenter.Party) {
	e := l.owner.edge()
	r := *l.rec
	r.EndedAt = e.now()
	r.Result = res
	r.HangupBy = by
	ctx, cancel := context.WithTimeout(context.WithoutCancel(e.ctx), 5*time.Second)
	defer cancel()
	if err := e.rec.EndCallRecord(ctx, r); err != nil {
		e.log.Error("sip: end leg record", "call", l.owner.base().id, "leg", l.id, "error", err)
	}
	e.log.Info("sip: leg ended", "call", l.owner.base().id, "leg", l.id, "to", l.agent, "result", res, "hangup_by", by)
	l.emit(callcenter.CallEnded, res, by)
}

// emit tells the observer about a leg with its own record.
func (l *AgentLeg) emit(st callcenter.CallState, res callcenter.Result, by callcenter.Party) {
	e := l.owner.edge()
	if e.onCall == nil || l.rec == nil {
		return
	}
	e.onCall(callcenter.CallEvent{
		CallID: l.id, Type: l.rec.Type, State: st, From: l.rec.Caller, To: l.rec.Callee,
		Agents: append([]string(nil), l.notify...), Number: l.rec.Number, At: e.now(), Result: res, HangupBy: by,
	})
}

// forwardDTMF passes an agent's (or a consulted party's) RFC 4733 digit on
// to every other leg that hears it: the customer, or whoever is on the
// other side of a consult, so an agent can drive a far end's IVR from its
// own keypad. The customer's digits are the IVR's (InboundCall.Keys) and
// are not forwarded.
func forwardDTMF(room *cmedia.Room, from *cmedia.Participant, d rune) {
	if from.Name() == CustomerLeg {
		return
	}
	for _, p := range room.Participants() {
		if p == from {
			continue
		}
		if h := p.Hears(); h.All() || h.Contains(from.Name()) {
			_ = room.SendDTMF(p, d) // sources and legs without telephone-event cannot take it
		}
	}
}

// transferLeg gives an agent bridged after the first one left (a transfer
// to a group, served by the queue's offers) a record of its own, linked to
// the customer call.
func (ic *InboundCall) transferLeg(leg *AgentLeg) {
	ic.mu.Lock()
	group, wait := ic.legGroup, ic.legWait
	ic.mu.Unlock()
	transferRecord(ic, leg, ic.c.typ, ic.c.caller, ic.num.E164, group, wait)
}
