// Package agentstate is the agent state machine of SPEC §2: login status
// (offline, online, custom), phone status (busy, idle, auto-answer) and the
// system states (ringing, talking, after-call work), with the agent's figures
// for today.
//
// A Machine does no I/O and reads no clock: every method takes the time of
// the event, so the orchestrator can drive it from a fake clock. A Machine is
// not safe for concurrent use; the orchestrator keeps one per agent under
// its own lock.
package agentstate

import (
	"fmt"
	"time"

	"github.com/agentphone/agentphone/callcenter"
)

// Op is a transition the machine is asked to make.
type Op int

const (
	OpLogin Op = iota
	OpLogout
	OpSetCustom
	OpClearCustom
	OpSetPhone
	OpSetAutoAnswer
	OpOffer
	OpAnswer
	OpOfferEnded
	OpMissedOffer
	OpStartOutbound
	OpHangup
	OpFinishACW
	OpExtendACW
	OpRestore
)

var opNames = [...]string{
	"login", "logout", "set custom status", "clear custom status", "set phone status",
	"set auto-answer", "offer", "answer", "offer ended", "missed offer",
	"start outbound call", "hang up", "finish after-call work", "extend after-call work",
	"restore",
}

func (o Op) String() string {
	if o < 0 || int(o) >= len(opNames) {
		return "unknown"
	}
	return opNames[o]
}

// NoticeMissedTwice is the Notice code sent when an agent is set to busy
// after missing MissLimit offers in a row.
const NoticeMissedTwice = "missed_twice"

// DefaultMissLimit is how many offers in a row an agent may miss before the
// machine sets the phone status to busy (issue 3: two).
const DefaultMissLimit = 2

// Option configures a Machine.
type Option func(*Machine)

// WithLocation sets where "today" is for the figures: they reset at local
// midnight of loc (default time.Local, the server's day).
func WithLocation(loc *time.Location) Option {
	return func(m *Machine) {
		if loc != nil {
			m.loc = loc
		}
	}
}

// WithMissLimit sets how many offers in a row an agent may miss before it
// is set to busy; n < 1 is ignored.
func WithMissLimit(n int) Option {
	return func(m *Machine) {
		if n >= 1 {
			m.missLimit = n
		}
	}
}

// WithFigures restores today's figures so far (after a server restart, from
// the store); they are taken as belonging to the day of New's now.
func WithFigures(f callcenter.AgentFigures) Option {
	return func(m *Machine) { m.fig = f }
}

// Machine is one agent's state.
type Machine struct {
	st        callcenter.AgentStatus
	loc       *time.Location
	missLimit int
	// missStreak counts offers missed in a row (ring timeouts); an answer
	// resets it, and so does being set to busy for it.
	missStreak int
	// ringIdleSince keeps IdleSince while an offer rings: an offer that is
	// not answered gives the agent its place in the longest-idle order back
	// rather than sending it to the end.
	ringIdleSince time.Time

	fig     callcenter.AgentFigures
	dayEnd  time.Time // next local midnight: figures reset there
	accrued time.Time // figures are accounted up to here
}

// New returns the machine of agent, offline since now.
func New(agent string, now time.Time, opts ...Option) *Machine {
	m := &Machine{loc: time.Local, missLimit: DefaultMissLimit}
	for _, o := range opts {
		o(m)
	}
	m.st = callcenter.AgentStatus{Agent: agent, Presence: callcenter.PresenceOffline, Phone: callcenter.PhoneBusy, Since: now}
	m.fig.Agent = agent
	m.accrued = now
	m.dayEnd = m.nextMidnight(now)
	return m
}

// Status is the agent's current status.
func (m *Machine) Status() callcenter.AgentStatus { return m.st }

// MissStreak is how many offers the agent missed in a row so far.
func (m *Machine) MissStreak() int { return m.missStreak }

// Figures are the agent's figures for the local day of now, including the
// time spent so far in the current status.
func (m *Machine) Figures(now time.Time) callcenter.AgentFigures {
	m.advance(now)
	return m.fig
}

