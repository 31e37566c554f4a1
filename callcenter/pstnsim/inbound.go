package pstnsim

import (
	"context"
	"fmt"

	"github.com/emiago/diago"
	"github.com/emiago/sipgo/sip"
)

// Call places one customer call to the center: from is the caller's
// number, to the center's number. It returns once the call is answered;
// the customer then talks (opts.Voice) and listens until opts.Hold has
// passed, the center hangs up, Hangup is called, ctx is cancelled or the
// Sim closes. A refused call returns a *StatusError with the SIP status.
// Cancelling ctx while it rings sends CANCEL.
func (s *Sim) Call(ctx context.Context, from, to string, opts CallOptions) (*Call, error) {
	dg, err := s.state()
	if err != nil {
		return nil, err
	}
	server := s.serverAddr()
	if server == "" {
		return nil, ErrNoServer
	}
	simCtx, ok := s.track()
	if !ok {
		return nil, ErrClosed
	}
	started := false
	defer func() {
		if !started {
			s.active.leave()
		}
	}()

	host, port, _ := splitHostPort(server)
	myHost, _, _ := splitHostPort(s.listen)
	c := s.newCall(Inbound, from, to)
	d, err := dg.NewDialog(sip.Uri{Scheme: "sip", User: to, Host: host, Port: port}, diago.NewDialogOptions{Transport: "udp"})
	if err != nil {
		return nil, fmt.Errorf("call %s → %s: %w", from, to, err)
	}
	// The Sim closing aborts call setup like the caller's ctx does.
	setup, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(simCtx, cancel)
	defer stop()

	inv := diago.InviteClientOptions{}
	inv.WithCaller("", from, myHost)
	inv.OnResponse = func(res *sip.Response) error {
		c.setStatus(res.StatusCode)
		return nil
	}
	c.log.Info("calling center")
	err = d.Invite(setup, inv)
	// The Call-ID exists once the INVITE was built inside Invite.
	if h := d.InviteRequest.CallID(); h != nil {
		c.CallID = h.Value()
		c.log = c.log.With("call_id", c.CallID)
	}
	if err != nil {
		_ = d.Close()
		if se, ok := errStatus(err); ok {
			c.setStatus(se.Code)
			c.log.Info("call refused", "status", se.Code, "reason", se.Reason)
			return nil, fmt.Errorf("call %s → %s: %w", from, to, se)
		}
		c.log.Info("call failed", "error", err)
		return nil, fmt.Errorf("call %s → %s: %w", from, to, err)
	}
	if err := d.Ack(setup); err != nil {
		_ = d.Close()
		return nil, fmt.Errorf("call %s → %s: ack: %w", from, to, err)
	}

	voice := opts.Voice
	if voice == nil {
		voice = s.voice(c.Number)
	}
	// After answer the call lives until hold, hang-up, the caller's ctx
	// or the Sim closing.
	life, endLife := context.WithCancel(ctx)
	stopSim := context.AfterFunc(simCtx, endLife)
	m := c.answer(&d.DialogMedia, voice)
	started = true
	go func() {
		defer s.active.leave()
		defer endLife()
		defer stopSim()
		c.talk(m, opts.Hold, d.Context().Done(), life.Done(), d.Hangup, d.Close)
	}()
	return c, nil
}
