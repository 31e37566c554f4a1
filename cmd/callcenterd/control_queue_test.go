package main

// A transfer to a skill group puts the customer in the group's queue
// (issue 4 on top of issue 3's queue): the customer hears the queue's
// music even though call control had narrowed its hearing to its agent,
// the member who frees up is offered the call and talks with the
// customer; and a customer who hangs up while queued after the transfer
// leaves a record of the transfer leg (abandoned, with its wait), for
// calls that came in and calls an agent placed alike.

import (
	"context"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/api"
	"github.com/agentphone/agentphone/phone"
)

// Tones of these scenarios, away from the customer's 1.5 kHz and from
// the hold music (which has energy at 220, 440, 660, 700, 880 Hz...), so
// "music and no agent" cannot mistake one for the other.
const (
	qtoneFirst  = 1100 // the agent who transfers
	qtoneMember = 1800 // the group's member who takes the call
)

// queuePatience is how long the customer waits in the queue before
// hanging up in the abandon cases.
const queuePatience = 1500 * time.Millisecond

// checkAbandonedLeg checks the transfer leg's record of a customer who
// hung up in group's queue after a transfer: linked to the call, no
// agent, abandoned, hung up by the customer (the leg's caller), with the
// wait within [queuePatience, waited+1s].
func checkAbandonedLeg(t *testing.T, l callcenter.CallRecord, callID, cust, group string, typ callcenter.CallType, waited time.Duration) {
	t.Helper()
	if l.CallID == "" || l.CallID == callID || l.ParentID != callID || l.Type != typ || l.Caller != cust ||
		l.Agent != "" || l.Group != group || !l.AnsweredAt.IsZero() {
		t.Errorf("transfer leg record %+v: want a leg of %s (%s, from %s) in %s with no agent", l, callID, typ, cust, group)
	}
	if !l.Abandoned || l.Result != callcenter.ResultCancelled || l.HangupBy != callcenter.PartyCaller {
		t.Errorf("transfer leg recorded as %s, hung up by %q, abandoned %v; want cancelled by the customer, abandoned",
			l.Result, l.HangupBy, l.Abandoned)
	}
	if l.QueueWait < queuePatience || l.QueueWait > waited+time.Second {
		t.Errorf("transfer leg's queue wait %s, the customer waited about %s", l.QueueWait, waited)
	}
	if l.EndedAt.Before(l.StartedAt) {
		t.Errorf("transfer leg record ends %s before it starts %s", l.EndedAt, l.StartedAt)
	}
}

// TestControlGroupTransferQueue: 1001 answers a sales call and transfers
// it (while talking, or with the customer on hold: either way call
// control had narrowed the customer's hearing to 1001 or the hold
// source) to support, whose only member 2001 is signed in but busy. The
// customer waits in support's queue hearing the queue's music and not
// 1001; 1001 goes through after-call work. Then either 2001 frees up, is
// offered the call (the transfer leg's id, the call as parent) and talks
// with the customer both ways, the music gone; or the customer hangs up
// in the queue: 2001 is never rung and stays busy, support's queue is
// empty again, and the transfer leg has one record, abandoned with its
// wait. Every leg has exactly one record, linked to the call.
func TestControlGroupTransferQueue(t *testing.T) {
	for _, tc := range []struct {
		name    string
		hold    bool // transfer with the customer on hold
		abandon bool // the customer hangs up in the queue
	}{
		{name: "member answers"},
		{name: "member answers after hold", hold: true},
		{name: "customer hangs up in the queue", abandon: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, sim := startInbound(t)
			a1 := newAgent(t, in, "1001", qtoneFirst)
			a3 := newAgent(t, in, "2001", qtoneMember) // busy after login
			w1 := watch(t, "1001", a1.api)
			w3 := watch(t, "2001", a3.api)
			setIdle(t, a1)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()

			cust := callHotline(t, ctx, sim, "1")
			leg1 := answerCall(t, ctx, a1)
			callID := leg1.Header("X-Call-ID")
			talk(t, a1, cust, qtoneFirst)
			if tc.hold {
				if cc, err := a1.api.Hold(ctx, callID); err != nil || cc.State != api.ControlHeld {
					t.Fatalf("hold: %+v, %v", cc, err)
				}
				customerHearsMusic(t, cust, qtoneFirst)
			}

			if _, err := a1.api.Transfer(ctx, callID, api.Target{Kind: api.TargetGroup, To: "support"}); err != nil {
				t.Fatalf("transfer to support: %v", err)
			}
			transferred := time.Now()
			waitDone(t, "1001", leg1)
			waitControl(t, w1, api.ControlEnded)
			w3.next(t, api.EventGroups, "the customer waiting in support", waitingIn(t, "support", 1))
			customerHearsMusic(t, cust, qtoneFirst, qtoneMember)
			// 1001's after-call work may come before or after its control's end.
			w1.wait(t, api.EventStatus, "after-call work", func(ev api.Event) bool {
				return decode[api.AgentStatus](t, ev).Activity == "acw"
			})
			noCall(t, a3)

			if tc.abandon {
				time.Sleep(queuePatience)
				if err := cust.Hangup(ctx); err != nil {
					t.Fatalf("customer hangs up: %v", err)
				}
				waited := time.Since(transferred)
				call, legs := recordsOf(t, in, callID, 2)
				if call.Agent != "1001" || call.Result != callcenter.ResultAnswered || call.HangupBy != callcenter.PartyCaller ||
					call.Group != "sales" || call.Abandoned {
					t.Errorf("customer call record %+v: want 1001's answered sales call, hung up by the customer", call)
				}
				checkAbandonedLeg(t, legs[0], callID, customer, "support", callcenter.CallInbound, waited)
				w3.next(t, api.EventGroups, "support's queue empty again", waitingIn(t, "support", 0))
				// No agent left stuck: 1001 back from after-call work,
				// 2001 still busy and never rung.
				w1.waitStatus(t, "idle again", idleAgain)
				if st := status(t, a3); st.Phone != "busy" || st.Activity != "none" {
					t.Errorf("2001 after the customer left the queue: %+v", st)
				}
				noCall(t, a3)
				if n := w3.count(api.EventOffer, nil); n != 0 {
					t.Errorf("busy 2001 was offered the call %d times", n)
				}
				return
			}

			// 2001 frees up: the queue offers it the customer.
			setIdle(t, a3)
			ring := a3.nextCall(t, phone.Ringing)
			legID := ring.Header("X-Call-ID")
			if legID == "" || legID == callID || ring.Header("X-Parent-Call-ID") != callID ||
				ring.Header("X-Caller") != customer || ring.Header("X-Group") != "support" {
				t.Errorf("queue offer headers: id %q parent %q caller %q group %q (call %s)", legID,
					ring.Header("X-Parent-Call-ID"), ring.Header("X-Caller"), ring.Header("X-Group"), callID)
			}
			if err := ring.Answer(ctx); err != nil {
				t.Fatalf("2001 answers: %v", err)
			}
			talk(t, a3, cust, qtoneMember)
			customerHearsAll(t, cust, qtoneMember)
			agentHearsAll(t, a3, custTone)
			agentHearsNone(t, a3, qtoneFirst)
			w3.waitStatus(t, "talking", isActivity("talking"))
			hangUp(t, ctx, cust, ring)
			w3.waitStatus(t, "after-call work (support's)", isActivity("acw"))

			call, legs := recordsOf(t, in, callID, 2)
			if call.Agent != "1001" || call.Result != callcenter.ResultAnswered || call.Group != "sales" {
				t.Errorf("customer call record %+v", call)
			}
			l := legs[0]
			if l.CallID != legID || l.Agent != "2001" || l.Group != "support" || l.Result != callcenter.ResultAnswered ||
				l.Abandoned || l.AnsweredAt.IsZero() {
				t.Errorf("transfer leg record %+v", l)
			}
			if l.QueueWait < window || l.QueueWait > 30*time.Second {
				t.Errorf("transfer leg's queue wait %v", l.QueueWait)
			}
		})
	}
}

