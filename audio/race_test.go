//go:build race

package audio

import "testing"

// skipPortAudioStreamsUnderRace: github.com/gordonklaus/portaudio's OpenStream
// turns a uintptr stream id into an unsafe.Pointer, which the checkptr
// instrumentation that -race enables rejects with a fatal error. The real
// PortAudio path is therefore tested without -race, or with
// -gcflags=github.com/gordonklaus/portaudio=-d=checkptr=0.
func skipPortAudioStreamsUnderRace(t *testing.T) {
	if !checkptrOffForPortAudio {
		t.Skip("race build: gordonklaus/portaudio OpenStream fails checkptr; run without -race, or with -gcflags=github.com/gordonklaus/portaudio=-d=checkptr=0 and AUDIO_PORTAUDIO_CHECKPTR=off")
	}
}
