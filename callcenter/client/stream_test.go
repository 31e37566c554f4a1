package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/api"
	"github.com/agentphone/agentphone/callcenter/client"
	"github.com/agentphone/agentphone/callcenter/server"
)

func next(t *testing.T, s *client.Stream) api.Event {
	t.Helper()
	select {
	case ev, ok := <-s.C():
		if !ok {
			t.Fatalf("stream closed: %v", s.Err())
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event in 5s")
	}
	panic("unreachable")
}

// closed waits for the stream to stop without delivering anything more.
func closed(t *testing.T, s *client.Stream) error {
	t.Helper()
	select {
	case ev, ok := <-s.C():
		if ok {
			t.Fatalf("unexpected event %+v", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("stream did not stop in 5s")
	}
	<-s.Done()
	return s.Err()
}

func ringing(id string) callcenter.CallEvent {
	return callcenter.CallEvent{CallID: id, Type: callcenter.CallInbound, State: callcenter.CallRinging,
		From: "13800000000", To: "1001", Agents: []string{"1001"}, At: t0}
}

func loggedIn(t *testing.T, l *live, opts ...client.Option) *client.Client {
	t.Helper()
	c := client.New(l.url(), opts...)
	if _, err := c.Login(context.Background(), "1001", password, "pc"); err != nil {
		t.Fatal(err)
	}
	return c
}

func snapshotOf(t *testing.T, ev api.Event) api.Snapshot {
	t.Helper()
	if ev.Type != api.EventSnapshot || ev.Seq != 1 {
		t.Fatalf("want snapshot with seq 1, got %+v", ev)
	}
	var snap api.Snapshot
	if err := json.Unmarshal(ev.Data, &snap); err != nil {
		t.Fatal(err)
	}
	return snap
}

func TestEventsReconnectAfterRestart(t *testing.T) {
	l := startLive(t)
	c := loggedIn(t, l, client.WithBackoff(10*time.Millisecond, 100*time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := c.Events(ctx)

	if snap := snapshotOf(t, next(t, s)); snap.Agent.WorkNumber != "1001" || len(snap.Calls) != 0 {
		t.Fatalf("snapshot %+v", snap)
	}
	l.server().PublishCall(ringing("c1"))
	if ev := next(t, s); ev.Type != api.EventCall || ev.Seq != 2 {
		t.Fatalf("call event %+v", ev)
	}

	// Restart: the stream comes back by itself, snapshot first.
	l.stop()
	l.start()
	l.server().PublishCall(ringing("c2")) // before the client is back: must be in its snapshot
	snap := snapshotOf(t, next(t, s))
	if len(snap.Calls) != 1 || snap.Calls[0].ID != "c2" {
		t.Fatalf("snapshot after restart %+v", snap)
	}
	l.server().SetRegistered("1001", true, "sip:1001@127.0.0.1")
	if ev := next(t, s); ev.Type != api.EventRegister || ev.Seq != 2 {
		t.Fatalf("event after restart %+v", ev)
	}

	cancel()
	if err := closed(t, s); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
}

func TestEventsWaitForServer(t *testing.T) {
	// The server is down when the stream starts; the stream keeps trying.
	l := startLive(t)
	c := loggedIn(t, l, client.WithBackoff(10*time.Millisecond, 50*time.Millisecond))
	l.stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := c.Events(ctx)
	time.Sleep(200 * time.Millisecond) // several refused attempts
	if s.Err() != nil {
		t.Fatalf("stream gave up: %v", s.Err())
	}
	l.start()
	snapshotOf(t, next(t, s))
}

func TestEventsTakeover(t *testing.T) {
	l := startLive(t)
	c := loggedIn(t, l)
	s := c.Events(context.Background())
	snapshotOf(t, next(t, s))

	mobile := client.New(l.url())
	if _, err := mobile.Login(context.Background(), "1001", password, "mobile"); err != nil {
		t.Fatal(err)
	}
	ev := next(t, s)
	if ev.Type != api.EventTakeover {
		t.Fatalf("want takeover, got %+v", ev)
	}
	var to api.Takeover
	if err := json.Unmarshal(ev.Data, &to); err != nil || to.Device != "mobile" {
		t.Fatalf("takeover %s: %v", ev.Data, err)
	}
	if err := closed(t, s); !errors.Is(err, client.ErrTakeover) {
		t.Fatalf("err %v", err)
	}
}

func TestEventsUnauthorized(t *testing.T) {
	l := startLive(t)
	c := client.New(l.url())
	c.SetToken("forged")
	s := c.Events(context.Background())
	if err := closed(t, s); !errors.Is(err, client.ErrUnauthorized) {
		t.Fatalf("err %v", err)
	}

	// A wrong base URL is not worth retrying either.
	wrong := client.New(l.url() + "/nothing-here")
	wrong.SetToken("x")
	var e *client.Error
	if err := closed(t, wrong.Events(context.Background())); !errors.As(err, &e) || e.Status != 404 {
		t.Fatalf("wrong URL: %v", err)
	}

	// Logging out on the server ends a running stream too: it reconnects,
	// and the token is refused.
	c = loggedIn(t, l, client.WithBackoff(10*time.Millisecond, 50*time.Millisecond))
	s = c.Events(context.Background())
	snapshotOf(t, next(t, s))
	other := client.New(l.url())
	other.SetToken(c.Token())
	if err := other.Logout(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := closed(t, s); !errors.Is(err, client.ErrUnauthorized) {
		t.Fatalf("err after logout %v", err)
	}
}

func TestEventsIdleTimeout(t *testing.T) {
	tests := []struct {
		name          string
		serverPing    time.Duration
		wantReconnect bool
	}{
		// The server pings more often than the client's idle timeout: the
		// connection stays even though no event flows.
		{"pinged", 30 * time.Millisecond, false},
		// A server that is silent looks like a dead path: reconnect.
		{"silent", time.Hour, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := startLive(t, server.WithPingInterval(tc.serverPing))
			c := loggedIn(t, l, client.WithIdleTimeout(150*time.Millisecond),
				client.WithBackoff(10*time.Millisecond, 50*time.Millisecond))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			s := c.Events(ctx)
			snapshotOf(t, next(t, s))
			select {
			case ev := <-s.C():
				if !tc.wantReconnect {
					t.Fatalf("reconnected while pinged: %+v", ev)
				}
				snapshotOf(t, ev)
			case <-time.After(600 * time.Millisecond):
				if tc.wantReconnect {
					t.Fatal("no reconnect after the server went silent")
				}
			}
		})
	}
}

func TestEventsSlowReaderGetsSnapshot(t *testing.T) {
	// A reader that stalls is dropped by the server; the stream reconnects
	// and delivers a snapshot with the current state.
	l := startLive(t, server.WithEventBuffer(2))
	c := loggedIn(t, l, client.WithBackoff(10*time.Millisecond, 50*time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := c.Events(ctx)
	snapshotOf(t, next(t, s))
	// Not reading: the client holds one event, its socket buffers some,
	// the server's queue of 2 overflows.
	big := make([]byte, 64<<10)
	for i := range big {
		big[i] = 'x'
	}
	for i := range 400 {
		ev := ringing("c1")
		ev.From = string(big)
		if i == 399 {
			ev.From = "last"
		}
		l.server().PublishCall(ev)
	}
	// Whatever was dropped, the stream must end up at the last state, and
	// have come through a new snapshot to get there.
	snapshots := 0
	for from := ""; from != "last"; {
		ev := next(t, s)
		switch ev.Type {
		case api.EventSnapshot:
			snapshots++
			snap := snapshotOf(t, ev)
			if len(snap.Calls) != 1 {
				t.Fatalf("snapshot after drop: %+v", snap)
			}
			from = snap.Calls[0].From
		case api.EventCall:
			var call api.Call
			if err := json.Unmarshal(ev.Data, &call); err != nil {
				t.Fatal(err)
			}
			from = call.From
		}
	}
	if snapshots == 0 {
		t.Fatal("the slow reader was never dropped")
	}
}
