package server

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/agentstate"
)

// fakeCenter stands in for callcenter/center, which needs SIP and media.
// It keeps statuses in a map, applies the two rules the API must report
// (no answering off while ringing or talking; after-call work commands only
// in after-call work) and, like the real one, pushes every change to the
// server while holding its own lock: a server that called back into the
// center from a push would be caught by GroupLabel's TryLock.
type fakeCenter struct {
	srv *Server // pushes go here; set after New

	mu       sync.Mutex
	st       map[string]callcenter.AgentStatus
	figures  map[string]callcenter.AgentFigures
	groups   map[string][]callcenter.GroupFigures
	labels   map[string]string
	customs  []callcenter.CustomStatus
	log      []string // "login 1001", "logout 1001", "change 1001", ...
	changes  []callcenter.StatusChange
	extended time.Duration
	err      error        // returned by the next command
	reentry  atomic.Int32 // counts calls in while a push was running
	// onFigures runs inside Figures, without the lock: a push racing a
	// snapshot's read.
	onFigures func()
}

func newFakeCenter() *fakeCenter {
	return &fakeCenter{
		st:      make(map[string]callcenter.AgentStatus),
		figures: make(map[string]callcenter.AgentFigures),
		groups:  make(map[string][]callcenter.GroupFigures),
		labels:  map[string]string{"sales": "售前咨询"},
		customs: []callcenter.CustomStatus{{Name: "meeting", Label: "会议中"}, {Name: "break", Label: "小休"}},
	}
}

// refuse is how the fake says no: with the state machine's error, as the
// real center does.
func refuse(agent string, from callcenter.AgentStatus, op agentstate.Op, reason error) error {
	return fmt.Errorf("center: %w", &agentstate.TransitionError{Agent: agent, From: from, Op: op, Reason: reason})
}

func (f *fakeCenter) Login(agent string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, "login "+agent)
	st := callcenter.AgentStatus{Agent: agent, Presence: callcenter.PresenceOnline, Phone: callcenter.PhoneBusy, Since: t0}
	f.st[agent] = st
	f.srv.Status(agent, st)
}

func (f *fakeCenter) Logout(agent string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, "logout "+agent)
	st := callcenter.AgentStatus{Agent: agent, Since: t0}
	f.st[agent] = st
	f.srv.Status(agent, st)
}

func (f *fakeCenter) Status(agent string) callcenter.AgentStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st[agent]
}

// set replaces an agent's status without a push (the state a test starts from).
func (f *fakeCenter) set(st callcenter.AgentStatus) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st[st.Agent] = st
}

// reset starts a table case: st as the agent's status, no calls logged.
func (f *fakeCenter) reset(st callcenter.AgentStatus) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st[st.Agent] = st
	f.log, f.changes, f.err = nil, nil, nil
}

func (f *fakeCenter) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeCenter) takeErr() error {
	err := f.err
	f.err = nil
	return err
}

func (f *fakeCenter) ChangeStatus(_ context.Context, agent string, ch callcenter.StatusChange) (callcenter.AgentStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, "change "+agent)
	f.changes = append(f.changes, ch)
	if err := f.takeErr(); err != nil {
		return callcenter.AgentStatus{}, err
	}
	st := f.st[agent]
	if ch.Phone != nil && *ch.Phone == callcenter.PhoneBusy {
		switch st.Activity {
		case callcenter.ActivityRinging:
			return st, refuse(agent, st, agentstate.OpSetPhone, agentstate.ErrBusyWhileRinging)
		case callcenter.ActivityTalking:
			return st, refuse(agent, st, agentstate.OpSetPhone, agentstate.ErrBusyWhileTalking)
		}
	}
	if ch.Presence != nil {
		st.Presence = *ch.Presence
		st.Custom = ""
	}
	if ch.Custom != nil {
		st.Custom = *ch.Custom
	}
	if ch.Phone != nil {
		st.Phone = *ch.Phone
	}
	if ch.AutoAnswer != nil {
		st.AutoAnswer = *ch.AutoAnswer
	}
	st.Since = t0.Add(time.Minute)
	f.st[agent] = st
	f.srv.Status(agent, st)
	// A status change moves the agent between idle and busy in its groups.
	f.srv.Groups(agent, f.groups[agent])
	return st, nil
}

func (f *fakeCenter) FinishACW(_ context.Context, agent string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, "finish "+agent)
	if err := f.takeErr(); err != nil {
		return err
	}
	st := f.st[agent]
	if st.Activity != callcenter.ActivityACW {
		return refuse(agent, st, agentstate.OpFinishACW, agentstate.ErrNotInACW)
	}
	st.Activity, st.ACWUntil = callcenter.ActivityNone, time.Time{}
	f.st[agent] = st
	f.srv.Status(agent, st)
	return nil
}

func (f *fakeCenter) ExtendACW(_ context.Context, agent string, d time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, fmt.Sprintf("extend %s %s", agent, d))
	if err := f.takeErr(); err != nil {
		return err
	}
	st := f.st[agent]
	if st.Activity != callcenter.ActivityACW {
		return refuse(agent, st, agentstate.OpExtendACW, agentstate.ErrNotInACW)
	}
	f.extended += d
	st.ACWUntil = st.ACWUntil.Add(d)
	f.st[agent] = st
	f.srv.Status(agent, st)
	return nil
}

func (f *fakeCenter) Figures(agent string) callcenter.AgentFigures {
	f.mu.Lock()
	hook := f.onFigures
	f.onFigures = nil
	fig := f.figures[agent]
	f.mu.Unlock()
	if hook != nil {
		hook()
	}
	return fig
}

func (f *fakeCenter) Groups(agent string) []callcenter.GroupFigures {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.groups[agent]
}

func (f *fakeCenter) CustomStatuses() []callcenter.CustomStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.customs
}

// GroupLabel makes the fake a GroupLabeler. It must never be called while
// the fake pushes (its lock is held then): TryLock notices.
func (f *fakeCenter) GroupLabel(group string) string {
	if !f.mu.TryLock() {
		f.reentry.Add(1)
		return ""
	}
	defer f.mu.Unlock()
	return f.labels[group]
}

func (f *fakeCenter) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.log...)
}
