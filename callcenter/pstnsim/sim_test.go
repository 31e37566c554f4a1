package pstnsim

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/agentphone/agentphone/audio"
)

// answerWithTone is a center that answers, plays freq and records until
// the Sim hangs up; it hands each call's peer to got.
func answerWithTone(t *testing.T, freq float64, got chan<- *peer, seen chan<- *diago.DialogServerSession) func(d *diago.DialogServerSession) {
	return func(d *diago.DialogServerSession) {
		if seen != nil {
			seen <- d
		}
		if err := d.Answer(); err != nil {
			t.Errorf("center answer: %v", err)
			return
		}
		p := converse(t, &d.DialogMedia, freq)
		<-d.Context().Done() // the Sim hangs up
		_ = d.Close()
		p.end()
		if got != nil {
			got <- p
		}
	}
}

func TestInboundCallExchangesAudio(t *testing.T) {
	for _, codec := range []media.Codec{media.CodecAudioUlaw, media.CodecAudioAlaw} {
		t.Run(codec.Name, func(t *testing.T) {
			peers := make(chan *peer, 1)
			seen := make(chan *diago.DialogServerSession, 1)
			c := startCenterCodecs(t, []media.Codec{codec, media.CodecTelephoneEvent8000}, answerWithTone(t, 1000, peers, seen))
			sim := startSim(t, WithServer(c.addr))

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			call, err := sim.Call(ctx, "13800138000", "4008001234", CallOptions{Hold: 800 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			d := <-seen
			if got := d.FromUser(); got != "13800138000" {
				t.Errorf("center saw caller %q", got)
			}
			if got := d.ToUser(); got != "4008001234" {
				t.Errorf("center saw callee %q", got)
			}
			if got := media.CodecAudioFromSession(d.MediaSession()).Name; got != codec.Name {
				t.Errorf("negotiated %s, want %s", got, codec.Name)
			}
			if !call.Answered() || call.Status() != 200 || call.CallID == "" || call.Direction != Inbound {
				t.Fatalf("answered=%v status=%d call=%+v", call.Answered(), call.Status(), call)
			}
			select {
			case <-call.Done():
			case <-ctx.Done():
				t.Fatal("call did not end after its hold time")
			}
			if !call.Heard(1000) {
				t.Errorf("sim did not hear the center's 1 kHz tone: %v", call.HeardSummary())
			}
			if call.Heard(1500) {
				t.Errorf("sim claims to hear 1.5 kHz it was never sent")
			}
			sum := call.HeardSummary()
			if sum.Freq != 1000 || sum.LevelDBFS < -20 || sum.LevelDBFS > -6 {
				t.Errorf("summary %v, want ~1000 Hz around -15 dBFS", sum)
			}
			if sum.Duration < 700*time.Millisecond || sum.Duration > 3*time.Second {
				t.Errorf("talk time %v, want about the 800 ms hold", sum.Duration)
			}
			p := <-peers
			heard := p.received()
			if !audio.DetectTone(heard, 8000, DefaultVoiceFreq) {
				t.Errorf("center did not hear the sim's %v Hz voice (%d samples)", DefaultVoiceFreq, len(heard))
			}
			if lvl := audio.DBFS(heard); lvl < DefaultVoiceDBFS-1.5 || lvl > DefaultVoiceDBFS+0.5 {
				t.Errorf("voice arrived at %.1f dBFS, want about %v", lvl, DefaultVoiceDBFS)
			}
			// 800 ms of 20 ms frames paced in real time: ~40 frames, never a
			// burst (a busy CI machine may lose the first few to scheduling).
			if n := len(heard) / 160; n < 15 || n > 60 {
				t.Errorf("center got %d voice frames in an 800 ms call", n)
			}
		})
	}
}

func TestInboundDTMF(t *testing.T) {
	peers := make(chan *peer, 1)
	c := startCenter(t, answerWithTone(t, 1000, peers, nil))
	sim := startSim(t, WithServer(c.addr))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	call, err := sim.Call(ctx, "13800138000", "4008001234", CallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := call.SendDTMF(ctx, "12#9"); err != nil {
		t.Fatal(err)
	}
	if err := call.SendDTMF(ctx, "x"); err == nil {
		t.Error("bad digit accepted")
	}
	time.Sleep(100 * time.Millisecond) // the last event's end packets
	if err := call.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	p := <-peers
	if got := p.gotDigits(); got != "12#9" {
		t.Errorf("center got digits %q, want 12#9", got)
	}
}

func TestInboundRefused(t *testing.T) {
	c := startCenter(t, func(d *diago.DialogServerSession) {
		_ = d.Respond(sip.StatusBusyHere, "Busy Here", nil, sip.NewHeader("Reason", `Q.850;cause=17`))
	})
	sim := startSim(t, WithServer(c.addr))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := sim.Call(ctx, "1", "2", CallOptions{})
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 486 || !strings.Contains(se.Reason, "cause=17") {
		t.Fatalf("err = %v, want StatusError 486 with Reason", err)
	}
}

func TestInboundCancelWhileRinging(t *testing.T) {
	rang := make(chan struct{})
	c := startCenter(t, func(d *diago.DialogServerSession) {
		_ = d.Ringing()
		close(rang)
		<-d.Context().Done() // CANCEL ends the dialog
	})
	sim := startSim(t, WithServer(c.addr))
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-rang; cancel() }()
	_, err := sim.Call(ctx, "1", "2", CallOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestRunReport(t *testing.T) {
	var mu sync.Mutex
	from := map[string]int{}
	c := startCenter(t, func(d *diago.DialogServerSession) {
		mu.Lock()
		from[d.FromUser()]++
		mu.Unlock()
		if d.FromUser() == "666" {
			_ = d.Respond(sip.StatusBusyHere, "Busy Here", nil)
			return
		}
		answerWithTone(t, 1000, nil, nil)(d)
	})
	sim := startSim(t, WithServer(c.addr))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	t.Run("all answered", func(t *testing.T) {
		start := time.Now()
		rep, err := sim.Run(ctx, Plan{To: "4008001234", From: []string{"13800000001", "13800000002"}, Count: 5, Rate: 20, Hold: 300 * time.Millisecond, Concurrency: 5})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Placed != 5 || rep.Answered != 5 || len(rep.Failed) != 0 || len(rep.Calls) != 5 {
			t.Fatalf("report %v %+v", rep, rep.Failed)
		}
		// 5 calls at 20/s start over 200 ms; each talks 300 ms.
		if el := time.Since(start); el < 450*time.Millisecond {
			t.Errorf("run took %v: rate not respected", el)
		}
		for _, r := range rep.Calls {
			if !r.Answered || r.Status != 200 || r.Heard.Freq != 1000 {
				t.Errorf("call %+v", r)
			}
		}
		if rep.Calls[0].From != "13800000001" || rep.Calls[1].From != "13800000002" || rep.Calls[2].From != "13800000001" {
			t.Errorf("caller numbers not cycled: %v %v %v", rep.Calls[0].From, rep.Calls[1].From, rep.Calls[2].From)
		}
	})
	t.Run("mixed", func(t *testing.T) {
		rep, err := sim.Run(ctx, Plan{To: "4008001234", From: []string{"111", "666"}, Count: 4, Rate: 50, Hold: 200 * time.Millisecond, Concurrency: 1})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Placed != 4 || rep.Answered != 2 || rep.Failed[486] != 2 {
			t.Fatalf("report %v", rep)
		}
		if s := rep.String(); s != "placed 4, answered 2, 2×486" {
			t.Errorf("String() = %q", s)
		}
	})
	t.Run("bad plans", func(t *testing.T) {
		for _, p := range []Plan{
			{From: []string{"1"}, Count: 1},
			{To: "1", Count: 1},
			{To: "1", From: []string{"1"}, Count: -1},
			{To: "1", From: []string{"1"}},
		} {
			if _, err := sim.Run(ctx, p); !errors.Is(err, ErrBadPlan) {
				t.Errorf("Run(%+v) err = %v", p, err)
			}
		}
	})
	t.Run("endless until cancelled", func(t *testing.T) {
		rctx, rcancel := context.WithTimeout(ctx, 700*time.Millisecond)
		defer rcancel()
		rep, err := sim.Run(rctx, Plan{To: "4008001234", From: []string{"111"}, Rate: 10, Concurrency: 1})
		if err != nil {
			t.Fatal(err)
		}
		// One call at a time, each held until the run is cancelled.
		if rep.Placed != 1 || rep.Answered != 1 {
			t.Fatalf("report %v", rep)
		}
	})
}

// dial makes the test center call the Sim and returns the final status,
// the provisional statuses seen and, when answered, the dialog.
func dial(ctx context.Context, c *center, simAddr, number string) (int, []int, string, *diago.DialogClientSession, error) {
	host, port, _ := splitHostPort(simAddr)
	var prov []int
	d, err := c.dg.NewDialog(sip.Uri{Scheme: "sip", User: number, Host: host, Port: port}, diago.NewDialogOptions{Transport: "udp"})
	if err != nil {
		return 0, nil, "", nil, err
	}
	err = d.Invite(ctx, diago.InviteClientOptions{OnResponse: func(r *sip.Response) error {
		// 100 Trying is hop-by-hop and sipgo may deliver it after a
		// later provisional; only the end-to-end ones matter here.
		if r.IsProvisional() && r.StatusCode != 100 {
			prov = append(prov, r.StatusCode)
		}
		return nil
	}})
	if err != nil {
		d.Close()
		var de *sipgo.ErrDialogResponse
		if errors.As(err, &de) {
			reason := ""
			if h := de.Res.GetHeader("Reason"); h != nil {
				reason = h.Value()
			}
			return de.Res.StatusCode, prov, reason, nil, nil
		}
		return 0, prov, "", nil, err
	}
	if err := d.Ack(ctx); err != nil {
		d.Close()
		return 0, prov, "", nil, err
	}
	return 200, prov, "", d, nil
}

func TestOutboundOutcomes(t *testing.T) {
	c := startCenter(t, nil)
	const ring = 300 * time.Millisecond
	sim := startSim(t, WithRingTime(ring))
	tests := []struct {
		number   string
		status   int
		prov     []int
		cause    string
		minDelay time.Duration
	}{
		{"13800130486", 486, nil, "cause=17", 0},
		{"13800130404", 404, nil, "cause=1", 0},
		{"13800130480", 480, nil, "cause=18", 0},
		{"13800130408", 480, []int{180}, "cause=19", ring},
		{"13800130503", 480, []int{183}, "cause=20", announcementTime},
		{"13800130000", 200, []int{180}, "", ring},
		{"13912345678", 200, []int{180}, "", ring / 4},
	}
	for _, tt := range tests {
		t.Run(tt.number, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			start := time.Now()
			status, prov, reason, d, err := dial(ctx, c, sim.Addr(), tt.number)
			if err != nil {
				t.Fatal(err)
			}
			if status != tt.status {
				t.Fatalf("status %d, want %d", status, tt.status)
			}
			if el := time.Since(start); el < tt.minDelay {
				t.Errorf("final answer after %v, want at least %v", el, tt.minDelay)
			}
			if prov = slices.Compact(prov); !slices.Equal(prov, tt.prov) {
				t.Errorf("provisional %v, want %v", prov, tt.prov)
			}
			if !strings.Contains(reason, tt.cause) || (tt.cause != "" && !strings.HasPrefix(reason, "Q.850")) {
				t.Errorf("Reason %q, want %s", reason, tt.cause)
			}
			if d == nil {
				return
			}
			// Answered: the Sim's customer talks; check audio both ways.
			var call *Call
			select {
			case call = <-sim.Answered():
			case <-ctx.Done():
				t.Fatal("answered call not delivered")
			}
			if call.To != tt.number || call.Direction != Outbound || !call.Answered() {
				t.Errorf("answered call %+v", call)
			}
			p := converse(t, &d.DialogMedia, 1000)
			waitFor(t, "sim to hear 1 kHz", 5*time.Second, func() bool { return len(call.Received()) >= 4000 })
			waitFor(t, "center to hear the voice", 5*time.Second, func() bool { return len(p.received()) >= 4000 })
			if err := d.Hangup(ctx); err != nil {
				t.Fatal(err)
			}
			d.Close()
			p.end()
			select {
			case <-call.Done():
			case <-ctx.Done():
				t.Fatal("sim call did not end after BYE")
			}
			if !call.Heard(1000) {
				t.Errorf("sim did not hear 1 kHz: %v", call.HeardSummary())
			}
			if !audio.DetectTone(p.received(), 8000, DefaultVoiceFreq) {
				t.Error("center did not hear the customer's voice")
			}
		})
	}
}

func TestOutboundCallerCancelsWhileRinging(t *testing.T) {
	c := startCenter(t, nil)
	logs := &logSink{}
	sim, err := New(WithLogger(slog.New(logs)), WithRingTime(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer sim.Close()

	ctx, cancel := context.WithCancel(context.Background())
	host, port, _ := splitHostPort(sim.Addr())
	d, err := c.dg.NewDialog(sip.Uri{Scheme: "sip", User: "13800130408", Host: host, Port: port}, diago.NewDialogOptions{Transport: "udp"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	start := time.Now()
	err = d.Invite(ctx, diago.InviteClientOptions{OnResponse: func(r *sip.Response) error {
		if r.StatusCode == 180 {
			cancel()
		}
		return nil
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("invite err = %v, want canceled", err)
	}
	if d.InviteResponse == nil || d.InviteResponse.StatusCode != 487 {
		t.Errorf("final response %v, want 487", d.InviteResponse)
	}
	waitFor(t, "sim to log the cancel", 3*time.Second, func() bool {
		_, ok := logs.find("caller cancelled while ringing", "13800130408")
		return ok
	})
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("cancel took %v; the ring time is 10 s", el)
	}
}

func TestCloseHangsUpCalls(t *testing.T) {
	peers := make(chan *peer, 1)
	c := startCenter(t, answerWithTone(t, 1000, peers, nil))
	sim := startSim(t, WithServer(c.addr))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	call, err := sim.Call(ctx, "1", "2", CallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if err := sim.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-call.Done():
	default:
		t.Fatal("Close returned with a call still up")
	}
	select {
	case <-peers: // the center saw the BYE and finished
	case <-ctx.Done():
		t.Fatal("center never saw the hang-up")
	}
	if _, err := sim.Call(ctx, "1", "2", CallOptions{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Call after Close: %v", err)
	}
}

func TestLifecycleErrors(t *testing.T) {
	s, err := New(WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.Call(ctx, "1", "2", CallOptions{}); !errors.Is(err, ErrNotStarted) {
		t.Errorf("Call before Start: %v", err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Call(ctx, "1", "2", CallOptions{}); !errors.Is(err, ErrNoServer) {
		t.Errorf("Call without server: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Start after Close: %v", err)
	}
	for _, opt := range []Option{WithListen("nohost"), WithServer("x:y"), WithRingTime(-1)} {
		if _, err := New(opt); err == nil {
			t.Errorf("bad option accepted")
		}
	}
}

func TestStartContextCancelCloses(t *testing.T) {
	logs := &logSink{}
	s, err := New(WithLogger(slog.New(logs)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	// Close racing the ctx-triggered close must still wait for it to finish.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := logs.find("pstnsim stopped"); !ok {
		t.Error("Close returned before the Sim had stopped")
	}
	if _, err := s.state(); !errors.Is(err, ErrClosed) {
		t.Errorf("state after cancel: %v", err)
	}
}

// TestRunKeysDTMF: a Plan's customers key their IVR choice after the
// center answers, as the `make run` demo's pstnsim -dtmf 1 does.
func TestRunKeysDTMF(t *testing.T) {
	peers := make(chan *peer, 1)
	c := startCenter(t, answerWithTone(t, 1000, peers, nil))
	sim := startSim(t, WithServer(c.addr))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rep, err := sim.Run(ctx, Plan{To: "4008001234", From: []string{"13800138000"}, Count: 1,
		Hold: 600 * time.Millisecond, DTMF: "1", DTMFDelay: 50 * time.Millisecond})
	if err != nil || rep.Answered != 1 {
		t.Fatalf("run: %v, %v", rep, err)
	}
	p := <-peers
	if got := p.gotDigits(); got != "1" {
		t.Errorf("center got digits %q, want 1", got)
	}
}
