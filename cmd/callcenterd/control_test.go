package main

// Scenarios of in-call control (issue 4) on the real callcenterd with
// pstnsim as the customer (1.5 kHz voice) and softphone SIP agents on
// virtual headsets, each speaking its own tone: every step is checked by
// what each party hears (Goertzel on the last 400 ms), and at the end by
// agent states and call records (one per leg, linked by ParentID).

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/agentphone/agentphone/audio"
	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/api"
	"github.com/agentphone/agentphone/callcenter/client"
	"github.com/agentphone/agentphone/callcenter/pstnsim"
	"github.com/agentphone/agentphone/phone"
)

const (
	tone1001 = 1350 // away from the hold music (it has a strong 700 Hz partial)
	tone1002 = 1000
	tone2001 = 400
	custTone = pstnsim.DefaultVoiceFreq
	window   = 400 * time.Millisecond
)

// inMix: the tone is one clear part of what was heard (a mix of two or
// three voices gives each a share well above 15%).
func inMix(samples []int16, rate int, freq float64) bool {
	return audio.ToneDetector{Rate: rate, Freq: freq, MinRatio: 0.15, MinDBFS: -45}.Detect(samples)
}

// absent: no trace of the tone (or silence).
func absent(samples []int16, rate int, freq float64) bool {
	if len(samples) == 0 || audio.DBFS(samples) < -50 {
		return true
	}
	return audio.ToneDetector{Rate: rate, Freq: freq}.Ratio(samples) < 0.05
}

func lastPlayed(dev *audio.VirtualDevice) []int16 {
	p := dev.Played()
	n := audio.DeviceRate * int(window/time.Millisecond) / 1000
	if len(p) < n {
		return nil
	}
	return p[len(p)-n:]
}

func lastReceived(c *pstnsim.Call) []int16 {
	p := c.Received()
	n := 8000 * int(window/time.Millisecond) / 1000
	if len(p) < n {
		return nil
	}
	return p[len(p)-n:]
}

// agentHearsAll waits until the agent hears every tone of freqs at once.
func agentHearsAll(t *testing.T, a *agent, freqs ...float64) {
	t.Helper()
	waitFor(t, 6*time.Second, a.wn+" hears "+fmtFreqs(freqs), func() bool {
		s := lastPlayed(a.dev)
		for _, f := range freqs {
			if !inMix(s, audio.DeviceRate, f) {
				return false
			}
		}
		return len(s) > 0
	})
}

func customerHearsAll(t *testing.T, c *pstnsim.Call, freqs ...float64) {
	t.Helper()
	waitFor(t, 6*time.Second, "customer hears "+fmtFreqs(freqs), func() bool {
		s := lastReceived(c)
		for _, f := range freqs {
			if !inMix(s, 8000, f) {
				return false
			}
		}
		return len(s) > 0
	})
}

// agentHearsNone waits until none of freqs is heard, then checks it stays
// so for another window.
func agentHearsNone(t *testing.T, a *agent, freqs ...float64) {
	t.Helper()
	none := func() bool {
		s := lastPlayed(a.dev)
		for _, f := range freqs {
			if !absent(s, audio.DeviceRate, f) {
				return false
			}
		}
		return true
	}
	waitFor(t, 6*time.Second, a.wn+" hears none of "+fmtFreqs(freqs), none)
	time.Sleep(window)
	if !none() {
		t.Errorf("%s hears one of %s again", a.wn, fmtFreqs(freqs))
	}
}

// customerHearsMusic: the customer hears sound (the hold music) and none
// of the agents' tones.
func customerHearsMusic(t *testing.T, c *pstnsim.Call, agentFreqs ...float64) {
	t.Helper()
	ok := func() bool {
		s := lastReceived(c)
		if len(s) == 0 || audio.DBFS(s) < -45 {
			return false
		}
		for _, f := range agentFreqs {
			if !absent(s, 8000, f) {
				return false
			}
		}
		return true
	}
	waitFor(t, 6*time.Second, "customer hears music and no agent", ok)
	time.Sleep(window)
	if !ok() {
		t.Errorf("customer on hold stopped hearing music or hears an agent")
	}
}

func fmtFreqs(fs []float64) string {
	s := ""
	for i, f := range fs {
		if i > 0 {
			s += ","
		}
		s += ftoa(f)
	}
	return s + " Hz"
}