// Describe names the class of a status as the state machine sees it:
// offline, busy, idle, custom:<name>, ringing, talking, acw.
func Describe(s callcenter.AgentStatus) string {
	switch {
	case s.Presence == callcenter.PresenceOffline:
		return "offline"
	case s.Activity == callcenter.ActivityRinging:
		return "ringing"
	case s.Activity == callcenter.ActivityTalking:
		return "talking"
	case s.Activity == callcenter.ActivityACW:
		return "acw"
	case s.Presence == callcenter.PresenceCustom:
		return "custom:" + s.Custom
	}
	return s.Phone.String()
}

// Login signs the agent in. Phone status starts busy (SPEC §2: the agent
// chooses when to take queue calls); auto-answer is kept from before.
func (m *Machine) Login(now time.Time) (callcenter.AgentStatus, error) {
	now = m.advance(now)
	if m.st.Presence != callcenter.PresenceOffline {
		return m.refuse(OpLogin, ErrSignedIn)
	}
	next := m.st
	next.Presence, next.Custom, next.Phone, next.Activity = callcenter.PresenceOnline, "", callcenter.PhoneBusy, callcenter.ActivityNone
	return m.set(next, now), nil
}

// Restore signs an offline agent back in with the login status, phone
// status and auto-answer of prev, its last status before a server restart.
// What a call left (ringing, talking, after-call work) is not restored: the
// calls ended with the server. prev must be signed in (an offline prev has
// nothing to restore: ErrBadInput, as is a custom presence without name).
func (m *Machine) Restore(prev callcenter.AgentStatus, now time.Time) (callcenter.AgentStatus, error) {
	now = m.advance(now)
	switch {
	case prev.Presence != callcenter.PresenceOnline && prev.Presence != callcenter.PresenceCustom,
		prev.Presence == callcenter.PresenceCustom && prev.Custom == "",
		prev.Phone != callcenter.PhoneBusy && prev.Phone != callcenter.PhoneIdle:
		return m.refuse(OpRestore, ErrBadInput)
	}
	if m.st.Presence != callcenter.PresenceOffline {
		return m.refuse(OpRestore, ErrSignedIn)
	}
	next := m.st
	next.Presence, next.Custom, next.Phone, next.AutoAnswer, next.Activity = prev.Presence, "", prev.Phone, prev.AutoAnswer, callcenter.ActivityNone
	if prev.Presence == callcenter.PresenceCustom {
		next.Custom = prev.Custom
	}
	return m.set(next, now), nil
}

// Logout signs the agent out; refused while a call rings or is up. Logging
// out during after-call work ends it.
func (m *Machine) Logout(now time.Time) (callcenter.AgentStatus, error) {
	now = m.advance(now)
	if err := m.notOffline(OpLogout); err != nil {
		return m.st, err
	}
	if err := m.noCall(OpLogout); err != nil {
		return m.st, err
	}
	next := m.st
	next.Presence, next.Custom, next.Phone, next.Activity, next.ACWUntil = callcenter.PresenceOffline, "", callcenter.PhoneBusy, callcenter.ActivityNone, time.Time{}
	m.missStreak = 0
	return m.set(next, now), nil
}

// SetCustom puts the agent in custom status name (meeting, break...), which
// counts as busy. Refused while a call rings or is up; it ends after-call
// work. Setting the current custom status again changes nothing.
func (m *Machine) SetCustom(name string, now time.Time) (callcenter.AgentStatus, error) {
	now = m.advance(now)
	if name == "" {
		return m.refuse(OpSetCustom, ErrBadInput)
	}
	if err := m.notOffline(OpSetCustom); err != nil {
		return m.st, err
	}
	if err := m.noCall(OpSetCustom); err != nil {
		return m.st, err
	}
	next := m.st
	next.Presence, next.Custom, next.Activity, next.ACWUntil = callcenter.PresenceCustom, name, callcenter.ActivityNone, time.Time{}
	return m.set(next, now), nil
}

// ClearCustom leaves a custom status for online with the phone status the
// agent had before it.
func (m *Machine) ClearCustom(now time.Time) (callcenter.AgentStatus, error) {
	now = m.advance(now)
	if err := m.notOffline(OpClearCustom); err != nil {
		return m.st, err
	}
	if m.st.Presence != callcenter.PresenceCustom {
		return m.refuse(OpClearCustom, ErrNotCustom)
	}
	next := m.st
	next.Presence, next.Custom = callcenter.PresenceOnline, ""
	return m.set(next, now), nil
}

