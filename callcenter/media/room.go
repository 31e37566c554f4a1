package media

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agentphone/agentphone/audio"
)

// Room rates. A room mixes at the lowest rate that loses nothing: G.711
// legs are 8 kHz, so a narrowband-only call never pays for a 48 kHz round
// trip, nor does a call with a single Opus leg (nobody wideband to hear
// it); as soon as a second Opus leg joins, the room mixes at 48 kHz.
const (
	narrowRate = 8000
	wideRate   = audio.DeviceRate
)

// maxFrame is one frame at the highest rate a room mixes at; per
// participant buffers are allocated at this size once, so a rate switch
// never allocates on the tick path.
const maxFrame = wideRate * int(audio.FrameDuration/time.Millisecond) / 1000

// maxCatchUp bounds how many ticks the loop runs back to back after a
// stall (GC pause, overloaded host). Beyond it the backlog is dropped and
// the schedule re-anchored: sending 200 ms of audio in one burst helps
// nobody, the far ends' jitter buffers would discard it.
const maxCatchUp = 10

// Option configures a Room.
type Option func(*Room)

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option { return func(r *Room) { r.log = l } }

// WithTick sets the tick period (default audio.FrameDuration). Each tick
// always moves one FrameDuration of audio, so any other period plays
// audio faster or slower than real time; only tests want that.
func WithTick(d time.Duration) Option {
	return func(r *Room) {
		if d > 0 {
			r.period = d
		}
	}
}

// WithClock sets the time source of the tick loop (tests).
func WithClock(c Clock) Option { return func(r *Room) { r.clock = c } }

// DefaultOpusOptions are the encoder settings of a room's Opus legs:
// audio.DefaultOpusOptions at complexity 5. Opus encoding dominates a
// room's tick; complexity 5 costs about half of 10's CPU (a two-party
// Opus↔PCMU tick: 300 µs → 155 µs) and libopus documents it as
// near-identical for VoIP speech (figures in audio's TestOpusComplexity
// and BenchmarkOpusEncodeComplexity).
func DefaultOpusOptions() audio.OpusOptions {
	o := audio.DefaultOpusOptions()
	o.Complexity = 5
	return o
}

// WithOpusOptions sets the encoder options of the room's Opus legs
// (default DefaultOpusOptions). Invalid options make Join fail.
func WithOpusOptions(o audio.OpusOptions) Option { return func(r *Room) { r.opus = o } }

// Room is one call's media: participants, each with a hear set and a
// speaks flag, mixed every tick. See DESIGN.md, "Server media: one idea,
// the room". All methods are safe for concurrent use.
type Room struct {
	id     string
	log    *slog.Logger
	period time.Duration
	clock  Clock
	opus   audio.OpusOptions // encoder options of Opus legs

	onDTMF atomic.Pointer[func(*Participant, rune)]
	// dispatching is set while the loop runs OnDTMF callbacks.
	dispatching atomic.Bool

	// mu guards membership, every participant's hear/speak configuration
	// and the whole tick: a tick sees one consistent configuration, and
	// configuration changes (rare, human-driven) wait at most one tick.
	mu     sync.Mutex
	closed bool
	parts  []*Participant
	rate   int
	frame  int     // samples per frame at rate
	total  []int32 // sum of every active speaker this tick
	scrat  []int32 // one listener's sum when it hears a subset
	ticks  uint64
	// speakers counts this tick's speaking participants.
	speakers int
	// gone keeps the final counters of RTP legs that left, for logClosed.
	gone []legStats
	// events is the tick goroutine's scratch list of digits to report.
	events []dtmfReport
	stopCh chan struct{}

	loopDone chan struct{}
	readers  sync.WaitGroup // reader goroutines that Close can interrupt
}

// NewRoom creates a room and starts its tick loop; Close stops it.
func NewRoom(id string, opts ...Option) *Room {
	r := &Room{
		id:       id,
		log:      slog.New(slog.DiscardHandler),
		period:   audio.FrameDuration,
		clock:    realClock{},
		opus:     DefaultOpusOptions(),
		rate:     narrowRate,
		frame:    audio.SamplesPerFrame(narrowRate),
		total:    make([]int32, maxFrame),
		scrat:    make([]int32, maxFrame),
		stopCh:   make(chan struct{}),
		loopDone: make(chan struct{}),
	}
	for _, o := range opts {
		o(r)
	}
	r.log = r.log.With("room", id)
	go r.loop()
	return r
}

// ID returns the room's id.
func (r *Room) ID() string { return r.id }

// Rate returns the rate the room currently mixes at.
func (r *Room) Rate() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rate
}

// OnDTMF sets the callback for RFC 4733 digits received on any leg. It is
// called from the room's tick goroutine after the tick, without locks
// held, so it may call any method of the room (Leave to transfer, SetHears,
// even Close), but it must return quickly: the next tick waits for it.
func (r *Room) OnDTMF(f func(p *Participant, digit rune)) {
	if f == nil {
		r.onDTMF.Store(nil)
		return
	}
	r.onDTMF.Store(&f)
}

