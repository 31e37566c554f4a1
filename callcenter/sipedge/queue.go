package sipedge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/agentphone/agentphone/audio"
	"github.com/agentphone/agentphone/callcenter"
	cmedia "github.com/agentphone/agentphone/callcenter/media"
	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo/sip"
)

// QueueCall is a customer call the center's queue can serve: sources
// (prompts, music) played to the customer, the customer's keys for an
// IVR, offers to agents and the bridge of the one who answers, and the
// queue's figures for the records. An InboundCall is one from the start;
// an OutboundCall (an agent called the customer) becomes one once its
// agent transferred it to a skill group, so the customer queues like a
// caller would (SPEC §5).
type QueueCall interface {
	CustomerCall
	// CenterNumber is the center number of the call: the one dialled,
	// or the caller id shown to the customer of a call we placed.
	CenterNumber() string
	// Keys delivers the customer's DTMF digits (RFC 4733).
	Keys() <-chan rune
	// Play adds a source the customer hears until stop, ctx's end or a
	// bridge (see InboundCall.Play).
	Play(ctx context.Context, name string, src audio.Source, rate int) (stop func(), err error)
	// OfferID is the call id queue offers carry (see InboundCall.OfferID).
	OfferID() string
	// Offer rings an agent (see InboundCall.Offer).
	Offer(ctx context.Context, workNumber string, ringTimeout time.Duration, pop callcenter.ScreenPop) (*AgentLeg, error)
	// Bridge connects the answered agent with the customer.
	Bridge(leg *AgentLeg) error
	// SetGroup and SetQueueWait record the queue stay: on the customer
	// call's record for its first stay, on the transfer leg's after a
	// transfer to a group.
	SetGroup(name string)
	SetQueueWait(d time.Duration)
	// SetOutcome says why the call ended without an agent.
	SetOutcome(res callcenter.Result, by callcenter.Party)
	// StartTransferLeg opens the transfer leg a transfer to group begins
	// (id OfferID): the customer's stay in the group's IVR and queue. Once
	// an agent is bridged the leg's record is that agent's; if none is,
	// the call's end writes it: abandoned when the customer hung up, else
	// with the outcome the queue set (SetOutcome). Without it, an agent
	// never reached after a transfer leaves the leg unrecorded.
	StartTransferLeg(group string)
}

var (
	_ QueueCall = (*InboundCall)(nil)
	_ QueueCall = (*OutboundCall)(nil)
)

// transferStay is the transfer leg a transfer to a group opened, until
// an agent is bridged (its record is then transferRecord's) or the call
// ends (unservedRecord).
type transferStay struct {
	id      string
	started time.Time
	bridged bool
	// outcome is why the queue sent the customer away (SetOutcome).
	outcome *outcome
}

// startStay opens the stay of transfer leg id, keeping an open stay of
// the same leg (a second StartTransferLeg without a new transfer).
func startStay(cur *transferStay, id string, now time.Time) *transferStay {
	if cur != nil && cur.id == id && !cur.bridged {
		return cur
	}
	return &transferStay{id: id, started: now}
}

// unservedRecord writes the one record of a transfer leg no agent took:
// the customer hung up in the group's IVR or queue (abandoned, with the
// wait, hung up by the customer — the leg's caller), or the queue sent
// the customer away (its outcome), or the call ended otherwise (failed,
// system). Issue 3's rule for calls abandoned in a queue applies to the
// queue stay after a transfer as well.
func unservedRecord(ac anchored, st transferStay, typ callcenter.CallType, customer, number, group string, wait time.Duration, customerGone bool, customerEnd time.Time) {
	e, c := ac.edge(), ac.base()
	r := callcenter.CallRecord{CallID: st.id, Type: typ, Caller: customer, Callee: number, Number: number,
		StartedAt: st.started, EndedAt: e.now(), Group: group, QueueWait: wait, ParentID: c.id}
	switch {
	case customerGone:
		r.Result, r.HangupBy, r.Abandoned = callcenter.ResultCancelled, callcenter.PartyCaller, true
		if !customerEnd.IsZero() {
			r.EndedAt = customerEnd
		}
	case st.outcome != nil:
		r.Result, r.HangupBy = st.outcome.res, st.outcome.by
	default:
		r.Result, r.HangupBy = callcenter.ResultFailed, callcenter.PartySystem
	}
	if r.EndedAt.Before(r.StartedAt) {
		r.EndedAt = r.StartedAt
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(e.ctx), 5*time.Second)
	defer cancel()
	if err := e.rec.EndCallRecord(ctx, r); err != nil {
		e.log.Error("sip: end transfer leg record", "call", c.id, "leg", st.id, "error", err)
	}
	e.log.Info("sip: transfer leg not served", "call", c.id, "leg", st.id, "group", group,
		"queue_wait", wait, "result", r.Result, "hangup_by", r.HangupBy, "abandoned", r.Abandoned)
}

