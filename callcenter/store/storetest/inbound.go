package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/store"
)

// The conformance tests of store.Inbound (issue 3).

func mustAgents(t *testing.T, s store.Store, wns ...string) {
	t.Helper()
	for _, wn := range wns {
		if _, err := s.CreateAgent(context.Background(), agent(wn, "n"+wn)); err != nil {
			t.Fatal(err)
		}
	}
}

func salesGroup() callcenter.SkillGroup {
	return callcenter.SkillGroup{Name: "sales", Label: "售前咨询", Strategy: callcenter.StrategyLongestIdle,
		RingTimeout: 15 * time.Second, MaxWait: 90 * time.Second, Overflow: callcenter.OverflowGroup,
		OverflowGroup: "support", ACW: true, ACWDuration: 15 * time.Second, TierWiden: 30 * time.Second,
		AnnounceEvery: 45 * time.Second}
}

func testGroups(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	sales := salesGroup()
	if _, err := s.CreateGroup(ctx, sales); !errors.Is(err, callcenter.ErrNotFound) {
		t.Fatalf("group overflowing to a missing group: err = %v, want ErrNotFound", err)
	}
	support, err := s.CreateGroup(ctx, callcenter.SkillGroup{Name: "support", Strategy: callcenter.StrategyRoundRobin})
	if err != nil {
		t.Fatal(err)
	}
	if support.ID == 0 || support.Label != "support" {
		t.Fatalf("created %+v, want ID set and Label defaulting to the name", support)
	}
	got, err := s.CreateGroup(ctx, sales)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID == 0 || got.ID == support.ID {
		t.Fatalf("created ID %d (support %d)", got.ID, support.ID)
	}
	want := sales
	want.ID = got.ID
	if got != want {
		t.Fatalf("CreateGroup = %+v, want %+v", got, want)
	}
	if rb, err := s.GroupByName(ctx, "sales"); err != nil || rb != want {
		t.Fatalf("GroupByName = %+v, %v; want %+v", rb, err, want)
	}
	if _, err := s.GroupByName(ctx, "nope"); !errors.Is(err, callcenter.ErrNotFound) {
		t.Fatalf("unknown group err = %v, want ErrNotFound", err)
	}
	if _, err := s.CreateGroup(ctx, callcenter.SkillGroup{Name: "sales", Label: "again"}); !errors.Is(err, callcenter.ErrExists) {
		t.Fatalf("duplicate group err = %v, want ErrExists", err)
	}

	bad := []struct {
		name string
		mut  func(*callcenter.SkillGroup)
		want error
	}{
		{"empty name", func(g *callcenter.SkillGroup) { g.Name = "" }, callcenter.ErrInvalid},
		{"name with space", func(g *callcenter.SkillGroup) { g.Name = "pre sales" }, callcenter.ErrInvalid},
		{"long name", func(g *callcenter.SkillGroup) { g.Name = "abcdefghijabcdefghijabcdefghijabc" }, callcenter.ErrInvalid},
		{"control char label", func(g *callcenter.SkillGroup) { g.Label = "a\x00b" }, callcenter.ErrInvalid},
		{"strategy 99", func(g *callcenter.SkillGroup) { g.Strategy = 99 }, callcenter.ErrInvalid},
		{"overflow 7", func(g *callcenter.SkillGroup) { g.Overflow = 7 }, callcenter.ErrInvalid},
		{"overflow group missing", func(g *callcenter.SkillGroup) { g.OverflowGroup = "" }, callcenter.ErrInvalid},
		{"overflow group without kind", func(g *callcenter.SkillGroup) { g.Overflow = callcenter.OverflowVoicemail }, callcenter.ErrInvalid},
		{"overflow to itself", func(g *callcenter.SkillGroup) { g.OverflowGroup = g.Name }, callcenter.ErrInvalid},
		{"negative ring timeout", func(g *callcenter.SkillGroup) { g.RingTimeout = -time.Second }, callcenter.ErrInvalid},
		{"negative max wait", func(g *callcenter.SkillGroup) { g.MaxWait = -1 }, callcenter.ErrInvalid},
		{"negative ACW", func(g *callcenter.SkillGroup) { g.ACWDuration = -1 }, callcenter.ErrInvalid},
		{"negative tier widen", func(g *callcenter.SkillGroup) { g.TierWiden = -1 }, callcenter.ErrInvalid},
		{"negative announce", func(g *callcenter.SkillGroup) { g.AnnounceEvery = -1 }, callcenter.ErrInvalid},
		{"unknown IVR", func(g *callcenter.SkillGroup) { g.IVR = "nomenu" }, callcenter.ErrNotFound},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			g := salesGroup()
			g.Name = "g2"
			tt.mut(&g)
			if _, err := s.CreateGroup(ctx, g); !errors.Is(err, tt.want) {
				t.Fatalf("CreateGroup err = %v, want %v", err, tt.want)
			}
			g.Name = "sales"
			tt.mut(&g)
			if err := s.UpdateGroup(ctx, g); !errors.Is(err, tt.want) {
				t.Fatalf("UpdateGroup err = %v, want %v", err, tt.want)
			}
		})
	}
	if rb, _ := s.GroupByName(ctx, "sales"); rb != want {
		t.Fatalf("refused updates changed the group: %+v", rb)
	}

	if _, err := s.PutIVRMenu(ctx, menu("main")); err != nil {
		t.Fatal(err)
	}
	upd := want
	upd.ID = 0 // ignored
	upd.Label, upd.Strategy, upd.Overflow, upd.OverflowGroup = "Sales", callcenter.StrategySkillTiers, callcenter.OverflowVoicemail, ""
	upd.ACW, upd.ACWDuration, upd.IVR = false, 0, "main"
	if err := s.UpdateGroup(ctx, upd); err != nil {
		t.Fatal(err)
	}
	upd.ID = want.ID
	if rb, err := s.GroupByName(ctx, "sales"); err != nil || rb != upd {
		t.Fatalf("after update %+v, %v; want %+v", rb, err, upd)
	}
	if err := s.UpdateGroup(ctx, callcenter.SkillGroup{Name: "ghost"}); !errors.Is(err, callcenter.ErrNotFound) {
		t.Fatalf("UpdateGroup(unknown) err = %v, want ErrNotFound", err)
	}
	list, err := s.ListGroups(ctx)
	if err != nil || len(list) != 2 || list[0] != upd || list[1] != support {
		t.Fatalf("ListGroups = %+v, %v; want sales, support", list, err)
	}
}

