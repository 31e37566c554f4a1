package pstnsim

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/agentphone/agentphone/audio"
)

const (
	// DefaultVoiceFreq is the customer's default voice: a 1.5 kHz tone,
	// easy to detect and unlike any prompt or hold music.
	DefaultVoiceFreq = 1500.0
	// DefaultVoiceDBFS is its level: -12 dBFS, loud but far from clipping.
	DefaultVoiceDBFS = -12.0
)

// DefaultVoice returns the default customer voice (DefaultVoiceFreq at
// DefaultVoiceDBFS, 8 kHz).
func DefaultVoice() audio.Source {
	return audio.NewTone(DefaultVoiceFreq, dbfsToAmp(DefaultVoiceDBFS), sampleRate)
}

// dbfsToAmp returns the peak amplitude (0..1) of a sine whose level, as
// audio.DBFS measures it (full-scale square wave = 0 dBFS), is db.
func dbfsToAmp(db float64) float64 { return math.Sqrt2 * math.Pow(10, db/20) }

// ParseVoice turns a -voice value into a voice for WithVoice:
//
//	tone:1500        a 1500 Hz tone at -12 dBFS
//	tone:1500:-20    a 1500 Hz tone at -20 dBFS
//	path/to/file.wav a WAV file, looped (any rate and channel count:
//	                 mixed to mono and resampled to 8 kHz)
//
// Every call gets its own Source, so calls never share read positions.
func ParseVoice(spec string) (func(callNumber int) audio.Source, error) {
	if rest, ok := strings.CutPrefix(spec, "tone:"); ok {
		parts := strings.Split(rest, ":")
		if len(parts) > 2 {
			return nil, fmt.Errorf("%w %q: want tone:HZ or tone:HZ:DBFS", ErrBadVoice, spec)
		}
		freq, err := strconv.ParseFloat(parts[0], 64)
		if err != nil || freq <= 0 || freq >= sampleRate/2 {
			return nil, fmt.Errorf("%w %q: frequency must be between 0 and 4000 Hz", ErrBadVoice, spec)
		}
		db := DefaultVoiceDBFS
		if len(parts) == 2 {
			db, err = strconv.ParseFloat(parts[1], 64)
			if err != nil || db > 0 {
				return nil, fmt.Errorf("%w %q: level must be dBFS <= 0", ErrBadVoice, spec)
			}
		}
		amp := dbfsToAmp(db)
		return func(int) audio.Source { return audio.NewTone(freq, amp, sampleRate) }, nil
	}
	if spec == "" {
		return nil, fmt.Errorf("%w: empty", ErrBadVoice)
	}
	// Load once to fail early on a broken file; each call then gets its
	// own looping reader over the same decoded samples.
	pcm, err := loadWAV(spec)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrBadVoice, spec, err)
	}
	return func(int) audio.Source { return audio.NewLoop(pcm) }, nil
}

func loadWAV(path string) ([]int16, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pcm, err := audio.ReadWAV(f, sampleRate)
	if err != nil {
		return nil, err
	}
	if len(pcm) == 0 {
		return nil, errors.New("no audio in file")
	}
	return pcm, nil
}

// Announcement is the powered-off intercept: the three-tone Special
// Information Tone (ITU-T E.180: 913.8, 1370.6, 1776.7 Hz, 330 ms each)
// then half a second of silence, repeated. Carriers put it before their
// recorded message; a center can detect it to classify the failure.
func Announcement() audio.Source {
	seg := func(freq float64) segment {
		return segment{src: audio.NewTone(freq, dbfsToAmp(-16), sampleRate), n: sampleRate * 330 / 1000}
	}
	return &sequence{segs: []segment{seg(913.8), seg(1370.6), seg(1776.7), {src: audio.Silence{}, n: sampleRate / 2}}}
}

// segment is n samples of src.
type segment struct {
	src audio.Source
	n   int
}

// sequence plays its segments in turn, forever.
type sequence struct {
	segs []segment
	i    int // current segment
	done int // samples of it already played
}

func (q *sequence) Read(f []int16) {
	for len(f) > 0 {
		s := q.segs[q.i]
		k := min(len(f), s.n-q.done)
		s.src.Read(f[:k])
		f, q.done = f[k:], q.done+k
		if q.done == s.n {
			q.i, q.done = (q.i+1)%len(q.segs), 0
		}
	}
}
