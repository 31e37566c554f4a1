package callcenter

import "time"

// This file holds the domain types of the inbound call center (SPEC §2–§4):
// skill groups and their members, queue strategies, IVR menus, custom
// statuses and the agent's status. Behaviour lives in callcenter/acd (queues
// and strategies) and callcenter/agentstate (the agent state machine).

// Strategy is how a skill group's queue picks the agent to offer a call to.
type Strategy int

const (
	StrategyLongestIdle Strategy = iota // the agent idle the longest (default)
	StrategyRoundRobin                  // next member after the one offered last (memory kept)
	StrategyFewestCalls                 // the agent with the fewest calls answered today
	StrategyRingAll                     // every idle member at once; first to answer wins
	StrategySkillTiers                  // best skill level first; widen one level per TierWiden of wait
)

func (s Strategy) String() string {
	switch s {
	case StrategyLongestIdle:
		return "longest_idle"
	case StrategyRoundRobin:
		return "round_robin"
	case StrategyFewestCalls:
		return "fewest_calls"
	case StrategyRingAll:
		return "ring_all"
	case StrategySkillTiers:
		return "skill_tiers"
	}
	return "unknown"
}

// ParseStrategy is the inverse of Strategy.String.
func ParseStrategy(s string) (Strategy, error) {
	for v := StrategyLongestIdle; v <= StrategySkillTiers; v++ {
		if v.String() == s {
			return v, nil
		}
	}
	return 0, &ParseError{Kind: "strategy", Value: s}
}

// OverflowKind is what happens to a caller who waited MaxWait in a queue.
type OverflowKind int

const (
	OverflowNone      OverflowKind = iota // keep waiting (MaxWait 0) or hang up with a message
	OverflowGroup                         // move to OverflowGroup's queue
	OverflowVoicemail                     // play a message and create a scheduled callback
)

func (k OverflowKind) String() string {
	return [...]string{"none", "group", "voicemail"}[k]
}

// ParseOverflowKind is the inverse of OverflowKind.String.
func ParseOverflowKind(s string) (OverflowKind, error) {
	for v := OverflowNone; v <= OverflowVoicemail; v++ {
		if v.String() == s {
			return v, nil
		}
	}
	return 0, &ParseError{Kind: "overflow", Value: s}
}

// SkillGroup (技能组) is a queue and the agents who serve it.
type SkillGroup struct {
	ID       int64
	Name     string // unique key, e.g. "sales"
	Label    string // shown to people, e.g. "售前咨询"
	Strategy Strategy
	// RingTimeout is how long one offer rings an agent before moving on.
	RingTimeout time.Duration
	// MaxWait is the longest a caller waits in the queue; 0 = no limit.
	MaxWait       time.Duration
	Overflow      OverflowKind
	OverflowGroup string // with OverflowGroup
	// ACW enables after-call work (事后整理) for ACWDuration after each call.
	ACW         bool
	ACWDuration time.Duration
	// TierWiden: with StrategySkillTiers, one more skill level is admitted
	// each time a caller has waited this long.
	TierWiden time.Duration
	// AnnounceEvery: position and expected-wait announcements to queued
	// callers at this interval; 0 = none.
	AnnounceEvery time.Duration
	// IVR, when set, is the menu a caller transferred to this group passes first.
	IVR string
}

// Member puts an agent in a skill group with a skill level: 1 is the best,
// larger numbers are less skilled (tiers are served in ascending level).
type Member struct {
	Group string // group name
	Agent string // work number
	Level int
}

// IVRActionKind is what a menu choice does.
type IVRActionKind int

const (
	IVRGroup   IVRActionKind = iota // queue in Target (a group name)
	IVRSubMenu                      // go to sub-menu Target
	IVRRepeat                       // play this menu again
	IVRHangup                       // say goodbye and hang up
	IVRAgent                        // ring agent Target (work number) directly
)

func (k IVRActionKind) String() string {
	return [...]string{"group", "menu", "repeat", "hangup", "agent"}[k]
}

// ParseIVRActionKind is the inverse of IVRActionKind.String.
func ParseIVRActionKind(s string) (IVRActionKind, error) {
	for v := IVRGroup; v <= IVRAgent; v++ {
		if v.String() == s {
			return v, nil
		}
	}
	return 0, &ParseError{Kind: "IVR action", Value: s}
}

// IVRAction is one outcome of a menu.
type IVRAction struct {
	Kind   IVRActionKind
	Target string
}