// SetPhone sets the phone status. Switching answering off (busy) is refused
// while a call rings or is up (SPEC §2). From a custom status it also brings
// the agent back online: picking busy or idle in the status menu is leaving
// the meeting. During after-call work it sets the status the agent returns
// to when the work ends.
func (m *Machine) SetPhone(p callcenter.PhoneStatus, now time.Time) (callcenter.AgentStatus, error) {
	now = m.advance(now)
	if p != callcenter.PhoneBusy && p != callcenter.PhoneIdle {
		return m.refuse(OpSetPhone, ErrBadInput)
	}
	if err := m.notOffline(OpSetPhone); err != nil {
		return m.st, err
	}
	if p == callcenter.PhoneBusy {
		switch m.st.Activity {
		case callcenter.ActivityRinging:
			return m.refuse(OpSetPhone, ErrBusyWhileRinging)
		case callcenter.ActivityTalking:
			return m.refuse(OpSetPhone, ErrBusyWhileTalking)
		}
	}
	next := m.st
	next.Phone = p
	if next.Presence == callcenter.PresenceCustom {
		next.Presence, next.Custom = callcenter.PresenceOnline, ""
	}
	if p == callcenter.PhoneBusy {
		// Choosing busy ends a run of missed offers: the agent has
		// acted on them.
		m.missStreak = 0
	}
	return m.set(next, now), nil
}

// SetAutoAnswer turns auto-answer on or off; any time while signed in.
func (m *Machine) SetAutoAnswer(on bool, now time.Time) (callcenter.AgentStatus, error) {
	now = m.advance(now)
	if err := m.notOffline(OpSetAutoAnswer); err != nil {
		return m.st, err
	}
	next := m.st
	next.AutoAnswer = on
	return m.set(next, now), nil
}

// Offer rings the agent with a queue call; only an available agent
// (online, idle, free) may be offered one.
func (m *Machine) Offer(now time.Time) (callcenter.AgentStatus, error) {
	now = m.advance(now)
	if err := m.notOffline(OpOffer); err != nil {
		return m.st, err
	}
	if err := m.noCall(OpOffer); err != nil {
		return m.st, err
	}
	if !m.st.Available() {
		return m.refuse(OpOffer, ErrNotAvailable)
	}
	m.ringIdleSince = m.st.IdleSince
	next := m.st
	next.Activity = callcenter.ActivityRinging
	return m.set(next, now), nil
}

// Answer: the agent answered the ringing offer and is talking.
func (m *Machine) Answer(now time.Time) (callcenter.AgentStatus, error) {
	now = m.advance(now)
	if err := m.ringing(OpAnswer); err != nil {
		return m.st, err
	}
	m.missStreak = 0
	m.fig.Calls++
	next := m.st
	next.Activity = callcenter.ActivityTalking
	return m.set(next, now), nil
}

// OfferEnded: the offer stopped ringing through no fault of the agent.
// answeredElsewhere is true when another agent took the call (ring all),
// which is not a miss; false when the caller hung up first, which is a
// missed call for the agent (SPEC §4) but does not count toward the
// two-in-a-row rule. Either way the agent is free again and keeps its place
// in the longest-idle order.
func (m *Machine) OfferEnded(answeredElsewhere bool, now time.Time) (callcenter.AgentStatus, error) {
	now = m.advance(now)
	if err := m.ringing(OpOfferEnded); err != nil {
		return m.st, err
	}
	if !answeredElsewhere {
		m.fig.Missed++
	}
	return m.endOffer(now), nil
}

// MissedOffer: the offer rang for the ring timeout without an answer. After
// MissLimit misses in a row the agent is set to busy, and the returned
// notice (otherwise nil) tells the agent why.
func (m *Machine) MissedOffer(now time.Time) (callcenter.AgentStatus, *callcenter.Notice, error) {
	now = m.advance(now)
	if err := m.ringing(OpMissedOffer); err != nil {
		return m.st, nil, err
	}
	m.fig.Missed++
	m.missStreak++
	if m.missStreak < m.missLimit {
		return m.endOffer(now), nil, nil
	}
	m.missStreak = 0
	m.ringIdleSince = time.Time{}
	next := m.st
	next.Activity, next.Phone = callcenter.ActivityNone, callcenter.PhoneBusy
	n := &callcenter.Notice{
		Code:    NoticeMissedTwice,
		Message: fmt.Sprintf("Set to busy: %d calls in a row were not answered. Switch to idle to take calls again.", m.missLimit),
	}
	return m.set(next, now), n, nil
}

