package main

// Call control on calls an agent placed to an outside number, consults and
// transfers to outside numbers, and DTMF to the far end: the real
// callcenterd with pstnsim as the carrier, audio checked by tones.

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/agentphone/agentphone/audio"
	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/api"
	"github.com/agentphone/agentphone/callcenter/client"
	"github.com/agentphone/agentphone/callcenter/pstnsim"
	"github.com/agentphone/agentphone/phone"
)

// outsideTone is the voice of the second outside party (pstnsim's calls
// after the first): the customer keeps custTone.
const outsideTone = 1200

// startOutside runs callcenterd and pstnsim like startInbound, but the
// carrier's second and later calls speak outsideTone, so a customer and
// an outside party are told apart.
func startOutside(t *testing.T) (*instance, *pstnsim.Sim) {
	t.Helper()
	leakCheck(t)
	first, err := pstnsim.ParseVoice("tone:1500")
	if err != nil {
		t.Fatal(err)
	}
	later, err := pstnsim.ParseVoice("tone:1200")
	if err != nil {
		t.Fatal(err)
	}
	sim, err := pstnsim.New(pstnsim.WithListen("127.0.0.1:0"), pstnsim.WithRingTime(400*time.Millisecond),
		pstnsim.WithLogger(testLog(t).With("part", "pstnsim")),
		pstnsim.WithVoice(func(n int) audio.Source {
			if n == 1 {
				return first(n)
			}
			return later(n)
		}))
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Start(context.Background()); err != nil {
		t.Fatalf("start pstnsim: %v", err)
	}
	t.Cleanup(func() { sim.Close() })
	in := startServer(t, sim.Addr())
	if err := sim.SetServer(in.SIPAddr()); err != nil {
		t.Fatal(err)
	}
	tuneGroup(t, in, "sales", func(g *callcenter.SkillGroup) {
		g.RingTimeout, g.ACW, g.ACWDuration, g.MaxWait = fastRing, true, fastACW, fastWait
	})
	tuneGroup(t, in, "support", func(g *callcenter.SkillGroup) {
		g.RingTimeout, g.ACW, g.ACWDuration = fastRing, true, fastACW
	})
	return in, sim
}

// dialOut has the agent's phone dial number; the carrier answers. It
// returns the agent's call, the customer, and the call's id as the
// agent's event stream names it.
func dialOut(t *testing.T, ctx context.Context, sim *pstnsim.Sim, a *agent, w *watcher, number string) (*phone.Call, *pstnsim.Call, string) {
	t.Helper()
	out, err := a.phone.Dial(ctx, number)
	if err != nil {
		t.Fatalf("%s dials %s: %v", a.wn, number, err)
	}
	var cust *pstnsim.Call
	select {
	case cust = <-sim.Answered():
	case <-ctx.Done():
		t.Fatal("the carrier never answered")
	}
	t.Cleanup(func() {
		hctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = cust.Hangup(hctx)
	})
	waitFor(t, 5*time.Second, a.wn+"'s call active", func() bool { return out.State() == phone.Active })
	ev := decode[api.Call](t, w.next(t, api.EventCall, "outbound call talking", func(ev api.Event) bool {
		c := decode[api.Call](t, ev)
		return c.State == "talking" && c.To == number
	}))
	return out, cust, ev.ID
}

func partyNamed(cc api.CallControl, id string) api.Party {
	for _, p := range cc.Parties {
		if p.ID == id {
			return p
		}
	}
	return api.Party{}
}

