package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter"
)

// crashEnv, when set to a database path, turns the test binary into the
// crash helper: it writes call records and heartbeats as fast as it can and
// reports each commit on stdout until it is killed.
const crashEnv = "AGENTPHONE_STORE_CRASH_DB"

const crashWriters = 4

func crashID(g, i int) string { return fmt.Sprintf("g%d-%d", g, i) }

// crashRecord is what writer g writes for its i-th call; every third call
// is left open, as if it were still going on when the server died.
func crashRecord(g, i int) (r callcenter.CallRecord, endsNormally bool) {
	start := t0.Add(time.Duration(i) * time.Second)
	r = answered(rec(crashID(g, i), start), start.Add(time.Second), "opus")
	return r, i%3 != 0
}

func crashHelper() int {
	ctx := context.Background()
	s, err := Open(ctx, os.Getenv(crashEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash helper:", err)
		return 2
	}
	var mu sync.Mutex
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(os.Stdout, format+"\n", args...)
	}
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "crash helper:", err)
		os.Exit(3)
	}
	for g := range crashWriters {
		go func() {
			for i := 0; ; i++ {
				r, ends := crashRecord(g, i)
				if err := s.BeginCallRecord(ctx, r); err != nil {
					fail(err)
				}
				say("B %d %d", g, i)
				if ends {
					if err := s.EndCallRecord(ctx, ended(r, r.StartedAt.Add(time.Minute), callcenter.ResultAnswered, callcenter.PartyCaller)); err != nil {
						fail(err)
					}
					say("E %d %d", g, i)
				}
			}
		}()
	}
	for {
		now := time.Now()
		if err := s.Heartbeat(ctx, now); err != nil {
			fail(err)
		}
		say("H %d", now.UnixNano())
		time.Sleep(time.Millisecond)
	}
}

// TestCrashRepair kills a writer process with SIGKILL in the middle of its
// write loop, then reopens the database: every record it reported written
// must be there once, and after RepairUnfinished every record is closed.
func TestCrashRepair(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	path := filepath.Join(t.TempDir(), "crash.db")
	// Create the schema first so the helper does not race its own migration
	// against nothing; it also proves a second Open of a used file works.
	s0, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s0.Close()

	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	type key struct{ g, i int }
	begun, endedOK := map[key]bool{}, map[key]bool{}
	lastBegun := map[int]int{}
	var lastHB int64
	killed := false
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "H":
			lastHB, _ = strconv.ParseInt(f[1], 10, 64)
		case len(f) == 3 && (f[0] == "B" || f[0] == "E"):
			g, _ := strconv.Atoi(f[1])
			i, _ := strconv.Atoi(f[2])
			if f[0] == "B" {
				begun[key{g, i}] = true
				lastBegun[g] = max(lastBegun[g], i)
			} else {
				endedOK[key{g, i}] = true
			}
		}
		// Kill once there is something to lose: writers in full flight,
		// at least one heartbeat down.
		if !killed && len(begun) >= 400 && lastHB != 0 {
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("helper exited on its own: %v\n%s", err, stderr.String())
	}

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()
	n, err := s.RepairUnfinished(ctx, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("RepairUnfinished closed nothing, but every third call was left open")
	}
	all, err := s.CallRecords(ctx, callcenter.RecordFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var distinct int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(DISTINCT call_id) FROM call_records`).Scan(&distinct); err != nil || distinct != len(all) {
		t.Fatalf("%d distinct call ids for %d rows (%v)", distinct, len(all), err)
	}
	seen := map[key]bool{}
	interrupted := 0
	for _, r := range all {
		var k key
		if _, err := fmt.Sscanf(r.CallID, "g%d-%d", &k.g, &k.i); err != nil {
			t.Fatalf("unexpected row %q", r.CallID)
		}
		seen[k] = true
		// At most one write per writer was in flight, unreported, when killed.
		inFlight := k.i == lastBegun[k.g]+1
		if !begun[k] && !inFlight {
			t.Errorf("row %s was never written by the helper", r.CallID)
		}
		want, ends := crashRecord(k.g, k.i)
		switch {
		case endedOK[k] || (ends && r.Result == callcenter.ResultAnswered && (k.i == lastBegun[k.g] || inFlight)):
			want = ended(want, want.StartedAt.Add(time.Minute), callcenter.ResultAnswered, callcenter.PartyCaller)
			if r != utc(want) {
				t.Errorf("ended row = %+v, want %+v", r, utc(want))
			}
		default:
			interrupted++
			if r.Result != callcenter.ResultInterrupted || r.HangupBy != callcenter.PartySystem {
				t.Errorf("open row %s repaired as %v by %v", r.CallID, r.Result, r.HangupBy)
			}
			if r.EndedAt.UnixNano() < lastHB || r.EndedAt.Before(r.AnsweredAt) {
				t.Errorf("row %s ended at %v, before the last heartbeat %v or its answer", r.CallID, r.EndedAt, time.Unix(0, lastHB))
			}
		}
	}
	for k := range begun {
		if !seen[k] {
			t.Errorf("record %s reported committed but lost", crashID(k.g, k.i))
		}
	}
	if interrupted != n {
		t.Errorf("%d rows interrupted, RepairUnfinished said %d", interrupted, n)
	}
	if n, err := s.RepairUnfinished(ctx, time.Now()); err != nil || n != 0 {
		t.Fatalf("second repair = %d, %v", n, err)
	}
	t.Logf("killed after %d begun, %d ended; %d rows, %d repaired", len(begun), len(endedOK), len(all), n)
}
