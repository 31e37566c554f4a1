package sipedge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agentphone/agentphone/audio"
	"github.com/agentphone/agentphone/callcenter"
	cmedia "github.com/agentphone/agentphone/callcenter/media"
	"github.com/emiago/diago"
	"github.com/emiago/sipgo/sip"
)

// HeaderGroup names the skill group a queue call comes from, on offers to
// agents.
const HeaderGroup = "X-Group"

// CustomerLeg is the customer's participant name in an inbound call's room.
const CustomerLeg = "customer"

// InboundHandler takes over a carrier call to an enabled center number. It
// runs on the call's goroutine and owns the call until it returns; the
// edge then hangs up whatever is left and writes the call's one record.
// ctx ends when the customer hangs up or the edge closes.
type InboundHandler func(ctx context.Context, c *InboundCall)

// WithInbound hands every trunk call to an enabled center number to h
// instead of ringing Number.RouteAgent directly (the foundation's
// behaviour, kept when no handler is set). Unknown and disabled numbers are
// still refused with 404 before h sees them.
func WithInbound(h InboundHandler) Option { return func(e *Edge) { e.inbound = h } }

// LegState is an agent leg's state, for AgentActivity.
type LegState int

const (
	LegRinging LegState = iota // the agent's phone rings, or the agent dials
	LegTalking                 // answered
	LegEnded                   // hung up, refused or given up
)

func (s LegState) String() string {
	return [...]string{"ringing", "talking", "ended"}[s]
}

// AgentActivity reports what one agent's leg of a call the B2BUA bridges
// (internal and outbound calls, and inbound calls when no InboundHandler is
// set) is doing, so agent states follow every call and not only queue
// calls. Queue calls through an InboundHandler are reported by the handler.
type AgentActivity struct {
	Agent  string // work number
	CallID string
	Type   callcenter.CallType
	State  LegState
	// Outgoing is true when the agent placed the call.
	Outgoing bool
	Peer     string // the other side: a number or a work number
	Number   string // center number involved, if any
	At       time.Time
}

// WithAgentActivity is told when an agent leg rings, is answered and ends.
// It is called from the call's goroutine and must not block.
func WithAgentActivity(f func(AgentActivity)) Option { return func(e *Edge) { e.onActivity = f } }

// Errors of InboundCall.Offer.
var (
	// ErrNoAnswer: the agent's phone rang for the whole ring timeout.
	ErrNoAnswer = errors.New("sipedge: agent did not answer")
	// ErrUnreachable: the agent has no registered phone (or is unknown or
	// disabled).
	ErrUnreachable = errors.New("sipedge: agent unreachable")
	// ErrCallEnded: the customer hung up or the call was otherwise over.
	ErrCallEnded = errors.New("sipedge: call ended")
	// ErrNotAnswered: the customer leg must be answered first.
	ErrNotAnswered = errors.New("sipedge: customer leg not answered")
)

// InboundCall is a carrier call handed to an InboundHandler. The customer
// leg is answered into a media.Room where it hears the room's prompt and
// music sources; agents are offered the call and one is bridged in.
type InboundCall struct {
	e      *Edge
	c      *call
	num    callcenter.Number
	ctx    context.Context // the customer leg (and the edge)
	keys   chan rune
	offers sync.WaitGroup

	mu       sync.Mutex
	answered bool
	rejected bool
	room     *cmedia.Room
	sources  map[string]*cmedia.Participant
	bridged  *AgentLeg
	// first is the first agent bridged (the customer call's record is
	// its); legs are the consult and transfer legs placed since, hung up
	// with the call. transferred: the first agent left, so a later
	// Bridge is a transfer leg with a record of its own.
	first       *AgentLeg
	legs        []*AgentLeg
	transferred bool
	// transferID is the id of the transfer leg the queue is looking for
	// after the bridged agent left (OfferID).
	transferID string
	// customerEnd is when the customer hung up: the customer call's
	// record ends then even when a consult between agents goes on.
	customerEnd time.Time
	group       string
	queueWait   time.Duration
	// legGroup and legWait are the queue stay after a transfer to a
	// group: the transfer leg's record gets them.
	legGroup string
	legWait  time.Duration
	// stay is the transfer leg a transfer to a group opened
	// (StartTransferLeg); close records it if no agent took it.
	stay    *transferStay
	outcome *outcome
}

type outcome struct {
	res callcenter.Result
	by  callcenter.Party
}

// ID is the call's id (the record's key; X-Call-ID on offers).
func (ic *InboundCall) ID() string { return ic.c.id }

