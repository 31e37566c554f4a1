package pstnsim

import (
	"errors"
	"fmt"
)

var (
	// ErrNotStarted is returned by calls on a Sim before Start.
	ErrNotStarted = errors.New("pstnsim: not started")
	// ErrClosed is returned by calls on a Sim after Close.
	ErrClosed = errors.New("pstnsim: closed")
	// ErrNoServer is returned by Call and Run when no server address was set.
	ErrNoServer = errors.New("pstnsim: no server address (WithServer)")
	// ErrNoNumbers is returned for a number list that holds no number.
	ErrNoNumbers = errors.New("pstnsim: no numbers in list")
	// ErrBadNumber is returned for a number list entry that is not a phone number.
	ErrBadNumber = errors.New("pstnsim: bad number")
	// ErrBadOption is returned by New for an option value it cannot use.
	ErrBadOption = errors.New("pstnsim: bad option")
	// ErrBadPlan is returned by Run for a plan it cannot carry out.
	ErrBadPlan = errors.New("pstnsim: bad plan")
	// ErrBadVoice is returned by ParseVoice for a voice it does not understand.
	ErrBadVoice = errors.New("pstnsim: bad voice")
	// ErrNotAnswered is returned by Call methods that need an answered call.
	ErrNotAnswered = errors.New("pstnsim: call not answered")
)

// StatusError is a call the far end refused with a final non-2xx SIP status.
type StatusError struct {
	Code   int
	Phrase string
	// Reason is the RFC 3326 Reason header, if any ("Q.850;cause=17;...").
	Reason string
}

func (e *StatusError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("pstnsim: call refused: %d %s (%s)", e.Code, e.Phrase, e.Reason)
	}
	return fmt.Sprintf("pstnsim: call refused: %d %s", e.Code, e.Phrase)
}
