package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"go.uber.org/goleak"

	"github.com/agentphone/agentphone/callcenter"
)

func TestMain(m *testing.M) {
	if os.Getenv(crashEnv) != "" {
		os.Exit(crashHelper())
	}
	goleak.VerifyTestMain(m)
}

func openTemp(t testing.TB, opts ...Option) (*SQLite, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cc.db")
	s, err := Open(context.Background(), path, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s, path
}

// t0 is in a non-UTC zone on purpose: the store must hand back the same
// instant in UTC.
var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.FixedZone("CST", 8*3600))

func agent(wn, name string) callcenter.Agent {
	return callcenter.Agent{WorkNumber: wn, Name: name, Role: callcenter.RoleAgent,
		PasswordHash: "h-" + wn, HA1MD5: "m-" + wn, HA1SHA256: "s-" + wn}
}

func TestMemory(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateAgent(ctx, agent("1001", "x")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AgentByWorkNumber(ctx, "1001"); err != nil {
		t.Fatalf("read after write in memory: %v", err)
	}
}

func TestOpenBadInput(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()

	garbage := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(garbage, []byte("this is a shopping list, not a database\n"+string(make([]byte, 4096))), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, garbage); !errors.Is(err, ErrNotDatabase) {
		t.Errorf("Open(text file) err = %v, want ErrNotDatabase", err)
	}
	if _, err := Open(ctx, ""); !errors.Is(err, callcenter.ErrInvalid) {
		t.Errorf("Open(\"\") err = %v, want ErrInvalid", err)
	}
	if _, err := Open(ctx, filepath.Join(dir, "a?b.db")); !errors.Is(err, callcenter.ErrInvalid) {
		t.Errorf("Open(path with ?) err = %v, want ErrInvalid", err)
	}
	for _, p := range []string{filepath.Join(dir, "missing", "dir", "x.db"), dir} {
		if _, err := Open(ctx, p); err == nil || !strings.Contains(err.Error(), "cannot open or create") {
			t.Errorf("Open(%s) err = %v, want a clear cannot-open error", p, err)
		}
	}
	// Refusing a foreign file must not touch it.
	if b, err := os.ReadFile(garbage); err != nil || !strings.HasPrefix(string(b), "this is a shopping list") {
		t.Errorf("garbage file changed: %v", err)
	}
	if _, err := os.Stat(garbage + "-wal"); !os.IsNotExist(err) {
		t.Errorf("Open left a WAL beside a foreign file: %v", err)
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cc.db")
	ms, err := migrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatalf("open #%d: %v", i, err)
		}
		v, err := s.SchemaVersion(ctx)
		if err != nil || v != len(ms) {
			t.Fatalf("open #%d: SchemaVersion = %d, %v; want %d", i, v, err, len(ms))
		}
		var rows int
		if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&rows); err != nil || rows != len(ms) {
			t.Fatalf("open #%d: %d schema_migrations rows, %v", i, rows, err)
		}
		if i == 0 {
			if _, err := s.CreateAgent(ctx, agent("1001", "x")); err != nil {
				t.Fatal(err)
			}
		} else if _, err := s.AgentByWorkNumber(ctx, "1001"); err != nil {
			t.Fatalf("open #%d: data lost: %v", i, err)
		}
		var mode string
		if err := s.w.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
			t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
		}
		var fk int
		if err := s.r.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
			t.Fatalf("reader foreign_keys = %d, %v; want 1", fk, err)
		}
		s.Close()
	}

	// A database from a newer program is refused, not written to.
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (999, '0999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(ctx, path); !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open(newer schema) err = %v, want ErrSchemaTooNew", err)
	}
}

func TestMigrationFileNames(t *testing.T) {
	sql := &fstest.MapFile{Data: []byte("SELECT 1;")}
	tests := []struct {
		name  string
		files fstest.MapFS
		ok    bool
	}{
		{"contiguous", fstest.MapFS{"migrations/0001_a.sql": sql, "migrations/0002_b.sql": sql}, true},
		{"gap", fstest.MapFS{"migrations/0001_a.sql": sql, "migrations/0003_c.sql": sql}, false},
		{"duplicate", fstest.MapFS{"migrations/0001_a.sql": sql, "migrations/0001_b.sql": sql}, false},
		{"no number", fstest.MapFS{"migrations/init.sql": sql}, false},
		{"zero", fstest.MapFS{"migrations/0000_a.sql": sql}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := migrations(tt.files)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%t", err, tt.ok)
			}
		})
	}
}

func TestClock(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t, WithClock(func() time.Time { return t0 }))
	a, err := s.CreateAgent(ctx, agent("1001", "x"))
	if err != nil || !a.CreatedAt.Equal(t0) || a.CreatedAt.Location() != time.UTC {
		t.Fatalf("CreatedAt = %v, %v; want %v from the injected clock, in UTC", a.CreatedAt, err, t0)
	}
	if err := s.CreateSession(ctx, callcenter.Session{TokenHash: "t", WorkNumber: "1001"}); err != nil {
		t.Fatal(err)
	}
	if ss, err := s.SessionByToken(ctx, "t"); err != nil || !ss.CreatedAt.Equal(t0) {
		t.Fatalf("session CreatedAt = %v, %v; want %v", ss.CreatedAt, err, t0)
	}
}