// Caller is the customer's number.
func (ic *InboundCall) Caller() string { return ic.c.caller }

// Number is the center number the customer dialled.
func (ic *InboundCall) Number() callcenter.Number { return ic.num }

// StartedAt is when the INVITE arrived.
func (ic *InboundCall) StartedAt() time.Time { return ic.c.startedAt }

// Context ends when the customer hangs up or the edge closes.
func (ic *InboundCall) Context() context.Context { return ic.ctx }

// Keys delivers the customer's DTMF digits (RFC 4733) once answered. Digits
// nobody reads are dropped past a small buffer.
func (ic *InboundCall) Keys() <-chan rune { return ic.keys }

// Room is the call's media room, nil before Answer.
func (ic *InboundCall) Room() *cmedia.Room {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	return ic.room
}

// CenterNumber is the center number the customer dialled.
func (ic *InboundCall) CenterNumber() string { return ic.num.E164 }

// SetGroup records the skill group the call queued in: the customer
// call's record keeps the group of its first stay; after a transfer to a
// group it is the transfer leg's.
func (ic *InboundCall) SetGroup(name string) {
	ic.mu.Lock()
	if ic.transferred {
		ic.legGroup = name
	} else {
		ic.group = name
	}
	ic.mu.Unlock()
}

// SetQueueWait records how long the customer waited for an agent (the
// first stay on the call's record, later ones on their transfer legs').
func (ic *InboundCall) SetQueueWait(d time.Duration) {
	ic.mu.Lock()
	if ic.transferred {
		ic.legWait = d
	} else {
		ic.queueWait = d
	}
	ic.mu.Unlock()
}

// SetOutcome sets the record's result and who ended the call, for calls
// that end without an agent for a reason the edge cannot see (a voicemail
// message, an IVR goodbye, a group nobody serves). A customer hanging up
// first still counts as abandoned.
func (ic *InboundCall) SetOutcome(res callcenter.Result, by callcenter.Party) {
	ic.mu.Lock()
	ic.outcome = &outcome{res, by}
	if ic.stay != nil && !ic.stay.bridged {
		ic.stay.outcome = ic.outcome
	}
	ic.mu.Unlock()
}

// StartTransferLeg opens the transfer leg (OfferID) of a transfer to
// group: its record is written at the call's end if no agent takes it.
// It does nothing before the customer's agent left.
func (ic *InboundCall) StartTransferLeg(group string) {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	if !ic.transferred || ic.transferID == "" {
		return
	}
	ic.stay = startStay(ic.stay, ic.transferID, ic.e.now())
	// This stay's group and wait, not an earlier stay's.
	ic.legGroup, ic.legWait = group, 0
}

// Reject refuses the unanswered call with a final status (e.g. 404 for a
// number routed nowhere, 486 when the queue is full).
func (ic *InboundCall) Reject(code int) error {
	if code < 400 || code > 699 {
		return fmt.Errorf("reject call %s with %d: not a failure status", ic.c.id, code)
	}
	ic.mu.Lock()
	defer ic.mu.Unlock()
	if ic.answered || ic.rejected {
		return fmt.Errorf("reject call %s: already answered or rejected", ic.c.id)
	}
	ic.rejected = true
	if ic.outcome == nil {
		ic.outcome = &outcome{resultFor(code), callcenter.PartySystem}
	}
	if err := ic.c.in.Respond(code, reasonPhrase(code), nil); err != nil {
		return fmt.Errorf("reject call %s: %w", ic.c.id, err)
	}
	return nil
}

// Answer answers the customer leg (G.711) and joins it to a new room, in
// which it hears every source played with Play and, once bridged, the
// agent. It is a no-op when already answered.
func (ic *InboundCall) Answer(ctx context.Context) error {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	if ic.answered {
		return nil
	}
	if ic.rejected {
		return fmt.Errorf("answer call %s: %w", ic.c.id, ErrCallEnded)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("answer call %s: %w", ic.c.id, err)
	}
	if err := ic.c.in.AnswerOptions(diago.AnswerOptions{Codecs: trunkCodecs()}); err != nil && !answerSent(ic.c.in) {
		return fmt.Errorf("answer call %s: %w: %v", ic.c.id, ErrCallEnded, err)
	}
	ic.answered = true
	room := cmedia.NewRoom(ic.c.id, cmedia.WithLogger(ic.e.log))
	cfg, err := legConfig(CustomerLeg, &ic.c.in.DialogMedia)
	if err == nil {
		_, err = room.Join(context.WithoutCancel(ic.e.ctx), cfg)
	}
	if err != nil {
		room.Close()
		return fmt.Errorf("answer call %s: %w", ic.c.id, err)
	}
	customerKeys(room, ic.keys)
	ic.room = room
	return nil
}

