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

func TestAgents(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t, WithClock(func() time.Time { return t0 }))

	a, err := s.CreateAgent(ctx, agent("1002", "Han Meimei"))
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == 0 || !a.CreatedAt.Equal(t0) || a.CreatedAt.Location() != time.UTC {
		t.Fatalf("created agent = %+v, want ID set and CreatedAt %v in UTC", a, t0)
	}
	sup := agent("1001", "Li Lei")
	sup.Role = callcenter.RoleSupervisor
	sup.Disabled = true
	sup.CreatedAt = t0.Add(time.Hour)
	if _, err := s.CreateAgent(ctx, sup); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAgent(ctx, agent("1002", "again")); !errors.Is(err, callcenter.ErrExists) {
		t.Fatalf("duplicate CreateAgent err = %v, want ErrExists", err)
	}
	for _, wn := range []string{"", "10 01", "12345678901234567"} {
		if _, err := s.CreateAgent(ctx, agent(wn, "x")); !errors.Is(err, callcenter.ErrInvalid) {
			t.Errorf("CreateAgent(%q) err = %v, want ErrInvalid", wn, err)
		}
	}
	bad := agent("1003", "x")
	bad.Role = 42
	if _, err := s.CreateAgent(ctx, bad); !errors.Is(err, callcenter.ErrInvalid) {
		t.Errorf("CreateAgent(role 42) err = %v, want ErrInvalid", err)
	}

	got, err := s.AgentByWorkNumber(ctx, "1001")
	if err != nil {
		t.Fatal(err)
	}
	want := sup
	want.ID, want.CreatedAt = got.ID, sup.CreatedAt.UTC()
	if got != want {
		t.Fatalf("AgentByWorkNumber = %+v, want %+v", got, want)
	}
	if _, err := s.AgentByWorkNumber(ctx, "9999"); !errors.Is(err, callcenter.ErrNotFound) {
		t.Fatalf("unknown agent err = %v, want ErrNotFound", err)
	}

	list, err := s.ListAgents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].WorkNumber != "1001" || list[1].WorkNumber != "1002" {
		t.Fatalf("ListAgents = %+v, want 1001, 1002", list)
	}

	if err := s.SetAgentDisabled(ctx, "1001", false); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAgentPassword(ctx, "1001", "H", "M", "S"); err != nil {
		t.Fatal(err)
	}
	got, _ = s.AgentByWorkNumber(ctx, "1001")
	if got.Disabled || got.PasswordHash != "H" || got.HA1MD5 != "M" || got.HA1SHA256 != "S" {
		t.Fatalf("after enable+passwd: %+v", got)
	}
	if err := s.SetAgentDisabled(ctx, "9999", true); !errors.Is(err, callcenter.ErrNotFound) {
		t.Errorf("SetAgentDisabled(unknown) err = %v, want ErrNotFound", err)
	}
	if err := s.SetAgentPassword(ctx, "9999", "H", "M", "S"); !errors.Is(err, callcenter.ErrNotFound) {
		t.Errorf("SetAgentPassword(unknown) err = %v, want ErrNotFound", err)
	}
}

