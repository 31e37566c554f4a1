package sipedge

import (
	"errors"
	"fmt"
)

var (
	// ErrClosed is returned by Start after Close.
	ErrClosed = errors.New("sipedge: closed")
	// ErrStarted is returned by a second Start.
	ErrStarted = errors.New("sipedge: already started")
	// ErrConfig is returned by New for an unusable option value.
	ErrConfig = errors.New("sipedge: bad configuration")
)

// StatusError is a SIP failure carrying the final status code that the edge
// answered (or received) for a request.
type StatusError struct {
	Code   int
	Reason string
}

func (e *StatusError) Error() string { return fmt.Sprintf("sip %d %s", e.Code, e.Reason) }
