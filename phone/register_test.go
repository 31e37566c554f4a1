package phone

import (
	"context"
	"errors"
	"testing"
	"time"
)

func newRegPhone(t *testing.T, reg *testRegistrar, password string, opts ...Option) *Phone {
	t.Helper()
	base := []Option{WithListen("127.0.0.1:0"), WithLogger(testLogger(t))}
	p, err := New(Account{Username: reg.user, Password: password, Realm: reg.realm, Registrar: reg.addr,
		Expires: 120 * time.Second}, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func waitReg(t *testing.T, p *Phone, want RegState, within time.Duration) Event {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case ev := <-p.Events():
			if ev.Kind == EventRegistration && ev.Reg == want {
				return ev
			}
		case <-deadline:
			t.Fatalf("registration never became %s (now %s, err %v)", want, p.Registration(), p.RegistrationErr())
		}
	}
}

func TestRegisterDigest(t *testing.T) {
	tests := []struct {
		name    string
		offered []string
		want    string
	}{
		{"SHA-256 offered first", []string{"SHA-256", "MD5"}, "SHA-256"},
		{"SHA-256 offered second", []string{"MD5", "SHA-256"}, "SHA-256"},
		{"MD5 only (old registrar)", []string{"MD5"}, "MD5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := newTestRegistrar(t, tt.offered...)
			p := newRegPhone(t, reg, reg.password)
			waitReg(t, p, Registered, 5*time.Second)
			rec := reg.nextAuthorized(t, time.Second)
			if rec.algorithm != tt.want {
				t.Errorf("authenticated with %q, want %q", rec.algorithm, tt.want)
			}
			if rec.expires != 120 {
				t.Errorf("requested Expires %d, want 120", rec.expires)
			}
			if err := p.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if p.Registration() != Unregistered {
				t.Errorf("after Close: %s", p.Registration())
			}
			un := reg.nextAuthorized(t, 2*time.Second)
			if un.expires != 0 {
				t.Errorf("Close sent Expires %d, want 0 (unregister)", un.expires)
			}
		})
	}
}

func TestRegisterRefreshesBeforeExpiry(t *testing.T) {
	reg := newTestRegistrar(t)
	reg.expires.Store(2) // refresh is due at max(min(80%, exp-5s), exp/2) = 1 s
	p := newRegPhone(t, reg, reg.password)
	waitReg(t, p, Registered, 5*time.Second)
	first := reg.nextAuthorized(t, time.Second)
	second := reg.nextAuthorized(t, 3*time.Second)
	gap := second.at.Sub(first.at)
	if gap < 900*time.Millisecond || gap > 1600*time.Millisecond {
		t.Errorf("refresh after %s, want about 1 s (before the 2 s expiry)", gap)
	}
	if p.Registration() != Registered {
		t.Errorf("state during refresh: %s", p.Registration())
	}
}

func TestRegisterWrongPasswordFails(t *testing.T) {
	reg := newTestRegistrar(t)
	p := newRegPhone(t, reg, "wrong", WithBackoff(10*time.Millisecond, 20*time.Millisecond))
	ev := waitReg(t, p, Failed, 5*time.Second)
	if !errors.Is(ev.Err, ErrBadCredentials) || StatusCode(ev.Err) != 401 {
		t.Fatalf("Failed with %v, want ErrBadCredentials/401", ev.Err)
	}
	if !errors.Is(p.RegistrationErr(), ErrBadCredentials) {
		t.Errorf("RegistrationErr %v", p.RegistrationErr())
	}
	// No hammering: the default auth retry is minutes, even with a tiny
	// transport backoff.
	time.Sleep(100 * time.Millisecond) // the registrar logs after it answers
	n := reg.count()
	time.Sleep(500 * time.Millisecond)
	if got := reg.count(); got != n {
		t.Errorf("%d more REGISTERs after bad credentials", got-n)
	}
}

func TestRegisterSurvivesServerRestart(t *testing.T) {
	reg := newTestRegistrar(t)
	reg.expires.Store(2)
	p := newRegPhone(t, reg, reg.password,
		WithRegisterTimeout(300*time.Millisecond), WithBackoff(100*time.Millisecond, 400*time.Millisecond))
	waitReg(t, p, Registered, 5*time.Second)

	addr := reg.addr
	reg.stop()
	ev := waitReg(t, p, Failed, 5*time.Second)
	if !errors.Is(ev.Err, ErrTimeout) {
		t.Errorf("server down: Failed with %v, want ErrTimeout", ev.Err)
	}
	reg.start(addr)
	waitReg(t, p, Registered, 5*time.Second)
}

func TestDialThroughRegistrarAuthenticates(t *testing.T) {
	reg := newTestRegistrar(t)
	reg.inviteTo.Store(486)
	p := newRegPhone(t, reg, reg.password)
	waitReg(t, p, Registered, 5*time.Second)
	c, err := p.Dial(ctxT(t), "138-0013-8000")
	if err != nil {
		t.Fatal(err)
	}
	waitDone(t, c)
	if StatusCode(c.EndReason()) != 486 {
		t.Fatalf("EndReason %v, want 486 after digest", c.EndReason())
	}
	reg.mu.Lock()
	defer reg.mu.Unlock()
	if len(reg.invites) != 1 || reg.invites[0] != "sip:13800138000@"+reg.addr {
		t.Errorf("registrar saw INVITEs %v", reg.invites)
	}
}
