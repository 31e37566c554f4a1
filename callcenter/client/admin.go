package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/agentphone/agentphone/callcenter/api"
)

// The admin API (/v1/admin/...): what `callcenterd admin` does, for an
// account whose role is admin. Another role gets ErrForbidden. A name or
// number taken is ErrExists, an unknown one (or a target it names)
// ErrNotFound, and input the server refuses an *Error with Status 400 whose
// Message says why. Changes that affect routing apply to the live call
// center at once.

// AdminAgents lists every agent, by work number.
func (c *Client) AdminAgents(ctx context.Context) ([]api.Agent, error) {
	var out []api.Agent
	if err := c.do(ctx, http.MethodGet, "/admin/agents", c.Token(), nil, &out); err != nil {
		return nil, fmt.Errorf("list agents: %w", err)
	}
	return out, nil
}

// AdminCreateAgent creates an agent; Role "" is agent.
func (c *Client) AdminCreateAgent(ctx context.Context, a api.NewAgent) (api.Agent, error) {
	var out api.Agent
	if err := c.do(ctx, http.MethodPost, "/admin/agents", c.Token(), a, &out); err != nil {
		return api.Agent{}, fmt.Errorf("create agent %s: %w", a.WorkNumber, err)
	}
	return out, nil
}

// AdminPatchAgent changes an agent's name, password or disabled flag (nil
// fields stay). Disabling ends the agent's sessions.
func (c *Client) AdminPatchAgent(ctx context.Context, workNumber string, p api.AgentPatch) (api.Agent, error) {
	var out api.Agent
	if err := c.do(ctx, http.MethodPatch, "/admin/agents/"+url.PathEscape(workNumber), c.Token(), p, &out); err != nil {
		return api.Agent{}, fmt.Errorf("change agent %s: %w", workNumber, err)
	}
	return out, nil
}

// AdminNumbers lists the center numbers.
func (c *Client) AdminNumbers(ctx context.Context) ([]api.Number, error) {
	var out []api.Number
	if err := c.do(ctx, http.MethodGet, "/admin/numbers", c.Token(), nil, &out); err != nil {
		return nil, fmt.Errorf("list numbers: %w", err)
	}
	return out, nil
}

// AdminCreateNumber adds a center number with its route.
func (c *Client) AdminCreateNumber(ctx context.Context, n api.Number) (api.Number, error) {
	var out api.Number
	if err := c.do(ctx, http.MethodPost, "/admin/numbers", c.Token(), n, &out); err != nil {
		return api.Number{}, fmt.Errorf("create number %s: %w", n.E164, err)
	}
	return out, nil
}

// AdminPatchNumber re-routes or disables a number; any route field given
// replaces the whole route (see api.NumberPatch).
func (c *Client) AdminPatchNumber(ctx context.Context, e164 string, p api.NumberPatch) (api.Number, error) {
	var out api.Number
	if err := c.do(ctx, http.MethodPatch, "/admin/numbers/"+url.PathEscape(e164), c.Token(), p, &out); err != nil {
		return api.Number{}, fmt.Errorf("change number %s: %w", e164, err)
	}
	return out, nil
}

// AdminGroups lists the skill groups with their settings.
func (c *Client) AdminGroups(ctx context.Context) ([]api.GroupSettings, error) {
	var out []api.GroupSettings
	if err := c.do(ctx, http.MethodGet, "/admin/groups", c.Token(), nil, &out); err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	return out, nil
}

// AdminCreateGroup creates a skill group; g.Name is required and settings
// left nil take the defaults.
func (c *Client) AdminCreateGroup(ctx context.Context, g api.GroupPatch) (api.GroupSettings, error) {
	var out api.GroupSettings
	name := ""
	if g.Name != nil {
		name = *g.Name
	}
	if err := c.do(ctx, http.MethodPost, "/admin/groups", c.Token(), g, &out); err != nil {
		return api.GroupSettings{}, fmt.Errorf("create group %s: %w", name, err)
	}
	return out, nil
}

// AdminPatchGroup changes the settings of p that are not nil.
func (c *Client) AdminPatchGroup(ctx context.Context, name string, p api.GroupPatch) (api.GroupSettings, error) {
	var out api.GroupSettings
	if err := c.do(ctx, http.MethodPatch, "/admin/groups/"+url.PathEscape(name), c.Token(), p, &out); err != nil {
		return api.GroupSettings{}, fmt.Errorf("change group %s: %w", name, err)
	}
	return out, nil
}

// AdminMembers lists a group's members, best level first.
func (c *Client) AdminMembers(ctx context.Context, group string) ([]api.Member, error) {
	var out []api.Member
	if err := c.do(ctx, http.MethodGet, "/admin/groups/"+url.PathEscape(group)+"/members", c.Token(), nil, &out); err != nil {
		return nil, fmt.Errorf("members of %s: %w", group, err)
	}
	return out, nil
}

// AdminSetMember puts the agent in the group at level (1 is the best), or
// changes its level.
func (c *Client) AdminSetMember(ctx context.Context, group, workNumber string, level int) (api.Member, error) {
	var out api.Member
	path := "/admin/groups/" + url.PathEscape(group) + "/members/" + url.PathEscape(workNumber)
	if err := c.do(ctx, http.MethodPut, path, c.Token(), api.MemberLevel{Level: &level}, &out); err != nil {
		return api.Member{}, fmt.Errorf("put %s in %s: %w", workNumber, group, err)
	}
	return out, nil
}

// AdminRemoveMember takes the agent out of the group.
func (c *Client) AdminRemoveMember(ctx context.Context, group, workNumber string) error {
	path := "/admin/groups/" + url.PathEscape(group) + "/members/" + url.PathEscape(workNumber)
	if err := c.do(ctx, http.MethodDelete, path, c.Token(), nil, nil); err != nil {
		return fmt.Errorf("remove %s from %s: %w", workNumber, group, err)
	}
	return nil
}

// AdminIVRMenus lists the IVR menus.
func (c *Client) AdminIVRMenus(ctx context.Context) ([]api.IVRMenu, error) {
	var out []api.IVRMenu
	if err := c.do(ctx, http.MethodGet, "/admin/ivr", c.Token(), nil, &out); err != nil {
		return nil, fmt.Errorf("list IVR menus: %w", err)
	}
	return out, nil
}

// AdminPutIVRMenu creates or replaces the menu called name.
func (c *Client) AdminPutIVRMenu(ctx context.Context, name string, m api.IVRMenuPut) (api.IVRMenu, error) {
	var out api.IVRMenu
	if err := c.do(ctx, http.MethodPut, "/admin/ivr/"+url.PathEscape(name), c.Token(), m, &out); err != nil {
		return api.IVRMenu{}, fmt.Errorf("set IVR menu %s: %w", name, err)
	}
	return out, nil
}

// AdminStatuses lists the custom statuses in creation order.
func (c *Client) AdminStatuses(ctx context.Context) ([]api.CustomStatus, error) {
	var out []api.CustomStatus
	if err := c.do(ctx, http.MethodGet, "/admin/statuses", c.Token(), nil, &out); err != nil {
		return nil, fmt.Errorf("list statuses: %w", err)
	}
	return out, nil
}

// AdminCreateStatus adds a custom status.
func (c *Client) AdminCreateStatus(ctx context.Context, s api.CustomStatus) (api.CustomStatus, error) {
	var out api.CustomStatus
	if err := c.do(ctx, http.MethodPost, "/admin/statuses", c.Token(), s, &out); err != nil {
		return api.CustomStatus{}, fmt.Errorf("create status %s: %w", s.Name, err)
	}
	return out, nil
}