// answerCall waits for the agent's phone to ring and answers.
func answerCall(t *testing.T, ctx context.Context, a *agent) *phone.Call {
	t.Helper()
	c := a.nextCall(t, phone.Ringing)
	if err := c.Answer(ctx); err != nil {
		t.Fatalf("%s answers: %v", a.wn, err)
	}
	return c
}

func waitDone(t *testing.T, who string, c *phone.Call) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(6 * time.Second):
		t.Fatalf("%s's leg still up", who)
	}
}

func refusedWith(t *testing.T, what string, err error, code string) {
	t.Helper()
	var ae *client.Error
	if !errors.Is(err, client.ErrRefused) || !errors.As(err, &ae) || ae.Code != code {
		t.Errorf("%s: got %v, want a refusal %s", what, err, code)
	}
}

// waitControl waits for a control event of the call in state.
func waitControl(t *testing.T, w *watcher, state string) api.CallControl {
	t.Helper()
	return decode[api.CallControl](t, w.next(t, api.EventControl, state, func(ev api.Event) bool {
		return decode[api.CallControl](t, ev).State == state
	}))
}

// recordsOf waits until the call and its n-1 legs have complete records:
// the customer call's (ParentID empty) and its legs' (ParentID the call).
func recordsOf(t *testing.T, in *instance, callID string, n int) (call callcenter.CallRecord, legs []callcenter.CallRecord) {
	t.Helper()
	var all []callcenter.CallRecord
	waitFor(t, 8*time.Second, "records of call "+callID, func() bool {
		recs, err := in.st.CallRecords(context.Background(), callcenter.RecordFilter{})
		if err != nil {
			return false
		}
		all = all[:0]
		for _, r := range recs {
			if r.CallID == callID || r.ParentID == callID {
				if r.EndedAt.IsZero() {
					return false
				}
				all = append(all, r)
			}
		}
		return len(all) >= n
	})
	for _, r := range all {
		if r.CallID == callID {
			call = r
		} else {
			legs = append(legs, r)
		}
	}
	if len(all) != n || call.CallID == "" {
		t.Fatalf("call %s: %d records %+v, want the call's and %d legs'", callID, len(all), all, n-1)
	}
	return call, legs
}

