package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/api"
)

func (e *env) wsURL(query string) string {
	return "ws" + strings.TrimPrefix(e.ts.URL, "http") + "/v1/events" + query
}

// dial opens the event stream with a bearer token.
func (e *env) dial(token string) *websocket.Conn {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, e.wsURL(""), &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + token}},
	})
	if err != nil {
		e.t.Fatalf("dial events: %v", err)
	}
	e.t.Cleanup(func() { c.CloseNow() })
	return c
}

func readEvent(t *testing.T, c *websocket.Conn) api.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read event: %v", err)
	}
	var ev api.Event
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("event %s: %v", b, err)
	}
	return ev
}

func decodeData[T any](t *testing.T, ev api.Event) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(ev.Data, &v); err != nil {
		t.Fatalf("%s data %s: %v", ev.Type, ev.Data, err)
	}
	return v
}

func callEvent(id string, state callcenter.CallState, at time.Time, agents ...string) callcenter.CallEvent {
	return callcenter.CallEvent{CallID: id, Type: callcenter.CallInbound, State: state, From: "13800000000",
		To: "4008001234", Number: "4008001234", Agents: agents, At: at}
}

func TestEventsSnapshotThenCalls(t *testing.T) {
	e := newEnv(t)
	alice := e.login("1001", "pc")
	bob := e.login("1002", "pc")

	// State before the stream opens arrives in the snapshot.
	e.srv.SetRegistered("1001", true, "sip:1001@127.0.0.1:5070")
	e.srv.PublishCall(callEvent("c1", callcenter.CallRinging, t0, "1001"))
	e.srv.PublishCall(callEvent("other", callcenter.CallRinging, t0, "1002"))

	ca := e.dial(alice.Token)
	snapEv := readEvent(t, ca)
	if snapEv.Type != api.EventSnapshot || snapEv.Seq != 1 {
		t.Fatalf("first event %+v", snapEv)
	}
	snap := decodeData[api.Snapshot](t, snapEv)
	if snap.Agent.WorkNumber != "1001" || !snap.Registered || len(snap.Calls) != 1 ||
		snap.Calls[0].ID != "c1" || snap.Calls[0].State != "ringing" || !snap.Calls[0].StartedAt.Equal(t0) {
		t.Fatalf("snapshot %+v", snap)
	}

	// Bob by ?token=, as a browser would.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cb, _, err := websocket.Dial(ctx, e.wsURL("?token="+bob.Token), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cb.CloseNow()
	if snap := decodeData[api.Snapshot](t, readEvent(t, cb)); snap.Agent.WorkNumber != "1002" ||
		len(snap.Calls) != 1 || snap.Calls[0].ID != "other" {
		t.Fatalf("bob snapshot %+v", snap)
	}

	answered := t0.Add(3 * time.Second)
	ended := t0.Add(63 * time.Second)
	// An agent listed twice still gets the event once.
	e.srv.PublishCall(callEvent("c1", callcenter.CallTalking, answered, "1001", "1001"))
	// A consult brings Bob into the call.
	e.srv.PublishCall(callEvent("c1", callcenter.CallTalking, answered.Add(time.Second), "1001", "1002"))
	end := callEvent("c1", callcenter.CallEnded, ended, "1001", "1002")
	end.Result, end.HangupBy = callcenter.ResultAnswered, callcenter.PartyCaller
	e.srv.PublishCall(end)
	e.srv.SetRegistered("1001", false, "")

	wantStates := []string{"talking", "talking", "ended"}
	for i, want := range wantStates {
		ev := readEvent(t, ca)
		if ev.Seq != uint64(i+2) || ev.Type != api.EventCall {
			t.Fatalf("event %d: %+v", i, ev)
		}
		c := decodeData[api.Call](t, ev)
		if c.ID != "c1" || c.State != want || !c.AnsweredAt.Equal(answered) || c.Type != "inbound" || c.From != "13800000000" {
			t.Fatalf("event %d call %+v", i, c)
		}
		if want == "ended" && (!c.EndedAt.Equal(ended) || c.Result != "answered" || c.HangupBy != "caller") {
			t.Fatalf("ended call %+v", c)
		}
	}
	if ev := readEvent(t, ca); ev.Seq != 5 || ev.Type != api.EventRegister ||
		decodeData[api.Registration](t, ev).Registered {
		t.Fatalf("register event %+v", ev)
	}
	// Bob gets the call from when he joined: his seq continues from his snapshot.
	for i, want := range []string{"talking", "ended"} {
		ev := readEvent(t, cb)
		if c := decodeData[api.Call](t, ev); ev.Seq != uint64(i+2) || c.ID != "c1" || c.State != want {
			t.Fatalf("bob event %d: %+v %+v", i, ev, c)
		}
	}

	// The ended call left the live set: a new stream's snapshot lacks it.
	ca2 := e.dial(alice.Token)
	if snap := decodeData[api.Snapshot](t, readEvent(t, ca2)); len(snap.Calls) != 0 || snap.Registered {
		t.Fatalf("snapshot after end %+v", snap)
	}
}

func TestEventsRejectBadToken(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, e.wsURL("?token=forged"), nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("dial with forged token: %v %v", err, resp)
	}
}

// closeStatus reads until the stream ends and returns its close status.
func closeStatus(t *testing.T, c *websocket.Conn) websocket.StatusCode {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		if _, _, err := c.Read(ctx); err != nil {
			return websocket.CloseStatus(err)
		}
	}
}

