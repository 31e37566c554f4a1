// Package storetest is the conformance suite of store.Store: every
// implementation (SQLite now, PostgreSQL later) must pass Run, so callers can
// rely on the documented semantics (sentinel errors, exactly-once call
// records, crash repair) whatever the engine.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/store"
)

// Opener returns a new, empty store for one test and arranges (t.Cleanup)
// for it to be closed.
type Opener func(t *testing.T) store.Store

// Run runs the whole suite against stores made by open.
func Run(t *testing.T, open Opener) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"Agents", testAgents},
		{"Numbers", testNumbers},
		{"Sessions", testSessions},
		{"CallRecordLifecycle", testCallRecordLifecycle},
		{"CallRecordBadInput", testCallRecordBadInput},
		{"CallRecordsFilter", testCallRecordsFilter},
		{"CallRecordExactlyOnceConcurrent", testCallRecordExactlyOnceConcurrent},
		{"RepairUnfinished", testRepairUnfinished},
		{"Groups", testGroups},
		{"Members", testMembers},
		{"IVRMenus", testIVRMenus},
		{"CustomStatuses", testCustomStatuses},
		{"NumberRoutes", testNumberRoutes},
		{"StatusLog", testStatusLog},
		{"Offers", testOffers},
		{"CallRecordQueueData", testCallRecordQueueData},
		{"CallsWith", testCallsWith},
		{"CallRecordParent", testCallRecordParent},
		{"Notes", testNotes},
		{"Callbacks", testCallbacks},
		{"Customers", testCustomers},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// t0 is in a non-UTC zone on purpose: stores must hand back the same
// instant in UTC.
var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.FixedZone("CST", 8*3600))

func agent(wn, name string) callcenter.Agent {
	return callcenter.Agent{WorkNumber: wn, Name: name, Role: callcenter.RoleAgent,
		PasswordHash: "h-" + wn, HA1MD5: "m-" + wn, HA1SHA256: "s-" + wn}
}

func rec(id string, started time.Time) callcenter.CallRecord {
	return callcenter.CallRecord{CallID: id, Type: callcenter.CallInbound, Caller: "13800138000",
		Callee: "4008001234", Agent: "1001", Number: "4008001234", StartedAt: started}
}

func answered(r callcenter.CallRecord, at time.Time, codec string) callcenter.CallRecord {
	r.AnsweredAt, r.Codec = at, codec
	return r
}

func ended(r callcenter.CallRecord, at time.Time, res callcenter.Result, by callcenter.Party) callcenter.CallRecord {
	r.EndedAt, r.Result, r.HangupBy = at, res, by
	return r
}

// utc is what the store hands back: the same instants, in UTC.
func utc(r callcenter.CallRecord) callcenter.CallRecord {
	for _, t := range []*time.Time{&r.StartedAt, &r.AnsweredAt, &r.EndedAt} {
		if !t.IsZero() {
			*t = t.UTC()
		}
	}
	return r
}

