package client_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/api"
	"github.com/agentphone/agentphone/callcenter/client"
	"github.com/agentphone/agentphone/callcenter/server"
	"github.com/agentphone/agentphone/callcenter/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const password = "s3cret-pw"

var pwHash = sync.OnceValue(func() string {
	h, err := callcenter.HashPassword(password)
	if err != nil {
		panic(err)
	}
	return h
})

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func openStore(t *testing.T) *store.SQLite {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "cc.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, a := range []callcenter.Agent{
		{WorkNumber: "1001", Name: "Alice", PasswordHash: pwHash()},
		{WorkNumber: "1009", Name: "Gone", PasswordHash: pwHash(), Disabled: true},
	} {
		if _, err := st.CreateAgent(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// live is a callcenterd API on a real socket that a test can stop and start
// again on the same address.
type live struct {
	t    *testing.T
	st   *store.SQLite
	opts []server.Option
	addr string

	mu  sync.Mutex
	srv *server.Server
	hs  *http.Server
}

func startLive(t *testing.T, opts ...server.Option) *live {
	t.Helper()
	l := &live{t: t, st: openStore(t), opts: opts, addr: "127.0.0.1:0"}
	l.start()
	t.Cleanup(l.stop)
	return l
}

func (l *live) url() string { return "http://" + l.addr }

func (l *live) server() *server.Server {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.srv
}

func (l *live) start() {
	l.t.Helper()
	var ln net.Listener
	var err error
	// The port of a server just stopped may take a moment to be free.
	for range 50 {
		if ln, err = net.Listen("tcp", l.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		l.t.Fatal(err)
	}
	l.addr = ln.Addr().String()
	srv := server.New(l.st, append([]server.Option{server.WithClock(func() time.Time { return t0 })}, l.opts...)...)
	hs := &http.Server{Handler: srv.Handler()}
	go hs.Serve(ln)
	l.mu.Lock()
	l.srv, l.hs = srv, hs
	l.mu.Unlock()
}

func (l *live) stop() {
	l.mu.Lock()
	srv, hs := l.srv, l.hs
	l.srv, l.hs = nil, nil
	l.mu.Unlock()
	if srv == nil {
		return
	}
	srv.Close()
	hs.Close()
}

func TestLoginMeCallsLogout(t *testing.T) {
	l := startLive(t, server.WithRealm("r"), server.WithSIPRegistrar("registrar.test:5060"))
	rec := callcenter.CallRecord{CallID: "c1", Type: callcenter.CallInbound, Caller: "13800000000", Callee: "4008001234",
		Agent: "1001", StartedAt: t0.Add(-time.Hour), AnsweredAt: t0.Add(-time.Hour + 2*time.Second),
		EndedAt: t0.Add(-time.Hour + 32*time.Second), Result: callcenter.ResultAnswered, HangupBy: callcenter.PartyCallee}
	old := rec
	old.CallID, old.StartedAt, old.AnsweredAt, old.EndedAt = "c0", t0.Add(-48*time.Hour), time.Time{}, t0.Add(-48*time.Hour+time.Minute)
	old.Result = callcenter.ResultNoAnswer
	for _, r := range []callcenter.CallRecord{rec, old} {
		if err := l.st.EndCallRecord(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}

	ctx := context.Background()
	c := client.New(l.url() + "/")
	if _, err := c.Me(ctx); !errors.Is(err, client.ErrUnauthorized) {
		t.Fatalf("me before login: %v", err)
	}
	lr, err := c.Login(ctx, "1001", password, "pc")
	if err != nil {
		t.Fatal(err)
	}
	if lr.Token == "" || c.Token() != lr.Token || lr.SIP.Username != "1001" || lr.SIP.Realm != "r" || lr.SIP.Registrar != "registrar.test:5060" {
		t.Fatalf("login %+v", lr)
	}
	me, err := c.Me(ctx)
	if err != nil || me.Agent.Name != "Alice" {
		t.Fatalf("me %+v %v", me, err)
	}

	recs, err := c.Calls(ctx, time.Time{}, 0)
	if err != nil || len(recs) != 2 || recs[0].CallID != "c1" || recs[0].DurationSec != 30 || recs[1].Result != "no_answer" {
		t.Fatalf("calls %+v %v", recs, err)
	}
	recs, err = c.Calls(ctx, t0.Add(-24*time.Hour), 5)
	if err != nil || len(recs) != 1 || recs[0].CallID != "c1" {
		t.Fatalf("calls since %+v %v", recs, err)
	}
	var e *client.Error
	if _, err := c.Calls(ctx, time.Time{}, 5000); !errors.As(err, &e) || e.Status != http.StatusBadRequest || e.Code != api.CodeBadRequest {
		t.Fatalf("calls with a limit too big: %v", err)
	}

	// A token kept from before works in another client.
	c2 := client.New(l.url())
	c2.SetToken(lr.Token)
	if _, err := c2.Me(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Logout(ctx); err != nil || c.Token() != "" {
		t.Fatalf("logout: %v, token %q", err, c.Token())
	}
	if _, err := c2.Me(ctx); !errors.Is(err, client.ErrUnauthorized) {
		t.Fatalf("me after logout: %v", err)
	}
	// Logging out twice is fine.
	if err := c2.Logout(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestLoginErrors(t *testing.T) {
	l := startLive(t)
	tests := []struct {
		name, wn, pw string
		want         error
		status       int
	}{
		{"wrong password", "1001", "nope", client.ErrBadCredentials, 401},
		{"unknown user", "7777", password, client.ErrBadCredentials, 401},
		{"disabled", "1009", password, client.ErrDisabled, 403},
		{"empty", "", "", nil, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := client.New(l.url())
			_, err := c.Login(context.Background(), tc.wn, tc.pw, "pc")
			var e *client.Error
			if !errors.As(err, &e) || e.Status != tc.status || e.Message == "" {
				t.Fatalf("err %v, want status %d", err, tc.status)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			for _, other := range []error{client.ErrBadCredentials, client.ErrDisabled, client.ErrUnauthorized, client.ErrUnreachable} {
				if other != tc.want && errors.Is(err, other) {
					t.Fatalf("err %v also matches %v", err, other)
				}
			}
			if c.Token() != "" {
				t.Fatal("failed login kept a token")
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	// A port nobody listens on: connection refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String()
	ln.Close()

	// A server that accepts but never answers: a timeout.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	var conns sync.WaitGroup
	conns.Go(func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	})
	defer conns.Wait()
	defer silent.Close()

	// A gateway in front of a dead server.
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		w.Write([]byte("<html>502 Bad Gateway</html>"))
	}))
	defer gw.Close()

	tests := []struct {
		name, url string
	}{
		{"refused", refused},
		{"timeout", "http://" + silent.Addr().String()},
		{"bad gateway", gw.URL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := client.New(tc.url, client.WithHTTPClient(&http.Client{Timeout: 200 * time.Millisecond}))
			_, err := c.Login(context.Background(), "1001", password, "pc")
			if !errors.Is(err, client.ErrUnreachable) {
				t.Fatalf("err %v, want ErrUnreachable", err)
			}
			if errors.Is(err, client.ErrBadCredentials) || errors.Is(err, client.ErrUnauthorized) {
				t.Fatalf("err %v matches a credentials error", err)
			}
		})
	}

	// The caller giving up is not the server's fault.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = client.New(refused).Me(ctx)
	if !errors.Is(err, context.Canceled) || errors.Is(err, client.ErrUnreachable) {
		t.Fatalf("cancelled: %v", err)
	}
}
