package vm

import (
	"context"
	"time"

	"github.com/agentphone/agentphone/callcenter/api"
)

// Backend is the call-center API as the view-models need it. One Backend
// talks to one server; Connector makes one for the server the agent typed.
// Errors must wrap ErrBadCredentials, ErrUnreachable or ErrDisabled where
// those apply (adapt.go does this for callcenter/client).
type Backend interface {
	Login(ctx context.Context, workNumber, password, device string) (api.LoginResponse, error)
	// Events streams the agent's events until ctx ends, then closes the channel.
	// The first event of every (re)connection is a snapshot.
	Events(ctx context.Context) <-chan api.Event
	Center
}

// Center is the inbound call center's part of the API (issue 3): the
// agent's status, after-call work, groups and history. A change the
// server refuses fails with a *RefusedError carrying the server's reason.
type Center interface {
	SetStatus(ctx context.Context, ch api.StatusChange) (api.AgentStatus, error)
	FinishACW(ctx context.Context) error
	ExtendACW(ctx context.Context, seconds int) error
	Groups(ctx context.Context) ([]api.Group, error)
	Statuses(ctx context.Context) ([]api.CustomStatus, error)
	// History lists calls since the given time, newest first.
	History(ctx context.Context, since time.Time, missedOnly bool, limit int) ([]api.HistoryItem, error)
}

// Connector returns a Backend for a server base URL such as
// http://127.0.0.1:8080.
type Connector func(server string) (Backend, error)

// Keyring stores secrets in the operating system's keyring.
// DefaultKeyring is go-keyring; tests use keyring.MockInit with it.
type Keyring interface {
	Get(service, user string) (string, error)
	Set(service, user, password string) error
	Delete(service, user string) error
}

// RegState is the SIP registration state as the phone bar shows it.
type RegState int

const (
	RegNone        RegState = iota // not registered, not trying
	RegRegistering                 // REGISTER sent, no answer yet
	RegRegistered                  // registered with the server
	RegFailed                      // the server refused or did not answer
)

func (s RegState) String() string {
	switch s {
	case RegNone:
		return "none"
	case RegRegistering:
		return "registering"
	case RegRegistered:
		return "registered"
	case RegFailed:
		return "failed"
	}
	return "unknown"
}

// CallState is the life of one call.
type CallState int

const (
	CallDialing CallState = iota // outbound INVITE sent, nothing back yet
	CallRinging                  // inbound call offered to us, not answered
	CallEarly                    // outbound, the far end is ringing (18x)
	CallActive                   // answered, media flowing
	CallEnded                    // terminated for any reason
)

func (s CallState) String() string {
	switch s {
	case CallDialing:
		return "dialing"
	case CallRinging:
		return "ringing"
	case CallEarly:
		return "early"
	case CallActive:
		return "active"
	case CallEnded:
		return "ended"
	}
	return "unknown"
}

// Direction says who placed the call.
type Direction int

const (
	Outbound Direction = iota
	Inbound
)

func (d Direction) String() string {
	if d == Inbound {
		return "inbound"
	}
	return "outbound"
}

// Call is one call of the phone. Methods that talk to the network take a
// context; the others only read or flip local state.
type Call interface {
	Answer(ctx context.Context) error
	Reject(ctx context.Context) error
	Hangup(ctx context.Context) error
	SetMute(muted bool)
	Muted() bool
	SendDTMF(digits string) error
	State() CallState
	Remote() string
	// Header returns a header of the INVITE (X-Caller, X-Number...), "" if absent.
	Header(name string) string
	Direction() Direction
	AnsweredAt() time.Time
	EndReason() string
}

// EventKind says which field of PhoneEvent is meaningful.
type EventKind int

const (
	EventRegistration EventKind = iota // Reg is set
	EventCall                          // Call and State are set
)

func (k EventKind) String() string {
	if k == EventCall {
		return "call"
	}
	return "registration"
}

// PhoneEvent is a change reported by the phone. Call values must be
// comparable and stable: the same call is always the same Call value.
type PhoneEvent struct {
	Kind  EventKind
	Reg   RegState
	Err   error // why registration failed, if it did
	Call  Call
	State CallState
}

// Phone is the SIP user agent.
type Phone interface {
	Events() <-chan PhoneEvent
	// Dial places a call. It may return before or after the far end answers;
	// either way the phone reports progress as events for the returned Call.
	Dial(ctx context.Context, target string) (Call, error)
	SetAutoAnswer(on bool)
}

// Ringer plays the ringtone on the ringer device while a call is offered.
type Ringer interface {
	StartRinging()
	StopRinging()
}

// DeviceInfo describes one audio device of the host.
type DeviceInfo struct {
	Name           string
	InputChannels  int
	OutputChannels int
}

// DeviceLister lists the host's audio devices (PortAudio).
type DeviceLister interface {
	Devices() ([]DeviceInfo, error)
}

// TonePlayer plays a short test tone on an output device by name; the empty
// name is the system default. It returns when the tone has finished.
type TonePlayer interface {
	PlayTone(ctx context.Context, device string) error
}

// InCall is the in-call control part of the API (issue 4): hold, transfer,
// consult, three-way and DTMF on the server's rooms, so they work whatever
// device carries the agent's audio. Refusals fail with a *RefusedError
// carrying the server's code and message.
type InCall interface {
	TransferTargets(ctx context.Context) (api.TransferTargets, error)
	Hold(ctx context.Context, callID string) (api.CallControl, error)
	Resume(ctx context.Context, callID string) (api.CallControl, error)
	Transfer(ctx context.Context, callID string, t api.Target) (api.CallControl, error)
	Consult(ctx context.Context, callID string, t api.Target) (api.CallControl, error)
	ConsultTransfer(ctx context.Context, callID string) (api.CallControl, error)
	Conference(ctx context.Context, callID string) (api.CallControl, error)
	ConsultCancel(ctx context.Context, callID string) (api.CallControl, error)
	SendDTMF(ctx context.Context, callID, digits string) error
	Control(ctx context.Context, callID string) (api.CallControl, error)
}

// CRM is the notes, scheduled callbacks and customer library part of the
// API (issue 4). CustomerByNumber fails with ErrNoCustomer when the number
// is in no card.
type CRM interface {
	OpenNotes(ctx context.Context, callID string) (api.NoteBox, error)
	CloseNotes(ctx context.Context, callID string) (api.NoteBox, error)
	AddNote(ctx context.Context, callID, text string) (api.Note, error)
	EditNote(ctx context.Context, id int64, text string) (api.Note, error)
	Notes(ctx context.Context, customer string) ([]api.Note, error)
	Callbacks(ctx context.Context, day time.Time) ([]api.Callback, error)
	CreateCallback(ctx context.Context, in api.CallbackInput) (api.Callback, error)
	UpdateCallback(ctx context.Context, id int64, in api.CallbackInput) (api.Callback, error)
	DeleteCallback(ctx context.Context, id int64) error
	Customers(ctx context.Context, q string, mine bool) ([]api.Customer, error)
	CreateCustomer(ctx context.Context, c api.Customer) (api.Customer, error)
	AddCallerToCustomers(ctx context.Context, callID, name string) (api.Customer, error)
	Customer(ctx context.Context, id int64) (api.CustomerCard, error)
	UpdateCustomer(ctx context.Context, id int64, c api.Customer) (api.Customer, error)
	CustomerByNumber(ctx context.Context, number string) (api.CustomerCard, error)
}