// offerSpec is what an offer of a queue call to an agent carries.
type offerSpec struct {
	callID   string // the customer call
	offerID  string // X-Call-ID: the call's, or its transfer leg's
	customer string
	number   string // center number
	group    string
	typ      callcenter.CallType
	// callCtx ends with the customer leg.
	callCtx context.Context
	offers  *sync.WaitGroup
}

// offerLeg rings workNumber with a queue call (InboundCall.Offer's
// contract) and returns its answered leg, owned by ac.
func offerLeg(ctx context.Context, ac anchored, sp offerSpec, workNumber string, ringTimeout time.Duration) (*AgentLeg, error) {
	e := ac.edge()
	if ringTimeout <= 0 {
		ringTimeout = e.ringTimeout
	}
	if sp.callCtx.Err() != nil {
		return nil, fmt.Errorf("offer call %s to %s: %w", sp.callID, workNumber, ErrCallEnded)
	}
	lctx, cancel := context.WithTimeout(sp.callCtx, 5*time.Second)
	t, code := e.agentTarget(lctx, ac.base(), workNumber, sip.Uri{Scheme: "sip", User: sp.customer, Host: e.host})
	cancel()
	if code != 0 {
		if code == 480 {
			return nil, fmt.Errorf("offer call %s to %s: %w", sp.callID, workNumber, ErrUnreachable)
		}
		return nil, fmt.Errorf("offer call %s to %s: %w", sp.callID, workNumber, &StatusError{Code: code, Reason: reasonPhrase(code)})
	}
	sp.offers.Add(1)
	defer sp.offers.Done()

	out, err := e.dg.NewDialog(t.uri, diago.NewDialogOptions{Transport: t.transport})
	if err != nil {
		return nil, fmt.Errorf("offer call %s to %s: %w", sp.callID, workNumber, err)
	}
	headers := []sip.Header{
		&sip.FromHeader{Address: t.from, Params: sip.NewParams()},
		sip.NewHeader(HeaderCallID, sp.offerID),
		sip.NewHeader(HeaderCallType, sp.typ.String()),
		sip.NewHeader(HeaderCaller, sp.customer),
		sip.NewHeader(HeaderNumber, sp.number),
	}
	if sp.offerID != sp.callID {
		headers = append(headers, sip.NewHeader(HeaderParentCallID, sp.callID))
	}
	if sp.group != "" {
		headers = append(headers, sip.NewHeader(HeaderGroup, sp.group))
	}
	e.emitLeg(sp, workNumber, callcenter.CallRinging, callcenter.ResultUnknown, callcenter.PartyNone)

	ringCtx, cancelRing := context.WithTimeout(ctx, ringTimeout)
	defer cancelRing()
	stop := context.AfterFunc(sp.callCtx, cancelRing)
	err = out.Invite(ringCtx, diago.InviteClientOptions{
		Headers: headers,
		OnResponse: func(res *sip.Response) error {
			if res.IsSuccess() && !sdpSafe(res.Body()) {
				return errUnsafeSDP
			}
			return nil
		},
	})
	stop()
	if err != nil {
		defer out.Close()
		var ferr error
		res := callcenter.ResultFailed
		switch {
		case errors.Is(err, errUnsafeSDP):
			hctx, cancel := context.WithTimeout(context.WithoutCancel(e.ctx), 2*time.Second)
			if err := out.DialogClientSession.Ack(hctx); err == nil {
				out.DialogClientSession.Bye(hctx)
			}
			cancel()
			ferr = &StatusError{Code: 502, Reason: "unparsable SDP answer"}
		case sp.callCtx.Err() != nil:
			res, ferr = callcenter.ResultCancelled, ErrCallEnded
		case ctx.Err() != nil:
			res, ferr = callcenter.ResultCancelled, ctx.Err()
		case errors.Is(ringCtx.Err(), context.DeadlineExceeded):
			res, ferr = callcenter.ResultNoAnswer, ErrNoAnswer
		default:
			code := responseCode(err)
			res, ferr = resultFor(code), &StatusError{Code: code, Reason: reasonPhrase(code)}
		}
		e.emitLeg(sp, workNumber, callcenter.CallEnded, res, callcenter.PartyNone)
		return nil, fmt.Errorf("offer call %s to %s: %w", sp.callID, workNumber, ferr)
	}
	if err := out.Ack(context.WithoutCancel(ringCtx)); err != nil {
		e.log.Warn("sip: ack agent", "call", sp.callID, "agent", workNumber, "error", err)
	}
	return &AgentLeg{owner: ac, agent: workNumber, dlg: out, answeredAt: e.now(), id: sp.offerID, kind: LegToAgent, name: "agent:" + workNumber}, nil
}

