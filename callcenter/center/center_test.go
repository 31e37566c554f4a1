package center

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/agentstate"
	"github.com/agentphone/agentphone/callcenter/pstnsim"
	"github.com/agentphone/agentphone/callcenter/sipedge"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// diago/sipgo keep package-level timers and transaction
		// goroutines that end a little after the UA closes.
		goleak.IgnoreTopFunction("time.Sleep"),
		goleak.IgnoreAnyFunction("github.com/emiago/sipgo/sip.(*transactionFSM).run"),
	)
}

// The main scenario: number → IVR → DTMF 1 → sales → the longest-idle
// agent rings and does not answer → the next answers, tone both ways →
// the caller hangs up → after-call work → idle; figures and records match.
func TestInboundThroughIVRToSecondAgent(t *testing.T) {
	r := newRig(t, setup{
		agents: []string{"1001", "1002"},
		groups: []callcenter.SkillGroup{{Name: "sales", Label: "售前", RingTimeout: time.Second, ACW: true, ACWDuration: 30 * time.Second}},
		members: []callcenter.Member{
			{Group: "sales", Agent: "1001", Level: 1},
			{Group: "sales", Agent: "1002", Level: 1},
		},
		menus: []callcenter.IVRMenu{{Name: "main", Prompt: "welcome_main", Timeout: 5 * time.Second, MaxTries: 2,
			Choices: map[rune]callcenter.IVRAction{'1': {Kind: callcenter.IVRGroup, Target: "sales"}},
			OnFail:  callcenter.IVRAction{Kind: callcenter.IVRHangup}}},
		numbers: map[string]string{"4008001234": "ivr:main"},
	})
	p1 := r.phone(t, "1001", ringOnly)
	p2 := r.phone(t, "1002", answerTone)
	r.online(t, "1001") // idle first: longest idle
	r.online(t, "1002")

	call := r.call(t, "13916012345", "4008001234")
	ctx := context.Background()
	time.Sleep(100 * time.Millisecond)
	if err := call.SendDTMF(ctx, "1"); err != nil {
		t.Fatal(err)
	}
	offer := p1.waitOffer(t)
	if v := offer.GetHeader(sipedge.HeaderGroup); v == nil || v.Value() != "sales" {
		t.Errorf("X-Group %v", v)
	}
	r.sink.waitFor(t, "1001 ringing", func(s *recSink) bool { return s.last("1001").Activity == callcenter.ActivityRinging })
	p2.waitOffer(t)
	if ok := <-p2.heard; !ok {
		t.Error("agent 1002 did not hear the customer")
	}
	r.sink.waitFor(t, "1002 talking", func(s *recSink) bool { return s.last("1002").Activity == callcenter.ActivityTalking })
	time.Sleep(400 * time.Millisecond)
	call.Hangup(ctx)
	rec := r.rec.waitEnded(t)
	if rec.Agent != "1002" || rec.Group != "sales" || rec.Result != callcenter.ResultAnswered || rec.HangupBy != callcenter.PartyCaller || rec.Abandoned || rec.QueueWait <= 0 {
		t.Errorf("record %+v", rec)
	}
	pcm := call.Received()
	if !heardSome(pcm, 500) {
		t.Error("customer did not hear the hold music")
	}
	if !heardSome(pcm, agentTone) {
		t.Error("customer did not hear the agent")
	}
	r.sink.waitFor(t, "1002 in ACW", func(s *recSink) bool { return s.last("1002").Activity == callcenter.ActivityACW })
	r.sink.mu.Lock()
	acwUntil := r.sink.last("1002").ACWUntil
	r.sink.mu.Unlock()
	if want := r.clock.Now().Add(30 * time.Second); acwUntil.After(want) || acwUntil.Before(want.Add(-time.Second)) {
		t.Errorf("ACW until %v, want about %v", acwUntil, want)
	}
	r.clock.Advance(31 * time.Second)
	r.sink.waitFor(t, "1002 idle after ACW", func(s *recSink) bool { return s.last("1002").Available() })

	f1, f2 := r.c.Figures("1001"), r.c.Figures("1002")
	if f1.Missed != 1 || f1.Calls != 0 || f2.Calls != 1 || f2.Missed != 0 {
		t.Errorf("figures 1001 %+v, 1002 %+v", f1, f2)
	}
	if r.c.Status("1001").Phone != callcenter.PhoneIdle {
		t.Errorf("1001 after one miss: %+v", r.c.Status("1001"))
	}
	r.c.Flush() // store writes are asynchronous (ordered, off the lock)
	offers, err := r.st.Offers(ctx, "1001", time.Time{}, true, 0)
	if err != nil || len(offers) != 1 || offers[0].Reason != "no_answer" || offers[0].Group != "sales" {
		t.Errorf("1001 missed offers %+v %v", offers, err)
	}
	r.sink.mu.Lock()
	pops := r.sink.offers["1002"]
	r.sink.mu.Unlock()
	if len(pops) != 1 || pops[0].Region != "上海市" || pops[0].Carrier != "中国移动" || pops[0].CenterNumber != "4008001234" || pops[0].Group != "售前" { // the label, shown to the agent
		t.Errorf("screen pops %+v", pops)
	}
	log, err := r.st.StatusLog(ctx, "1002", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, s := range log {
		acts = append(acts, agentstate.Describe(s))
	}
	if got, want := joinComma(acts), "busy,idle,ringing,talking,acw,idle"; got != want {
		t.Errorf("1002's persisted statuses %s, want %s", got, want)
	}
	gs := r.c.Groups("1001")
	if len(gs) != 1 || gs[0].Waiting != 0 || gs[0].Idle != 2 {
		t.Errorf("groups %+v", gs)
	}
}

// A caller who hangs up in the queue is recorded once as abandoned with
// the wait; the group's figures count it while it waits.
func TestAbandonInQueue(t *testing.T) {
	r := newRig(t, setup{
		agents:  []string{"1001"},
		groups:  []callcenter.SkillGroup{{Name: "sales", RingTimeout: time.Second}},
		members: []callcenter.Member{{Group: "sales", Agent: "1001", Level: 1}},
		numbers: map[string]string{"4008001234": "group:sales"},
	})
	r.c.Login("1001") // online but busy: nobody takes the call
	call := r.call(t, "13800138000", "4008001234")
	r.sink.waitFor(t, "a caller waiting", func(s *recSink) bool {
		g := s.groups["1001"]
		return len(g) == 1 && g[0].Waiting == 1
	})
	time.Sleep(300 * time.Millisecond)
	call.Hangup(context.Background())
	rec := r.rec.waitEnded(t)
	if !rec.Abandoned || rec.Result != callcenter.ResultCancelled || rec.Group != "sales" || rec.QueueWait < 200*time.Millisecond || rec.Agent != "" {
		t.Errorf("record %+v", rec)
	}
	r.sink.waitFor(t, "queue empty", func(s *recSink) bool {
		g := s.groups["1001"]
		return len(g) == 1 && g[0].Waiting == 0
	})
}

// The maximum wait moves the caller to the overflow group, whose agent
// answers.
func TestOverflowOnMaxWait(t *testing.T) {
	r := newRig(t, setup{
		agents: []string{"1001", "1003"},
		groups: []callcenter.SkillGroup{
			{Name: "support", RingTimeout: 2 * time.Second},
			{Name: "sales", RingTimeout: time.Second, MaxWait: time.Minute, Overflow: callcenter.OverflowGroup, OverflowGroup: "support"},
		},
		members: []callcenter.Member{
			{Group: "sales", Agent: "1001", Level: 1},
			{Group: "support", Agent: "1003", Level: 1},
		},
		numbers: map[string]string{"4008001234": "group:sales"},
	})
	p3 := r.phone(t, "1003", answerTone)
	r.c.Login("1001")
	r.online(t, "1003")
	call := r.call(t, "13800138000", "4008001234")
	r.sink.waitFor(t, "a caller waiting in sales", func(s *recSink) bool {
		g := s.groups["1001"]
		return len(g) == 1 && g[0].Waiting == 1
	})
	select {
	case <-p3.offers:
		t.Fatal("support rang before the maximum wait")
	case <-time.After(200 * time.Millisecond):
	}
	r.clock.Advance(61 * time.Second)
	p3.waitOffer(t)
	if !<-p3.heard {
		t.Error("1003 did not hear the customer")
	}
	call.Hangup(context.Background())
	rec := r.rec.waitEnded(t)
	if rec.Agent != "1003" || rec.Group != "support" || rec.Result != callcenter.ResultAnswered || rec.QueueWait < time.Minute {
		t.Errorf("record %+v", rec)
	}
}

// Voicemail overflow: the caller hears the message, the call ends as not
// answered and the group's members are asked to call back.
func TestOverflowVoicemail(t *testing.T) {
	r := newRig(t, setup{
		agents:  []string{"1001"},
		groups:  []callcenter.SkillGroup{{Name: "sales", MaxWait: 30 * time.Second, Overflow: callcenter.OverflowVoicemail}},
		members: []callcenter.Member{{Group: "sales", Agent: "1001", Level: 1}},
		numbers: map[string]string{"4008001234": "group:sales"},
	})
	r.c.Login("1001")
	r.call(t, "13800138000", "4008001234")
	r.sink.waitFor(t, "waiting", func(s *recSink) bool {
		g := s.groups["1001"]
		return len(g) == 1 && g[0].Waiting == 1
	})
	r.clock.Advance(31 * time.Second)
	rec := r.rec.waitEnded(t)
	if rec.Result != callcenter.ResultNoAnswer || rec.HangupBy != callcenter.PartySystem || rec.Abandoned || rec.Group != "sales" {
		t.Errorf("record %+v", rec)
	}
	r.sink.mu.Lock()
	n := r.sink.notices["1001"]
	r.sink.mu.Unlock()
	if len(n) != 1 || n[0].Code != NoticeCallback {
		t.Errorf("notices %+v", n)
	}
}

// Ring-all rings every idle member; the first to answer takes the call and
// the others are free again without a missed call.
func TestRingAll(t *testing.T) {
	r := newRig(t, setup{
		agents:  []string{"1001", "1002"},
		groups:  []callcenter.SkillGroup{{Name: "hot", Strategy: callcenter.StrategyRingAll, RingTimeout: 3 * time.Second}},
		members: []callcenter.Member{{Group: "hot", Agent: "1001", Level: 1}, {Group: "hot", Agent: "1002", Level: 1}},
		numbers: map[string]string{"4008001234": "group:hot"},
	})
	p1 := r.phone(t, "1001", ringOnly)
	p2 := r.phone(t, "1002", answerTone)
	r.online(t, "1001")
	r.online(t, "1002")
	call := r.call(t, "13800138000", "4008001234")
	p1.waitOffer(t)
	p2.waitOffer(t)
	if !<-p2.heard {
		t.Error("1002 did not hear the customer")
	}
	r.sink.waitFor(t, "1001 free again", func(s *recSink) bool { return s.last("1001").Available() })
	call.Hangup(context.Background())
	rec := r.rec.waitEnded(t)
	if rec.Agent != "1002" || rec.Result != callcenter.ResultAnswered {
		t.Errorf("record %+v", rec)
	}
	if f := r.c.Figures("1001"); f.Missed != 0 {
		t.Errorf("1001 figures %+v", f)
	}
}

// An agent who misses two offers in a row is set to busy and told why;
// the caller keeps waiting and then gives up.
func TestTwoMissesSetBusy(t *testing.T) {
	r := newRig(t, setup{
		agents:  []string{"1001"},
		groups:  []callcenter.SkillGroup{{Name: "sales", RingTimeout: 500 * time.Millisecond}},
		members: []callcenter.Member{{Group: "sales", Agent: "1001", Level: 1}},
		numbers: map[string]string{"4008001234": "group:sales"},
	})
	p1 := r.phone(t, "1001", ringOnly)
	r.online(t, "1001")
	call := r.call(t, "13800138000", "4008001234")
	p1.waitOffer(t)
	p1.waitOffer(t)
	r.sink.waitFor(t, "notice", func(s *recSink) bool { return len(s.notices["1001"]) == 1 })
	st := r.c.Status("1001")
	if st.Phone != callcenter.PhoneBusy || st.Activity != callcenter.ActivityNone {
		t.Errorf("1001 after two misses %+v", st)
	}
	r.sink.mu.Lock()
	n := r.sink.notices["1001"][0]
	missed := len(r.sink.missed["1001"])
	r.sink.mu.Unlock()
	if n.Code != agentstate.NoticeMissedTwice || missed != 2 {
		t.Errorf("notice %+v, %d missed", n, missed)
	}
	select {
	case <-p1.offers:
		t.Error("a busy agent was offered a third time")
	case <-time.After(300 * time.Millisecond):
	}
	call.Hangup(context.Background())
	if rec := r.rec.waitEnded(t); !rec.Abandoned {
		t.Errorf("record %+v", rec)
	}
}

// A number routed nowhere and a group with no members end clearly, each
// call recorded once.
func TestBadRoutes(t *testing.T) {
	r := newRig(t, setup{
		agents:  []string{"1001"},
		groups:  []callcenter.SkillGroup{{Name: "empty"}},
		numbers: map[string]string{"4008000001": "", "4008000002": "group:empty"},
	})
	_, err := r.sim.Call(context.Background(), "13800138000", "4008000001", pstnsim.CallOptions{})
	var se *pstnsim.StatusError
	if !errors.As(err, &se) || se.Code != 480 {
		t.Errorf("routed nowhere: %v", err)
	}
	if rec := r.rec.waitEnded(t); rec.Result != callcenter.ResultUnreachable {
		t.Errorf("routed nowhere: record %+v", rec)
	}
	call := r.call(t, "13800138000", "4008000002")
	select {
	case <-call.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("call to an empty group was not ended")
	}
	if rec := r.rec.waitEnded(t); rec.Result != callcenter.ResultNoAnswer || rec.Group != "empty" || rec.Abandoned {
		t.Errorf("empty group: record %+v", rec)
	}
}

func joinComma(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}
