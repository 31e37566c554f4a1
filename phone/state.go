package phone

// RegState is the registration state of a Phone.
type RegState int

const (
	// Unregistered: no binding at the registrar (initial, after Close, or
	// in direct mode).
	Unregistered RegState = iota
	// Registering: a REGISTER is in flight.
	Registering
	// Registered: the registrar accepted our binding.
	Registered
	// Failed: the last attempt failed; Event.Err says why and the phone
	// retries with backoff.
	Failed
)

func (s RegState) String() string {
	switch s {
	case Unregistered:
		return "unregistered"
	case Registering:
		return "registering"
	case Registered:
		return "registered"
	case Failed:
		return "failed"
	}
	return "regstate(?)"
}

// CallState is where a call is in its life.
type CallState int

const (
	// Dialing: outbound INVITE sent, no ringing yet.
	Dialing CallState = iota
	// Ringing: inbound offer waiting for Answer or Reject.
	Ringing
	// Early: outbound call, remote side is ringing (180/183).
	Early
	// Active: answered, media flowing.
	Active
	// Ended: over; see Call.EndReason.
	Ended
)

func (s CallState) String() string {
	switch s {
	case Dialing:
		return "dialing"
	case Ringing:
		return "ringing"
	case Early:
		return "early"
	case Active:
		return "active"
	case Ended:
		return "ended"
	}
	return "callstate(?)"
}

// Direction tells who placed the call.
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

// EventKind says which part of an Event is meaningful.
type EventKind int

const (
	// EventRegistration carries Reg (and Err when Failed).
	EventRegistration EventKind = iota
	// EventCall carries Call and State (and Err when Ended abnormally).
	EventCall
)

func (k EventKind) String() string {
	if k == EventCall {
		return "call"
	}
	return "registration"
}

// Event is delivered on Phone.Events.
type Event struct {
	Kind  EventKind
	Reg   RegState
	Err   error
	Call  *Call
	State CallState
}
