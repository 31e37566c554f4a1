package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/agentphone/agentphone/audio"
	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/store"
	"github.com/agentphone/agentphone/phone"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// buildDaemon compiles callcenterd once per test binary run.
func buildDaemon(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "callcenterd-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "callcenterd")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = &buildError{out: string(out), err: err}
		}
	})
	if buildErr != nil {
		t.Fatalf("build callcenterd: %v", buildErr)
	}
	return binPath
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

var readyLine = regexp.MustCompile(`msg="callcenterd ready" http=(\S+) sip=(\S+)`)

// daemon is callcenterd running as a real process.
type daemon struct {
	cmd     *exec.Cmd
	httpURL string
	sipAddr string
	exited  chan struct{}
}

func startDaemon(t *testing.T, db string) *daemon {
	t.Helper()
	cmd := exec.Command(buildDaemon(t), "serve", "-db", db, "-demo",
		"-http", "127.0.0.1:0", "-sip", "127.0.0.1:0", "-log-level", "info")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start callcenterd: %v", err)
	}
	d := &daemon{cmd: cmd, exited: make(chan struct{})}
	ready := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if testing.Verbose() {
				os.Stderr.WriteString("[callcenterd] " + sc.Text() + "\n")
			}
			if m := readyLine.FindStringSubmatch(sc.Text()); m != nil {
				ready <- m
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	go func() { cmd.Wait(); close(d.exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-d.exited
	})
	select {
	case m := <-ready:
		d.httpURL, d.sipAddr = m[1], m[2]
	case <-d.exited:
		t.Fatal("callcenterd exited before it was ready")
	case <-time.After(20 * time.Second):
		t.Fatal("callcenterd not ready after 20 s")
	}
	return d
}

// kill9 kills the server the hard way: no shutdown code runs.
func (d *daemon) kill9(t *testing.T) {
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9: %v", err)
	}
	<-d.exited
}

// TestKill9ClosesOpenRecords: a finished call and a call in progress when
// the server is killed with SIGKILL; after restart both calls have exactly
// one record, the finished one untouched, the live one closed as interrupted.
func TestKill9ClosesOpenRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a real callcenterd; skipped in -short")
	}
	db := filepath.Join(t.TempDir(), "cc.db")
	d := startDaemon(t, db)

	devA := audio.NewVirtualDevice(audio.NewTone(1000, 0.3, audio.DeviceRate))
	devB := audio.NewVirtualDevice(audio.NewTone(1500, 0.3, audio.DeviceRate))
	a := loginAgent(t, d.httpURL, "1001", devA, devA)
	b := loginAgent(t, d.httpURL, "1002", devB, devB)
	b.phone.SetAutoAnswer(true)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	call := func() (string, *phone.Call) {
		out, err := a.phone.Dial(ctx, "1002")
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		in := b.nextCall(t, phone.Active)
		waitFor(t, 5*time.Second, "caller active", func() bool { return out.State() == phone.Active })
		waitHears(t, "1002", devB, 1000)
		return in.Header("X-Call-ID"), out
	}
	doneID, out := call()
	if err := out.Hangup(ctx); err != nil {
		t.Fatalf("hang up: %v", err)
	}
	<-out.Done()
	liveID, _ := call()
	time.Sleep(1500 * time.Millisecond) // talk a little, past a heartbeat or not
	d.kill9(t)

	// Restart on the same database: the repair runs before serving.
	d2 := startDaemon(t, db)
	_ = d2
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, err := st.CallRecords(ctx, callcenter.RecordFilter{})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]int{}
	for _, r := range recs {
		byID[r.CallID]++
	}
	if len(recs) != 2 || byID[doneID] != 1 || byID[liveID] != 1 {
		t.Fatalf("want one record each for %s and %s, got %d records: %v", doneID, liveID, len(recs), byID)
	}
	done, _ := st.CallRecord(ctx, doneID)
	if done.Result != callcenter.ResultAnswered || done.HangupBy != callcenter.PartyCaller {
		t.Errorf("finished call changed by the repair: %s by %q", done.Result, done.HangupBy)
	}
	live, _ := st.CallRecord(ctx, liveID)
	if live.EndedAt.IsZero() || live.Result != callcenter.ResultInterrupted || live.HangupBy != callcenter.PartySystem {
		t.Errorf("live call after kill -9: ended %v result %s by %q, want interrupted by system", live.EndedAt, live.Result, live.HangupBy)
	}
	if live.EndedAt.Before(live.AnsweredAt) {
		t.Errorf("repaired record ends %v before it was answered %v", live.EndedAt, live.AnsweredAt)
	}
}
