package server

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/api"
	"github.com/agentphone/agentphone/callcenter/store"
)

// fakeReloader counts reloads and fails them on demand: the seam between
// the admin API and the live center.
type fakeReloader struct {
	mu  sync.Mutex
	n   int
	err error
}

func (f *fakeReloader) Reload(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	f.n++
	return f.err
}

func (f *fakeReloader) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

func (f *fakeReloader) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

// newAdminEnv is newEnv with admin 9001 logged in and a fake reloader.
func newAdminEnv(t *testing.T, opts ...Option) (*env, *fakeReloader, string) {
	t.Helper()
	fr := &fakeReloader{}
	e := newEnv(t, append([]Option{WithReloader(fr)}, opts...)...)
	e.st.addAgent(t, callcenter.Agent{WorkNumber: "9001", Name: "Root", Role: callcenter.RoleAdmin, PasswordHash: testHash()})
	return e, fr, e.login("9001", "pc").Token
}

// adminEndpoints is one request per admin route, for the checks every
// route must pass.
var adminEndpoints = []struct{ method, path, body string }{
	{http.MethodGet, "/v1/admin/agents", ""},
	{http.MethodPost, "/v1/admin/agents", `{"work_number":"1234","name":"x","password":"secret1"}`},
	{http.MethodPatch, "/v1/admin/agents/1001", `{"disabled":true}`},
	{http.MethodGet, "/v1/admin/numbers", ""},
	{http.MethodPost, "/v1/admin/numbers", `{"e164":"4001","name":"x"}`},
	{http.MethodPatch, "/v1/admin/numbers/4001", `{"disabled":true}`},
	{http.MethodGet, "/v1/admin/groups", ""},
	{http.MethodPost, "/v1/admin/groups", `{"name":"g"}`},
	{http.MethodPatch, "/v1/admin/groups/g", `{"label":"G"}`},
	{http.MethodGet, "/v1/admin/groups/g/members", ""},
	{http.MethodPut, "/v1/admin/groups/g/members/1001", `{"level":1}`},
	{http.MethodDelete, "/v1/admin/groups/g/members/1001", ""},
	{http.MethodGet, "/v1/admin/ivr", ""},
	{http.MethodPut, "/v1/admin/ivr/main", `{"prompt":"p"}`},
	{http.MethodGet, "/v1/admin/statuses", ""},
	{http.MethodPost, "/v1/admin/statuses", `{"name":"s","label":"S"}`},
}

func TestAdminNeedsAdminRole(t *testing.T) {
	e, fr, _ := newAdminEnv(t)
	agent := e.login("1001", "pc").Token
	supervisor := e.login("1002", "pc").Token
	for _, ep := range adminEndpoints {
		for _, tok := range []string{agent, supervisor} {
			status, b := e.do(ep.method, ep.path, tok, ep.body)
			if status != http.StatusForbidden || decodeError(t, b).Code != api.CodeForbidden {
				t.Errorf("%s %s as a non-admin: %d %s, want 403 forbidden", ep.method, ep.path, status, b)
			}
		}
		if status, _ := e.do(ep.method, ep.path, "", ep.body); status != http.StatusUnauthorized {
			t.Errorf("%s %s without a token: %d, want 401", ep.method, ep.path, status)
		}
	}
	if n := fr.count(); n != 0 {
		t.Errorf("refused requests reloaded the center %d times", n)
	}
	if a, _ := e.st.AgentByWorkNumber(context.Background(), "1001"); a.Disabled {
		t.Error("a non-admin's PATCH disabled an agent")
	}
}

