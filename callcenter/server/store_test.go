package server

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/agentphone/agentphone/callcenter"
)

// memStore is an in-memory Store for these tests, following the contract
// documented on callcenter/store.Store. TODO(integration): replace with the
// real SQLite store once callcenter/store has an implementation.
type memStore struct {
	mu       sync.Mutex
	agents   map[string]callcenter.Agent
	sessions []callcenter.Session
	records  []callcenter.CallRecord
	filters  []callcenter.RecordFilter // what CallRecords was asked
	fail     error                     // returned by every method when set
}

func newMemStore() *memStore {
	return &memStore{agents: make(map[string]callcenter.Agent)}
}

func (m *memStore) addAgent(a callcenter.Agent) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.agents[a.WorkNumber] = a
}

func (m *memStore) AgentByWorkNumber(_ context.Context, wn string) (callcenter.Agent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return callcenter.Agent{}, m.fail
	}
	a, ok := m.agents[wn]
	if !ok {
		return callcenter.Agent{}, fmt.Errorf("agent %s: %w", wn, callcenter.ErrNotFound)
	}
	return a, nil
}

func (m *memStore) CreateSession(_ context.Context, s callcenter.Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	if _, ok := m.agents[s.WorkNumber]; !ok {
		return callcenter.ErrNotFound
	}
	for _, o := range m.sessions {
		if o.TokenHash == s.TokenHash {
			return callcenter.ErrExists
		}
	}
	m.sessions = append(m.sessions, s)
	return nil
}

func (m *memStore) SessionByToken(_ context.Context, h string) (callcenter.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return callcenter.Session{}, m.fail
	}
	for _, s := range m.sessions {
		if s.TokenHash == h && !s.Revoked {
			return s, nil
		}
	}
	return callcenter.Session{}, callcenter.ErrNotFound
}

func (m *memStore) RevokeSessions(_ context.Context, wn, except string) ([]callcenter.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return nil, m.fail
	}
	var out []callcenter.Session
	for i, s := range m.sessions {
		if s.WorkNumber == wn && !s.Revoked && s.TokenHash != except {
			m.sessions[i].Revoked = true
			out = append(out, m.sessions[i])
		}
	}
	return out, nil
}

func (m *memStore) CallRecords(_ context.Context, f callcenter.RecordFilter) ([]callcenter.CallRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return nil, m.fail
	}
	m.filters = append(m.filters, f)
	var out []callcenter.CallRecord
	for _, r := range m.records {
		if f.Agent != "" && r.Agent != f.Agent ||
			!f.Since.IsZero() && r.StartedAt.Before(f.Since) ||
			!f.Until.IsZero() && !r.StartedAt.Before(f.Until) {
			continue
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b callcenter.CallRecord) int { return b.StartedAt.Compare(a.StartedAt) })
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}
