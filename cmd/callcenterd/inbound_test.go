package main

// End-to-end scenarios of the inbound call center (issue 3): the real
// callcenterd (store, SIP edge, center, API) with pstnsim as the carrier
// and softphone SIP agents (phone.Phone on virtual headsets). Statuses and
// events are read through the API the softphone uses, records through the
// store. The demo groups' timers (ring 15 s, ACW 15 s, max wait 90 s) are
// shortened through the store and the center's Reload so each scenario
// takes a few seconds.

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/agentstate"
	"github.com/agentphone/agentphone/callcenter/api"
	"github.com/agentphone/agentphone/callcenter/client"
	"github.com/agentphone/agentphone/callcenter/pstnsim"
	"github.com/agentphone/agentphone/callcenter/server"
	"github.com/agentphone/agentphone/phone"
	"go.uber.org/goleak"
)

const (
	customer = "13800138000"
	hotline  = "4008001234" // admin.DemoNumber → IVR main (1 sales, 2 support)
	// Short timers for the demo groups (see tuneGroups).
	fastRing = time.Second
	fastACW  = time.Second
	fastWait = 2 * time.Second
)

// leakCheck fails the test when goroutines it started outlive it. It is
// registered first so that it runs after every other cleanup (server,
// phones, carrier).
func leakCheck(t *testing.T) {
	t.Helper()
	opts := []goleak.Option{
		goleak.IgnoreCurrent(),
		// diago/sipgo keep package-level timers and transaction
		// goroutines that end a little after the UA closes.
		goleak.IgnoreTopFunction("time.Sleep"),
		goleak.IgnoreAnyFunction("github.com/emiago/sipgo/sip.(*transactionFSM).run"),
	}
	t.Cleanup(func() { goleak.VerifyNone(t, opts...) })
}

// startInbound runs callcenterd with pstnsim as the carrier and the demo
// groups' timers shortened: ring 1 s, ACW 1 s, sales' maximum wait 2 s.
func startInbound(t *testing.T) (*instance, *pstnsim.Sim) {
	t.Helper()
	leakCheck(t)
	in, sim := startWithCarrier(t)
	tuneGroup(t, in, "sales", func(g *callcenter.SkillGroup) {
		g.RingTimeout, g.ACW, g.ACWDuration, g.MaxWait = fastRing, true, fastACW, fastWait
	})
	tuneGroup(t, in, "support", func(g *callcenter.SkillGroup) {
		g.RingTimeout, g.ACW, g.ACWDuration = fastRing, true, fastACW
	})
	return in, sim
}

// tuneGroup changes a group through the store, as `callcenterd admin group
// set` would, and has the running center reload it.
func tuneGroup(t *testing.T, in *instance, name string, change func(*callcenter.SkillGroup)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	g, err := in.st.GroupByName(ctx, name)
	if err != nil {
		t.Fatalf("group %s: %v", name, err)
	}
	change(&g)
	if err := in.st.UpdateGroup(ctx, g); err != nil {
		t.Fatalf("update group %s: %v", name, err)
	}
	if err := in.center.Reload(ctx); err != nil {
		t.Fatalf("reload center: %v", err)
	}
}

// callHotline places the customer's call to the hotline and keys choice
// at the IVR.
func callHotline(t *testing.T, ctx context.Context, sim *pstnsim.Sim, choice string) *pstnsim.Call {
	t.Helper()
	cust, err := sim.Call(ctx, customer, hotline, pstnsim.CallOptions{})
	if err != nil {
		t.Fatalf("customer call: %v", err)
	}
	t.Cleanup(func() {
		hctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = cust.Hangup(hctx) // no-op when the call is over
	})
	if err := cust.SendDTMF(ctx, choice); err != nil {
		t.Fatalf("customer keys %s: %v", choice, err)
	}
	return cust
}

// watcher records an agent's event stream (what the softphone is told), so
// scenarios can wait for an event and check what came before it.
type watcher struct {
	wn     string
	stream *client.Stream
	cancel context.CancelFunc

	mu   sync.Mutex
	evs  []api.Event
	cur  int // next searches from here
	done bool
}

// watch opens c's event stream and returns once its snapshot arrived: what
// happens after is on record.
func watch(t *testing.T, wn string, c *client.Client) *watcher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &watcher{wn: wn, stream: c.Events(ctx), cancel: cancel}
	go func() {
		for ev := range w.stream.C() {
			w.mu.Lock()
			w.evs = append(w.evs, ev)
			w.mu.Unlock()
		}
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	}()
	t.Cleanup(func() {
		cancel()
		<-w.stream.Done()
	})
	w.wait(t, api.EventSnapshot, "snapshot", nil)
	return w
}

