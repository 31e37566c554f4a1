package vm

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter/api"
)

// fakeCenter is the Center seam: it records requests and answers what the
// test set. The zero value refuses nothing and knows no history.
type fakeCenter struct {
	mu       sync.Mutex
	changes  []api.StatusChange
	status   api.AgentStatus // what SetStatus answers (after applying the change)
	setErr   error
	acwErr   error
	finishes int
	extends  []int
	history  []api.HistoryItem
	histErr  error
	histReqs []histReq
	statuses []api.CustomStatus
}

type histReq struct {
	since      time.Time
	missedOnly bool
	limit      int
}

func (f *fakeCenter) SetStatus(_ context.Context, ch api.StatusChange) (api.AgentStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.changes = append(f.changes, ch)
	if f.setErr != nil {
		return api.AgentStatus{}, f.setErr
	}
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

func (f *fakeCenter) FinishACW(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.finishes++
	return f.acwErr
}

func (f *fakeCenter) ExtendACW(_ context.Context, s int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.extends = append(f.extends, s)
	return f.acwErr
}

func (f *fakeCenter) Groups(context.Context) ([]api.Group, error) { return nil, nil }

func (f *fakeCenter) Statuses(context.Context) ([]api.CustomStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.statuses, nil
}

func (f *fakeCenter) History(_ context.Context, since time.Time, missedOnly bool, limit int) ([]api.HistoryItem, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.histReqs = append(f.histReqs, histReq{since, missedOnly, limit})
	if f.histErr != nil {
		return nil, f.histErr
	}
	var out []api.HistoryItem
	for _, it := range f.history {
		if !missedOnly || it.Missed {
			out = append(out, it)
		}
	}
	return out, nil
}

func (f *fakeCenter) lastChange() (api.StatusChange, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.changes) == 0 {
		return api.StatusChange{}, 0
	}
	return f.changes[len(f.changes)-1], len(f.changes)
}

// event builds a server event with data marshalled from v.
func event(t *testing.T, typ string, at time.Time, v any) api.Event {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return api.Event{Type: typ, Time: at, Data: b}
}
