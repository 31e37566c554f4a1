package center

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/pstnsim"
)

// Bad input over real SIP: every call ends by itself with a clear outcome,
// nothing is left queued or ringing, and each call is recorded once.
//
// A group with no members cannot answer anyone: its overflow applies at
// once (the voicemail message here, or another group), and without one
// the caller hears all-busy right away rather than waiting out the
// maximum wait for nobody.
func TestBadInput(t *testing.T) {
	menu := func(name string, choices map[rune]callcenter.IVRAction) callcenter.IVRMenu {
		return callcenter.IVRMenu{Name: name, Prompt: "welcome_main", Timeout: 2 * time.Second, MaxTries: 2,
			Choices: choices, OnFail: callcenter.IVRAction{Kind: callcenter.IVRHangup}}
	}
	r := newRig(t, setup{
		agents: []string{"1001"},
		groups: []callcenter.SkillGroup{
			{Name: "sales", RingTimeout: 5 * time.Second},
			{Name: "empty"},
			{Name: "empty-vm", Overflow: callcenter.OverflowVoicemail, MaxWait: time.Minute},
		},
		members: []callcenter.Member{{Group: "sales", Agent: "1001", Level: 1}},
		menus: []callcenter.IVRMenu{
			// a ⇄ b: a caller keying 1 forever goes round until the
			// runner's hop limit.
			menu("loop-a", map[rune]callcenter.IVRAction{'1': {Kind: callcenter.IVRSubMenu, Target: "loop-b"}}),
			menu("loop-b", map[rune]callcenter.IVRAction{'1': {Kind: callcenter.IVRSubMenu, Target: "loop-a"}}),
			menu("main", map[rune]callcenter.IVRAction{'1': {Kind: callcenter.IVRGroup, Target: "sales"}}),
			// A choice to a group that does not exist.
			menu("stale", map[rune]callcenter.IVRAction{'1': {Kind: callcenter.IVRGroup, Target: "gone"}}),
		},
		numbers: map[string]string{
			"4008000001": "ivr:loop-a",
			"4008000002": "ivr:main",
			"4008000003": "group:empty",
			"4008000004": "group:empty-vm",
			"4008000005": "",
			"4008000006": "ivr:stale",
		},
	})
	r.phone(t, "1001", answerTone)
	r.online(t, "1001") // idle: none of these calls may reach it
	tests := []struct {
		name   string
		number string
		keys   string
		code   int // the carrier's final status when not answered
		result callcenter.Result
	}{
		{name: "IVR that loops", number: "4008000001", keys: "1111111111111111", result: callcenter.ResultCancelled},
		{name: "DTMF garbage", number: "4008000002", keys: "*#A0", result: callcenter.ResultCancelled},
		{name: "group without members", number: "4008000003", result: callcenter.ResultNoAnswer},
		{name: "group without members, voicemail", number: "4008000004", result: callcenter.ResultNoAnswer},
		{name: "number routed nowhere", number: "4008000005", code: 480, result: callcenter.ResultUnreachable},
		{name: "IVR choice of a missing group", number: "4008000006", keys: "1", result: callcenter.ResultFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			start := time.Now()
			call, err := r.sim.Call(ctx, "13800138000", tc.number, pstnsim.CallOptions{})
			if tc.code != 0 {
				var se *pstnsim.StatusError
				if !errors.As(err, &se) || se.Code != tc.code {
					t.Fatalf("call: %v, want status %d", err, tc.code)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if tc.keys != "" {
					time.Sleep(100 * time.Millisecond)
					// The center may hang up while keys are still going.
					if err := call.SendDTMF(ctx, tc.keys); err != nil {
						t.Logf("DTMF: %v", err)
					}
				}
				select {
				case <-call.Done():
				case <-ctx.Done():
					t.Fatal("the center did not end the call")
				}
			}
			rec := r.rec.waitEnded(t)
			if rec.Result != tc.result || rec.HangupBy != callcenter.PartySystem || rec.Abandoned || rec.Agent != "" {
				t.Errorf("record %+v, want %s by the system", rec, tc.result)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %s", d)
			}
			r.quiet(t)
		})
	}
	r.sink.mu.Lock()
	offers := len(r.sink.offerLog)
	r.sink.mu.Unlock()
	if offers != 0 {
		t.Errorf("%d offers reached the agent", offers)
	}
	r.recordsOnce(t, len(tests))
}

// Reload while a caller waits: a new member is offered the call; a group
// that is gone sends its callers to its overflow (here none: all-busy).
func TestReload(t *testing.T) {
	r := newRig(t, setup{
		agents:  []string{"1001", "1002"},
		groups:  []callcenter.SkillGroup{{Name: "sales", RingTimeout: 5 * time.Second}, {Name: "old"}},
		members: []callcenter.Member{{Group: "sales", Agent: "1001", Level: 1}, {Group: "old", Agent: "1001", Level: 1}},
		numbers: map[string]string{"4008001234": "group:sales", "4008000009": "group:old"},
	})
	ctx := context.Background()
	r.phone(t, "1002", answerTone)
	r.c.Login("1001") // busy: both callers wait
	r.online(t, "1002")
	waiting := func(group string) func(*recSink) bool {
		return func(s *recSink) bool {
			for _, g := range s.groups["1001"] {
				if g.Group == group && g.Waiting == 1 {
					return true
				}
			}
			return false
		}
	}
	sales := r.call(t, "13800000001", "4008001234")
	r.sink.waitFor(t, "waiting in sales", waiting("sales"))
	old := r.call(t, "13800000002", "4008000009")
	r.sink.waitFor(t, "waiting in old", waiting("old"))

	if err := r.st.SetMember(ctx, callcenter.Member{Group: "sales", Agent: "1002", Level: 1}); err != nil {
		t.Fatal(err)
	}
	r.view.hide("old")
	if err := r.c.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-old.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the caller of a removed group still waits")
	}
	rec := r.rec.waitEnded(t)
	if rec.Caller != "13800000002" || rec.Result != callcenter.ResultNoAnswer || rec.Group != "old" {
		t.Errorf("removed group's caller: record %+v", rec)
	}
	waitUntil(t, "the sales caller hears 1002", func() bool { return sales.Heard(agentTone) })
	sales.Hangup(ctx)
	if rec := r.rec.waitEnded(t); rec.Agent != "1002" || rec.Result != callcenter.ResultAnswered {
		t.Errorf("sales caller: record %+v", rec)
	}
	r.quiet(t)
	r.recordsOnce(t, 2)
}
