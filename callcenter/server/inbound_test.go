package server

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/api"
)

func newCenterEnv(t *testing.T) (*env, *fakeCenter) {
	t.Helper()
	fc := newFakeCenter()
	e := newEnv(t, WithCenter(fc))
	fc.srv = e.srv
	t.Cleanup(func() {
		if n := fc.reentry.Load(); n > 0 {
			t.Errorf("the server called the center %d times from inside a push", n)
		}
	})
	return e, fc
}

func decodeJSONBody[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("body %s: %v", b, err)
	}
	return v
}

func TestInboundEndpointsNeedCenter(t *testing.T) {
	e := newEnv(t)
	tok := e.login("1001", "pc").Token
	for _, tc := range []struct{ method, path, body string }{
		{http.MethodPut, "/v1/me/status", `{"phone":"idle"}`},
		{http.MethodPost, "/v1/me/acw/finish", ""},
		{http.MethodPost, "/v1/me/acw/extend", `{"seconds":30}`},
		{http.MethodGet, "/v1/me/groups", ""},
		{http.MethodGet, "/v1/statuses", ""},
	} {
		status, b := e.do(tc.method, tc.path, tok, tc.body)
		if status != http.StatusNotFound || decodeError(t, b).Code != api.CodeNotFound {
			t.Errorf("%s %s without a center: %d %s", tc.method, tc.path, status, b)
		}
		if status, _ := e.do(tc.method, tc.path, "", tc.body); status != http.StatusUnauthorized {
			t.Errorf("%s %s without a token: %d", tc.method, tc.path, status)
		}
	}
	// History needs only the store.
	if status, b := e.do(http.MethodGet, "/v1/history", tok, ""); status != http.StatusOK || string(b) != "[]\n" {
		t.Errorf("history without a center: %d %s", status, b)
	}
	// The foundation's snapshot: no inbound fields.
	c := e.dial(tok)
	ev := readEvent(t, c)
	for _, field := range []string{`"status"`, `"figures"`, `"groups"`, `"statuses"`} {
		if strings.Contains(string(ev.Data), field) {
			t.Errorf("snapshot without a center has %s: %s", field, ev.Data)
		}
	}
}

// loggedIn is agent 1001's status right after login.
var loggedIn = callcenter.AgentStatus{Agent: "1001", Presence: callcenter.PresenceOnline, Phone: callcenter.PhoneBusy, Since: t0}

