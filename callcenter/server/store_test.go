package server

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/store"
)

// faultStore is the real SQLite store with one injectable failure, so a
// test can see how the server answers when persistence breaks.
type faultStore struct {
	*store.SQLite
	mu  sync.Mutex
	err error
}

func (f *faultStore) setFault(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *faultStore) SessionByToken(ctx context.Context, h string) (callcenter.Session, error) {
	f.mu.Lock()
	err := f.err
	f.mu.Unlock()
	if err != nil {
		return callcenter.Session{}, err
	}
	return f.SQLite.SessionByToken(ctx, h)
}

func openStore(t *testing.T) *faultStore {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "cc.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return &faultStore{SQLite: st}
}

func (f *faultStore) addAgent(t *testing.T, a callcenter.Agent) {
	t.Helper()
	if _, err := f.CreateAgent(context.Background(), a); err != nil {
		t.Fatal(err)
	}
}

func (f *faultStore) addRecords(t *testing.T, recs ...callcenter.CallRecord) {
	t.Helper()
	for _, r := range recs {
		if err := f.EndCallRecord(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
}
