package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/api"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const testPassword = "s3cret-pw"

// testHash is made once: scrypt is deliberately slow.
var testHash = sync.OnceValue(func() string {
	h, err := callcenter.HashPassword(testPassword)
	if err != nil {
		panic(err)
	}
	return h
})

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type env struct {
	t   *testing.T
	srv *Server
	ts  *httptest.Server
	st  *faultStore
	log *syncBuffer
}

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func newEnv(t *testing.T, opts ...Option) *env {
	t.Helper()
	st := openStore(t)
	st.addAgent(t, callcenter.Agent{WorkNumber: "1001", Name: "Alice", PasswordHash: testHash()})
	st.addAgent(t, callcenter.Agent{WorkNumber: "1002", Name: "Bob", Role: callcenter.RoleSupervisor, PasswordHash: testHash()})
	st.addAgent(t, callcenter.Agent{WorkNumber: "1009", Name: "Gone", PasswordHash: testHash(), Disabled: true})
	logs := &syncBuffer{}
	base := []Option{
		WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		WithRealm("test.realm"),
		WithSIPRegistrar("registrar.test:5060"),
		WithClock(func() time.Time { return t0 }),
	}
	srv := New(st, append(base, opts...)...)
	// Same scrypt cost as a fresh dummy, without hashing one per test.
	srv.dummyHash = testHash
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		srv.Close()
		ts.Close()
	})
	return &env{t: t, srv: srv, ts: ts, st: st, log: logs}
}

// do sends a request and returns the status and body.
func (e *env) do(method, path, token, body string) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, b
}

func (e *env) login(wn, device string) api.LoginResponse {
	e.t.Helper()
	body, _ := json.Marshal(api.LoginRequest{WorkNumber: wn, Password: testPassword, Device: device})
	status, b := e.do(http.MethodPost, "/v1/login", "", string(body))
	if status != http.StatusOK {
		e.t.Fatalf("login %s: %d %s", wn, status, b)
	}
	var out api.LoginResponse
	if err := json.Unmarshal(b, &out); err != nil {
		e.t.Fatal(err)
	}
	return out
}

func decodeError(t *testing.T, b []byte) api.Error {
	t.Helper()
	var eb api.ErrorBody
	if err := json.Unmarshal(b, &eb); err != nil {
		t.Fatalf("error body %q: %v", b, err)
	}
	if eb.Error.Code == "" || eb.Error.Message == "" {
		t.Fatalf("error body without code or message: %s", b)
	}
	return eb.Error
}

func TestLogin(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name       string
		wn, pw     string
		wantStatus int
		wantCode   string
	}{
		{"ok", "1001", testPassword, http.StatusOK, ""},
		{"wrong password", "1001", "nope", http.StatusUnauthorized, api.CodeBadCredentials},
		{"unknown user", "4242", testPassword, http.StatusUnauthorized, api.CodeBadCredentials},
		{"disabled", "1009", testPassword, http.StatusForbidden, api.CodeDisabled},
		// A disabled account is not revealed without its password.
		{"disabled wrong password", "1009", "nope", http.StatusUnauthorized, api.CodeBadCredentials},
		{"no work number", "", testPassword, http.StatusBadRequest, api.CodeBadRequest},
		{"no password", "1001", "", http.StatusBadRequest, api.CodeBadRequest},
	}
	bodies := map[string][]byte{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := json.Marshal(api.LoginRequest{WorkNumber: tc.wn, Password: tc.pw, Device: "pc"})
			status, b := e.do(http.MethodPost, "/v1/login", "", string(req))
			if status != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", status, tc.wantStatus, b)
			}
			bodies[tc.name] = b
			if tc.wantCode != "" {
				if got := decodeError(t, b).Code; got != tc.wantCode {
					t.Fatalf("code %q, want %q", got, tc.wantCode)
				}
				return
			}
			var lr api.LoginResponse
			if err := json.Unmarshal(b, &lr); err != nil {
				t.Fatal(err)
			}
			if lr.Token == "" || lr.Agent.WorkNumber != "1001" || lr.Agent.Name != "Alice" || lr.Agent.Role != "agent" {
				t.Fatalf("bad response %+v", lr)
			}
			want := api.SIPCredentials{Username: "1001", Password: lr.SIP.Password, Realm: "test.realm",
				Registrar: "registrar.test:5060", Transport: "udp", Expires: DefaultSIPExpires}
			if lr.SIP != want || lr.SIP.Password == "" || lr.SIP.Password == testPassword {
				t.Fatalf("SIP credentials %+v", lr.SIP)
			}
			// Only hashes are stored: the token and SIP secret are not.
			sess, err := e.st.SessionByToken(context.Background(), callcenter.HashToken(lr.Token))
			if err != nil {
				t.Fatal(err)
			}
			if sess.WorkNumber != "1001" || sess.Device != "pc" || !sess.CreatedAt.Equal(t0) ||
				sess.SIPHA1MD5 != callcenter.DigestHA1("MD5", "1001", "test.realm", lr.SIP.Password) ||
				sess.SIPHA1SHA256 != callcenter.DigestHA1("SHA-256", "1001", "test.realm", lr.SIP.Password) {
				t.Fatalf("session %+v", sess)
			}
		})
	}
	// Unknown user and wrong password must be indistinguishable.
	if a, b := bodies["wrong password"], bodies["unknown user"]; !bytes.Equal(a, b) {
		t.Fatalf("wrong password and unknown user differ:\n%s\n%s", a, b)
	}
}

