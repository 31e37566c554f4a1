package pstnsim

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"

	"github.com/agentphone/agentphone/audio"
)

// Direction says who placed a call.
type Direction int

const (
	// Inbound calls are customers calling the center (the Sim is the caller).
	Inbound Direction = iota
	// Outbound calls are the center calling customers (the Sim answers).
	Outbound
)

func (d Direction) String() string {
	switch d {
	case Inbound:
		return "inbound"
	case Outbound:
		return "outbound"
	}
	return fmt.Sprintf("Direction(%d)", int(d))
}

// CallOptions are per-call settings for Sim.Call.
type CallOptions struct {
	// Hold is how long the customer talks before hanging up; 0 waits for
	// the center to hang up.
	Hold time.Duration
	// Voice is what the customer says; nil uses the Sim's voice.
	Voice audio.Source
}

// Summary describes the audio a call received.
type Summary struct {
	// Duration is the answered time (answer to hang-up, or to now).
	Duration time.Duration
	// Samples is how many 8 kHz samples were kept (bounded by the record limit).
	Samples int
	// LevelDBFS is the RMS level of what was received; -Inf for silence.
	LevelDBFS float64
	// Freq is the dominant frequency between 300 and 3400 Hz (50 Hz
	// steps), 0 when nothing was received.
	Freq float64
}

func (s Summary) String() string {
	return fmt.Sprintf("%s, %d samples, %.1f dBFS, ~%.0f Hz", s.Duration.Round(time.Millisecond), s.Samples, s.LevelDBFS, s.Freq)
}

// Call is one call through the simulated trunk, in either direction.
// Its methods are safe for concurrent use.
type Call struct {
	// Number is the Sim-wide sequence number of the call, from 1.
	Number    int
	Direction Direction
	From, To  string
	// CallID is the SIP Call-ID.
	CallID string
	// Outcome is the scripted outcome (outbound calls only).
	Outcome Outcome

	sim     *Sim
	log     *slog.Logger
	done    chan struct{}
	hangReq chan struct{}
	hangMu  sync.Once

	mu       sync.Mutex
	status   int
	answered bool
	answerAt time.Time
	endAt    time.Time
	rec      recorder
	summary  *Summary
	dtmf     *media.RTPDtmfWriter
	// digits are the RFC 4733 digits received, in order; dtmfTS is the
	// RTP timestamp of the last event kept.
	digits    []byte
	dtmfTS    uint32
	dtmfSeen  bool
	dtmfEnded bool // the last packet ended its event
}

// Digits returns the DTMF digits (RFC 4733) the call received from the
// center so far, in order: what an agent keyed into the customer's IVR.
func (c *Call) Digits() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.digits)
}

func (s *Sim) newCall(dir Direction, from, to string) *Call {
	n := int(s.seq.Add(1))
	c := &Call{
		Number: n, Direction: dir, From: from, To: to,
		sim:     s,
		done:    make(chan struct{}),
		hangReq: make(chan struct{}),
		rec:     recorder{limit: int(s.recordLimit.Seconds() * sampleRate)},
	}
	c.log = s.log.With("call", n, "dir", dir.String(), "from", from, "to", to)
	return c
}

// Answered reports whether the call was answered.
func (c *Call) Answered() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.answered
}

// Status is the last SIP status of the INVITE: provisional while ringing,
// then the final one (200 when answered).
func (c *Call) Status() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

func (c *Call) setStatus(code int) {
	c.mu.Lock()
	c.status = code
	c.mu.Unlock()
}

// Done is closed when the call has ended and its summary is final.
func (c *Call) Done() <-chan struct{} { return c.done }

// Hangup ends the call (BYE) and waits until it is over or ctx ends.
// Hanging up a call that already ended does nothing.
func (c *Call) Hangup(ctx context.Context) error {
	c.hangMu.Do(func() { close(c.hangReq) })
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("hang up call %d: %w", c.Number, ctx.Err())
	}
}

// Received returns a copy of the decoded audio heard from the center
// (8 kHz mono), at most the record limit's worth, oldest first.
func (c *Call) Received() []int16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rec.snapshot()
}

// Heard reports whether the received audio contains a tone at freq Hz.
func (c *Call) Heard(freq float64) bool {
	return audio.DetectTone(c.Received(), sampleRate, freq)
}

// HeardSummary reports the level and dominant frequency of what was
// received; after Done it is the final summary that was logged.
func (c *Call) HeardSummary() Summary {
	c.mu.Lock()
	if c.summary != nil {
		s := *c.summary
		c.mu.Unlock()
		return s
	}
	pcm := c.rec.snapshot()
	dur := c.talkTimeLocked(c.sim.clock.Now())
	c.mu.Unlock()
	return summarize(pcm, dur)
}

func (c *Call) talkTimeLocked(now time.Time) time.Duration {
	if !c.answered {
		return 0
	}
	if !c.endAt.IsZero() {
		now = c.endAt
	}
	return now.Sub(c.answerAt)
}