// emitLeg tells the observer about one agent's offer of a queue call.
func (e *Edge) emitLeg(sp offerSpec, agent string, st callcenter.CallState, res callcenter.Result, by callcenter.Party) {
	if e.onCall == nil {
		return
	}
	e.onCall(callcenter.CallEvent{
		CallID: sp.offerID, Type: sp.typ, State: st, From: sp.customer, To: agent,
		Agents: []string{agent}, Number: sp.number, At: e.now(), Result: res, HangupBy: by,
	})
}

// customerHearsAll lets the customer hear every source and leg in the
// room again. Call control narrows the customer's hearing to the agents
// it talks with (hold, consult); once those left for a queue, the queue's
// music and prompts, and the next agent, must reach the customer.
func customerHearsAll(room *cmedia.Room) {
	if p := room.Participant(CustomerLeg); p != nil {
		p.SetHears(cmedia.HearAll)
	}
}

// customerKeys routes a room's DTMF: the customer's digits to keys (an
// IVR reads them; dropped past its buffer), anyone else's on to whoever
// hears them (an agent driving a far end's IVR).
func customerKeys(room *cmedia.Room, keys chan rune) {
	room.OnDTMF(func(p *cmedia.Participant, d rune) {
		if p.Name() != CustomerLeg {
			forwardDTMF(room, p, d)
			return
		}
		select {
		case keys <- d:
		default:
		}
	})
}

// transferRecord begins the record of an agent bridged from a queue
// after the customer's first agent left (a transfer to a group): its own
// record, linked to the customer call, carrying the group and the wait.
func transferRecord(ac anchored, leg *AgentLeg, typ callcenter.CallType, customer, number, group string, wait time.Duration) {
	e, c := ac.edge(), ac.base()
	// leg.id is the transfer's id already (Offer): the one its offers
	// and screen pop carried.
	leg.notify = []string{leg.agent}
	leg.rec = &callcenter.CallRecord{CallID: leg.id, Type: typ, Caller: customer, Callee: leg.agent, Agent: leg.agent,
		Number: number, StartedAt: leg.answeredAt, AnsweredAt: leg.answeredAt, Group: group, QueueWait: wait, ParentID: c.id}
	if ms := leg.dlg.Media().MediaSession(); ms != nil {
		leg.rec.Codec = media.CodecAudioFromSession(ms).Name
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(e.ctx), 5*time.Second)
	if err := e.rec.BeginCallRecord(rctx, *leg.rec); err != nil {
		e.log.Error("sip: begin transfer record", "call", c.id, "leg", leg.id, "error", err)
	}
	cancel()
	leg.emit(callcenter.CallTalking, callcenter.ResultAnswered, callcenter.PartyNone)
	track(ac, leg)
}
