package vm

import (
	"context"
	"testing"
	"time"

	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/test"

	"github.com/agentphone/agentphone/audio"
	"github.com/agentphone/agentphone/callcenter/api"
	"github.com/agentphone/agentphone/phone"
)

func directPhone(t *testing.T, user string) *phone.Phone {
	t.Helper()
	p, err := phone.New(phone.Account{Username: user},
		phone.WithRegistration(false), phone.WithListen("127.0.0.1:0"),
		phone.WithAudio(func() (audio.Device, error) { return audio.NewVirtualDevice(nil), nil }))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func waitBool(t *testing.T, b binding.Bool, want bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for boolean(t, b) != want {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s = %v", what, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestBarsOnRealPhones drives two phone bars over two real SIP phones
// talking directly on 127.0.0.1: dial, ring, answer, mute, hang up.
func TestBarsOnRealPhones(t *testing.T) {
	test.NewTempApp(t)
	pa, pb := directPhone(t, "1001"), directPhone(t, "1002")
	ctx, cancel := context.WithCancel(context.Background())
	aa, ab := AdaptPhone(ctx, pa), AdaptPhone(ctx, pb)
	caller := NewPhoneBarVM(api.Agent{WorkNumber: "1001"}, aa)
	callee := NewPhoneBarVM(api.Agent{WorkNumber: "1002"}, ab)
	done := make(chan struct{}, 2)
	t.Cleanup(func() {
		cancel()
		<-done
		<-done
		caller.Close()
		callee.Close()
		aa.Stop()
		ab.Stop()
	})

	// The adapters first report the phones' current registration: none,
	// as direct mode never registers.
	for _, a := range []*PhoneAdapter{aa, ab} {
		if ev := <-a.Events(); ev.Kind != EventRegistration || ev.Reg != RegNone {
			t.Fatalf("first event %+v", ev)
		}
	}
	// The bar only dials when registered: tell it the phone is ready the
	// way a registration would.
	caller.Handle(PhoneEvent{Kind: EventRegistration, Reg: RegRegistered})
	callee.Handle(PhoneEvent{Kind: EventRegistration, Reg: RegRegistered})
	go func() { caller.Run(ctx); done <- struct{}{} }()
	go func() { callee.Run(ctx); done <- struct{}{} }()
	_ = caller.Number.Set(pb.URI())
	caller.Dial()
	waitBool(t, callee.Incoming, true, "callee incoming")
	if got := str(t, callee.CallerNumber); got == "" {
		t.Error("no caller number on the pop")
	}
	callee.Answer()
	waitBool(t, callee.CanMute, true, "callee active")
	waitBool(t, caller.CanMute, true, "caller active")
	caller.ToggleMute()
	if !boolean(t, caller.Muted) {
		t.Error("not muted")
	}
	caller.Hangup()
	waitBool(t, caller.CanCall, true, "caller idle")
	waitBool(t, callee.CanCall, true, "callee idle")
	waitBool(t, caller.CanCall, true, "caller idle")
	if got := str(t, callee.Message); got != "" {
		t.Errorf("normal hangup shown as %q", got)
	}
}