func TestStatusChange(t *testing.T) {
	// One server and login for the table: scrypt makes logins slow.
	e, fc := newCenterEnv(t)
	tok := e.login("1001", "pc").Token
	ringing := callcenter.AgentStatus{Agent: "1001", Presence: callcenter.PresenceOnline,
		Phone: callcenter.PhoneIdle, Activity: callcenter.ActivityRinging, Since: t0}
	talking := ringing
	talking.Activity = callcenter.ActivityTalking
	for _, tc := range []struct {
		name    string
		from    *callcenter.AgentStatus // nil: as logged in (online, busy)
		fail    error
		body    string
		status  int
		code    string
		message string // part of the error message
		want    func(api.AgentStatus) bool
		asked   bool // whether the center's ChangeStatus is called
	}{
		{name: "idle", body: `{"phone":"idle"}`, status: 200, asked: true,
			want: func(s api.AgentStatus) bool { return s.Phone == "idle" && s.Presence == "online" }},
		{name: "custom", body: `{"presence":"custom","custom":"meeting"}`, status: 200, asked: true,
			want: func(s api.AgentStatus) bool { return s.Presence == "custom" && s.Custom == "meeting" }},
		{name: "custom alone implies presence", body: `{"custom":"break"}`, status: 200, asked: true,
			want: func(s api.AgentStatus) bool { return s.Presence == "custom" && s.Custom == "break" }},
		{name: "auto answer", body: `{"auto_answer":true}`, status: 200, asked: true,
			want: func(s api.AgentStatus) bool { return s.AutoAnswer && s.Phone == "busy" }},
		{name: "offline", body: `{"presence":"offline"}`, status: 200, asked: true,
			want: func(s api.AgentStatus) bool { return s.Presence == "offline" }},
		{name: "nothing asked", body: `{}`, status: 200,
			want: func(s api.AgentStatus) bool { return s.Presence == "online" && s.Phone == "busy" }},
		{name: "unknown presence", body: `{"presence":"away"}`, status: 400, code: api.CodeBadRequest, message: `presence: want offline, online or custom, got "away"`},
		{name: "unknown phone", body: `{"phone":"sleeping"}`, status: 400, code: api.CodeBadRequest, message: `phone: want busy or idle`},
		{name: "unknown custom", body: `{"custom":"nap"}`, status: 400, code: api.CodeBadRequest, message: `unknown custom status "nap"`},
		{name: "custom without name", body: `{"presence":"custom"}`, status: 400, code: api.CodeBadRequest, message: "needs custom"},
		{name: "custom with online", body: `{"presence":"online","custom":"meeting"}`, status: 400, code: api.CodeBadRequest, message: "given with presence"},
		{name: "unknown field", body: `{"mood":"happy"}`, status: 400, code: api.CodeBadRequest, message: `unknown field "mood"`},
		{name: "wrong type", body: `{"auto_answer":"yes"}`, status: 400, code: api.CodeBadRequest, message: `field "auto_answer"`},
		{name: "not JSON", body: `phone=idle`, status: 400, code: api.CodeBadRequest, message: "malformed JSON"},
		{name: "answering off while ringing", from: &ringing, body: `{"phone":"busy"}`, status: 409, code: CodeRefused,
			message: "cannot switch answering off while a call is ringing", asked: true},
		{name: "answering off while talking", from: &talking, body: `{"phone":"busy"}`, status: 409, code: CodeRefused,
			message: "while on a call", asked: true},
		{name: "center says invalid", fail: fmt.Errorf("%w: custom status removed", callcenter.ErrInvalid),
			body: `{"phone":"idle"}`, status: 400, code: api.CodeBadRequest, message: "custom status removed", asked: true},
		{name: "center fails", fail: fmt.Errorf("disk on fire"), body: `{"phone":"idle"}`, status: 500, code: api.CodeInternal,
			message: "internal error", asked: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			from := loggedIn
			if tc.from != nil {
				from = *tc.from
			}
			fc.reset(from)
			fc.fail(tc.fail)
			status, b := e.do(http.MethodPut, "/v1/me/status", tok, tc.body)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, b)
			}
			if tc.status == 200 {
				if st := decodeJSONBody[api.AgentStatus](t, b); !tc.want(st) {
					t.Fatalf("status %+v", st)
				}
			} else {
				er := decodeError(t, b)
				if er.Code != tc.code || !strings.Contains(er.Message, tc.message) {
					t.Fatalf("error %+v, want code %s with %q", er, tc.code, tc.message)
				}
				if strings.Contains(er.Message, "disk") {
					t.Fatalf("internal cause leaked: %+v", er)
				}
			}
			if asked := slices.Contains(fc.calls(), "change 1001"); asked != tc.asked {
				t.Fatalf("center asked: %v, want %v (%v)", asked, tc.asked, fc.calls())
			}
		})
	}
}

func TestStatusChangeReachesCenterTyped(t *testing.T) {
	e, fc := newCenterEnv(t)
	tok := e.login("1001", "pc").Token
	if status, b := e.do(http.MethodPut, "/v1/me/status", tok, `{"custom":"meeting","phone":"idle","auto_answer":false}`); status != 200 {
		t.Fatalf("%d %s", status, b)
	}
	fc.mu.Lock()
	ch := fc.changes[0]
	fc.mu.Unlock()
	if ch.Presence == nil || *ch.Presence != callcenter.PresenceCustom || ch.Custom == nil || *ch.Custom != "meeting" ||
		ch.Phone == nil || *ch.Phone != callcenter.PhoneIdle || ch.AutoAnswer == nil || *ch.AutoAnswer {
		t.Fatalf("change %+v", ch)
	}
}

