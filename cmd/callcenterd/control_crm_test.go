package main

// The CRM rules that need the live center, through the real server: the
// receiving agent of a transfer adds notes only once it answered (the
// center's crm.Live knows legs that have no record yet), a group
// transfer's leg has one id on its offer, screen pop, control and record,
// and an answered call to a callback's number completes the callback
// (records pass through crm.Service.CallCompleted).

import (
	"context"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter/api"
	"github.com/agentphone/agentphone/phone"
)

// TestTransferNotesAndIDs: 1001 transfers a hotline call to 1002, who
// cannot add notes while its leg rings and can once it answered; 1002
// transfers the call to support, where 2001 rings with the transfer
// leg's id on the SIP offer, the screen pop and (once answered) the
// control and the leg's record; 2001 too adds notes only after answering.
func TestTransferNotesAndIDs(t *testing.T) {
	in, sim := startInbound(t)
	a1 := newAgent(t, in, "1001", tone1001)
	a2 := newAgent(t, in, "1002", tone1002)
	a3 := newAgent(t, in, "2001", tone2001)
	w3 := watch(t, "2001", a3.api)
	setIdle(t, a1)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	cust := callHotline(t, ctx, sim, "1")
	leg1 := answerCall(t, ctx, a1)
	callID := leg1.Header("X-Call-ID")
	talk(t, a1, cust, tone1001)
	if _, err := a1.api.OpenNotes(ctx, callID); err != nil {
		t.Fatalf("1001 opens its notes: %v", err)
	}
	if _, err := a1.api.AddNote(ctx, callID, "wants a refund"); err != nil {
		t.Fatalf("1001 adds a note: %v", err)
	}

	// To 1002: notes refused while ringing, accepted once answered.
	setIdle(t, a2)
	if _, err := a1.api.Transfer(ctx, callID, api.Target{Kind: api.TargetAgent, To: "1002"}); err != nil {
		t.Fatalf("transfer to 1002: %v", err)
	}
	ring2 := a2.nextCall(t, phone.Ringing)
	leg2ID := ring2.Header("X-Call-ID")
	// Notes hang on the customer call. The receiving agent names the call
	// by its leg's id (X-Call-ID, what its screen shows): while the leg
	// rings the live center resolves it to the customer call, and once
	// answered its record does, so the same box serves throughout.
	if ring2.Header("X-Parent-Call-ID") != callID {
		t.Fatalf("transfer offer's parent %q", ring2.Header("X-Parent-Call-ID"))
	}
	box, err := a2.api.OpenNotes(ctx, leg2ID)
	if err != nil {
		t.Fatalf("1002 opens the notes by its leg id while ringing: %v", err)
	}
	if box.CallID != callID || len(box.Notes) != 1 || box.Notes[0].Editable {
		t.Errorf("1002's box %+v: want the customer call's, with 1001's note read-only", box)
	}
	_, err = a2.api.AddNote(ctx, leg2ID, "too early")
	refusedWith(t, "1002's note while ringing", err, api.CodeNotAnsweredYet)
	if err := ring2.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	waitDone(t, "1001", leg1)
	talk(t, a2, cust, tone1002)
	if _, err := a2.api.AddNote(ctx, leg2ID, "refund approved"); err != nil {
		t.Fatalf("1002's note once answered: %v", err)
	}
	if _, err := a2.api.CloseNotes(ctx, leg2ID); err != nil {
		t.Fatal(err)
	}

	// To support: 2001 rings with the transfer leg's own id.
	setIdle(t, a3)
	if _, err := a2.api.Transfer(ctx, leg2ID, api.Target{Kind: api.TargetGroup, To: "support"}); err != nil {
		t.Fatalf("transfer to support: %v", err)
	}
	waitDone(t, "1002", ring2)
	ring3 := a3.nextCall(t, phone.Ringing)
	leg3ID := ring3.Header("X-Call-ID")
	if leg3ID == "" || leg3ID == callID || leg3ID == leg2ID || ring3.Header("X-Parent-Call-ID") != callID {
		t.Fatalf("group transfer offer: X-Call-ID %q, X-Parent-Call-ID %q (call %s, first transfer %s)",
			leg3ID, ring3.Header("X-Parent-Call-ID"), callID, leg2ID)
	}
	pop := decode[api.ScreenPop](t, w3.next(t, api.EventOffer, "the transfer's screen pop", func(api.Event) bool { return true }))
	if pop.CallID != leg3ID {
		t.Errorf("screen pop call id %q, SIP offer %q", pop.CallID, leg3ID)
	}
	if _, err := a3.api.OpenNotes(ctx, callID); err != nil {
		t.Fatalf("2001 opens the notes while ringing: %v", err)
	}
	_, err = a3.api.AddNote(ctx, callID, "too early")
	refusedWith(t, "2001's note while ringing", err, api.CodeNotAnsweredYet)
	if err := ring3.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	talk(t, a3, cust, tone2001)
	if cc, err := a3.api.Control(ctx, leg3ID); err != nil || cc.CallID != callID || cc.State != api.ControlTalking {
		t.Errorf("2001's control by its leg id: %+v, %v", cc, err)
	}
	if _, err := a3.api.AddNote(ctx, callID, "shipped"); err != nil {
		t.Fatalf("2001's note once answered: %v", err)
	}
	notes, err := a3.api.Notes(ctx, customer)
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 3 || notes[0].Text != "shipped" {
		t.Errorf("the customer's notes %+v, want 3, newest first", notes)
	}
	hangUp(t, ctx, cust, ring3)

	_, legs := recordsOf(t, in, callID, 3)
	found := false
	for _, l := range legs {
		if l.CallID == leg3ID {
			found = l.Agent == "2001" && l.Group == "support"
		}
	}
	if !found {
		t.Errorf("no record of 2001's leg under the id it was offered (%s): %+v", leg3ID, legs)
	}
}

// TestCallbackDoneAfterCall: 1001 schedules a callback to a number; after
// 1001's answered call to that number the callback is done, and 1001 is
// told.
func TestCallbackDoneAfterCall(t *testing.T) {
	in, sim := startOutside(t)
	a1 := newAgent(t, in, "1001", tone1001)
	w1 := watch(t, "1001", a1.api)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const number = "13912345678"
	due := time.Now().Add(time.Hour)
	cb, err := a1.api.CreateCallback(ctx, api.CallbackInput{Number: number, DueAt: due, Remark: "call back about the order"})
	if err != nil {
		t.Fatalf("create callback: %v", err)
	}
	if cb.State != "pending" {
		t.Fatalf("new callback %+v", cb)
	}
	out, cust, _ := dialOut(t, ctx, sim, a1, w1, number)
	talk(t, a1, cust, tone1001)
	if err := out.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	done := decode[api.Callback](t, w1.next(t, api.EventCallbackDone, "callback done", func(ev api.Event) bool {
		return decode[api.Callback](t, ev).ID == cb.ID
	}))
	if done.State != "done" {
		t.Errorf("callback after the call %+v", done)
	}
	cbs, err := a1.api.Callbacks(ctx, due)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cbs {
		if c.ID == cb.ID && c.State != "done" {
			t.Errorf("listed callback %+v, want done", c)
		}
	}
}
