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
	carry := p.carry
	p.carry = 0
	switch {
	case st == audio.StatusPacket && len(f.Payload) == 0:
		// A continuation of the long frame decoded before (see
		// audio.Reframed). Without it (lost) there is nothing to play.
		if carry == 0 {
			n, err = p.dec.Conceal(nil, p.nat)
			p.stats.concealed.Add(1)
			break
		}
		n = min(carry, p.natFrame)
		copy(p.nat, p.nat[p.carryAt:p.carryAt+n])
		p.carry, p.carryAt = carry-n, p.carryAt+n
		return n, true
	case st == audio.StatusPacket:
		n, err = p.dec.Decode(f.Payload, p.nat)
		if err == nil && n > p.natFrame {
			p.carry, p.carryAt = n-p.natFrame, p.natFrame
		}
		if err != nil {
			p.stats.droppedOther.Add(1)
			// Conceal rather than leave a hole: a corrupt packet is a
			// lost packet to the listener.
			n, err = p.dec.Conceal(nil, p.nat)
			p.stats.concealed.Add(1)
		}
	case st == audio.StatusLost:
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
func (p *Participant) discard() {
	p.jb.Pop()
	p.carry = 0
}