// StartOutbound: the agent dials out. Offline agents cannot call (SPEC §2);
// busy and custom statuses may. Dialing during after-call work ends it.
func (m *Machine) StartOutbound(now time.Time) (callcenter.AgentStatus, error) {
	now = m.advance(now)
	if err := m.notOffline(OpStartOutbound); err != nil {
		return m.st, err
	}
	if err := m.noCall(OpStartOutbound); err != nil {
		return m.st, err
	}
	next := m.st
	next.Activity, next.ACWUntil = callcenter.ActivityTalking, time.Time{}
	return m.set(next, now), nil
}

// Hangup ends the call: after-call work for acw when acw > 0 (the group
// enables it), else straight back to the phone status the agent had.
func (m *Machine) Hangup(acw time.Duration, now time.Time) (callcenter.AgentStatus, error) {
	now = m.advance(now)
	if acw < 0 {
		return m.refuse(OpHangup, ErrBadInput)
	}
	if err := m.notOffline(OpHangup); err != nil {
		return m.st, err
	}
	if m.st.Activity != callcenter.ActivityTalking {
		return m.refuse(OpHangup, ErrNotOnCall)
	}
	next := m.st
	next.Activity = callcenter.ActivityNone
	if acw > 0 {
		next.Activity, next.ACWUntil = callcenter.ActivityACW, now.Add(acw)
	}
	return m.set(next, now), nil
}

// FinishACW ends after-call work now ("finish now").
func (m *Machine) FinishACW(now time.Time) (callcenter.AgentStatus, error) {
	now = m.advance(now)
	if err := m.inACW(OpFinishACW); err != nil {
		return m.st, err
	}
	next := m.st
	next.Activity, next.ACWUntil = callcenter.ActivityNone, time.Time{}
	return m.set(next, now), nil
}

// ExtendACW adds d to the after-call work countdown. The status timer
// (Since) keeps running: it is still the same after-call work.
func (m *Machine) ExtendACW(d time.Duration, now time.Time) (callcenter.AgentStatus, error) {
	now = m.advance(now)
	if d <= 0 {
		return m.refuse(OpExtendACW, ErrBadInput)
	}
	if err := m.inACW(OpExtendACW); err != nil {
		return m.st, err
	}
	m.st.ACWUntil = m.st.ACWUntil.Add(d)
	return m.st, nil
}

// Tick applies the passing of time: after-call work that ran out ends (at
// ACWUntil, not at now, so the timers stay exact however late the tick).
// changed reports whether the status changed.
func (m *Machine) Tick(now time.Time) (st callcenter.AgentStatus, changed bool) {
	before := m.st
	m.advance(now)
	return m.st, m.st != before
}

// NextDeadline is when the status next changes by itself (end of after-call
// work), zero if it will not: the orchestrator schedules its Tick there.
func (m *Machine) NextDeadline() time.Time {
	if m.st.Activity == callcenter.ActivityACW {
		return m.st.ACWUntil
	}
	return time.Time{}
}

func (m *Machine) endOffer(now time.Time) callcenter.AgentStatus {
	next := m.st
	next.Activity = callcenter.ActivityNone
	st := m.set(next, now)
	if st.Available() && !m.ringIdleSince.IsZero() {
		m.st.IdleSince = m.ringIdleSince
	}
	m.ringIdleSince = time.Time{}
	return m.st
}

func (m *Machine) refuse(op Op, reason error) (callcenter.AgentStatus, error) {
	return m.st, &TransitionError{Agent: m.st.Agent, From: m.st, Op: op, Reason: reason}
}

func (m *Machine) notOffline(op Op) error {
	if m.st.Presence == callcenter.PresenceOffline {
		_, err := m.refuse(op, ErrOffline)
		return err
	}
	return nil
}

