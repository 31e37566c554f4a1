package vm

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/test"
	"github.com/zalando/go-keyring"

	"github.com/agentphone/agentphone/callcenter/api"
)

// fakeBackend accepts one work number and password, or fails with err.
type fakeBackend struct {
	fakeCenter
	err        error
	work, pw   string
	gotDevice  string
	loginCalls int
}

func (f *fakeBackend) Login(_ context.Context, work, pw, device string) (api.LoginResponse, error) {
	f.loginCalls++
	f.gotDevice = device
	if f.err != nil {
		return api.LoginResponse{}, f.err
	}
	if work != f.work || pw != f.pw {
		return api.LoginResponse{}, fmt.Errorf("401: %w", ErrBadCredentials)
	}
	return api.LoginResponse{Token: "tok", Agent: api.Agent{WorkNumber: work, Name: "Alice"}}, nil
}

func (f *fakeBackend) Events(context.Context) <-chan api.Event { return nil }

func connectTo(b Backend) Connector { return func(string) (Backend, error) { return b, nil } }

func str(t *testing.T, b binding.String) string {
	t.Helper()
	v, err := b.Get()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func boolean(t *testing.T, b binding.Bool) bool {
	t.Helper()
	v, err := b.Get()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func fill(m *LoginVM, server, work, pw string, remember bool) {
	_ = m.Server.Set(server)
	_ = m.WorkNumber.Set(work)
	_ = m.Password.Set(pw)
	_ = m.Remember.Set(remember)
}

func TestLoginErrors(t *testing.T) {
	test.NewTempApp(t)
	keyring.MockInit()
	tests := []struct {
		name       string
		server     string
		work, pw   string
		backendErr error
		connectErr error
		wantErr    error
		wantMsg    string
	}{
		{"wrong password", "http://srv:8080", "1001", "bad", nil, nil, ErrBadCredentials, "Wrong work number or password"},
		{"unknown user", "http://srv:8080", "9999", "secret", nil, nil, ErrBadCredentials, "Wrong work number or password"},
		{"unreachable", "http://10.0.0.1:9", "1001", "secret", fmt.Errorf("dial: %w", ErrUnreachable), nil, ErrUnreachable, "Cannot reach the server at http://10.0.0.1:9"},
		{"disabled", "http://srv:8080", "1001", "secret", fmt.Errorf("403: %w", ErrDisabled), nil, ErrDisabled, "This account is disabled; ask your administrator"},
		{"timeout", "http://srv:8080", "1001", "secret", context.DeadlineExceeded, nil, context.DeadlineExceeded, "Cannot reach the server at http://srv:8080"},
		{"other", "http://srv:8080", "1001", "secret", errors.New("boom"), nil, nil, "Login failed: boom"},
		{"connect fails", "http://srv:8080", "1001", "secret", nil, fmt.Errorf("x: %w", ErrUnreachable), ErrUnreachable, "Cannot reach the server at http://srv:8080"},
		{"empty password", "http://srv:8080", "1001", "", nil, nil, ErrMissingFields, "Enter your work number and password"},
		{"empty work number", "http://srv:8080", "  ", "secret", nil, nil, ErrMissingFields, "Enter your work number and password"},
		{"bad server", "srv:8080", "1001", "secret", nil, nil, ErrBadServer, "The server address must look like http://host:port"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prefs := test.NewTempApp(t).Preferences()
			b := &fakeBackend{work: "1001", pw: "secret", err: tc.backendErr}
			conn := connectTo(b)
			if tc.connectErr != nil {
				conn = func(string) (Backend, error) { return nil, tc.connectErr }
			}
			m := NewLoginVM(prefs, conn)
			fill(m, tc.server, tc.work, tc.pw, true)
			_, err := m.Submit(context.Background())
			if err == nil {
				t.Fatal("login succeeded")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
			if got := str(t, m.Error); got != tc.wantMsg {
				t.Errorf("message = %q, want %q", got, tc.wantMsg)
			}
			if boolean(t, m.Busy) {
				t.Error("still busy after failure")
			}
			if prefs.String(prefWorkNumber) != "" {
				t.Error("failed login saved the work number")
			}
			if _, err := keyring.Get(KeyringService, KeyringUser(tc.server, tc.work)); !errors.Is(err, keyring.ErrNotFound) {
				t.Errorf("failed login touched the keyring: %v", err)
			}
		})
	}
}

func TestLoginRemembersPasswordInKeyringOnly(t *testing.T) {
	keyring.MockInit()
	prefs := test.NewTempApp(t).Preferences()
	b := &fakeBackend{work: "1001", pw: "s3cret"}
	m := NewLoginVM(prefs, connectTo(b))
	if got := str(t, m.Server); got != DefaultServer {
		t.Fatalf("default server = %q", got)
	}
	fill(m, "http://127.0.0.1:8080/", " 1001 ", "s3cret", true)
	s, err := m.Submit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.Login.Agent.Name != "Alice" || s.Server != "http://127.0.0.1:8080" || s.Backend != b {
		t.Errorf("session = %+v", s)
	}
	if b.gotDevice != "pc" {
		t.Errorf("device = %q", b.gotDevice)
	}
	if str(t, m.Error) != "" || str(t, m.Notice) != "" {
		t.Errorf("messages after success: %q %q", str(t, m.Error), str(t, m.Notice))
	}
	pw, err := keyring.Get(KeyringService, KeyringUser("http://127.0.0.1:8080", "1001"))
	if err != nil || pw != "s3cret" {
		t.Fatalf("keyring = %q, %v", pw, err)
	}
	// Preferences hold the server and work number, never the password.
	for _, k := range []string{prefServer, prefWorkNumber} {
		if v := prefs.String(k); v == "s3cret" || v == "" {
			t.Errorf("pref %s = %q", k, v)
		}
	}

	// Next start: the form comes back filled from prefs and keyring.
	m2 := NewLoginVM(prefs, connectTo(b))
	if str(t, m2.WorkNumber) != "1001" || str(t, m2.Password) != "s3cret" || !boolean(t, m2.Remember) ||
		str(t, m2.Server) != "http://127.0.0.1:8080" {
		t.Errorf("restored form: %q %q %v %q", str(t, m2.WorkNumber), str(t, m2.Password), boolean(t, m2.Remember), str(t, m2.Server))
	}

	// Unticking "remember" deletes the saved password at the next login.
	_ = m2.Remember.Set(false)
	if _, err := m2.Submit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := keyring.Get(KeyringService, KeyringUser("http://127.0.0.1:8080", "1001")); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("password still saved: %v", err)
	}
	m3 := NewLoginVM(prefs, connectTo(b))
	if str(t, m3.Password) != "" || boolean(t, m3.Remember) {
		t.Error("form restored a password that should be forgotten")
	}
}

func TestLoginLockedKeyringStillLogsIn(t *testing.T) {
	locked := errors.New("org.freedesktop.Secret.Error.IsLocked")
	keyring.MockInitWithError(locked)
	t.Cleanup(keyring.MockInit)
	prefs := test.NewTempApp(t).Preferences()
	prefs.SetString(prefWorkNumber, "1001")
	prefs.SetBool(prefRemember, true)

	m := NewLoginVM(prefs, connectTo(&fakeBackend{work: "1001", pw: "pw"}))
	if got := str(t, m.Notice); got != "The system keyring is locked or unavailable; the saved password could not be read" {
		t.Errorf("notice at start = %q", got)
	}
	_ = m.Password.Set("pw")
	s, err := m.Submit(context.Background())
	if err != nil {
		t.Fatalf("login failed because of the keyring: %v", err)
	}
	if s.Login.Token != "tok" {
		t.Errorf("token = %q", s.Login.Token)
	}
	if got := str(t, m.Notice); got != "The system keyring is locked or unavailable; the password was not saved" {
		t.Errorf("notice = %q", got)
	}
	if str(t, m.Error) != "" {
		t.Errorf("error = %q", str(t, m.Error))
	}
}

// failingKeyring fails every call and counts them.
type failingKeyring struct{ calls int }

func (k *failingKeyring) Get(string, string) (string, error) {
	k.calls++
	return "", errors.New("locked")
}
func (k *failingKeyring) Set(string, string, string) error { k.calls++; return errors.New("locked") }
func (k *failingKeyring) Delete(string, string) error      { k.calls++; return errors.New("locked") }

func TestLoginWithoutRememberLeavesKeyringAlone(t *testing.T) {
	prefs := test.NewTempApp(t).Preferences()
	k := &failingKeyring{}
	m := NewLoginVM(prefs, connectTo(&fakeBackend{work: "1", pw: "p"}), WithKeyring(k))
	fill(m, DefaultServer, "1", "p", false)
	for range 2 {
		if _, err := m.Submit(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if k.calls != 0 || str(t, m.Notice) != "" {
		t.Errorf("keyring touched %d times, notice %q", k.calls, str(t, m.Notice))
	}
}

func TestLoginForget(t *testing.T) {
	keyring.MockInit()
	prefs := test.NewTempApp(t).Preferences()
	m := NewLoginVM(prefs, connectTo(&fakeBackend{work: "7", pw: "x"}))
	fill(m, DefaultServer, "7", "x", true)
	if _, err := m.Submit(context.Background()); err != nil {
		t.Fatal(err)
	}
	m.Forget()
	if _, err := keyring.Get(KeyringService, KeyringUser(DefaultServer, "7")); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("keyring after Forget: %v", err)
	}
	if prefs.Bool(prefRemember) || str(t, m.Password) != "" {
		t.Error("Forget left remember on or the password in the form")
	}
}

// blockingBackend holds Login until released, to test the busy state.
type blockingBackend struct {
	fakeBackend
	entered chan struct{}
	release chan struct{}
}

func (b *blockingBackend) Login(ctx context.Context, w, p, d string) (api.LoginResponse, error) {
	close(b.entered)
	<-b.release
	return b.fakeBackend.Login(ctx, w, p, d)
}

func TestLoginBusyWhileInFlight(t *testing.T) {
	keyring.MockInit()
	prefs := test.NewTempApp(t).Preferences()
	b := &blockingBackend{fakeBackend: fakeBackend{work: "1", pw: "p"}, entered: make(chan struct{}), release: make(chan struct{})}
	m := NewLoginVM(prefs, connectTo(b))
	fill(m, DefaultServer, "1", "p", false)
	done := make(chan error)
	go func() { _, err := m.Submit(context.Background()); done <- err }()
	<-b.entered
	if !boolean(t, m.Busy) {
		t.Error("not busy during login")
	}
	if _, err := m.Submit(context.Background()); !errors.Is(err, ErrBusy) {
		t.Errorf("second submit: %v", err)
	}
	close(b.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if boolean(t, m.Busy) {
		t.Error("busy after login")
	}
}
