package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/api"
	"github.com/agentphone/agentphone/callcenter/crm"
)

// crmClock is the CRM service's clock, moved by the test.
type crmClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *crmClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *crmClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newCRMEnv is newEnv with the CRM service on the same store, its events
// going through a Forwarder as callcenterd wires them.
func newCRMEnv(t *testing.T) (*env, *crm.Service, *crmClock) {
	t.Helper()
	st := openStore(t)
	st.addAgent(t, callcenter.Agent{WorkNumber: "1001", Name: "Alice", PasswordHash: testHash()})
	st.addAgent(t, callcenter.Agent{WorkNumber: "1002", Name: "Bob", Role: callcenter.RoleSupervisor, PasswordHash: testHash()})
	st.addAgent(t, callcenter.Agent{WorkNumber: "1003", Name: "Carol", PasswordHash: testHash()})
	clk := &crmClock{t: t0}
	fwd := &Forwarder{}
	svc := crm.New(st, crm.WithClock(clk.now), crm.WithLocation(time.UTC), crm.WithSink(fwd))
	logs := &syncBuffer{}
	srv := New(st, WithLogger(slog.New(slog.NewTextHandler(logs, nil))), WithClock(func() time.Time { return t0 }), WithCRM(svc))
	srv.dummyHash = testHash
	fwd.Set(srv)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		srv.Close()
		ts.Close()
	})
	return &env{t: t, srv: srv, ts: ts, st: st, log: logs}, svc, clk
}

func answeredInbound(id, caller, agent string, at time.Time) callcenter.CallRecord {
	return callcenter.CallRecord{CallID: id, Type: callcenter.CallInbound, Caller: caller, Callee: "4008001234",
		Agent: agent, Number: "4008001234", StartedAt: at.Add(-10 * time.Second), AnsweredAt: at,
		EndedAt: at.Add(time.Minute), Result: callcenter.ResultAnswered, HangupBy: callcenter.PartyCaller}
}

// want checks an answer's status and, for errors, its code.
func (e *env) want(method, path, token, body string, status int, code string) []byte {
	e.t.Helper()
	got, b := e.do(method, path, token, body)
	if got != status {
		e.t.Fatalf("%s %s: %d %s, want %d", method, path, got, b, status)
	}
	if code != "" {
		if c := decodeError(e.t, b).Code; c != code {
			e.t.Fatalf("%s %s: code %q, want %q (%s)", method, path, c, code, b)
		}
	}
	return b
}

func TestCRMEndpointsNeedService(t *testing.T) {
	e := newEnv(t)
	tok := e.login("1001", "pc").Token
	for _, tc := range []struct{ method, path, body string }{
		{http.MethodPost, "/v1/calls/c1/notes/open", ""},
		{http.MethodPost, "/v1/calls/c1/notes", `{"text":"x"}`},
		{http.MethodPut, "/v1/notes/1", `{"text":"x"}`},
		{http.MethodGet, "/v1/notes?customer=13800138000", ""},
		{http.MethodGet, "/v1/callbacks", ""},
		{http.MethodDelete, "/v1/callbacks/1", ""},
		{http.MethodGet, "/v1/customers?q=1", ""},
		{http.MethodGet, "/v1/customers/by-number/13800138000", ""},
		{http.MethodPost, "/v1/calls/c1/customer", `{}`},
	} {
		b := e.want(tc.method, tc.path, tok, tc.body, http.StatusNotFound, api.CodeNotFound)
		if m := decodeError(t, b).Message; m != noCRMMessage {
			t.Errorf("%s %s: message %q", tc.method, tc.path, m)
		}
		e.want(tc.method, tc.path, "", tc.body, http.StatusUnauthorized, api.CodeUnauthorized)
	}
}

