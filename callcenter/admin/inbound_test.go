package admin

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter"
)

// withAgents stands for the agents the inbound commands refer to, created
// straight in the store: "agent add" would pay for scrypt in every case,
// which under -race on two cores costs seconds.
const withAgents = "<agents>"

func addAgents(t *testing.T, st interface {
	CreateAgent(context.Context, callcenter.Agent) (callcenter.Agent, error)
}) {
	t.Helper()
	for _, a := range []callcenter.Agent{{WorkNumber: "1001", Name: "Li"}, {WorkNumber: "1002", Name: "Han"}, {WorkNumber: "2001", Name: "Wang"}} {
		a.PasswordHash, a.HA1MD5, a.HA1SHA256 = "h", "m", "s"
		if _, err := st.CreateAgent(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRunInbound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		setup   []string
		line    string
		wantErr error
		stdout  []string // substrings, in order
		stderr  string
	}{
		{name: "group add", line: "group add sales --label 售前咨询 --ring-timeout 15s --max-wait 90s --acw 15s",
			stdout: []string{"group sales (售前咨询, longest_idle) added"}},
		{name: "group add strategy", line: "group add vip --label VIP --strategy skill_tiers --tier-widen 10s --announce 30s",
			stdout: []string{"group vip (VIP, skill_tiers) added"}},
		{name: "group add missing label", line: "group add sales", wantErr: ErrUsage, stderr: "missing --label"},
		{name: "group add missing name", line: "group add --label x", wantErr: ErrUsage, stderr: "missing group name"},
		{name: "group add bad strategy", line: "group add sales --label x --strategy random", wantErr: callcenter.ErrInvalid},
		{name: "group add bad overflow", line: "group add sales --label x --overflow maybe", wantErr: callcenter.ErrInvalid},
		{name: "group add overflow group without name", line: "group add sales --label x --overflow group", wantErr: ErrUsage, stderr: "--overflow-group"},
		{name: "group add overflow to missing group", line: "group add sales --label x --overflow-group nope --max-wait 1m", wantErr: callcenter.ErrNotFound},
		{name: "group add overflow voicemail with group", setup: []string{"group add support --label S"},
			line: "group add sales --label x --overflow voicemail --overflow-group support", wantErr: callcenter.ErrInvalid},
		{name: "group add bad duration", line: "group add sales --label x --ring-timeout soon", wantErr: ErrUsage, stderr: "invalid value"},
		{name: "group add negative duration", line: "group add sales --label x --max-wait -1s", wantErr: callcenter.ErrInvalid},
		{name: "group add bad name", line: "group add 售前 --label x", wantErr: callcenter.ErrInvalid},
		{name: "group add unknown ivr", line: "group add sales --label x --ivr nomenu", wantErr: callcenter.ErrNotFound},
		{name: "group add duplicate", setup: []string{"group add sales --label x"}, line: "group add sales --label y", wantErr: callcenter.ErrExists},

		{name: "group list", setup: append([]string{withAgents}, "group add support --label 售后服务",
			"group add sales --label 售前咨询 --ring-timeout 15s --max-wait 90s --overflow-group support --acw 15s",
			"group member add sales 1002 --level 2", "group member add sales 1001"),
			line: "group list", stdout: []string{"NAME", "MEMBERS",
				"sales", "售前咨询", "longest_idle", "15s", "1m30s → support", "15s", "-", "1001/1 1002/2",
				"support", "售后服务", "longest_idle", "20s", "-", "off", "-", "-"}},
		{name: "group list extra", line: "group list all", wantErr: ErrUsage},

		{name: "group set", setup: []string{"group add support --label S", "group add sales --label x --max-wait 1m --overflow-group support --acw 10s",
			"group set --strategy round_robin sales --ring-timeout 9s --overflow voicemail --acw 0"},
			line: "group list", stdout: []string{"sales", "x", "round_robin", "9s", "1m0s → voicemail", "off"}},
		{name: "group set message", setup: []string{"group add sales --label x"}, line: "group set sales --label=y", stdout: []string{"group sales updated"}},
		{name: "group set nothing", setup: []string{"group add sales --label x"}, line: "group set sales", wantErr: ErrUsage, stderr: "nothing to change"},
		{name: "group set unknown", line: "group set sales --label y", wantErr: callcenter.ErrNotFound},
		{name: "group set missing name", line: "group set --label y", wantErr: ErrUsage, stderr: "missing group name"},
		{name: "group set two names", setup: []string{"group add sales --label x"}, line: "group set sales support --label y", wantErr: ErrUsage, stderr: "unexpected argument"},
		{name: "group set to itself", setup: []string{"group add sales --label x"}, line: "group set sales --overflow-group sales --max-wait 1m", wantErr: callcenter.ErrInvalid},
		{name: "group set negative", setup: []string{"group add sales --label x"}, line: "group set sales --acw -1s", wantErr: callcenter.ErrInvalid},

		{name: "member add", setup: append([]string{withAgents}, "group add sales --label x"),
			line: "group member add sales 1001 --level 2", stdout: []string{"agent 1001 in group sales at level 2"}},
		{name: "member add unknown group", setup: []string{withAgents}, line: "group member add sales 1001", wantErr: callcenter.ErrNotFound},
		{name: "member add unknown agent", setup: []string{"group add sales --label x"}, line: "group member add sales 9999", wantErr: callcenter.ErrNotFound},
		{name: "member add level 0", setup: append([]string{withAgents}, "group add sales --label x"), line: "group member add sales 1001 --level 0", wantErr: callcenter.ErrInvalid},
		{name: "member add missing agent", line: "group member add sales", wantErr: ErrUsage, stderr: "missing work number"},
		{name: "member missing subcommand", line: "group member", wantErr: ErrUsage, stderr: "add or remove"},
		{name: "member unknown subcommand", line: "group member kick sales 1001", wantErr: ErrUsage, stderr: `unknown command "group member kick"`},
		{name: "member remove", setup: append([]string{withAgents}, "group add sales --label x", "group member add sales 1001"),
			line: "group member remove sales 1001", stdout: []string{"agent 1001 removed from group sales"}},
		{name: "member remove not member", setup: append([]string{withAgents}, "group add sales --label x"),
			line: "group member remove sales 1001", wantErr: callcenter.ErrNotFound},
		{name: "members", setup: append([]string{withAgents}, "group add sales --label x", "group member add sales 1002 --level 2", "group member add sales 1001 --level 3"),
			line: "group members sales", stdout: []string{"WORK NUMBER", "LEVEL", "1002", "Han", "2", "1001", "Li", "3"}},
		{name: "members unknown group", line: "group members sales", wantErr: callcenter.ErrNotFound},

		{name: "ivr set", line: "ivr set main --prompt welcome_main --choice 1=group:sales --choice 2=menu:sub --choice 9=repeat --choice *=hangup --choice 0=agent:1001 --on-fail group:sales",
			stdout: []string{"IVR menu main set: *=hangup 0=agent:1001 1=group:sales 2=menu:sub 9=repeat, on fail group:sales"}},
		{name: "ivr set defaults", line: "ivr set bye --prompt goodbye", stdout: []string{"IVR menu bye set: -, on fail hangup"}},
		{name: "ivr set replaces", setup: []string{"ivr set main --prompt p1 --choice 1=repeat"},
			line: "ivr set main --prompt p2 --choice 2=hangup", stdout: []string{"2=hangup, on fail hangup"}},
		{name: "ivr set missing prompt", line: "ivr set main --choice 1=repeat", wantErr: ErrUsage, stderr: "missing --prompt"},
		{name: "ivr set bad digit", line: "ivr set main --prompt p --choice A=repeat", wantErr: ErrUsage, stderr: "0-9 * #"},
		{name: "ivr set two-digit key", line: "ivr set main --prompt p --choice 12=repeat", wantErr: ErrUsage, stderr: "0-9 * #"},
		{name: "ivr set no equals", line: "ivr set main --prompt p --choice 1", wantErr: ErrUsage, stderr: "DIGIT=ACTION"},
		{name: "ivr set unknown action", line: "ivr set main --prompt p --choice 1=voicemail", wantErr: ErrUsage, stderr: "unknown IVR action"},
		{name: "ivr set group without target", line: "ivr set main --prompt p --choice 1=group", wantErr: ErrUsage, stderr: "needs a target"},
		{name: "ivr set repeat with target", line: "ivr set main --prompt p --choice 1=repeat:x", wantErr: ErrUsage, stderr: "takes no target"},
		{name: "ivr set duplicate key", line: "ivr set main --prompt p --choice 1=repeat --choice 1=hangup", wantErr: ErrUsage, stderr: "given twice"},
		{name: "ivr set on-fail repeat", line: "ivr set main --prompt p --on-fail repeat", wantErr: callcenter.ErrInvalid},
		{name: "ivr set on-fail garbage", line: "ivr set main --prompt p --on-fail later", wantErr: callcenter.ErrInvalid},
		{name: "ivr set zero tries", line: "ivr set main --prompt p --tries 0", wantErr: callcenter.ErrInvalid},
		{name: "ivr list", setup: []string{"ivr set sub --prompt sub_prompt --tries 2 --timeout 3s", "ivr set main --prompt welcome_main --choice 9=repeat --choice 1=group:sales --on-fail group:sales"},
			line: "ivr list", stdout: []string{"NAME", "CHOICES", "main", "welcome_main", "5s", "3", "group:sales", "1=group:sales 9=repeat",
				"sub", "sub_prompt", "3s", "2", "hangup", "-"}},

		{name: "status add", line: "status add meeting --label 会议中", stdout: []string{"custom status meeting (会议中) added"}},
		{name: "status add missing label", line: "status add meeting", wantErr: ErrUsage, stderr: "missing --label"},
		{name: "status add duplicate", setup: []string{"status add meeting --label a"}, line: "status add meeting --label b", wantErr: callcenter.ErrExists},
		{name: "status add bad name", line: "status add coffee/tea --label x", wantErr: callcenter.ErrInvalid},
		{name: "status list", setup: []string{"status add meeting --label 会议中", "status add break --label 小休"},
			line: "status list", stdout: []string{"NAME", "LABEL", "meeting", "会议中", "break", "小休"}},

		{name: "number route ivr", setup: []string{"number add 4008001234 --name H", "ivr set main --prompt p"},
			line: "number route 4008001234 --ivr main", stdout: []string{"number 4008001234 routed to ivr:main"}},
		{name: "number route group then list", setup: []string{"number add 4008001234 --name H", "group add sales --label x", "number route 4008001234 --group sales"},
			line: "number list", stdout: []string{"4008001234", "H", "group:sales", "no"}},
		{name: "number route agent", setup: append([]string{withAgents}, "number add 4008001234 --name H"),
			line: "number route 4008001234 --agent 1002", stdout: []string{"routed to agent:1002"}},
		{name: "number route none", setup: []string{"number add 4008001234 --name H"}, line: "number route 4008001234", wantErr: ErrUsage, stderr: "exactly one"},
		{name: "number route two", setup: []string{"number add 4008001234 --name H"}, line: "number route 4008001234 --ivr a --group b", wantErr: ErrUsage, stderr: "exactly one"},
		{name: "number route unknown number", line: "number route 4008001234 --agent 1001", wantErr: callcenter.ErrNotFound},
		{name: "number route unknown target", setup: []string{"number add 4008001234 --name H"}, line: "number route 4008001234 --ivr main", wantErr: callcenter.ErrNotFound},

		{name: "help lists the new commands", line: "help", stdout: []string{"number route", "group add", "group set", "group member add", "ivr set", "status add"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := openStore(t)
			for _, l := range tt.setup {
				if l == withAgents {
					addAgents(t, st)
					continue
				}
				if _, stderr, err := run(t, st, l); err != nil {
					t.Fatalf("setup %q: %v\n%s", l, err, stderr)
				}
			}
			stdout, stderr, err := run(t, st, tt.line)
			if tt.wantErr == nil && err != nil {
				t.Fatalf("err = %v\nstderr: %s", err, stderr)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			rest := stdout
			for _, want := range tt.stdout {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Fatalf("stdout lacks %q (in order):\n%s", want, stdout)
				}
				rest = rest[i+len(want):]
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Fatalf("stderr lacks %q:\n%s", tt.stderr, stderr)
			}
			if tt.wantErr != ErrUsage && stderr != "" {
				t.Fatalf("unexpected stderr: %s", stderr)
			}
		})
	}
}

// What the commands store is what the server reads.
func TestRunInboundStores(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	addAgents(t, st)
	for _, l := range append([]string{},
		"group add support --label 售后服务",
		"ivr set main --prompt welcome_main --timeout 4s --tries 2 --choice 1=group:sales --choice #=menu:main --on-fail agent:1001",
		"group add sales --label 售前咨询 --strategy ring_all --ring-timeout 15s --max-wait 90s --overflow-group support --acw 15s --tier-widen 10s --announce 20s --ivr main",
	) {
		if _, stderr, err := run(t, st, l); err != nil {
			t.Fatalf("%q: %v\n%s", l, err, stderr)
		}
	}
	g, err := st.GroupByName(ctx, "sales")
	if err != nil {
		t.Fatal(err)
	}
	want := callcenter.SkillGroup{ID: g.ID, Name: "sales", Label: "售前咨询", Strategy: callcenter.StrategyRingAll,
		RingTimeout: 15 * time.Second, MaxWait: 90 * time.Second, Overflow: callcenter.OverflowGroup, OverflowGroup: "support",
		ACW: true, ACWDuration: 15 * time.Second, TierWiden: 10 * time.Second, AnnounceEvery: 20 * time.Second, IVR: "main"}
	if g != want {
		t.Fatalf("group = %+v, want %+v", g, want)
	}
	if _, stderr, err := run(t, st, "group set sales --label Sales --max-wait 0"); err != nil {
		t.Fatal(err, stderr)
	}
	want.Label, want.MaxWait = "Sales", 0
	if g, err := st.GroupByName(ctx, "sales"); err != nil || g != want {
		t.Fatalf("after group set: %+v, %v; want %+v (only label and max wait changed)", g, err, want)
	}
	if s, _ := st.GroupByName(ctx, "support"); s.ACW || s.RingTimeout != DefaultRingTimeout || s.Overflow != callcenter.OverflowNone || s.MaxWait != 0 {
		t.Fatalf("defaults: %+v", s)
	}
	m, err := st.IVRMenuByName(ctx, "main")
	if err != nil {
		t.Fatal(err)
	}
	wantMenu := callcenter.IVRMenu{ID: m.ID, Name: "main", Prompt: "welcome_main", Timeout: 4 * time.Second, MaxTries: 2,
		Choices: map[rune]callcenter.IVRAction{'1': {Kind: callcenter.IVRGroup, Target: "sales"}, '#': {Kind: callcenter.IVRSubMenu, Target: "main"}},
		OnFail:  callcenter.IVRAction{Kind: callcenter.IVRAgent, Target: "1001"}}
	if !reflect.DeepEqual(m, wantMenu) {
		t.Fatalf("menu = %+v, want %+v", m, wantMenu)
	}
}

func TestParseAction(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want callcenter.IVRAction
		ok   bool
	}{
		{"group:sales", callcenter.IVRAction{Kind: callcenter.IVRGroup, Target: "sales"}, true},
		{"menu:sub", callcenter.IVRAction{Kind: callcenter.IVRSubMenu, Target: "sub"}, true},
		{"agent:1001", callcenter.IVRAction{Kind: callcenter.IVRAgent, Target: "1001"}, true},
		{"repeat", callcenter.IVRAction{Kind: callcenter.IVRRepeat}, true},
		{"hangup", callcenter.IVRAction{Kind: callcenter.IVRHangup}, true},
		{"group", callcenter.IVRAction{}, false},
		{"group:", callcenter.IVRAction{}, false},
		{"hangup:now", callcenter.IVRAction{}, false},
		{"Group:sales", callcenter.IVRAction{}, false},
		{"", callcenter.IVRAction{}, false},
		{":x", callcenter.IVRAction{}, false},
	}
	for _, tt := range tests {
		got, err := ParseAction(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseAction(%q) = %+v, %v; want %+v ok=%t", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, callcenter.ErrInvalid) {
			t.Errorf("ParseAction(%q) err = %v, want ErrInvalid", tt.in, err)
		}
		if tt.ok && FormatAction(got) != tt.in {
			t.Errorf("FormatAction(%+v) = %q, want %q", got, FormatAction(got), tt.in)
		}
	}
}

