package pstnsim

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	dgaudio "github.com/emiago/diago/audio"

	"github.com/agentphone/agentphone/audio"
)

// maxVoiceSeconds bounds a WAV voice held in memory (8 kHz: 4.8 MB).
const maxVoiceSeconds = 300

// loadWAV8k reads a 16-bit PCM WAV file, mixes it to mono and resamples
// it to 8 kHz for the trunk.
func loadWAV8k(path string) ([]int16, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := dgaudio.NewWavReader(f)
	if err := r.ReadHeaders(); err != nil {
		return nil, fmt.Errorf("read WAV header: %w", err)
	}
	if r.WavAudioFormat != 1 || r.BitsPerSample != 16 || r.NumChannels < 1 || r.NumChannels > 2 {
		return nil, fmt.Errorf("want 16-bit PCM mono or stereo, got format %d, %d bits, %d channels", r.WavAudioFormat, r.BitsPerSample, r.NumChannels)
	}
	rate, ch := int(r.SampleRate), int(r.NumChannels)
	if rate <= 0 {
		return nil, errors.New("WAV sample rate 0")
	}
	raw, err := io.ReadAll(io.LimitReader(r, int64(maxVoiceSeconds*rate*ch*2)))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read WAV data: %w", err)
	}
	frames := len(raw) / (2 * ch)
	if frames == 0 {
		return nil, errors.New("WAV has no audio")
	}
	mono := make([]int16, frames)
	for i := range mono {
		var sum int
		for c := 0; c < ch; c++ {
			sum += int(int16(binary.LittleEndian.Uint16(raw[(i*ch+c)*2:])))
		}
		mono[i] = int16(sum / ch)
	}
	if rate == sampleRate {
		return mono, nil
	}
	rs, err := audio.NewResampler(rate, sampleRate)
	if err != nil {
		return nil, err
	}
	out := make([]int16, rs.MaxOutput(len(mono)))
	n := rs.Process(mono, out)
	if n == 0 {
		return nil, errors.New("WAV too short")
	}
	return out[:n], nil
}
