package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter"
)

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

func TestCallRecordLifecycle(t *testing.T) {
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
	s, _ := openTemp(t)
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

func TestCallRecordBadInput(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
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

func TestCallRecordsFilter(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
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
func TestCallRecordExactlyOnceConcurrent(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
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

func TestRepairUnfinished(t *testing.T) {
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
			s, _ := openTemp(t)
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

func BenchmarkCallRecord(b *testing.B) {
	ctx := context.Background()
	s, _ := openTemp(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r := answered(rec(fmt.Sprintf("bench-%d", i), t0), t0.Add(time.Second), "opus")
		if err := s.BeginCallRecord(ctx, r); err != nil {
			b.Fatal(err)
		}
		if err := s.EndCallRecord(ctx, ended(r, t0.Add(time.Minute), callcenter.ResultAnswered, callcenter.PartyCaller)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// Two stores on one file, as when `callcenterd admin` runs beside the
// server: concurrent first Opens migrate once, and concurrent writers wait
// for each other (busy timeout) instead of failing with SQLITE_BUSY.
func TestTwoStoresOneFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.db")
	stores := make([]*SQLite, 2)
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range stores {
		wg.Go(func() {
			s, err := Open(ctx, path)
			if err != nil {
				errs <- err
				return
			}
			stores[i] = s
		})
	}
	wg.Wait()
	for _, s := range stores {
		if s != nil {
			defer s.Close()
		}
	}
	select {
	case err := <-errs:
		t.Fatalf("concurrent Open: %v", err)
	default:
	}
	const perStore = 50
	for si, s := range stores {
		wg.Go(func() {
			for i := range perStore {
				r := answered(rec(fmt.Sprintf("s%d-%d", si, i), t0), t0.Add(time.Second), "pcmu")
				if err := s.BeginCallRecord(ctx, r); err != nil {
					errs <- err
				}
				if err := s.EndCallRecord(ctx, ended(r, t0.Add(time.Minute), callcenter.ResultAnswered, callcenter.PartyCaller)); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	all, err := stores[1].CallRecords(ctx, callcenter.RecordFilter{})
	if err != nil || len(all) != 2*perStore {
		t.Fatalf("%d records, %v; want %d", len(all), err, 2*perStore)
	}
	if v, err := stores[0].SchemaVersion(ctx); err != nil || v != 1 {
		t.Fatalf("schema version %d, %v", v, err)
	}
}