// TestControlHoldAndBlindTransfer: 1001 answers a sales call; on hold the
// customer hears music and 1001 hears nothing; resume talks again; a
// second resume is refused; transfers to a busy and an offline agent are
// refused; a blind transfer to 1002 rings 1002 (customer on music),
// 1002 answers: customer and 1002 hear each other, 1001's leg is gone
// and 1001 goes through after-call work; two records linked by ParentID.
func TestControlHoldAndBlindTransfer(t *testing.T) {
	in, sim := startInbound(t)
	a1 := newAgent(t, in, "1001", tone1001)
	a2 := newAgent(t, in, "1002", tone1002)
	w1 := watch(t, "1001", a1.api)
	w2 := watch(t, "1002", a2.api)
	setIdle(t, a1)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	cust := callHotline(t, ctx, sim, "1")
	leg1 := answerCall(t, ctx, a1)
	callID := leg1.Header("X-Call-ID")
	talk(t, a1, cust, tone1001)

	// Hold.
	cc, err := a1.api.Hold(ctx, callID)
	if err != nil || cc.State != api.ControlHeld {
		t.Fatalf("hold: %+v, %v", cc, err)
	}
	customerHearsMusic(t, cust, tone1001)
	agentHearsNone(t, a1, custTone)
	waitControl(t, w1, api.ControlHeld)
	if _, err := a1.api.Hold(ctx, callID); err == nil {
		t.Error("a second hold was accepted")
	}

	// Resume.
	if cc, err := a1.api.Resume(ctx, callID); err != nil || cc.State != api.ControlTalking {
		t.Fatalf("resume: %+v, %v", cc, err)
	}
	customerHearsAll(t, cust, tone1001)
	agentHearsAll(t, a1, custTone)
	_, err = a1.api.Resume(ctx, callID)
	refusedWith(t, "resume when not held", err, api.CodeBadState)

	// Refusals: 1002 is signed in but busy; 2001 is not signed in.
	_, err = a1.api.Transfer(ctx, callID, api.Target{Kind: api.TargetAgent, To: "1002"})
	refusedWith(t, "transfer to busy 1002", err, api.CodeAgentBusy)
	_, err = a1.api.Transfer(ctx, callID, api.Target{Kind: api.TargetAgent, To: "2001"})
	refusedWith(t, "transfer to offline 2001", err, api.CodeAgentOffline)
	_, err = a2.api.Hold(ctx, callID)
	refusedWith(t, "hold by an agent not in the call", err, api.CodeNotInCall)
	targets, err := a1.api.TransferTargets(ctx)
	if err != nil {
		t.Fatalf("transfer targets: %v", err)
	}
	seen := map[string]bool{}
	for _, ta := range targets.Agents {
		seen[ta.WorkNumber] = true
		if ta.WorkNumber == "1001" || ta.WorkNumber == "9001" || (ta.WorkNumber == "1002" && (ta.Online || ta.Status != "busy")) || (ta.WorkNumber == "2001" && ta.Online) {
			t.Errorf("transfer target %+v", ta)
		}
	}
	if !seen["1002"] || !seen["2001"] {
		t.Errorf("transfer targets %+v: want 1002 and 2001 listed (not the asker, not the administrator)", targets.Agents)
	}

	// Blind transfer to 1002, now idle.
	setIdle(t, a2)
	if cc, err := a1.api.Transfer(ctx, callID, api.Target{Kind: api.TargetAgent, To: "1002"}); err != nil || cc.State != api.ControlTransferring {
		t.Fatalf("transfer: %+v, %v", cc, err)
	}
	ring := a2.nextCall(t, phone.Ringing)
	if ring.Header("X-Parent-Call-ID") != callID || ring.Header("X-Caller") != customer {
		t.Errorf("transfer offer headers: parent %q caller %q", ring.Header("X-Parent-Call-ID"), ring.Header("X-Caller"))
	}
	customerHearsMusic(t, cust, tone1001)
	w2.waitStatus(t, "ringing", isActivity("ringing"))
	if err := ring.Answer(ctx); err != nil {
		t.Fatalf("1002 answers: %v", err)
	}
	waitDone(t, "1001", leg1)
	talk(t, a2, cust, tone1002)
	if s := lastReceived(cust); !absent(s, 8000, tone1001) {
		t.Error("the customer still hears 1001 after the transfer")
	}
	w1.waitStatus(t, "after-call work", isActivity("acw"))
	w2.waitStatus(t, "talking", isActivity("talking"))
	waitControl(t, w1, api.ControlEnded)

	// 1002 controls the call now, by either id.
	if cc, err := a2.api.Control(ctx, ring.Header("X-Call-ID")); err != nil || cc.CallID != callID || cc.State != api.ControlTalking {
		t.Errorf("1002's control of the call: %+v, %v", cc, err)
	}
	hangUp(t, ctx, cust, ring)
	w2.waitStatus(t, "after-call work", isActivity("acw"))

	call, legs := recordsOf(t, in, callID, 2)
	if call.Agent != "1001" || call.Result != callcenter.ResultAnswered || call.HangupBy != callcenter.PartyCaller || call.Group != "sales" {
		t.Errorf("customer call record %+v", call)
	}
	l := legs[0]
	if l.Agent != "1002" || l.Callee != "1002" || l.Caller != customer || l.Result != callcenter.ResultAnswered || l.AnsweredAt.IsZero() {
		t.Errorf("transfer leg record %+v", l)
	}
}