func TestTakeoverClosesOldStream(t *testing.T) {
	e := newEnv(t)
	first := e.login("1001", "pc")
	c := e.dial(first.Token)
	readEvent(t, c) // snapshot
	e.srv.PublishCall(callEvent("c1", callcenter.CallRinging, t0, "1001"))

	second := e.login("1001", "mobile")

	if ev := readEvent(t, c); ev.Type != api.EventCall || ev.Seq != 2 {
		t.Fatalf("queued event before takeover: %+v", ev)
	}
	ev := readEvent(t, c)
	if ev.Type != api.EventTakeover || ev.Seq != 3 {
		t.Fatalf("want takeover, got %+v", ev)
	}
	if to := decodeData[api.Takeover](t, ev); to.Device != "mobile" || to.Reason == "" {
		t.Fatalf("takeover %+v", to)
	}
	if st := closeStatus(t, c); st != websocket.StatusNormalClosure {
		t.Fatalf("close status %v", st)
	}
	if status, _ := e.do(http.MethodGet, "/v1/me", first.Token, ""); status != http.StatusUnauthorized {
		t.Fatalf("old token still works: %d", status)
	}
	if status, _ := e.do(http.MethodGet, "/v1/me", second.Token, ""); status != http.StatusOK {
		t.Fatalf("new token: %d", status)
	}
	waitFor(t, func() bool { return e.srv.hub.subscribers("1001") == 0 })
}

func TestLogoutClosesStream(t *testing.T) {
	e := newEnv(t)
	lr := e.login("1001", "pc")
	c := e.dial(lr.Token)
	readEvent(t, c)
	if status, b := e.do(http.MethodPost, "/v1/logout", lr.Token, ""); status != http.StatusNoContent {
		t.Fatalf("logout %d %s", status, b)
	}
	if st := closeStatus(t, c); st != websocket.StatusNormalClosure {
		t.Fatalf("close status %v", st)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestSlowConsumerDropped(t *testing.T) {
	e := newEnv(t, WithEventBuffer(8))
	lr := e.login("1001", "pc")
	slow := e.dial(lr.Token)
	readEvent(t, slow) // then never read again
	fast := e.dial(lr.Token)
	readEvent(t, fast)
	var got atomic.Int64 // events the fast reader has seen, in order
	fastDone := make(chan bool)
	go func() {
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, b, err := fast.Read(ctx)
			cancel()
			if err != nil {
				fastDone <- true
				return
			}
			var ev api.Event
			if json.Unmarshal(b, &ev) != nil || ev.Seq != uint64(got.Load()+2) {
				fastDone <- false
				return
			}
			got.Add(1)
		}
	}()

	// Big events fill the socket buffers quickly; then the slow stream's
	// queue fills and it must be dropped while PublishCall stays fast. The
	// fast reader is waited for after each event, so it never lags.
	big := strings.Repeat("x", 16<<10)
	var worst time.Duration
	sent := int64(0)
	for e.srv.hub.subscribers("1001") == 2 {
		if sent > 20000 {
			t.Fatal("slow consumer never dropped")
		}
		ev := callEvent("c1", callcenter.CallRinging, t0, "1001")
		ev.From = big
		start := time.Now()
		e.srv.PublishCall(ev)
		worst = max(worst, time.Since(start))
		sent++
		waitFor(t, func() bool { return got.Load() == sent })
	}
	if worst > 100*time.Millisecond {
		t.Fatalf("PublishCall blocked for %v", worst)
	}
	if st := closeStatus(t, slow); st != -1 && st != websocket.StatusTryAgainLater {
		t.Fatalf("slow stream close %v", st)
	}
	if n := e.srv.hub.subscribers("1001"); n != 1 {
		t.Fatalf("%d streams left, want the fast one", n)
	}
	fast.CloseNow()
	if ok := <-fastDone; !ok {
		t.Fatal("fast reader saw a gap in seq")
	}
	t.Logf("slow stream dropped after %d events; worst PublishCall %v", sent, worst)
}

func TestKeepaliveDropsSilentPeer(t *testing.T) {
	e := newEnv(t, WithPingInterval(50*time.Millisecond))
	lr := e.login("1001", "pc")
	alive := e.dial(lr.Token)
	readEvent(t, alive)
	// A peer that reads answers pings and stays connected.
	readCtx := alive.CloseRead(context.Background())
	silent := e.dial(lr.Token)
	readEvent(t, silent) // then it stops reading, so it never answers a ping
	waitFor(t, func() bool { return e.srv.hub.subscribers("1001") == 1 })
	time.Sleep(200 * time.Millisecond)
	if readCtx.Err() != nil || e.srv.hub.subscribers("1001") != 1 {
		t.Fatal("live peer was dropped")
	}
}

func TestCloseEndsStreams(t *testing.T) {
	e := newEnv(t)
	lr := e.login("1001", "pc")
	c := e.dial(lr.Token)
	readEvent(t, c)
	done := make(chan websocket.StatusCode)
	go func() { done <- closeStatus(t, c) }()
	if err := e.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if st := <-done; st != websocket.StatusGoingAway {
		t.Fatalf("close status %v", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, e.wsURL("?token="+lr.Token), nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("dial after close: %v %v", err, resp)
	}
	// Publishing after Close is harmless.
	e.srv.PublishCall(callEvent("c9", callcenter.CallRinging, t0, "1001"))
}