func testAgents(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)

	a, err := s.CreateAgent(ctx, agent("1002", "Han Meimei"))
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == 0 || a.CreatedAt.IsZero() || a.CreatedAt.Location() != time.UTC {
		t.Fatalf("created agent = %+v, want ID and CreatedAt (UTC) set", a)
	}
	if got, err := s.AgentByWorkNumber(ctx, "1002"); err != nil || got != a {
		t.Fatalf("read back %+v, %v; want %+v", got, err, a)
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

func testNumbers(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
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

func testSessions(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
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

func testCallRecordLifecycle(t *testing.T, open Opener) {
	start := t0
	base := rec("c1", start)
	talk := answered(base, start.Add(3*time.Second), "opus")
	done := ended(talk, start.Add(63*time.Second), callcenter.ResultAnswered, callcenter.PartyCaller)
	missed := ended(base, start.Add(20*time.Second), callcenter.ResultNoAnswer, callcenter.PartySystem)

	type step struct {
		begin bool
		r     callcenter.CallRecord
	}
	tests := []struct {
		name  string
		steps []step
		want  callcenter.CallRecord
	}{
		{"answered call", []step{{true, talk}}, talk},
		{"answered then ended", []step{{true, talk}, {false, done}}, done},
		{"ended unanswered inserts whole record", []step{{false, missed}}, missed},
		{"begin twice keeps first", []step{{true, talk}, {true, answered(base, start.Add(time.Hour), "pcmu")}}, talk},
		{"end twice keeps first end", []step{{true, talk}, {false, done}, {false, ended(talk, start.Add(time.Hour), callcenter.ResultFailed, callcenter.PartySystem)}}, done},
		{"begin after end is a no-op", []step{{false, done}, {true, talk}}, done},
		{"end fills answer time and codec the row lacked", []step{{true, base}, {false, done}}, done},
		{"end keeps the codec the row had", []step{{true, talk}, {false, func() callcenter.CallRecord { r := done; r.Codec = "pcma"; return r }()}}, done},
	}
	ctx := context.Background()
	s := open(t)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprintf("call-%d", i)
			for _, st := range tt.steps {
				st.r.CallID = id
				var err error
				if st.begin {
					err = s.BeginCallRecord(ctx, st.r)
				} else {
					err = s.EndCallRecord(ctx, st.r)
				}
				if err != nil {
					t.Fatalf("step %+v: %v", st, err)
				}
			}
			got, err := s.CallRecord(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			want := utc(tt.want)
			want.CallID = id
			if got != want {
				t.Fatalf("record =\n %+v\nwant\n %+v", got, want)
			}
		})
	}
	if _, err := s.CallRecord(ctx, "nope"); !errors.Is(err, callcenter.ErrNotFound) {
		t.Fatalf("unknown record err = %v, want ErrNotFound", err)
	}
}

func testCallRecordBadInput(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	ok := rec("x", t0)
	tests := []struct {
		name string
		mut  func(*callcenter.CallRecord)
		end  bool
	}{
		{"empty id", func(r *callcenter.CallRecord) { r.CallID = "" }, false},
		{"no start", func(r *callcenter.CallRecord) { r.StartedAt = time.Time{} }, false},
		{"bad type", func(r *callcenter.CallRecord) { r.Type = 99 }, false},
		{"bad result", func(r *callcenter.CallRecord) { r.Result = 99 }, false},
		{"bad party", func(r *callcenter.CallRecord) { r.HangupBy = 9 }, false},
		{"year 3000", func(r *callcenter.CallRecord) { r.StartedAt = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC) }, false},
		{"end without end time", func(r *callcenter.CallRecord) {}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok
			tt.mut(&r)
			var err error
			if tt.end {
				err = s.EndCallRecord(ctx, r)
			} else {
				err = s.BeginCallRecord(ctx, r)
			}
			if !errors.Is(err, callcenter.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
	if _, err := s.CallRecords(ctx, callcenter.RecordFilter{Limit: -1}); !errors.Is(err, callcenter.ErrInvalid) {
		t.Fatalf("negative limit err = %v, want ErrInvalid", err)
	}
}

func testCallRecordsFilter(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	// 10 calls a minute apart, alternating agents 1001/1002.
	for i := range 10 {
		r := rec(fmt.Sprintf("c%02d", i), t0.Add(time.Duration(i)*time.Minute))
		r.Agent = []string{"1001", "1002"}[i%2]
		if err := s.EndCallRecord(ctx, ended(r, r.StartedAt.Add(time.Second), callcenter.ResultNoAnswer, callcenter.PartyCaller)); err != nil {
			t.Fatal(err)
		}
	}
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }
	tests := []struct {
		name string
		f    callcenter.RecordFilter
		want []string
	}{
		{"all newest first", callcenter.RecordFilter{}, []string{"c09", "c08", "c07", "c06", "c05", "c04", "c03", "c02", "c01", "c00"}},
		{"agent", callcenter.RecordFilter{Agent: "1002"}, []string{"c09", "c07", "c05", "c03", "c01"}},
		{"limit", callcenter.RecordFilter{Limit: 3}, []string{"c09", "c08", "c07"}},
		{"since inclusive", callcenter.RecordFilter{Since: at(7)}, []string{"c09", "c08", "c07"}},
		{"until exclusive", callcenter.RecordFilter{Until: at(2)}, []string{"c01", "c00"}},
		{"window, agent, limit", callcenter.RecordFilter{Agent: "1001", Since: at(1), Until: at(9), Limit: 2}, []string{"c08", "c06"}},
		{"unknown agent", callcenter.RecordFilter{Agent: "7"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.CallRecords(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range got {
				ids = append(ids, r.CallID)
			}
			if fmt.Sprint(ids) != fmt.Sprint(tt.want) {
				t.Fatalf("got %v, want %v", ids, tt.want)
			}
		})
	}
}

// Many goroutines race Begin and End for the same calls: each call must end
// up as exactly one complete row, whichever statement ran first.
func testCallRecordExactlyOnceConcurrent(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	const calls, workers = 20, 16
	var wg sync.WaitGroup
	errs := make(chan error, calls*workers)
	for c := range calls {
		base := rec(fmt.Sprintf("race-%d", c), t0)
		talk := answered(base, t0.Add(time.Second), "opus")
		done := ended(talk, t0.Add(time.Minute), callcenter.ResultAnswered, callcenter.PartyCallee)
		for w := range workers {
			wg.Go(func() {
				var err error
				if w%2 == 0 {
					err = s.BeginCallRecord(ctx, talk)
				} else {
					err = s.EndCallRecord(ctx, done)
				}
				if err != nil {
					errs <- err
				}
				// Readers run alongside the writer.
				if _, err := s.CallRecords(ctx, callcenter.RecordFilter{Limit: 5}); err != nil {
					errs <- err
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	all, err := s.CallRecords(ctx, callcenter.RecordFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != calls {
		t.Fatalf("%d rows, want %d", len(all), calls)
	}
	for _, r := range all {
		want := utc(ended(answered(rec(r.CallID, t0), t0.Add(time.Second), "opus"), t0.Add(time.Minute), callcenter.ResultAnswered, callcenter.PartyCallee))
		if r != want {
			t.Fatalf("row %+v, want %+v", r, want)
		}
	}
}

func testRepairUnfinished(t *testing.T, open Opener) {
	ctx := context.Background()
	now := t0.Add(24 * time.Hour)
	tests := []struct {
		name      string
		heartbeat time.Time // zero: none
		r         callcenter.CallRecord
		wantEnd   time.Time
	}{
		{"ended at last heartbeat", t0.Add(10 * time.Minute), answered(rec("a", t0), t0.Add(time.Second), "opus"), t0.Add(10 * time.Minute)},
		{"no heartbeat: now", time.Time{}, answered(rec("a", t0), t0.Add(time.Second), "opus"), now},
		{"never before answer", t0, answered(rec("a", t0), t0.Add(5*time.Second), "opus"), t0.Add(5 * time.Second)},
		{"never before start", t0.Add(-time.Hour), rec("a", t0), t0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			if !tt.heartbeat.IsZero() {
				// Heartbeats overwrite: only the last counts.
				if err := s.Heartbeat(ctx, tt.heartbeat.Add(-time.Minute)); err != nil {
					t.Fatal(err)
				}
				if err := s.Heartbeat(ctx, tt.heartbeat); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.BeginCallRecord(ctx, tt.r); err != nil {
				t.Fatal(err)
			}
			closed := ended(rec("closed", t0), t0.Add(time.Second), callcenter.ResultBusy, callcenter.PartyCallee)
			if err := s.EndCallRecord(ctx, closed); err != nil {
				t.Fatal(err)
			}
			n, err := s.RepairUnfinished(ctx, now)
			if err != nil || n != 1 {
				t.Fatalf("RepairUnfinished = %d, %v; want 1", n, err)
			}
			got, _ := s.CallRecord(ctx, "a")
			want := utc(ended(tt.r, tt.wantEnd, callcenter.ResultInterrupted, callcenter.PartySystem))
			if got != want {
				t.Fatalf("repaired =\n %+v\nwant\n %+v", got, want)
			}
			if got, _ := s.CallRecord(ctx, "closed"); got != utc(closed) {
				t.Fatalf("finished record changed: %+v", got)
			}
			if n, err := s.RepairUnfinished(ctx, now); err != nil || n != 0 {
				t.Fatalf("second RepairUnfinished = %d, %v; want 0", n, err)
			}
		})
	}
}
