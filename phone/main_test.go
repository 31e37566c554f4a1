package phone

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testLogger shows phone logs only with -v, so failures can be read.
func testLogger(t testing.TB) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test", t.Name())
}

// newDirectPhone starts a phone in peer-to-peer mode on 127.0.0.1:0.
func newDirectPhone(t testing.TB, user string, opts ...Option) *Phone {
	t.Helper()
	base := []Option{WithRegistration(false), WithListen("127.0.0.1:0"), WithLogger(testLogger(t))}
	p, err := New(Account{Username: user, DisplayName: "Agent " + user}, append(base, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close %s: %v", user, err)
		}
	})
	return p
}

// nextCall waits for a call event with the given state and returns it.
func nextCall(t testing.TB, p *Phone, st CallState) *Call {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ev := <-p.Events():
			if ev.Kind == EventCall && ev.State == st {
				return ev.Call
			}
		case <-deadline:
			t.Fatalf("no %s call event", st)
			return nil
		}
	}
}

func waitState(t testing.TB, c *Call, st CallState) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for c.State() != st {
		if time.Now().After(deadline) {
			t.Fatalf("call %s: state %s, want %s", c.ID(), c.State(), st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func waitDone(t testing.TB, c *Call) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatalf("call %s did not end (state %s)", c.ID(), c.State())
	}
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func itoa(n int) string { return strconv.Itoa(n) }