func TestACW(t *testing.T) {
	e, fc := newCenterEnv(t)
	tok := e.login("1001", "pc").Token
	acw := callcenter.AgentStatus{Agent: "1001", Presence: callcenter.PresenceOnline, Phone: callcenter.PhoneIdle,
		Activity: callcenter.ActivityACW, ACWUntil: t0.Add(30 * time.Second), Since: t0}
	for _, tc := range []struct {
		name   string
		inACW  bool
		path   string
		body   string
		status int
		code   string
		want   func(api.AgentStatus) bool
		called string // the center call made, "" for none
	}{
		{name: "finish", inACW: true, path: "/v1/me/acw/finish", status: 200, called: "finish 1001",
			want: func(s api.AgentStatus) bool { return s.Activity == "none" && s.ACWUntil.IsZero() }},
		{name: "finish outside ACW", path: "/v1/me/acw/finish", status: 409, code: CodeRefused, called: "finish 1001"},
		{name: "extend", inACW: true, path: "/v1/me/acw/extend", body: `{"seconds":60}`, status: 200, called: "extend 1001 1m0s",
			want: func(s api.AgentStatus) bool { return s.Activity == "acw" && s.ACWUntil.Equal(t0.Add(90*time.Second)) }},
		{name: "extend outside ACW", path: "/v1/me/acw/extend", body: `{"seconds":60}`, status: 409, code: CodeRefused, called: "extend 1001 1m0s"},
		{name: "negative extend", inACW: true, path: "/v1/me/acw/extend", body: `{"seconds":-5}`, status: 400, code: api.CodeBadRequest},
		{name: "zero extend", inACW: true, path: "/v1/me/acw/extend", body: `{"seconds":0}`, status: 400, code: api.CodeBadRequest},
		{name: "huge extend", inACW: true, path: "/v1/me/acw/extend", body: `{"seconds":86400}`, status: 400, code: api.CodeBadRequest},
		{name: "extend without body", inACW: true, path: "/v1/me/acw/extend", status: 400, code: api.CodeBadRequest},
		{name: "fractional extend", inACW: true, path: "/v1/me/acw/extend", body: `{"seconds":1.5}`, status: 400, code: api.CodeBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			from := loggedIn
			if tc.inACW {
				from = acw
			}
			fc.reset(from)
			status, b := e.do(http.MethodPost, tc.path, tok, tc.body)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, b)
			}
			if tc.want != nil {
				if st := decodeJSONBody[api.AgentStatus](t, b); !tc.want(st) {
					t.Fatalf("status %+v", st)
				}
			} else if er := decodeError(t, b); er.Code != tc.code {
				t.Fatalf("error %+v, want code %s", er, tc.code)
			}
			calls := fc.calls()
			if tc.called == "" && len(calls) != 0 || tc.called != "" && !slices.Contains(calls, tc.called) {
				t.Fatalf("center calls %v, want %q", calls, tc.called)
			}
		})
	}
}

func TestGroupsAndStatuses(t *testing.T) {
	e, fc := newCenterEnv(t)
	fc.groups["1001"] = []callcenter.GroupFigures{
		{Group: "sales", Waiting: 3, LongestWait: 90 * time.Second, Idle: 1, Busy: 2, Talking: 4},
		{Group: "vip"}, // no label known: the name stands in
	}
	tok := e.login("1001", "pc").Token
	status, b := e.do(http.MethodGet, "/v1/me/groups", tok, "")
	if status != 200 {
		t.Fatalf("%d %s", status, b)
	}
	want := []api.Group{
		{Name: "sales", Label: "售前咨询", Waiting: 3, LongestWaitSec: 90, Idle: 1, Busy: 2, Talking: 4},
		{Name: "vip", Label: "vip"},
	}
	if got := decodeJSONBody[[]api.Group](t, b); !slices.Equal(got, want) {
		t.Fatalf("groups %+v, want %+v", got, want)
	}
	// An agent in no group gets an empty list, not null.
	if _, b := e.do(http.MethodGet, "/v1/me/groups", e.login("1002", "pc").Token, ""); string(b) != "[]\n" {
		t.Fatalf("no groups: %s", b)
	}
	status, b = e.do(http.MethodGet, "/v1/statuses", tok, "")
	wantSt := []api.CustomStatus{{Name: "meeting", Label: "会议中"}, {Name: "break", Label: "小休"}}
	if got := decodeJSONBody[[]api.CustomStatus](t, b); status != 200 || !slices.Equal(got, wantSt) {
		t.Fatalf("statuses %d %+v", status, got)
	}
}

