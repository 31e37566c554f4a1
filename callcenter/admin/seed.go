package admin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/store"
)

// Demo data created by Seed.
const (
	DemoPassword   = "demo1234"
	DemoNumber     = "4008001234"
	DemoNumberName = "Hotline"
	DemoRouteAgent = "1001"
	DemoIVR        = "main"
	DemoAdmin      = "9001" // work number of the demo admin account
)

// DemoAgents returns the demo agents Seed creates (without credentials).
func DemoAgents() []callcenter.Agent {
	return []callcenter.Agent{
		{WorkNumber: "1001", Name: "Li Lei", Role: callcenter.RoleAgent},
		{WorkNumber: "1002", Name: "Han Meimei", Role: callcenter.RoleAgent},
		{WorkNumber: "2001", Name: "Wang Fang", Role: callcenter.RoleSupervisor},
		// The admin API (/v1/admin/...) needs an account with the admin role.
		{WorkNumber: DemoAdmin, Name: "Admin", Role: callcenter.RoleAdmin},
	}
}

// DemoGroups returns the demo skill groups in the order Seed creates them
// (an overflow target before the group overflowing into it).
func DemoGroups() []callcenter.SkillGroup {
	return []callcenter.SkillGroup{
		{Name: "support", Label: "售后服务", Strategy: callcenter.StrategyLongestIdle,
			RingTimeout: DefaultRingTimeout, ACW: true, ACWDuration: 30 * time.Second, TierWiden: DefaultTierWiden},
		{Name: "sales", Label: "售前咨询", Strategy: callcenter.StrategyLongestIdle,
			RingTimeout: 15 * time.Second, MaxWait: 90 * time.Second,
			Overflow: callcenter.OverflowGroup, OverflowGroup: "support",
			ACW: true, ACWDuration: 15 * time.Second, TierWiden: DefaultTierWiden},
	}
}

// DemoMembers returns the demo memberships.
func DemoMembers() []callcenter.Member {
	return []callcenter.Member{
		{Group: "sales", Agent: "1001", Level: 1},
		{Group: "sales", Agent: "1002", Level: 2},
		{Group: "support", Agent: "1002", Level: 1},
		{Group: "support", Agent: "2001", Level: 1},
	}
}

// DemoStatuses returns the demo custom statuses.
func DemoStatuses() []callcenter.CustomStatus {
	return []callcenter.CustomStatus{
		{Name: "meeting", Label: "会议中"},
		{Name: "break", Label: "小休"},
		{Name: "training", Label: "培训"},
	}
}

// DemoIVRMenu returns the demo number's menu.
func DemoIVRMenu() callcenter.IVRMenu {
	return callcenter.IVRMenu{Name: DemoIVR, Prompt: "welcome_main",
		Choices: map[rune]callcenter.IVRAction{
			'1': {Kind: callcenter.IVRGroup, Target: "sales"},
			'2': {Kind: callcenter.IVRGroup, Target: "support"},
			'9': {Kind: callcenter.IVRRepeat},
		},
		Timeout: DefaultIVRTimeout, MaxTries: DefaultIVRTries,
		OnFail: callcenter.IVRAction{Kind: callcenter.IVRGroup, Target: "sales"}}
}

// DemoCustomers returns the demo customer library: the callers `make run`'s
// pstnsim uses, so the demo screen pop shows a name.
func DemoCustomers() []callcenter.Customer {
	return []callcenter.Customer{
		{Name: "张伟", Numbers: []string{"13800138000"}, Company: "上海示例贸易有限公司",
			Tags: []string{"VIP"}, Fields: map[string]string{"city": "上海"}, Owner: "1001"},
		{Name: "Acme Ltd", Numbers: []string{"02161234567", "18912345678"}, Company: "Acme",
			Tags: []string{"enterprise"}, Owner: "1002"},
	}
}

// Seed creates the demo data (see the package comment) where it is missing.
// It never changes rows that exist, so an admin's later changes survive a
// restart of `make run` — with one exception: a demo number left exactly as
// the previous demo (routed to agent 1001 only) is routed to the IVR too, so
// an existing demo database gets the inbound call center.
//
// The demo number keeps RouteAgent 1001 beside RouteIVR: routing takes the
// IVR first, and a server that only routes to agents still rings 1001.
func Seed(ctx context.Context, st store.Store, realm string) error {
	for _, a := range DemoAgents() {
		_, err := st.AgentByWorkNumber(ctx, a.WorkNumber)
		if err == nil {
			continue
		}
		if !errors.Is(err, callcenter.ErrNotFound) {
			return fmt.Errorf("seed: %w", err)
		}
		if a.PasswordHash, a.HA1MD5, a.HA1SHA256, err = Credentials(realm, a.WorkNumber, DemoPassword); err != nil {
			return fmt.Errorf("seed agent %s: %w", a.WorkNumber, err)
		}
		// ErrExists: another process seeded it in between, which is as good.
		if _, err := st.CreateAgent(ctx, a); err != nil && !errors.Is(err, callcenter.ErrExists) {
			return fmt.Errorf("seed: %w", err)
		}
	}
	for _, g := range DemoGroups() {
		if _, err := st.CreateGroup(ctx, g); err != nil && !errors.Is(err, callcenter.ErrExists) {
			return fmt.Errorf("seed: %w", err)
		}
	}
	for _, m := range DemoMembers() {
		have, err := st.GroupsOf(ctx, m.Agent)
		if err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		if !isMember(have, m.Group) {
			if err := st.SetMember(ctx, m); err != nil {
				return fmt.Errorf("seed: %w", err)
			}
		}
	}
	for _, cs := range DemoStatuses() {
		if _, err := st.CreateCustomStatus(ctx, cs); err != nil && !errors.Is(err, callcenter.ErrExists) {
			return fmt.Errorf("seed: %w", err)
		}
	}
	if _, err := st.IVRMenuByName(ctx, DemoIVR); errors.Is(err, callcenter.ErrNotFound) {
		if _, err := st.PutIVRMenu(ctx, DemoIVRMenu()); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	for _, c := range DemoCustomers() {
		have, err := st.Customers(ctx, callcenter.CustomerFilter{Owner: c.Owner, Number: c.Numbers[0]})
		if err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		if len(have) > 0 {
			continue
		}
		if _, err := st.CreateCustomer(ctx, c); err != nil && !errors.Is(err, callcenter.ErrExists) {
			return fmt.Errorf("seed: %w", err)
		}
	}
	_, err := st.CreateNumber(ctx, callcenter.Number{E164: DemoNumber, Name: DemoNumberName, RouteIVR: DemoIVR, RouteAgent: DemoRouteAgent})
	if !errors.Is(err, callcenter.ErrExists) {
		if err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		return nil
	}
	n, err := st.NumberByE164(ctx, DemoNumber)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if n.RouteIVR == "" && n.RouteGroup == "" && n.RouteAgent == DemoRouteAgent {
		if err := st.SetNumberRoute(ctx, DemoNumber, DemoIVR, "", DemoRouteAgent); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	return nil
}

func isMember(ms []callcenter.Member, group string) bool {
	for _, m := range ms {
		if m.Group == group {
			return true
		}
	}
	return false
}
