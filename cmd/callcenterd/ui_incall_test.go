package main

// The softphone's in-call view-model (ui/vm.InCallVM) on the real control
// endpoints: the harness here has what it needs — callcenterd with
// pstnsim as the customer and real SIP phones on virtual headsets — and
// ui/vm cannot start callcenterd itself.

import (
	"context"
	"testing"
	"time"

	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/test"

	"github.com/agentphone/agentphone/audio"
	"github.com/agentphone/agentphone/callcenter/api"
	"github.com/agentphone/agentphone/phone"
	"github.com/agentphone/agentphone/ui/vm"
)

// uiAgent is 1001 as the softphone runs it: the vm backend on the API,
// the real phone through vm.AdaptPhone, and the bar with the screen pop
// and the in-call controls following both event streams.
type uiAgent struct {
	*agent // dev and wn for the audio checks
	bar    *vm.PhoneBarVM
	pop    *vm.PopVM
	incall *vm.InCallVM
}

func startUIAgent(t *testing.T, in *instance, wn string, freq float64) *uiAgent {
	t.Helper()
	test.NewTempApp(t) // bindings and translations, no window
	dev := audio.NewVirtualDevice(audio.NewTone(freq, 0.3, audio.DeviceRate))
	backend, err := vm.ClientConnector()(in.HTTPURL())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	lctx, lcancel := context.WithTimeout(ctx, 10*time.Second)
	defer lcancel()
	resp, err := backend.Login(lctx, wn, "demo1234", "pc")
	if err != nil {
		cancel()
		t.Fatalf("login %s: %v", wn, err)
	}
	sip := resp.SIP
	p, err := phone.New(phone.Account{Username: sip.Username, Password: sip.Password, Realm: sip.Realm, Registrar: sip.Registrar},
		phone.WithListen("127.0.0.1:0"),
		phone.WithAudio(func() (audio.Device, error) { return nopClose{dev}, nil }),
		phone.WithLogger(testLog(t).With("agent", wn)))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := p.Start(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	ad := vm.AdaptPhone(ctx, p)
	a := &uiAgent{agent: &agent{wn: wn, dev: dev}}
	a.pop = vm.NewPopVM()
	a.incall = vm.NewInCallVM(backend.(vm.InCall), a.pop)
	events := backend.Events(ctx)
	a.bar = vm.NewPhoneBarVM(resp.Agent, ad, vm.WithParts(a.pop, a.incall), vm.WithServerEvents(events))
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.bar.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		for range events {
		}
		a.bar.Close()
		a.incall.Close()
		ad.Stop()
		_ = p.Close()
	})
	waitFor(t, 5*time.Second, "server sees "+wn+" registered", func() bool { return in.edge.Registered(wn) })
	idle := "idle"
	if _, err := backend.SetStatus(lctx, api.StatusChange{Phone: &idle}); err != nil {
		t.Fatalf("set %s idle: %v", wn, err)
	}
	return a
}

func boolOf(b binding.Bool) bool    { v, _ := b.Get(); return v }
func strOf(b binding.String) string { v, _ := b.Get(); return v }
func intOf(b binding.Int) int       { v, _ := b.Get(); return v }
func waitTrue(t *testing.T, what string, b binding.Bool) {
	t.Helper()
	waitFor(t, 10*time.Second, what, func() bool { return boolOf(b) })
}

func targetAgents(l binding.UntypedList) map[string]vm.TargetAgent {
	items, _ := l.Get()
	out := map[string]vm.TargetAgent{}
	for _, it := range items {
		a := it.(vm.TargetAgent)
		out[a.WorkNumber] = a
	}
	return out
}