func TestCRMNotes(t *testing.T) {
	e, _, _ := newCRMEnv(t)
	e.st.addRecords(t,
		answeredInbound("c1", "13800138000", "1001", t0.Add(-time.Hour)),
		answeredInbound("c2", "13900000000", "1001", t0.Add(-30*time.Minute)),
		callcenter.CallRecord{CallID: "t1", ParentID: "c1", Type: callcenter.CallInternal, Caller: "1001", Callee: "1002",
			Agent: "1002", StartedAt: t0.Add(-50 * time.Minute), AnsweredAt: t0.Add(-49 * time.Minute),
			EndedAt: t0.Add(-40 * time.Minute), Result: callcenter.ResultAnswered})
	alice, bob, carol := e.login("1001", "pc").Token, e.login("1002", "pc").Token, e.login("1003", "pc").Token

	box := decodeJSONBody[api.NoteBox](t, e.want(http.MethodPost, "/v1/calls/c1/notes/open", alice, "", http.StatusOK, ""))
	if !box.Open || box.CallID != "c1" || box.Customer != "13800138000" || box.Notes == nil && len(box.Notes) != 0 {
		t.Fatalf("opened %+v", box)
	}
	note := decodeJSONBody[api.Note](t, e.want(http.MethodPost, "/v1/calls/c1/notes", alice, `{"text":"wants a refund"}`, http.StatusCreated, ""))
	if note.ID == 0 || note.Agent != "1001" || note.AgentName != "Alice" || !note.Editable || note.Customer != "13800138000" {
		t.Fatalf("added %+v", note)
	}
	e.want(http.MethodPost, "/v1/calls/c2/notes/open", alice, "", http.StatusConflict, api.CodeNoteBoxOpen)
	e.want(http.MethodPost, "/v1/calls/c2/notes", alice, `{"text":"x"}`, http.StatusConflict, api.CodeNoteBoxOpen)
	// A new login (the softphone crashed with the box open) starts with
	// no box open; then the box of c1 is opened again.
	alice = e.login("1001", "pc").Token
	e.want(http.MethodPost, "/v1/calls/c2/notes/open", alice, "", http.StatusOK, "")
	e.want(http.MethodPost, "/v1/calls/c2/notes/close", alice, "", http.StatusOK, "")
	e.want(http.MethodPost, "/v1/calls/c1/notes/open", alice, "", http.StatusOK, "")
	e.want(http.MethodPost, "/v1/calls/c1/notes", alice, `{"text":" "}`, http.StatusBadRequest, api.CodeBadRequest)
	e.want(http.MethodPost, "/v1/calls/c1/notes/close", alice, "", http.StatusOK, "")
	e.want(http.MethodPost, "/v1/calls/c1/notes", alice, `{"text":"x"}`, http.StatusConflict, api.CodeBadState)
	e.want(http.MethodPost, "/v1/calls/c1/notes/open", carol, "", http.StatusConflict, api.CodeNotInCall)

	// After the transfer, Bob reads Alice's note, cannot edit it, adds his.
	box = decodeJSONBody[api.NoteBox](t, e.want(http.MethodPost, "/v1/calls/t1/notes/open", bob, "", http.StatusOK, ""))
	if box.CallID != "c1" || len(box.Notes) != 1 || box.Notes[0].Editable || box.Notes[0].AgentName != "Alice" {
		t.Fatalf("Bob's box %+v", box)
	}
	path := fmt.Sprintf("/v1/notes/%d", note.ID)
	e.want(http.MethodPut, path, bob, `{"text":"x"}`, http.StatusConflict, api.CodeNoteReadOnly)
	e.want(http.MethodPost, "/v1/calls/c1/notes", bob, `{"text":"refund approved"}`, http.StatusCreated, "")
	edited := decodeJSONBody[api.Note](t, e.want(http.MethodPut, path, alice, `{"text":"wants a refund of ¥100"}`, http.StatusOK, ""))
	if edited.Text != "wants a refund of ¥100" || edited.UpdatedAt.IsZero() {
		t.Fatalf("edited %+v", edited)
	}
	notes := decodeJSONBody[[]api.Note](t, e.want(http.MethodGet, "/v1/notes?customer="+url.QueryEscape("138 0013 8000"), alice, "", http.StatusOK, ""))
	if len(notes) != 2 || notes[0].Agent != "1002" || notes[0].Editable || notes[1].Agent != "1001" || !notes[1].Editable {
		t.Fatalf("notes %+v", notes)
	}

	for _, tc := range []struct{ method, path, body string }{
		{http.MethodPost, "/v1/calls/c1/notes", `{"text":`},
		{http.MethodPost, "/v1/calls/c1/notes", `{"txt":"x"}`},
		{http.MethodPost, "/v1/calls/c1/notes", `{"text":1}`},
		{http.MethodPut, "/v1/notes/abc", `{"text":"x"}`},
		{http.MethodPut, "/v1/notes/0", `{"text":"x"}`},
		{http.MethodPut, path, `[]`},
		{http.MethodGet, "/v1/notes", ""},
		{http.MethodGet, "/v1/notes?customer=abc", ""},
	} {
		b := e.want(tc.method, tc.path, alice, tc.body, http.StatusBadRequest, api.CodeBadRequest)
		if decodeError(t, b).Message == "" {
			t.Errorf("%s %s: no message", tc.method, tc.path)
		}
	}
	e.want(http.MethodPut, "/v1/notes/9999", alice, `{"text":"x"}`, http.StatusNotFound, api.CodeNotFound)
	e.want(http.MethodDelete, path, alice, "", http.StatusMethodNotAllowed, api.CodeBadRequest)

	// The notes are part of the call's record, oldest first, also on
	// Bob's transfer leg; a call without notes has none.
	recs := decodeJSONBody[[]api.CallRecord](t, e.want(http.MethodGet, "/v1/calls", alice, "", http.StatusOK, ""))
	byID := map[string]api.CallRecord{}
	for _, r := range recs {
		byID[r.CallID] = r
	}
	if ns := byID["c1"].Notes; len(ns) != 2 || ns[0].Text != "wants a refund of ¥100" || !ns[0].Editable || ns[1].Agent != "1002" {
		t.Errorf("c1's record notes %+v", ns)
	}
	if ns := byID["c2"].Notes; len(ns) != 0 {
		t.Errorf("c2's record notes %+v, want none", ns)
	}
	recs = decodeJSONBody[[]api.CallRecord](t, e.want(http.MethodGet, "/v1/calls", bob, "", http.StatusOK, ""))
	if len(recs) != 1 || recs[0].CallID != "t1" || recs[0].ParentID != "c1" || len(recs[0].Notes) != 2 || recs[0].Notes[0].Editable {
		t.Errorf("Bob's records %+v: want the transfer leg with the customer call's two notes", recs)
	}
}

