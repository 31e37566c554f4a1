package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/agentstate"
	"github.com/agentphone/agentphone/callcenter/api"
	"github.com/agentphone/agentphone/callcenter/client"
	"github.com/agentphone/agentphone/callcenter/server"
)

// center stands in for callcenter/center (which needs SIP): statuses in a
// map, the one refusal rule these tests need, and pushes to the server as
// the real one makes them.
type center struct {
	l *live

	mu       sync.Mutex
	st       map[string]callcenter.AgentStatus
	extended []time.Duration
}

func newCenter() *center { return &center{st: make(map[string]callcenter.AgentStatus)} }

func (c *center) set(st callcenter.AgentStatus) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.st[st.Agent] = st
	c.l.server().Status(st.Agent, st)
}

func (c *center) Login(agent string) {
	c.set(callcenter.AgentStatus{Agent: agent, Presence: callcenter.PresenceOnline, Phone: callcenter.PhoneBusy, Since: t0})
}

func (c *center) Logout(agent string) { c.set(callcenter.AgentStatus{Agent: agent, Since: t0}) }

func (c *center) Status(agent string) callcenter.AgentStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st[agent]
}

func (c *center) ChangeStatus(_ context.Context, agent string, ch callcenter.StatusChange) (callcenter.AgentStatus, error) {
	st := c.Status(agent)
	if ch.Phone != nil && *ch.Phone == callcenter.PhoneBusy && st.Activity == callcenter.ActivityRinging {
		return st, &agentstate.TransitionError{Agent: agent, From: st, Op: agentstate.OpSetPhone, Reason: agentstate.ErrBusyWhileRinging}
	}
	if ch.Presence != nil {
		st.Presence, st.Custom = *ch.Presence, ""
	}
	if ch.Custom != nil {
		st.Custom = *ch.Custom
	}
	if ch.Phone != nil {
		st.Phone = *ch.Phone
	}
	if ch.AutoAnswer != nil {
		st.AutoAnswer = *ch.AutoAnswer
	}
	c.set(st)
	return st, nil
}

func (c *center) FinishACW(_ context.Context, agent string) error {
	st := c.Status(agent)
	if st.Activity != callcenter.ActivityACW {
		return &agentstate.TransitionError{Agent: agent, From: st, Op: agentstate.OpFinishACW, Reason: agentstate.ErrNotInACW}
	}
	st.Activity, st.ACWUntil = callcenter.ActivityNone, time.Time{}
	c.set(st)
	return nil
}

func (c *center) ExtendACW(_ context.Context, agent string, d time.Duration) error {
	st := c.Status(agent)
	if st.Activity != callcenter.ActivityACW {
		return &agentstate.TransitionError{Agent: agent, From: st, Op: agentstate.OpExtendACW, Reason: agentstate.ErrNotInACW}
	}
	c.mu.Lock()
	c.extended = append(c.extended, d)
	c.mu.Unlock()
	st.ACWUntil = st.ACWUntil.Add(d)
	c.set(st)
	return nil
}

func (c *center) Figures(agent string) callcenter.AgentFigures {
	return callcenter.AgentFigures{Agent: agent, Calls: 7, TalkTime: 10 * time.Minute}
}

func (c *center) Groups(string) []callcenter.GroupFigures {
	return []callcenter.GroupFigures{{Group: "sales", Waiting: 2, LongestWait: 30 * time.Second, Idle: 1}}
}

func (c *center) CustomStatuses() []callcenter.CustomStatus {
	return []callcenter.CustomStatus{{Name: "meeting", Label: "会议中"}}
}

func startCenter(t *testing.T) (*live, *center) {
	t.Helper()
	fc := newCenter()
	l := startLive(t, server.WithCenter(fc))
	fc.l = l
	return l, fc
}

func ptr[T any](v T) *T { return &v }