// find returns the index of the first event of type typ at or after from
// that ok accepts (nil accepts any), or -1.
func (w *watcher) find(from int, typ string, ok func(api.Event) bool) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := from; i < len(w.evs); i++ {
		if w.evs[i].Type == typ && (ok == nil || ok(w.evs[i])) {
			return i
		}
	}
	return -1
}

func (w *watcher) event(i int) api.Event {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.evs[i]
}

func (w *watcher) stopped() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.done
}

// wait waits for an event of type typ that ok accepts and returns it.
func (w *watcher) wait(t *testing.T, typ, what string, ok func(api.Event) bool) api.Event {
	t.Helper()
	i := -1
	waitFor(t, 10*time.Second, w.wn+" is sent "+typ+" "+what, func() bool {
		i = w.find(0, typ, ok)
		return i >= 0
	})
	return w.event(i)
}

// next waits for an event of type typ that ok accepts after the one next
// returned last, so that a sequence of states is checked in order.
func (w *watcher) next(t *testing.T, typ, what string, ok func(api.Event) bool) api.Event {
	t.Helper()
	w.mu.Lock()
	from := w.cur
	w.mu.Unlock()
	i := -1
	waitFor(t, 10*time.Second, w.wn+" is sent "+typ+" "+what, func() bool {
		i = w.find(from, typ, ok)
		return i >= 0
	})
	w.mu.Lock()
	w.cur = i + 1
	w.mu.Unlock()
	return w.event(i)
}

// count is how many events of type typ ok accepts.
func (w *watcher) count(typ string, ok func(api.Event) bool) int {
	n := 0
	for i := w.find(0, typ, ok); i >= 0; i = w.find(i+1, typ, ok) {
		n++
	}
	return n
}

// waitStatus waits for the next status event that ok accepts (in order,
// see next).
func (w *watcher) waitStatus(t *testing.T, what string, ok func(api.AgentStatus) bool) api.AgentStatus {
	t.Helper()
	ev := w.next(t, api.EventStatus, what, func(ev api.Event) bool { return ok(decode[api.AgentStatus](t, ev)) })
	return decode[api.AgentStatus](t, ev)
}

func decode[T any](t *testing.T, ev api.Event) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(ev.Data, &v); err != nil {
		t.Fatalf("decode %s event %s: %v", ev.Type, ev.Data, err)
	}
	return v
}

// status is the agent's status as the API answers it now (a PUT of no
// change returns it as it is; there is no GET of the status).
func status(t *testing.T, a *agent) api.AgentStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := a.api.SetStatus(ctx, api.StatusChange{})
	if err != nil {
		t.Fatalf("status of %s: %v", a.wn, err)
	}
	return st
}

func isActivity(act string) func(api.AgentStatus) bool {
	return func(s api.AgentStatus) bool { return s.Activity == act }
}

// idleAgain: back from after-call work, available for queue calls.
func idleAgain(s api.AgentStatus) bool {
	return s.Presence == "online" && s.Phone == "idle" && s.Activity == "none"
}

// talk checks the voice goes both ways: the agent hears the customer's
// 1.5 kHz and the customer hears the agent's freq.
func talk(t *testing.T, a *agent, cust *pstnsim.Call, freq float64) {
	t.Helper()
	waitHears(t, a.wn, a.dev, pstnsim.DefaultVoiceFreq)
	waitFor(t, 5*time.Second, "customer hears "+a.wn, func() bool { return cust.Heard(freq) })
}

// hangUp ends the call from the customer's side and waits for the agent's leg.
func hangUp(t *testing.T, ctx context.Context, cust *pstnsim.Call, leg *phone.Call) {
	t.Helper()
	if err := cust.Hangup(ctx); err != nil {
		t.Fatalf("customer hangs up: %v", err)
	}
	select {
	case <-leg.Done():
	case <-ctx.Done():
		t.Fatal("agent leg not ended after the customer hung up")
	}
}

// noCall checks that the agent's phone was not offered a call.
func noCall(t *testing.T, a *agent) {
	t.Helper()
	for {
		select {
		case ev, ok := <-a.events:
			if !ok {
				return // the phone closed: no more calls can come
			}
			// The end of a call seen before is not a new call.
			if ev.Kind == phone.EventCall && ev.State != phone.Ended {
				t.Errorf("agent %s: unexpected call event %s", a.wn, ev.State)
			}
		default:
			return
		}
	}
}

