package media

import "errors"

var (
	// ErrClosed is returned by Join and SendDTMF once the room is closed.
	ErrClosed = errors.New("media: room closed")
	// ErrNotInRoom is returned for a participant that has left or belongs
	// to another room.
	ErrNotInRoom = errors.New("media: participant not in room")
	// ErrDuplicateName is returned by Join when the name is already taken
	// in the room: hear sets refer to participants by name.
	ErrDuplicateName = errors.New("media: duplicate participant name")
	// ErrBadConfig is returned by Join for an inconsistent ParticipantConfig.
	ErrBadConfig = errors.New("media: bad participant config")
	// ErrNoDTMF is returned by SendDTMF for a leg without a negotiated
	// telephone-event payload type.
	ErrNoDTMF = errors.New("media: leg has no telephone-event payload type")
	// ErrBadDigit is returned for a rune that is not a DTMF digit.
	ErrBadDigit = errors.New("media: not a DTMF digit")
	// ErrDTMFQueueFull is returned by SendDTMF when digits are queued
	// faster than they can be sent.
	ErrDTMFQueueFull = errors.New("media: DTMF send queue full")
	// ErrShortPayload is returned when an RFC 4733 payload is truncated.
	ErrShortPayload = errors.New("media: short telephone-event payload")
)
