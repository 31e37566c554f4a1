package phone

import (
	"errors"
	"net"
	"testing"
	"time"
)

func TestCallAnswerAndHangup(t *testing.T) {
	tests := []struct {
		name       string
		hangupByA  bool
		wantReason map[string]error
	}{
		{"caller hangs up", true, map[string]error{"a": ErrLocalHangup, "b": ErrRemoteHangup}},
		{"callee hangs up", false, map[string]error{"a": ErrRemoteHangup, "b": ErrLocalHangup}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newDirectPhone(t, "1001")
			b := newDirectPhone(t, "1002")
			ctx := ctxT(t)

			ca, err := a.Dial(ctx, b.URI())
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			if ca.Direction() != Outbound || ca.ID() == "" {
				t.Fatalf("outbound call: dir %s id %q", ca.Direction(), ca.ID())
			}
			cb := nextCall(t, b, Ringing)
			if cb.ID() != ca.ID() {
				t.Fatalf("Call-ID: callee %q caller %q", cb.ID(), ca.ID())
			}
			if cb.Remote() != "1001" || cb.Direction() != Inbound {
				t.Fatalf("callee sees remote %q dir %s", cb.Remote(), cb.Direction())
			}
			waitState(t, ca, Early)
			if err := cb.Answer(ctx); err != nil {
				t.Fatalf("Answer: %v", err)
			}
			waitState(t, ca, Active)
			waitState(t, cb, Active)
			if ca.Codec() != "opus" || cb.Codec() != "opus" {
				t.Errorf("codec: caller %q callee %q, want opus", ca.Codec(), cb.Codec())
			}
			if ca.AnsweredAt().IsZero() || cb.AnsweredAt().IsZero() {
				t.Error("AnsweredAt not set")
			}
			if err := cb.Answer(ctx); !errors.Is(err, ErrCallState) {
				t.Errorf("second Answer: %v, want ErrCallState", err)
			}

			hang, other := ca, cb
			if !tt.hangupByA {
				hang, other = cb, ca
			}
			if err := hang.Hangup(ctx); err != nil {
				t.Fatalf("Hangup: %v", err)
			}
			waitDone(t, other)
			waitDone(t, hang)
			if got := ca.EndReason(); !errors.Is(got, tt.wantReason["a"]) {
				t.Errorf("caller EndReason %v, want %v", got, tt.wantReason["a"])
			}
			if got := cb.EndReason(); !errors.Is(got, tt.wantReason["b"]) {
				t.Errorf("callee EndReason %v, want %v", got, tt.wantReason["b"])
			}
			if err := hang.Hangup(ctx); !errors.Is(err, ErrCallEnded) {
				t.Errorf("Hangup after end: %v", err)
			}
			if n := len(a.Calls()) + len(b.Calls()); n != 0 {
				t.Errorf("%d calls still listed", n)
			}
		})
	}
}

func TestRejectSendsStatusToCaller(t *testing.T) {
	tests := []struct {
		name   string
		reject func(*Call) error
		code   int
	}{
		{"reject busy", func(c *Call) error { return c.Reject(ctxT(t)) }, 486},
		{"decline", func(c *Call) error { return c.Decline(ctxT(t)) }, 603},
		{"hangup while ringing", func(c *Call) error { return c.Hangup(ctxT(t)) }, 486},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newDirectPhone(t, "1001")
			b := newDirectPhone(t, "1002")
			ca, err := a.Dial(ctxT(t), b.URI())
			if err != nil {
				t.Fatal(err)
			}
			cb := nextCall(t, b, Ringing)
			if err := tt.reject(cb); err != nil {
				t.Fatalf("reject: %v", err)
			}
			waitDone(t, ca)
			waitDone(t, cb)
			if got := StatusCode(ca.EndReason()); got != tt.code {
				t.Errorf("caller EndReason %v (code %d), want %d", ca.EndReason(), got, tt.code)
			}
			if !errors.Is(cb.EndReason(), ErrRejected) {
				t.Errorf("callee EndReason %v, want ErrRejected", cb.EndReason())
			}
		})
	}
}

func TestCallerCancelsWhileRinging(t *testing.T) {
	a := newDirectPhone(t, "1001")
	b := newDirectPhone(t, "1002")
	ca, err := a.Dial(ctxT(t), b.URI())
	if err != nil {
		t.Fatal(err)
	}
	cb := nextCall(t, b, Ringing)
	waitState(t, ca, Early)
	if err := ca.Hangup(ctxT(t)); err != nil {
		t.Fatalf("Hangup (CANCEL): %v", err)
	}
	waitDone(t, cb)
	waitDone(t, ca)
	if !errors.Is(ca.EndReason(), ErrLocalHangup) {
		t.Errorf("caller EndReason %v", ca.EndReason())
	}
	if !errors.Is(cb.EndReason(), ErrRemoteHangup) {
		t.Errorf("callee EndReason %v", cb.EndReason())
	}
	if err := cb.Answer(ctxT(t)); !errors.Is(err, ErrCallEnded) {
		t.Errorf("Answer after cancel: %v", err)
	}
}

func TestAutoAnswer(t *testing.T) {
	a := newDirectPhone(t, "1001")
	b := newDirectPhone(t, "1002")
	b.SetAutoAnswer(true)
	ca, err := a.Dial(ctxT(t), b.URI())
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, ca, Active)
	cb := nextCall(t, b, Active)
	if cb.Direction() != Inbound {
		t.Fatalf("callee direction %s", cb.Direction())
	}
	// Close hangs up what is still up.
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	waitDone(t, ca)
	if !errors.Is(ca.EndReason(), ErrRemoteHangup) {
		t.Errorf("caller EndReason %v", ca.EndReason())
	}
}

func TestDialUnreachableTimesOutOnHangup(t *testing.T) {
	a := newDirectPhone(t, "1001")
	// A peer that swallows INVITEs: no response ever comes, no ICMP error
	// either, so sipgo would wait for Timer B (32 s).
	sink, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	ca, err := a.Dial(ctxT(t), "sip:9999@"+sink.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if ca.State() != Dialing {
		t.Fatalf("state %s", ca.State())
	}
	start := time.Now()
	if err := a.Close(); err != nil {
		t.Logf("Close: %v", err)
	}
	waitDone(t, ca)
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("Close took %s", d)
	}
}

func TestDialErrors(t *testing.T) {
	a := newDirectPhone(t, "1001")
	for _, target := range []string{"", "1002", "sips:1002@127.0.0.1", "tel:+123", "sip:", "a b c"} {
		if _, err := a.Dial(ctxT(t), target); !errors.Is(err, ErrInvalidTarget) {
			t.Errorf("Dial(%q) = %v, want ErrInvalidTarget", target, err)
		}
	}
	p, err := New(Account{Username: "x"}, WithRegistration(false))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Dial(ctxT(t), "sip:1@127.0.0.1:5"); !errors.Is(err, ErrNotStarted) {
		t.Errorf("Dial before Start: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Dial(ctxT(t), "sip:1@127.0.0.1:5"); !errors.Is(err, ErrClosed) {
		t.Errorf("Dial after Close: %v", err)
	}
}
