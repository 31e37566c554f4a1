// Package audio holds everything that touches PCM: devices (PortAudio and a
// virtual device for tests and headless runs), codecs (G.711 in pure Go, Opus
// through libopus), resampling, the adaptive jitter buffer, tone generation and
// detection, mixing helpers and WAV files.
//
// PCM is always signed 16-bit, mono, little-endian in memory as []int16.
// Devices run at DeviceRate (48 kHz) and exchange frames of FrameDuration.
package audio

import "time"

const (
	// DeviceRate is the sample rate of every Device: 48 kHz mono.
	DeviceRate = 48000
	// FrameDuration is the packetisation time used end to end (RTP ptime).
	FrameDuration = 20 * time.Millisecond
	// DeviceFrameSamples is one FrameDuration at DeviceRate.
	DeviceFrameSamples = DeviceRate * int(FrameDuration/time.Millisecond) / 1000
)

// SamplesPerFrame returns the number of samples in one FrameDuration at rate.
func SamplesPerFrame(rate int) int { return rate * int(FrameDuration/time.Millisecond) / 1000 }

// Device is a full-duplex audio endpoint (headset) at DeviceRate mono.
// ReadFrame and WriteFrame exchange exactly DeviceFrameSamples samples.
type Device interface {
	// ReadFrame blocks until the next captured (microphone) frame is ready
	// and copies it into f. It is paced by the device clock (real time).
	ReadFrame(f []int16) error
	// WriteFrame queues f for playback on the speaker. It does not block
	// for long: when the playback queue is full the oldest audio is dropped.
	WriteFrame(f []int16) error
	// Close stops the streams. ReadFrame then returns ErrClosed.
	Close() error
}

// Source produces PCM at a fixed rate: a tone, silence, a WAV file, speech.
type Source interface {
	// Read fills f completely with the next samples.
	Read(f []int16)
}
