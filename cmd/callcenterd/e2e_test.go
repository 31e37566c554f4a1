package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/agentphone/agentphone/audio"
	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/api"
	"github.com/agentphone/agentphone/callcenter/client"
	"github.com/agentphone/agentphone/phone"
)

// testLog shows the server's log only with -v, so failures can be read.
func testLog(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: testLogLevel()}))
	}
	return slog.New(slog.DiscardHandler)
}

// startServer runs callcenterd in-process on a temp SQLite file, with the
// demo data, HTTP and SIP on 127.0.0.1 port 0.
func startServer(t testing.TB, trunk string) *instance {
	t.Helper()
	in, err := start(context.Background(), config{
		DB:        filepath.Join(t.TempDir(), "cc.db"),
		HTTPAddr:  "127.0.0.1:0",
		SIPAddr:   "127.0.0.1:0",
		TrunkAddr: trunk,
		Demo:      true,
		Log:       testLog(t),
	})
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() {
		if err := in.Close(); err != nil {
			t.Errorf("close server: %v", err)
		}
	})
	return in
}

// agent is a logged-in softphone: API client plus SIP phone on a virtual headset.
type agent struct {
	wn     string
	api    *client.Client
	login  api.LoginResponse
	phone  *phone.Phone
	dev    *audio.VirtualDevice
	events chan phone.Event
}

// newAgent logs in like the softphone does (/v1/login gives the SIP
// account), then registers a phone whose microphone plays a tone of freq Hz.
func newAgent(t testing.TB, in *instance, wn string, freq float64, codecs ...string) *agent {
	t.Helper()
	dev := audio.NewVirtualDevice(audio.NewTone(freq, 0.3, audio.DeviceRate))
	a := loginAgent(t, in.HTTPURL(), wn, dev, dev, codecs...)
	waitFor(t, 5*time.Second, "server sees "+wn+" registered", func() bool { return in.edge.Registered(wn) })
	return a
}

// loginAgent logs wn in at the API at url and registers its phone, whose
// headset is hs (dev is the same headset's recording side, for checks).
func loginAgent(t testing.TB, url, wn string, dev *audio.VirtualDevice, hs audio.Device, codecs ...string) *agent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a := &agent{wn: wn, api: client.New(url), dev: dev}
	var err error
	a.login, err = a.api.Login(ctx, wn, "demo1234", "pc")
	if err != nil {
		t.Fatalf("login %s: %v", wn, err)
	}
	opts := []phone.Option{
		phone.WithListen("127.0.0.1:0"),
		phone.WithAudio(func() (audio.Device, error) { return nopClose{hs}, nil }),
		phone.WithLogger(testLog(t).With("agent", wn)),
	}
	if len(codecs) > 0 {
		opts = append(opts, phone.WithCodecs(codecs...))
	}
	sip := a.login.SIP
	a.phone, err = phone.New(phone.Account{
		Username:  sip.Username,
		Password:  sip.Password,
		Realm:     sip.Realm,
		Registrar: sip.Registrar,
	}, opts...)
	if err != nil {
		t.Fatalf("phone %s: %v", wn, err)
	}
	if err := a.phone.Start(context.Background()); err != nil {
		t.Fatalf("start phone %s: %v", wn, err)
	}
	t.Cleanup(func() { a.phone.Close() })
	a.events = make(chan phone.Event, 256)
	go func() {
		// Ends when the phone closes its event channel (phone.Close).
		defer close(a.events)
		for ev := range a.phone.Events() {
			select {
			case a.events <- ev:
			default: // nobody reads this agent's events: drop, never block
			}
		}
	}()
	waitFor(t, 5*time.Second, "agent "+wn+" registered", func() bool {
		return a.phone.Registration() == phone.Registered
	})
	return a
}

// nopClose keeps the virtual headset alive across calls: the phone closes
// the device at the end of each call, a real headset stays plugged in.
type nopClose struct{ audio.Device }

func (nopClose) Close() error { return nil }

// nextCall waits for a call event in state st and returns its call.
func (a *agent) nextCall(t testing.TB, st phone.CallState) *phone.Call {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-a.events:
			if !ok {
				t.Fatalf("agent %s: phone closed while waiting for %s", a.wn, st)
			}
			if ev.Kind == phone.EventCall && ev.State == st {
				return ev.Call
			}
		case <-deadline:
			t.Fatalf("agent %s: no call reached %s", a.wn, st)
		}
	}
}

