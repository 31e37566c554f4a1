package audio

import "errors"

var (
	// ErrClosed is returned by a Device after Close.
	ErrClosed = errors.New("audio: device closed")
	// ErrNoDevice is returned when the requested device does not exist.
	ErrNoDevice = errors.New("audio: no such device")
	// ErrUnsupportedCodec is returned for a codec name we do not implement.
	ErrUnsupportedCodec = errors.New("audio: unsupported codec")
)
