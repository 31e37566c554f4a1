package pstnsim

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/agentphone/agentphone/audio"
)

func TestPoweredOffPlaysAnnouncement(t *testing.T) {
	c := startCenter(t, nil)
	sim := startSim(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	host, port, _ := splitHostPort(sim.Addr())
	d, err := c.dg.NewDialog(sip.Uri{Scheme: "sip", User: "13800130503", Host: host, Port: port}, diago.NewDialogOptions{Transport: "udp"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	err = d.Invite(ctx, diago.InviteClientOptions{EarlyMediaDetect: true})
	if !errors.Is(err, diago.ErrClientEarlyMedia) {
		t.Fatalf("invite: %v, want early media", err)
	}
	// Listen to the early media until the final answer.
	var (
		mu    sync.Mutex
		heard []int16
		wg    sync.WaitGroup
	)
	dec, _ := audio.PCMU.NewDecoder()
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, media.RTPBufSize)
		pcm := make([]int16, media.RTPBufSize)
		for {
			n, err := d.RTPPacketReader.Read(buf)
			if err != nil {
				return
			}
			k, _ := dec.Decode(buf[:n], pcm)
			mu.Lock()
			heard = append(heard, pcm[:k]...)
			mu.Unlock()
		}
	}()
	err = d.WaitAnswer(ctx, sipgo.AnswerOptions{})
	var de *sipgo.ErrDialogResponse
	if !errors.As(err, &de) || de.Res.StatusCode != 480 {
		t.Fatalf("final answer: %v, want 480", err)
	}
	d.Close()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(heard) < 8000 {
		t.Fatalf("only %d samples of announcement", len(heard))
	}
	// Each SIT tone fills about a fifth of the loop; all three must be there.
	for _, f := range []float64{913.8, 1370.6, 1776.7} {
		if !(audio.ToneDetector{Rate: 8000, Freq: f, MinRatio: 0.15}).Detect(heard) {
			t.Errorf("announcement lacks the %v Hz SIT tone", f)
		}
	}
}

// stepClock is a Clock whose timers fire only when the test says so.
type stepClock struct {
	mu      sync.Mutex
	waiting map[time.Duration][]chan time.Time
	asked   chan time.Duration
}

func newStepClock() *stepClock {
	return &stepClock{waiting: map[time.Duration][]chan time.Time{}, asked: make(chan time.Duration, 16)}
}

func (c *stepClock) Now() time.Time { return time.Now() }

func (c *stepClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.mu.Lock()
	c.waiting[d] = append(c.waiting[d], ch)
	c.mu.Unlock()
	select {
	case c.asked <- d:
	default:
	}
	return ch
}

// fire releases every timer set for d.
func (c *stepClock) fire(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range c.waiting[d] {
		ch <- time.Now()
	}
	delete(c.waiting, d)
}

func TestRingTimeRunsOnInjectedClock(t *testing.T) {
	c := startCenter(t, nil)
	clk := newStepClock()
	// An hour of ringing on the real clock; the step clock makes it instant.
	sim := startSim(t, WithClock(clk), WithRingTime(time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	type result struct {
		status int
		d      *diago.DialogClientSession
		err    error
	}
	res := make(chan result, 1)
	go func() {
		status, _, _, d, err := dial(ctx, c, sim.Addr(), "13800130000")
		res <- result{status, d, err}
	}()
	select {
	case got := <-clk.asked:
		if got != time.Hour {
			t.Fatalf("ring timer of %v, want 1h", got)
		}
	case <-ctx.Done():
		t.Fatal("the Sim never started its ring timer")
	}
	select {
	case r := <-res:
		t.Fatalf("answered before the ring time: %+v", r)
	case <-time.After(200 * time.Millisecond):
	}
	clk.fire(time.Hour)
	r := <-res
	if r.err != nil || r.status != 200 {
		t.Fatalf("after the ring time: %d, %v", r.status, r.err)
	}
	call := <-sim.Answered()
	if err := r.d.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	r.d.Close()
	<-call.Done()
}

func TestAnswerHoldHangsUp(t *testing.T) {
	c := startCenter(t, nil)
	sim := startSim(t, WithRingTime(0), WithAnswerHold(300*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	status, _, _, d, err := dial(ctx, c, sim.Addr(), "13912345678")
	if err != nil || status != 200 {
		t.Fatalf("dial: %d %v", status, err)
	}
	defer d.Close()
	select {
	case <-d.Context().Done(): // the customer's BYE
	case <-ctx.Done():
		t.Fatal("customer never hung up")
	}
	call := <-sim.Answered()
	<-call.Done()
	if dur := call.HeardSummary().Duration; dur < 250*time.Millisecond || dur > 2*time.Second {
		t.Errorf("talked %v, want about 300 ms", dur)
	}
}

func TestRunManyAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	c := startCenter(t, answerWithTone(t, 1000, nil, nil))
	sim := startSim(t, WithServer(c.addr))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rep, err := sim.Run(ctx, Plan{To: "4008001234", From: []string{"13800000001"}, Count: 30, Rate: 200, Hold: 500 * time.Millisecond, Concurrency: 30})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Answered != 30 {
		t.Fatalf("report %v", rep)
	}
	for _, r := range rep.Calls {
		if r.Heard.Freq != 1000 {
			t.Errorf("call %d heard %v", r.Number, r.Heard)
		}
	}
}

func BenchmarkSummarize(b *testing.B) {
	pcm := make([]int16, int(DefaultRecordLimit.Seconds())*sampleRate)
	audio.NewTone(1000, 0.25, sampleRate).Read(pcm)
	b.ReportAllocs()
	for b.Loop() {
		summarize(pcm, time.Minute)
	}
}

func TestOutboundWithoutG711IsRefused(t *testing.T) {
	c := startCenterCodecs(t, []media.Codec{media.CodecAudioOpus}, nil)
	sim := startSim(t, WithRingTime(0))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	status, _, _, _, err := dial(ctx, c, sim.Addr(), "13912345678")
	if err != nil || status != 488 {
		t.Fatalf("dial: %d %v, want 488", status, err)
	}
}

func TestCallSurvivesHoldReInvite(t *testing.T) {
	held := make(chan error, 1)
	peers := make(chan *peer, 1)
	c := startCenter(t, func(d *diago.DialogServerSession) {
		if err := d.Answer(); err != nil {
			held <- err
			return
		}
		p := converse(t, &d.DialogMedia, 1000)
		time.Sleep(200 * time.Millisecond)
		ctx, cancel := context.WithTimeout(d.Context(), 3*time.Second)
		err := d.Hold(ctx)
		if err == nil {
			err = d.Unhold(ctx)
		}
		cancel()
		held <- err
		<-d.Context().Done()
		_ = d.Close()
		p.end()
		peers <- p
	})
	sim := startSim(t, WithServer(c.addr))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	call, err := sim.Call(ctx, "1", "2", CallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-held; err != nil {
		t.Fatalf("hold/unhold re-INVITE: %v", err)
	}
	// Audio must keep flowing both ways after the re-INVITEs.
	before := len(call.Received())
	time.Sleep(400 * time.Millisecond)
	if got := len(call.Received()) - before; got < 8*160 {
		t.Errorf("sim received %d samples in 400 ms after unhold", got)
	}
	if err := call.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	if !call.Heard(1000) {
		t.Errorf("sim heard %v", call.HeardSummary())
	}
	p := <-peers
	if !audio.DetectTone(p.received(), 8000, DefaultVoiceFreq) {
		t.Error("center did not hear the customer")
	}
}