// TestAdminAPI walks every endpoint through success and failure against the
// real SQLite store; rows run in order and build on each other.
func TestAdminAPI(t *testing.T) {
	e, fr, tok := newAdminEnv(t)
	for _, tc := range []struct {
		name         string
		method, path string
		body         string
		status       int
		code         string   // error code when status >= 400
		want         []string // substrings of the answer
		reload       bool     // a success must reload the center
	}{
		{"list agents", "GET", "/agents", "", 200, "", []string{`"work_number":"9001"`, `"role":"admin"`, `"disabled":true`}, false},
		{"create agent", "POST", "/agents", `{"work_number":"1003","name":"Carol","password":"pw123456","role":"supervisor"}`, 201, "", []string{`"work_number":"1003"`, `"role":"supervisor"`}, false},
		{"create agent default role", "POST", "/agents", `{"work_number":"1004","name":"Dan","password":"pw123456"}`, 201, "", []string{`"role":"agent"`}, false},
		{"create agent taken", "POST", "/agents", `{"work_number":"1001","name":"X","password":"pw123456"}`, 409, api.CodeExists, nil, false},
		{"create agent bad role", "POST", "/agents", `{"work_number":"1005","name":"X","password":"pw123456","role":"god"}`, 400, api.CodeBadRequest, []string{"role"}, false},
		{"create agent short password", "POST", "/agents", `{"work_number":"1005","name":"X","password":"123"}`, 400, api.CodeBadRequest, []string{"password"}, false},
		{"create agent bad work number", "POST", "/agents", `{"work_number":"10 5","name":"X","password":"pw123456"}`, 400, api.CodeBadRequest, []string{"work number"}, false},
		{"create agent no name", "POST", "/agents", `{"work_number":"1005","password":"pw123456"}`, 400, api.CodeBadRequest, []string{"name"}, false},
		{"create agent unknown field", "POST", "/agents", `{"work_number":"1005","nme":"X"}`, 400, api.CodeBadRequest, []string{"unknown field"}, false},
		{"create agent not JSON", "POST", "/agents", `work_number=1005`, 400, api.CodeBadRequest, []string{"malformed JSON"}, false},
		{"patch agent password", "PATCH", "/agents/1003", `{"password":"newpass1"}`, 200, "", []string{`"work_number":"1003"`}, false},
		{"patch agent short password", "PATCH", "/agents/1003", `{"password":"x"}`, 400, api.CodeBadRequest, nil, false},
		{"patch agent nothing", "PATCH", "/agents/1003", `{}`, 400, api.CodeBadRequest, []string{"nothing to change"}, false},
		{"patch unknown agent", "PATCH", "/agents/7777", `{"disabled":true}`, 404, api.CodeNotFound, nil, false},
		{"disable own account", "PATCH", "/agents/9001", `{"disabled":true}`, 400, api.CodeBadRequest, []string{"own account"}, false},
		{"disable agent", "PATCH", "/agents/1004", `{"disabled":true}`, 200, "", []string{`"disabled":true`}, false},
		{"enable agent", "PATCH", "/agents/1004", `{"disabled":false}`, 200, "", nil, false},

		{"create status", "POST", "/statuses", `{"name":"meeting","label":"会议中"}`, 201, "", []string{`"label":"会议中"`}, true},
		{"create status taken", "POST", "/statuses", `{"name":"meeting","label":"x"}`, 409, api.CodeExists, nil, false},
		{"create status bad name", "POST", "/statuses", `{"name":"a b","label":"x"}`, 400, api.CodeBadRequest, nil, false},
		{"create status no label", "POST", "/statuses", `{"name":"lunch"}`, 400, api.CodeBadRequest, []string{"label"}, false},
		{"list statuses", "GET", "/statuses", "", 200, "", []string{`"name":"meeting"`}, false},

		{"create group defaults", "POST", "/groups", `{"name":"support","label":"售后服务","acw_sec":30}`, 201, "",
			[]string{`"strategy":"longest_idle"`, `"ring_timeout_sec":20`, `"acw_sec":30`, `"tier_widen_sec":30`, `"overflow":"none"`}, true},
		{"create group overflow", "POST", "/groups", `{"name":"sales","label":"售前","strategy":"ring_all","max_wait_sec":90,"overflow_group":"support"}`, 201, "",
			[]string{`"strategy":"ring_all"`, `"max_wait_sec":90`, `"overflow":"group"`, `"overflow_group":"support"`, `"acw_sec":0`}, true},
		{"create group taken", "POST", "/groups", `{"name":"sales"}`, 409, api.CodeExists, nil, false},
		{"create group bad strategy", "POST", "/groups", `{"name":"x","strategy":"random"}`, 400, api.CodeBadRequest, []string{"strategy"}, false},
		{"create group unknown overflow group", "POST", "/groups", `{"name":"x","overflow_group":"nope"}`, 404, api.CodeNotFound, []string{"nope"}, false},
		{"create group negative", "POST", "/groups", `{"name":"x","ring_timeout_sec":-1}`, 400, api.CodeBadRequest, []string{"ring_timeout_sec"}, false},
		{"create group huge", "POST", "/groups", `{"name":"x","max_wait_sec":99999999999}`, 400, api.CodeBadRequest, []string{"max_wait_sec"}, false},
		{"create group overflow without group", "POST", "/groups", `{"name":"x","overflow":"group"}`, 400, api.CodeBadRequest, []string{"overflow"}, false},
		{"create group to itself", "POST", "/groups", `{"name":"x","overflow_group":"x"}`, 400, api.CodeBadRequest, nil, false},
		{"create group no name", "POST", "/groups", `{"label":"x"}`, 400, api.CodeBadRequest, []string{"name"}, false},
		{"create group string seconds", "POST", "/groups", `{"name":"x","acw_sec":"30"}`, 400, api.CodeBadRequest, []string{"acw_sec"}, false},
		{"patch group overflow off", "PATCH", "/groups/sales", `{"overflow":"none","acw_sec":15}`, 200, "",
			[]string{`"overflow":"none"`, `"acw_sec":15`, `"strategy":"ring_all"`, `"label":"售前"`}, true},
		{"patch unknown group", "PATCH", "/groups/nope", `{"label":"x"}`, 404, api.CodeNotFound, nil, false},
		{"patch group nothing", "PATCH", "/groups/sales", `{}`, 400, api.CodeBadRequest, []string{"nothing"}, false},
		{"patch group rename", "PATCH", "/groups/sales", `{"name":"other"}`, 400, api.CodeBadRequest, []string{"renamed"}, false},
		{"patch group unknown IVR", "PATCH", "/groups/sales", `{"ivr":"nope"}`, 404, api.CodeNotFound, nil, false},
		{"list groups", "GET", "/groups", "", 200, "", []string{`"name":"sales"`, `"name":"support"`}, false},

		{"put member", "PUT", "/groups/sales/members/1001", `{"level":2}`, 200, "", []string{`"work_number":"1001"`, `"name":"Alice"`, `"level":2`}, true},
		{"put member default level", "PUT", "/groups/sales/members/1002", "", 200, "", []string{`"level":1`}, true},
		{"put member level 0", "PUT", "/groups/sales/members/1001", `{"level":0}`, 400, api.CodeBadRequest, nil, false},
		{"put member unknown group", "PUT", "/groups/nope/members/1001", `{}`, 404, api.CodeNotFound, nil, false},
		{"put member unknown agent", "PUT", "/groups/sales/members/7777", `{}`, 404, api.CodeNotFound, nil, false},
		{"list members", "GET", "/groups/sales/members", "", 200, "", []string{`[{"work_number":"1002","name":"Bob","level":1},{"work_number":"1001","name":"Alice","level":2}]`}, false},
		{"list members unknown group", "GET", "/groups/nope/members", "", 404, api.CodeNotFound, nil, false},
		{"remove member", "DELETE", "/groups/sales/members/1002", "", 204, "", nil, true},
		{"remove member again", "DELETE", "/groups/sales/members/1002", "", 404, api.CodeNotFound, nil, false},

		{"put IVR", "PUT", "/ivr/main", `{"prompt":"welcome_main","choices":{"1":"group:sales","9":"repeat","#":"hangup"},"on_fail":"group:support"}`, 200, "",
			[]string{`"timeout_sec":5`, `"max_tries":3`, `"1":"group:sales"`, `"#":"hangup"`, `"on_fail":"group:support"`}, true},
		{"put IVR bad key", "PUT", "/ivr/main", `{"prompt":"p","choices":{"x":"group:sales"}}`, 400, api.CodeBadRequest, []string{"key"}, false},
		{"put IVR no target", "PUT", "/ivr/main", `{"prompt":"p","choices":{"1":"group"}}`, 400, api.CodeBadRequest, []string{"target"}, false},
		{"put IVR unknown action", "PUT", "/ivr/main", `{"prompt":"p","choices":{"1":"dance"}}`, 400, api.CodeBadRequest, nil, false},
		{"put IVR no prompt", "PUT", "/ivr/main", `{"choices":{}}`, 400, api.CodeBadRequest, []string{"prompt"}, false},
		{"put IVR repeat on fail", "PUT", "/ivr/main", `{"prompt":"p","on_fail":"repeat"}`, 400, api.CodeBadRequest, nil, false},
		{"put IVR no tries", "PUT", "/ivr/main", `{"prompt":"p","max_tries":0}`, 400, api.CodeBadRequest, nil, false},
		{"put IVR bad name", "PUT", "/ivr/a%20b", `{"prompt":"p"}`, 400, api.CodeBadRequest, nil, false},
		{"list IVR", "GET", "/ivr", "", 200, "", []string{`"name":"main"`, `"9":"repeat"`}, false},
		{"group with IVR", "PATCH", "/groups/sales", `{"ivr":"main"}`, 200, "", []string{`"ivr":"main"`}, true},

		{"create number", "POST", "/numbers", `{"e164":"4008001234","name":"Hotline","route_ivr":"main"}`, 201, "", []string{`"route_ivr":"main"`}, true},
		{"create number plus", "POST", "/numbers", `{"e164":"+862161234567","name":"Shanghai","route_agent":"1001"}`, 201, "", nil, true},
		{"create number taken", "POST", "/numbers", `{"e164":"4008001234","name":"x"}`, 409, api.CodeExists, nil, false},
		{"create number bad", "POST", "/numbers", `{"e164":"12","name":"x"}`, 400, api.CodeBadRequest, []string{"digits"}, false},
		{"create number unknown group", "POST", "/numbers", `{"e164":"4008005555","name":"x","route_group":"nope"}`, 404, api.CodeNotFound, nil, false},
		{"route number", "PATCH", "/numbers/4008001234", `{"route_group":"support"}`, 200, "", []string{`"route_group":"support"`}, true},
		{"route number unknown agent", "PATCH", "/numbers/4008001234", `{"route_agent":"7777"}`, 404, api.CodeNotFound, nil, false},
		{"disable number", "PATCH", "/numbers/%2B862161234567", `{"disabled":true}`, 200, "", []string{`"disabled":true`, `"route_agent":"1001"`}, true},
		{"patch unknown number", "PATCH", "/numbers/999999", `{"disabled":true}`, 404, api.CodeNotFound, nil, false},
		{"patch number nothing", "PATCH", "/numbers/4008001234", `{}`, 400, api.CodeBadRequest, nil, false},
		{"list numbers", "GET", "/numbers", "", 200, "", []string{`"e164":"4008001234"`, `"e164":"+862161234567"`}, false},

		{"wrong method", "DELETE", "/agents", "", 405, api.CodeBadRequest, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := fr.count()
			status, b := e.do(tc.method, "/v1/admin"+tc.path, tok, tc.body)
			if status != tc.status {
				t.Fatalf("%s %s: %d %s, want %d", tc.method, tc.path, status, b, tc.status)
			}
			if status >= 400 {
				if got := decodeError(t, b); got.Code != tc.code || got.Message == "" {
					t.Errorf("error %+v, want code %q and a message", got, tc.code)
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("answer %s lacks %s", b, w)
				}
			}
			wantReloads := 0
			if tc.reload {
				wantReloads = 1
			}
			if got := fr.count() - before; got != wantReloads {
				t.Errorf("%d reloads, want %d", got, wantReloads)
			}
		})
	}

	// What the API said is what the store holds.
	ctx := context.Background()
	g, err := e.st.GroupByName(ctx, "sales")
	if err != nil || g.Overflow != callcenter.OverflowNone || g.OverflowGroup != "" || !g.ACW || g.ACWDuration != 15*time.Second || g.IVR != "main" {
		t.Errorf("sales in the store: %+v, %v", g, err)
	}
	n, err := e.st.NumberByE164(ctx, "4008001234")
	if err != nil || n.RouteIVR != "" || n.RouteGroup != "support" || n.RouteAgent != "" {
		t.Errorf("number in the store: %+v, %v (a PATCH of the route replaces all of it)", n, err)
	}
	a, err := e.st.AgentByWorkNumber(ctx, "1003")
	if err != nil || !callcenter.CheckPassword(a.PasswordHash, "newpass1") ||
		a.HA1MD5 != callcenter.DigestHA1(callcenter.DigestMD5, "1003", "test.realm", "newpass1") {
		t.Errorf("1003's credentials do not match the new password (in realm test.realm): %+v, %v", a, err)
	}
}

