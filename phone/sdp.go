package phone

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// checkSDP reports (as an error wrapping ErrBadSDP) a body that diago's SDP
// code (v0.31.0, media/sdp) would panic on. diago has no recover and runs
// on sipgo's request goroutines, so one such body from the network would
// crash the whole softphone. Anything else, even nonsense, is left to
// diago, which refuses it with an error.
//
// The traps, from reading diago's parser (and confirmed by
// FuzzCheckSDPGuardsDiago):
//   - nextLine indexes line[len-2] to trim a CR, so a line that is only
//     "\n" (a body starting with LF, or "\n\n" anywhere) is out of range;
//   - ConnectionInformation takes three fields of the first c= line without
//     counting them.
func checkSDP(body []byte) error {
	if (len(body) > 0 && body[0] == '\n') || bytes.Contains(body, []byte("\n\n")) {
		return fmt.Errorf("%w: empty LF-only line", ErrBadSDP)
	}
	for line := range bytes.Lines(body) {
		if v, ok := bytes.CutPrefix(line, []byte("c=")); ok && len(bytes.Fields(v)) < 3 {
			return fmt.Errorf("%w: connection line %q", ErrBadSDP, bytes.TrimRight(line, "\r\n"))
		}
	}
	return nil
}

// guardSDP is the server middleware that keeps unparsable SDP in requests
// away from diago: an INVITE (first or re-INVITE) carrying one is answered
// 400 — a refused re-INVITE leaves the call as it was (RFC 3261 §14.2).
// An ACK cannot be answered: its body is dropped so the dialog still
// completes (the phone always offers or expects the offer in the INVITE,
// so an SDP in an ACK is never needed), and the call it belongs to is
// ended with ErrBadSDP since the peer's media description is unknown.
func (p *Phone) guardSDP(next sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		if !req.IsInvite() && !req.IsAck() {
			next(req, tx)
			return
		}
		err := checkSDP(req.Body())
		if err == nil {
			next(req, tx)
			return
		}
		callID := ""
		if h := req.CallID(); h != nil {
			callID = h.Value()
		}
		p.log.Warn("refusing unparsable SDP", "method", req.Method.String(), "source", req.Source(), "call_id", callID, "err", err)
		if req.IsInvite() {
			res := sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad Request (unparsable SDP)", nil)
			if rerr := tx.Respond(res); rerr != nil {
				p.log.Debug("respond 400", "err", rerr)
			}
			return
		}
		req.SetBody(nil)
		req.RemoveHeader("Content-Type")
		next(req, tx)
		if c := p.callByID(callID); c != nil {
			c.abort(err)
		}
	}
}

// serverMiddleware is what diago runs around every request handler.
func (p *Phone) serverMiddleware(next sipgo.RequestHandler) sipgo.RequestHandler {
	return p.trackRequest(p.guardSDP(next))
}

// checkAnswer is the dial path's guard: a 2xx to our INVITE must carry an
// SDP answer diago can read (we always offer in the INVITE, RFC 3264 §4).
func checkAnswer(res *sip.Response) error {
	if !res.IsSuccess() {
		return nil
	}
	if len(res.Body()) == 0 {
		return fmt.Errorf("%w: %d without an SDP answer", ErrBadSDP, res.StatusCode)
	}
	return checkSDP(res.Body())
}

// dropBadAnswer ends a dialog whose 2xx carried an answer we refused before
// diago saw it: the 2xx is still ACKed, then the session is ended with BYE
// (RFC 3261 §13.2.2.4), so the far end neither retransmits nor keeps a
// half-open call.
func dropBadAnswer(d *diago.DialogClientSession) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := d.DialogClientSession.Ack(ctx); err != nil {
		return fmt.Errorf("ack: %w", err)
	}
	if err := d.DialogClientSession.Bye(ctx); err != nil {
		return fmt.Errorf("bye: %w", err)
	}
	return nil
}