// TestInboundMissedThenAnswered is the main scenario: the customer keys 1
// for sales; 1001, idle the longest, rings and does not answer; 1002
// answers (tones both ways); after the customer hangs up 1002 is in
// after-call work, then idle; its figures count the call and its talk time;
// 1001 was told of the missed offer and has it in its history; one record.
func TestInboundMissedThenAnswered(t *testing.T) {
	in, sim := startInbound(t)
	a1 := newAgent(t, in, "1001", 700)
	a2 := newAgent(t, in, "1002", 1000)
	w1 := watch(t, "1001", a1.api)
	w2 := watch(t, "1002", a2.api)
	setIdle(t, a1)
	time.Sleep(20 * time.Millisecond) // 1001 is idle strictly longer
	setIdle(t, a2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()

	cust := callHotline(t, ctx, sim, "1")
	missed := a1.nextCall(t, phone.Ringing)
	callID := missed.Header("X-Call-ID")
	pop := decode[api.ScreenPop](t, w1.wait(t, api.EventOffer, "offer", nil))
	if pop.CallID != callID || pop.Customer != customer || pop.Group != "售前咨询" || pop.CenterNumber != hotline || pop.Direction != "inbound" {
		t.Errorf("1001's screen pop %+v, want call %s from %s via %s in sales", pop, callID, customer, hotline)
	}
	if pop.RingTimeoutSec != fastRing.Seconds() {
		t.Errorf("screen pop ring timeout %vs, want %v", pop.RingTimeoutSec, fastRing.Seconds())
	}
	w1.waitStatus(t, "ringing", isActivity("ringing"))
	noCall(t, a2) // one agent at a time with longest idle

	// 1001 lets it ring out; the ring timeout moves the offer on.
	inc := a2.nextCall(t, phone.Ringing)
	if got := inc.Header("X-Call-ID"); got != callID {
		t.Errorf("1002 offered call %q, want %q", got, callID)
	}
	select {
	case <-missed.Done():
	case <-ctx.Done():
		t.Fatal("1001's phone still rings after the offer moved on")
	}
	if d := time.Since(start); d < fastRing {
		t.Errorf("the offer moved on after %s, before the ring timeout %s", d, fastRing)
	}
	if err := inc.Answer(ctx); err != nil {
		t.Fatalf("1002 answers: %v", err)
	}
	talk(t, a2, cust, 1000)
	if hears(a1.dev, pstnsim.DefaultVoiceFreq) {
		t.Error("1001, who missed the call, hears the customer")
	}
	w2.waitStatus(t, "talking", isActivity("talking"))
	// Both members see sales' figures: 1002 talking, 1001 idle, nobody waiting.
	for _, w := range []*watcher{w1, w2} {
		w.wait(t, api.EventGroups, "1002 talking in sales", func(ev api.Event) bool {
			for _, g := range decode[[]api.Group](t, ev) {
				if g.Name == "sales" && g.Talking == 1 && g.Idle == 1 && g.Waiting == 0 {
					return true
				}
			}
			return false
		})
	}
	time.Sleep(time.Second) // some talk time
	hangUp(t, ctx, cust, inc)

	acw := w2.waitStatus(t, "after-call work", isActivity("acw"))
	if d := acw.ACWUntil.Sub(acw.Since); d < fastACW-50*time.Millisecond || d > fastACW+50*time.Millisecond {
		t.Errorf("after-call work from %s until %s, want %s", acw.Since, acw.ACWUntil, fastACW)
	}
	w2.waitStatus(t, "idle after after-call work", idleAgain)
	if st := status(t, a2); !idleAgain(st) {
		t.Errorf("1002's status %+v, want online, idle", st)
	}

	rec := waitRecords(t, in, 1)[0]
	if rec.CallID != callID || rec.Type != callcenter.CallInbound || rec.Agent != "1002" || rec.Group != "sales" ||
		rec.Caller != customer || rec.Number != hotline {
		t.Errorf("record %+v, want inbound %s from %s via %s, agent 1002, group sales", rec, callID, customer, hotline)
	}
	if rec.Result != callcenter.ResultAnswered || rec.HangupBy != callcenter.PartyCaller || rec.Abandoned {
		t.Errorf("record: result %s, hangup by %q, abandoned %v; want answered, caller", rec.Result, rec.HangupBy, rec.Abandoned)
	}
	// The wait includes 1001's ring timeout.
	if rec.QueueWait < fastRing || rec.QueueWait > 10*time.Second {
		t.Errorf("record queue wait %s, want at least the %s ring timeout", rec.QueueWait, fastRing)
	}

	// 1002's figures once idle again (pushed right after the status):
	// one call, the talk time of the record.
	fig := decode[api.Figures](t, w2.next(t, api.EventFigures, "after the call", nil))
	if fig.Calls != 1 {
		t.Errorf("1002's figures count %d calls, want 1", fig.Calls)
	}
	if d := fig.TalkTimeSec - rec.Duration().Seconds(); d < -0.5 || d > 0.5 {
		t.Errorf("1002's talk time %.2fs, the record's %.2fs", fig.TalkTimeSec, rec.Duration().Seconds())
	}
	if fig.Missed != 0 {
		t.Errorf("1002 missed %d offers, want 0", fig.Missed)
	}

	// 1001: told of the missed offer, counted, and in its history.
	item := decode[api.HistoryItem](t, w1.wait(t, api.EventMissed, "missed offer", nil))
	if !item.Missed || item.CallID != callID || item.Customer != customer {
		t.Errorf("1001's missed event %+v, want missed call %s from %s", item, callID, customer)
	}
	w1.wait(t, api.EventFigures, "one missed", func(ev api.Event) bool { return decode[api.Figures](t, ev).Missed == 1 })
	hist, err := a1.api.History(ctx, time.Time{}, false, 10)
	if err != nil {
		t.Fatalf("1001's history: %v", err)
	}
	if len(hist) != 1 || !hist[0].Missed || hist[0].CallID != callID || hist[0].Customer != customer || hist[0].Group != "sales" {
		t.Errorf("1001's history %+v, want the one missed call %s", hist, callID)
	}
	// One miss is not two in a row: 1001 stays idle, untold.
	if st := status(t, a1); !idleAgain(st) {
		t.Errorf("1001 after one missed offer: %+v, want idle", st)
	}
	if n := w1.count(api.EventNotice, nil); n != 0 {
		t.Errorf("1001 got %d notices after one miss", n)
	}
	// 1002 answered: not a missed call in its history.
	hist, err = a2.api.History(ctx, time.Time{}, false, 10)
	if err != nil {
		t.Fatalf("1002's history: %v", err)
	}
	if len(hist) != 1 || hist[0].Missed || hist[0].CallID != callID {
		t.Errorf("1002's history %+v, want the answered call %s", hist, callID)
	}
}

// TestInboundOverflowOnMaxWait: nobody in sales is available, so after
// sales' maximum wait the call moves to support, where 2001 answers.
func TestInboundOverflowOnMaxWait(t *testing.T) {
	in, sim := startInbound(t)
	a1 := newAgent(t, in, "1001", 700) // signed in, but busy (the login default)
	sup := newAgent(t, in, "2001", 1000)
	wsup := watch(t, "2001", sup.api)
	setIdle(t, sup)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	cust := callHotline(t, ctx, sim, "1")
	keyed := time.Now()
	inc := sup.nextCall(t, phone.Ringing)
	if d := time.Since(keyed); d < fastWait-200*time.Millisecond {
		t.Errorf("support rang %s after the choice, before sales' maximum wait %s", d, fastWait)
	}
	pop := decode[api.ScreenPop](t, wsup.wait(t, api.EventOffer, "offer", nil))
	// The pop shows the group's label (support is 售后服务 in the demo data).
	if pop.Group != "售后服务" || pop.QueueWaitSec < fastWait.Seconds()-0.2 {
		t.Errorf("2001's screen pop: group %q, waited %.1fs; want 售后服务 after %s", pop.Group, pop.QueueWaitSec, fastWait)
	}
	if err := inc.Answer(ctx); err != nil {
		t.Fatalf("2001 answers: %v", err)
	}
	talk(t, sup, cust, 1000)
	hangUp(t, ctx, cust, inc)
	noCall(t, a1)

	rec := waitRecords(t, in, 1)[0]
	if rec.Agent != "2001" || rec.Group != "support" || rec.Result != callcenter.ResultAnswered {
		t.Errorf("record %+v, want answered by 2001 in support", rec)
	}
	if rec.QueueWait < fastWait-200*time.Millisecond {
		t.Errorf("record queue wait %s, want at least sales' maximum wait %s", rec.QueueWait, fastWait)
	}
	wsup.waitStatus(t, "idle after after-call work", idleAgain)
}

// waitingIn accepts a groups event where group has n callers waiting.
func waitingIn(t *testing.T, group string, n int) func(api.Event) bool {
	return func(ev api.Event) bool {
		for _, g := range decode[[]api.Group](t, ev) {
			if g.Name == group && g.Waiting == n {
				return true
			}
		}
		return false
	}
}

// TestInboundAbandon: nobody is available; the customer hangs up in the
// IVR before choosing, or while queued in sales (whose figures showed the
// caller waiting). Either way: one record, abandoned, with the queue wait
// (none in the IVR), and no agent offered the call.
func TestInboundAbandon(t *testing.T) {
	for _, tc := range []struct {
		name  string
		key   string // keyed at the IVR; "" hangs up in the IVR
		group string
	}{
		{"in IVR", "", ""},
		{"in queue", "1", "sales"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, sim := startInbound(t)
			// Long enough that the caller gives up first.
			tuneGroup(t, in, "sales", func(g *callcenter.SkillGroup) { g.MaxWait = 30 * time.Second })
			a1 := newAgent(t, in, "1001", 700) // busy: sees the queue, takes no calls
			w1 := watch(t, "1001", a1.api)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()

			var cust *pstnsim.Call
			if tc.key != "" {
				cust = callHotline(t, ctx, sim, tc.key)
				w1.next(t, api.EventGroups, "a caller waiting in sales", waitingIn(t, "sales", 1))
			} else {
				var err error
				if cust, err = sim.Call(ctx, customer, hotline, pstnsim.CallOptions{}); err != nil {
					t.Fatalf("customer call: %v", err)
				}
			}
			queued := time.Now()
			const patience = 1500 * time.Millisecond
			time.Sleep(patience)
			if err := cust.Hangup(ctx); err != nil {
				t.Fatalf("customer hangs up: %v", err)
			}
			waited := time.Since(queued)

			rec := waitRecords(t, in, 1)[0]
			if !rec.Abandoned || rec.Group != tc.group || rec.Agent != "" || rec.Caller != customer || rec.Number != hotline {
				t.Errorf("record %+v, want abandoned from %s via %s, group %q, no agent", rec, customer, hotline, tc.group)
			}
			if rec.Result == callcenter.ResultAnswered || rec.HangupBy != callcenter.PartyCaller {
				t.Errorf("abandoned call recorded as %s, hung up by %q; want not answered, by the caller", rec.Result, rec.HangupBy)
			}
			if tc.group == "" && rec.QueueWait != 0 {
				t.Errorf("record queue wait %s for a caller who never queued", rec.QueueWait)
			}
			if tc.group != "" && (rec.QueueWait < patience || rec.QueueWait > waited+time.Second) {
				t.Errorf("record queue wait %s, the caller waited about %s", rec.QueueWait, waited)
			}
			if tc.group != "" {
				w1.next(t, api.EventGroups, "sales empty again", waitingIn(t, "sales", 0))
			}
			noCall(t, a1)
			if n := w1.count(api.EventOffer, nil); n != 0 {
				t.Errorf("busy 1001 was offered the call %d times", n)
			}
		})
	}
}