func TestStatusCommands(t *testing.T) {
	l, fc := startCenter(t)
	c := loggedIn(t, l)
	ctx := context.Background()

	st, err := c.SetStatus(ctx, api.StatusChange{Phone: ptr("idle"), AutoAnswer: ptr(true)})
	if err != nil || st.Phone != "idle" || !st.AutoAnswer || st.Presence != "online" {
		t.Fatalf("set idle: %+v %v", st, err)
	}
	st, err = c.SetStatus(ctx, api.StatusChange{Custom: ptr("meeting")})
	if err != nil || st.Presence != "custom" || st.Custom != "meeting" {
		t.Fatalf("set meeting: %+v %v", st, err)
	}
	// GET reads back what the PUT set, without changing it.
	got, err := c.Status(ctx)
	if err != nil || got.Presence != "custom" || got.Custom != "meeting" || got.Phone != "idle" {
		t.Fatalf("get status: %+v %v", got, err)
	}
	var apiErr *client.Error
	if _, err := c.SetStatus(ctx, api.StatusChange{Presence: ptr("away")}); !errors.As(err, &apiErr) ||
		apiErr.Status != http.StatusBadRequest || !strings.Contains(apiErr.Message, "presence") || errors.Is(err, client.ErrRefused) {
		t.Fatalf("bad presence: %v", err)
	}

	fc.set(callcenter.AgentStatus{Agent: "1001", Presence: callcenter.PresenceOnline, Phone: callcenter.PhoneIdle,
		Activity: callcenter.ActivityRinging, Since: t0})
	_, err = c.SetStatus(ctx, api.StatusChange{Phone: ptr("busy")})
	if !errors.Is(err, client.ErrRefused) || !errors.As(err, &apiErr) || apiErr.Status != http.StatusConflict ||
		apiErr.Message != agentstate.ErrBusyWhileRinging.Error() {
		t.Fatalf("busy while ringing: %v", err)
	}

	if _, err := c.FinishACW(ctx); !errors.Is(err, client.ErrRefused) {
		t.Fatalf("finish outside ACW: %v", err)
	}
	until := t0.Add(time.Minute)
	fc.set(callcenter.AgentStatus{Agent: "1001", Presence: callcenter.PresenceOnline, Phone: callcenter.PhoneIdle,
		Activity: callcenter.ActivityACW, ACWUntil: until, Since: t0})
	st, err = c.ExtendACW(ctx, 1500*time.Millisecond) // rounds up to 2 s
	if err != nil || !st.ACWUntil.Equal(until.Add(2*time.Second)) {
		t.Fatalf("extend: %+v %v", st, err)
	}
	if _, err := c.ExtendACW(ctx, -time.Second); !errors.Is(err, client.ErrInvalidArgument) {
		t.Fatalf("negative extend: %v", err)
	}
	if _, err := c.ExtendACW(ctx, 2*time.Hour); !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest {
		t.Fatalf("extend too long: %v", err)
	}
	fc.mu.Lock()
	ext := fc.extended
	fc.mu.Unlock()
	if len(ext) != 1 || ext[0] != 2*time.Second {
		t.Fatalf("center extended by %v, want [2s] (the bad ones never reach it)", ext)
	}
	st, err = c.FinishACW(ctx)
	if err != nil || st.Activity != "none" {
		t.Fatalf("finish: %+v %v", st, err)
	}

	groups, err := c.Groups(ctx)
	if err != nil || len(groups) != 1 || groups[0].Name != "sales" || groups[0].Waiting != 2 || groups[0].LongestWaitSec != 30 {
		t.Fatalf("groups %+v %v", groups, err)
	}
	statuses, err := c.Statuses(ctx)
	if err != nil || len(statuses) != 1 || statuses[0] != (api.CustomStatus{Name: "meeting", Label: "会议中"}) {
		t.Fatalf("statuses %+v %v", statuses, err)
	}

	c.SetToken("")
	if _, err := c.Groups(ctx); !errors.Is(err, client.ErrUnauthorized) {
		t.Fatalf("groups without login: %v", err)
	}
}

