package media

import (
	"time"

	"github.com/agentphone/agentphone/audio"
)

// Server-side jitter buffer bounds. Every millisecond here adds to the
// mouth-to-ear delay of both parties, and the phones run their own
// buffers too, so the room starts at one frame and grows only as far as
// the measured jitter asks.
const (
	jitterMinDelay = 20 * time.Millisecond
	jitterMaxDelay = 100 * time.Millisecond
)

func jitterOptions(c audio.Codec) audio.JitterOptions {
	return audio.JitterOptions{
		ClockRate: c.ClockRate(),
		MinDelay:  jitterMinDelay,
		MaxDelay:  jitterMaxDelay,
	}
}

// decodeNext pops this tick's packet and decodes it into p.nat, or
// conceals a lost one. ok is false when there is nothing to play (the
// stream has not started, or stopped long enough that concealment would
// only invent sound).
func (p *Participant) decodeNext() (n int, ok bool) {
	f, st := p.jb.Pop()
	var err error
	switch st {
	case audio.StatusPacket:
		n, err = p.dec.Decode(f.Payload, p.nat)
		if err != nil {
			p.stats.droppedOther.Add(1)
			// Conceal rather than leave a hole: a corrupt packet is a
			// lost packet to the listener.
			n, err = p.dec.Conceal(nil, p.nat)
			p.stats.concealed.Add(1)
		}
	case audio.StatusLost:
		n, err = p.dec.Conceal(f.Next, p.nat)
		p.stats.concealed.Add(1)
	default:
		return 0, false
	}
	if err != nil {
		return 0, false
	}
	return n, true
}

// discard pops this tick's packet without decoding: a muted leg.
func (p *Participant) discard() { p.jb.Pop() }