// noCall refuses op while a call rings or is up.
func (m *Machine) noCall(op Op) error {
	var err error
	switch m.st.Activity {
	case callcenter.ActivityRinging:
		_, err = m.refuse(op, ErrRinging)
	case callcenter.ActivityTalking:
		_, err = m.refuse(op, ErrOnCall)
	}
	return err
}

func (m *Machine) ringing(op Op) error {
	if err := m.notOffline(op); err != nil {
		return err
	}
	if m.st.Activity != callcenter.ActivityRinging {
		_, err := m.refuse(op, ErrNotRinging)
		return err
	}
	return nil
}

func (m *Machine) inACW(op Op) error {
	if err := m.notOffline(op); err != nil {
		return err
	}
	if m.st.Activity != callcenter.ActivityACW {
		_, err := m.refuse(op, ErrNotInACW)
		return err
	}
	return nil
}

// set makes next the status at now, restarting the status timer when what
// the phone bar shows changed and keeping IdleSince for longest-idle.
func (m *Machine) set(next callcenter.AgentStatus, now time.Time) callcenter.AgentStatus {
	prev := m.st
	if next.Presence != prev.Presence || next.Custom != prev.Custom || next.Phone != prev.Phone || next.Activity != prev.Activity {
		next.Since = now
	}
	if next.Activity != callcenter.ActivityACW {
		next.ACWUntil = time.Time{}
	}
	switch {
	case next.Activity == callcenter.ActivityRinging:
		// Not available while ringing; Offer kept the old IdleSince
		// in ringIdleSince for when the offer is not answered.
		next.IdleSince = time.Time{}
	case !next.Available():
		next.IdleSince = time.Time{}
	case !prev.Available() || prev.IdleSince.IsZero():
		next.IdleSince = now
	}
	m.st = next
	return m.st
}

// advance moves the machine to now: time never runs backwards (a late event
// is taken as happening at the latest time seen), after-call work that ran
// out ends, and the figures take in the time since the last event.
func (m *Machine) advance(now time.Time) time.Time {
	if now.Before(m.accrued) {
		now = m.accrued
	}
	if m.st.Activity == callcenter.ActivityACW && !now.Before(m.st.ACWUntil) {
		end := m.st.ACWUntil
		if end.Before(m.accrued) {
			end = m.accrued
		}
		m.accrue(end)
		next := m.st
		next.Activity = callcenter.ActivityNone
		m.set(next, end)
	}
	m.accrue(now)
	return now
}

// accrue adds the time from m.accrued to now to the figure the current
// status counts toward, resetting the figures at each local midnight.
func (m *Machine) accrue(now time.Time) {
	for m.accrued.Before(now) {
		end := now
		if !m.dayEnd.After(end) {
			end = m.dayEnd
		}
		d := end.Sub(m.accrued)
		switch m.category() {
		case catTalk:
			m.fig.TalkTime += d
		case catBusy:
			m.fig.BusyTotal += d
		case catIdle:
			m.fig.IdleTotal += d
		}
		m.accrued = end
		if !end.Before(m.dayEnd) {
			m.fig = callcenter.AgentFigures{Agent: m.st.Agent}
			m.dayEnd = m.nextMidnight(end)
		}
	}
}

type category int

const (
	catNone category = iota
	catTalk
	catBusy
	catIdle
)

// category is which figure time in the current status counts toward:
// custom statuses, phone busy and after-call work are busy (SPEC §2);
// ringing counts as idle, since the agent was waiting for calls.
func (m *Machine) category() category {
	s := m.st
	switch {
	case s.Presence == callcenter.PresenceOffline:
		return catNone
	case s.Activity == callcenter.ActivityTalking:
		return catTalk
	case s.Activity == callcenter.ActivityACW:
		return catBusy
	case s.Activity == callcenter.ActivityRinging:
		return catIdle
	case s.Presence == callcenter.PresenceCustom, s.Phone == callcenter.PhoneBusy:
		return catBusy
	}
	return catIdle
}

// nextMidnight is the first local midnight after t. time.Date normalises
// day+1 across month ends and DST changes.
func (m *Machine) nextMidnight(t time.Time) time.Time {
	y, mo, d := t.In(m.loc).Date()
	return time.Date(y, mo, d+1, 0, 0, 0, 0, m.loc)
}