func TestNumbers(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	if _, err := s.CreateAgent(ctx, agent("1001", "Li Lei")); err != nil {
		t.Fatal(err)
	}
	n, err := s.CreateNumber(ctx, callcenter.Number{E164: "4008001234", Name: "Hotline", RouteAgent: "1001"})
	if err != nil {
		t.Fatal(err)
	}
	if n.ID == 0 {
		t.Fatal("CreateNumber did not set ID")
	}
	if _, err := s.CreateNumber(ctx, callcenter.Number{E164: "+862161234567", Name: "Shanghai"}); err != nil {
		t.Fatalf("number without route: %v", err)
	}
	tests := []struct {
		name string
		n    callcenter.Number
		want error
	}{
		{"duplicate", callcenter.Number{E164: "4008001234", Name: "x"}, callcenter.ErrExists},
		{"unknown route agent", callcenter.Number{E164: "4008009999", Name: "x", RouteAgent: "7777"}, callcenter.ErrNotFound},
		{"letters", callcenter.Number{E164: "400abc", Name: "x"}, callcenter.ErrInvalid},
		{"empty", callcenter.Number{Name: "x"}, callcenter.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.CreateNumber(ctx, tt.n); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	got, err := s.NumberByE164(ctx, "4008001234")
	if err != nil || got != n {
		t.Fatalf("NumberByE164 = %+v, %v; want %+v", got, err, n)
	}
	if _, err := s.NumberByE164(ctx, "123"); !errors.Is(err, callcenter.ErrNotFound) {
		t.Fatalf("unknown number err = %v", err)
	}
	if err := s.SetNumberDisabled(ctx, "4008001234", true); err != nil {
		t.Fatal(err)
	}
	if err := s.SetNumberDisabled(ctx, "123", true); !errors.Is(err, callcenter.ErrNotFound) {
		t.Fatalf("SetNumberDisabled(unknown) err = %v", err)
	}
	list, err := s.ListNumbers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].E164 != "+862161234567" || list[1].E164 != "4008001234" || !list[1].Disabled || list[0].RouteAgent != "" {
		t.Fatalf("ListNumbers = %+v", list)
	}
}

func TestSessions(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	for _, wn := range []string{"1001", "1002"} {
		if _, err := s.CreateAgent(ctx, agent(wn, "n")); err != nil {
			t.Fatal(err)
		}
	}
	mk := func(token, wn string, at time.Time) callcenter.Session {
		return callcenter.Session{TokenHash: callcenter.HashToken(token), WorkNumber: wn, Device: "pc",
			SIPHA1MD5: "m" + token, SIPHA1SHA256: "s" + token, CreatedAt: at}
	}
	a := mk("a", "1001", t0)
	b := mk("b", "1001", t0.Add(time.Second))
	c := mk("c", "1001", t0.Add(2*time.Second))
	other := mk("o", "1002", t0)
	for _, ss := range []callcenter.Session{c, a, b, other} {
		if err := s.CreateSession(ctx, ss); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateSession(ctx, a); !errors.Is(err, callcenter.ErrExists) {
		t.Fatalf("duplicate session err = %v, want ErrExists", err)
	}
	if err := s.CreateSession(ctx, mk("x", "9999", t0)); !errors.Is(err, callcenter.ErrNotFound) {
		t.Fatalf("session of unknown agent err = %v, want ErrNotFound", err)
	}
	if err := s.CreateSession(ctx, callcenter.Session{WorkNumber: "1001"}); !errors.Is(err, callcenter.ErrInvalid) {
		t.Fatalf("session without token err = %v, want ErrInvalid", err)
	}

	got, err := s.SessionByToken(ctx, a.TokenHash)
	want := a
	want.CreatedAt = a.CreatedAt.UTC()
	if err != nil || got != want {
		t.Fatalf("SessionByToken = %+v, %v; want %+v", got, err, want)
	}
	live, err := s.LiveSessions(ctx, "1001")
	if err != nil || len(live) != 3 || live[0].TokenHash != a.TokenHash || live[2].TokenHash != c.TokenHash {
		t.Fatalf("LiveSessions = %+v, %v; want a, b, c", live, err)
	}

	// A new login (c) takes over: a and b are revoked, oldest first.
	revoked, err := s.RevokeSessions(ctx, "1001", c.TokenHash)
	if err != nil {
		t.Fatal(err)
	}
	if len(revoked) != 2 || revoked[0].TokenHash != a.TokenHash || revoked[1].TokenHash != b.TokenHash || !revoked[0].Revoked {
		t.Fatalf("RevokeSessions = %+v, want a, b revoked", revoked)
	}
	if _, err := s.SessionByToken(ctx, a.TokenHash); !errors.Is(err, callcenter.ErrNotFound) {
		t.Fatalf("revoked session err = %v, want ErrNotFound", err)
	}
	if _, err := s.SessionByToken(ctx, "nope"); !errors.Is(err, callcenter.ErrNotFound) {
		t.Fatalf("absent session err = %v, want ErrNotFound", err)
	}
	live, _ = s.LiveSessions(ctx, "1001")
	if len(live) != 1 || live[0].TokenHash != c.TokenHash {
		t.Fatalf("LiveSessions after revoke = %+v, want c", live)
	}
	if again, err := s.RevokeSessions(ctx, "1001", c.TokenHash); err != nil || len(again) != 0 {
		t.Fatalf("second RevokeSessions = %+v, %v; want none", again, err)
	}
	// The other agent is untouched; revoking with except "" revokes all.
	if all, err := s.RevokeSessions(ctx, "1002", ""); err != nil || len(all) != 1 {
		t.Fatalf("RevokeSessions(1002) = %+v, %v", all, err)
	}
	if none, err := s.LiveSessions(ctx, "9999"); err != nil || len(none) != 0 {
		t.Fatalf("LiveSessions(unknown) = %+v, %v", none, err)
	}
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