func TestAdminDisableEndsSessions(t *testing.T) {
	e, _, tok := newAdminEnv(t)
	agentTok := e.login("1001", "pc").Token
	c := e.dial(agentTok)
	readEvent(t, c) // snapshot
	if status, b := e.do(http.MethodPatch, "/v1/admin/agents/1001", tok, `{"disabled":true}`); status != http.StatusOK {
		t.Fatalf("disable: %d %s", status, b)
	}
	live, err := e.st.LiveSessions(context.Background(), "1001")
	if err != nil || len(live) != 0 {
		t.Errorf("after disabling, 1001 has live sessions %v, %v", live, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, _, err := c.Read(ctx); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the disabled agent's event stream is still open: %v", err)
	}
	if status, _ := e.do(http.MethodGet, "/v1/me", agentTok, ""); status != http.StatusUnauthorized && status != http.StatusForbidden {
		t.Errorf("the disabled agent's token still works: %d", status)
	}
}

func TestAdminRenameNeedsStoreSupport(t *testing.T) {
	e, _, tok := newAdminEnv(t)
	if _, ok := any(e.st).(AgentRenamer); ok {
		t.Fatal("the test store renames agents: this test needs one that cannot (TestAdminRenameWithStoreSupport covers renaming)")
	}
	status, b := e.do(http.MethodPatch, "/v1/admin/agents/1001", tok, `{"name":"Alicia","disabled":true}`)
	if status != http.StatusBadRequest || !strings.Contains(decodeError(t, b).Message, "rename") {
		t.Errorf("rename without store support: %d %s, want 400", status, b)
	}
	// Refused as a whole: the other field of the request was not applied.
	if a, _ := e.st.AgentByWorkNumber(context.Background(), "1001"); a.Disabled {
		t.Error("a refused PATCH disabled the agent")
	}
}

// renamingStore adds the optional rename to the store, the way a store
// that supports it would be used.
type renamingStore struct {
	*faultStore
	mu      sync.Mutex
	renamed map[string]string
}

func (r *renamingStore) SetAgentName(ctx context.Context, wn, name string) error {
	if _, err := r.AgentByWorkNumber(ctx, wn); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.renamed[wn] = name
	return nil
}

func TestAdminRenameWithStoreSupport(t *testing.T) {
	e, _, tok := newAdminEnv(t)
	rs := &renamingStore{faultStore: e.st, renamed: map[string]string{}}
	e.srv.adminStore = rs // WithAdminStore after the fact: the env's store is made inside newEnv
	if status, b := e.do(http.MethodPatch, "/v1/admin/agents/1001", tok, `{"name":"Alicia"}`); status != http.StatusOK {
		t.Fatalf("rename: %d %s", status, b)
	}
	if rs.renamed["1001"] != "Alicia" {
		t.Errorf("store renames %v", rs.renamed)
	}
	if status, _ := e.do(http.MethodPatch, "/v1/admin/agents/1001", tok, `{"name":"  "}`); status != http.StatusBadRequest {
		t.Errorf("blank name: %d, want 400", status)
	}
}

func TestAdminReloadFailure(t *testing.T) {
	e, fr, tok := newAdminEnv(t)
	fr.fail(errors.New("center is down"))
	status, b := e.do(http.MethodPost, "/v1/admin/statuses", tok, `{"name":"lunch","label":"午饭"}`)
	if status != http.StatusInternalServerError || !strings.Contains(decodeError(t, b).Message, "saved") {
		t.Errorf("reload failure: %d %s, want 500 saying the change is saved", status, b)
	}
	if !strings.Contains(e.log.String(), "center is down") {
		t.Errorf("the reload error is not in the log:\n%s", e.log.String())
	}
	list, err := e.st.ListCustomStatuses(context.Background())
	if err != nil || !slices.ContainsFunc(list, func(c callcenter.CustomStatus) bool { return c.Name == "lunch" }) {
		t.Errorf("statuses %v, %v: the change was not kept", list, err)
	}
}

// reloadingCenter is the fake center with Reload, like *center.Center.
type reloadingCenter struct {
	*fakeCenter
	*fakeReloader
}

func TestAdminReloadsTheCenter(t *testing.T) {
	rc := &reloadingCenter{fakeCenter: newFakeCenter(), fakeReloader: &fakeReloader{}}
	e := newEnv(t, WithCenter(rc))
	rc.fakeCenter.srv = e.srv
	e.st.addAgent(t, callcenter.Agent{WorkNumber: "9001", Name: "Root", Role: callcenter.RoleAdmin, PasswordHash: testHash()})
	tok := e.login("9001", "pc").Token
	if status, b := e.do(http.MethodPost, "/v1/admin/groups", tok, `{"name":"vip"}`); status != http.StatusCreated {
		t.Fatalf("create group: %d %s", status, b)
	}
	if n := rc.count(); n != 1 {
		t.Errorf("center reloaded %d times, want 1", n)
	}
}

// narrowStore has only the server's Store methods.
type narrowStore struct{ Store }

func TestAdminNeedsAdminStore(t *testing.T) {
	st := openStore(t)
	st.addAgent(t, callcenter.Agent{WorkNumber: "9001", Name: "Root", Role: callcenter.RoleAdmin})
	srv := New(narrowStore{st})
	defer srv.Close()
	const tok = "token-of-9001"
	if err := st.CreateSession(context.Background(), callcenter.Session{TokenHash: callcenter.HashToken(tok), WorkNumber: "9001", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/v1/admin/agents", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound {
		t.Errorf("admin API on a store without admin methods: %d %s, want 404", rec.Code, rec.Body)
	}
}

// FuzzAdminRequests sends outside input to every admin endpoint that takes a
// body, against a real store: whatever the body, the answer is a success or
// a client error, never a 500 or a panic.
func FuzzAdminRequests(f *testing.F) {
	for _, ep := range adminEndpoints {
		f.Add(ep.body)
	}
	for _, s := range []string{`{"name":"sales","overflow_group":"sales"}`, `{"choices":{"":"hangup"},"prompt":"x"}`,
		`{"level":-9223372036854775808}`, `{"ring_timeout_sec":9223372036854775807}`, `{"route_ivr":"","route_group":null}`,
		`{"prompt":"x","choices":{"1":"menu:x","2":"agent:"}}`, `[]`, `null`, `{"name":"\u0000"}`, `{"on_fail":"group:"}`} {
		f.Add(s)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, ":memory:")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	// A session made directly: no scrypt per run.
	const tok = "fuzz-admin-token"
	for _, a := range []callcenter.Agent{{WorkNumber: "9001", Name: "Root", Role: callcenter.RoleAdmin}, {WorkNumber: "1001", Name: "A"}} {
		if _, err := st.CreateAgent(ctx, a); err != nil {
			f.Fatal(err)
		}
	}
	if err := st.CreateSession(ctx, callcenter.Session{TokenHash: callcenter.HashToken(tok), WorkNumber: "9001", CreatedAt: t0}); err != nil {
		f.Fatal(err)
	}
	if _, err := st.CreateGroup(ctx, callcenter.SkillGroup{Name: "g"}); err != nil {
		f.Fatal(err)
	}
	srv := New(st, WithReloader(&fakeReloader{}))
	f.Cleanup(func() { srv.Close() })
	h := srv.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		for _, ep := range adminEndpoints {
			if ep.body == "" || ep.path == "/v1/admin/agents" || strings.HasPrefix(ep.path, "/v1/admin/agents/") {
				// Agent bodies with a valid password cost an scrypt each; their
				// decoding is the same decodeJSON.
				continue
			}
			req := httptest.NewRequest(ep.method, ep.path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s %s %q: %d %s", ep.method, ep.path, body, rec.Code, rec.Body)
			}
		}
	})
}
