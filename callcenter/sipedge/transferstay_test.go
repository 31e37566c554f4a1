package sipedge

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/pstnsim"
	"github.com/emiago/diago"
)

// After the first agent of an inbound call left (Release), a transfer
// to a group (StartTransferLeg) is a transfer leg with exactly one
// record: the bridged agent's when the queue reaches one, else one
// written at the call's end — abandoned when the customer hung up, the
// queue's outcome when it sent the customer away. A release without a
// transfer to a group (a blind transfer to an agent dials its own leg)
// opens no such leg.
func TestInboundTransferStayRecord(t *testing.T) {
	type step func(ctx context.Context, c *InboundCall) error
	const wait = 700 * time.Millisecond
	for _, tc := range []struct {
		name string
		// stay runs once the first agent was released; hangup: the test
		// hangs the customer up after it (else the handler returns).
		stay   step
		hangup bool
		legs   int // transfer leg records besides the call's
		check  func(t *testing.T, leg callcenter.CallRecord)
	}{
		{name: "customer hangs up in the queue", hangup: true, legs: 1,
			stay: func(ctx context.Context, c *InboundCall) error {
				c.StartTransferLeg("support")
				c.SetGroup("support")
				<-ctx.Done()
				c.SetQueueWait(wait)
				return nil
			},
			check: func(t *testing.T, leg callcenter.CallRecord) {
				if !leg.Abandoned || leg.Result != callcenter.ResultCancelled || leg.HangupBy != callcenter.PartyCaller ||
					leg.Group != "support" || leg.QueueWait != wait || leg.Agent != "" || !leg.AnsweredAt.IsZero() {
					t.Errorf("abandoned transfer leg %+v", leg)
				}
			}},
		{name: "customer hangs up in the group's IVR", hangup: true, legs: 1,
			stay: func(ctx context.Context, c *InboundCall) error {
				c.StartTransferLeg("support")
				<-ctx.Done()
				return nil
			},
			check: func(t *testing.T, leg callcenter.CallRecord) {
				if !leg.Abandoned || leg.Group != "support" || leg.QueueWait != 0 || leg.HangupBy != callcenter.PartyCaller {
					t.Errorf("transfer leg abandoned in the IVR %+v", leg)
				}
			}},
		{name: "queue sends the customer away", legs: 1,
			stay: func(ctx context.Context, c *InboundCall) error {
				c.StartTransferLeg("support")
				c.SetGroup("sales") // overflowed
				c.SetQueueWait(wait)
				c.SetOutcome(callcenter.ResultNoAnswer, callcenter.PartySystem)
				return nil
			},
			check: func(t *testing.T, leg callcenter.CallRecord) {
				if leg.Abandoned || leg.Result != callcenter.ResultNoAnswer || leg.HangupBy != callcenter.PartySystem ||
					leg.Group != "sales" || leg.QueueWait != wait {
					t.Errorf("transfer leg sent away %+v", leg)
				}
			}},
		{name: "agent bridged from the queue", hangup: true, legs: 1,
			stay: func(ctx context.Context, c *InboundCall) error {
				c.StartTransferLeg("support")
				c.SetGroup("support")
				leg, err := c.Offer(ctx, "1002", 3*time.Second, callcenter.ScreenPop{})
				if err != nil {
					return err
				}
				c.SetQueueWait(wait)
				if err := c.Bridge(leg); err != nil {
					return err
				}
				<-ctx.Done()
				return nil
			},
			check: func(t *testing.T, leg callcenter.CallRecord) {
				if leg.Abandoned || leg.Agent != "1002" || leg.Result != callcenter.ResultAnswered || leg.AnsweredAt.IsZero() ||
					leg.Group != "support" || leg.QueueWait != wait {
					t.Errorf("bridged transfer leg %+v", leg)
				}
			}},
		{name: "release without a transfer to a group", legs: 0,
			stay: func(ctx context.Context, c *InboundCall) error { return nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			type result struct {
				callID, legID string
				err           error
			}
			got := make(chan result, 1)
			stayed := make(chan struct{})
			h := func(ctx context.Context, c *InboundCall) {
				r := result{callID: c.ID()}
				defer func() { got <- r }()
				if r.err = c.Answer(ctx); r.err != nil {
					return
				}
				first, err := c.Offer(ctx, "1001", 3*time.Second, callcenter.ScreenPop{})
				if err != nil {
					r.err = err
					return
				}
				if r.err = c.Bridge(first); r.err != nil {
					return
				}
				if r.err = c.Release(ctx, first); r.err != nil {
					return
				}
				r.legID = c.OfferID()
				close(stayed)
				r.err = tc.stay(ctx, c)
			}
			ic := newInboundCenter(t, h, map[string]func(*diago.DialogServerSession){"1001": answerer(nil), "1002": answerer(nil)})
			ctx := ctxT(t)
			call, err := ic.sim.Call(ctx, "13900139000", "4008001234", pstnsim.CallOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer call.Hangup(context.Background())
			select {
			case <-stayed:
			case r := <-got:
				t.Fatalf("handler ended before the transfer: %v", r.err)
			}
			if tc.hangup {
				time.Sleep(100 * time.Millisecond)
				if err := call.Hangup(ctx); err != nil {
					t.Fatal(err)
				}
			}
			r := <-got
			if r.err != nil && !errors.Is(r.err, context.Canceled) {
				t.Fatal(r.err)
			}
			recs := map[string]callcenter.CallRecord{}
			for range 1 + tc.legs {
				rec := ic.rec.waitEnded(t)
				recs[rec.CallID] = rec
			}
			c, ok := recs[r.callID]
			if !ok || c.Agent != "1001" || c.Result != callcenter.ResultAnswered || c.Abandoned {
				t.Errorf("customer call record %+v (found %v)", c, ok)
			}
			if n := ic.rec.count(); n != 1+tc.legs {
				t.Errorf("%d records, want the call's and %d transfer legs'", n, tc.legs)
			}
			for id := range recs {
				if n := ic.rec.endCalls(id); n != 1 {
					t.Errorf("record %s ended %d times, want once", id, n)
				}
			}
			if tc.legs == 0 {
				return
			}
			leg, ok := recs[r.legID]
			if !ok || r.legID == r.callID || leg.ParentID != r.callID || leg.Type != callcenter.CallInbound ||
				leg.Caller != "13900139000" || leg.Number != "4008001234" || leg.EndedAt.IsZero() || leg.EndedAt.Before(leg.StartedAt) {
				t.Fatalf("transfer leg %s: record %+v (found %v), call %s", r.legID, leg, ok, r.callID)
			}
			tc.check(t, leg)
		})
	}
}