// TestLoginUnknownUserTiming checks that an unknown user costs a password
// check too: without it the answer comes back in microseconds, not the
// tens of milliseconds scrypt takes.
func TestLoginUnknownUserTiming(t *testing.T) {
	e := newEnv(t)
	timeLogin := func(wn string) time.Duration {
		req, _ := json.Marshal(api.LoginRequest{WorkNumber: wn, Password: "wrong"})
		start := time.Now()
		if status, b := e.do(http.MethodPost, "/v1/login", "", string(req)); status != http.StatusUnauthorized {
			t.Fatalf("%d %s", status, b)
		}
		return time.Since(start)
	}
	var known, unknown time.Duration
	for range 3 {
		known += timeLogin("1001")
		unknown += timeLogin("5555")
	}
	if unknown < known/3 {
		t.Fatalf("unknown user answered in %v, known in %v: timing tells them apart", unknown, known)
	}
}

func TestMalformedJSON(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, body, contentType, wantMsg string
	}{
		{"syntax", `{"work_number": "1001",`, "application/json", "JSON"},
		{"unknown field", `{"work_number":"1001","password":"x","admin":true}`, "application/json", `"admin"`},
		{"wrong type", `{"work_number":1001,"password":"x"}`, "application/json", "work_number"},
		{"not an object", `[1,2]`, "application/json", "object"},
		{"trailing data", `{"work_number":"1001","password":"x"} {}`, "application/json", "single"},
		{"empty", ``, "application/json", "empty"},
		{"too large", `{"work_number":"` + strings.Repeat("9", 70<<10) + `","password":"x"}`, "application/json", "larger"},
		{"content type", `{"work_number":"1001","password":"x"}`, "text/plain", "content type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/v1/login", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", tc.contentType)
			resp, err := e.ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("content type %q", ct)
			}
			er := decodeError(t, b)
			if er.Code != api.CodeBadRequest || !strings.Contains(er.Message, tc.wantMsg) {
				t.Fatalf("error %+v, want message containing %q", er, tc.wantMsg)
			}
		})
	}
}

func TestRoutesAndTokenAuth(t *testing.T) {
	e := newEnv(t)
	lr := e.login("1001", "pc")
	tests := []struct {
		name, method, path, token string
		wantStatus                int
		wantCode                  string
	}{
		{"health", http.MethodGet, "/healthz", "", http.StatusOK, ""},
		{"me", http.MethodGet, "/v1/me", lr.Token, http.StatusOK, ""},
		{"me no token", http.MethodGet, "/v1/me", "", http.StatusUnauthorized, api.CodeUnauthorized},
		{"me bad token", http.MethodGet, "/v1/me", "forged", http.StatusUnauthorized, api.CodeUnauthorized},
		{"calls no token", http.MethodGet, "/v1/calls", "", http.StatusUnauthorized, api.CodeUnauthorized},
		{"events no token", http.MethodGet, "/v1/events", "", http.StatusUnauthorized, api.CodeUnauthorized},
		{"events not websocket", http.MethodGet, "/v1/events", lr.Token, http.StatusUpgradeRequired, api.CodeBadRequest},
		{"logout no token", http.MethodPost, "/v1/logout", "", http.StatusUnauthorized, api.CodeUnauthorized},
		{"unknown route", http.MethodGet, "/v1/nope", lr.Token, http.StatusNotFound, api.CodeNotFound},
		{"root", http.MethodGet, "/", "", http.StatusNotFound, api.CodeNotFound},
		{"wrong method", http.MethodGet, "/v1/login", "", http.StatusMethodNotAllowed, api.CodeBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, b := e.do(tc.method, tc.path, tc.token, "")
			if status != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", status, tc.wantStatus, b)
			}
			if tc.wantCode != "" {
				if got := decodeError(t, b).Code; got != tc.wantCode {
					t.Fatalf("code %q, want %q", got, tc.wantCode)
				}
			}
		})
	}
}

