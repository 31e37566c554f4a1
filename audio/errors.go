package audio

import "errors"

var (
	// ErrClosed is returned by a Device after Close.
	ErrClosed = errors.New("audio: device closed")
	// ErrNoDevice is returned when the requested device does not exist.
	ErrNoDevice = errors.New("audio: no such device")
	// ErrUnsupportedCodec is returned for a codec name we do not implement.
	ErrUnsupportedCodec = errors.New("audio: unsupported codec")
	// ErrShortBuffer is returned when a destination slice cannot hold the
	// result (a frame, a decoded payload).
	ErrShortBuffer = errors.New("audio: destination buffer too short")
	// ErrUnsupportedRate is returned for sample rates the resampler or a
	// codec cannot handle.
	ErrUnsupportedRate = errors.New("audio: unsupported sample rate")
	// ErrFormat is returned for malformed or unsupported WAV data.
	ErrFormat = errors.New("audio: bad WAV data")
)

// ErrStalled is returned when a device delivers no audio for too long
// (unplugged headset, dead sound server).
var ErrStalled = errors.New("audio: device stalled")

// ErrBadOption is returned for an encoder option out of its range.
var ErrBadOption = errors.New("audio: option out of range")

// ErrBadPacket is returned for an RTP payload that its codec's framing
// rules reject (a malformed Opus packet).
var ErrBadPacket = errors.New("audio: malformed payload")