func TestLoginLogoutTellCenter(t *testing.T) {
	e, fc := newCenterEnv(t)
	tok := e.login("1001", "pc").Token
	if got := fc.Status("1001"); got.Presence != callcenter.PresenceOnline || got.Phone != callcenter.PhoneBusy {
		t.Fatalf("after login %+v", got)
	}
	if status, _ := e.do(http.MethodPost, "/v1/logout", tok, ""); status != http.StatusNoContent {
		t.Fatal(status)
	}
	if got, want := fc.calls(), []string{"login 1001", "logout 1001"}; !slices.Equal(got, want) {
		t.Fatalf("center calls %v, want %v", got, want)
	}
}

// A second login takes over: the first device hears a notice, then the
// takeover; the center sees the agent log out and in again.
func TestTakeoverWithCenter(t *testing.T) {
	e, fc := newCenterEnv(t)
	first := e.login("1001", "pc")
	c := e.dial(first.Token)
	readEvent(t, c) // snapshot
	e.login("1001", "mobile")

	ev := readEvent(t, c)
	if n := decodeData[api.Notice](t, ev); ev.Type != api.EventNotice || ev.Seq != 2 || n.Code != NoticeTakeover || n.Message == "" {
		t.Fatalf("want a takeover notice, got %+v", ev)
	}
	ev = readEvent(t, c)
	if ev.Type != api.EventTakeover || ev.Seq != 3 {
		t.Fatalf("want takeover, got %+v", ev)
	}
	if st := closeStatus(t, c); st != websocket.StatusNormalClosure {
		t.Fatalf("close status %v", st)
	}
	if got, want := fc.calls(), []string{"login 1001", "logout 1001", "login 1001"}; !slices.Equal(got, want) {
		t.Fatalf("center calls %v, want %v", got, want)
	}
}

