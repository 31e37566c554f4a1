package crm

import (
	"errors"
	"fmt"
)

// ErrRefused matches every *RefusedError: a rule of SPEC §5 forbids what
// was asked in the current state (test with errors.Is, read the reason
// with errors.As).
var ErrRefused = errors.New("refused")

// Reason says which rule refused a request.
type Reason int

const (
	ReasonNoteBoxOpen     Reason = iota + 1 // another call's note box is open
	ReasonNoteBoxClosed                     // adding a note with the call's box closed
	ReasonNoteReadOnly                      // editing another agent's note
	ReasonNotAnsweredYet                    // a note before the agent answered the call
	ReasonNotInCall                         // the agent has no part in the call
	ReasonCallbackInvalid                   // a due time not in the future, no number...
	ReasonCallbackDone                      // rescheduling a callback already done
	ReasonNotOwner                          // editing a customer of another agent
)

func (r Reason) String() string {
	switch r {
	case ReasonNoteBoxOpen:
		return "note_box_open"
	case ReasonNoteBoxClosed:
		return "note_box_closed"
	case ReasonNoteReadOnly:
		return "note_read_only"
	case ReasonNotAnsweredYet:
		return "not_answered_yet"
	case ReasonNotInCall:
		return "not_in_call"
	case ReasonCallbackInvalid:
		return "callback_invalid"
	case ReasonCallbackDone:
		return "callback_done"
	case ReasonNotOwner:
		return "not_owner"
	}
	return "unknown"
}

// RefusedError is a refusal with its reason and a message fit for the
// agent (the softphone shows it as is).
type RefusedError struct {
	Reason  Reason
	Message string
}

func (e *RefusedError) Error() string { return e.Message }

// Is makes errors.Is(err, ErrRefused) true.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

func refuse(r Reason, format string, args ...any) error {
	return &RefusedError{Reason: r, Message: fmt.Sprintf(format, args...)}
}
