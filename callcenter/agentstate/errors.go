package agentstate

import (
	"errors"
	"fmt"

	"github.com/agentphone/agentphone/callcenter"
)

// Reasons a transition is refused. A *TransitionError wraps exactly one of
// them, so callers test with errors.Is.
var (
	// ErrOffline: the agent is not signed in (no calls in or out, SPEC §2).
	ErrOffline = errors.New("not signed in")
	// ErrSignedIn: Login while already signed in.
	ErrSignedIn = errors.New("already signed in")
	// ErrRinging: a call is ringing; the agent cannot sign out or change
	// login status until it is answered or ends.
	ErrRinging = errors.New("a call is ringing")
	// ErrOnCall: the agent is talking; sign-out, custom statuses and a
	// second call wait until the call ends.
	ErrOnCall = errors.New("on a call")
	// ErrBusyWhileRinging: answering cannot be switched off while a call
	// rings (SPEC §2).
	ErrBusyWhileRinging = errors.New("cannot switch answering off while a call is ringing")
	// ErrBusyWhileTalking: answering cannot be switched off during a call.
	ErrBusyWhileTalking = errors.New("cannot switch answering off while on a call")
	// ErrNotAvailable: a queue call was offered to an agent who is not
	// online, idle and free.
	ErrNotAvailable = errors.New("not available for queue calls")
	// ErrNotRinging: Answer, OfferEnded or MissedOffer without an offer.
	ErrNotRinging = errors.New("no call is ringing")
	// ErrNotOnCall: Hangup without a call.
	ErrNotOnCall = errors.New("not on a call")
	// ErrNotInACW: FinishACW or ExtendACW outside after-call work.
	ErrNotInACW = errors.New("not in after-call work")
	// ErrNotCustom: ClearCustom outside a custom status.
	ErrNotCustom = errors.New("not in a custom status")
	// ErrBadInput: an argument breaks a rule (empty custom status name,
	// negative duration, unknown phone status). It also matches
	// callcenter.ErrInvalid.
	ErrBadInput = fmt.Errorf("%w: bad argument", callcenter.ErrInvalid)
)

// TransitionError reports a refused transition: the status it was refused
// in, the operation, and the reason (one of the sentinels above).
type TransitionError struct {
	Agent  string
	From   callcenter.AgentStatus
	Op     Op
	Reason error
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("agent %s: %s while %s: %v", e.Agent, e.Op, Describe(e.From), e.Reason)
}

func (e *TransitionError) Unwrap() error { return e.Reason }