func TestInboundWithoutCenter(t *testing.T) {
	l := startLive(t)
	c := loggedIn(t, l)
	var apiErr *client.Error
	if _, err := c.SetStatus(context.Background(), api.StatusChange{Phone: ptr("idle")}); !errors.As(err, &apiErr) ||
		apiErr.Status != http.StatusNotFound || apiErr.Code != api.CodeNotFound {
		t.Fatalf("set status without a center: %v", err)
	}
	if h, err := c.History(context.Background(), time.Time{}, false, 0); err != nil || len(h) != 0 {
		t.Fatalf("history without a center: %+v %v", h, err)
	}
}

func TestHistory(t *testing.T) {
	l := startLive(t)
	ctx := context.Background()
	rec := callcenter.CallRecord{CallID: "c1", Type: callcenter.CallInbound, Caller: "13800000001", Callee: "1001",
		Agent: "1001", Number: "4008001234", StartedAt: t0.Add(-2 * time.Hour), AnsweredAt: t0.Add(-2*time.Hour + time.Second),
		EndedAt: t0.Add(-2*time.Hour + time.Minute), Result: callcenter.ResultAnswered, HangupBy: callcenter.PartyCaller, Group: "sales"}
	if err := l.st.EndCallRecord(ctx, rec); err != nil {
		t.Fatal(err)
	}
	for _, o := range []callcenter.Offer{
		{CallID: "c1", Agent: "1001", Group: "sales", Customer: "13800000001", OfferedAt: t0.Add(-2 * time.Hour),
			EndedAt: t0.Add(-2*time.Hour + time.Second), Answered: true},
		{CallID: "c2", Agent: "1001", Group: "sales", Customer: "13800000002", CenterNumber: "4008001234",
			OfferedAt: t0.Add(-time.Hour), EndedAt: t0.Add(-time.Hour + 20*time.Second), Reason: "no_answer"},
	} {
		if err := l.st.RecordOffer(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	c := loggedIn(t, l)
	h, err := c.History(ctx, time.Time{}, false, 0)
	if err != nil || len(h) != 2 || h[0].CallID != "c2" || !h[0].Missed || h[0].Customer != "13800000002" ||
		h[1].CallID != "c1" || h[1].Missed || h[1].Group != "sales" || h[1].DurationSec != 59 {
		t.Fatalf("history %+v %v", h, err)
	}
	if h, err := c.History(ctx, time.Time{}, true, 0); err != nil || len(h) != 1 || h[0].CallID != "c2" {
		t.Fatalf("missed %+v %v", h, err)
	}
	if h, err := c.History(ctx, t0.Add(-90*time.Minute), false, 1); err != nil || len(h) != 1 || h[0].CallID != "c2" {
		t.Fatalf("since %+v %v", h, err)
	}
}

// The stream carries the inbound state: a snapshot with status, figures,
// groups and statuses, then status events; a takeover is preceded by a
// notice and still ends the stream with ErrTakeover.
func TestEventsInbound(t *testing.T) {
	l, _ := startCenter(t)
	c := loggedIn(t, l)
	s := c.Events(context.Background())
	snap := snapshotOf(t, next(t, s))
	if snap.Status == nil || snap.Status.Phone != "busy" || snap.Figures == nil || snap.Figures.Calls != 7 ||
		len(snap.Groups) != 1 || len(snap.Statuses) != 1 {
		t.Fatalf("snapshot %+v", snap)
	}
	if _, err := c.SetStatus(context.Background(), api.StatusChange{Phone: ptr("idle")}); err != nil {
		t.Fatal(err)
	}
	ev := next(t, s)
	var st api.AgentStatus
	if err := json.Unmarshal(ev.Data, &st); ev.Type != api.EventStatus || err != nil || st.Phone != "idle" {
		t.Fatalf("status event %+v", ev)
	}

	mobile := client.New(l.url())
	if _, err := mobile.Login(context.Background(), "1001", password, "mobile"); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, s); ev.Type != api.EventNotice {
		t.Fatalf("want a notice, got %+v", ev)
	}
	if ev := next(t, s); ev.Type != api.EventTakeover {
		t.Fatalf("want takeover, got %+v", ev)
	}
	if err := closed(t, s); !errors.Is(err, client.ErrTakeover) {
		t.Fatalf("err %v", err)
	}
}