// TestInCallVMOnRealControl: 1001's softphone view-models on a sales call
// from pstnsim. Hold from the bar: the banner says so, the customer hears
// music and the agent nothing; resume: they hear each other again. The
// transfer dialog lists 1002 (idle) selectable and 2001 (not signed in)
// offline; 1002 turns busy after the list was loaded, so choosing it is
// refused by the server, whose words the dialog shows, and the list is
// reloaded; then the dialog refuses 1002 (not free) and 2001 (offline)
// itself. The customer stays with 1001 throughout.
func TestInCallVMOnRealControl(t *testing.T) {
	in, sim := startInbound(t)
	a1 := startUIAgent(t, in, "1001", tone1001)
	a2 := newAgent(t, in, "1002", tone1002)
	setIdle(t, a2)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	cust := callHotline(t, ctx, sim, "1")
	waitTrue(t, "1001's bar rings", a1.bar.Incoming)
	a1.bar.Answer()
	waitTrue(t, "in-call controls", a1.incall.CanHold)
	talk(t, a1.agent, cust, tone1001)

	// Hold and resume from the bar's button.
	a1.incall.ToggleHold()
	waitTrue(t, "held", a1.incall.Held)
	if k, b := vm.BannerKind(intOf(a1.incall.BannerKind)), strOf(a1.incall.Banner); k != vm.BannerHeld || b != "On hold · the customer hears music" {
		t.Errorf("banner %v %q", k, b)
	}
	if boolOf(a1.incall.CanConsult) {
		t.Error("transfer and consult offered while on hold")
	}
	customerHearsMusic(t, cust, tone1001)
	agentHearsNone(t, a1.agent, custTone)
	a1.incall.ToggleHold()
	waitFor(t, 10*time.Second, "resumed", func() bool { return !boolOf(a1.incall.Held) && boolOf(a1.incall.CanConsult) })
	if k := vm.BannerKind(intOf(a1.incall.BannerKind)); k != vm.BannerNone {
		t.Errorf("banner %v after resume", k)
	}
	customerHearsAll(t, cust, tone1001)
	agentHearsAll(t, a1.agent, custTone)
	if m := strOf(a1.incall.Message); m != "" {
		t.Errorf("message %q after hold and resume", m)
	}

	// The transfer dialog, loaded while 1002 is idle.
	a1.incall.OpenTransfer()
	a1.incall.Wait()
	if k := vm.DialogKind(intOf(a1.incall.Dialog)); k != vm.DialogTransfer {
		t.Fatalf("dialog %v", k)
	}
	agents := targetAgents(a1.incall.Agents)
	if a := agents["1002"]; !a.Selectable || !a.Online || a.Status != "Idle" || a.Name != "Han Meimei" {
		t.Errorf("1002 in the dialog: %+v", a)
	}
	if a := agents["2001"]; a.Selectable || a.Online || a.Status != "Offline" {
		t.Errorf("2001 in the dialog: %+v", a)
	}
	if _, ok := agents["1001"]; ok {
		t.Error("the dialog offers a transfer to oneself")
	}

	// 1002 turns busy before 1001 chooses: the server refuses.
	busy := "busy"
	if _, err := a2.api.SetStatus(ctx, api.StatusChange{Phone: &busy}); err != nil {
		t.Fatal(err)
	}
	a1.incall.Choose(api.Target{Kind: api.TargetAgent, To: "1002"})
	a1.incall.Wait()
	if e := strOf(a1.incall.DialogError); e != "1002 Han Meimei is busy" {
		t.Errorf("server refusal shown as %q", e)
	}
	if k := vm.DialogKind(intOf(a1.incall.Dialog)); k != vm.DialogTransfer {
		t.Errorf("dialog %v after a refusal, want it still open", k)
	}
	// The list was reloaded: now the dialog itself refuses.
	if a := targetAgents(a1.incall.Agents)["1002"]; a.Selectable || a.Status != "Busy" {
		t.Errorf("1002 after the refusal: %+v", a)
	}
	for _, tc := range []struct{ to, want string }{
		{"1002", "1002 Han Meimei is not free: Busy"},
		{"2001", "2001 Wang Fang is offline"},
	} {
		a1.incall.Choose(api.Target{Kind: api.TargetAgent, To: tc.to})
		a1.incall.Wait()
		if e := strOf(a1.incall.DialogError); e != tc.want {
			t.Errorf("choose %s: %q, want %q", tc.to, e, tc.want)
		}
	}
	a1.incall.CloseDialog()

	// Nothing happened to the call: still talking, no banner.
	cc := a1.incall
	if boolOf(cc.Held) || !boolOf(cc.CanConsult) || vm.BannerKind(intOf(cc.BannerKind)) != vm.BannerNone {
		t.Errorf("controls after the refusals: held %v consult %v banner %v", boolOf(cc.Held), boolOf(cc.CanConsult), intOf(cc.BannerKind))
	}
	customerHearsAll(t, cust, tone1001)
	agentHearsAll(t, a1.agent, custTone)
	noCall(t, a2)

	if err := cust.Hangup(ctx); err != nil {
		t.Fatalf("customer hangs up: %v", err)
	}
	waitFor(t, 10*time.Second, "controls gone after the hang-up", func() bool { return !boolOf(a1.incall.Active) })
}
