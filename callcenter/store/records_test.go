package store

import (
	"context"
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
	ms, err := migrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := stores[0].SchemaVersion(ctx); err != nil || v != len(ms) {
		t.Fatalf("schema version %d, %v; want %d", v, err, len(ms))
	}
}
