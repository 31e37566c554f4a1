// Package callcenter is the domain of the call-center server: agents,
// numbers, calls and call records. It is pure Go with no I/O; persistence is in
// callcenter/store, SIP in callcenter/sipedge, media in callcenter/media and
// the HTTP API in callcenter/server. Time is always passed in (clock injected).
package callcenter

import "time"

// Role is what an account may do.
type Role int

const (
	RoleAgent Role = iota
	RoleSupervisor
	RoleAdmin
)

func (r Role) String() string {
	switch r {
	case RoleAgent:
		return "agent"
	case RoleSupervisor:
		return "supervisor"
	case RoleAdmin:
		return "admin"
	}
	return "unknown"
}

// ParseRole is the inverse of Role.String.
func ParseRole(s string) (Role, error) {
	for r := RoleAgent; r <= RoleAdmin; r++ {
		if r.String() == s {
			return r, nil
		}
	}
	return 0, &ParseError{Kind: "role", Value: s}
}

// Agent is a person who logs in with a work number (工号) and password.
type Agent struct {
	ID         int64
	WorkNumber string
	Name       string
	Role       Role
	// PasswordHash is a salted, slow hash of the login password (see password.go).
	PasswordHash string
	// HA1MD5 and HA1SHA256 are the SIP digest HA1 values of the password for
	// the server's realm, so that plain SIP phones (baresip, desk phones) can
	// register with the work number and password. They are password
	// equivalents for SIP only, as RFC 8760 recommends storing them.
	HA1MD5    string
	HA1SHA256 string
	Disabled  bool
	CreatedAt time.Time
}

// Number is a center number (码号/DID) that the carrier delivers calls to.
type Number struct {
	ID   int64
	E164 string // digits as the carrier sends them, e.g. 4008001234 or 02161234567
	Name string
	// Where calls to this number go, the first that is set: RouteIVR (a menu
	// name), RouteGroup (a skill group's queue), RouteAgent (a work number).
	RouteIVR   string
	RouteGroup string
	RouteAgent string
	Disabled   bool
}

// CallType classifies a call record.
type CallType int

const (
	CallInbound       CallType = iota // carrier → center number → agent
	CallAgentOutbound                 // agent → outside number
	CallTaskOutbound                  // outbound task dialing
	CallCallback                      // scheduled callback
	CallInternal                      // agent → agent
)

func (t CallType) String() string {
	switch t {
	case CallInbound:
		return "inbound"
	case CallAgentOutbound:
		return "outbound"
	case CallTaskOutbound:
		return "task_outbound"
	case CallCallback:
		return "callback"
	case CallInternal:
		return "internal"
	}
	return "unknown"
}

// ParseCallType is the inverse of CallType.String.
func ParseCallType(s string) (CallType, error) {
	for t := CallInbound; t <= CallInternal; t++ {
		if t.String() == s {
			return t, nil
		}
	}
	return 0, &ParseError{Kind: "call type", Value: s}
}

// Result is how a call ended.
type Result int

const (
	ResultUnknown     Result = iota
	ResultAnswered           // talked, then hung up normally
	ResultNoAnswer           // rang out
	ResultBusy               // 486/600
	ResultRejected           // callee declined (603)
	ResultCancelled          // caller gave up before answer
	ResultUnreachable        // 480/503/408
	ResultInvalid            // 404/484
	ResultFailed             // other failure
	ResultInterrupted        // the server stopped mid-call; closed at next start
)

func (r Result) String() string {
	return [...]string{"unknown", "answered", "no_answer", "busy", "rejected", "cancelled",
		"unreachable", "invalid_number", "failed", "interrupted"}[r]
}

// ParseResult is the inverse of Result.String.
func ParseResult(s string) (Result, error) {
	for r := ResultUnknown; r <= ResultInterrupted; r++ {
		if r.String() == s {
			return r, nil
		}
	}
	return 0, &ParseError{Kind: "result", Value: s}
}

// Party says who did something, e.g. who hung up.
type Party int

const (
	PartyNone   Party = iota
	PartyCaller       // the calling side hung up
	PartyCallee       // the called side hung up
	PartySystem       // the server ended it (timeout, restart, force)
)

func (p Party) String() string {
	return [...]string{"", "caller", "callee", "system"}[p]
}

// ParseParty is the inverse of Party.String.
func ParseParty(s string) (Party, error) {
	for p := PartyNone; p <= PartySystem; p++ {
		if p.String() == s {
			return p, nil
		}
	}
	return 0, &ParseError{Kind: "party", Value: s}
}

// CallRecord is one call leg as stored: written once when answered (or when
// it ends unanswered) and completed when it ends. CallID is unique.
type CallRecord struct {
	CallID     string
	Type       CallType
	Caller     string // number or work number of the calling side
	Callee     string // number or work number of the called side
	Agent      string // work number of the agent on this call, if any
	Number     string // center number involved (inbound DID or outbound caller ID)
	StartedAt  time.Time
	AnsweredAt time.Time // zero when never answered
	EndedAt    time.Time // zero while the call is going on
	Result     Result
	HangupBy   Party
	Codec      string // codec on the agent leg
	// Queue data of an inbound call: the skill group it queued in, how long
	// the caller waited (IVR excluded) and whether the caller hung up in the
	// queue or the IVR before any agent answered.
	Group     string
	QueueWait time.Duration
	Abandoned bool
	// ParentID links a consult or transfer leg's record to the customer
	// call it was made from (the customer call's CallID); empty on the
	// customer call itself. Each leg has exactly one record of its own.
	ParentID string
}

// Duration is the talk time: answer to end; zero when not answered or not ended.
func (r CallRecord) Duration() time.Duration {
	if r.AnsweredAt.IsZero() || r.EndedAt.IsZero() {
		return 0
	}
	return r.EndedAt.Sub(r.AnsweredAt)
}

// CallState is the state of a call on the server.
type CallState int

const (
	CallRinging CallState = iota
	CallTalking
	CallEnded
)

func (s CallState) String() string {
	return [...]string{"ringing", "talking", "ended"}[s]
}

// CallEvent reports a change of a call on the server, for the event stream.
type CallEvent struct {
	CallID string
	Type   CallType
	State  CallState
	From   string
	To     string
	// Agents are the work numbers of the agents on the call, who get the event.
	Agents []string
	Number string
	At     time.Time
	Result Result
	// HangupBy is set when State is CallEnded.
	HangupBy Party
}