func TestCRMCallbacksAndEvents(t *testing.T) {
	e, svc, clk := newCRMEnv(t)
	e.st.addRecords(t, answeredInbound("c1", "13800138000", "1001", t0.Add(-time.Hour)))
	alice, carol := e.login("1001", "pc").Token, e.login("1003", "pc").Token
	ws := e.dial(alice)
	if ev := readEvent(t, ws); ev.Type != api.EventSnapshot {
		t.Fatalf("first event %s", ev.Type)
	}
	ctx := context.Background()
	if _, err := svc.CreateCustomer(ctx, "1001", callcenter.Customer{Name: "张伟", Numbers: []string{"13800138000"}}); err != nil {
		t.Fatal(err)
	}
	body := func(in api.CallbackInput) string {
		b, _ := json.Marshal(in)
		return string(b)
	}
	cb := decodeJSONBody[api.Callback](t, e.want(http.MethodPost, "/v1/callbacks", alice,
		body(api.CallbackInput{CallID: "c1", DueAt: t0.Add(time.Hour), Remark: "send the quote"}), http.StatusCreated, ""))
	if cb.Number != "13800138000" || cb.Name != "张伟" || cb.State != api.CallbackPending || cb.CallID != "c1" {
		t.Fatalf("created %+v", cb)
	}
	e.want(http.MethodPost, "/v1/callbacks", alice, body(api.CallbackInput{Number: "13800138000", DueAt: t0.Add(-time.Minute)}), http.StatusConflict, api.CodeCallbackInvalid)
	e.want(http.MethodPost, "/v1/callbacks", alice, body(api.CallbackInput{Number: "x", DueAt: t0.Add(time.Hour)}), http.StatusConflict, api.CodeCallbackInvalid)
	e.want(http.MethodPost, "/v1/callbacks", carol, body(api.CallbackInput{CallID: "c1", DueAt: t0.Add(time.Hour)}), http.StatusConflict, api.CodeNotInCall)
	e.want(http.MethodPost, "/v1/callbacks", alice, `{"due_at":"tomorrow"}`, http.StatusBadRequest, api.CodeBadRequest)
	other := decodeJSONBody[api.Callback](t, e.want(http.MethodPost, "/v1/callbacks", alice,
		body(api.CallbackInput{Number: "13900000000", DueAt: t0.Add(2 * time.Hour)}), http.StatusCreated, ""))

	list := decodeJSONBody[[]api.Callback](t, e.want(http.MethodGet, "/v1/callbacks?day=2025-03-01", alice, "", http.StatusOK, ""))
	if len(list) != 2 || list[0].ID != cb.ID || list[1].ID != other.ID {
		t.Fatalf("day list %+v", list)
	}
	if today := decodeJSONBody[[]api.Callback](t, e.want(http.MethodGet, "/v1/callbacks", alice, "", http.StatusOK, "")); len(today) != 2 {
		t.Fatalf("today's list %+v", today)
	}
	if next := decodeJSONBody[[]api.Callback](t, e.want(http.MethodGet, "/v1/callbacks?day=2025-03-02", alice, "", http.StatusOK, "")); len(next) != 0 {
		t.Fatalf("next day's list %+v", next)
	}
	if carols := decodeJSONBody[[]api.Callback](t, e.want(http.MethodGet, "/v1/callbacks?day=2025-03-01", carol, "", http.StatusOK, "")); len(carols) != 0 {
		t.Fatalf("Carol sees %+v", carols)
	}
	e.want(http.MethodGet, "/v1/callbacks?day=1.3.2025", alice, "", http.StatusBadRequest, api.CodeBadRequest)

	// The due reminder reaches Alice's stream, with the customer's name.
	clk.add(time.Hour)
	svc.Tick(ctx)
	ev := readEvent(t, ws)
	if ev.Type != api.EventCallbackDue {
		t.Fatalf("event %s, want %s", ev.Type, api.EventCallbackDue)
	}
	if got := decodeData[api.Callback](t, ev); got.ID != cb.ID || got.Name != "张伟" || got.Remark != "send the quote" {
		t.Fatalf("due %+v", got)
	}
	// A completed call to the number makes it done.
	call := answeredInbound("c2", "13800138000", "1001", clk.now())
	e.st.addRecords(t, call)
	if err := svc.CallCompleted(ctx, call); err != nil {
		t.Fatal(err)
	}
	ev = readEvent(t, ws)
	if got := decodeData[api.Callback](t, ev); ev.Type != api.EventCallbackDone || got.ID != cb.ID || got.State != api.CallbackDone || got.DoneCall != "c2" {
		t.Fatalf("event %s %+v, want done by c2", ev.Type, got)
	}

	// Reschedule and delete: the owner's only; a done one stays done.
	p := fmt.Sprintf("/v1/callbacks/%d", other.ID)
	moved := decodeJSONBody[api.Callback](t, e.want(http.MethodPut, p, alice, body(api.CallbackInput{DueAt: t0.Add(5 * time.Hour), Remark: "later"}), http.StatusOK, ""))
	if !moved.DueAt.Equal(t0.Add(5*time.Hour)) || moved.Remark != "later" || moved.Number != "13900000000" {
		t.Fatalf("moved %+v", moved)
	}
	e.want(http.MethodPut, fmt.Sprintf("/v1/callbacks/%d", cb.ID), alice, body(api.CallbackInput{DueAt: t0.Add(5 * time.Hour)}), http.StatusConflict, api.CodeBadState)
	e.want(http.MethodPut, p, carol, body(api.CallbackInput{DueAt: t0.Add(5 * time.Hour)}), http.StatusNotFound, api.CodeNotFound)
	e.want(http.MethodDelete, p, carol, "", http.StatusNotFound, api.CodeNotFound)
	e.want(http.MethodDelete, p, alice, "", http.StatusNoContent, "")
	e.want(http.MethodDelete, p, alice, "", http.StatusNotFound, api.CodeNotFound)
	e.want(http.MethodDelete, "/v1/callbacks/x", alice, "", http.StatusBadRequest, api.CodeBadRequest)
}