// TestInboundAutoAnswer: an idle agent with auto-answer on is connected
// without a click.
func TestInboundAutoAnswer(t *testing.T) {
	in, sim := startInbound(t)
	a := newAgent(t, in, "1001", 1000)
	w := watch(t, "1001", a.api)
	on, idle := true, "idle"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := a.api.SetStatus(ctx, api.StatusChange{Phone: &idle, AutoAnswer: &on})
	if err != nil || !st.AutoAnswer || st.Phone != "idle" {
		t.Fatalf("switch auto-answer on: %+v, %v", st, err)
	}
	// The softphone applies the server's switch to its phone (ui/vm).
	a.phone.SetAutoAnswer(true)

	cust := callHotline(t, ctx, sim, "1")
	inc := a.nextCall(t, phone.Active) // nobody called Answer
	talk(t, a, cust, 1000)
	w.waitStatus(t, "talking", isActivity("talking"))
	if st := status(t, a); st.Activity != "talking" || !st.AutoAnswer {
		t.Errorf("status on the call %+v, want talking with auto-answer", st)
	}
	hangUp(t, ctx, cust, inc)
	w.waitStatus(t, "idle after after-call work", idleAgain)
	rec := waitRecords(t, in, 1)[0]
	if rec.Agent != "1001" || rec.Result != callcenter.ResultAnswered || rec.Group != "sales" {
		t.Errorf("record %+v, want answered by 1001 in sales", rec)
	}
	if n := w.count(api.EventMissed, nil); n != 0 {
		t.Errorf("%d missed events for an auto-answered call", n)
	}
}

