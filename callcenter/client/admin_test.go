package client_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"sync/atomic"
	"testing"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/api"
	"github.com/agentphone/agentphone/callcenter/client"
	"github.com/agentphone/agentphone/callcenter/server"
)

// countingReloader stands in for the live center.
type countingReloader struct{ n atomic.Int32 }

func (r *countingReloader) Reload(context.Context) error { r.n.Add(1); return nil }

func TestAdmin(t *testing.T) {
	rl := &countingReloader{}
	l := startLive(t, server.WithRealm("r"), server.WithReloader(rl))
	ctx := context.Background()
	if _, err := l.st.CreateAgent(ctx, callcenter.Agent{WorkNumber: "9001", Name: "Root", Role: callcenter.RoleAdmin, PasswordHash: pwHash()}); err != nil {
		t.Fatal(err)
	}

	// A plain agent is refused.
	agent := client.New(l.url())
	if _, err := agent.Login(ctx, "1001", password, "pc"); err != nil {
		t.Fatal(err)
	}
	if _, err := agent.AdminAgents(ctx); !errors.Is(err, client.ErrForbidden) {
		t.Fatalf("admin API as an agent: %v, want ErrForbidden", err)
	}

	c := client.New(l.url())
	if _, err := c.Login(ctx, "9001", password, "pc"); err != nil {
		t.Fatal(err)
	}
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	a, err := c.AdminCreateAgent(ctx, api.NewAgent{WorkNumber: "1002", Name: "Bob", Password: "pw123456"})
	must("create agent", err)
	if a != (api.Agent{WorkNumber: "1002", Name: "Bob", Role: "agent"}) {
		t.Errorf("created %+v", a)
	}
	if _, err := c.AdminCreateAgent(ctx, a2(a)); !errors.Is(err, client.ErrExists) {
		t.Errorf("create a taken agent: %v, want ErrExists", err)
	}
	a, err = c.AdminPatchAgent(ctx, "1002", api.AgentPatch{Disabled: ptr(true)})
	must("disable agent", err)
	if !a.Disabled {
		t.Errorf("disabled agent %+v", a)
	}
	if _, err := c.AdminPatchAgent(ctx, "7777", api.AgentPatch{Disabled: ptr(true)}); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("patch an unknown agent: %v, want ErrNotFound", err)
	}
	agents, err := c.AdminAgents(ctx)
	must("list agents", err)
	if len(agents) != 4 {
		t.Errorf("agents %+v, want 1001, 1002, 1009, 9001", agents)
	}

	must("status", errOnly(c.AdminCreateStatus(ctx, api.CustomStatus{Name: "meeting", Label: "会议中"})))
	statuses, err := c.AdminStatuses(ctx)
	must("list statuses", err)
	if !reflect.DeepEqual(statuses, []api.CustomStatus{{Name: "meeting", Label: "会议中"}}) {
		t.Errorf("statuses %+v", statuses)
	}

	g, err := c.AdminCreateGroup(ctx, api.GroupPatch{Name: ptr("sales"), Label: ptr("售前"), MaxWaitSec: ptr(60), ACWSec: ptr(10)})
	must("create group", err)
	if g.RingTimeoutSec != 20 || g.MaxWaitSec != 60 || g.ACWSec != 10 || g.Strategy != "longest_idle" {
		t.Errorf("created group %+v", g)
	}
	g, err = c.AdminPatchGroup(ctx, "sales", api.GroupPatch{Strategy: ptr("skill_tiers"), TierWidenSec: ptr(10)})
	must("patch group", err)
	if g.Strategy != "skill_tiers" || g.TierWidenSec != 10 || g.MaxWaitSec != 60 {
		t.Errorf("patched group %+v", g)
	}
	var apiErr *client.Error
	if _, err := c.AdminPatchGroup(ctx, "sales", api.GroupPatch{Strategy: ptr("random")}); !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest {
		t.Errorf("bad strategy: %v, want a 400 *Error", err)
	}
	groups, err := c.AdminGroups(ctx)
	must("list groups", err)
	if len(groups) != 1 || groups[0] != g {
		t.Errorf("groups %+v, want [%+v]", groups, g)
	}

	m, err := c.AdminSetMember(ctx, "sales", "1001", 2)
	must("set member", err)
	if m != (api.Member{WorkNumber: "1001", Name: "Alice", Level: 2}) {
		t.Errorf("member %+v", m)
	}
	members, err := c.AdminMembers(ctx, "sales")
	must("members", err)
	if len(members) != 1 || members[0] != m {
		t.Errorf("members %+v", members)
	}
	must("remove member", c.AdminRemoveMember(ctx, "sales", "1001"))
	if err := c.AdminRemoveMember(ctx, "sales", "1001"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("remove again: %v, want ErrNotFound", err)
	}

	menu, err := c.AdminPutIVRMenu(ctx, "main", api.IVRMenuPut{Prompt: "welcome_main",
		Choices: map[string]string{"1": "group:sales", "*": "hangup"}, OnFail: ptr("group:sales")})
	must("put IVR", err)
	want := api.IVRMenu{Name: "main", Prompt: "welcome_main", TimeoutSec: 5, MaxTries: 3,
		Choices: map[string]string{"1": "group:sales", "*": "hangup"}, OnFail: "group:sales"}
	if !reflect.DeepEqual(menu, want) {
		t.Errorf("menu %+v, want %+v", menu, want)
	}
	menus, err := c.AdminIVRMenus(ctx)
	must("list IVR", err)
	if len(menus) != 1 || !reflect.DeepEqual(menus[0], want) {
		t.Errorf("menus %+v", menus)
	}

	n, err := c.AdminCreateNumber(ctx, api.Number{E164: "+862161234567", Name: "Shanghai", RouteIVR: "main"})
	must("create number", err)
	n, err = c.AdminPatchNumber(ctx, n.E164, api.NumberPatch{RouteGroup: ptr("sales")})
	must("route number", err)
	if n != (api.Number{E164: "+862161234567", Name: "Shanghai", RouteGroup: "sales"}) {
		t.Errorf("routed number %+v", n)
	}
	if _, err := c.AdminPatchNumber(ctx, n.E164, api.NumberPatch{RouteGroup: ptr("nope")}); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("route to an unknown group: %v, want ErrNotFound", err)
	}
	numbers, err := c.AdminNumbers(ctx)
	must("list numbers", err)
	if len(numbers) != 1 || numbers[0] != n {
		t.Errorf("numbers %+v", numbers)
	}

	// status, group, group patch, member put and remove, IVR, number and its route.
	if got := rl.n.Load(); got != 8 {
		t.Errorf("%d reloads, want 8", got)
	}
}

func a2(a api.Agent) api.NewAgent {
	return api.NewAgent{WorkNumber: a.WorkNumber, Name: a.Name, Password: "pw123456"}
}

func errOnly[T any](_ T, err error) error { return err }
