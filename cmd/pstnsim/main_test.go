package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// syncBuffer is a log sink safe for the Sim's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRunRejectsBadInput(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "callers.txt")
	os.WriteFile(bad, []byte("13800138000\nnot-a-number\n"), 0o644)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-to", "4008001234", "-from", bad}, "line 2"},
		{[]string{"-to", "4008001234", "-from", filepath.Join(t.TempDir(), "none.txt")}, "no such file"},
		{[]string{"-voice", "tone:abc"}, "-voice"},
		{[]string{"-log-level", "loud"}, "-log-level"},
		{[]string{"-listen", "nohost"}, "listen"},
		{[]string{"-nosuchflag"}, "not defined"},
		{[]string{"stray"}, "unexpected arguments"},
	}
	for _, tt := range tests {
		var out syncBuffer
		err := run(context.Background(), tt.args, &out)
		if err == nil || !strings.Contains(err.Error()+out.String(), tt.want) {
			t.Errorf("run(%q) = %v, want error mentioning %q", tt.args, err, tt.want)
		}
	}
	if err := run(context.Background(), []string{"-h"}, &syncBuffer{}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}

func TestRunUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var out syncBuffer
	// No -to: only answers; the listener comes up and shuts down cleanly.
	if err := run(ctx, []string{"-listen", "127.0.0.1:0", "-log-level", "debug"}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"pstnsim listening", "shutting down", "pstnsim stopped"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, out.String())
		}
	}
}