func waitFor(t testing.TB, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// hears reports whether the last 400 ms a device played hold a freq Hz tone.
func hears(dev *audio.VirtualDevice, freq float64) bool {
	p := dev.Played()
	n := audio.DeviceRate * 400 / 1000
	if len(p) < n {
		return false
	}
	return audio.DetectTone(p[len(p)-n:], audio.DeviceRate, freq)
}

func waitHears(t testing.TB, who string, dev *audio.VirtualDevice, freq float64) {
	t.Helper()
	waitFor(t, 5*time.Second, who+" hears "+ftoa(freq)+" Hz", func() bool { return hears(dev, freq) })
}

func ftoa(f float64) string { return time.Duration(f).String()[:len(time.Duration(f).String())-2] }

// waitRecord waits until the call record of callID is complete.
func waitRecord(t testing.TB, in *instance, callID string) callcenter.CallRecord {
	t.Helper()
	var rec callcenter.CallRecord
	waitFor(t, 5*time.Second, "call record "+callID+" completed", func() bool {
		r, err := in.st.CallRecord(context.Background(), callID)
		rec = r
		return err == nil && !r.EndedAt.IsZero()
	})
	return rec
}

// TestAgentToAgent: agent 1001 calls 1002 through callcenterd; each hears
// the other's tone through the real codecs and the server's room; 1001 hangs
// up; exactly one record with the right parties, duration and who hung up.
func TestAgentToAgent(t *testing.T) {
	for _, tc := range []struct {
		name   string
		codecs []string
		want   string
	}{
		{"opus", nil, "opus"},
		{"pcmu", []string{"PCMU"}, "PCMU"},
		{"pcma", []string{"PCMA"}, "PCMA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := startServer(t, "")
			a := newAgent(t, in, "1001", 1000, tc.codecs...)
			b := newAgent(t, in, "1002", 1500, tc.codecs...)
			stream := b.api.Events(context.Background())
			_ = stream

			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			out, err := a.phone.Dial(ctx, "1002")
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			inc := b.nextCall(t, phone.Ringing)
			if got := inc.Header("X-Caller"); got != "1001" {
				t.Errorf("X-Caller = %q, want 1001", got)
			}
			callID := inc.Header("X-Call-ID")
			if callID == "" {
				t.Fatal("offer to the agent has no X-Call-ID")
			}
			if err := inc.Answer(ctx); err != nil {
				t.Fatalf("answer: %v", err)
			}
			waitFor(t, 5*time.Second, "caller active", func() bool { return out.State() == phone.Active })
			if out.Codec() != tc.want || inc.Codec() != tc.want {
				t.Errorf("codecs %s/%s, want %s", out.Codec(), inc.Codec(), tc.want)
			}
			waitHears(t, "1002", b.dev, 1000)
			waitHears(t, "1001", a.dev, 1500)
			if hears(a.dev, 1000) {
				t.Error("1001 hears its own tone: the room must mix minus self")
			}
			time.Sleep(time.Second)
			if err := out.Hangup(ctx); err != nil {
				t.Fatalf("hang up: %v", err)
			}
			select {
			case <-inc.Done():
			case <-ctx.Done():
				t.Fatal("callee leg not ended after the caller hung up")
			}
			rec := waitRecord(t, in, callID)
			if rec.Type != callcenter.CallInternal || rec.Caller != "1001" || rec.Callee != "1002" {
				t.Errorf("record parties: type %s %s → %s", rec.Type, rec.Caller, rec.Callee)
			}
			if rec.HangupBy != callcenter.PartyCaller || rec.Result != callcenter.ResultAnswered {
				t.Errorf("record: hangup by %q result %s, want caller/answered", rec.HangupBy, rec.Result)
			}
			if d := rec.Duration(); d < time.Second || d > 15*time.Second {
				t.Errorf("record duration %s", d)
			}
			recs, err := in.st.CallRecords(context.Background(), callcenter.RecordFilter{})
			if err != nil || len(recs) != 1 {
				t.Fatalf("want exactly one record, got %d (%v)", len(recs), err)
			}
		})
	}
}

func testLogLevel() slog.Level {
	if os.Getenv("E2E_DEBUG") != "" {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}
