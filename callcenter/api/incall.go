package api

import "time"

// Wire types of in-call work (issue 4): hold, transfer, consult, three-way,
// DTMF, notes, scheduled callbacks and the customer library.
//
// Endpoints (all need the agent's bearer token):
//
//	GET    /v1/transfer-targets                 TransferTargets
//	POST   /v1/calls/{id}/hold                  → CallControl
//	POST   /v1/calls/{id}/resume                → CallControl
//	POST   /v1/calls/{id}/transfer   Target     → CallControl (blind transfer)
//	POST   /v1/calls/{id}/consult    Target     → CallControl (customer held, target rung)
//	POST   /v1/calls/{id}/consult/transfer      → CallControl (customer to the consulted party)
//	POST   /v1/calls/{id}/consult/conference    → CallControl (three-way)
//	POST   /v1/calls/{id}/consult/cancel        → CallControl (back to the customer)
//	POST   /v1/calls/{id}/dtmf       DTMF       → 204
//	GET    /v1/calls/{id}/control               → CallControl
//
//	POST   /v1/calls/{id}/notes/open            → NoteBox
//	POST   /v1/calls/{id}/notes/close           → NoteBox
//	POST   /v1/calls/{id}/notes      NoteInput  → Note
//	PUT    /v1/notes/{id}            NoteInput  → Note
//	GET    /v1/notes?customer=NUMBER            → []Note (10 newest first)
//
//	GET    /v1/callbacks?day=YYYY-MM-DD         → []Callback (the agent's, that local day)
//	POST   /v1/callbacks             CallbackInput → Callback
//	PUT    /v1/callbacks/{id}        CallbackInput → Callback (reschedule / remark)
//	DELETE /v1/callbacks/{id}                   → 204
//
//	GET    /v1/customers?q=TEXT&mine=1          → []Customer (name or number)
//	POST   /v1/customers             Customer   → Customer (owner: the agent)
//	GET    /v1/customers/{id}                   → CustomerCard
//	PUT    /v1/customers/{id}        Customer   → Customer
//	GET    /v1/customers/by-number/{number}     → CustomerCard (404 when none)
//	POST   /v1/calls/{id}/customer   AddCaller  → Customer ("add to my customers")
//
// Refusals are 409 with api.Error.Code one of the Code* constants below and
// a message the softphone shows as is.

// Target is who a transfer or consult goes to.
type Target struct {
	Kind string `json:"kind"` // agent, group, number
	To   string `json:"to"`   // work number, group name, or outside number
}

// Target kinds.
const (
	TargetAgent  = "agent"
	TargetGroup  = "group"
	TargetNumber = "number"
)

// TransferTargets lists whom the agent may transfer or consult to.
type TransferTargets struct {
	Agents []TransferAgent `json:"agents"`
	Groups []TransferGroup `json:"groups"`
}

// TransferAgent is an agent in the transfer dialog; Online is the green dot.
type TransferAgent struct {
	WorkNumber string `json:"work_number"`
	Name       string `json:"name"`
	Online     bool   `json:"online"`
	// Status is the agent's presence/phone/activity in a word: idle, busy,
	// ringing, talking, acw, offline, or a custom status's label.
	Status string `json:"status"`
}

// TransferGroup is a skill group in the transfer dialog.
type TransferGroup struct {
	Name    string `json:"name"`
	Label   string `json:"label"`
	Waiting int    `json:"waiting"`
	Online  int    `json:"online"` // members online; 0 means a transfer is refused
}

// CallControl is the in-call state of one call as the controlling agent
// sees it (responses of the control endpoints and the "control" event).
type CallControl struct {
	CallID string `json:"call_id"`
	// State: talking, held (customer hears music), consulting (customer
	// held, agent with the consulted party), conference (three-way),
	// transferring (blind transfer ringing), ended.
	State   string   `json:"state"`
	Parties []Party  `json:"parties"`
	Consult *Consult `json:"consult,omitempty"`
	// Notice explains the last failed step (e.g. the transfer target did
	// not answer and the customer is back); empty when none.
	Notice *Notice `json:"notice,omitempty"`
}

// Call control states.
const (
	ControlTalking      = "talking"
	ControlHeld         = "held"
	ControlConsulting   = "consulting"
	ControlConference   = "conference"
	ControlTransferring = "transferring"
	ControlEnded        = "ended"
)

// Party is one participant of a call.
type Party struct {
	Kind   string `json:"kind"`   // customer, agent, number
	ID     string `json:"id"`     // number or work number
	Name   string `json:"name"`   // display name when known
	State  string `json:"state"`  // ringing, talking, held, ended
	Speaks bool   `json:"speaks"` // heard by the others
}