func TestSeedInbound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	addAgents(t, st) // Seed leaves existing agents alone: no scrypt here
	for i := range 2 {
		if err := Seed(ctx, st, realm); err != nil {
			t.Fatalf("Seed #%d: %v", i, err)
		}
	}
	groups, err := st.ListGroups(ctx)
	if err != nil || len(groups) != 2 {
		t.Fatalf("groups = %+v, %v", groups, err)
	}
	sales := groups[0]
	if sales.Name != "sales" || sales.Label != "售前咨询" || sales.Strategy != callcenter.StrategyLongestIdle ||
		sales.RingTimeout != 15*time.Second || sales.MaxWait != 90*time.Second || sales.Overflow != callcenter.OverflowGroup ||
		sales.OverflowGroup != "support" || !sales.ACW || sales.ACWDuration != 15*time.Second {
		t.Fatalf("sales = %+v", sales)
	}
	if groups[1].Name != "support" || groups[1].Label != "售后服务" {
		t.Fatalf("support = %+v", groups[1])
	}
	for group, want := range map[string]string{"sales": "[{sales 1001 1} {sales 1002 2}]", "support": "[{support 1002 1} {support 2001 1}]"} {
		if ms, err := st.Members(ctx, group); err != nil || fmtMembers(ms) != want {
			t.Errorf("members of %s = %v, %v; want %s", group, ms, err, want)
		}
	}
	statuses, err := st.ListCustomStatuses(ctx)
	if err != nil || len(statuses) != 3 || statuses[0].Name != "meeting" || statuses[0].Label != "会议中" ||
		statuses[1].Name != "break" || statuses[2].Name != "training" || statuses[2].Label != "培训" {
		t.Fatalf("statuses = %+v, %v", statuses, err)
	}
	m, err := st.IVRMenuByName(ctx, "main")
	want := DemoIVRMenu()
	want.ID = m.ID
	if err != nil || !reflect.DeepEqual(m, want) || m.Choices['1'].Target != "sales" || m.Choices['2'].Target != "support" ||
		m.Choices['9'].Kind != callcenter.IVRRepeat || m.OnFail.Target != "sales" {
		t.Fatalf("menu = %+v, %v", m, err)
	}
	n, err := st.NumberByE164(ctx, DemoNumber)
	if err != nil || n.RouteIVR != "main" || n.RouteAgent != "1001" || n.RouteGroup != "" {
		t.Fatalf("demo number = %+v, %v", n, err)
	}

	// An admin's changes survive a reseed.
	if err := st.SetMember(ctx, callcenter.Member{Group: "sales", Agent: "1002", Level: 5}); err != nil {
		t.Fatal(err)
	}
	if err := st.RemoveMember(ctx, "support", "2001"); err != nil {
		t.Fatal(err)
	}
	if err := st.SetNumberRoute(ctx, DemoNumber, "", "support", ""); err != nil {
		t.Fatal(err)
	}
	if err := Seed(ctx, st, realm); err != nil {
		t.Fatal(err)
	}
	if ms, _ := st.Members(ctx, "sales"); fmtMembers(ms) != "[{sales 1001 1} {sales 1002 5}]" {
		t.Fatalf("reseed changed a level: %v", ms)
	}
	// Seeding creates what is missing, so a removed demo member comes back.
	if ms, _ := st.Members(ctx, "support"); fmtMembers(ms) != "[{support 1002 1} {support 2001 1}]" {
		t.Fatalf("reseed did not restore the demo member: %v", ms)
	}
	if n, _ := st.NumberByE164(ctx, DemoNumber); n.RouteGroup != "support" || n.RouteIVR != "" {
		t.Fatalf("reseed changed the admin's route: %+v", n)
	}
}

// A database seeded by the issue-2 program (number routed to agent 1001
// only) gets the IVR route on the next seed.
func TestSeedUpgradesOldDemoNumber(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	addAgents(t, st)
	if _, err := st.CreateNumber(ctx, callcenter.Number{E164: DemoNumber, Name: DemoNumberName, RouteAgent: DemoRouteAgent}); err != nil {
		t.Fatal(err)
	}
	if err := Seed(ctx, st, realm); err != nil {
		t.Fatal(err)
	}
	if n, err := st.NumberByE164(ctx, DemoNumber); err != nil || n.RouteIVR != DemoIVR || n.RouteAgent != DemoRouteAgent {
		t.Fatalf("demo number after seed = %+v, %v", n, err)
	}
}

func fmtMembers(ms []callcenter.Member) string {
	var b strings.Builder
	b.WriteString("[")
	for i, m := range ms {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "{%s %s %d}", m.Group, m.Agent, m.Level)
	}
	return b.String() + "]"
}