func TestCRMCustomers(t *testing.T) {
	e, _, _ := newCRMEnv(t)
	e.st.addRecords(t, answeredInbound("c1", "13800138000", "1001", t0.Add(-time.Hour)))
	alice, bob, carol := e.login("1001", "pc").Token, e.login("1002", "pc").Token, e.login("1003", "pc").Token

	acme := decodeJSONBody[api.Customer](t, e.want(http.MethodPost, "/v1/customers", alice,
		`{"name":"Acme","numbers":["021-6123-4567"],"company":"Acme Ltd","tags":["vip"],"fields":{"city":"Shanghai"}}`, http.StatusCreated, ""))
	if acme.ID == 0 || acme.Owner != "1001" || acme.Numbers[0] != "02161234567" || acme.Fields["city"] != "Shanghai" || acme.Created.IsZero() {
		t.Fatalf("created %+v", acme)
	}
	e.want(http.MethodPost, "/v1/customers", alice, `{"name":"again","numbers":["02161234567"]}`, http.StatusConflict, api.CodeExists)
	e.want(http.MethodPost, "/v1/customers", alice, `{"name":"no number","numbers":[]}`, http.StatusBadRequest, api.CodeBadRequest)
	e.want(http.MethodPost, "/v1/customers", alice, `{"name":"x","numbers":"13800138000"}`, http.StatusBadRequest, api.CodeBadRequest)
	zhang := decodeJSONBody[api.Customer](t, e.want(http.MethodPost, "/v1/calls/c1/customer", alice, `{"name":"张伟"}`, http.StatusCreated, ""))
	if zhang.Numbers[0] != "13800138000" || zhang.Owner != "1001" {
		t.Fatalf("added caller %+v", zhang)
	}
	e.want(http.MethodPost, "/v1/calls/c1/customer", alice, `{}`, http.StatusConflict, api.CodeExists)
	e.want(http.MethodPost, "/v1/calls/c1/customer", carol, `{}`, http.StatusConflict, api.CodeNotInCall)

	for _, tc := range []struct {
		query string
		token string
		want  []int64
	}{
		{"q=138", alice, []int64{zhang.ID}},
		{"q=" + url.QueryEscape("张"), bob, []int64{zhang.ID}},
		{"q=4567", bob, []int64{acme.ID}},
		{"", bob, []int64{acme.ID, zhang.ID}},
		{"mine=1", bob, nil},
		{"mine=true&q=acme", alice, []int64{acme.ID}},
	} {
		cs := decodeJSONBody[[]api.Customer](t, e.want(http.MethodGet, "/v1/customers?"+tc.query, tc.token, "", http.StatusOK, ""))
		var ids []int64
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
		if !reflect.DeepEqual(ids, tc.want) {
			t.Errorf("search %q = %v, want %v", tc.query, ids, tc.want)
		}
	}
	e.want(http.MethodGet, "/v1/customers?mine=perhaps", alice, "", http.StatusBadRequest, api.CodeBadRequest)
	e.want(http.MethodGet, "/v1/customers?q="+strings.Repeat("x", maxSearchQuery+1), alice, "", http.StatusBadRequest, api.CodeBadRequest)

	card := decodeJSONBody[api.CustomerCard](t, e.want(http.MethodGet, fmt.Sprintf("/v1/customers/%d", zhang.ID), carol, "", http.StatusOK, ""))
	if card.Customer.Name != "张伟" || len(card.Calls) != 1 || card.Calls[0].CallID != "c1" || card.Notes == nil || card.Callbacks == nil {
		t.Fatalf("card %+v", card)
	}
	byNum := decodeJSONBody[api.CustomerCard](t, e.want(http.MethodGet, "/v1/customers/by-number/13800138000", carol, "", http.StatusOK, ""))
	if byNum.Customer.ID != zhang.ID {
		t.Fatalf("by number %+v", byNum)
	}
	e.want(http.MethodGet, "/v1/customers/by-number/13700000000", carol, "", http.StatusNotFound, api.CodeNotFound)
	e.want(http.MethodGet, "/v1/customers/by-number/abc", carol, "", http.StatusBadRequest, api.CodeBadRequest)
	e.want(http.MethodGet, "/v1/customers/9999", carol, "", http.StatusNotFound, api.CodeNotFound)

	p := fmt.Sprintf("/v1/customers/%d", acme.ID)
	e.want(http.MethodPut, p, carol, `{"name":"Mine now","numbers":["02161234567"]}`, http.StatusForbidden, api.CodeForbidden)
	e.want(http.MethodPut, p, alice, `{"name":"Acme","numbers":["02161234567"],"owner":"1003"}`, http.StatusForbidden, api.CodeForbidden)
	e.want(http.MethodPut, p, alice, `{"id":5,"name":"Acme","numbers":["02161234567"]}`, http.StatusBadRequest, api.CodeBadRequest)
	up := decodeJSONBody[api.Customer](t, e.want(http.MethodPut, p, bob, `{"name":"Acme Group","numbers":["02161234567","4008001234"],"owner":"1003"}`, http.StatusOK, ""))
	if up.Name != "Acme Group" || up.Owner != "1003" || len(up.Numbers) != 2 || up.Company != "" {
		t.Fatalf("supervisor's update %+v", up)
	}
}

