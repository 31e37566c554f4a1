package sipedge

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/agentphone/agentphone/audio"
	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/pstnsim"
	"github.com/emiago/diago"
	"github.com/emiago/sipgo/sip"
)

// An OutboundCall serves a queue once its dialling agent left: before
// that, Play and Offer are refused (the agent has the customer); after,
// the customer hears the queue's source, its keys reach Keys, an offer
// rings an agent with the transfer leg's id and the call as parent, and
// the bridged agent talks with the customer (tones both ways) on a record
// of its own carrying the group and the queue wait.
func TestOutboundQueueCall(t *testing.T) {
	offers := make(chan *sip.Request, 2)
	agentHeard := make(chan bool, 1)
	type result struct {
		playEarly, offerEarly, playLate error
		offerID, callID                 string
		key                             rune
		err                             error
	}
	got := make(chan result, 1)
	h := func(ctx context.Context, oc *OutboundCall) {
		var r result
		defer func() { got <- r }()
		r.callID = oc.ID()
		tone := audio.NewTone(500, 0.3, 8000)
		_, r.playEarly = oc.Play(ctx, "music", tone, 8000)
		_, r.offerEarly = oc.Offer(ctx, "1002", time.Second, callcenter.ScreenPop{})
		if r.err = oc.Release(ctx, oc.Agent()); r.err != nil {
			return
		}
		r.offerID = oc.OfferID()
		if _, r.err = oc.Play(ctx, "music", tone, 8000); r.err != nil {
			return
		}
		select {
		case r.key = <-oc.Keys():
		case <-time.After(8 * time.Second):
			r.err = errors.New("no DTMF from the customer")
			return
		}
		oc.SetGroup("support")
		leg, err := oc.Offer(ctx, "1002", 3*time.Second, callcenter.ScreenPop{})
		if err != nil {
			r.err = err
			return
		}
		oc.SetQueueWait(1500 * time.Millisecond)
		if r.err = oc.Bridge(leg); r.err != nil {
			return
		}
		_, r.playLate = oc.Play(ctx, "music", tone, 8000)
		select {
		case <-ctx.Done():
		case <-leg.Done():
		}
	}

	dir := newFakeDir()
	dir.addNumber("4008001234", "", false)
	sim, err := pstnsim.New(pstnsim.WithLogger(testLogger(t)), pstnsim.WithRingTime(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	rec := newFakeRecords()
	edge := startEdge(t, dir, rec, WithTrunk(sim.Addr()), WithOutbound(h))
	if err := sim.SetServer(edge.Addr()); err != nil {
		t.Fatal(err)
	}
	var dialler *phone
	for wn, handler := range map[string]func(*diago.DialogServerSession){
		"1001": nil,
		"1002": toneAnswerer(offers, 600, pstnsim.DefaultVoiceFreq, agentHeard),
	} {
		dir.addAgent(wn, "pw"+wn)
		p := newPhone(t, wn, agentCodecs(), handler)
		if err := p.register(t, edge, "pw"+wn, time.Minute); err != nil {
			t.Fatal(err)
		}
		if wn == "1001" {
			dialler = p
		}
	}

	ctx := ctxT(t)
	const number = "13912345678"
	d, err := dialler.call(ctx, edge, number, diago.InviteOptions{})
	if err != nil {
		t.Fatalf("1001 dials %s: %v", number, err)
	}
	defer d.Close()
	var cust *pstnsim.Call
	select {
	case cust = <-sim.Answered():
	case <-time.After(5 * time.Second):
		t.Fatal("the carrier never answered")
	}
	defer cust.Hangup(context.Background())
	select {
	case <-d.Context().Done(): // released: 1001 is hung up
	case <-time.After(5 * time.Second):
		t.Fatal("1001's leg still up after its release")
	}
	waitUntil(t, "the customer hears the queue's source", func() bool { return cust.Heard(500) })
	if err := cust.SendDTMF(ctx, "4"); err != nil {
		t.Fatal(err)
	}
	var offer *sip.Request
	select {
	case offer = <-offers:
	case <-time.After(8 * time.Second):
		t.Fatal("no offer reached 1002")
	}
	if ok := <-agentHeard; !ok {
		t.Error("1002 did not hear the customer")
	}
	waitUntil(t, "the customer hears 1002", func() bool { return cust.Heard(600) })
	if err := cust.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	r := <-got
	if r.err != nil {
		t.Fatal(r.err)
	}
	if !errors.Is(r.playEarly, ErrAgentConnected) || !errors.Is(r.offerEarly, ErrAgentConnected) || !errors.Is(r.playLate, ErrAgentConnected) {
		t.Errorf("queue actions while an agent has the customer: play %v, offer %v, play after bridge %v", r.playEarly, r.offerEarly, r.playLate)
	}
	if r.key != '4' {
		t.Errorf("key %q, want 4", r.key)
	}
	if r.offerID == "" || r.offerID == r.callID {
		t.Errorf("offer id %q (call %s): want a transfer leg's own", r.offerID, r.callID)
	}
	for h, want := range map[string]string{HeaderCallID: r.offerID, HeaderParentCallID: r.callID, HeaderCallType: "outbound",
		HeaderCaller: number, HeaderNumber: "4008001234", HeaderGroup: "support"} {
		if v := offer.GetHeader(h); v == nil || v.Value() != want {
			t.Errorf("offer's %s = %v, want %s", h, v, want)
		}
	}

	recs := map[string]callcenter.CallRecord{}
	for range 2 {
		r := rec.waitEnded(t)
		recs[r.CallID] = r
	}
	call, leg := recs[r.callID], recs[r.offerID]
	if call.Type != callcenter.CallAgentOutbound || call.Agent != "1001" || call.Callee != number ||
		call.Result != callcenter.ResultAnswered || call.HangupBy != callcenter.PartyCallee {
		t.Errorf("call record %+v", call)
	}
	if leg.ParentID != r.callID || leg.Type != callcenter.CallAgentOutbound || leg.Caller != number || leg.Agent != "1002" ||
		leg.Group != "support" || leg.QueueWait != 1500*time.Millisecond || leg.Result != callcenter.ResultAnswered || leg.AnsweredAt.IsZero() {
		t.Errorf("transfer leg record %+v", leg)
	}
}

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(8 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
