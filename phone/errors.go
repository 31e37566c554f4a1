package phone

import (
	"errors"
	"fmt"
)

var (
	// ErrClosed is returned by operations on a Phone after Close.
	ErrClosed = errors.New("phone: closed")
	// ErrNotStarted is returned when Dial is called before Start.
	ErrNotStarted = errors.New("phone: not started")
	// ErrInvalidTarget is returned by Dial for a target that is neither a
	// number/user (with a registrar configured) nor a sip: URI.
	ErrInvalidTarget = errors.New("phone: invalid dial target")
	// ErrBadCredentials marks a registration refused for wrong credentials
	// (401 after an authenticated attempt, or 403). It is wrapped in a
	// *StatusError carrying the SIP code.
	ErrBadCredentials = errors.New("phone: bad credentials")
	// ErrCallEnded is returned by Call methods once the call is over.
	ErrCallEnded = errors.New("phone: call ended")
	// ErrCallState is returned when an operation does not fit the call's
	// state, e.g. Answer on an outbound call or Reject after answering.
	ErrCallState = errors.New("phone: operation not allowed in this call state")
	// ErrBadDTMF is returned by SendDTMF for characters outside 0-9 * # A-D.
	ErrBadDTMF = errors.New("phone: invalid DTMF digit")
	// ErrDTMFUnsupported is returned when the peer did not negotiate
	// telephone-event (RFC 4733).
	ErrDTMFUnsupported = errors.New("phone: peer does not accept RFC 4733 DTMF")
	// ErrNoCodec is returned when no configured codec can be used.
	ErrNoCodec = errors.New("phone: no usable codec")
	// ErrBadSDP marks a session description from the peer that the phone
	// refused because the SIP stack cannot parse it safely (a call ended
	// with it as EndReason, or an INVITE answered 400).
	ErrBadSDP = errors.New("phone: unparsable SDP from peer")
	// ErrTimeout marks a SIP transaction that got no final answer in time
	// (server down or unreachable).
	ErrTimeout = errors.New("phone: no answer from SIP peer")

	// ErrRemoteHangup is the EndReason of a call the other side ended with
	// BYE, or whose ringing the caller cancelled.
	ErrRemoteHangup = errors.New("phone: remote hung up")
	// ErrLocalHangup is the EndReason of a call ended by Hangup (or Close).
	ErrLocalHangup = errors.New("phone: local hangup")
	// ErrRejected is the EndReason of an inbound call ended by Reject.
	ErrRejected = errors.New("phone: rejected locally")
)

// StatusError is a SIP failure response (e.g. 486 Busy Here, 401).
// errors.Is(err, ErrBadCredentials) holds when Cause is ErrBadCredentials.
type StatusError struct {
	Code   int
	Reason string
	// Cause is an optional sentinel classifying the failure.
	Cause error
}

func (e *StatusError) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("sip %d %s: %v", e.Code, e.Reason, e.Cause)
	}
	return fmt.Sprintf("sip %d %s", e.Code, e.Reason)
}

// Unwrap exposes Cause to errors.Is / errors.As.
func (e *StatusError) Unwrap() error { return e.Cause }

// StatusCode returns the SIP status code carried by err, or 0.
func StatusCode(err error) int {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

// reasonPhrase is the reason phrase we send with our own final responses.
func reasonPhrase(code int) string {
	switch code {
	case 480:
		return "Temporarily Unavailable"
	case 486:
		return "Busy Here"
	case 488:
		return "Not Acceptable Here"
	case 503:
		return "Service Unavailable"
	case 603:
		return "Decline"
	}
	return "Rejected"
}