// FuzzCRMBodies feeds arbitrary bodies to the decoders of the CRM
// endpoints: never a panic, and whatever is accepted re-encodes to itself.
func FuzzCRMBodies(f *testing.F) {
	for _, s := range []string{
		`{"text":"hello"}`, `{"text":"\u0000"}`, `{"due_at":"2025-03-01T10:00:00+08:00","number":"138"}`,
		`{"due_at":"x"}`, `{"name":"n","numbers":["1"],"fields":{"a":"b"},"tags":["t"]}`, `{"fields":{"a":1}}`,
		`{"name":"x"} {}`, `[]`, `null`, ``, `{"created":"2025-01-01T00:00:00Z"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		check := func(v, again any) {
			r := httptest.NewRequest(http.MethodPost, "/v1/x", strings.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			if err := decodeJSON(httptest.NewRecorder(), r, v); err != nil {
				if err.Error() == "" {
					t.Fatal("empty error message")
				}
				return
			}
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("accepted %q as %+v, which does not marshal: %v", body, v, err)
			}
			if err := json.Unmarshal(b, again); err != nil {
				t.Fatalf("accepted %q as %s, which does not decode: %v", body, b, err)
			}
			b2, _ := json.Marshal(again)
			if string(b) != string(b2) {
				t.Fatalf("accepted %q: %s then %s", body, b, b2)
			}
		}
		check(&api.NoteInput{}, &api.NoteInput{})
		check(&api.CallbackInput{}, &api.CallbackInput{})
		check(&api.Customer{}, &api.Customer{})
		check(&api.AddCaller{}, &api.AddCaller{})
	})
}

// FuzzParseDay: any day parameter parses to a midnight or fails with a
// message.
func FuzzParseDay(f *testing.F) {
	for _, s := range []string{"", "2025-03-01", "2025-02-30", "2025-3-1", "x", "2025-03-01T00:00:00Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d, err := parseDay(v)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if v == "" != d.IsZero() {
			t.Fatalf("day %q parsed as %s", v, d)
		}
		if !d.IsZero() && (d.Hour() != 0 || d.Minute() != 0 || d.Format(time.DateOnly) != v) {
			t.Fatalf("day %q parsed as %s", v, d)
		}
	})
}
