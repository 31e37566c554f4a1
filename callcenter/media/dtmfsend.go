package media

import (
	"fmt"
	"slices"
)

// RFC 4733 sending: each digit is an event of dtmfTonePackets packets one
// frame apart (100 ms, above the 40 ms most receivers require), then the
// end packet three times (§2.5.1.4), then dtmfPauseTicks frames of pause
// so that equal digits in a row stay separate events.
const (
	dtmfTonePackets = 5
	dtmfEndPackets  = 3
	dtmfPauseTicks  = 3
	dtmfVolume      = 10 // -10 dBm0, what most phones send
	dtmfQueueLen    = 32
)

// dtmfSender sends queued digits in place of audio on the tick.
type dtmfSender struct {
	queue [dtmfQueueLen]uint8 // ring of event codes
	head  int
	n     int

	sending bool
	event   uint8
	ts      uint32 // RTP timestamp of the event: its start
	packets int    // packets sent for the current event
	pause   int    // ticks of pause left after an event
}

func (d *dtmfSender) push(ev uint8) bool {
	if d.n == len(d.queue) {
		return false
	}
	d.queue[(d.head+d.n)%len(d.queue)] = ev
	d.n++
	return true
}

// active reports whether this tick belongs to DTMF (an event or the pause
// after it) rather than audio. It starts the next queued event.
func (d *dtmfSender) active() bool {
	if d.sending {
		return true
	}
	if d.pause > 0 {
		d.pause--
		// The pause sends audio again: it is the gap between events.
		return false
	}
	if d.n == 0 {
		return false
	}
	d.event = d.queue[d.head]
	d.head = (d.head + 1) % len(d.queue)
	d.n--
	d.sending = true
	d.packets = 0
	return true
}

// sendDTMFPacket writes this tick's telephone-event packet.
func (p *Participant) sendDTMFPacket() {
	d := &p.dtmfOut
	if d.packets == 0 {
		d.ts = p.pkt.Timestamp
	}
	ev := DTMFEvent{Event: d.event, Volume: dtmfVolume}
	if d.packets < dtmfTonePackets {
		ev.Duration = uint16(d.packets+1) * p.dtmfStep
	} else {
		ev.End = true
		ev.Duration = dtmfTonePackets * p.dtmfStep
	}
	audioTS := p.pkt.Timestamp
	p.pkt.Timestamp = d.ts
	p.pkt.PayloadType = p.dtmfPT
	p.pkt.Marker = d.packets == 0
	p.pkt.Payload = AppendDTMF(p.payload[:0], ev)
	p.write()
	p.pkt.Timestamp = audioTS
	d.packets++
	if d.packets == dtmfTonePackets+dtmfEndPackets {
		d.sending = false
		d.pause = dtmfPauseTicks
		p.stats.dtmfOut.Add(1)
	}
}

// SendDTMF queues digit to be sent to p's far end as RFC 4733 events
// (agent DTMF passed on to an IVR). It returns at once; the digit goes
// out over the next ~8 ticks, in place of p's audio.
func (r *Room) SendDTMF(p *Participant, digit rune) error {
	ev, err := DigitEvent(digit)
	if err != nil {
		return fmt.Errorf("send DTMF to %s: %w", p.name, err)
	}
	if p.conn == nil || p.dtmfPT == 0 {
		return fmt.Errorf("send DTMF to %s: %w", p.name, ErrNoDTMF)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return fmt.Errorf("send DTMF to %s: %w", p.name, ErrClosed)
	}
	if p.room != r || !slices.Contains(r.parts, p) {
		return fmt.Errorf("send DTMF to %s: %w", p.name, ErrNotInRoom)
	}
	if !p.dtmfOut.push(ev) {
		return fmt.Errorf("send DTMF to %s: %w", p.name, ErrDTMFQueueFull)
	}
	return nil
}