// Play adds a source the customer hears (a prompt, hold music) under name,
// at rate Hz (0: audio.DeviceRate), until stop is called, ctx ends or an
// agent is bridged. Playing under a name in use replaces that source.
func (ic *InboundCall) Play(ctx context.Context, name string, src audio.Source, rate int) (stop func(), err error) {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	if ic.room == nil {
		return nil, fmt.Errorf("play %s on call %s: %w", name, ic.c.id, ErrNotAnswered)
	}
	if ic.bridged != nil {
		return nil, fmt.Errorf("play %s on call %s: agent bridged", name, ic.c.id)
	}
	if name == CustomerLeg || name == "" {
		return nil, fmt.Errorf("play on call %s: bad source name %q", ic.c.id, name)
	}
	if old := ic.sources[name]; old != nil {
		old.Leave()
		delete(ic.sources, name)
	}
	p, err := ic.room.Join(ctx, cmedia.ParticipantConfig{Name: name, Source: src, Rate: rate, Speaks: true, Hears: cmedia.HearNone})
	if err != nil {
		return nil, fmt.Errorf("play %s on call %s: %w", name, ic.c.id, err)
	}
	ic.sources[name] = p
	customerHearsAll(ic.room)
	return func() {
		ic.mu.Lock()
		if ic.sources[name] == p {
			delete(ic.sources, name)
		}
		ic.mu.Unlock()
		p.Leave()
	}, nil
}

// AgentLeg is an agent's (or an outside number's) answered leg of a
// customer call.
type AgentLeg struct {
	owner      anchored
	agent      string
	dlg        legDialog
	answeredAt time.Time
	closeOnce  sync.Once

	id     string // own call id; the customer call's for queue offers
	kind   LegKind
	name   string // participant name in the room
	notify []string
	// rec is the leg's own record (consult and transfer legs); nil for
	// the first agent, whose leg is the customer call's record.
	rec        *callcenter.CallRecord
	finishOnce sync.Once
	hungUp     atomic.Bool // ended by us, not by its far end
	part       atomic.Pointer[cmedia.Participant]
}

// Agent is the work number whose phone answered.
func (l *AgentLeg) Agent() string { return l.agent }

// AnsweredAt is when the agent answered.
func (l *AgentLeg) AnsweredAt() time.Time { return l.answeredAt }

// Done is closed when the agent hangs up (or the leg is hung up).
func (l *AgentLeg) Done() <-chan struct{} { return l.dlg.Context().Done() }

// Hangup ends the agent's leg (a ring-all loser, or the end of the call).
func (l *AgentLeg) Hangup(ctx context.Context) error {
	var err error
	l.closeOnce.Do(func() {
		if l.dlg.Context().Err() == nil {
			l.hungUp.Store(true)
		}
		err = l.dlg.Hangup(ctx)
		l.dlg.Close()
	})
	// Synchronous: the record is complete when Hangup returns.
	l.finish(callcenter.PartySystem)
	return err
}

// OfferID is the call id queue offers carry (X-Call-ID, the screen pop,
// the offers' rows): the customer call's, or once its agent transferred
// it to a group, the id of the transfer leg whose record the answering
// agent gets, so that agent's screen and history show one id.
func (ic *InboundCall) OfferID() string {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	if ic.transferred && ic.transferID != "" {
		return ic.transferID
	}
	return ic.c.id
}

// Offer rings workNumber's registered phone for at most ringTimeout with
// the call's headers and pop, and returns its leg once answered. It
// returns ErrNoAnswer after the timeout, ErrUnreachable when the agent has
// no phone, a *StatusError when the phone refused, ErrCallEnded when the
// customer hung up, and ctx's error when ctx ended (which sends CANCEL:
// ring-all offers share a ctx cancelled once one answers). Offers may run
// concurrently; the caller hangs up answered legs it does not bridge.
func (ic *InboundCall) Offer(ctx context.Context, workNumber string, ringTimeout time.Duration, pop callcenter.ScreenPop) (*AgentLeg, error) {
	group := pop.Group
	ic.mu.Lock()
	if group == "" {
		group = ic.group
		if ic.transferred && ic.legGroup != "" {
			group = ic.legGroup
		}
	}
	ic.mu.Unlock()
	return offerLeg(ctx, ic, offerSpec{callID: ic.c.id, offerID: ic.OfferID(), customer: ic.c.caller, number: ic.num.E164,
		group: group, typ: callcenter.CallInbound, callCtx: ic.ctx, offers: &ic.offers}, workNumber, ringTimeout)
}