// TestControlOutboundGroupAbandon: on a call 1001 placed, a transfer to
// support (2001 signed in but busy) queues the customer, who hangs up
// while waiting. The call's record stays 1001's (hung up by the
// customer, its callee); the transfer leg has one record, abandoned with
// its wait; 2001 is never rung and support's queue is empty again.
func TestControlOutboundGroupAbandon(t *testing.T) {
	in, sim := startOutside(t)
	a1 := newAgent(t, in, "1001", qtoneFirst)
	a3 := newAgent(t, in, "2001", qtoneMember) // busy after login
	w1 := watch(t, "1001", a1.api)
	w3 := watch(t, "2001", a3.api)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const number = "13912345678"

	out, cust, callID := dialOut(t, ctx, sim, a1, w1, number)
	talk(t, a1, cust, qtoneFirst)
	if _, err := a1.api.Transfer(ctx, callID, api.Target{Kind: api.TargetGroup, To: "support"}); err != nil {
		t.Fatalf("transfer to support: %v", err)
	}
	transferred := time.Now()
	waitDone(t, "1001", out)
	w3.next(t, api.EventGroups, "the customer waiting in support", waitingIn(t, "support", 1))
	customerHearsMusic(t, cust, qtoneFirst, qtoneMember)
	time.Sleep(queuePatience)
	if err := cust.Hangup(ctx); err != nil {
		t.Fatalf("customer hangs up: %v", err)
	}
	waited := time.Since(transferred)

	call, legs := recordsOf(t, in, callID, 2)
	if call.Agent != "1001" || call.Type != callcenter.CallAgentOutbound || call.Callee != number ||
		call.Result != callcenter.ResultAnswered || call.HangupBy != callcenter.PartyCallee || call.Abandoned {
		t.Errorf("call record %+v: want 1001's outbound call to %s, hung up by the customer", call, number)
	}
	checkAbandonedLeg(t, legs[0], callID, number, "support", callcenter.CallAgentOutbound, waited)
	w3.next(t, api.EventGroups, "support's queue empty again", waitingIn(t, "support", 0))
	// 1001 dialled out while busy: back to busy, on no call.
	waitFor(t, 8*time.Second, "1001 off the call", func() bool {
		st := status(t, a1)
		return st.Activity == "none" && st.Phone == "busy"
	})
	if st := status(t, a3); st.Phone != "busy" || st.Activity != "none" {
		t.Errorf("2001 after the customer left the queue: %+v", st)
	}
	noCall(t, a3)
	if n := w3.count(api.EventOffer, nil); n != 0 {
		t.Errorf("busy 2001 was offered the call %d times", n)
	}
}
