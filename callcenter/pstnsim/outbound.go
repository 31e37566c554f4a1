package pstnsim

import (
	"context"
	"errors"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/sipgo/sip"
)

// announcementTime is how long a powered-off number plays its early-media
// announcement before the final 480.
const announcementTime = 1500 * time.Millisecond

// handleInvite plays the customer the center is calling. diago runs it on
// its own goroutine per INVITE and hangs up and closes the dialog when it
// returns, so it blocks for the whole call.
func (s *Sim) handleInvite(d *diago.DialogServerSession) {
	if s.closing() {
		_ = d.Respond(sip.StatusServiceUnavailable, "Service Unavailable", nil)
		return
	}
	simCtx := s.callCtx

	// The Request-URI is what was dialled; To is only display.
	to := d.InviteRequest.Recipient.User
	if to == "" {
		to = d.ToUser()
	}
	c := s.newCall(Outbound, d.FromUser(), to)
	c.Outcome = OutcomeFor(c.To)
	if h := d.InviteRequest.CallID(); h != nil {
		c.CallID = h.Value()
	}
	c.log = c.log.With("outcome", c.Outcome.String(), "call_id", c.CallID)
	c.log.Info("incoming call from center")

	// gone fires when the caller cancels (CANCEL ends the dialog context)
	// or the Sim closes.
	ctx, cancel := context.WithCancel(d.Context())
	defer cancel()
	stop := context.AfterFunc(simCtx, cancel)
	defer stop()
	gone := ctx.Done()

	if err := d.Trying(); err != nil {
		c.fail(err)
		return
	}
	o := c.Outcome
	switch o {
	case OutcomeAnswer, OutcomeAnswerLate, OutcomeNoAnswer:
		if err := d.Ringing(); err != nil {
			c.fail(err)
			return
		}
		c.setStatus(sip.StatusRinging)
		ring := s.ringTime
		if o == OutcomeAnswer {
			ring = s.ringTime / 4
		}
		if !s.sleep(gone, ring) {
			c.cancelled(d)
			return
		}
	case OutcomePoweredOff:
		if err := d.ProgressMedia(); err != nil {
			c.fail(err)
			return
		}
		c.setStatus(sip.StatusSessionInProgress)
		frames := int(announcementTime / (20 * time.Millisecond))
		if err := playEarly(&d.DialogMedia, Announcement(), frames, gone); err != nil {
			c.log.Warn("announcement", "error", err)
		}
		if ctx.Err() != nil {
			c.cancelled(d)
			return
		}
	}

	if code, phrase, reason := o.Final(); code != sip.StatusOK {
		c.setStatus(code)
		var hdrs []sip.Header
		if reason != "" {
			hdrs = append(hdrs, sip.NewHeader("Reason", reason))
		}
		if err := d.Respond(code, phrase, nil, hdrs...); err != nil {
			c.fail(err)
			return
		}
		c.log.Info("call refused", "status", code, "reason", reason)
		close(c.done)
		return
	}

	if err := d.Answer(); err != nil {
		// Answer fails before sending 200 when the offer has no G.711:
		// say so (488) instead of diago's generic 480.
		if d.LoadState() < sip.DialogStateEstablished {
			c.setStatus(sip.StatusNotAcceptableHere)
			_ = d.Respond(sip.StatusNotAcceptableHere, "Not Acceptable Here", nil)
		}
		c.fail(err)
		return
	}
	m := c.answer(&d.DialogMedia, s.voice(c.Number))
	select {
	case s.answered <- c:
	default:
		c.log.Debug("answered queue full; not queued")
	}
	c.talk(m, s.answerHold, d.Context().Done(), simCtx.Done(), d.Hangup, d.Close)
}

// cancelled ends a call the caller gave up on while it rang.
func (c *Call) cancelled(d *diago.DialogServerSession) {
	if errors.Is(context.Cause(d.Context()), sip.ErrTransactionCanceled) {
		c.setStatus(sip.StatusRequestTerminated)
		c.log.Info("caller cancelled while ringing")
	} else {
		c.log.Info("ringing call abandoned: simulator closing")
	}
	close(c.done)
}

// fail ends a call whose signalling broke before it was answered.
func (c *Call) fail(err error) {
	c.log.Warn("call failed", "error", err)
	close(c.done)
}
