// Package crm holds the rules of in-call work (SPEC §4–§5, issue 4): call
// notes and the note box, scheduled callbacks with their reminders and
// expiry, and the customer library. It is pure Go over a Store declared
// here; the clock and the time zone of "a day" are injected, and the live
// call center is consulted through the narrow Live interface.
package crm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/agentphone/agentphone/callcenter"
)

// Store is the persistence the service needs; callcenter/store's SQLite
// store satisfies it.
type Store interface {
	AgentByWorkNumber(ctx context.Context, workNumber string) (callcenter.Agent, error)
	CallRecord(ctx context.Context, callID string) (callcenter.CallRecord, error)
	CallRecords(ctx context.Context, f callcenter.RecordFilter) ([]callcenter.CallRecord, error)

	AddNote(ctx context.Context, n callcenter.Note) (callcenter.Note, error)
	EditNote(ctx context.Context, id int64, text string, at time.Time) (callcenter.Note, error)
	Note(ctx context.Context, id int64) (callcenter.Note, error)
	Notes(ctx context.Context, f callcenter.NoteFilter) ([]callcenter.Note, error)

	CreateCallback(ctx context.Context, cb callcenter.Callback) (callcenter.Callback, error)
	Callback(ctx context.Context, id int64) (callcenter.Callback, error)
	UpdateCallback(ctx context.Context, cb callcenter.Callback) (callcenter.Callback, error)
	DeleteCallback(ctx context.Context, id int64) error
	Callbacks(ctx context.Context, f callcenter.CallbackFilter) ([]callcenter.Callback, error)
	MarkCallbackReminded(ctx context.Context, id int64, at time.Time) (bool, error)
	CompleteCallbacks(ctx context.Context, agent, number, doneCall string, answeredAt time.Time) ([]callcenter.Callback, error)
	ExpireCallbacks(ctx context.Context, dueBefore time.Time) ([]callcenter.Callback, error)

	CreateCustomer(ctx context.Context, c callcenter.Customer) (callcenter.Customer, error)
	UpdateCustomer(ctx context.Context, c callcenter.Customer) (callcenter.Customer, error)
	Customer(ctx context.Context, id int64) (callcenter.Customer, error)
	Customers(ctx context.Context, f callcenter.CustomerFilter) ([]callcenter.Customer, error)
}

// Live is what the live call center knows of calls that have no (complete)
// record yet: a call is recorded when answered, so a transferred call
// ringing a second agent, or an outbound call still ringing, is only known
// here. The center provides it; nil means records alone decide.
type Live interface {
	// LiveCall returns the call as agent sees it; ok is false when the call
	// is not live or agent has no part in it (ringing, talking or held).
	LiveCall(callID, agent string) (c LiveCall, ok bool)
}

// LiveCall is one live call as an agent on it sees it.
type LiveCall struct {
	// CallID is the customer call's id, also when asked by a consult or
	// transfer leg's id (a leg still ringing has no record to link it).
	CallID   string
	Customer string // the customer's number; "" when unknown or internal
	Answered bool   // the agent answered it (talks or talked on it)
}

// Sink receives the callback events for the agent's event stream. Calls
// are made from Run's goroutine and from CallCompleted, never holding the
// service's lock; they must not block for long.
type Sink interface {
	// CallbackDue is sent once per callback at its due time.
	CallbackDue(agent string, cb callcenter.Callback)
	// CallbackDone is sent when a callback becomes done or expired.
	CallbackDone(agent string, cb callcenter.Callback)
}

// Defaults; each has an option.
const (
	DefaultPollInterval = time.Second
	// NotesShown is how many of a customer's notes are shown (SPEC §5).
	NotesShown = 10
	// CardLimit bounds each history list of a customer card.
	CardLimit = 50
	// SearchLimit bounds a customer search.
	SearchLimit = 100
)

// Service applies the rules. It is safe for concurrent use.
type Service struct {
	st   Store
	live Live
	sink Sink
	log  *slog.Logger
	now  func() time.Time
	loc  *time.Location
	poll time.Duration

	mu sync.Mutex
	// boxes is the call whose note box each agent has open. It is UI state
	// and deliberately not persisted: after a restart every box is closed.
	boxes map[string]string
}

// Option configures a Service.
type Option func(*Service)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithClock sets the clock (default time.Now); Run reads it every poll.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLocation sets the time zone whose calendar days list callbacks and
// expire them (default time.Local, the server's).
func WithLocation(loc *time.Location) Option { return func(s *Service) { s.loc = loc } }

// WithLive lets the service ask the live call center about calls.
func WithLive(l Live) Option { return func(s *Service) { s.live = l } }

// WithSink sets where callback events go (default: nowhere).
func WithSink(k Sink) Option { return func(s *Service) { s.sink = k } }

// WithPollInterval sets how often Run looks for due and expired callbacks:
// the reminder's latency at most (default DefaultPollInterval).
func WithPollInterval(d time.Duration) Option { return func(s *Service) { s.poll = d } }

