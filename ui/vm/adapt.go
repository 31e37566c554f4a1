package vm

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/agentphone/agentphone/callcenter/api"
	"github.com/agentphone/agentphone/callcenter/client"
	"github.com/agentphone/agentphone/phone"
)

// This file adapts the real phone and call-center client to the ports.

// ClientBackend is a Backend on callcenter/client.
type ClientBackend struct{ c *client.Client }

// ClientConnector makes ClientBackends with the given client options.
func ClientConnector(opts ...client.Option) Connector {
	return func(server string) (Backend, error) {
		return &ClientBackend{c: client.New(server, opts...)}, nil
	}
}

// Client returns the underlying client (for Logout and the other calls).
func (b *ClientBackend) Client() *client.Client { return b.c }

// Login implements Backend and marks the client's errors with this
// package's sentinels.
func (b *ClientBackend) Login(ctx context.Context, work, pw, device string) (api.LoginResponse, error) {
	resp, err := b.c.Login(ctx, work, pw, device)
	if err == nil {
		return resp, nil
	}
	switch {
	case errors.Is(err, client.ErrBadCredentials):
		err = fmt.Errorf("%w: %w", ErrBadCredentials, err)
	case errors.Is(err, client.ErrDisabled):
		err = fmt.Errorf("%w: %w", ErrDisabled, err)
	case errors.Is(err, client.ErrUnreachable):
		err = fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	return resp, err
}

// Events implements Backend.
func (b *ClientBackend) Events(ctx context.Context) <-chan api.Event { return b.c.Events(ctx).C() }

// PhoneAdapter is a Phone on a *phone.Phone. It translates the phone's
// events on its own goroutine until Stop (or the context given to
// AdaptPhone ends) and keeps one Call value per phone call, so the
// view-model can compare calls.
type PhoneAdapter struct {
	p      *phone.Phone
	events chan PhoneEvent
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	calls map[*phone.Call]*phoneCall
}

// AdaptPhone starts translating p's events.
func AdaptPhone(ctx context.Context, p *phone.Phone) *PhoneAdapter {
	ctx, cancel := context.WithCancel(ctx)
	a := &PhoneAdapter{p: p, events: make(chan PhoneEvent), cancel: cancel, done: make(chan struct{}),
		calls: map[*phone.Call]*phoneCall{}}
	go a.run(ctx)
	return a
}

// Stop ends the translation goroutine and waits for it.
func (a *PhoneAdapter) Stop() {
	a.cancel()
	<-a.done
}

func (a *PhoneAdapter) run(ctx context.Context) {
	defer close(a.done)
	// The current registration first: the phone may have registered before
	// anyone listened.
	in := a.p.Events()
	first := PhoneEvent{Kind: EventRegistration, Reg: regState(a.p.Registration()), Err: a.p.RegistrationErr()}
	pending := []PhoneEvent{first}
	for {
		var out chan PhoneEvent
		var next PhoneEvent
		if len(pending) > 0 {
			out, next = a.events, pending[0]
		}
		select {
		case <-ctx.Done():
			return
		case out <- next:
			pending = pending[1:]
		case ev, ok := <-in:
			if !ok {
				in = nil // the phone closed; keep delivering what is pending
				continue
			}
			pending = append(pending, a.translate(ev))
		}
	}
}

func (a *PhoneAdapter) translate(ev phone.Event) PhoneEvent {
	if ev.Kind == phone.EventRegistration {
		return PhoneEvent{Kind: EventRegistration, Reg: regState(ev.Reg), Err: ev.Err}
	}
	c := a.wrap(ev.Call)
	st := callState(ev.State)
	if st == CallEnded {
		a.mu.Lock()
		delete(a.calls, ev.Call)
		a.mu.Unlock()
	}
	return PhoneEvent{Kind: EventCall, Call: c, State: st, Err: ev.Err}
}

func (a *PhoneAdapter) wrap(c *phone.Call) Call {
	if c == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	w, ok := a.calls[c]
	if !ok {
		w = &phoneCall{c}
		if c.State() != phone.Ended {
			a.calls[c] = w
		}
	}
	return w
}

// Events implements Phone.
func (a *PhoneAdapter) Events() <-chan PhoneEvent { return a.events }

// Dial implements Phone.
func (a *PhoneAdapter) Dial(ctx context.Context, target string) (Call, error) {
	c, err := a.p.Dial(ctx, target)
	if err != nil {
		return nil, err
	}
	return a.wrap(c), nil
}

// SetAutoAnswer implements Phone.
func (a *PhoneAdapter) SetAutoAnswer(on bool) { a.p.SetAutoAnswer(on) }

type phoneCall struct{ c *phone.Call }

func (w *phoneCall) Answer(ctx context.Context) error { return w.c.Answer(ctx) }
func (w *phoneCall) Reject(ctx context.Context) error { return w.c.Reject(ctx) }
func (w *phoneCall) Hangup(ctx context.Context) error { return w.c.Hangup(ctx) }
func (w *phoneCall) SetMute(m bool)                   { w.c.SetMute(m) }
func (w *phoneCall) Muted() bool                      { return w.c.Muted() }
func (w *phoneCall) SendDTMF(d string) error          { return w.c.SendDTMF(d) }
func (w *phoneCall) State() CallState                 { return callState(w.c.State()) }
func (w *phoneCall) Remote() string                   { return w.c.Remote() }
func (w *phoneCall) Header(n string) string           { return w.c.Header(n) }
func (w *phoneCall) AnsweredAt() time.Time            { return w.c.AnsweredAt() }
func (w *phoneCall) Direction() Direction {
	if w.c.Direction() == phone.Inbound {
		return Inbound
	}
	return Outbound
}

// EndReason is empty for ordinary ends (either side hung up, we rejected)
// and the SIP failure otherwise ("486 Busy Here").
func (w *phoneCall) EndReason() string {
	err := w.c.EndReason()
	var se *phone.StatusError
	switch {
	case err == nil, errors.Is(err, phone.ErrLocalHangup), errors.Is(err, phone.ErrRemoteHangup), errors.Is(err, phone.ErrRejected):
		return ""
	case errors.As(err, &se):
		return fmt.Sprintf("%d %s", se.Code, se.Reason)
	}
	return err.Error()
}

func regState(s phone.RegState) RegState {
	switch s {
	case phone.Registering:
		return RegRegistering
	case phone.Registered:
		return RegRegistered
	case phone.Failed:
		return RegFailed
	}
	return RegNone
}

func callState(s phone.CallState) CallState {
	switch s {
	case phone.Dialing:
		return CallDialing
	case phone.Ringing:
		return CallRinging
	case phone.Early:
		return CallEarly
	case phone.Active:
		return CallActive
	}
	return CallEnded
}
