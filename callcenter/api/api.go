// Package api holds the JSON wire types of callcenterd's HTTP API, version 1.
// Both callcenter/server and callcenter/client use them; nothing else lives here.
//
// Errors are always {"error":{"code":"...","message":"..."}} with a 4xx/5xx status.
package api

import (
	"encoding/json"
	"time"
)

// Version is the path prefix of this API.
const Version = "/v1"

// LoginRequest is POST /v1/login.
type LoginRequest struct {
	WorkNumber string `json:"work_number"`
	Password   string `json:"password"`
	// Device names the client ("pc", "mobile"); informational.
	Device string `json:"device,omitempty"`
}

// LoginResponse carries the bearer token for the API and the SIP account to
// register with. The SIP password is a per-login secret, not the login password.
type LoginResponse struct {
	Token string         `json:"token"`
	Agent Agent          `json:"agent"`
	SIP   SIPCredentials `json:"sip"`
}

// SIPCredentials tell the softphone how to register.
type SIPCredentials struct {
	Username  string `json:"username"`
	Password  string `json:"password"`
	Realm     string `json:"realm"`
	Registrar string `json:"registrar"` // host:port of the SIP server
	Transport string `json:"transport"` // "udp"
	Expires   int    `json:"expires"`   // seconds the server grants
}

// Agent is the public view of an agent (no secrets).
type Agent struct {
	WorkNumber string `json:"work_number"`
	Name       string `json:"name"`
	Role       string `json:"role"`
	Disabled   bool   `json:"disabled,omitempty"`
}

// Me is GET /v1/me.
type Me struct {
	Agent      Agent `json:"agent"`
	Registered bool  `json:"registered"`
}

// Call is a live or finished call as the client sees it.
type Call struct {
	ID         string     `json:"id"`
	Type       string     `json:"type"`  // inbound, outbound, internal...
	State      string     `json:"state"` // ringing, talking, ended
	From       string     `json:"from"`
	To         string     `json:"to"`
	Number     string     `json:"number,omitempty"` // center number involved
	StartedAt  time.Time  `json:"started_at"`
	AnsweredAt time.Time  `json:"answered_at,omitzero"`
	EndedAt    time.Time  `json:"ended_at,omitzero"`
	Result     string     `json:"result,omitempty"`
	HangupBy   string     `json:"hangup_by,omitempty"`
	Pop        *ScreenPop `json:"pop,omitempty"`
}

// CallRecord is one row of GET /v1/calls.
type CallRecord struct {
	CallID      string    `json:"call_id"`
	Type        string    `json:"type"`
	Caller      string    `json:"caller"`
	Callee      string    `json:"callee"`
	Agent       string    `json:"agent,omitempty"`
	Number      string    `json:"number,omitempty"`
	StartedAt   time.Time `json:"started_at"`
	AnsweredAt  time.Time `json:"answered_at,omitzero"`
	EndedAt     time.Time `json:"ended_at,omitzero"`
	DurationSec float64   `json:"duration_sec"`
	Result      string    `json:"result"`
	HangupBy    string    `json:"hangup_by,omitempty"`
	Codec       string    `json:"codec,omitempty"`
	// ParentID links a consult or transfer leg to its customer call.
	ParentID string `json:"parent_id,omitempty"`
	// Notes are the customer call's notes, oldest first (GET /v1/calls,
	// on servers with notes enabled).
	Notes []Note `json:"notes,omitempty"`
}

// Event is one message on the WebSocket /v1/events. Seq increases by one for
// every event sent on a connection's stream; the first event of every
// connection is a "snapshot" carrying the full state, so a client that
// reconnects never misses state.
type Event struct {
	Seq  uint64          `json:"seq"`
	Type string          `json:"type"`
	Time time.Time       `json:"time"`
	Data json.RawMessage `json:"data,omitempty"`
}

// Event types.
const (
	EventSnapshot = "snapshot" // Data: Snapshot
	EventCall     = "call"     // Data: Call (any state change)
	EventTakeover = "takeover" // Data: Takeover; the session is no longer valid
	EventRegister = "register" // Data: Registration
)

// Snapshot is the full state for one agent.
type Snapshot struct {
	Agent      Agent  `json:"agent"`
	Registered bool   `json:"registered"`
	Calls      []Call `json:"calls"` // live calls of this agent
	// Inbound call center state (issue 3); omitted by servers without it.
	Status   *AgentStatus   `json:"status,omitempty"`
	Figures  *Figures       `json:"figures,omitempty"`
	Groups   []Group        `json:"groups,omitempty"`
	Statuses []CustomStatus `json:"statuses,omitempty"`
}

// Takeover tells a client that another login replaced its session.
type Takeover struct {
	Device string `json:"device,omitempty"`
	Reason string `json:"reason"`
}

// Registration reports the agent's SIP registration changing.
type Registration struct {
	Registered bool   `json:"registered"`
	Contact    string `json:"contact,omitempty"`
}

// Error is the body of every non-2xx response.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ErrorBody wraps Error as the top-level object.
type ErrorBody struct {
	Error Error `json:"error"`
}

// Error codes.
const (
	CodeBadRequest     = "bad_request"
	CodeUnauthorized   = "unauthorized"
	CodeBadCredentials = "bad_credentials"
	CodeDisabled       = "disabled"
	CodeNotFound       = "not_found"
	CodeInternal       = "internal"
)
