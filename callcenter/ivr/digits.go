package ivr

import (
	"context"
	"time"
)

// DigitBuffer is how many unread digits Digits keeps. A caller mashing
// keys (or a peer flooding RFC 4733 events) cannot grow memory: digits
// beyond it are dropped, and the menu sees the ones it kept.
const DigitBuffer = 16

// Digits is a Keys fed by the call's DTMF receiver: the orchestrator calls
// Push from its room's OnDTMF callback for the caller's leg. Push never
// blocks, so it is safe on the room's tick goroutine.
type Digits struct {
	ch chan rune
}

// NewDigits returns an empty digit queue.
func NewDigits() *Digits { return &Digits{ch: make(chan rune, DigitBuffer)} }

// Push queues one digit. Runes that are not DTMF (0-9, *, #, A-D) are
// dropped: they cannot come from a keypad, so they are garbage from a
// broken or hostile peer. It reports whether the digit was kept.
func (d *Digits) Push(digit rune) bool {
	if !isDTMF(digit) {
		return false
	}
	select {
	case d.ch <- digit:
		return true
	default:
		return false
	}
}

// Clear drops every unread digit: keys pressed in the IVR must not leak
// into whatever reads digits next.
func (d *Digits) Clear() {
	for {
		select {
		case <-d.ch:
		default:
			return
		}
	}
}

// Next implements Keys.
func (d *Digits) Next(ctx context.Context, timeout time.Duration) (rune, error) {
	// A digit already queued wins even over an ended ctx, so barge-in
	// keys typed ahead are never lost between two waits.
	select {
	case r := <-d.ch:
		return r, nil
	default:
	}
	var expire <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expire = t.C
	}
	select {
	case r := <-d.ch:
		return r, nil
	case <-expire:
		return 0, ErrTimeout
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func isDTMF(r rune) bool {
	return '0' <= r && r <= '9' || r == '*' || r == '#' || 'A' <= r && r <= 'D'
}