// TestControlOutboundCall: 1001 dials an outside number; its keypad and
// the DTMF endpoint both reach the customer (RFC 4733, recorded by
// pstnsim); hold (customer hears music, 1001 nothing), resume; consult
// 1002 (customer on music, the agents hear each other only), three-way
// (each hears the other two), 1001 leaves and the customer talks on with
// 1002. Records: the outbound call's and the consult leg's, linked.
func TestControlOutboundCall(t *testing.T) {
	in, sim := startOutside(t)
	a1 := newAgent(t, in, "1001", tone1001)
	a2 := newAgent(t, in, "1002", tone1002)
	w1 := watch(t, "1001", a1.api)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	const number = "13912345678"

	out, cust, callID := dialOut(t, ctx, sim, a1, w1, number)
	talk(t, a1, cust, tone1001)

	// DTMF: the agent's keypad through the room, then the API.
	if err := out.SendDTMF("12#"); err != nil {
		t.Fatalf("keypad: %v", err)
	}
	waitFor(t, 6*time.Second, "the customer receives 12#", func() bool { return cust.Digits() == "12#" })
	if err := a1.api.SendDTMF(ctx, callID, "*9"); err != nil {
		t.Fatalf("DTMF through the API: %v", err)
	}
	waitFor(t, 6*time.Second, "the customer receives *9", func() bool { return cust.Digits() == "12#*9" })
	refusedWith(t, "DTMF by an agent not in the call", a2.api.SendDTMF(ctx, callID, "1"), api.CodeNotInCall)

	// Hold and resume.
	cc, err := a1.api.Hold(ctx, callID)
	if err != nil || cc.State != api.ControlHeld {
		t.Fatalf("hold: %+v, %v", cc, err)
	}
	if p := partyNamed(cc, "1001"); p.Name != "Li Lei" || p.Speaks {
		t.Errorf("1001 on hold: %+v", p)
	}
	if p := partyNamed(cc, number); p.Kind != "customer" || p.State != "held" {
		t.Errorf("customer on hold: %+v", p)
	}
	customerHearsMusic(t, cust, tone1001)
	agentHearsNone(t, a1, custTone)
	if cc, err := a1.api.Resume(ctx, callID); err != nil || cc.State != api.ControlTalking {
		t.Fatalf("resume: %+v, %v", cc, err)
	}
	customerHearsAll(t, cust, tone1001)
	agentHearsAll(t, a1, custTone)

	// Consult 1002 (busy after login: refused), then idle.
	_, err = a1.api.Consult(ctx, callID, api.Target{Kind: api.TargetAgent, To: "1002"})
	refusedWith(t, "consult busy 1002", err, api.CodeAgentBusy)
	setIdle(t, a2)
	if cc, err := a1.api.Consult(ctx, callID, api.Target{Kind: api.TargetAgent, To: "1002"}); err != nil || cc.State != api.ControlConsulting {
		t.Fatalf("consult: %+v, %v", cc, err)
	}
	ring := a2.nextCall(t, phone.Ringing)
	if ring.Header("X-Parent-Call-ID") != callID {
		t.Errorf("consult offer's parent %q, want %q", ring.Header("X-Parent-Call-ID"), callID)
	}
	if err := ring.Answer(ctx); err != nil {
		t.Fatalf("1002 answers: %v", err)
	}
	leg2 := ring
	customerHearsMusic(t, cust, tone1001, tone1002)
	agentHearsAll(t, a1, tone1002)
	agentHearsAll(t, a2, tone1001)
	agentHearsNone(t, a2, custTone)

	// Three-way.
	cc, err = a1.api.Conference(ctx, callID)
	if err != nil || cc.State != api.ControlConference {
		t.Fatalf("conference: %+v, %v", cc, err)
	}
	if p := partyNamed(cc, "1002"); p.Name != "Han Meimei" || !p.Speaks {
		t.Errorf("1002 in the conference: %+v", p)
	}
	customerHearsAll(t, cust, tone1001, tone1002)
	agentHearsAll(t, a1, custTone, tone1002)
	agentHearsAll(t, a2, custTone, tone1001)

	// 1001 leaves: the customer and 1002 go on.
	if err := out.Hangup(ctx); err != nil {
		t.Fatalf("1001 hangs up: %v", err)
	}
	talk(t, a2, cust, tone1002)
	agentHearsNone(t, a2, tone1001)
	waitControl(t, w1, api.ControlEnded)
	if cc, err := a2.api.Control(ctx, leg2.Header("X-Call-ID")); err != nil || cc.State != api.ControlTalking || cc.CallID != callID {
		t.Errorf("1002's control: %+v, %v", cc, err)
	}
	hangUp(t, ctx, cust, leg2)

	call, legs := recordsOf(t, in, callID, 2)
	if call.Type != callcenter.CallAgentOutbound || call.Agent != "1001" || call.Callee != number ||
		call.Result != callcenter.ResultAnswered || call.HangupBy != callcenter.PartyCallee {
		t.Errorf("outbound call record %+v", call)
	}
	if l := legs[0]; l.Agent != "1002" || l.Type != callcenter.CallInternal || l.Caller != "1001" || l.Result != callcenter.ResultAnswered {
		t.Errorf("consult leg record %+v", l)
	}
	waitFor(t, 6*time.Second, "1002 idle after the call", func() bool { return idleAgain(status(t, a2)) })
	if st := status(t, a1); st.Activity != "none" {
		t.Errorf("1001 after its call: %+v", st)
	}
}

