package ui

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/agentphone/agentphone/callcenter/api"
	"github.com/agentphone/agentphone/ui/vm"
)

// Fakes at the view-models' seams: the SIP phone, one call and the API.

type fakeCall struct {
	mu       sync.Mutex
	dir      vm.Direction
	remote   string
	headers  map[string]string
	state    vm.CallState
	muted    bool
	answered time.Time
	ops      []string
}

func (c *fakeCall) op(s string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ops = append(c.ops, s)
	return nil
}
func (c *fakeCall) Answer(context.Context) error { return c.op("answer") }
func (c *fakeCall) Reject(context.Context) error { return c.op("reject") }
func (c *fakeCall) Hangup(context.Context) error { return c.op("hangup") }
func (c *fakeCall) SetMute(m bool)               { c.mu.Lock(); c.muted = m; c.mu.Unlock() }
func (c *fakeCall) Muted() bool                  { c.mu.Lock(); defer c.mu.Unlock(); return c.muted }
func (c *fakeCall) SendDTMF(d string) error      { return c.op("dtmf " + d) }
func (c *fakeCall) State() vm.CallState          { return c.state }
func (c *fakeCall) Remote() string               { return c.remote }
func (c *fakeCall) Header(n string) string       { return c.headers[n] }
func (c *fakeCall) Direction() vm.Direction      { return c.dir }
func (c *fakeCall) AnsweredAt() time.Time        { return c.answered }
func (c *fakeCall) EndReason() string            { return "" }
func (c *fakeCall) Ops() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.ops...)
}

type fakePhone struct {
	events chan vm.PhoneEvent
	call   *fakeCall
}

func newFakePhone() *fakePhone { return &fakePhone{events: make(chan vm.PhoneEvent)} }

func (p *fakePhone) Events() <-chan vm.PhoneEvent { return p.events }
func (p *fakePhone) Dial(_ context.Context, target string) (vm.Call, error) {
	p.call = &fakeCall{dir: vm.Outbound, remote: target, state: vm.CallDialing}
	return p.call, nil
}
func (p *fakePhone) SetAutoAnswer(bool) {}

type fakeBackend struct {
	fakeCenter
	work, pw string
	events   chan api.Event // nil: a stream that only ends with ctx
}

func (b *fakeBackend) Login(_ context.Context, work, pw, _ string) (api.LoginResponse, error) {
	if work != b.work || pw != b.pw {
		return api.LoginResponse{}, fmt.Errorf("login: %w", vm.ErrBadCredentials)
	}
	return api.LoginResponse{Token: "t", Agent: api.Agent{WorkNumber: work, Name: "Alice"}}, nil
}

func (b *fakeBackend) Events(ctx context.Context) <-chan api.Event {
	if b.events != nil {
		return b.events
	}
	c := make(chan api.Event)
	go func() { <-ctx.Done(); close(c) }()
	return c
}

type fakeDevices struct{}

func (fakeDevices) Devices() ([]vm.DeviceInfo, error) {
	return []vm.DeviceInfo{{Name: "Headset", InputChannels: 1, OutputChannels: 2}, {Name: "Speakers", OutputChannels: 2}}, nil
}

type fakeTones struct {
	mu     sync.Mutex
	played []string
}

func (f *fakeTones) PlayTone(_ context.Context, dev string) error {
	f.mu.Lock()
	f.played = append(f.played, dev)
	f.mu.Unlock()
	return nil
}

// fakeCenter is the call center's part of the API: statuses as set, a
// fixed history.
type fakeCenter struct {
	mu      sync.Mutex
	status  api.AgentStatus
	history []api.HistoryItem
	changes []api.StatusChange
}

func (f *fakeCenter) SetStatus(_ context.Context, ch api.StatusChange) (api.AgentStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.changes = append(f.changes, ch)
	if ch.Presence != nil {
		f.status.Presence = *ch.Presence
		f.status.Custom = ""
	}
	if ch.Custom != nil {
		f.status.Custom = *ch.Custom
	}
	if ch.Phone != nil {
		f.status.Phone = *ch.Phone
	}
	if ch.AutoAnswer != nil {
		f.status.AutoAnswer = *ch.AutoAnswer
	}
	return f.status, nil
}
func (f *fakeCenter) FinishACW(context.Context) error                      { return nil }
func (f *fakeCenter) ExtendACW(context.Context, int) error                 { return nil }
func (f *fakeCenter) Groups(context.Context) ([]api.Group, error)          { return nil, nil }
func (f *fakeCenter) Statuses(context.Context) ([]api.CustomStatus, error) { return nil, nil }
func (f *fakeCenter) History(context.Context, time.Time, bool, int) ([]api.HistoryItem, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.history, nil
}
