package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/store"
)

// BenchmarkCallbackPoll is the reminder loop's work per poll (expire, then
// the due and unreminded ones) on a table of 50,000 callbacks of which 500
// are pending: it must stay an index range, not a scan.
func BenchmarkCallbackPoll(b *testing.B) {
	ctx := context.Background()
	s, err := store.Open(ctx, filepath.Join(b.TempDir(), "cc.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	now := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	for i := range 50_000 {
		st := callcenter.CallbackDone
		if i%100 == 0 {
			st = callcenter.CallbackPending
		}
		if _, err := s.CreateCallback(ctx, callcenter.Callback{Agent: fmt.Sprint(1000 + i%300), Number: fmt.Sprint(13800000000 + i),
			DueAt: now.Add(time.Duration(i-25_000) * time.Second), State: st, CreatedAt: now.Add(-time.Hour)}); err != nil {
			b.Fatal(err)
		}
	}
	midnight := now.Truncate(24 * time.Hour)
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.ExpireCallbacks(ctx, midnight); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Callbacks(ctx, callcenter.CallbackFilter{States: []callcenter.CallbackState{callcenter.CallbackPending},
			Unreminded: true, DueUntil: now, Limit: 500}); err != nil {
			b.Fatal(err)
		}
	}
}