// Participants returns the current participants in join order.
func (r *Room) Participants() []*Participant {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.parts)
}

// Participant returns the participant called name, or nil.
func (r *Room) Participant(name string) *Participant {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.parts {
		if p.name == name {
			return p
		}
	}
	return nil
}

// Join adds a participant. Its lifetime is bounded by ctx as well: when
// ctx ends the participant leaves, so a call's context can own its legs.
func (r *Room) Join(ctx context.Context, cfg ParticipantConfig) (*Participant, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("join %s to room %s: %w", cfg.Name, r.id, err)
	}
	p, err := newParticipant(r, cfg)
	if err != nil {
		return nil, fmt.Errorf("join %s to room %s: %w", cfg.Name, r.id, err)
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, fmt.Errorf("join %s to room %s: %w", cfg.Name, r.id, ErrClosed)
	}
	for _, q := range r.parts {
		if q.name == cfg.Name {
			r.mu.Unlock()
			return nil, fmt.Errorf("join %s to room %s: %w", cfg.Name, r.id, ErrDuplicateName)
		}
	}
	r.parts = append(r.parts, p)
	if err := r.reconfigure(); err != nil {
		r.parts = r.parts[:len(r.parts)-1]
		_ = r.reconfigure() // the previous configuration worked before
		r.mu.Unlock()
		return nil, fmt.Errorf("join %s to room %s: %w", cfg.Name, r.id, err)
	}
	if p.conn != nil {
		p.startReader()
	}
	// Registered under the lock, and before the log reads r.rate: if ctx
	// ends now, the Leave it runs (in its own goroutine) waits for the
	// lock, finds p in the room and its stop func set.
	p.stopCtx = context.AfterFunc(ctx, p.Leave)
	rate := r.rate
	r.mu.Unlock()
	r.log.Debug("joined", "participant", p.name, "rate", rate, "speaks", cfg.Speaks, "hears", cfg.Hears)
	return p, nil
}

// Close stops the tick loop, removes every participant and waits for the
// goroutines it can interrupt (see Participant.Leave). It does not close
// the participants' RTPConns: the SIP dialogs own them.
func (r *Room) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	parts := r.parts
	r.parts = nil
	close(r.stopCh)
	r.mu.Unlock()
	if !r.dispatching.Load() {
		// Called from an OnDTMF callback, the loop is our caller: it
		// ends as soon as the callback returns.
		<-r.loopDone
	}
	for _, p := range parts {
		p.stopCtx()
		p.detach()
	}
	r.readers.Wait()
	r.mu.Lock()
	legs := r.gone
	r.gone = nil
	r.mu.Unlock()
	for _, p := range parts {
		if p.conn != nil {
			legs = append(legs, legStats{p.name, p.Stats()})
		}
	}
	r.logClosed(legs)
	return nil
}

type legStats struct {
	name string
	st   Stats
}

// logClosed writes one line per room with the counters of every RTP leg
// it had, the call's media quality summary (what Asterisk prints from RTCP
// at hang-up): operators grep it, and callbench adds it up for the loss
// figures. A leg that joined twice appears twice.
func (r *Room) logClosed(legs []legStats) {
	if !r.log.Enabled(context.Background(), slog.LevelInfo) {
		return
	}
	attrs := make([]any, 0, 1+len(legs))
	attrs = append(attrs, slog.Uint64("ticks", r.ticks))
	for _, l := range legs {
		s := l.st
		attrs = append(attrs, slog.Group(l.name,
			slog.Uint64("in", s.PacketsIn), slog.Uint64("out", s.PacketsOut),
			slog.Uint64("lost", s.Lost), slog.Uint64("late", s.Late),
			slog.Uint64("concealed", s.Concealed), slog.Uint64("wrongsrc", s.DroppedWrongSource)))
	}
	r.log.Info("room closed", attrs...)
}

// remove takes p out of the room; it reports whether p was in it and
// returns the func that unregisters p's context. That func is read under
// the lock that Join wrote it under: a Leave run by a context that ended
// during Join must not look at it before Join is done.
func (r *Room) remove(p *Participant) (stopCtx func() bool, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := slices.Index(r.parts, p)
	if i < 0 {
		return nil, false
	}
	r.parts = slices.Delete(r.parts, i, i+1)
	if p.conn != nil {
		// Its counters go into the room's closing line (logClosed): a
		// leg that left (transfer, hang-up under call control) counts too.
		r.gone = append(r.gone, legStats{p.name, p.Stats()})
	}
	if err := r.reconfigure(); err != nil {
		// Removing a participant can only lower the rate, and resamplers
		// between rates that worked before cannot fail now.
		r.log.Error("reconfigure after leave", "participant", p.name, "err", err)
	}
	return p.stopCtx, true
}