// SendDTMF sends digits (0-9 * # A-D) as RFC 4733 telephone events, one
// after another with a short gap, and returns when they are sent.
func (c *Call) SendDTMF(ctx context.Context, digits string) error {
	c.mu.Lock()
	w := c.dtmf
	c.mu.Unlock()
	if w == nil {
		return fmt.Errorf("send DTMF on call %d: %w", c.Number, ErrNotAnswered)
	}
	for i, d := range strings.ToUpper(digits) {
		if !strings.ContainsRune("0123456789*#ABCD", d) {
			return fmt.Errorf("send DTMF %q: bad digit %q", digits, d)
		}
		if i > 0 {
			// A gap of voice between events lets the receiver see two
			// key presses even for a repeated digit.
			select {
			case <-time.After(dtmfGap):
			case <-ctx.Done():
				return ctx.Err()
			case <-c.done:
				return fmt.Errorf("send DTMF on call %d: call ended", c.Number)
			}
		}
		if err := w.WriteDTMF(d); err != nil {
			return fmt.Errorf("send DTMF %q: %w", d, err)
		}
	}
	return nil
}

const dtmfGap = 60 * time.Millisecond

// answer marks the call answered and starts its media. A call whose media
// cannot start still runs (and is hung up normally), it just stays silent.
func (c *Call) answer(dm *diago.DialogMedia, voice audio.Source) *mediaLoop {
	now := c.sim.clock.Now()
	c.mu.Lock()
	c.answered, c.status, c.answerAt = true, 200, now
	c.mu.Unlock()
	c.log.Info("call answered")
	m, err := c.startMedia(dm, voice)
	if err != nil {
		c.log.Error("media setup failed", "error", err)
	}
	return m
}

// talk waits for an answered call to end while its media runs: farEnd
// fires when the far end hangs up; local, hold and Hangup say when we hang
// up (bye sends our BYE). It then stops the media, logs the summary of
// what was received and closes Done.
func (c *Call) talk(m *mediaLoop, hold time.Duration, farEnd, local <-chan struct{}, bye func(context.Context) error, closeMedia func() error) {
	defer close(c.done)

	var holdC <-chan time.Time
	if hold > 0 {
		holdC = c.sim.clock.After(hold)
	}
	who := "far end"
	select {
	case <-farEnd:
	case <-c.hangReq:
		who = "us"
	case <-local:
		who = "us"
	case <-holdC:
		who = "us (hold time)"
	}
	if who != "far end" {
		ctx, cancel := context.WithTimeout(context.Background(), hangupTimeout)
		if err := bye(ctx); err != nil {
			c.log.Warn("hang up failed", "error", err)
		}
		cancel()
	}
	if m != nil {
		m.stop(closeMedia)
	} else if err := closeMedia(); err != nil {
		c.log.Debug("close media", "error", err)
	}

	c.mu.Lock()
	c.endAt = c.sim.clock.Now()
	pcm := c.rec.snapshot()
	sum := summarize(pcm, c.talkTimeLocked(c.endAt))
	c.summary = &sum
	c.mu.Unlock()
	c.log.Info("call ended", "hung_up_by", who, "duration", sum.Duration.Round(time.Millisecond),
		"received_dbfs", round1(sum.LevelDBFS), "dominant_hz", sum.Freq, "received_samples", sum.Samples,
		"received_dtmf", c.Digits())
}

func round1(x float64) float64 {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return x
	}
	return math.Round(x*10) / 10
}

// summarize measures RMS level and scans 300-3400 Hz in 50 Hz steps with
// Goertzel for the strongest component: enough to tell a tone, a prompt
// and silence apart in a log line.
func summarize(pcm []int16, dur time.Duration) Summary {
	s := Summary{Duration: dur, Samples: len(pcm), LevelDBFS: math.Inf(-1)}
	if len(pcm) == 0 {
		return s
	}
	s.LevelDBFS = audio.DBFS(pcm)
	if math.IsInf(s.LevelDBFS, -1) {
		return s
	}
	// Scanning a minute of audio at 63 frequencies costs ~30M multiply-adds;
	// the last 10 s are as telling and six times cheaper.
	if max := 10 * sampleRate; len(pcm) > max {
		pcm = pcm[len(pcm)-max:]
	}
	best := 0.0
	for f := 300.0; f <= 3400; f += 50 {
		if p := audio.Goertzel(pcm, sampleRate, f); p > best {
			best, s.Freq = p, f
		}
	}
	return s
}

// recorder keeps the most recent limit samples in a ring.
type recorder struct {
	limit int
	buf   []int16
	next  int // write position once the ring is full
	full  bool
}

func (r *recorder) write(p []int16) {
	if r.limit <= 0 {
		return
	}
	if len(p) >= r.limit {
		r.buf = append(r.buf[:0], p[len(p)-r.limit:]...)
		r.next, r.full = 0, true
		return
	}
	if !r.full {
		room := r.limit - len(r.buf)
		if len(p) <= room {
			r.buf = append(r.buf, p...)
			if len(r.buf) == r.limit {
				r.full = true
			}
			return
		}
		r.buf = append(r.buf, p[:room]...)
		r.full = true
		p = p[room:]
	}
	for len(p) > 0 {
		n := copy(r.buf[r.next:], p)
		p = p[n:]
		r.next = (r.next + n) % r.limit
	}
}

func (r *recorder) snapshot() []int16 {
	if !r.full {
		return append([]int16(nil), r.buf...)
	}
	out := make([]int16, 0, len(r.buf))
	out = append(out, r.buf[r.next:]...)
	return append(out, r.buf[:r.next]...)
}