func TestSnapshotAndPushes(t *testing.T) {
	e, fc := newCenterEnv(t)
	fc.figures["1001"] = callcenter.AgentFigures{Agent: "1001", TalkTime: 95 * time.Second, Calls: 3,
		BusyTotal: time.Hour, IdleTotal: 30 * time.Minute, Missed: 1}
	fc.groups["1001"] = []callcenter.GroupFigures{{Group: "sales", Waiting: 2, LongestWait: 15 * time.Second, Idle: 1}}
	tok := e.login("1001", "pc").Token
	c := e.dial(tok)
	snap := decodeData[api.Snapshot](t, readEvent(t, c))
	if snap.Status == nil || snap.Status.Presence != "online" || snap.Status.Phone != "busy" || !snap.Status.Since.Equal(t0) {
		t.Fatalf("snapshot status %+v", snap.Status)
	}
	if f := snap.Figures; f == nil || *f != (api.Figures{TalkTimeSec: 95, Calls: 3, BusyTotalSec: 3600, IdleTotalSec: 1800, Missed: 1}) {
		t.Fatalf("snapshot figures %+v", f)
	}
	if len(snap.Groups) != 1 || snap.Groups[0] != (api.Group{Name: "sales", Label: "售前咨询", Waiting: 2, LongestWaitSec: 15, Idle: 1}) {
		t.Fatalf("snapshot groups %+v", snap.Groups)
	}
	if len(snap.Statuses) != 2 || snap.Statuses[0].Name != "meeting" {
		t.Fatalf("snapshot statuses %+v", snap.Statuses)
	}

	// A status change over HTTP comes back as events (the fake pushes
	// status and groups from under its lock, as the real center may).
	if status, b := e.do(http.MethodPut, "/v1/me/status", tok, `{"phone":"idle"}`); status != 200 {
		t.Fatalf("%d %s", status, b)
	}
	ev := readEvent(t, c)
	if st := decodeData[api.AgentStatus](t, ev); ev.Type != api.EventStatus || st.Phone != "idle" {
		t.Fatalf("status event %+v", ev)
	}
	ev = readEvent(t, c)
	if g := decodeData[[]api.Group](t, ev); ev.Type != api.EventGroups || len(g) != 1 || g[0].Label != "售前咨询" {
		t.Fatalf("groups event %+v", ev)
	}

	acwUntil := t0.Add(time.Minute)
	e.srv.Status("1001", callcenter.AgentStatus{Agent: "1001", Presence: callcenter.PresenceOnline,
		Phone: callcenter.PhoneIdle, Activity: callcenter.ActivityACW, ACWUntil: acwUntil, Since: t0})
	e.srv.Figures("1001", callcenter.AgentFigures{Calls: 4, TalkTime: 100 * time.Second})
	pop := callcenter.ScreenPop{CallID: "q1", Inbound: true, Customer: "13812345678", Name: "Zhang San",
		Region: "上海市", Carrier: "中国移动", CallsFrom: 2, LastCallAt: t0.Add(-time.Hour),
		CenterNumber: "4008001234", Group: "sales", QueueWait: 12 * time.Second, RingTimeout: 20 * time.Second}
	e.srv.Offer("1001", pop)
	e.srv.Missed("1001", callcenter.Offer{CallID: "q1", Agent: "1001", Group: "sales", Customer: "13812345678",
		CenterNumber: "4008001234", OfferedAt: t0, EndedAt: t0.Add(20 * time.Second), Reason: "no_answer"})
	e.srv.Notice("1001", callcenter.Notice{Code: "missed_twice", Message: "Set to busy after two missed calls."})
	e.srv.Status("1002", callcenter.AgentStatus{Agent: "1002"}) // someone else's: not on this stream

	ev = readEvent(t, c)
	if st := decodeData[api.AgentStatus](t, ev); ev.Type != api.EventStatus || st.Activity != "acw" || !st.ACWUntil.Equal(acwUntil) {
		t.Fatalf("acw event %+v", ev)
	}
	ev = readEvent(t, c)
	if f := decodeData[api.Figures](t, ev); ev.Type != api.EventFigures || f.Calls != 4 || f.TalkTimeSec != 100 {
		t.Fatalf("figures event %+v", ev)
	}
	ev = readEvent(t, c)
	wantPop := api.ScreenPop{CallID: "q1", Direction: "inbound", Customer: "13812345678", Name: "Zhang San",
		Region: "上海市", Carrier: "中国移动", CallsFrom: 2, LastCallAt: t0.Add(-time.Hour),
		CenterNumber: "4008001234", Group: "sales", QueueWaitSec: 12, RingTimeoutSec: 20}
	if p := decodeData[api.ScreenPop](t, ev); ev.Type != api.EventOffer || p != wantPop {
		t.Fatalf("offer event %+v: %+v", ev, p)
	}
	ev = readEvent(t, c)
	m := decodeData[api.HistoryItem](t, ev)
	if ev.Type != api.EventMissed || !m.Missed || m.CallID != "q1" || m.Customer != "13812345678" || m.Name != "Zhang San" ||
		m.Region != "上海市" || m.Group != "sales" || m.Result != "no_answer" || !m.StartedAt.Equal(t0) || m.Number != "4008001234" {
		t.Fatalf("missed event %+v: %+v", ev, m)
	}
	ev = readEvent(t, c)
	if n := decodeData[api.Notice](t, ev); ev.Type != api.EventNotice || n.Code != "missed_twice" || n.Message == "" {
		t.Fatalf("notice event %+v", ev)
	}
	if ev.Seq != 8 {
		t.Fatalf("seq %d, want 8 (no gaps, no other agent's events)", ev.Seq)
	}

	// A reconnect's snapshot reads the center afresh: the running totals
	// grew since the last push.
	fc.mu.Lock()
	fc.figures["1001"] = callcenter.AgentFigures{Calls: 4, TalkTime: 100 * time.Second, IdleTotal: time.Hour}
	fc.mu.Unlock()
	snap = decodeData[api.Snapshot](t, readEvent(t, e.dial(tok)))
	if snap.Figures.IdleTotalSec != 3600 {
		t.Fatalf("reconnect snapshot figures %+v", snap.Figures)
	}

	// But a push while the snapshot reads the center wins over what was
	// read before it: the new stream would otherwise never hear of it.
	fc.mu.Lock()
	fc.onFigures = func() {
		e.srv.Status("1001", callcenter.AgentStatus{Agent: "1001", Presence: callcenter.PresenceOnline,
			Phone: callcenter.PhoneIdle, Activity: callcenter.ActivityRinging, Since: t0})
	}
	fc.mu.Unlock()
	snap = decodeData[api.Snapshot](t, readEvent(t, e.dial(tok)))
	if snap.Status.Activity != "ringing" {
		t.Fatalf("snapshot status %+v, want the status pushed during the read", snap.Status)
	}
}