func TestMeAndLogout(t *testing.T) {
	present := map[string]bool{"1002": true}
	var mu sync.Mutex
	e := newEnv(t, WithPresence(func(wn string) bool {
		mu.Lock()
		defer mu.Unlock()
		return present[wn]
	}))
	alice := e.login("1001", "pc")
	bob := e.login("1002", "pc")

	me := func(token string) api.Me {
		t.Helper()
		status, b := e.do(http.MethodGet, "/v1/me", token, "")
		if status != http.StatusOK {
			t.Fatalf("me: %d %s", status, b)
		}
		var m api.Me
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if m := me(alice.Token); m.Agent.WorkNumber != "1001" || m.Registered {
		t.Fatalf("alice %+v", m)
	}
	// Presence answers until SetRegistered speaks for the agent.
	if m := me(bob.Token); m.Agent.Role != "supervisor" || !m.Registered {
		t.Fatalf("bob %+v", m)
	}
	e.srv.SetRegistered("1002", false, "")
	if m := me(bob.Token); m.Registered {
		t.Fatalf("bob after unregister %+v", m)
	}
	e.srv.SetRegistered("1001", true, "sip:1001@127.0.0.1:5070")
	if m := me(alice.Token); !m.Registered {
		t.Fatalf("alice after register %+v", m)
	}

	// Disabling an agent ends what its token can do.
	if err := e.st.SetAgentDisabled(context.Background(), "1002", true); err != nil {
		t.Fatal(err)
	}
	if status, b := e.do(http.MethodGet, "/v1/me", bob.Token, ""); status != http.StatusForbidden || decodeError(t, b).Code != api.CodeDisabled {
		t.Fatalf("disabled me: %d %s", status, b)
	}

	if status, b := e.do(http.MethodPost, "/v1/logout", alice.Token, ""); status != http.StatusNoContent {
		t.Fatalf("logout: %d %s", status, b)
	}
	if status, _ := e.do(http.MethodGet, "/v1/me", alice.Token, ""); status != http.StatusUnauthorized {
		t.Fatalf("me after logout: %d", status)
	}
}

func TestStoreFailureIs500(t *testing.T) {
	e := newEnv(t)
	lr := e.login("1001", "pc")
	e.st.setFault(errors.New("disk on fire"))
	status, b := e.do(http.MethodGet, "/v1/me", lr.Token, "")
	if status != http.StatusInternalServerError || decodeError(t, b).Code != api.CodeInternal {
		t.Fatalf("%d %s", status, b)
	}
	if strings.Contains(string(b), "disk on fire") {
		t.Fatalf("internal error leaked to client: %s", b)
	}
	// The cause is logged once, at the boundary, with the request.
	logs := e.log.String()
	if !strings.Contains(logs, "disk on fire") || !strings.Contains(logs, "path=/v1/me") ||
		!strings.Contains(logs, "status=500") || !strings.Contains(logs, "duration=") {
		t.Fatalf("log lacks the failure:\n%s", logs)
	}
}

func TestCalls(t *testing.T) {
	e := newEnv(t)
	rec := func(id, agent string, start time.Time) callcenter.CallRecord {
		return callcenter.CallRecord{CallID: id, Type: callcenter.CallInbound, Caller: "13800000000", Callee: "4008001234",
			Agent: agent, Number: "4008001234", StartedAt: start, AnsweredAt: start.Add(5 * time.Second),
			EndedAt: start.Add(65 * time.Second), Result: callcenter.ResultAnswered, HangupBy: callcenter.PartyCaller, Codec: "opus"}
	}
	e.st.addRecords(t,
		rec("c1", "1001", t0.Add(-3*time.Hour)),
		rec("c2", "1001", t0.Add(-2*time.Hour)),
		rec("c3", "1002", t0.Add(-1*time.Hour)),
		callcenter.CallRecord{CallID: "c4", Type: callcenter.CallAgentOutbound, Caller: "1001", Callee: "13900000000", Agent: "1001",
			StartedAt: t0.Add(-30 * time.Minute), EndedAt: t0.Add(-29 * time.Minute), Result: callcenter.ResultBusy},
	)
	lr := e.login("1001", "pc")
	get := func(query string) (int, []api.CallRecord, []byte) {
		status, b := e.do(http.MethodGet, "/v1/calls"+query, lr.Token, "")
		var out []api.CallRecord
		if status == http.StatusOK {
			if err := json.Unmarshal(b, &out); err != nil {
				t.Fatal(err)
			}
		}
		return status, out, b
	}
	tests := []struct {
		name       string
		query      string
		wantStatus int
		wantIDs    []string
	}{
		{"all mine newest first", "", 200, []string{"c4", "c2", "c1"}},
		{"limit", "?limit=1", 200, []string{"c4"}},
		{"since", "?since=" + t0.Add(-150*time.Minute).Format(time.RFC3339), 200, []string{"c4", "c2"}},
		{"until", "?until=" + t0.Add(-1*time.Hour).Format(time.RFC3339), 200, []string{"c2", "c1"}},
		{"bad since", "?since=yesterday", 400, nil},
		{"bad limit", "?limit=0", 400, nil},
		{"limit too big", "?limit=100000", 400, nil},
		{"until before since", "?since=2025-03-01T09:00:00Z&until=2025-03-01T08:00:00Z", 400, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, recs, b := get(tc.query)
			if status != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", status, tc.wantStatus, b)
			}
			if status != 200 {
				if decodeError(t, b).Code != api.CodeBadRequest {
					t.Fatalf("%s", b)
				}
				return
			}
			var ids []string
			for _, r := range recs {
				ids = append(ids, r.CallID)
			}
			if strings.Join(ids, ",") != strings.Join(tc.wantIDs, ",") {
				t.Fatalf("ids %v, want %v", ids, tc.wantIDs)
			}
		})
	}
	_, recs, _ := get("?limit=10")
	want := api.CallRecord{CallID: "c2", Type: "inbound", Caller: "13800000000", Callee: "4008001234", Agent: "1001",
		Number: "4008001234", StartedAt: t0.Add(-2 * time.Hour), AnsweredAt: t0.Add(-2*time.Hour + 5*time.Second),
		EndedAt: t0.Add(-2*time.Hour + 65*time.Second), DurationSec: 60, Result: "answered", HangupBy: "caller", Codec: "opus"}
	if len(recs) != 3 || !reflect.DeepEqual(recs[1], want) {
		t.Fatalf("record\n%+v\nwant\n%+v", recs[1], want)
	}
	if recs[0].Result != "busy" || recs[0].DurationSec != 0 || !recs[0].AnsweredAt.IsZero() {
		t.Fatalf("unanswered record %+v", recs[0])
	}
}

// TestConcurrentLogins: logins of one agent at once must leave exactly one
// live session (the winner), never revoke each other into none.
func TestConcurrentLogins(t *testing.T) {
	e := newEnv(t)
	const n = 4
	tokens := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			body, _ := json.Marshal(api.LoginRequest{WorkNumber: "1001", Password: testPassword})
			req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/v1/login", bytes.NewReader(body))
			resp, err := e.ts.Client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			var lr api.LoginResponse
			if err := json.NewDecoder(resp.Body).Decode(&lr); err != nil {
				t.Error(err)
			}
			tokens[i] = lr.Token
		})
	}
	wg.Wait()
	live, err := e.st.LiveSessions(context.Background(), "1001")
	if err != nil || len(live) != 1 {
		t.Fatalf("live sessions %+v %v", live, err)
	}
	ok := 0
	for _, tok := range tokens {
		if status, _ := e.do(http.MethodGet, "/v1/me", tok, ""); status == http.StatusOK {
			ok++
		}
	}
	if ok != 1 {
		t.Fatalf("%d tokens work, want 1", ok)
	}
}