// TestControlOutboundGroupQueue: a transfer to a group on a call 1001
// placed goes through the group's queue, as on a call that came in
// (SPEC §5). With nobody in support online it is refused at once. With
// 2001 signed in but busy the customer waits in support's queue hearing
// the music (1001 gone); once 2001 is free it is offered the call (the
// transfer leg's own id, the customer call as parent, the group), answers
// and talks with the customer both ways. Records: the call's (1001's)
// and the transfer leg's (2001, support, its queue wait), linked.
func TestControlOutboundGroupQueue(t *testing.T) {
	in, sim := startOutside(t)
	a1 := newAgent(t, in, "1001", tone1001)
	w1 := watch(t, "1001", a1.api)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const number = "13912345678"

	out, cust, callID := dialOut(t, ctx, sim, a1, w1, number)
	talk(t, a1, cust, tone1001)
	_, err := a1.api.Transfer(ctx, callID, api.Target{Kind: api.TargetGroup, To: "support"})
	refusedWith(t, "transfer to support with nobody online", err, api.CodeNoAgentsOnline)

	// 2001 signs in (busy after login): the transfer queues the customer.
	a3 := newAgent(t, in, "2001", tone2001)
	w3 := watch(t, "2001", a3.api)
	if _, err := a1.api.Transfer(ctx, callID, api.Target{Kind: api.TargetGroup, To: "support"}); err != nil {
		t.Fatalf("transfer to support: %v", err)
	}
	waitDone(t, "1001", out)
	waitControl(t, w1, api.ControlEnded)
	w3.wait(t, api.EventGroups, "the customer waiting in support", waitingIn(t, "support", 1))
	customerHearsMusic(t, cust, tone1001)
	noCall(t, a3)
	if st := status(t, a1); st.Activity != "none" {
		t.Errorf("1001 after transferring its call: %+v", st)
	}

	// 2001 frees up: the queue offers it the customer.
	setIdle(t, a3)
	ring := a3.nextCall(t, phone.Ringing)
	legID := ring.Header("X-Call-ID")
	if legID == "" || legID == callID || ring.Header("X-Parent-Call-ID") != callID ||
		ring.Header("X-Caller") != number || ring.Header("X-Group") != "support" {
		t.Errorf("queue offer headers: id %q parent %q caller %q group %q (call %s)", legID,
			ring.Header("X-Parent-Call-ID"), ring.Header("X-Caller"), ring.Header("X-Group"), callID)
	}
	if err := ring.Answer(ctx); err != nil {
		t.Fatalf("2001 answers: %v", err)
	}
	talk(t, a3, cust, tone2001)
	customerHearsAll(t, cust, tone2001)
	agentHearsAll(t, a3, custTone)
	// 2001 has the call's control: on hold it hears nothing.
	cc, err := a3.api.Hold(ctx, legID)
	if err != nil || cc.State != api.ControlHeld || cc.CallID != callID {
		t.Fatalf("2001 holds: %+v, %v", cc, err)
	}
	agentHearsNone(t, a3, custTone)
	if cc, err := a3.api.Resume(ctx, callID); err != nil || cc.State != api.ControlTalking {
		t.Fatalf("2001 resumes: %+v, %v", cc, err)
	}
	customerHearsAll(t, cust, tone2001)
	agentHearsAll(t, a3, custTone)
	hangUp(t, ctx, cust, ring)
	w3.waitStatus(t, "after-call work (support's)", isActivity("acw"))

	call, legs := recordsOf(t, in, callID, 2)
	if call.Agent != "1001" || call.Type != callcenter.CallAgentOutbound || call.Callee != number ||
		call.Result != callcenter.ResultAnswered || call.HangupBy != callcenter.PartyCallee {
		t.Errorf("call record %+v", call)
	}
	l := legs[0]
	if l.CallID != legID || l.Agent != "2001" || l.Type != callcenter.CallAgentOutbound || l.Caller != number ||
		l.Group != "support" || l.Result != callcenter.ResultAnswered {
		t.Errorf("transfer leg record %+v", l)
	}
	// The customer waited at least the music check and the offer.
	if l.QueueWait < window || l.QueueWait > 30*time.Second {
		t.Errorf("transfer leg's queue wait %v", l.QueueWait)
	}
}

