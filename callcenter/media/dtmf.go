package media

import (
	"encoding/binary"
	"fmt"
)

// DTMFEvent is one RFC 4733 telephone-event payload (section 2.3).
type DTMFEvent struct {
	Event    uint8  // 0-9, 10 '*', 11 '#', 12-15 'A'-'D'
	End      bool   // E bit: the last packets of the event carry it
	Volume   uint8  // power level in -dBm0, 0..63
	Duration uint16 // in timestamp units of the telephone-event clock
}

// dtmfPayloadSize is the size of one event block; we neither send nor
// expect RFC 2198 redundancy, which is negotiated separately.
const dtmfPayloadSize = 4

// ParseDTMF decodes the first event block of an RFC 4733 payload.
func ParseDTMF(b []byte) (DTMFEvent, error) {
	if len(b) < dtmfPayloadSize {
		return DTMFEvent{}, fmt.Errorf("parse telephone-event of %d bytes: %w", len(b), ErrShortPayload)
	}
	return DTMFEvent{
		Event:    b[0],
		End:      b[1]&0x80 != 0,
		Volume:   b[1] & 0x3f,
		Duration: binary.BigEndian.Uint16(b[2:4]),
	}, nil
}

// AppendDTMF appends the wire form of e to dst.
func AppendDTMF(dst []byte, e DTMFEvent) []byte {
	flags := e.Volume & 0x3f
	if e.End {
		flags |= 0x80
	}
	return append(dst, e.Event, flags, byte(e.Duration>>8), byte(e.Duration))
}

// DigitEvent maps a DTMF digit to its RFC 4733 event code.
func DigitEvent(d rune) (uint8, error) {
	switch {
	case d >= '0' && d <= '9':
		return uint8(d - '0'), nil
	case d == '*':
		return 10, nil
	case d == '#':
		return 11, nil
	case d >= 'A' && d <= 'D':
		return uint8(d-'A') + 12, nil
	case d >= 'a' && d <= 'd':
		return uint8(d-'a') + 12, nil
	}
	return 0, fmt.Errorf("digit %q: %w", d, ErrBadDigit)
}

// EventDigit maps an RFC 4733 DTMF event code back to its digit; ok is
// false for codes outside 0-15 (flash, line events, ...), which we ignore.
func EventDigit(e uint8) (rune, bool) {
	switch {
	case e <= 9:
		return rune('0' + e), true
	case e == 10:
		return '*', true
	case e == 11:
		return '#', true
	case e <= 15:
		return rune('A' + e - 12), true
	}
	return 0, false
}

// dtmfReceiver turns the packet stream of telephone events into digits.
// A sender repeats each event every packet interval with a growing
// duration and sends the end packet three times (RFC 4733 §2.5.1.4); all
// of them share the event's RTP timestamp, which is what identifies an
// event. A digit is reported once, on its first end packet; if every end
// packet is lost the digit is reported when the next event starts.
type dtmfReceiver struct {
	started  bool   // a packet of the current event was seen
	ts       uint32 // RTP timestamp of the current event
	event    uint8
	reported bool // the current event was already reported
}

// push feeds one packet; it returns the digit to report, if any. At most
// two digits can come out of one packet (a previous event whose end was
// lost, then this one ending at once), hence two results.
func (r *dtmfReceiver) push(ts uint32, e DTMFEvent) (prev rune, prevOK bool, cur rune, curOK bool) {
	if !r.started || ts != r.ts {
		if r.started && !r.reported {
			prev, prevOK = EventDigit(r.event)
		}
		r.started, r.ts, r.event, r.reported = true, ts, e.Event, false
	}
	if e.End && !r.reported {
		r.reported = true
		cur, curOK = EventDigit(r.event)
	}
	return prev, prevOK, cur, curOK
}