// TestInboundTakeover: 1001 signs in on a second device. The first device's
// stream is told (notice, then takeover) and ends; the new session works;
// the new phone's registration replaced the old one, so the next call rings
// the new phone only.
func TestInboundTakeover(t *testing.T) {
	in, sim := startInbound(t)
	old := newAgent(t, in, "1001", 700)
	wold := watch(t, "1001 (first device)", old.api)
	setIdle(t, old)

	again := newAgent(t, in, "1001", 1000) // the second login and phone
	wold.wait(t, api.EventTakeover, "takeover", nil)
	notice := wold.find(0, api.EventNotice, func(ev api.Event) bool {
		return decode[api.Notice](t, ev).Code == server.NoticeTakeover
	})
	if notice < 0 || notice > wold.find(0, api.EventTakeover, nil) {
		t.Errorf("the first device was not sent a takeover notice before the takeover")
	}
	waitFor(t, 5*time.Second, "the first device's stream ends", wold.stopped)
	if err := wold.stream.Err(); !errors.Is(err, client.ErrTakeover) {
		t.Errorf("first stream ended with %v, want ErrTakeover", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := old.api.SetStatus(ctx, api.StatusChange{}); !errors.Is(err, client.ErrUnauthorized) {
		t.Errorf("the first device's session still answers: %v", err)
	}

	// The new session: a fresh login (busy, not the old device's idle).
	wnew := watch(t, "1001 (second device)", again.api)
	snap := decode[api.Snapshot](t, wnew.event(0))
	if snap.Status == nil || snap.Status.Phone != "busy" || snap.Status.Presence != "online" {
		t.Errorf("new session's snapshot status %+v, want online, busy", snap.Status)
	}
	if !snap.Registered {
		t.Error("new session's snapshot: not registered")
	}
	if n := wnew.count(api.EventTakeover, nil); n != 0 {
		t.Errorf("the new device was told of a takeover")
	}
	setIdle(t, again)
	again.phone.SetAutoAnswer(true)

	// The first device quits: its un-REGISTER carries the revoked login's
	// SIP secret, which the registrar refuses, so the new device's binding
	// stays.
	if err := old.phone.Close(); !errors.Is(err, phone.ErrBadCredentials) {
		t.Errorf("first device's un-REGISTER: %v, want refused (the takeover revoked its SIP secret)", err)
	}
	time.Sleep(200 * time.Millisecond)
	if !in.edge.Registered("1001") {
		t.Fatal("1001 is not registered after the first device quit: its un-REGISTER removed the new binding")
	}

	cust := callHotline(t, ctx, sim, "1")
	inc := again.nextCall(t, phone.Active)
	talk(t, again, cust, 1000)
	hangUp(t, ctx, cust, inc)
	noCall(t, old)
	rec := waitRecords(t, in, 1)[0]
	if rec.Agent != "1001" || rec.Result != callcenter.ResultAnswered {
		t.Errorf("record %+v, want answered by 1001", rec)
	}
}

// TestInboundTwoMissedSetsBusy: 1001, the only idle agent in sales, misses
// the call twice; the second miss sets it busy and it is told why.
func TestInboundTwoMissedSetsBusy(t *testing.T) {
	in, sim := startInbound(t)
	tuneGroup(t, in, "sales", func(g *callcenter.SkillGroup) { g.MaxWait = 30 * time.Second })
	a := newAgent(t, in, "1001", 700)
	w := watch(t, "1001", a.api)
	setIdle(t, a)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	cust := callHotline(t, ctx, sim, "1")
	first := a.nextCall(t, phone.Ringing)
	<-first.Done()
	second := a.nextCall(t, phone.Ringing)
	if first.Header("X-Call-ID") != second.Header("X-Call-ID") {
		t.Errorf("second offer is call %s, want the same call %s again", second.Header("X-Call-ID"), first.Header("X-Call-ID"))
	}
	<-second.Done()

	n := decode[api.Notice](t, w.wait(t, api.EventNotice, "why it is busy", nil))
	if n.Code != agentstate.NoticeMissedTwice || n.Message == "" {
		t.Errorf("notice %+v, want %s with a message", n, agentstate.NoticeMissedTwice)
	}
	w.waitStatus(t, "busy", func(s api.AgentStatus) bool { return s.Phone == "busy" && s.Activity == "none" })
	if st := status(t, a); st.Phone != "busy" || st.Presence != "online" {
		t.Errorf("status after two misses %+v, want online, busy", st)
	}
	if got := w.count(api.EventMissed, nil); got != 2 {
		t.Errorf("%d missed events, want 2", got)
	}
	// Busy now: the caller still waiting is not offered to 1001 again.
	time.Sleep(2 * fastRing)
	noCall(t, a)
	if got := w.count(api.EventOffer, nil); got != 2 {
		t.Errorf("%d offers, want 2", got)
	}
	hist, err := a.api.History(ctx, time.Time{}, true, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 1 || !hist[0].Missed || hist[0].Customer != customer {
		t.Errorf("1001's missed history %+v, want the one call (missed twice)", hist)
	}

	// Idle again: the miss streak starts over and the caller, still
	// waiting, is offered to 1001, who answers this time.
	setIdle(t, a)
	third := a.nextCall(t, phone.Ringing)
	if err := third.Answer(ctx); err != nil {
		t.Fatalf("1001 answers: %v", err)
	}
	talk(t, a, cust, 700)
	hangUp(t, ctx, cust, third)
	rec := waitRecords(t, in, 1)[0]
	if rec.Abandoned || rec.Agent != "1001" || rec.Result != callcenter.ResultAnswered || rec.QueueWait < 2*fastRing {
		t.Errorf("record %+v, want answered by 1001 after waiting through two ring timeouts", rec)
	}
	// Missed twice, then answered: not a missed call any more.
	if hist, err = a.api.History(ctx, time.Time{}, true, 10); err != nil || len(hist) != 0 {
		t.Errorf("1001's missed history after answering %+v (%v), want none", hist, err)
	}
	if n := w.count(api.EventNotice, nil); n != 1 {
		t.Errorf("%d notices, want the one after two misses", n)
	}
}

// TestInboundHangupWhileRinging: the customer gives up while 1001's phone
// rings. The ringing stops, 1001 is idle again and not on a miss streak,
// yet the call is a missed call for it (SPEC: whoever ended the offer);
// one record, abandoned in sales.
func TestInboundHangupWhileRinging(t *testing.T) {
	in, sim := startInbound(t)
	tuneGroup(t, in, "sales", func(g *callcenter.SkillGroup) { g.RingTimeout = 10 * time.Second })
	a := newAgent(t, in, "1001", 700)
	w := watch(t, "1001", a.api)
	setIdle(t, a)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	cust := callHotline(t, ctx, sim, "1")
	ringing := a.nextCall(t, phone.Ringing)
	callID := ringing.Header("X-Call-ID")
	w.waitStatus(t, "ringing", isActivity("ringing"))
	if err := cust.Hangup(ctx); err != nil {
		t.Fatalf("customer hangs up: %v", err)
	}
	select {
	case <-ringing.Done():
	case <-ctx.Done():
		t.Fatal("1001's phone still rings after the customer hung up")
	}
	w.waitStatus(t, "idle again", idleAgain)

	item := decode[api.HistoryItem](t, w.wait(t, api.EventMissed, "missed offer", nil))
	if !item.Missed || item.CallID != callID || item.Customer != customer {
		t.Errorf("missed event %+v, want missed call %s from %s", item, callID, customer)
	}
	hist, err := a.api.History(ctx, time.Time{}, true, 10)
	if err != nil || len(hist) != 1 || hist[0].CallID != callID {
		t.Errorf("1001's missed history %+v (%v), want call %s", hist, err, callID)
	}
	rec := waitRecords(t, in, 1)[0]
	if rec.CallID != callID || !rec.Abandoned || rec.Group != "sales" || rec.Agent != "" || rec.Result == callcenter.ResultAnswered {
		t.Errorf("record %+v, want call %s abandoned in sales", rec, callID)
	}
	if n := w.count(api.EventNotice, nil); n != 0 {
		t.Errorf("%d notices: a caller hanging up is not the agent's miss", n)
	}
	if st := status(t, a); !idleAgain(st) {
		t.Errorf("status %+v, want idle", st)
	}
}

// TestInboundBadRoutes: calls the center cannot serve end clearly, are not
// left hanging, and are recorded once: a number routed nowhere is refused;
// a group without members says all-busy and hangs up.
func TestInboundBadRoutes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		number   callcenter.Number
		refused  int    // SIP status the carrier gets, or 0 when answered
		group    string // the record's group
		answered bool   // by the center (prompt), never by an agent
	}{
		{name: "routed nowhere", number: callcenter.Number{E164: "4008000001", Name: "unrouted"}, refused: 480},
		{name: "group without members", number: callcenter.Number{E164: "4008000002", Name: "empty", RouteGroup: "empty"}, group: "empty", answered: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, sim := startInbound(t)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, err := in.st.CreateGroup(ctx, callcenter.SkillGroup{Name: "empty", Label: "Nobody", RingTimeout: fastRing}); err != nil {
				t.Fatalf("create group: %v", err)
			}
			if err := in.center.Reload(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := in.st.CreateNumber(ctx, tc.number); err != nil {
				t.Fatalf("create number: %v", err)
			}
			a := newAgent(t, in, "1001", 700)
			setIdle(t, a)

			cust, err := sim.Call(ctx, customer, tc.number.E164, pstnsim.CallOptions{})
			var se *pstnsim.StatusError
			switch {
			case tc.refused != 0:
				if !errors.As(err, &se) || se.Code != tc.refused {
					t.Fatalf("call to %s: %v, want refused with %d", tc.number.E164, err, tc.refused)
				}
			case err != nil:
				t.Fatalf("call to %s: %v", tc.number.E164, err)
			default:
				select {
				case <-cust.Done(): // the center hung up after its prompt
				case <-ctx.Done():
					t.Fatal("the center never ended the call")
				}
				// The all-busy prompt (2.5 s of speech) was heard first.
				if sum := cust.HeardSummary(); sum.Duration < 2*time.Second || sum.LevelDBFS < -40 {
					t.Errorf("the customer heard %s before the center hung up, want the all-busy prompt", sum)
				}
			}
			rec := waitRecords(t, in, 1)[0]
			if rec.Number != tc.number.E164 || rec.Caller != customer || rec.Agent != "" || rec.Group != tc.group {
				t.Errorf("record %+v, want one from %s to %s, group %q, no agent", rec, customer, tc.number.E164, tc.group)
			}
			if rec.Result == callcenter.ResultAnswered || rec.Abandoned {
				t.Errorf("record: result %s abandoned %v; the center, not the caller, ended an unservable call", rec.Result, rec.Abandoned)
			}
			if tc.answered && rec.HangupBy != callcenter.PartySystem {
				t.Errorf("record: hung up by %q, want the system", rec.HangupBy)
			}
			noCall(t, a)
		})
	}
}

// TestStatusRestoredAfterRestart: callcenterd stops and starts again on the
// same database; an agent whose session is still valid comes back with its
// status from before (idle, auto-answer on), not offline, without logging
// in again; an agent who had signed out stays offline.
func TestStatusRestoredAfterRestart(t *testing.T) {
	leakCheck(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := config{DB: filepath.Join(t.TempDir(), "cc.db"), HTTPAddr: "127.0.0.1:0", SIPAddr: "127.0.0.1:0", Demo: true, Log: testLog(t)}
	first, err := start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	on, idle := true, callcenter.PhoneIdle.String()
	a := client.New(first.HTTPURL())
	if _, err := a.Login(ctx, "1001", "demo1234", "pc"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.SetStatus(ctx, api.StatusChange{Phone: &idle, AutoAnswer: &on}); err != nil {
		t.Fatal(err)
	}
	b := client.New(first.HTTPURL())
	if _, err := b.Login(ctx, "1002", "demo1234", "pc"); err != nil {
		t.Fatal(err)
	}
	if err := b.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	second, err := start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if st := second.center.Status("1001"); st.Presence != callcenter.PresenceOffline {
		t.Fatalf("1001 before reconnecting: %+v", st)
	}
	again := client.New(second.HTTPURL())
	again.SetToken(a.Token()) // the softphone keeps its token across the restart
	st, err := again.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Presence != "online" || st.Phone != "idle" || !st.AutoAnswer || st.Activity != "none" {
		t.Fatalf("1001 after the restart: %+v, want online, idle, auto-answer", st)
	}
	if got := second.center.Status("1001"); !got.Available() {
		t.Errorf("the center does not offer 1001 calls: %+v", got)
	}
	if st := second.center.Status("1002"); st.Presence != callcenter.PresenceOffline {
		t.Errorf("1002 signed out before the restart, now %+v", st)
	}
}