// New returns a service on st.
func New(st Store, opts ...Option) *Service {
	s := &Service{
		st:    st,
		log:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		now:   time.Now,
		loc:   time.Local,
		poll:  DefaultPollInterval,
		boxes: make(map[string]string),
	}
	for _, o := range opts {
		o(s)
	}
	if s.poll <= 0 {
		s.poll = DefaultPollInterval
	}
	if s.loc == nil {
		s.loc = time.Local
	}
	return s
}

// Location is the time zone of the service's days.
func (s *Service) Location() *time.Location { return s.loc }

// Actor is who asks: the agent's work number and role.
type Actor struct {
	WorkNumber string
	Role       callcenter.Role
}

// NormalizeNumber returns a telephone number as the rest of the server
// keeps it — digits with an optional leading '+', as the carrier sends it —
// dropping the spaces, dashes, dots and parentheses people type. It does
// not rewrite national and international forms into each other: call
// records hold the carrier's form, and lookups must match them.
func NormalizeNumber(s string) (string, error) {
	var b strings.Builder
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9', r == '+' && b.Len() == 0:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '\t':
		default:
			return "", fmt.Errorf("%w: number %q may only hold digits, an optional leading + and separators", callcenter.ErrInvalid, s)
		}
	}
	n := b.String()
	if err := callcenter.ValidateNumber(n); err != nil {
		return "", err
	}
	return n, nil
}

// customerOf is the customer's number of a record: the caller of an
// inbound call, the callee of calls the center made; none for internal
// calls.
func customerOf(r callcenter.CallRecord) string {
	var n string
	switch r.Type {
	case callcenter.CallInbound:
		n = r.Caller
	case callcenter.CallAgentOutbound, callcenter.CallTaskOutbound, callcenter.CallCallback:
		n = r.Callee
	}
	if norm, err := NormalizeNumber(n); err == nil {
		return norm
	}
	return "" // anonymous or odd caller ids have no history
}

// callView is what an agent's part in a call is, from records and the
// live center.
type callView struct {
	id       string // the customer call's id (a leg resolves to its parent)
	customer string
	involved bool
	answered bool
}

// view resolves callID for agent. A consult or transfer leg's id resolves
// to the customer call it was made from, so notes always hang on the
// customer call. ErrNotFound when neither the records nor the live center
// know the call.
func (s *Service) view(ctx context.Context, callID, agent string) (callView, error) {
	if callID == "" {
		return callView{}, fmt.Errorf("%w: call id is empty", callcenter.ErrInvalid)
	}
	v := callView{id: callID}
	known := false
	rec, err := s.st.CallRecord(ctx, callID)
	switch {
	case err == nil:
		known = true
		if rec.ParentID != "" {
			v.id = rec.ParentID
		}
		v.customer = customerOf(rec)
		if rec.Agent == agent {
			v.involved = true
			v.answered = !rec.AnsweredAt.IsZero()
		}
	case !errors.Is(err, callcenter.ErrNotFound):
		return v, fmt.Errorf("call %s: %w", callID, err)
	}
	if v.id == callID && s.live != nil {
		// A leg still ringing has no record yet: the live center names
		// its customer call, so its box and notes hang on that call from
		// the start and stay usable once the leg is answered.
		if lc, ok := s.live.LiveCall(callID, agent); ok && lc.CallID != "" {
			v.id = lc.CallID
		}
	}
	if v.id != callID {
		root, err := s.st.CallRecord(ctx, v.id)
		switch {
		case err == nil:
			if c := customerOf(root); c != "" {
				v.customer = c
			}
			if root.Agent == agent {
				v.involved = true
				v.answered = v.answered || !root.AnsweredAt.IsZero()
			}
		case !errors.Is(err, callcenter.ErrNotFound):
			return v, fmt.Errorf("call %s: %w", v.id, err)
		}
	}
	// The agent's legs of the customer call (transfers and consults to it).
	legs, err := s.st.CallRecords(ctx, callcenter.RecordFilter{ParentID: v.id, Agent: agent})
	if err != nil {
		return v, fmt.Errorf("legs of call %s: %w", v.id, err)
	}
	for _, l := range legs {
		known, v.involved = true, true
		v.answered = v.answered || !l.AnsweredAt.IsZero()
	}
	if s.live != nil {
		for _, id := range []string{v.id, callID} {
			lc, ok := s.live.LiveCall(id, agent)
			if !ok {
				continue
			}
			known, v.involved = true, true
			v.answered = v.answered || lc.Answered
			if v.customer == "" {
				if c, err := NormalizeNumber(lc.Customer); err == nil {
					v.customer = c
				}
			}
		}
	}
	if !known {
		return v, fmt.Errorf("call %s: %w", callID, callcenter.ErrNotFound)
	}
	return v, nil
}

// involved is view refusing a call the agent has no part in.
func (s *Service) involved(ctx context.Context, callID, agent string) (callView, error) {
	v, err := s.view(ctx, callID, agent)
	if errors.Is(err, callcenter.ErrNotFound) {
		return v, refuse(ReasonNotInCall, "you are not on call %s", callID)
	}
	if err != nil {
		return v, err
	}
	if !v.involved {
		return v, refuse(ReasonNotInCall, "you are not on call %s", callID)
	}
	return v, nil
}
