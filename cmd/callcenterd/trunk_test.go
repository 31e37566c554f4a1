package main

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/api"
	"github.com/agentphone/agentphone/callcenter/pstnsim"
	"github.com/agentphone/agentphone/phone"
)

// startWithCarrier runs callcenterd with pstnsim as its carrier: the
// customers' voice is pstnsim's default 1.5 kHz tone.
func startWithCarrier(t *testing.T) (*instance, *pstnsim.Sim) {
	t.Helper()
	sim, err := pstnsim.New(pstnsim.WithListen("127.0.0.1:0"), pstnsim.WithRingTime(400*time.Millisecond),
		pstnsim.WithLogger(testLog(t).With("part", "pstnsim")))
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
	return in, sim
}

// TestOutsideToAgent: a customer calls the hotline; the carrier delivers it
// to callcenterd, whose IVR takes "1" for sales, where agent 1001 (idle,
// auto-answer on) is the longest idle; tones go both ways through G.711 on
// the trunk and Opus to the agent; the customer hangs up; one inbound
// record; the agent's event stream saw the call's life.
func TestOutsideToAgent(t *testing.T) {
	in, sim := startWithCarrier(t)
	a := newAgent(t, in, "1001", 1000)
	a.phone.SetAutoAnswer(true)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	setIdle(t, a)
	stream := a.api.Events(ctx)
	// Wait for the stream's snapshot so the call's whole life is streamed.
	var last uint64
	select {
	case ev := <-stream.C():
		if ev.Type != api.EventSnapshot {
			t.Fatalf("first event %s, want snapshot", ev.Type)
		}
		last = ev.Seq
	case <-ctx.Done():
		t.Fatal("no snapshot on the event stream")
	}

	cust, err := sim.Call(ctx, "13800138000", "4008001234", pstnsim.CallOptions{})
	if err != nil {
		t.Fatalf("customer call: %v", err)
	}
	if err := cust.SendDTMF(ctx, "1"); err != nil {
		t.Fatalf("customer presses 1: %v", err)
	}
	inc := a.nextCall(t, phone.Active)
	if got := inc.Header("X-Caller"); got != "13800138000" {
		t.Errorf("X-Caller = %q", got)
	}
	if got := inc.Header("X-Number"); got != "4008001234" {
		t.Errorf("X-Number = %q", got)
	}
	if inc.Codec() != "opus" {
		t.Errorf("agent leg codec %s, want opus (the room transcodes to the trunk's G.711)", inc.Codec())
	}
	waitHears(t, "agent", a.dev, pstnsim.DefaultVoiceFreq)
	waitFor(t, 5*time.Second, "customer hears the agent", func() bool { return cust.Heard(1000) })
	callID := inc.Header("X-Call-ID")
	if err := cust.Hangup(ctx); err != nil {
		t.Fatalf("customer hang up: %v", err)
	}
	<-inc.Done()
	rec := waitRecord(t, in, callID)
	if rec.Type != callcenter.CallInbound || rec.Caller != "13800138000" || rec.Agent != "1001" || rec.Number != "4008001234" || rec.Group != "sales" {
		t.Errorf("record: %+v", rec)
	}
	if rec.HangupBy != callcenter.PartyCaller || rec.Result != callcenter.ResultAnswered {
		t.Errorf("record: hangup by %q result %s", rec.HangupBy, rec.Result)
	}

	// The event stream: a snapshot first, then ringing → talking → ended
	// for this call, seq increasing by one.
	var states []string
	for len(states) < 3 || states[len(states)-1] != "ended" {
		select {
		case ev := <-stream.C():
			if ev.Seq != last+1 {
				t.Fatalf("seq %d after %d", ev.Seq, last)
			}
			last = ev.Seq
			if ev.Type == api.EventCall {
				var c api.Call
				if err := json.Unmarshal(ev.Data, &c); err != nil {
					t.Fatal(err)
				}
				if c.ID == callID {
					states = append(states, c.State)
				}
			}
		case <-ctx.Done():
			t.Fatalf("event stream: states %v, want ringing, talking, ended", states)
		}
	}
	if states[0] != "ringing" || states[1] != "talking" {
		t.Errorf("states %v", states)
	}
}

// TestAgentToOutside: agent 1001 dials an outside number, the carrier's
// customer answers; tones both ways; the agent hangs up; one outbound
// record. Busy and invalid numbers end with their SIP status and result.
func TestAgentToOutside(t *testing.T) {
	in, sim := startWithCarrier(t)
	a := newAgent(t, in, "1001", 1000)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	out, err := a.phone.Dial(ctx, "13912345678")
	if err != nil {
		t.Fatal(err)
	}
	var cust *pstnsim.Call
	select {
	case cust = <-sim.Answered():
	case <-ctx.Done():
		t.Fatal("the carrier never answered")
	}
	waitFor(t, 5*time.Second, "agent call active", func() bool { return out.State() == phone.Active })
	waitHears(t, "agent", a.dev, pstnsim.DefaultVoiceFreq)
	waitFor(t, 5*time.Second, "customer hears the agent", func() bool { return cust.Heard(1000) })
	time.Sleep(500 * time.Millisecond)
	if err := out.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	<-cust.Done()
	recs := waitRecords(t, in, 1)
	rec := recs[0]
	if rec.Type != callcenter.CallAgentOutbound || rec.Caller != "1001" || rec.Callee != "13912345678" {
		t.Errorf("record: %+v", rec)
	}
	if rec.HangupBy != callcenter.PartyCaller || rec.Result != callcenter.ResultAnswered || rec.Duration() < 500*time.Millisecond {
		t.Errorf("record: hangup by %q result %s duration %s", rec.HangupBy, rec.Result, rec.Duration())
	}

	for i, tc := range []struct {
		number string
		code   int
		result callcenter.Result
	}{
		{"13900000486", 486, callcenter.ResultBusy},
		{"13900000404", 404, callcenter.ResultInvalid},
	} {
		c, err := a.phone.Dial(ctx, tc.number)
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-c.Done():
		case <-ctx.Done():
			t.Fatalf("%s: call did not end", tc.number)
		}
		var se *phone.StatusError
		if !errors.As(c.EndReason(), &se) || se.Code != tc.code {
			t.Errorf("%s: end reason %v, want SIP %d", tc.number, c.EndReason(), tc.code)
		}
		recs := waitRecords(t, in, i+2)
		if r := recs[0]; r.Callee != tc.number || r.Result != tc.result || !r.AnsweredAt.IsZero() {
			t.Errorf("%s: record %+v, want result %s, never answered", tc.number, r, tc.result)
		}
	}
}

// setIdle makes the agent available for queue calls (login leaves it busy).
func setIdle(t *testing.T, a *agent) {
	t.Helper()
	idle := "idle"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := a.api.SetStatus(ctx, api.StatusChange{Phone: &idle})
	if err != nil || st.Phone != "idle" {
		t.Fatalf("set %s idle: %+v, %v", a.wn, st, err)
	}
}

// waitRecords waits until n completed records exist; newest first.
func waitRecords(t *testing.T, in *instance, n int) []callcenter.CallRecord {
	t.Helper()
	var recs []callcenter.CallRecord
	waitFor(t, 5*time.Second, "call records", func() bool {
		var err error
		recs, err = in.st.CallRecords(context.Background(), callcenter.RecordFilter{})
		if err != nil || len(recs) < n {
			return false
		}
		for _, r := range recs {
			if r.EndedAt.IsZero() {
				return false
			}
		}
		return true
	})
	if len(recs) != n {
		t.Fatalf("want %d records, got %d", n, len(recs))
	}
	return recs
}
