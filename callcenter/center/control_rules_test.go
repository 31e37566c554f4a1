package center

// Call-control rules without SIP: a session on a fake CustomerCall (no
// room, scripted Dial) driven through handle() and its event queue, so
// refusals and state transitions are table-tested in milliseconds.

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	cmedia "github.com/agentphone/agentphone/callcenter/media"
	"github.com/agentphone/agentphone/callcenter/sipedge"
	"github.com/agentphone/agentphone/callcenter/store"
)

// fakeCall is a customer call without media: Dial fails with dialErr.
type fakeCall struct {
	ctx        context.Context
	registered map[string]bool
	dialErr    error
	dialed     []sipedge.Dial
	released   int
}

func (f *fakeCall) ID() string                                       { return "call-1" }
func (f *fakeCall) Caller() string                                   { return "13800138000" }
func (f *fakeCall) Type() callcenter.CallType                        { return callcenter.CallInbound }
func (f *fakeCall) Context() context.Context                         { return f.ctx }
func (f *fakeCall) Room() *cmedia.Room                               { return nil }
func (f *fakeCall) Registered(wn string) bool                        { return f.registered[wn] }
func (f *fakeCall) Release(context.Context, *sipedge.AgentLeg) error { f.released++; return nil }
func (f *fakeCall) Attach(*sipedge.AgentLeg, cmedia.HearSet, bool) (*cmedia.Participant, error) {
	return nil, errors.New("fake call has no room")
}
func (f *fakeCall) Dial(_ context.Context, d sipedge.Dial) (*sipedge.AgentLeg, error) {
	f.dialed = append(f.dialed, d)
	return nil, f.dialErr
}

