// Package store persists the call center's agents, numbers, login sessions
// and call records, and the inbound call center's skill groups, IVR menus,
// custom statuses, agent status log and queue offers, behind one interface,
// Store. SQLite (pure Go, through
// modernc.org/sqlite) is the embedded default; see SQLite for its choices.
//
// Errors: a missing row is callcenter.ErrNotFound, a duplicate key is
// callcenter.ErrExists and bad input is callcenter.ErrInvalid, each wrapped
// with what was being done; test them with errors.Is.
package store

import (
	"context"
	"time"

	"github.com/agentphone/agentphone/callcenter"
)

// Store is the persistence the server needs. Implementations are safe for
// concurrent use.
type Store interface {
	// CreateAgent stores a new agent and returns it with ID (and CreatedAt, if
	// zero) set. ErrExists if the work number is taken.
	CreateAgent(ctx context.Context, a callcenter.Agent) (callcenter.Agent, error)
	// AgentByWorkNumber returns the agent, ErrNotFound if none.
	AgentByWorkNumber(ctx context.Context, workNumber string) (callcenter.Agent, error)
	// ListAgents returns all agents ordered by work number.
	ListAgents(ctx context.Context) ([]callcenter.Agent, error)
	// SetAgentDisabled disables or enables an agent. ErrNotFound if none.
	SetAgentDisabled(ctx context.Context, workNumber string, disabled bool) error
	// SetAgentPassword replaces the login hash and the SIP HA1s together.
	// ErrNotFound if none.
	SetAgentPassword(ctx context.Context, workNumber, passwordHash, ha1MD5, ha1SHA256 string) error

	// CreateNumber stores a center number and returns it with ID set.
	// ErrExists if the number is taken, ErrNotFound if RouteAgent is set and
	// names no agent.
	CreateNumber(ctx context.Context, n callcenter.Number) (callcenter.Number, error)
	// NumberByE164 returns the number, ErrNotFound if none.
	NumberByE164(ctx context.Context, e164 string) (callcenter.Number, error)
	// ListNumbers returns all numbers ordered by E164.
	ListNumbers(ctx context.Context) ([]callcenter.Number, error)
	// SetNumberDisabled disables or enables a number. ErrNotFound if none.
	SetNumberDisabled(ctx context.Context, e164 string, disabled bool) error

	// CreateSession stores a login. ErrExists if the token hash is taken,
	// ErrNotFound if the agent does not exist.
	CreateSession(ctx context.Context, s callcenter.Session) error
	// SessionByToken returns a live session by token hash (see
	// callcenter.HashToken); ErrNotFound if absent or revoked.
	SessionByToken(ctx context.Context, tokenHash string) (callcenter.Session, error)
	// RevokeSessions revokes all live sessions of the agent except the one
	// whose token hash is except, and returns the ones it revoked (Revoked
	// set), oldest first. An unknown agent has no sessions: nil, nil.
	RevokeSessions(ctx context.Context, workNumber string, except string) ([]callcenter.Session, error)
	// LiveSessions returns the agent's sessions not revoked, oldest first.
	LiveSessions(ctx context.Context, workNumber string) ([]callcenter.Session, error)

	// BeginCallRecord inserts the record of a call that was answered. It is a
	// no-op when a record with the same call id exists, so retries and races
	// with EndCallRecord never make a second row.
	BeginCallRecord(ctx context.Context, r callcenter.CallRecord) error
	// EndCallRecord completes a call: it sets end, result and who hung up on
	// the existing row if it is not ended yet (also filling answered time and
	// codec, group, queue wait and parent id if the row lacked them, and Abandoned if
	// either says so), or inserts the whole record when there is
	// no row (calls that ended unanswered). A second call is a no-op: the
	// first end wins. r.EndedAt must be set.
	EndCallRecord(ctx context.Context, r callcenter.CallRecord) error
	// CallRecord returns one record, ErrNotFound if none.
	CallRecord(ctx context.Context, callID string) (callcenter.CallRecord, error)
	// CallRecords returns the records matching f, newest (by start) first.
	CallRecords(ctx context.Context, f callcenter.RecordFilter) ([]callcenter.CallRecord, error)

	// Heartbeat remembers that the server was alive at now, so that after a
	// crash RepairUnfinished can date the end of calls it cut off.
	Heartbeat(ctx context.Context, now time.Time) error
	// RepairUnfinished closes every record without an end: result
	// interrupted, hung up by the system, ended at the last heartbeat (now if
	// there was none), but never before the call started or was answered. It
	// returns how many records it closed. Run it at start-up, before calls.
	RepairUnfinished(ctx context.Context, now time.Time) (int, error)

	Inbound
	InCall

	// Close releases the database.
	Close() error
}

