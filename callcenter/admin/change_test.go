package admin

import (
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter"
)

func TestGroupChangeApply(t *testing.T) {
	str := func(s string) *string { return &s }
	dur := func(d time.Duration) *time.Duration { return &d }
	base := NewGroupDefaults("sales")
	overflowing := base
	overflowing.MaxWait, overflowing.Overflow, overflowing.OverflowGroup = time.Minute, callcenter.OverflowGroup, "support"
	for _, tc := range []struct {
		name string
		from callcenter.SkillGroup
		ch   GroupChange
		want func(g *callcenter.SkillGroup)
		err  error
	}{
		{"nothing", base, GroupChange{}, func(*callcenter.SkillGroup) {}, nil},
		{"strategy", base, GroupChange{Strategy: str("ring_all")}, func(g *callcenter.SkillGroup) { g.Strategy = callcenter.StrategyRingAll }, nil},
		{"bad strategy", base, GroupChange{Strategy: str("random")}, nil, callcenter.ErrInvalid},
		{"bad overflow", base, GroupChange{Overflow: str("never")}, nil, callcenter.ErrInvalid},
		{"overflow group alone implies group", base, GroupChange{OverflowGroup: str("support")},
			func(g *callcenter.SkillGroup) { g.Overflow, g.OverflowGroup = callcenter.OverflowGroup, "support" }, nil},
		{"overflow kind alone drops the group", overflowing, GroupChange{Overflow: str("voicemail")},
			func(g *callcenter.SkillGroup) { g.Overflow, g.OverflowGroup = callcenter.OverflowVoicemail, "" }, nil},
		{"overflow group kept when kind is group", overflowing, GroupChange{Overflow: str("group")}, func(*callcenter.SkillGroup) {}, nil},
		{"overflow group without group", base, GroupChange{Overflow: str("group")}, nil, errNeedsOverflowGroup},
		{"clearing the overflow group", overflowing, GroupChange{OverflowGroup: str("")}, nil, callcenter.ErrInvalid},
		{"acw on", base, GroupChange{ACW: dur(20 * time.Second)}, func(g *callcenter.SkillGroup) { g.ACW, g.ACWDuration = true, 20*time.Second }, nil},
		{"acw off", func() callcenter.SkillGroup { g := base; g.ACW, g.ACWDuration = true, time.Second; return g }(), GroupChange{ACW: dur(0)},
			func(g *callcenter.SkillGroup) { g.ACW, g.ACWDuration = false, 0 }, nil},
		{"durations and names", base, GroupChange{Label: str("售前"), IVR: str("main"), RingTimeout: dur(time.Second), MaxWait: dur(time.Hour),
			TierWiden: dur(2 * time.Second), Announce: dur(3 * time.Second)}, func(g *callcenter.SkillGroup) {
			g.Label, g.IVR, g.RingTimeout, g.MaxWait, g.TierWiden, g.AnnounceEvery = "售前", "main", time.Second, time.Hour, 2*time.Second, 3*time.Second
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.ch.Apply(tc.from)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tc.from
			tc.want(&want)
			if got != want {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestParseChoices(t *testing.T) {
	for _, tc := range []struct {
		in   map[string]string
		want map[rune]callcenter.IVRAction
		ok   bool
	}{
		{map[string]string{}, map[rune]callcenter.IVRAction{}, true},
		{map[string]string{"1": "group:sales", "#": "hangup", "*": "menu:sub", "0": "agent:1001", "9": "repeat"},
			map[rune]callcenter.IVRAction{'1': {Kind: callcenter.IVRGroup, Target: "sales"}, '#': {Kind: callcenter.IVRHangup},
				'*': {Kind: callcenter.IVRSubMenu, Target: "sub"}, '0': {Kind: callcenter.IVRAgent, Target: "1001"}, '9': {Kind: callcenter.IVRRepeat}}, true},
		{map[string]string{"10": "repeat"}, nil, false},
		{map[string]string{"": "repeat"}, nil, false},
		{map[string]string{"a": "repeat"}, nil, false},
		{map[string]string{"1": "group:"}, nil, false},
		{map[string]string{"1": "hangup:now"}, nil, false},
		{map[string]string{"1": "dance"}, nil, false},
	} {
		got, err := ParseChoices(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ParseChoices(%v): %v, want ok=%v", tc.in, err, tc.ok)
			continue
		}
		if !tc.ok {
			if !errors.Is(err, callcenter.ErrInvalid) {
				t.Errorf("ParseChoices(%v): %v is not ErrInvalid", tc.in, err)
			}
			continue
		}
		if !maps.Equal(got, tc.want) {
			t.Errorf("ParseChoices(%v) = %v, want %v", tc.in, got, tc.want)
		}
		if back := FormatChoices(got); !maps.Equal(back, tc.in) {
			t.Errorf("FormatChoices round trip: %v, want %v", back, tc.in)
		}
	}
}
