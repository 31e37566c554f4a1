package vm

import (
	"context"
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"github.com/zalando/go-keyring"

	"github.com/agentphone/agentphone/callcenter/admin"
	"github.com/agentphone/agentphone/callcenter/api"
	"github.com/agentphone/agentphone/callcenter/server"
	"github.com/agentphone/agentphone/callcenter/store"
)

// newCallcenter runs the real API on the real SQLite store with demo data.
func newCallcenter(t *testing.T) (*httptest.Server, *store.SQLite) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := admin.Seed(ctx, st, server.DefaultRealm); err != nil {
		t.Fatal(err)
	}
	srv := server.New(st, server.WithSIPRegistrar("registrar.test:5060"))
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		_ = srv.Close()
		hs.Close()
	})
	return hs, st
}

func TestLoginAgainstRealServer(t *testing.T) {
	keyring.MockInit()
	hs, st := newCallcenter(t)
	if err := admin.Run(context.Background(), st, server.DefaultRealm, []string{"agent", "disable", "1002"}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	dead := httptest.NewServer(nil)
	deadURL := dead.URL
	dead.Close()

	tests := []struct {
		name, server, work, pw string
		wantMsg                string
	}{
		{"wrong password", hs.URL, "1001", "nope-nope", "Wrong work number or password"},
		{"unknown agent", hs.URL, "9999", admin.DemoPassword, "Wrong work number or password"},
		{"disabled", hs.URL, "1002", admin.DemoPassword, "This account is disabled; ask your administrator"},
		{"unreachable", deadURL, "1001", admin.DemoPassword, "Cannot reach the server at " + deadURL},
		{"ok", hs.URL, "1001", admin.DemoPassword, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prefs := test.NewTempApp(t).Preferences()
			m := NewLoginVM(prefs, ClientConnector())
			fill(m, tc.server, tc.work, tc.pw, true)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s, err := m.Submit(ctx)
			if got := str(t, m.Error); got != tc.wantMsg {
				t.Errorf("message = %q, want %q (err %v)", got, tc.wantMsg, err)
			}
			if tc.wantMsg != "" {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Login.Agent.Name != "Li Lei" || s.Login.SIP.Username == "" || s.Login.SIP.Password == "" || s.Login.SIP.Registrar != "registrar.test:5060" {
				t.Errorf("login response %+v", s.Login)
			}
			// The event stream starts with a snapshot that the bar applies.
			sctx, scancel := context.WithCancel(context.Background())
			events := s.Backend.Events(sctx)
			var first api.Event
			select {
			case first = <-events:
			case <-time.After(5 * time.Second):
				t.Fatal("no snapshot")
			}
			scancel()
			for range events {
			}
			if first.Type != api.EventSnapshot {
				t.Fatalf("first event %q", first.Type)
			}
			bar := NewPhoneBarVM(api.Agent{WorkNumber: "1001"}, &fakePhone{})
			bar.HandleServer(first)
			bar.Close()
			if got := str(t, bar.Agent); got != "Li Lei (1001)" {
				t.Errorf("agent from snapshot = %q", got)
			}
		})
	}
}