// TestControlOutboundGroupIVR: a group with an IVR menu: on a call 1001
// placed, a transfer to that group plays the menu to the customer and
// offers nobody (2001 is idle) until the customer keys its choice; then
// the queue rings 2001, who talks with the customer.
func TestControlOutboundGroupIVR(t *testing.T) {
	in, sim := startOutside(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	menu := callcenter.IVRMenu{Name: "support_menu", Prompt: "welcome_main",
		Choices: map[rune]callcenter.IVRAction{'3': {Kind: callcenter.IVRGroup, Target: "support"}},
		Timeout: 20 * time.Second, MaxTries: 1, OnFail: callcenter.IVRAction{Kind: callcenter.IVRHangup}}
	if _, err := in.st.PutIVRMenu(ctx, menu); err != nil {
		t.Fatalf("IVR menu: %v", err)
	}
	tuneGroup(t, in, "support", func(g *callcenter.SkillGroup) { g.IVR = menu.Name })
	a1 := newAgent(t, in, "1001", tone1001)
	a3 := newAgent(t, in, "2001", tone2001)
	w1 := watch(t, "1001", a1.api)
	setIdle(t, a3)

	out, cust, callID := dialOut(t, ctx, sim, a1, w1, "13912345678")
	talk(t, a1, cust, tone1001)
	if _, err := a1.api.Transfer(ctx, callID, api.Target{Kind: api.TargetGroup, To: "support"}); err != nil {
		t.Fatalf("transfer to support: %v", err)
	}
	waitDone(t, "1001", out)
	// The menu's prompt (speech: its pauses are not checked), and nobody
	// rung while the customer has not chosen.
	waitFor(t, 6*time.Second, "the customer hears the group's menu", func() bool {
		s := lastReceived(cust)
		return len(s) > 0 && audio.DBFS(s) > -45 && absent(s, 8000, tone1001) && absent(s, 8000, tone2001)
	})
	time.Sleep(time.Second)
	noCall(t, a3)
	if err := cust.SendDTMF(ctx, "3"); err != nil {
		t.Fatalf("customer keys 3: %v", err)
	}
	ring := a3.nextCall(t, phone.Ringing)
	if ring.Header("X-Parent-Call-ID") != callID || ring.Header("X-Group") != "support" {
		t.Errorf("queue offer after the IVR: parent %q group %q", ring.Header("X-Parent-Call-ID"), ring.Header("X-Group"))
	}
	if err := ring.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	talk(t, a3, cust, tone2001)
	hangUp(t, ctx, cust, ring)
	_, legs := recordsOf(t, in, callID, 2)
	if l := legs[0]; l.Agent != "2001" || l.Group != "support" || l.Result != callcenter.ResultAnswered {
		t.Errorf("transfer leg record %+v", l)
	}
}

// answeredOutside waits for the carrier to answer a call to an outside
// number.
func answeredOutside(t *testing.T, ctx context.Context, sim *pstnsim.Sim) *pstnsim.Call {
	t.Helper()
	select {
	case c := <-sim.Answered():
		t.Cleanup(func() {
			hctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = c.Hangup(hctx)
		})
		return c
	case <-ctx.Done():
		t.Fatal("the carrier never answered the outside number")
		return nil
	}
}

// backWithNotice waits for the control event that returns the customer to
// the agent with a notice code.
func backWithNotice(t *testing.T, w *watcher, code string) api.CallControl {
	t.Helper()
	return decode[api.CallControl](t, w.next(t, api.EventControl, "back with notice "+code, func(ev api.Event) bool {
		cc := decode[api.CallControl](t, ev)
		return cc.State == api.ControlTalking && cc.Notice != nil && cc.Notice.Code == code
	}))
}

// TestControlConsultOutsideNumber: 1001, on a hotline call, consults a
// busy number (number_busy) and blind-transfers to an invalid one
// (invalid_number): each time the customer is back with 1001 at once.
// Then it consults an outside number that answers: the customer hears
// music, 1001 and the outside party hear each other only, DTMF goes to
// the consulted party; three-way: each hears the other two; 1001 leaves
// and customer and outside party talk on. One record per leg, linked.
func TestControlConsultOutsideNumber(t *testing.T) {
	in, sim := startOutside(t)
	a1 := newAgent(t, in, "1001", tone1001)
	w1 := watch(t, "1001", a1.api)
	setIdle(t, a1)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	cust := callHotline(t, ctx, sim, "1")
	leg1 := answerCall(t, ctx, a1)
	callID := leg1.Header("X-Call-ID")
	talk(t, a1, cust, tone1001)
	cc, err := a1.api.Control(ctx, callID)
	if err != nil {
		t.Fatal(err)
	}
	if p := partyNamed(cc, customer); p.Kind != "customer" || p.Name != "张伟" {
		t.Errorf("customer party %+v, want the customer library's name", p)
	}

	// Busy and invalid numbers.
	const busy, invalid, outside = "13912340486", "13912340404", "13912345678"
	if cc, err := a1.api.Consult(ctx, callID, api.Target{Kind: api.TargetNumber, To: busy}); err != nil || cc.State != api.ControlConsulting {
		t.Fatalf("consult %s: %+v, %v", busy, cc, err)
	}
	if n := backWithNotice(t, w1, api.CodeNumberBusy).Notice; !strings.Contains(n.Message, busy) {
		t.Errorf("busy notice %+v does not name the number", n)
	}
	customerHearsAll(t, cust, tone1001)
	agentHearsAll(t, a1, custTone)
	if cc, err := a1.api.Transfer(ctx, callID, api.Target{Kind: api.TargetNumber, To: invalid}); err != nil || cc.State != api.ControlTransferring {
		t.Fatalf("transfer to %s: %+v, %v", invalid, cc, err)
	}
	backWithNotice(t, w1, api.CodeNumberInvalid)
	customerHearsAll(t, cust, tone1001)
	agentHearsAll(t, a1, custTone)
	_, err = a1.api.Consult(ctx, callID, api.Target{Kind: api.TargetNumber, To: "12a"})
	if ae := (*client.Error)(nil); !errors.As(err, &ae) || ae.Code != api.CodeBadRequest {
		t.Errorf("consult a non-number: %v, want %s", err, api.CodeBadRequest)
	}

	// A consult that answers.
	if _, err := a1.api.Consult(ctx, callID, api.Target{Kind: api.TargetNumber, To: outside}); err != nil {
		t.Fatalf("consult %s: %v", outside, err)
	}
	other := answeredOutside(t, ctx, sim)
	if other.From == customer {
		t.Errorf("the outside party sees the customer's number %s as caller; want a center number", other.From)
	}
	customerHearsMusic(t, cust, tone1001, outsideTone)
	agentHearsAll(t, a1, outsideTone)
	agentHearsNone(t, a1, custTone)
	customerHearsAll(t, other, tone1001)
	waitFor(t, 6*time.Second, "the outside party does not hear the customer", func() bool {
		return absent(lastReceived(other), 8000, custTone)
	})
	if err := a1.api.SendDTMF(ctx, callID, "7"); err != nil {
		t.Fatalf("DTMF while consulting: %v", err)
	}
	waitFor(t, 6*time.Second, "the consulted party receives 7", func() bool { return other.Digits() == "7" })
	if d := cust.Digits(); d != "" {
		t.Errorf("the held customer received digits %q", d)
	}

	// Three-way, then 1001 leaves.
	if cc, err := a1.api.Conference(ctx, callID); err != nil || cc.State != api.ControlConference {
		t.Fatalf("conference: %+v, %v", cc, err)
	}
	customerHearsAll(t, cust, tone1001, outsideTone)
	customerHearsAll(t, other, tone1001, custTone)
	agentHearsAll(t, a1, custTone, outsideTone)
	if err := leg1.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	customerHearsAll(t, cust, outsideTone)
	customerHearsAll(t, other, custTone)
	waitFor(t, 6*time.Second, "1001 gone from the customer's ear", func() bool {
		return absent(lastReceived(cust), 8000, tone1001)
	})
	if err := cust.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-other.Done():
	case <-time.After(6 * time.Second):
		t.Fatal("the outside party is still connected after the customer hung up")
	}

	call, legs := recordsOf(t, in, callID, 4)
	if call.Agent != "1001" || call.Result != callcenter.ResultAnswered {
		t.Errorf("call record %+v", call)
	}
	results := map[string]callcenter.Result{}
	for _, l := range legs {
		results[l.Callee] = l.Result
		if l.Agent != "1001" || l.Type != callcenter.CallAgentOutbound {
			t.Errorf("leg record %+v", l)
		}
	}
	if results[busy] != callcenter.ResultBusy || results[invalid] != callcenter.ResultInvalid || results[outside] != callcenter.ResultAnswered {
		t.Errorf("leg results %v", results)
	}
}

