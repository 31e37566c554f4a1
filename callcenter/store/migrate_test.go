package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter"
)

// createV1 makes a database as the issue-2 program left it: migration 0001
// only, with an agent, a routed number, a session and call records written
// by that schema's statements.
func createV1(t *testing.T, path string) {
	t.Helper()
	ctx := context.Background()
	ms, err := migrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path+"?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`,
		ms[0].sql,
		`INSERT INTO schema_migrations VALUES (1, '0001_init.sql', 0)`,
		`INSERT INTO agents (work_number, name, role, password_hash, ha1_md5, ha1_sha256, disabled, created_at)
			VALUES ('1001', 'Li Lei', 'agent', 'h', 'm', 's', 0, 1000)`,
		`INSERT INTO numbers (e164, name, route_agent, disabled) VALUES ('4008001234', 'Hotline', '1001', 0)`,
		`INSERT INTO sessions VALUES ('tok', '1001', 'pc', 'm', 's', 2000, 0)`,
		`INSERT INTO call_records (call_id, type, caller, callee, agent, number, started_at, answered_at, ended_at, result, hangup_by, codec)
			VALUES ('old-1', 'inbound', '13800138000', '4008001234', '1001', '4008001234', 3000, 4000, 9000, 'answered', 'caller', 'opus')`,
		`INSERT INTO call_records (call_id, type, caller, callee, agent, number, started_at, answered_at, ended_at, result, hangup_by, codec)
			VALUES ('old-open', 'inbound', '13800138000', '4008001234', '1001', '4008001234', 5000, NULL, NULL, 'unknown', '', '')`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func TestMigrateFromV1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	createV1(t, path)

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ms, _ := migrations(migrationFiles)
	if v, err := s.SchemaVersion(ctx); err != nil || v != len(ms) || v < 2 {
		t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, len(ms))
	}

	// The old data reads back whole, new columns at their zero values.
	a, err := s.AgentByWorkNumber(ctx, "1001")
	if err != nil || a.Name != "Li Lei" || a.CreatedAt != time.Unix(0, 1000).UTC() {
		t.Fatalf("agent = %+v, %v", a, err)
	}
	n, err := s.NumberByE164(ctx, "4008001234")
	if err != nil || n.RouteAgent != "1001" || n.RouteIVR != "" || n.RouteGroup != "" {
		t.Fatalf("number = %+v, %v", n, err)
	}
	if ss, err := s.SessionByToken(ctx, "tok"); err != nil || ss.WorkNumber != "1001" {
		t.Fatalf("session = %+v, %v", ss, err)
	}
	r, err := s.CallRecord(ctx, "old-1")
	want := callcenter.CallRecord{CallID: "old-1", Type: callcenter.CallInbound, Caller: "13800138000", Callee: "4008001234",
		Agent: "1001", Number: "4008001234", StartedAt: time.Unix(0, 3000).UTC(), AnsweredAt: time.Unix(0, 4000).UTC(),
		EndedAt: time.Unix(0, 9000).UTC(), Result: callcenter.ResultAnswered, HangupBy: callcenter.PartyCaller, Codec: "opus"}
	if err != nil || r != want {
		t.Fatalf("old record = %+v, %v; want %+v", r, err, want)
	}
	if n, last, err := s.CallsWith(ctx, "13800138000"); err != nil || n != 2 || !last.Equal(time.Unix(0, 5000)) {
		t.Fatalf("CallsWith over old records = %d, %v, %v", n, last, err)
	}
	// A call the old program left open is completed with the new columns.
	end := callcenter.CallRecord{CallID: "old-open", Type: callcenter.CallInbound, Caller: "13800138000", Callee: "4008001234",
		StartedAt: time.Unix(0, 5000), EndedAt: time.Unix(0, 6000), Result: callcenter.ResultCancelled, HangupBy: callcenter.PartyCaller,
		Group: "sales", QueueWait: time.Second, Abandoned: true}
	if err := s.EndCallRecord(ctx, end); err != nil {
		t.Fatal(err)
	}
	if r, err := s.CallRecord(ctx, "old-open"); err != nil || r.Group != "sales" || r.QueueWait != time.Second || !r.Abandoned || r.Agent != "1001" {
		t.Fatalf("completed old record = %+v, %v", r, err)
	}

	// The new tables work on the migrated file, with the old rows as
	// foreign keys.
	if _, err := s.CreateGroup(ctx, callcenter.SkillGroup{Name: "sales"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMember(ctx, callcenter.Member{Group: "sales", Agent: "1001", Level: 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetNumberRoute(ctx, "4008001234", "", "sales", "1001"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetNumberRoute(ctx, "4008001234", "main", "", ""); !errors.Is(err, callcenter.ErrNotFound) {
		t.Fatalf("route to a missing menu err = %v, want ErrNotFound", err)
	}
	if n, _ := s.NumberByE164(ctx, "4008001234"); n.RouteGroup != "sales" || n.RouteAgent != "1001" {
		t.Fatalf("routed number = %+v", n)
	}
	s.Close()

	// Reopening applies nothing twice.
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if m, err := s2.Members(ctx, "sales"); err != nil || len(m) != 1 {
		t.Fatalf("members after reopen = %+v, %v", m, err)
	}
}