// Bridge joins the answered agent to the customer: the sources stop and
// customer and agent hear each other. The call's record begins here (its
// answer time is the agent's). Only one agent is bridged per call.
func (ic *InboundCall) Bridge(leg *AgentLeg) error {
	if leg == nil || leg.owner != anchored(ic) {
		return fmt.Errorf("bridge call %s: leg of another call", ic.c.id)
	}
	ic.mu.Lock()
	if ic.room == nil {
		ic.mu.Unlock()
		return fmt.Errorf("bridge call %s: %w", ic.c.id, ErrNotAnswered)
	}
	if ic.bridged != nil {
		ic.mu.Unlock()
		return fmt.Errorf("bridge call %s: agent %s already bridged", ic.c.id, ic.bridged.agent)
	}
	if ic.ctx.Err() != nil {
		ic.mu.Unlock()
		return fmt.Errorf("bridge call %s: %w", ic.c.id, ErrCallEnded)
	}
	for name, p := range ic.sources {
		p.Leave()
		delete(ic.sources, name)
	}
	cfg, err := legConfig(leg.name, leg.dlg.Media())
	var p *cmedia.Participant
	if err == nil {
		p, err = ic.room.Join(context.WithoutCancel(ic.e.ctx), cfg)
	}
	if err != nil {
		ic.mu.Unlock()
		return fmt.Errorf("bridge call %s: %w", ic.c.id, err)
	}
	leg.part.Store(p)
	ic.bridged = leg
	customerHearsAll(ic.room)
	if ic.transferred {
		// A transfer to a group reached this agent: the leg gets a record
		// of its own, linked to the customer call.
		if ic.stay != nil {
			ic.stay.bridged = true
		}
		ic.mu.Unlock()
		ic.transferLeg(leg)
		return nil
	}
	ic.first = leg
	c := ic.c
	c.agent, c.callee = leg.agent, leg.agent
	c.agents = []string{leg.agent}
	c.answeredAt = leg.answeredAt
	if out, ok := leg.dlg.(*diago.DialogClientSession); ok {
		c.out = out // queue offers are always dialogs we placed
	}
	c.codec = legCodec(c)
	rec := ic.recordLocked()
	ic.mu.Unlock()

	rctx, cancel := context.WithTimeout(context.WithoutCancel(ic.e.ctx), 5*time.Second)
	defer cancel()
	if err := ic.e.rec.BeginCallRecord(rctx, rec); err != nil {
		ic.e.log.Error("sip: begin call record", "call", c.id, "error", err)
	}
	ic.e.emit(c, callcenter.CallTalking, callcenter.ResultAnswered, callcenter.PartyNone)
	return nil
}

func (ic *InboundCall) recordLocked() callcenter.CallRecord {
	r := ic.c.record()
	r.Group = ic.group
	r.QueueWait = ic.queueWait
	return r
}

// runInbound hands a trunk call to the inbound handler and closes it when
// the handler returns: exactly one record, every leg hung up.
func (e *Edge) runInbound(c *call, req *sip.Request) {
	c.typ = callcenter.CallInbound
	c.caller = req.From().Address.User
	c.callee = req.Recipient.User
	ctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
	num, err := e.dir.NumberByE164(ctx, c.callee)
	cancel()
	if err != nil || num.Disabled {
		code := 404
		if err != nil && !errors.Is(err, callcenter.ErrNotFound) {
			e.log.Error("sip: number lookup failed", "number", c.callee, "error", err)
			code = 500
		}
		e.refuse(c, code, resultFor(code), callcenter.PartySystem)
		return
	}
	c.number = num.E164
	if err := c.in.Trying(); err != nil {
		e.finish(c, callcenter.ResultCancelled, callcenter.PartyCaller)
		return
	}
	callCtx, cancelCall := context.WithCancel(e.ctx)
	defer cancelCall()
	stop := context.AfterFunc(c.in.Context(), cancelCall)
	defer stop()
	ic := &InboundCall{e: e, c: c, num: num, ctx: callCtx, keys: make(chan rune, 32), sources: map[string]*cmedia.Participant{}}
	stopEnd := context.AfterFunc(c.in.Context(), func() {
		ic.mu.Lock()
		ic.customerEnd = e.now()
		ic.mu.Unlock()
	})
	defer stopEnd()
	e.log.Info("sip: inbound call", "call", c.id, "caller", c.caller, "number", num.E164)
	e.emit(c, callcenter.CallRinging, callcenter.ResultUnknown, callcenter.PartyNone)

	e.inbound(callCtx, ic)

	// Offers the handler left running (it should not) end with the call.
	cancelCall()
	ic.offers.Wait()
	ic.close()
}

