package api

import "time"

// Wire types of the inbound call center (issue 3): agent status, figures,
// queues, screen pop and history. Durations are seconds (float) on the wire.

// AgentStatus is an agent's status (callcenter.AgentStatus on the wire).
type AgentStatus struct {
	Presence   string    `json:"presence"`         // offline, online, custom
	Custom     string    `json:"custom,omitempty"` // custom status name when presence is custom
	Phone      string    `json:"phone"`            // busy, idle
	AutoAnswer bool      `json:"auto_answer"`
	Activity   string    `json:"activity"` // none, ringing, talking, acw
	ACWUntil   time.Time `json:"acw_until,omitzero"`
	Since      time.Time `json:"since"` // the status timer counts from here
}

// StatusChange is PUT /v1/me/status; nil fields stay as they are.
type StatusChange struct {
	Presence   *string `json:"presence,omitempty"`
	Custom     *string `json:"custom,omitempty"`
	Phone      *string `json:"phone,omitempty"`
	AutoAnswer *bool   `json:"auto_answer,omitempty"`
}

// ACWExtend is POST /v1/me/acw/extend.
type ACWExtend struct {
	Seconds int `json:"seconds"`
}

// Figures are the agent's figures for today.
type Figures struct {
	TalkTimeSec  float64 `json:"talk_time_sec"`
	Calls        int     `json:"calls"`
	BusyTotalSec float64 `json:"busy_total_sec"`
	IdleTotalSec float64 `json:"idle_total_sec"`
	Missed       int     `json:"missed"`
}

// Group is one of the agent's skill groups with its live figures
// (GET /v1/me/groups and the "groups" event).
type Group struct {
	Name           string  `json:"name"`
	Label          string  `json:"label"`
	Waiting        int     `json:"waiting"`
	LongestWaitSec float64 `json:"longest_wait_sec"`
	Idle           int     `json:"idle"`
	Busy           int     `json:"busy"`
	Talking        int     `json:"talking"`
}

// CustomStatus is one admin-defined status (GET /v1/statuses).
type CustomStatus struct {
	Name  string `json:"name"`
	Label string `json:"label"`
}

// ScreenPop is what the softphone shows about the customer on a call
// (弹屏): with each offer and each outbound call, on ringing/talking/ended.
type ScreenPop struct {
	CallID         string    `json:"call_id"`
	Direction      string    `json:"direction"` // inbound, outbound
	Customer       string    `json:"customer"`  // the customer's number
	Name           string    `json:"name,omitempty"`
	Region         string    `json:"region,omitempty"`  // e.g. 上海市
	Carrier        string    `json:"carrier,omitempty"` // e.g. 中国移动
	CallsFrom      int       `json:"calls_from"`        // earlier calls with this number
	LastCallAt     time.Time `json:"last_call_at,omitzero"`
	CenterNumber   string    `json:"center_number,omitempty"` // trunk number the call came through
	Group          string    `json:"group,omitempty"`
	QueueWaitSec   float64   `json:"queue_wait_sec,omitempty"`
	RingTimeoutSec float64   `json:"ring_timeout_sec,omitempty"`
}

// HistoryItem is one row of GET /v1/history: a call this agent had or was
// offered. Missed is an offer not answered (the agent missed it or the
// customer hung up first); those show red with a call-back button.
type HistoryItem struct {
	CallRecord
	Missed   bool   `json:"missed"`
	Customer string `json:"customer"`
	Name     string `json:"name,omitempty"`
	Region   string `json:"region,omitempty"`
	Group    string `json:"group,omitempty"`
}

// Notice is a message for the agent that is not a state, e.g. "set to busy
// after two missed offers" or "your session was taken over".
type Notice struct {
	Code    string `json:"code"` // e.g. "missed_twice", "takeover"
	Message string `json:"message"`
}

// Event types of the inbound call center.
const (
	EventStatus  = "status"  // Data: AgentStatus
	EventFigures = "figures" // Data: Figures
	EventGroups  = "groups"  // Data: []Group (the agent's groups)
	EventOffer   = "offer"   // Data: ScreenPop, a queue call rings this agent
	EventMissed  = "missed"  // Data: HistoryItem
	EventNotice  = "notice"  // Data: Notice
)
