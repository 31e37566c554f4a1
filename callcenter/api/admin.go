package api

// The admin API (issue 3): /v1/admin/..., for agents whose role is admin.
// Another role gets 403 with CodeForbidden. Bodies of PATCH requests use
// pointers: a field left out stays as it is.
//
//	GET    /v1/admin/agents                       []Agent
//	POST   /v1/admin/agents                       NewAgent → 201 Agent
//	PATCH  /v1/admin/agents/{work_number}         AgentPatch → Agent
//	GET    /v1/admin/numbers                      []Number
//	POST   /v1/admin/numbers                      Number → 201 Number
//	PATCH  /v1/admin/numbers/{e164}               NumberPatch → Number
//	GET    /v1/admin/groups                       []GroupSettings
//	POST   /v1/admin/groups                       GroupPatch (name required) → 201 GroupSettings
//	PATCH  /v1/admin/groups/{name}                GroupPatch → GroupSettings
//	GET    /v1/admin/groups/{name}/members        []Member
//	PUT    /v1/admin/groups/{name}/members/{wn}   MemberLevel → Member
//	DELETE /v1/admin/groups/{name}/members/{wn}   204
//	GET    /v1/admin/ivr                          []IVRMenu
//	PUT    /v1/admin/ivr/{name}                   IVRMenuPut → IVRMenu
//	GET    /v1/admin/statuses                     []CustomStatus
//	POST   /v1/admin/statuses                     CustomStatus → 201 CustomStatus

// Error codes of the admin API.
const (
	CodeForbidden = "forbidden" // 403: the caller's role may not do this
	CodeExists    = "exists"    // 409: the name or number is taken
)

// NewAgent is POST /v1/admin/agents. Role is agent (default), supervisor
// or admin.
type NewAgent struct {
	WorkNumber string `json:"work_number"`
	Name       string `json:"name"`
	Password   string `json:"password"`
	Role       string `json:"role,omitempty"`
}

// AgentPatch is PATCH /v1/admin/agents/{work_number}. Disabling an agent
// also ends its sessions.
type AgentPatch struct {
	Name     *string `json:"name,omitempty"`
	Password *string `json:"password,omitempty"`
	Disabled *bool   `json:"disabled,omitempty"`
}

// Number is a center number (DID) and where its calls go: the first route
// set of RouteIVR, RouteGroup, RouteAgent.
type Number struct {
	E164       string `json:"e164"`
	Name       string `json:"name"`
	RouteIVR   string `json:"route_ivr,omitempty"`
	RouteGroup string `json:"route_group,omitempty"`
	RouteAgent string `json:"route_agent,omitempty"`
	Disabled   bool   `json:"disabled,omitempty"`
}

// NumberPatch is PATCH /v1/admin/numbers/{e164}. When any route field is
// present the route is replaced as a whole: the route fields left out are
// cleared (all three empty: routed nowhere).
type NumberPatch struct {
	RouteIVR   *string `json:"route_ivr,omitempty"`
	RouteGroup *string `json:"route_group,omitempty"`
	RouteAgent *string `json:"route_agent,omitempty"`
	Disabled   *bool   `json:"disabled,omitempty"`
}

// GroupSettings is a skill group as the admin API shows it. Durations are
// whole seconds; ACWSec 0 means no after-call work, MaxWaitSec 0 no limit.
type GroupSettings struct {
	Name           string `json:"name"`
	Label          string `json:"label"`
	Strategy       string `json:"strategy"` // longest_idle, round_robin, fewest_calls, ring_all, skill_tiers
	RingTimeoutSec int    `json:"ring_timeout_sec"`
	MaxWaitSec     int    `json:"max_wait_sec"`
	Overflow       string `json:"overflow"` // none, group, voicemail
	OverflowGroup  string `json:"overflow_group,omitempty"`
	ACWSec         int    `json:"acw_sec"`
	TierWidenSec   int    `json:"tier_widen_sec"`
	AnnounceSec    int    `json:"announce_sec"`
	IVR            string `json:"ivr,omitempty"`
}

// GroupPatch is POST /v1/admin/groups (Name required; settings left out
// take the defaults: longest_idle, 20 s ring timeout, 30 s tier widening,
// the rest off) and PATCH /v1/admin/groups/{name} (Name must be absent or
// the same; settings left out stay). Setting OverflowGroup alone implies
// overflow "group"; setting Overflow to another kind alone drops the
// overflow group.
type GroupPatch struct {
	Name           *string `json:"name,omitempty"`
	Label          *string `json:"label,omitempty"`
	Strategy       *string `json:"strategy,omitempty"`
	RingTimeoutSec *int    `json:"ring_timeout_sec,omitempty"`
	MaxWaitSec     *int    `json:"max_wait_sec,omitempty"`
	Overflow       *string `json:"overflow,omitempty"`
	OverflowGroup  *string `json:"overflow_group,omitempty"`
	ACWSec         *int    `json:"acw_sec,omitempty"`
	TierWidenSec   *int    `json:"tier_widen_sec,omitempty"`
	AnnounceSec    *int    `json:"announce_sec,omitempty"`
	IVR            *string `json:"ivr,omitempty"`
}

// Member is one agent in a skill group; level 1 is the best.
type Member struct {
	WorkNumber string `json:"work_number"`
	Name       string `json:"name,omitempty"`
	Level      int    `json:"level"`
}

// MemberLevel is PUT /v1/admin/groups/{name}/members/{wn}; a missing level
// is 1.
type MemberLevel struct {
	Level *int `json:"level,omitempty"`
}

// IVRMenu is a voice menu. Choices map a key (0-9, * or #) to an action:
// group:NAME, menu:NAME, agent:WORK-NUMBER, repeat or hangup; OnFail is
// one of those but repeat.
type IVRMenu struct {
	Name       string            `json:"name"`
	Prompt     string            `json:"prompt"`
	TimeoutSec int               `json:"timeout_sec"`
	MaxTries   int               `json:"max_tries"`
	Choices    map[string]string `json:"choices"`
	OnFail     string            `json:"on_fail"`
}

// IVRMenuPut is PUT /v1/admin/ivr/{name}: it creates or replaces the menu.
// Left out: timeout 5 s, 3 tries, on fail hangup, no choices.
type IVRMenuPut struct {
	Prompt     string            `json:"prompt"`
	TimeoutSec *int              `json:"timeout_sec,omitempty"`
	MaxTries   *int              `json:"max_tries,omitempty"`
	Choices    map[string]string `json:"choices,omitempty"`
	OnFail     *string           `json:"on_fail,omitempty"`
}
