package crm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/agentphone/agentphone/callcenter"
)

// CallbackInput creates or reschedules a callback. On create, Number or
// CallID (the number is then the call's customer) must be given; on
// reschedule, an empty Number keeps the old one.
type CallbackInput struct {
	CallID string
	Number string
	DueAt  time.Time
	Remark string
}

// maxRemindBatch bounds the due callbacks one poll reminds of; the rest
// wait for the next poll.
const maxRemindBatch = 500

// CreateCallback schedules a callback for the agent. The due time must be
// in the future and the number valid (ReasonCallbackInvalid); a call id
// must name a call the agent is on (ReasonNotInCall).
func (s *Service) CreateCallback(ctx context.Context, agent string, in CallbackInput) (callcenter.Callback, error) {
	const what = "create callback"
	cb := callcenter.Callback{Agent: agent, DueAt: in.DueAt, Remark: in.Remark, State: callcenter.CallbackPending, CreatedAt: s.now()}
	if in.CallID != "" {
		v, err := s.involved(ctx, in.CallID, agent)
		if err != nil {
			return cb, fmt.Errorf("%s: %w", what, err)
		}
		cb.CallID, cb.Number = v.id, v.customer
	}
	if in.Number != "" {
		cb.Number = in.Number
	}
	if err := s.checkCallback(&cb); err != nil {
		return cb, fmt.Errorf("%s: %w", what, err)
	}
	out, err := s.st.CreateCallback(ctx, cb)
	if err != nil {
		return out, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

func (s *Service) checkCallback(cb *callcenter.Callback) error {
	if cb.Number == "" {
		return refuse(ReasonCallbackInvalid, "a callback needs a number (the call has no customer number)")
	}
	n, err := NormalizeNumber(cb.Number)
	if err != nil {
		return refuse(ReasonCallbackInvalid, "%q is not a number to call", cb.Number)
	}
	cb.Number = n
	if cb.DueAt.IsZero() || !cb.DueAt.After(s.now()) {
		return refuse(ReasonCallbackInvalid, "the callback time must be in the future")
	}
	if len([]rune(cb.Remark)) > callcenter.MaxRemarkLen {
		return refuse(ReasonCallbackInvalid, "the remark is longer than %d characters", callcenter.MaxRemarkLen)
	}
	return nil
}

// own returns the agent's callback; another agent's is ErrNotFound, so
// ids do not tell what others planned.
func (s *Service) own(ctx context.Context, agent string, id int64) (callcenter.Callback, error) {
	cb, err := s.st.Callback(ctx, id)
	if err != nil {
		return cb, err
	}
	if cb.Agent != agent {
		return callcenter.Callback{}, fmt.Errorf("callback %d: %w", id, callcenter.ErrNotFound)
	}
	return cb, nil
}

// UpdateCallback reschedules the agent's callback: a new time (in the
// future), remark and optionally number. An expired one becomes pending
// again and is reminded of again at its new time; a done one is refused
// (ReasonCallbackDone).
func (s *Service) UpdateCallback(ctx context.Context, agent string, id int64, in CallbackInput) (callcenter.Callback, error) {
	what := fmt.Sprintf("reschedule callback %d", id)
	s.expire(ctx) // a callback whose day just ended is expired, not pending
	cb, err := s.own(ctx, agent, id)
	if err != nil {
		return cb, fmt.Errorf("%s: %w", what, err)
	}
	if cb.State == callcenter.CallbackDone {
		return cb, refuse(ReasonCallbackDone, "this callback is done (call %s)", cb.DoneCall)
	}
	cb.DueAt, cb.Remark, cb.State, cb.Reminded = in.DueAt, in.Remark, callcenter.CallbackPending, time.Time{}
	if in.Number != "" {
		cb.Number = in.Number
	}
	if err := s.checkCallback(&cb); err != nil {
		return cb, fmt.Errorf("%s: %w", what, err)
	}
	out, err := s.st.UpdateCallback(ctx, cb)
	if err != nil {
		return out, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// DeleteCallback deletes the agent's callback.
func (s *Service) DeleteCallback(ctx context.Context, agent string, id int64) error {
	what := fmt.Sprintf("delete callback %d", id)
	if _, err := s.own(ctx, agent, id); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := s.st.DeleteCallback(ctx, id); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// Day returns the start and end of the calendar day of t's own date (its
// year, month and day as written), in the service's time zone.
func (s *Service) Day(t time.Time) (from, until time.Time) {
	y, m, d := t.Date()
	from = time.Date(y, m, d, 0, 0, 0, 0, s.loc)
	return from, time.Date(y, m, d+1, 0, 0, 0, 0, s.loc)
}

// Today is the current date in the service's time zone.
func (s *Service) Today() time.Time { return s.now().In(s.loc) }

// Callbacks lists the agent's callbacks due on day (its own date, read in
// the service's time zone), by due time. Callbacks whose day has ended are
// expired first, so none is listed pending after its day.
func (s *Service) Callbacks(ctx context.Context, agent string, day time.Time) ([]callcenter.Callback, error) {
	s.expire(ctx)
	from, until := s.Day(day)
	cbs, err := s.st.Callbacks(ctx, callcenter.CallbackFilter{Agent: agent, DueFrom: from, DueUntil: until})
	if err != nil {
		return nil, fmt.Errorf("callbacks of %s on %s: %w", agent, from.Format(time.DateOnly), err)
	}
	return cbs, nil
}

// CallCompleted is told of every call record that ends (whoever writes
// records calls it): an answered call of an agent with a customer number
// completes that agent's pending callbacks to the number created before
// the answer, and each is sent to the sink as done.
func (s *Service) CallCompleted(ctx context.Context, rec callcenter.CallRecord) error {
	if rec.AnsweredAt.IsZero() || rec.Agent == "" {
		return nil
	}
	number := customerOf(rec)
	if number == "" && rec.ParentID != "" {
		// A transfer leg: the customer is the parent call's.
		parent, err := s.st.CallRecord(ctx, rec.ParentID)
		if err != nil && !errors.Is(err, callcenter.ErrNotFound) {
			return fmt.Errorf("call completed %s: parent: %w", rec.CallID, err)
		}
		number = customerOf(parent)
	}
	if number == "" {
		return nil
	}
	s.expire(ctx) // a callback whose day ended is not made done by a later call
	done, err := s.st.CompleteCallbacks(ctx, rec.Agent, number, rec.CallID, rec.AnsweredAt)
	if err != nil {
		return fmt.Errorf("call completed %s: %w", rec.CallID, err)
	}
	for _, cb := range done {
		s.emitDone(cb)
	}
	return nil
}

func (s *Service) emitDone(cb callcenter.Callback) {
	if s.sink != nil {
		s.sink.CallbackDone(cb.Agent, cb)
	}
}

// expire marks expired every pending callback due before today (in the
// service's zone): its day ended without a completed call. Failures are
// logged; the next poll or read retries.
func (s *Service) expire(ctx context.Context) {
	today, _ := s.Day(s.Today())
	exp, err := s.st.ExpireCallbacks(ctx, today)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("crm: expire callbacks", "err", err)
		}
		return
	}
	for _, cb := range exp {
		s.emitDone(cb)
	}
}

// remind sends each pending callback that is due and was not reminded of
// yet to the sink, once: the reminder is persisted first, so a restart
// never repeats it, and of two servers only one sends it.
func (s *Service) remind(ctx context.Context) {
	now := s.now()
	due, err := s.st.Callbacks(ctx, callcenter.CallbackFilter{
		States: []callcenter.CallbackState{callcenter.CallbackPending}, Unreminded: true,
		DueUntil: now.Add(time.Nanosecond), Limit: maxRemindBatch})
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("crm: due callbacks", "err", err)
		}
		return
	}
	for _, cb := range due {
		ok, err := s.st.MarkCallbackReminded(ctx, cb.ID, now)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("crm: mark callback reminded", "callback", cb.ID, "err", err)
			}
			continue
		}
		if ok && s.sink != nil {
			cb.Reminded = now
			s.sink.CallbackDue(cb.Agent, cb)
		}
	}
}

// Tick expires ended days' callbacks and sends due reminders once; Run
// calls it every poll interval.
func (s *Service) Tick(ctx context.Context) {
	s.expire(ctx)
	s.remind(ctx)
}

// Run ticks until ctx ends. The clock is read at every tick, so a fake
// clock drives it in tests without waiting real minutes.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(s.poll)
	defer t.Stop()
	for {
		s.Tick(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