func testMembers(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	mustAgents(t, s, "1001", "1002", "2001")
	for _, name := range []string{"support", "sales", "empty"} {
		if _, err := s.CreateGroup(ctx, callcenter.SkillGroup{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []callcenter.Member{
		{Group: "sales", Agent: "1002", Level: 2},
		{Group: "sales", Agent: "1001", Level: 3},
		{Group: "sales", Agent: "1001", Level: 1}, // upsert: level changes
		{Group: "support", Agent: "2001", Level: 1},
		{Group: "support", Agent: "1002", Level: 1},
	} {
		if err := s.SetMember(ctx, m); err != nil {
			t.Fatalf("SetMember(%+v): %v", m, err)
		}
	}
	bad := []struct {
		name string
		m    callcenter.Member
		want error
	}{
		{"unknown group", callcenter.Member{Group: "vip", Agent: "1001", Level: 1}, callcenter.ErrNotFound},
		{"unknown agent", callcenter.Member{Group: "sales", Agent: "9999", Level: 1}, callcenter.ErrNotFound},
		{"level 0", callcenter.Member{Group: "sales", Agent: "2001", Level: 0}, callcenter.ErrInvalid},
		{"negative level", callcenter.Member{Group: "sales", Agent: "2001", Level: -1}, callcenter.ErrInvalid},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.SetMember(ctx, tt.m); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	check := func(what string, got []callcenter.Member, err error, want ...callcenter.Member) {
		t.Helper()
		if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s = %v, %v; want %v", what, got, err, want)
		}
	}
	got, err := s.Members(ctx, "sales")
	check("Members(sales)", got, err, callcenter.Member{Group: "sales", Agent: "1001", Level: 1}, callcenter.Member{Group: "sales", Agent: "1002", Level: 2})
	got, err = s.Members(ctx, "support") // same level: by work number
	check("Members(support)", got, err, callcenter.Member{Group: "support", Agent: "1002", Level: 1}, callcenter.Member{Group: "support", Agent: "2001", Level: 1})
	got, err = s.Members(ctx, "empty")
	check("Members(empty)", got, err)
	if _, err := s.Members(ctx, "vip"); !errors.Is(err, callcenter.ErrNotFound) {
		t.Fatalf("Members(unknown) err = %v, want ErrNotFound", err)
	}
	got, err = s.GroupsOf(ctx, "1002")
	check("GroupsOf(1002)", got, err, callcenter.Member{Group: "sales", Agent: "1002", Level: 2}, callcenter.Member{Group: "support", Agent: "1002", Level: 1})
	got, err = s.GroupsOf(ctx, "9999")
	check("GroupsOf(unknown)", got, err)

	if err := s.RemoveMember(ctx, "sales", "1002"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveMember(ctx, "sales", "1002"); !errors.Is(err, callcenter.ErrNotFound) {
		t.Fatalf("second RemoveMember err = %v, want ErrNotFound", err)
	}
	got, err = s.GroupsOf(ctx, "1002")
	check("GroupsOf(1002) after remove", got, err, callcenter.Member{Group: "support", Agent: "1002", Level: 1})
}

func menu(name string) callcenter.IVRMenu {
	return callcenter.IVRMenu{Name: name, Prompt: "welcome_" + name,
		Choices: map[rune]callcenter.IVRAction{
			'1': {Kind: callcenter.IVRGroup, Target: "sales"},
			'2': {Kind: callcenter.IVRSubMenu, Target: "sub"},
			'0': {Kind: callcenter.IVRAgent, Target: "1001"},
			'9': {Kind: callcenter.IVRRepeat},
			'*': {Kind: callcenter.IVRHangup},
			'#': {Kind: callcenter.IVRSubMenu, Target: name},
		},
		Timeout: 5 * time.Second, MaxTries: 3, OnFail: callcenter.IVRAction{Kind: callcenter.IVRGroup, Target: "sales"}}
}

func testIVRMenus(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	// Targets need not exist: menus may point at each other.
	main, err := s.PutIVRMenu(ctx, menu("main"))
	if err != nil {
		t.Fatal(err)
	}
	if main.ID == 0 {
		t.Fatal("PutIVRMenu did not set ID")
	}
	got, err := s.IVRMenuByName(ctx, "main")
	if err != nil || !reflect.DeepEqual(got, main) {
		t.Fatalf("IVRMenuByName = %+v, %v; want %+v", got, err, main)
	}
	sub := menu("sub")
	sub.Choices = nil // no choices: only OnFail after the tries
	sub.OnFail = callcenter.IVRAction{Kind: callcenter.IVRHangup}
	if sub, err = s.PutIVRMenu(ctx, sub); err != nil {
		t.Fatal(err)
	}
	if got, err := s.IVRMenuByName(ctx, "sub"); err != nil || got.ID != sub.ID || len(got.Choices) != 0 || got.OnFail != sub.OnFail {
		t.Fatalf("IVRMenuByName(sub) = %+v, %v", got, err)
	}

	// Upsert replaces everything but keeps the ID.
	repl := menu("main")
	repl.Prompt, repl.Timeout, repl.MaxTries = "welcome_v2", 8*time.Second, 2
	repl.Choices = map[rune]callcenter.IVRAction{'3': {Kind: callcenter.IVRHangup}}
	put, err := s.PutIVRMenu(ctx, repl)
	if err != nil || put.ID != main.ID {
		t.Fatalf("upsert = %+v, %v; want ID %d", put, err, main.ID)
	}
	if got, _ := s.IVRMenuByName(ctx, "main"); !reflect.DeepEqual(got, put) {
		t.Fatalf("after upsert %+v, want %+v", got, put)
	}

	bad := []struct {
		name string
		mut  func(*callcenter.IVRMenu)
	}{
		{"empty name", func(m *callcenter.IVRMenu) { m.Name = "" }},
		{"bad name", func(m *callcenter.IVRMenu) { m.Name = "主菜单" }},
		{"empty prompt", func(m *callcenter.IVRMenu) { m.Prompt = " " }},
		{"digit A", func(m *callcenter.IVRMenu) { m.Choices['A'] = callcenter.IVRAction{Kind: callcenter.IVRHangup} }},
		{"digit NUL", func(m *callcenter.IVRMenu) { m.Choices[0] = callcenter.IVRAction{Kind: callcenter.IVRHangup} }},
		{"digit fullwidth 1", func(m *callcenter.IVRMenu) { m.Choices['１'] = callcenter.IVRAction{Kind: callcenter.IVRHangup} }},
		{"unknown kind", func(m *callcenter.IVRMenu) { m.Choices['5'] = callcenter.IVRAction{Kind: 42} }},
		{"negative kind", func(m *callcenter.IVRMenu) { m.Choices['5'] = callcenter.IVRAction{Kind: -1} }},
		{"group without target", func(m *callcenter.IVRMenu) { m.Choices['5'] = callcenter.IVRAction{Kind: callcenter.IVRGroup} }},
		{"menu without target", func(m *callcenter.IVRMenu) { m.Choices['5'] = callcenter.IVRAction{Kind: callcenter.IVRSubMenu} }},
		{"agent bad work number", func(m *callcenter.IVRMenu) {
			m.Choices['5'] = callcenter.IVRAction{Kind: callcenter.IVRAgent, Target: "10 01"}
		}},
		{"repeat with target", func(m *callcenter.IVRMenu) {
			m.Choices['5'] = callcenter.IVRAction{Kind: callcenter.IVRRepeat, Target: "x"}
		}},
		{"negative timeout", func(m *callcenter.IVRMenu) { m.Timeout = -time.Second }},
		{"zero tries", func(m *callcenter.IVRMenu) { m.MaxTries = 0 }},
		{"on fail repeat", func(m *callcenter.IVRMenu) { m.OnFail = callcenter.IVRAction{Kind: callcenter.IVRRepeat} }},
		{"on fail unset", func(m *callcenter.IVRMenu) { m.OnFail = callcenter.IVRAction{} }},
		{"on fail unknown kind", func(m *callcenter.IVRMenu) { m.OnFail = callcenter.IVRAction{Kind: 9, Target: "x"} }},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			m := menu("main")
			tt.mut(&m)
			if _, err := s.PutIVRMenu(ctx, m); !errors.Is(err, callcenter.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
	if got, _ := s.IVRMenuByName(ctx, "main"); !reflect.DeepEqual(got, put) {
		t.Fatalf("refused puts changed the menu: %+v", got)
	}
	if _, err := s.IVRMenuByName(ctx, "nope"); !errors.Is(err, callcenter.ErrNotFound) {
		t.Fatalf("unknown menu err = %v, want ErrNotFound", err)
	}
	list, err := s.ListIVRMenus(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "main" || list[1].Name != "sub" {
		t.Fatalf("ListIVRMenus = %+v, %v", list, err)
	}
}

func testCustomStatuses(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	var want []callcenter.CustomStatus
	for _, c := range []callcenter.CustomStatus{{Name: "meeting", Label: "会议中"}, {Name: "break", Label: "小休"}, {Name: "training", Label: "培训"}} {
		got, err := s.CreateCustomStatus(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID == 0 || got.Name != c.Name || got.Label != c.Label {
			t.Fatalf("CreateCustomStatus = %+v", got)
		}
		want = append(want, got)
	}
	for _, tt := range []struct {
		c    callcenter.CustomStatus
		want error
	}{
		{callcenter.CustomStatus{Name: "meeting", Label: "again"}, callcenter.ErrExists},
		{callcenter.CustomStatus{Name: "", Label: "x"}, callcenter.ErrInvalid},
		{callcenter.CustomStatus{Name: "lunch break", Label: "x"}, callcenter.ErrInvalid},
		{callcenter.CustomStatus{Name: "lunch", Label: ""}, callcenter.ErrInvalid},
		{callcenter.CustomStatus{Name: "lunch", Label: "a\nb"}, callcenter.ErrInvalid},
	} {
		if _, err := s.CreateCustomStatus(ctx, tt.c); !errors.Is(err, tt.want) {
			t.Errorf("CreateCustomStatus(%+v) err = %v, want %v", tt.c, err, tt.want)
		}
	}
	// Creation order, the order the status menu shows.
	if got, err := s.ListCustomStatuses(ctx); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ListCustomStatuses = %+v, %v; want %+v", got, err, want)
	}
}

func testNumberRoutes(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	mustAgents(t, s, "1001")
	if _, err := s.CreateGroup(ctx, callcenter.SkillGroup{Name: "sales"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutIVRMenu(ctx, menu("main")); err != nil {
		t.Fatal(err)
	}
	n, err := s.CreateNumber(ctx, callcenter.Number{E164: "4008001234", Name: "Hotline", RouteIVR: "main", RouteAgent: "1001"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.NumberByE164(ctx, "4008001234"); err != nil || got != n {
		t.Fatalf("NumberByE164 = %+v, %v; want %+v", got, err, n)
	}
	for _, bad := range []callcenter.Number{
		{E164: "4008005555", Name: "x", RouteIVR: "nomenu"},
		{E164: "4008005555", Name: "x", RouteGroup: "nogroup"},
	} {
		if _, err := s.CreateNumber(ctx, bad); !errors.Is(err, callcenter.ErrNotFound) {
			t.Errorf("CreateNumber(%+v) err = %v, want ErrNotFound", bad, err)
		}
	}
	if _, err := s.CreateNumber(ctx, callcenter.Number{E164: "02161234567", Name: "SH"}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name              string
		e164              string
		ivr, group, agent string
		want              error
	}{
		{"to group", "02161234567", "", "sales", "", nil},
		{"to agent", "02161234567", "", "", "1001", nil},
		{"to ivr", "02161234567", "main", "", "", nil},
		{"nowhere", "02161234567", "", "", "", nil},
		{"unknown number", "999", "main", "", "", callcenter.ErrNotFound},
		{"unknown ivr", "02161234567", "nomenu", "", "", callcenter.ErrNotFound},
		{"unknown group", "02161234567", "", "nogroup", "", callcenter.ErrNotFound},
		{"unknown agent", "02161234567", "", "", "9999", callcenter.ErrNotFound},
	}
	last := callcenter.Number{E164: "02161234567", Name: "SH"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.SetNumberRoute(ctx, tt.e164, tt.ivr, tt.group, tt.agent)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if err == nil {
				last.RouteIVR, last.RouteGroup, last.RouteAgent = tt.ivr, tt.group, tt.agent
			}
			got, err := s.NumberByE164(ctx, "02161234567")
			last.ID = got.ID
			if err != nil || got != last {
				t.Fatalf("number = %+v, %v; want %+v", got, err, last)
			}
		})
	}
	list, err := s.ListNumbers(ctx)
	if err != nil || len(list) != 2 || list[1] != n {
		t.Fatalf("ListNumbers = %+v, %v", list, err)
	}
}

func status(agent string, since time.Time, p callcenter.Presence, phone callcenter.PhoneStatus) callcenter.AgentStatus {
	return callcenter.AgentStatus{Agent: agent, Presence: p, Phone: phone, Since: since}
}

func testStatusLog(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	if _, err := s.LastStatus(ctx, "1001"); !errors.Is(err, callcenter.ErrNotFound) {
		t.Fatalf("LastStatus with no log err = %v, want ErrNotFound", err)
	}
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	acw := status("1001", at(30), callcenter.PresenceOnline, callcenter.PhoneIdle)
	acw.Activity, acw.ACWUntil, acw.AutoAnswer = callcenter.ActivityACW, at(31), true
	idle := status("1001", at(20), callcenter.PresenceOnline, callcenter.PhoneIdle)
	idle.IdleSince = at(20)
	meeting := status("1001", at(40), callcenter.PresenceCustom, callcenter.PhoneBusy)
	meeting.Custom = "meeting"
	log := []callcenter.AgentStatus{
		status("1001", at(0), callcenter.PresenceOnline, callcenter.PhoneBusy),
		idle,
		acw,
		meeting,
		status("1001", at(50), callcenter.PresenceOffline, callcenter.PhoneBusy),
	}
	// Another agent's changes interleave.
	for i, st := range log {
		if err := s.AppendStatus(ctx, st); err != nil {
			t.Fatal(err)
		}
		if err := s.AppendStatus(ctx, status("1002", at(i*10+5), callcenter.PresenceOnline, callcenter.PhoneIdle)); err != nil {
			t.Fatal(err)
		}
	}
	utcStatus := func(st callcenter.AgentStatus) callcenter.AgentStatus {
		for _, p := range []*time.Time{&st.Since, &st.ACWUntil, &st.IdleSince} {
			if !p.IsZero() {
				*p = p.UTC()
			}
		}
		return st
	}
	if got, err := s.LastStatus(ctx, "1001"); err != nil || got != utcStatus(log[4]) {
		t.Fatalf("LastStatus = %+v, %v; want %+v", got, err, log[4])
	}
	// Two changes at the same instant: the one appended last is the last.
	again := status("1001", at(50), callcenter.PresenceOnline, callcenter.PhoneBusy)
	if err := s.AppendStatus(ctx, again); err != nil {
		t.Fatal(err)
	}
	if got, err := s.LastStatus(ctx, "1001"); err != nil || got != utcStatus(again) {
		t.Fatalf("LastStatus after same-instant change = %+v, %v; want %+v", got, err, again)
	}

	tests := []struct {
		name         string
		since, until time.Time
		want         []int // indexes into log; 5 is again
	}{
		{"whole day", at(-60), at(24 * 60), []int{0, 1, 2, 3, 4, 5}},
		{"zero bounds", time.Time{}, time.Time{}, []int{0, 1, 2, 3, 4, 5}},
		{"status in effect at since comes first", at(25), at(45), []int{1, 2, 3}},
		{"since on a change", at(20), at(45), []int{1, 2, 3}},
		{"until exclusive", at(20), at(40), []int{1, 2}},
		{"window inside one status", at(32), at(33), []int{2}},
		{"empty window", at(33), at(33), []int{2}},
		{"before any status", at(-60), at(-30), nil},
	}
	all := append(log, again)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.StatusLog(ctx, "1001", tt.since, tt.until)
			if err != nil {
				t.Fatal(err)
			}
			var want []callcenter.AgentStatus
			for _, i := range tt.want {
				want = append(want, utcStatus(all[i]))
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("StatusLog =\n %+v\nwant\n %+v", got, want)
			}
		})
	}
	if got, err := s.StatusLog(ctx, "9999", time.Time{}, time.Time{}); err != nil || len(got) != 0 {
		t.Fatalf("StatusLog(unknown) = %+v, %v", got, err)
	}
	if _, err := s.StatusLog(ctx, "1001", at(10), at(5)); !errors.Is(err, callcenter.ErrInvalid) {
		t.Fatalf("until before since err = %v, want ErrInvalid", err)
	}

	bad := []struct {
		name string
		mut  func(*callcenter.AgentStatus)
	}{
		{"empty agent", func(s *callcenter.AgentStatus) { s.Agent = "" }},
		{"bad agent", func(s *callcenter.AgentStatus) { s.Agent = "10 01" }},
		{"presence 9", func(s *callcenter.AgentStatus) { s.Presence = 9 }},
		{"phone 9", func(s *callcenter.AgentStatus) { s.Phone = 9 }},
		{"activity 9", func(s *callcenter.AgentStatus) { s.Activity = 9 }},
		{"custom without name", func(s *callcenter.AgentStatus) { s.Presence = callcenter.PresenceCustom; s.Custom = "" }},
		{"no since", func(s *callcenter.AgentStatus) { s.Since = time.Time{} }},
		{"year 3000", func(s *callcenter.AgentStatus) { s.ACWUntil = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC) }},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			st := status("1001", at(99), callcenter.PresenceOnline, callcenter.PhoneIdle)
			tt.mut(&st)
			if err := s.AppendStatus(ctx, st); !errors.Is(err, callcenter.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
	if got, _ := s.LastStatus(ctx, "1001"); got != utcStatus(again) {
		t.Fatalf("refused statuses were stored: last = %+v", got)
	}
}

func testOffers(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	offer := func(call, agent string, m int, answered bool, reason string) callcenter.Offer {
		return callcenter.Offer{CallID: call, Agent: agent, Group: "sales", Customer: "13800138000",
			CenterNumber: "4008001234", OfferedAt: at(m), EndedAt: at(m).Add(15 * time.Second), Answered: answered, Reason: reason}
	}
	offers := []callcenter.Offer{
		offer("c1", "1001", 0, false, "no_answer"),
		offer("c1", "1002", 1, true, ""),
		offer("c2", "1001", 2, true, ""),
		offer("c3", "1001", 3, false, "caller_hung_up"),
		offer("c4", "1001", 4, false, "rejected"),
		offer("c4", "1001", 5, false, "no_answer"), // the same call offered again later
	}
	for _, o := range offers {
		if err := s.RecordOffer(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	// A retry is a no-op: the first wins.
	retry := offers[0]
	retry.Answered, retry.Reason = true, "changed"
	if err := s.RecordOffer(ctx, retry); err != nil {
		t.Fatal(err)
	}
	utcOffer := func(o callcenter.Offer) callcenter.Offer {
		o.OfferedAt, o.EndedAt = o.OfferedAt.UTC(), o.EndedAt.UTC()
		return o
	}
	tests := []struct {
		name       string
		agent      string
		since      time.Time
		missedOnly bool
		limit      int
		want       []int
	}{
		{"all of 1001 newest first", "1001", time.Time{}, false, 0, []int{5, 4, 3, 2, 0}},
		{"missed", "1001", time.Time{}, true, 0, []int{5, 4, 3, 0}},
		{"missed since inclusive", "1001", at(3), true, 0, []int{5, 4, 3}},
		{"limit", "1001", time.Time{}, true, 2, []int{5, 4}},
		{"other agent", "1002", time.Time{}, false, 0, []int{1}},
		{"other agent missed", "1002", time.Time{}, true, 0, nil},
		{"unknown agent", "9999", time.Time{}, false, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Offers(ctx, tt.agent, tt.since, tt.missedOnly, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			var want []callcenter.Offer
			for _, i := range tt.want {
				want = append(want, utcOffer(offers[i]))
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("Offers =\n %+v\nwant\n %+v", got, want)
			}
			for _, o := range got {
				if tt.missedOnly && !o.Missed() {
					t.Fatalf("missedOnly returned an answered offer %+v", o)
				}
			}
		})
	}
	if _, err := s.Offers(ctx, "1001", time.Time{}, false, -1); !errors.Is(err, callcenter.ErrInvalid) {
		t.Fatalf("negative limit err = %v, want ErrInvalid", err)
	}
	bad := []struct {
		name string
		mut  func(*callcenter.Offer)
	}{
		{"no call id", func(o *callcenter.Offer) { o.CallID = "" }},
		{"no agent", func(o *callcenter.Offer) { o.Agent = "" }},
		{"no offer time", func(o *callcenter.Offer) { o.OfferedAt = time.Time{} }},
		{"no end", func(o *callcenter.Offer) { o.EndedAt = time.Time{} }},
		{"ends before offered", func(o *callcenter.Offer) { o.EndedAt = o.OfferedAt.Add(-time.Second) }},
		{"year 3000", func(o *callcenter.Offer) { o.EndedAt = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC) }},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			o := offer("bad", "1001", 9, false, "no_answer")
			tt.mut(&o)
			if err := s.RecordOffer(ctx, o); !errors.Is(err, callcenter.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
}

func testCallRecordQueueData(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	queued := rec("q1", t0)
	queued.Group, queued.QueueWait = "sales", 42*time.Second
	talk := answered(queued, t0.Add(50*time.Second), "opus")
	if err := s.BeginCallRecord(ctx, talk); err != nil {
		t.Fatal(err)
	}
	// The end does not know the queue data: the row keeps it.
	end := ended(answered(rec("q1", t0), t0.Add(50*time.Second), "opus"), t0.Add(2*time.Minute), callcenter.ResultAnswered, callcenter.PartyCaller)
	if err := s.EndCallRecord(ctx, end); err != nil {
		t.Fatal(err)
	}
	want := utc(ended(talk, end.EndedAt, callcenter.ResultAnswered, callcenter.PartyCaller))
	if got, err := s.CallRecord(ctx, "q1"); err != nil || got != want {
		t.Fatalf("record =\n %+v\nwant\n %+v", got, want)
	}

	// Abandoned in the queue: never answered, one End with everything.
	gone := rec("q2", t0)
	gone.Agent, gone.Group, gone.QueueWait, gone.Abandoned = "", "support", 75*time.Second, true
	gone = ended(gone, t0.Add(80*time.Second), callcenter.ResultCancelled, callcenter.PartyCaller)
	if err := s.EndCallRecord(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if got, err := s.CallRecord(ctx, "q2"); err != nil || got != utc(gone) {
		t.Fatalf("abandoned record = %+v, %v; want %+v", got, err, gone)
	}
	listed, err := s.CallRecords(ctx, callcenter.RecordFilter{})
	if err != nil || len(listed) != 2 || listed[0] != want && listed[1] != want {
		t.Fatalf("CallRecords = %+v, %v", listed, err)
	}
	bad := rec("q3", t0)
	bad.QueueWait = -time.Second
	if err := s.BeginCallRecord(ctx, bad); !errors.Is(err, callcenter.ErrInvalid) {
		t.Fatalf("negative queue wait err = %v, want ErrInvalid", err)
	}
}

func testCallsWith(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	if n, last, err := s.CallsWith(ctx, "13800138000"); err != nil || n != 0 || !last.IsZero() {
		t.Fatalf("CallsWith on empty store = %d, %v, %v", n, last, err)
	}
	mk := func(id, caller, callee string, m int) {
		r := rec(id, t0.Add(time.Duration(m)*time.Minute))
		r.Caller, r.Callee = caller, callee
		if err := s.EndCallRecord(ctx, ended(r, r.StartedAt.Add(time.Second), callcenter.ResultNoAnswer, callcenter.PartyCaller)); err != nil {
			t.Fatal(err)
		}
	}
	mk("in1", "13800138000", "4008001234", 0)
	mk("out1", "1001", "13800138000", 30) // the agent called the customer back
	mk("in2", "13800138000", "4008001234", 10)
	mk("other", "13900139000", "4008001234", 60)
	mk("anon", "", "4008001234", 90)
	tests := []struct {
		number string
		n      int
		last   time.Time
	}{
		{"13800138000", 3, t0.Add(30 * time.Minute)},
		{"13900139000", 1, t0.Add(60 * time.Minute)},
		{"4008001234", 4, t0.Add(90 * time.Minute)},
		{"10086", 0, time.Time{}},
		{"", 0, time.Time{}},
	}
	for _, tt := range tests {
		n, last, err := s.CallsWith(ctx, tt.number)
		if err != nil || n != tt.n || !last.Equal(tt.last) {
			t.Errorf("CallsWith(%q) = %d, %v, %v; want %d, %v", tt.number, n, last, err, tt.n, tt.last)
		}
	}
}
