package sipedge

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/agentphone/agentphone/audio"
	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/pstnsim"
	"github.com/emiago/diago"
	"github.com/emiago/sipgo/sip"
)

// inboundCenter is an edge with an inbound handler, pstnsim as the carrier
// and agents 1001 and 1002 with the given phone handlers.
type inboundCenter struct {
	rec    *fakeRecords
	edge   *Edge
	sim    *pstnsim.Sim
	events *eventLog
	acts   *activityLog
}

type activityLog struct {
	mu   sync.Mutex
	acts []AgentActivity
}

func (l *activityLog) observe(a AgentActivity) {
	l.mu.Lock()
	l.acts = append(l.acts, a)
	l.mu.Unlock()
}

func (l *activityLog) list() []AgentActivity {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]AgentActivity(nil), l.acts...)
}

func newInboundCenter(t *testing.T, h InboundHandler, agents map[string]func(*diago.DialogServerSession)) *inboundCenter {
	t.Helper()
	dir := newFakeDir()
	dir.addNumber("4008001234", "", false)
	dir.addNumber("4008009999", "", true)
	sim, err := pstnsim.New(pstnsim.WithLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	ic := &inboundCenter{rec: newFakeRecords(), sim: sim, events: &eventLog{}, acts: &activityLog{}}
	ic.edge = startEdge(t, dir, ic.rec, WithTrunk(sim.Addr()), WithInbound(h),
		WithCallObserver(ic.events.observe), WithAgentActivity(ic.acts.observe))
	if err := sim.SetServer(ic.edge.Addr()); err != nil {
		t.Fatal(err)
	}
	for wn, handler := range agents {
		dir.addAgent(wn, "pw"+wn)
		p := newPhone(t, wn, agentCodecs(), handler)
		if err := p.register(t, ic.edge, "pw"+wn, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	return ic
}

// toneAnswerer answers, sends freq in Opus and reports whether it heard
// want; offers receives the INVITE.
func toneAnswerer(offers chan<- *sip.Request, freq, want float64, heard chan<- bool) func(*diago.DialogServerSession) {
	return func(d *diago.DialogServerSession) {
		offers <- d.InviteRequest
		d.Ringing()
		if err := d.Answer(); err != nil {
			heard <- false
			return
		}
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			sendTone(d.RTPSession(), audio.Opus, 96, freq, stop)
		}()
		heard <- listenForTone(d.RTPSession(), audio.Opus, 96, want)
		<-d.Context().Done()
		close(stop)
		<-done
	}
}

// The whole inbound path the orchestrator uses: answer into a room with
// music, read the customer's DTMF, offer to an agent who declines, then to
// one who answers, bridge with tone both ways, one record with queue data.
func TestInboundHookBridges(t *testing.T) {
	offers := make(chan *sip.Request, 4)
	agentHeard := make(chan bool, 1)
	type result struct {
		key      rune
		declined error
		err      error
	}
	got := make(chan result, 1)
	h := func(ctx context.Context, c *InboundCall) {
		var r result
		defer func() { got <- r }()
		if c.Number().E164 != "4008001234" || c.Caller() != "13800138000" {
			r.err = errors.New("wrong number or caller: " + c.Number().E164 + " " + c.Caller())
			return
		}
		if r.err = c.Answer(ctx); r.err != nil {
			return
		}
		if _, r.err = c.Play(ctx, "music", audio.NewTone(500, 0.3, 8000), 8000); r.err != nil {
			return
		}
		select {
		case r.key = <-c.Keys():
		case <-time.After(5 * time.Second):
			r.err = errors.New("no DTMF")
			return
		}
		c.SetGroup("sales")
		pop := callcenter.ScreenPop{CallID: c.ID(), Group: "sales"}
		_, r.declined = c.Offer(ctx, "1001", time.Second, pop)
		leg, err := c.Offer(ctx, "1002", 2*time.Second, pop)
		if err != nil {
			r.err = err
			return
		}
		c.SetQueueWait(1500 * time.Millisecond)
		if r.err = c.Bridge(leg); r.err != nil {
			return
		}
		select {
		case <-ctx.Done():
		case <-leg.Done():
		}
	}
	ic := newInboundCenter(t, h, map[string]func(*diago.DialogServerSession){
		"1001": nil, // declines with 603
		"1002": toneAnswerer(offers, 600, pstnsim.DefaultVoiceFreq, agentHeard),
	})
	ctx := ctxT(t)
	call, err := ic.sim.Call(ctx, "13800138000", "4008001234", pstnsim.CallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond) // some music first
	if err := call.SendDTMF(ctx, "1"); err != nil {
		t.Fatal(err)
	}
	var offer *sip.Request
	select {
	case offer = <-offers:
	case <-time.After(5 * time.Second):
		t.Fatal("no offer reached 1002")
	}
	for h, want := range map[string]string{HeaderCallType: "inbound", HeaderCaller: "13800138000", HeaderNumber: "4008001234", HeaderGroup: "sales"} {
		if v := offer.GetHeader(h); v == nil || v.Value() != want {
			t.Errorf("%s = %v, want %s", h, v, want)
		}
	}
	if ok := <-agentHeard; !ok {
		t.Error("agent did not hear the customer")
	}
	time.Sleep(300 * time.Millisecond)
	call.Hangup(ctx)
	r := <-got
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.key != '1' {
		t.Errorf("key %q", r.key)
	}
	var se *StatusError
	if !errors.As(r.declined, &se) || se.Code != 603 {
		t.Errorf("declined offer: %v", r.declined)
	}
	rec := ic.rec.waitEnded(t)
	if rec.Type != callcenter.CallInbound || rec.Agent != "1002" || rec.Group != "sales" || rec.QueueWait != 1500*time.Millisecond ||
		rec.Result != callcenter.ResultAnswered || rec.HangupBy != callcenter.PartyCaller || rec.Abandoned || rec.AnsweredAt.IsZero() || rec.Codec != "opus" {
		t.Errorf("record %+v", rec)
	}
	if !heardSome(call.Received(), 500) {
		t.Error("customer did not hear the music")
	}
	if !heardSome(call.Received(), 600) {
		t.Error("customer did not hear the agent")
	}
	if n := ic.rec.count(); n != 1 {
		t.Errorf("%d records", n)
	}
	if s := ic.events.states(rec.CallID); s != "ringing,ringing,ended,ringing,talking,ended" {
		t.Errorf("events %s", s)
	}
}

// A customer who hangs up while queued is recorded once, abandoned, with
// the wait; an offer ringing at that moment is cancelled.
func TestInboundAbandon(t *testing.T) {
	offers := make(chan *sip.Request, 1)
	offerErr := make(chan error, 1)
	h := func(ctx context.Context, c *InboundCall) {
		if err := c.Answer(ctx); err != nil {
			offerErr <- err
			return
		}
		c.SetGroup("sales")
		c.SetQueueWait(time.Second)
		_, err := c.Offer(ctx, "1001", 10*time.Second, callcenter.ScreenPop{})
		offerErr <- err
	}
	ic := newInboundCenter(t, h, map[string]func(*diago.DialogServerSession){"1001": ringer(offers)})
	ctx := ctxT(t)
	call, err := ic.sim.Call(ctx, "13900139000", "4008001234", pstnsim.CallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	<-offers
	call.Hangup(ctx)
	if err := <-offerErr; !errors.Is(err, ErrCallEnded) {
		t.Errorf("offer: %v", err)
	}
	rec := ic.rec.waitEnded(t)
	if !rec.Abandoned || rec.Result != callcenter.ResultCancelled || rec.HangupBy != callcenter.PartyCaller || rec.Group != "sales" || rec.QueueWait != time.Second || rec.Agent != "" {
		t.Errorf("record %+v", rec)
	}
}

// Offers end with clear errors: ring timeout, no phone, cancelled ctx.
func TestInboundOfferOutcomes(t *testing.T) {
	offers := make(chan *sip.Request, 4)
	errs := make(chan error, 3)
	h := func(ctx context.Context, c *InboundCall) {
		if err := c.Answer(ctx); err != nil {
			errs <- err
			return
		}
		_, err := c.Offer(ctx, "1001", 300*time.Millisecond, callcenter.ScreenPop{})
		errs <- err
		_, err = c.Offer(ctx, "1099", time.Second, callcenter.ScreenPop{})
		errs <- err
		octx, cancel := context.WithCancel(ctx)
		time.AfterFunc(200*time.Millisecond, cancel)
		_, err = c.Offer(octx, "1001", 5*time.Second, callcenter.ScreenPop{})
		errs <- err
		c.SetOutcome(callcenter.ResultNoAnswer, callcenter.PartySystem)
	}
	ic := newInboundCenter(t, h, map[string]func(*diago.DialogServerSession){"1001": ringer(offers)})
	ctx := ctxT(t)
	if _, err := ic.sim.Call(ctx, "13900139000", "4008001234", pstnsim.CallOptions{}); err != nil {
		t.Fatal(err)
	}
	var got []error
	for range 3 {
		select {
		case err := <-errs:
			got = append(got, err)
		case <-time.After(8 * time.Second):
			t.Fatal("offers did not end")
		}
	}
	for i, want := range []error{ErrNoAnswer, ErrUnreachable, context.Canceled} {
		if !errors.Is(got[i], want) {
			t.Errorf("offer %d: %v, want %v", i, got[i], want)
		}
	}
	rec := ic.rec.waitEnded(t)
	if rec.Result != callcenter.ResultNoAnswer || rec.HangupBy != callcenter.PartySystem || rec.Abandoned {
		t.Errorf("record %+v", rec)
	}
}

// Reject refuses before answer; unknown and disabled numbers never reach
// the handler.
func TestInboundReject(t *testing.T) {
	reached := make(chan string, 4)
	h := func(ctx context.Context, c *InboundCall) {
		reached <- c.Number().E164
		if err := c.Reject(480); err != nil {
			t.Errorf("reject: %v", err)
		}
		if err := c.Answer(ctx); err == nil {
			t.Error("answer after reject")
		}
	}
	ic := newInboundCenter(t, h, nil)
	ctx := ctxT(t)
	for _, tc := range []struct {
		number string
		code   int
		res    callcenter.Result
	}{
		{"4008001234", 480, callcenter.ResultUnreachable},
		{"4008009999", 404, callcenter.ResultInvalid},
		{"4000000000", 404, callcenter.ResultInvalid},
	} {
		_, err := ic.sim.Call(ctx, "13900139000", tc.number, pstnsim.CallOptions{})
		var se *pstnsim.StatusError
		if !errors.As(err, &se) || se.Code != tc.code {
			t.Errorf("%s: %v, want %d", tc.number, err, tc.code)
		}
		rec := ic.rec.waitEnded(t)
		if rec.Result != tc.res || rec.Abandoned {
			t.Errorf("%s: record %+v", tc.number, rec)
		}
	}
	if n := len(reached); n != 1 {
		t.Errorf("handler saw %d calls", n)
	}
}

// Internal calls report each agent's leg so agent states follow them.
func TestAgentActivityInternal(t *testing.T) {
	acts := &activityLog{}
	c := newCenter(t, answerer, WithAgentActivity(acts.observe))
	ctx := ctxT(t)
	d, err := c.a.call(ctx, c.edge, "1002", diago.InviteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	<-c.offers
	d.Hangup(ctx)
	d.Close()
	c.rec.waitEnded(t)
	var got []string
	for _, a := range acts.list() {
		dir := "in"
		if a.Outgoing {
			dir = "out"
		}
		got = append(got, a.Agent+":"+dir+":"+a.State.String())
	}
	want := "1001:out:ringing 1002:in:ringing 1001:out:talking 1002:in:talking 1001:out:ended 1002:in:ended"
	if s := joinSpace(got); s != want {
		t.Errorf("activity %s\nwant     %s", s, want)
	}
}

func joinSpace(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}

// heardSome reports whether any 200 ms window of 8 kHz pcm is dominated
// by freq (a call hears several things in turn).
func heardSome(pcm []int16, freq float64) bool {
	const w = 1600
	for i := 0; i+w <= len(pcm); i += w / 2 {
		if audio.DetectTone(pcm[i:i+w], 8000, freq) {
			return true
		}
	}
	return false
}