// TestControlConsult: consult 1002 (customer on music, 1001 and 1002
// hear each other only), then a three-way call in which each of the three
// hears the other two; 1001 hangs up and the customer talks on with
// 1002. A second call: consult, cancel (back to the customer); consult
// again and transfer. Records: one per leg, linked.
func TestControlConsult(t *testing.T) {
	in, sim := startInbound(t)
	a1 := newAgent(t, in, "1001", tone1001)
	a2 := newAgent(t, in, "1002", tone1002)
	w1 := watch(t, "1001", a1.api)
	setIdle(t, a1)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	cust := callHotline(t, ctx, sim, "1")
	leg1 := answerCall(t, ctx, a1)
	callID := leg1.Header("X-Call-ID")
	talk(t, a1, cust, tone1001)
	setIdle(t, a2)

	_, err := a1.api.ConsultTransfer(ctx, callID)
	refusedWith(t, "consult transfer without a consult", err, api.CodeBadState)
	if cc, err := a1.api.Consult(ctx, callID, api.Target{Kind: api.TargetAgent, To: "1002"}); err != nil || cc.State != api.ControlConsulting {
		t.Fatalf("consult: %+v, %v", cc, err)
	}
	leg2 := answerCall(t, ctx, a2)
	customerHearsMusic(t, cust, tone1001, tone1002)
	agentHearsAll(t, a1, tone1002)
	agentHearsAll(t, a2, tone1001)
	agentHearsNone(t, a2, custTone)
	agentHearsNone(t, a1, custTone)
	w1.next(t, api.EventControl, "consult talking", func(ev api.Event) bool {
		cc := decode[api.CallControl](t, ev)
		return cc.State == api.ControlConsulting && cc.Consult != nil && cc.Consult.State == "talking" && len(cc.Parties) == 3
	})

	// Three-way.
	if cc, err := a1.api.Conference(ctx, callID); err != nil || cc.State != api.ControlConference {
		t.Fatalf("conference: %+v, %v", cc, err)
	}
	customerHearsAll(t, cust, tone1001, tone1002)
	agentHearsAll(t, a1, custTone, tone1002)
	agentHearsAll(t, a2, custTone, tone1001)

	// 1001 leaves the three-way call: customer and 1002 go on.
	if err := leg1.Hangup(ctx); err != nil {
		t.Fatalf("1001 hangs up: %v", err)
	}
	talk(t, a2, cust, tone1002)
	w1.waitStatus(t, "after-call work", isActivity("acw"))
	hangUp(t, ctx, cust, leg2)
	call, legs := recordsOf(t, in, callID, 2)
	if call.Agent != "1001" || legs[0].Agent != "1002" || legs[0].Type != callcenter.CallInternal || legs[0].Caller != "1001" {
		t.Errorf("records: call %+v, consult leg %+v", call, legs[0])
	}

	// Second call: consult and cancel, then consult and transfer.
	w1.waitStatus(t, "idle", idleAgain)
	waitFor(t, 6*time.Second, "1002 idle again", func() bool { return idleAgain(status(t, a2)) })
	cust = callHotline(t, ctx, sim, "1")
	leg1 = answerCall(t, ctx, a1)
	callID = leg1.Header("X-Call-ID")
	talk(t, a1, cust, tone1001)
	if _, err := a1.api.Consult(ctx, callID, api.Target{Kind: api.TargetAgent, To: "1002"}); err != nil {
		t.Fatalf("consult: %v", err)
	}
	leg2 = answerCall(t, ctx, a2)
	agentHearsAll(t, a1, tone1002)
	if cc, err := a1.api.ConsultCancel(ctx, callID); err != nil || cc.State != api.ControlTalking {
		t.Fatalf("cancel: %+v, %v", cc, err)
	}
	waitDone(t, "1002's consult", leg2)
	talk(t, a1, cust, tone1001)
	waitFor(t, 6*time.Second, "1002 idle after the consult", func() bool { return idleAgain(status(t, a2)) })

	if _, err := a1.api.Consult(ctx, callID, api.Target{Kind: api.TargetAgent, To: "1002"}); err != nil {
		t.Fatalf("consult again: %v", err)
	}
	leg2 = answerCall(t, ctx, a2)
	agentHearsAll(t, a2, tone1001)
	if cc, err := a1.api.ConsultTransfer(ctx, callID); err != nil || cc.State != api.ControlTalking {
		t.Fatalf("consult transfer: %+v, %v", cc, err)
	}
	waitDone(t, "1001", leg1)
	talk(t, a2, cust, tone1002)
	hangUp(t, ctx, cust, leg2)
	_, legs = recordsOf(t, in, callID, 3)
	for _, l := range legs {
		if l.Agent != "1002" || l.Result != callcenter.ResultAnswered {
			t.Errorf("consult leg record %+v", l)
		}
	}
}