// reconfigure recomputes the room rate, each participant's resamplers and
// resolved hear set after a membership change. Called with r.mu held.
// Allocation happens here, never on the tick path.
func (r *Room) reconfigure() error {
	rate := narrowRate
	wide := 0
	for _, p := range r.parts {
		// Only RTP legs decide the rate: a 48 kHz music source or
		// recorder in a G.711 call is resampled once instead. And it
		// takes two wideband legs: a single one has no wideband voice to
		// hear and none to be heard by, so its Opus runs at 8 kHz
		// (opusnb.go) and the room never mixes at 48 kHz for nothing.
		if p.conn != nil && (p.opus || p.codec.SampleRate() > narrowRate) {
			wide++
		}
	}
	if wide >= 2 {
		rate = wideRate
	}
	changed := rate != r.rate
	r.rate = rate
	r.frame = audio.SamplesPerFrame(rate)
	for _, p := range r.parts {
		if changed || p.roomRate != rate {
			if err := p.setRoomRate(rate); err != nil {
				return err
			}
		}
		p.resolveHears(r.parts)
	}
	return nil
}

// loop runs tick on a monotonic schedule: tick n is due at start+n·period,
// so a late wake-up is caught up without drift instead of pushing every
// later tick back.
func (r *Room) loop() {
	defer close(r.loopDone)
	next := r.clock.Now().Add(r.period)
	timer := r.clock.NewTimer(r.period)
	defer timer.Stop()
	for {
		select {
		case <-r.stopCh:
			return
		case <-timer.C():
		}
		now := r.clock.Now()
		for n := 0; !now.Before(next); n++ {
			if n == maxCatchUp {
				behind := now.Sub(next)/r.period + 1
				r.log.Warn("tick loop behind schedule, dropping backlog", "ticks", int64(behind))
				next = next.Add(behind * r.period)
				break
			}
			r.tick()
			next = next.Add(r.period)
		}
		timer.Reset(next.Sub(r.clock.Now()))
	}
}

// tick moves one frame: pull every speaker's audio into the room rate,
// then build and send each listener's mix minus its own voice.
func (r *Room) tick() {
	r.mu.Lock()
	r.mixTick()
	events := r.collectDigits()
	r.mu.Unlock()
	if len(events) == 0 {
		return
	}
	if f := r.onDTMF.Load(); f != nil {
		r.dispatching.Store(true)
		defer r.dispatching.Store(false)
		for _, e := range events {
			r.log.Debug("DTMF", "participant", e.p.name, "digit", string(e.digit))
			(*f)(e.p, e.digit)
		}
	}
	clear(events) // do not pin participants that leave
}

type dtmfReport struct {
	p     *Participant
	digit rune
}

// collectDigits drains the digits the readers decoded since the last
// tick. Called with r.mu held.
func (r *Room) collectDigits() []dtmfReport {
	r.events = r.events[:0]
	for _, p := range r.parts {
		if p.digits == nil {
			continue
		}
	drain:
		for {
			select {
			case d := <-p.digits:
				r.events = append(r.events, dtmfReport{p, d})
			default:
				break drain
			}
		}
	}
	return r.events
}

// mixTick is the audio part of a tick. Called with r.mu held.
func (r *Room) mixTick() {
	r.ticks++
	frame := r.frame
	total := r.total[:frame]
	clear(total)
	r.speakers = 0
	for _, p := range r.parts {
		p.active = false
		switch {
		case p.speaking():
			r.speakers++
			p.active = p.pull(frame)
			if p.active {
				accumulate(total, p.in[:frame])
			}
		case p.conn != nil:
			// A muted leg still drains its jitter buffer, or it would
			// replay stale audio when unmuted.
			p.discard()
		}
	}
	for _, p := range r.parts {
		if !p.listens() {
			continue
		}
		p.emit(p.mixFor(r, frame))
	}
}

// mixFor fills p.mix with what p hears this tick. It reports false when p
// hears no speaking participant at all (then nothing is sent: a gap).
func (p *Participant) mixFor(r *Room, frame int) bool {
	mix := p.mix[:frame]
	if p.hears.all {
		others := r.speakers
		if p.speaking() {
			others--
		}
		if others == 0 {
			return false
		}
		if p.active {
			saturateMinus(mix, r.total[:frame], p.in[:frame])
		} else {
			saturate(mix, r.total[:frame])
		}
		return true
	}
	heard := 0
	acc := r.scrat[:frame]
	clear(acc)
	for _, q := range p.hearFrom {
		if !q.speaking() {
			continue
		}
		heard++
		if q.active {
			accumulate(acc, q.in[:frame])
		}
	}
	if heard == 0 {
		return false
	}
	saturate(mix, acc)
	return true
}