// TestControlTransferOutsideNumber: a blind transfer of a hotline call to
// an outside number: the customer hears music while it rings, then talks
// with the outside party; 1001 is gone (after-call work). The transfer
// leg's record is the customer's call to that number.
func TestControlTransferOutsideNumber(t *testing.T) {
	in, sim := startOutside(t)
	a1 := newAgent(t, in, "1001", tone1001)
	w1 := watch(t, "1001", a1.api)
	setIdle(t, a1)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	cust := callHotline(t, ctx, sim, "1")
	leg1 := answerCall(t, ctx, a1)
	callID := leg1.Header("X-Call-ID")
	talk(t, a1, cust, tone1001)
	const outside = "13912340000" // answers after the full ring time
	if cc, err := a1.api.Transfer(ctx, callID, api.Target{Kind: api.TargetNumber, To: outside}); err != nil || cc.State != api.ControlTransferring {
		t.Fatalf("transfer: %+v, %v", cc, err)
	}
	customerHearsMusic(t, cust, tone1001)
	other := answeredOutside(t, ctx, sim)
	waitDone(t, "1001", leg1)
	customerHearsAll(t, cust, outsideTone)
	customerHearsAll(t, other, custTone)
	w1.waitStatus(t, "after-call work", isActivity("acw"))
	if err := other.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-cust.Done():
	case <-time.After(6 * time.Second):
		t.Fatal("the customer is still connected after the outside party hung up")
	}
	call, legs := recordsOf(t, in, callID, 2)
	if call.Agent != "1001" || call.Result != callcenter.ResultAnswered {
		t.Errorf("call record %+v", call)
	}
	if l := legs[0]; l.Callee != outside || l.Caller != customer || l.Result != callcenter.ResultAnswered || l.HangupBy != callcenter.PartyCallee {
		t.Errorf("transfer leg record %+v", l)
	}
}