// TestControlGroupTransfer: a transfer to a group with nobody online is
// refused at once; once 2001 signed in, a transfer to support takes the
// customer from 1001 (after-call work) to support's queue, where 2001
// answers and talks with the customer; the transfer leg has its own
// record linked to the call.
func TestControlGroupTransfer(t *testing.T) {
	in, sim := startInbound(t)
	a1 := newAgent(t, in, "1001", tone1001)
	w1 := watch(t, "1001", a1.api)
	setIdle(t, a1)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	cust := callHotline(t, ctx, sim, "1")
	leg1 := answerCall(t, ctx, a1)
	callID := leg1.Header("X-Call-ID")
	talk(t, a1, cust, tone1001)
	_, err := a1.api.Transfer(ctx, callID, api.Target{Kind: api.TargetGroup, To: "support"})
	refusedWith(t, "transfer to support with nobody online", err, api.CodeNoAgentsOnline)
	_, err = a1.api.Consult(ctx, callID, api.Target{Kind: api.TargetGroup, To: "support"})
	refusedWith(t, "consult support with nobody online", err, api.CodeNoAgentsOnline)

	a3 := newAgent(t, in, "2001", tone2001)
	setIdle(t, a3)
	targets, err := a1.api.TransferTargets(ctx)
	if err != nil {
		t.Fatalf("transfer targets: %v", err)
	}
	found := false
	for _, g := range targets.Groups {
		if g.Name == "support" {
			found = g.Online == 1 && g.Label != ""
		}
	}
	if !found {
		t.Errorf("transfer targets' groups %+v, want support with 1 online", targets.Groups)
	}
	if _, err := a1.api.Transfer(ctx, callID, api.Target{Kind: api.TargetGroup, To: "support"}); err != nil {
		t.Fatalf("transfer to support: %v", err)
	}
	waitDone(t, "1001", leg1)
	leg3 := answerCall(t, ctx, a3)
	talk(t, a3, cust, tone2001)
	w1.waitStatus(t, "after-call work", isActivity("acw"))
	hangUp(t, ctx, cust, leg3)
	call, legs := recordsOf(t, in, callID, 2)
	if call.Agent != "1001" || call.Group != "sales" && call.Group != "support" {
		t.Errorf("call record %+v", call)
	}
	if l := legs[0]; l.Agent != "2001" || l.Group != "support" || l.Result != callcenter.ResultAnswered {
		t.Errorf("transfer leg record %+v", l)
	}
}