// Inbound is the persistence of the inbound call center (issue 3): skill
// groups, IVR menus, custom statuses, number routes, the agent status log,
// queue offers and the customer lookup of the screen pop.
//
// Names of groups, menus and custom statuses are keys: 1 to 32 ASCII
// letters, digits, '_', '-' or '.'. Durations must not be negative.
type Inbound interface {
	// CreateGroup stores a new skill group and returns it with ID set (and
	// Label set to Name if it was empty). ErrExists if the name is taken,
	// ErrNotFound if OverflowGroup or IVR names nothing, ErrInvalid for a bad
	// name, enum, negative duration, overflow to itself, or OverflowGroup
	// missing (or set without OverflowGroup kind).
	CreateGroup(ctx context.Context, g callcenter.SkillGroup) (callcenter.SkillGroup, error)
	// UpdateGroup replaces every setting of the group named g.Name (g.ID is
	// ignored). ErrNotFound if there is none; otherwise as CreateGroup.
	UpdateGroup(ctx context.Context, g callcenter.SkillGroup) error
	// GroupByName returns the group, ErrNotFound if none.
	GroupByName(ctx context.Context, name string) (callcenter.SkillGroup, error)
	// ListGroups returns all groups ordered by name.
	ListGroups(ctx context.Context) ([]callcenter.SkillGroup, error)
	// SetMember puts the agent in the group at m.Level (1 = best), or changes
	// the level of a member. ErrNotFound if the group or the agent does not
	// exist, ErrInvalid for a level below 1.
	SetMember(ctx context.Context, m callcenter.Member) error
	// RemoveMember takes the agent out of the group; ErrNotFound if the
	// agent was not a member.
	RemoveMember(ctx context.Context, group, agent string) error
	// Members returns the group's members ordered by level, then work
	// number. ErrNotFound if the group does not exist (a group without
	// members gives an empty list).
	Members(ctx context.Context, group string) ([]callcenter.Member, error)
	// GroupsOf returns the agent's memberships ordered by group name; none
	// for an unknown agent.
	GroupsOf(ctx context.Context, agent string) ([]callcenter.Member, error)

	// PutIVRMenu creates or replaces the menu named m.Name and returns it
	// with ID set. ErrInvalid for a bad name, an empty prompt, a choice
	// digit outside 0-9 * #, an unknown action kind, a group/menu/agent
	// action without target, a negative timeout, MaxTries below 1 or an
	// OnFail of repeat. Targets are not checked: menus may refer to each
	// other and the IVR runner handles a dangling target.
	PutIVRMenu(ctx context.Context, m callcenter.IVRMenu) (callcenter.IVRMenu, error)
	// IVRMenuByName returns the menu, ErrNotFound if none.
	IVRMenuByName(ctx context.Context, name string) (callcenter.IVRMenu, error)
	// ListIVRMenus returns all menus ordered by name.
	ListIVRMenus(ctx context.Context) ([]callcenter.IVRMenu, error)

	// CreateCustomStatus stores a new custom status and returns it with ID
	// set. ErrExists if the name is taken, ErrInvalid for a bad name or label.
	CreateCustomStatus(ctx context.Context, c callcenter.CustomStatus) (callcenter.CustomStatus, error)
	// ListCustomStatuses returns all custom statuses ordered by ID
	// (creation order, the order the status menu shows them).
	ListCustomStatuses(ctx context.Context) ([]callcenter.CustomStatus, error)

	// SetNumberRoute sets where calls to the number go; empty strings clear a
	// route (all empty: routed nowhere). Calls take the first route set: IVR,
	// group, agent. ErrNotFound if the number or a named target does not
	// exist.
	SetNumberRoute(ctx context.Context, e164, ivr, group, agent string) error

	// AppendStatus persists one status of an agent (every change is kept).
	// ErrInvalid for a bad work number, an unknown enum, a zero Since or
	// PresenceCustom without Custom.
	AppendStatus(ctx context.Context, st callcenter.AgentStatus) error
	// LastStatus returns the agent's latest status (greatest Since, then the
	// last appended), ErrNotFound if none was ever appended.
	LastStatus(ctx context.Context, agent string) (callcenter.AgentStatus, error)
	// StatusLog returns the statuses in effect during [since, until), oldest
	// first: the one in effect at since (the last that began at or before
	// it, with its own Since, which may be earlier), then every one that
	// began after since and before until. A zero since means from the
	// first, a zero until means no end; until before since is ErrInvalid.
	// Figures clamp the first status's start to since.
	StatusLog(ctx context.Context, agent string, since, until time.Time) ([]callcenter.AgentStatus, error)

	// RecordOffer persists an ended offer. Recording the same offer (call,
	// agent, offered at) again is a no-op: the first wins. ErrInvalid
	// without call id, agent, offer time or end time, or with an end
	// before the offer.
	RecordOffer(ctx context.Context, o callcenter.Offer) error
	// Offers returns the agent's offers made at or after since, newest
	// first; only unanswered ones (missed calls) if missedOnly; at most
	// limit (0: no limit, negative: ErrInvalid).
	Offers(ctx context.Context, agent string, since time.Time, missedOnly bool, limit int) ([]callcenter.Offer, error)

	// CallsWith counts the call records whose caller or callee is number and
	// returns the start of the latest (zero if none). An empty number (an
	// anonymous caller) has no history: 0, zero time, nil.
	CallsWith(ctx context.Context, number string) (count int, last time.Time, err error)
}