// A screen pop given with an offer rides on every event of its call and in
// snapshots, and is forgotten when the call ends.
func TestPopOnCallEvents(t *testing.T) {
	e, _ := newCenterEnv(t)
	tok := e.login("1001", "pc").Token
	c := e.dial(tok)
	readEvent(t, c)

	pop := callcenter.ScreenPop{CallID: "c1", Inbound: true, Customer: "13800000000", Region: "北京市", Group: "sales"}
	e.srv.Offer("1001", pop)
	if ev := readEvent(t, c); ev.Type != api.EventOffer {
		t.Fatalf("want offer, got %+v", ev)
	}
	e.srv.PublishCall(callEvent("c1", callcenter.CallRinging, t0, "1001"))
	if call := decodeData[api.Call](t, readEvent(t, c)); call.Pop == nil || call.Pop.Region != "北京市" || call.Pop.Direction != "inbound" {
		t.Fatalf("ringing call %+v", call)
	}
	snap := decodeData[api.Snapshot](t, readEvent(t, e.dial(tok)))
	if len(snap.Calls) != 1 || snap.Calls[0].Pop == nil || snap.Calls[0].Pop.Group != "sales" {
		t.Fatalf("snapshot calls %+v", snap.Calls)
	}
	e.srv.PublishCall(callEvent("c1", callcenter.CallEnded, t0.Add(time.Minute), "1001"))
	if call := decodeData[api.Call](t, readEvent(t, c)); call.State != "ended" || call.Pop == nil {
		t.Fatalf("ended call %+v", call)
	}
	// A missed-offer notice after the end still has the customer's name.
	e.srv.Missed("1001", callcenter.Offer{CallID: "c1", Agent: "1001", Customer: "13800000000", OfferedAt: t0, EndedAt: t0})
	if m := decodeData[api.HistoryItem](t, readEvent(t, c)); m.Region != "北京市" {
		t.Fatalf("missed after end %+v", m)
	}

	// An outbound call: the pop comes after the call is live and is sent
	// at once as a call event.
	e.srv.PublishCall(callcenter.CallEvent{CallID: "o1", Type: callcenter.CallAgentOutbound, State: callcenter.CallRinging,
		From: "1001", To: "13900000000", Agents: []string{"1001"}, At: t0})
	if call := decodeData[api.Call](t, readEvent(t, c)); call.ID != "o1" || call.Pop != nil {
		t.Fatalf("outbound call %+v", call)
	}
	e.srv.PublishPop(callcenter.ScreenPop{CallID: "o1", Customer: "13900000000", CallsFrom: 5})
	if call := decodeData[api.Call](t, readEvent(t, c)); call.ID != "o1" || call.Pop == nil ||
		call.Pop.Direction != "outbound" || call.Pop.CallsFrom != 5 {
		t.Fatalf("outbound call with pop %+v", call)
	}
}

// Pops are swept once their call ended popGrace ago, or popTTL after they
// came for a call never seen; live calls keep theirs. Sweeps run when the
// map has doubled.
func TestPopSweep(t *testing.T) {
	now := t0
	srv := New(nil, WithClock(func() time.Time { return now }))
	srv.PublishCall(callEvent("live", callcenter.CallTalking, now, "1001"))
	srv.PublishPop(callcenter.ScreenPop{CallID: "live"})
	srv.PublishCall(callEvent("ended", callcenter.CallTalking, now, "1001"))
	srv.PublishPop(callcenter.ScreenPop{CallID: "ended"})
	srv.PublishCall(callEvent("ended", callcenter.CallEnded, now, "1001"))
	srv.PublishPop(callcenter.ScreenPop{CallID: "never"})
	h := srv.hub
	kept := func(at time.Time) []string {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.sweepPopsLocked(at)
		return slices.Sorted(maps.Keys(h.pops))
	}
	for _, tc := range []struct {
		at   time.Duration
		want []string
	}{
		{popGrace, []string{"ended", "live", "never"}},
		{popGrace + time.Second, []string{"live", "never"}},
		{popTTL + time.Second, []string{"live"}},
	} {
		if got := kept(now.Add(tc.at)); !slices.Equal(got, tc.want) {
			t.Fatalf("at +%s: %v, want %v", tc.at, got, tc.want)
		}
	}

	// Attaching sweeps only once the map reaches nextSweep, which is then
	// twice what was left.
	now = now.Add(2 * popTTL)
	for i := range minSweep - 1 {
		srv.PublishPop(callcenter.ScreenPop{CallID: fmt.Sprint("x", i)})
	}
	h.mu.Lock()
	n, next := len(h.pops), h.nextSweep
	h.mu.Unlock()
	if n != minSweep || next != minSweep {
		t.Fatalf("%d pops, next sweep at %d: want %d and %d", n, next, minSweep, minSweep)
	}
	now = now.Add(2 * popTTL)
	srv.PublishPop(callcenter.ScreenPop{CallID: "y"}) // sweeps the x's
	h.mu.Lock()
	n, next = len(h.pops), h.nextSweep
	h.mu.Unlock()
	if n != 2 || next != minSweep {
		t.Fatalf("after the sweep %d pops, next at %d", n, next)
	}
}