// TestControlHangups forces a hang-up at each step of a consult of 1002
// by 1001 and checks every leg, both agents' states and the records (the
// call's and the consult leg's, linked by ParentID).
func TestControlHangups(t *testing.T) {
	in, sim := startInbound(t)
	a1 := newAgent(t, in, "1001", tone1001)
	a2 := newAgent(t, in, "1002", tone1002)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	// Between cases both agents are back from after-call work; 1002 is
	// made busy so the customer's call rings 1001, and idle to be
	// consulted.
	idle := func(t *testing.T) {
		t.Helper()
		for _, a := range []*agent{a1, a2} {
			waitFor(t, 8*time.Second, a.wn+" idle", func() bool { return idleAgain(status(t, a)) })
		}
	}
	setIdle(t, a1)
	setIdle(t, a2)
	busy := "busy"

	for _, tc := range []struct {
		name string
		// step runs once 1002's consult leg rings (leg2 not answered) or
		// talks; it returns the leg that is still with the customer.
		answer bool
		step   func(t *testing.T, cust *pstnsim.Call, leg1, leg2 *phone.Call) (survivor *phone.Call, a *agent)
		// consult leg's record result
		consultResult callcenter.Result
		hangupBy      callcenter.Party
	}{
		{name: "customer while consult rings", answer: false, consultResult: callcenter.ResultCancelled, hangupBy: callcenter.PartyCaller,
			step: func(t *testing.T, cust *pstnsim.Call, leg1, leg2 *phone.Call) (*phone.Call, *agent) {
				if err := cust.Hangup(ctx); err != nil {
					t.Fatal(err)
				}
				waitDone(t, "1001", leg1)
				waitDone(t, "1002 ringing", leg2)
				return nil, nil
			}},
		{name: "customer while consulting", answer: true, consultResult: callcenter.ResultAnswered, hangupBy: callcenter.PartyCaller,
			step: func(t *testing.T, cust *pstnsim.Call, leg1, leg2 *phone.Call) (*phone.Call, *agent) {
				if err := cust.Hangup(ctx); err != nil {
					t.Fatal(err)
				}
				// The agents stay connected until one hangs up.
				time.Sleep(300 * time.Millisecond)
				agentHearsAll(t, a1, tone1002)
				agentHearsAll(t, a2, tone1001)
				if err := leg2.Hangup(ctx); err != nil {
					t.Fatal(err)
				}
				waitDone(t, "1001", leg1)
				return nil, nil
			}},
		{name: "consulting agent while consult rings", answer: false, consultResult: callcenter.ResultAnswered, hangupBy: callcenter.PartyCaller,
			step: func(t *testing.T, cust *pstnsim.Call, leg1, leg2 *phone.Call) (*phone.Call, *agent) {
				if err := leg1.Hangup(ctx); err != nil {
					t.Fatal(err)
				}
				customerHearsMusic(t, cust, tone1001)
				if err := leg2.Answer(ctx); err != nil {
					t.Fatal(err)
				}
				talk(t, a2, cust, tone1002)
				return leg2, a2
			}},
		{name: "consulting agent while consulting", answer: true, consultResult: callcenter.ResultAnswered, hangupBy: callcenter.PartyCaller,
			step: func(t *testing.T, cust *pstnsim.Call, leg1, leg2 *phone.Call) (*phone.Call, *agent) {
				if err := leg1.Hangup(ctx); err != nil {
					t.Fatal(err)
				}
				talk(t, a2, cust, tone1002)
				return leg2, a2
			}},
		{name: "consulted agent while consulting", answer: true, consultResult: callcenter.ResultAnswered, hangupBy: callcenter.PartyCaller,
			step: func(t *testing.T, cust *pstnsim.Call, leg1, leg2 *phone.Call) (*phone.Call, *agent) {
				if err := leg2.Hangup(ctx); err != nil {
					t.Fatal(err)
				}
				talk(t, a1, cust, tone1001)
				return leg1, a1
			}},
		{name: "consulted agent declines", answer: false, consultResult: callcenter.ResultRejected, hangupBy: callcenter.PartyCaller,
			step: func(t *testing.T, cust *pstnsim.Call, leg1, leg2 *phone.Call) (*phone.Call, *agent) {
				if err := leg2.Decline(ctx); err != nil {
					t.Fatal(err)
				}
				var cc api.CallControl
				waitFor(t, 6*time.Second, "1001 back with the customer", func() bool {
					c, err := a1.api.Control(ctx, leg1.Header("X-Call-ID"))
					cc = c
					return err == nil && c.State == api.ControlTalking
				})
				if cc.Notice == nil || cc.Notice.Code != api.CodeRejected {
					t.Errorf("control after the decline: %+v, want a notice %s", cc, api.CodeRejected)
				}
				talk(t, a1, cust, tone1001)
				return leg1, a1
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idle(t)
			if _, err := a2.api.SetStatus(ctx, api.StatusChange{Phone: &busy}); err != nil {
				t.Fatal(err)
			}
			cust := callHotline(t, ctx, sim, "1")
			leg1 := answerCall(t, ctx, a1)
			callID := leg1.Header("X-Call-ID")
			talk(t, a1, cust, tone1001)
			setIdle(t, a2)
			if _, err := a1.api.Consult(ctx, callID, api.Target{Kind: api.TargetAgent, To: "1002"}); err != nil {
				t.Fatalf("consult: %v", err)
			}
			leg2 := a2.nextCall(t, phone.Ringing)
			if tc.answer {
				if err := leg2.Answer(ctx); err != nil {
					t.Fatal(err)
				}
				agentHearsAll(t, a1, tone1002)
			}
			survivor, who := tc.step(t, cust, leg1, leg2)
			if survivor != nil {
				hangUp(t, ctx, cust, survivor)
				_ = who
			}
			select {
			case <-leg1.Done():
			case <-time.After(6 * time.Second):
				t.Error("1001's leg still up at the end")
			}
			select {
			case <-leg2.Done():
			case <-time.After(6 * time.Second):
				t.Error("1002's leg still up at the end")
			}
			call, legs := recordsOf(t, in, callID, 2)
			if call.Result != callcenter.ResultAnswered || call.HangupBy != tc.hangupBy || call.Agent != "1001" {
				t.Errorf("call record %+v, want answered, hung up by %s", call, tc.hangupBy)
			}
			if l := legs[0]; l.Result != tc.consultResult || l.Callee != "1002" || l.ParentID != callID {
				t.Errorf("consult leg record %+v, want %s", l, tc.consultResult)
			}
			if c, err := a1.api.Control(ctx, callID); err == nil {
				t.Errorf("call control still answers after the call: %+v", c)
			}
		})
	}
	idle(t)
}
