package center

import (
	"errors"
	"fmt"
)

var (
	// ErrUnknownStatus: a custom status that the admin has not defined.
	ErrUnknownStatus = errors.New("center: unknown custom status")
	// ErrConfig: New got an unusable option or store.
	ErrConfig = errors.New("center: bad configuration")
)

// RefusedError is a status change or after-call-work command the agent's
// state does not allow (a rule of SPEC §2). It wraps the state machine's
// reason; the API answers it with 409.
type RefusedError struct {
	Agent string
	Err   error
}

func (e *RefusedError) Error() string { return fmt.Sprintf("center: agent %s: %v", e.Agent, e.Err) }
func (e *RefusedError) Unwrap() error { return e.Err }

// Refused marks the error as a refusal for the API (server.Refusal).
func (e *RefusedError) Refused() bool { return true }