// Consult is the consult leg of a call.
type Consult struct {
	Target Target `json:"target"`
	Name   string `json:"name,omitempty"`
	State  string `json:"state"` // ringing, queued, talking, ended
	Reason string `json:"reason,omitempty"`
}

// DTMF is POST /v1/calls/{id}/dtmf: digits 0-9 * # A-D sent RFC 4733 to
// the far end.
type DTMF struct {
	Digits string `json:"digits"`
}

// Refusal codes of call control and notes (api.Error.Code, HTTP 409).
const (
	CodeAgentBusy       = "agent_busy"       // target agent talking, ringing or in ACW
	CodeAgentOffline    = "agent_offline"    // target agent not online or not registered
	CodeNoAnswer        = "no_answer"        // target rang out
	CodeRejected        = "rejected"         // target declined
	CodeNumberBusy      = "number_busy"      // an outside number was busy
	CodeNumberInvalid   = "invalid_number"   // an outside number does not exist
	CodeNoAgentsOnline  = "no_agents_online" // transfer to a group nobody in it is online
	CodeNotInCall       = "not_in_call"      // the agent is not in that call
	CodeBadState        = "bad_state"        // e.g. resume when not held, transfer with no consult
	CodeNoteBoxOpen     = "note_box_open"    // close the previous call's note box first
	CodeNoteReadOnly    = "note_read_only"   // another agent's note
	CodeNotAnsweredYet  = "not_answered_yet" // notes only once the agent answered
	CodeCallbackInvalid = "callback_invalid" // due time in the past, unknown number...
)

// EventControl carries CallControl whenever a call's control state changes.
const (
	EventControl      = "control"       // Data: CallControl
	EventCallbackDue  = "callback_due"  // Data: Callback, at its due time
	EventCallbackDone = "callback_done" // Data: Callback (state changed)
)

// NoteBox is whether the note box of a call is open for this agent.
type NoteBox struct {
	CallID   string `json:"call_id"`
	Open     bool   `json:"open"`
	Customer string `json:"customer"`
	// Notes are the customer's 10 most recent notes, newest first.
	Notes []Note `json:"notes"`
}

// Note is a call note (通话备注).
type Note struct {
	ID        int64     `json:"id"`
	CallID    string    `json:"call_id"`
	Customer  string    `json:"customer"` // number
	Agent     string    `json:"agent"`    // author's work number
	AgentName string    `json:"agent_name,omitempty"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	Editable  bool      `json:"editable"` // by the requesting agent
}

// NoteInput is the body of note create/edit.
type NoteInput struct {
	Text string `json:"text"`
}

// Callback is a scheduled callback (预约回呼).
type Callback struct {
	ID        int64     `json:"id"`
	Agent     string    `json:"agent"`
	Number    string    `json:"number"`
	Name      string    `json:"name,omitempty"` // from the customer library
	CallID    string    `json:"call_id,omitempty"`
	DueAt     time.Time `json:"due_at"`
	Remark    string    `json:"remark,omitempty"`
	State     string    `json:"state"` // pending, done, expired
	DoneCall  string    `json:"done_call,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Callback states.
const (
	CallbackPending = "pending"
	CallbackDone    = "done"
	CallbackExpired = "expired"
)

// CallbackInput creates or reschedules a callback.
type CallbackInput struct {
	CallID string    `json:"call_id,omitempty"`
	Number string    `json:"number,omitempty"`
	DueAt  time.Time `json:"due_at"`
	Remark string    `json:"remark,omitempty"`
}

// Customer is a card of the customer library (客户).
type Customer struct {
	ID      int64             `json:"id,omitempty"`
	Name    string            `json:"name"`
	Numbers []string          `json:"numbers"`
	Company string            `json:"company,omitempty"`
	Tags    []string          `json:"tags,omitempty"`
	Fields  map[string]string `json:"fields,omitempty"` // free fields
	Owner   string            `json:"owner,omitempty"`  // owner agent's work number
	Created time.Time         `json:"created,omitzero"`
	Updated time.Time         `json:"updated,omitzero"`
}

// CustomerCard is a customer with its history (客户轨迹).
type CustomerCard struct {
	Customer  Customer     `json:"customer"`
	Calls     []CallRecord `json:"calls"`     // newest first
	Notes     []Note       `json:"notes"`     // newest first
	Callbacks []Callback   `json:"callbacks"` // newest first
}

// AddCaller is POST /v1/calls/{id}/customer: put the call's customer into
// the agent's library, named Name (the number when empty). 409 exists when
// the agent already has a customer with that number.
type AddCaller struct {
	Name string `json:"name,omitempty"`
}
