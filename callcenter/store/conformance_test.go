package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/agentphone/agentphone/callcenter/store"
	"github.com/agentphone/agentphone/callcenter/store/storetest"
)

func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name string
		path func(t *testing.T) string
	}{
		{"file", func(t *testing.T) string { return filepath.Join(t.TempDir(), "cc.db") }},
		{"memory", func(*testing.T) string { return ":memory:" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) store.Store {
				s, err := store.Open(context.Background(), tc.path(t))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() {
					if err := s.Close(); err != nil {
						t.Errorf("Close: %v", err)
					}
				})
				return s
			})
		})
	}
}