// close ends an inbound call after its handler: hangs up both legs, closes
// the room and writes the record.
func (ic *InboundCall) close() {
	e, c := ic.e, ic.c
	customerGone := c.in.Context().Err() != nil
	ic.mu.Lock()
	room, answered, rejected := ic.room, ic.answered, ic.rejected
	legs := slices.Clone(ic.legs)
	for _, l := range []*AgentLeg{ic.first, ic.bridged} {
		if l != nil && !slices.Contains(legs, l) {
			legs = append(legs, l)
		}
	}
	oc := ic.outcome
	rec := ic.recordLocked()
	customerEnd := ic.customerEnd
	var stay *transferStay
	if ic.stay != nil && !ic.stay.bridged {
		st := *ic.stay
		stay = &st
	}
	legGroup, legWait := ic.legGroup, ic.legWait
	ic.mu.Unlock()
	live := false
	for _, l := range legs {
		live = live || l.dlg.Context().Err() == nil
	}

	var res callcenter.Result
	var by callcenter.Party
	switch {
	case !c.answeredAt.IsZero():
		res = callcenter.ResultAnswered
		switch {
		case customerGone:
			by = callcenter.PartyCaller
		case !live:
			by = callcenter.PartyCallee
		default:
			by = callcenter.PartySystem
		}
	case customerGone && !rejected:
		// The customer gave up in the IVR or the queue.
		res, by = callcenter.ResultCancelled, callcenter.PartyCaller
		rec.Abandoned = true
	case oc != nil:
		res, by = oc.res, oc.by
	default:
		res, by = callcenter.ResultFailed, callcenter.PartySystem
	}

	if room != nil {
		room.Close()
	}
	hctx, cancel := context.WithTimeout(context.WithoutCancel(e.ctx), 5*time.Second)
	defer cancel()
	for _, l := range legs {
		if err := l.Hangup(hctx); err != nil {
			e.log.Debug("sip: hangup agent", "call", c.id, "leg", l.id, "error", err)
		}
	}
	switch {
	case answered:
		if err := c.in.Hangup(hctx); err != nil {
			e.log.Debug("sip: hangup caller", "call", c.id, "error", err)
		}
	case !rejected && !customerGone:
		// The handler returned without answering or rejecting.
		code := 480
		if e.ctx.Err() != nil {
			code = 503
		}
		if err := c.in.Respond(code, reasonPhrase(code), nil); err != nil {
			e.log.Debug("sip: respond failed", "status", code, "error", err)
		}
	}

	if stay != nil {
		unservedRecord(ic, *stay, c.typ, c.caller, ic.num.E164, legGroup, legWait, customerGone, customerEnd)
	}
	rec.EndedAt = e.now()
	if customerGone && !customerEnd.IsZero() {
		rec.EndedAt = customerEnd
	}
	rec.Result = res
	rec.HangupBy = by
	if err := e.rec.EndCallRecord(hctx, rec); err != nil {
		e.log.Error("sip: end call record", "call", c.id, "error", err)
	}
	e.log.Info("sip: inbound call ended", "call", c.id, "caller", c.caller, "agent", c.agent,
		"group", rec.Group, "queue_wait", rec.QueueWait, "result", res, "hangup_by", by, "abandoned", rec.Abandoned)
	e.emit(c, callcenter.CallEnded, res, by)
}

// activity tells the activity observer about the agent legs of a bridged
// call.
func (e *Edge) activity(c *call, st LegState) {
	if e.onActivity == nil {
		return
	}
	now := e.now()
	if c.typ == callcenter.CallInternal || c.typ == callcenter.CallAgentOutbound {
		e.onActivity(AgentActivity{Agent: c.caller, CallID: c.id, Type: c.typ, State: st, Outgoing: true,
			Peer: c.callee, Number: c.number, At: now})
	}
	if (c.typ == callcenter.CallInternal || c.typ == callcenter.CallInbound) && c.callee != "" && c.callee != c.caller {
		e.onActivity(AgentActivity{Agent: c.callee, CallID: c.id, Type: c.typ, State: st,
			Peer: c.caller, Number: c.number, At: now})
	}
}