// IVRMenu is one voice menu: a prompt, DTMF choices and what to do on
// silence or a wrong key.
type IVRMenu struct {
	ID     int64
	Name   string // unique key, e.g. "main"
	Prompt string // prompt name under assets/prompts (without .wav) or a WAV path
	// Choices maps a DTMF digit (0-9 * #) to an action.
	Choices map[rune]IVRAction
	// Timeout is how long to wait for a key after the prompt ends.
	Timeout time.Duration
	// MaxTries bounds how often the menu replays after a timeout or an
	// invalid key before OnFail is taken (loop protection).
	MaxTries int
	// OnFail is taken after MaxTries failures (e.g. a default group, or hang up).
	OnFail IVRAction
}

// CustomStatus is an admin-defined login status such as meeting (会议中) or
// break (小休). Time in a custom status counts toward the busy total.
type CustomStatus struct {
	ID    int64
	Name  string // unique key, e.g. "meeting"
	Label string // shown, e.g. "会议中"
}

// Presence is the agent's login status.
type Presence int

const (
	PresenceOffline Presence = iota // not signed in: no calls in or out
	PresenceOnline                  // signed in; see PhoneStatus
	PresenceCustom                  // signed in, in a custom status (counts as busy)
)

func (p Presence) String() string {
	return [...]string{"offline", "online", "custom"}[p]
}

// PhoneStatus is whether the agent takes queue calls.
type PhoneStatus int

const (
	PhoneBusy PhoneStatus = iota // default after login: may dial out, no queue calls
	PhoneIdle                    // receives queue calls and makes calls
)

func (p PhoneStatus) String() string {
	return [...]string{"busy", "idle"}[p]
}

// Activity is what the system has the agent doing.
type Activity int

const (
	ActivityNone    Activity = iota
	ActivityRinging          // a call is offered
	ActivityTalking          // on a call
	ActivityACW              // after-call work until ACWUntil
)

func (a Activity) String() string {
	return [...]string{"none", "ringing", "talking", "acw"}[a]
}

// AgentStatus is one agent's complete status at a moment.
type AgentStatus struct {
	Agent      string // work number
	Presence   Presence
	Custom     string // custom status name when Presence is PresenceCustom
	Phone      PhoneStatus
	AutoAnswer bool
	Activity   Activity
	ACWUntil   time.Time // when Activity is ActivityACW
	// Since is when the shown status (the combination above, as the phone
	// bar displays it) began; the bar's timer counts from here.
	Since time.Time
	// IdleSince is when the agent last became available for queue calls
	// (longest-idle strategy); zero when not available.
	IdleSince time.Time
}

// Available reports whether the ACD may offer this agent a queue call.
func (s AgentStatus) Available() bool {
	return s.Presence == PresenceOnline && s.Phone == PhoneIdle && s.Activity == ActivityNone
}

// AgentFigures are one agent's figures for today (local day of the server).
type AgentFigures struct {
	Agent     string
	TalkTime  time.Duration
	Calls     int           // calls answered today
	BusyTotal time.Duration // busy + custom statuses + ACW
	IdleTotal time.Duration
	Missed    int // offers not answered today
}

// GroupFigures are a skill group's live figures.
type GroupFigures struct {
	Group       string
	Waiting     int           // callers in queue now
	LongestWait time.Duration // of those waiting
	Idle        int           // members available
	Busy        int           // members online but not available and not talking
	Talking     int           // members on a call
}

// StatusChange is what an agent asks to change; nil fields stay as they are.
type StatusChange struct {
	Presence   *Presence
	Custom     *string // with PresenceCustom: which custom status
	Phone      *PhoneStatus
	AutoAnswer *bool
}

// ScreenPop is what the agent's screen shows about the customer on a call.
type ScreenPop struct {
	CallID       string
	Inbound      bool
	Customer     string // the customer's number
	Name         string // from the customer library, when known
	Region       string // number region (号码归属地), e.g. 上海市
	Carrier      string // e.g. 中国移动
	CallsFrom    int    // earlier calls with this number
	LastCallAt   time.Time
	CenterNumber string // trunk number the call came through
	Group        string
	QueueWait    time.Duration
	RingTimeout  time.Duration
}

// Notice is a message for one agent that is not a state change.
type Notice struct {
	Code    string // "missed_twice", "takeover", ...
	Message string
}