// rulesCenter: 1001 (in charge of the call), 1002 idle, 1003 signed in
// but busy, 1004 signed out; sales has 1001 and 1002, support only 1004.
func rulesCenter(t *testing.T) *Center {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, wn := range []string{"1001", "1002", "1003", "1004"} {
		if _, err := st.CreateAgent(ctx, callcenter.Agent{WorkNumber: wn, Name: "Agent " + wn, PasswordHash: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range []string{"sales", "support"} {
		if _, err := st.CreateGroup(ctx, callcenter.SkillGroup{Name: g, Strategy: callcenter.StrategyLongestIdle}); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []callcenter.Member{{Group: "sales", Agent: "1001", Level: 1}, {Group: "sales", Agent: "1002", Level: 1}, {Group: "support", Agent: "1004", Level: 1}} {
		if err := st.SetMember(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	c, err := New(st, WithLogger(testLogger()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	idle := callcenter.PhoneIdle
	for _, wn := range []string{"1001", "1002", "1003"} {
		c.Login(wn)
	}
	for _, wn := range []string{"1001", "1002"} {
		if _, err := c.ChangeStatus(ctx, wn, callcenter.StatusChange{Phone: &idle}); err != nil {
			t.Fatal(err)
		}
	}
	// 1001 is on the call (as the ACD or AgentActivity would have it).
	c.mu.Lock()
	c.agentLocked("1001").call = "call-1"
	c.mu.Unlock()
	return c
}

// testSession is 1001 talking with the customer on call, in state st.
func testSession(c *Center, call *fakeCall, st ControlState) *session {
	s := &session{c: c, call: call, log: testLogger(), reqs: make(chan request), evs: make(chan func(), 16),
		done: make(chan struct{}), state: st}
	s.parties = []*party{{leg: &sipedge.AgentLeg{}, wn: "1001", name: "Agent 1001"}}
	s.watchers = []string{"1001"}
	return s
}

func newFakeCall(t *testing.T) *fakeCall {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return &fakeCall{ctx: ctx, registered: map[string]bool{"1001": true, "1002": true, "1003": true}, dialErr: sipedge.ErrNoAnswer}
}

func codeOf(err error) string {
	var ce *ControlError
	if errors.As(err, &ce) {
		return ce.Code
	}
	if err != nil {
		return "error: " + err.Error()
	}
	return ""
}

func TestControlRules(t *testing.T) {
	c := rulesCenter(t)
	consulting := func(s *session) {
		s.consult = &consult{target: Target{Kind: TargetAgent, To: "1002"}, by: "1001", state: "ringing", cancel: func() {}}
	}
	for _, tc := range []struct {
		name    string
		state   ControlState
		prepare func(*session)
		r       request
		code    string       // refusal expected; "" for success
		after   ControlState // state after a success
	}{
		{name: "hold while talking", state: ControlTalking, r: request{op: "hold", agent: "1001"}, after: ControlHeld},
		{name: "hold twice", state: ControlHeld, r: request{op: "hold", agent: "1001"}, code: CodeBadState},
		{name: "resume when not held", state: ControlTalking, r: request{op: "resume", agent: "1001"}, code: CodeBadState},
		{name: "resume", state: ControlHeld, r: request{op: "resume", agent: "1001"}, after: ControlTalking},
		{name: "hold by an agent not in charge", state: ControlTalking, r: request{op: "hold", agent: "1002"}, code: CodeNotInCall},
		{name: "control by a stranger", state: ControlTalking, r: request{op: "control", agent: "1003"}, code: CodeNotInCall},
		{name: "hold after the customer left", state: ControlTalking, prepare: func(s *session) { s.customerGone = true },
			r: request{op: "hold", agent: "1001"}, code: CodeNotInCall},
		{name: "transfer while consulting", state: ControlConsulting, prepare: consulting,
			r: request{op: "transfer", agent: "1001", target: Target{Kind: TargetAgent, To: "1002"}}, code: CodeBadState},
		{name: "consult while consulting", state: ControlConsulting, prepare: consulting,
			r: request{op: "consult", agent: "1001", target: Target{Kind: TargetAgent, To: "1002"}}, code: CodeBadState},
		{name: "consult transfer without consult", state: ControlTalking, r: request{op: "consult/transfer", agent: "1001"}, code: CodeBadState},
		{name: "conference without consult", state: ControlTalking, r: request{op: "consult/conference", agent: "1001"}, code: CodeBadState},
		{name: "conference while the consult rings", state: ControlConsulting, prepare: consulting,
			r: request{op: "consult/conference", agent: "1001"}, code: CodeBadState},
		{name: "cancel without consult", state: ControlTalking, r: request{op: "consult/cancel", agent: "1001"}, code: CodeBadState},
		{name: "cancel a ringing consult", state: ControlConsulting, prepare: consulting,
			r: request{op: "consult/cancel", agent: "1001"}, after: ControlTalking},
		{name: "transfer to oneself", state: ControlTalking, r: request{op: "transfer", agent: "1001", target: Target{Kind: TargetAgent, To: "1001"}}, code: CodeBadTarget},
		{name: "transfer to nobody", state: ControlTalking, r: request{op: "transfer", agent: "1001", target: Target{Kind: TargetAgent, To: " "}}, code: CodeBadTarget},
		{name: "transfer to a busy agent", state: ControlTalking, r: request{op: "transfer", agent: "1001", target: Target{Kind: TargetAgent, To: "1003"}}, code: CodeAgentBusy},
		{name: "transfer to a signed-out agent", state: ControlTalking, r: request{op: "transfer", agent: "1001", target: Target{Kind: TargetAgent, To: "1004"}}, code: CodeAgentOffline},
		{name: "transfer to an unknown agent", state: ControlTalking, r: request{op: "transfer", agent: "1001", target: Target{Kind: TargetAgent, To: "9999"}}, code: CodeAgentOffline},
		{name: "consult an idle agent whose phone is not registered", state: ControlTalking,
			prepare: func(s *session) { s.call.(*fakeCall).registered["1002"] = false },
			r:       request{op: "consult", agent: "1001", target: Target{Kind: TargetAgent, To: "1002"}}, code: CodeAgentOffline},
		{name: "transfer to an unknown group", state: ControlTalking, r: request{op: "transfer", agent: "1001", target: Target{Kind: TargetGroup, To: "nosuch"}}, code: CodeBadTarget},
		{name: "transfer to a group nobody is online in", state: ControlTalking, r: request{op: "transfer", agent: "1001", target: Target{Kind: TargetGroup, To: "support"}}, code: CodeNoAgentsOnline},
		{name: "consult a non-number", state: ControlTalking, r: request{op: "consult", agent: "1001", target: Target{Kind: TargetNumber, To: "12a"}}, code: CodeBadTarget},
		{name: "unknown operation", state: ControlTalking, r: request{op: "park", agent: "1001"}, code: CodeBadState},
		{name: "DTMF by an agent not talking", state: ControlTalking, r: request{op: "dtmf", agent: "1002", digits: "1"}, code: CodeNotInCall},
		{name: "DTMF without media", state: ControlTalking, r: request{op: "dtmf", agent: "1001", digits: "1"}, code: CodeBadState},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := testSession(c, newFakeCall(t), tc.state)
			if tc.prepare != nil {
				tc.prepare(s)
			}
			cc, err := s.handle(tc.r)
			if got := codeOf(err); got != tc.code {
				t.Fatalf("%s: got %q (%v), want %q", tc.r.op, got, err, tc.code)
			}
			if tc.code == "" && tc.r.op != "control" && (s.state != tc.after || cc.State != tc.after) {
				t.Errorf("state %s (reported %s), want %s", s.state, cc.State, tc.after)
			}
		})
	}
}

// TestControlFailedLegs: a blind transfer or consult whose leg fails
// puts the customer back with the agent, with the reason as the notice,
// and frees a rung agent.
func TestControlFailedLegs(t *testing.T) {
	c := rulesCenter(t)
	for _, tc := range []struct {
		name   string
		op     string
		target Target
		err    error
		code   string
	}{
		{"agent does not answer", "transfer", Target{Kind: TargetAgent, To: "1002"}, sipedge.ErrNoAnswer, CodeNoAnswer},
		{"agent declines", "consult", Target{Kind: TargetAgent, To: "1002"}, &sipedge.StatusError{Code: 603}, CodeRejected},
		{"agent unreachable", "consult", Target{Kind: TargetAgent, To: "1002"}, sipedge.ErrUnreachable, CodeAgentOffline},
		{"group member busy", "consult", Target{Kind: TargetGroup, To: "sales"}, &sipedge.StatusError{Code: 486}, CodeAgentBusy},
		{"number busy", "consult", Target{Kind: TargetNumber, To: "13900000486"}, &sipedge.StatusError{Code: 486}, CodeNumberBusy},
		{"number invalid", "transfer", Target{Kind: TargetNumber, To: "13900000404"}, &sipedge.StatusError{Code: 404}, CodeNumberInvalid},
		{"number powered off", "consult", Target{Kind: TargetNumber, To: "13900000503"}, &sipedge.StatusError{Code: 480}, CodeNoAnswer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			call := newFakeCall(t)
			call.dialErr = tc.err
			s := testSession(c, call, ControlTalking)
			cc, err := s.handle(request{op: tc.op, agent: "1001", target: tc.target})
			if err != nil {
				t.Fatalf("%s: %v", tc.op, err)
			}
			want := ControlConsulting
			if tc.op == "transfer" {
				want = ControlTransferring
			}
			if cc.State != want {
				t.Fatalf("after %s: %s, want %s", tc.op, cc.State, want)
			}
			if tc.target.Kind != TargetNumber && c.Status("1002").Activity != callcenter.ActivityRinging {
				t.Errorf("1002 while rung: %+v", c.Status("1002"))
			}
			select {
			case f := <-s.evs:
				f()
			case <-time.After(5 * time.Second):
				t.Fatal("the leg's failure never reached the session")
			}
			s.dialers.Wait()
			got := s.snapshot()
			if got.State != ControlTalking || got.Notice == nil || got.Notice.Code != tc.code || got.Consult != nil {
				t.Errorf("after the failure: %+v, want talking with notice %s", got, tc.code)
			}
			if len(call.dialed) != 1 || call.dialed[0].Caller == "" {
				t.Errorf("dialled %+v", call.dialed)
			}
			if st := c.Status("1002"); st.Activity != callcenter.ActivityNone || !st.Available() {
				t.Errorf("1002 after the failed leg: %+v, want free again", st)
			}
		})
	}
}

// TestSessionLive: crm.Live's view of a session: whom it knows and who
// answered.
func TestSessionLive(t *testing.T) {
	c := rulesCenter(t)
	s := testSession(c, newFakeCall(t), ControlConsulting)
	s.consult = &consult{target: Target{Kind: TargetAgent, To: "1002"}, by: "1001", state: "ringing", cancel: func() {}}
	for _, tc := range []struct {
		agent        string
		ok, answered bool
	}{
		{"1001", true, true},
		{"1002", true, false}, // rung, not answered
		{"1003", false, false},
	} {
		lc, ok := s.live(tc.agent)
		if ok != tc.ok || lc.Answered != tc.answered || (ok && lc.Customer != "13800138000") {
			t.Errorf("live(%s) = %+v, %v; want ok %v answered %v", tc.agent, lc, ok, tc.ok, tc.answered)
		}
	}
	s.consult.p = &party{leg: &sipedge.AgentLeg{}, wn: "1002"}
	if lc, ok := s.live("1002"); !ok || !lc.Answered {
		t.Errorf("live(1002) once answered = %+v, %v", lc, ok)
	}
	if _, ok := c.LiveCall("no-such-call", "1001"); ok {
		t.Error("LiveCall of an unknown call is live")
	}
}