// restoringCenter is a fakeCenter that restores an agent's status from
// before a restart on the first RestoreStatus, as the real one does.
type restoringCenter struct {
	*fakeCenter
	calls    map[string]int
	previous map[string]callcenter.AgentStatus
}

func (r *restoringCenter) RestoreStatus(_ context.Context, agent string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls[agent]++
	prev, ok := r.previous[agent]
	if !ok {
		return false, nil
	}
	delete(r.previous, agent)
	r.st[agent] = prev
	return true, nil
}

// TestStatusRestoredOnReconnect: after a restart (a session still valid,
// no new login), the agent's first center request restores its status
// before answering; an agent without a session is not restored.
func TestStatusRestoredOnReconnect(t *testing.T) {
	rc := &restoringCenter{fakeCenter: newFakeCenter(), calls: map[string]int{}, previous: map[string]callcenter.AgentStatus{}}
	e := newEnv(t, WithCenter(rc))
	rc.fakeCenter.srv = e.srv
	tok := e.login("1001", "pc").Token // the session the restart keeps
	rc.mu.Lock()
	delete(rc.st, "1001") // the restarted center knows nothing of 1001
	rc.previous["1001"] = callcenter.AgentStatus{Agent: "1001", Presence: callcenter.PresenceOnline, Phone: callcenter.PhoneIdle, AutoAnswer: true, Since: t0}
	rc.mu.Unlock()

	status, b := e.do(http.MethodGet, "/v1/me/status", tok, "")
	if status != http.StatusOK {
		t.Fatalf("%d %s", status, b)
	}
	if st := decodeJSONBody[api.AgentStatus](t, b); st.Presence != "online" || st.Phone != "idle" || !st.AutoAnswer {
		t.Fatalf("status after reconnect %+v, want online idle auto-answer", st)
	}
	if status, _ := e.do(http.MethodGet, "/v1/me/status", "not-a-token", ""); status != http.StatusUnauthorized {
		t.Fatalf("no session: %d", status)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.calls["1001"] != 1 || len(rc.calls) != 1 {
		t.Errorf("RestoreStatus calls %v, want 1001 once", rc.calls)
	}
}

// TestStatusRestoredOnStreamReconnect: a softphone that after a restart
// only reconnects its event stream finds its status from before the
// restart in the snapshot, without any other request.
func TestStatusRestoredOnStreamReconnect(t *testing.T) {
	rc := &restoringCenter{fakeCenter: newFakeCenter(), calls: map[string]int{}, previous: map[string]callcenter.AgentStatus{}}
	e := newEnv(t, WithCenter(rc))
	rc.fakeCenter.srv = e.srv
	tok := e.login("1001", "pc").Token
	rc.mu.Lock()
	delete(rc.st, "1001")
	rc.previous["1001"] = callcenter.AgentStatus{Agent: "1001", Presence: callcenter.PresenceOnline, Phone: callcenter.PhoneIdle, Since: t0}
	rc.mu.Unlock()

	ev := readEvent(t, e.dial(tok))
	if ev.Type != api.EventSnapshot {
		t.Fatalf("first event %q, want snapshot", ev.Type)
	}
	snap := decodeData[api.Snapshot](t, ev)
	if snap.Status == nil || snap.Status.Presence != "online" || snap.Status.Phone != "idle" {
		t.Fatalf("snapshot status %+v, want online idle", snap.Status)
	}
}
