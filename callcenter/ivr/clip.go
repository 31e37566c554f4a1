package ivr

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/agentphone/agentphone/audio"
)

// Clip is an audio.Source that plays samples once, then silence, and
// says when it is done. It is what a prompt is in a media room: join it
// as a Source participant at Rate(), wait for Done, leave.
//
// Read is called by the room's tick (one goroutine); Stop and Done may be
// called from any goroutine.
type Clip struct {
	samples []int16
	rate    int
	pos     int // Read only
	stopped atomic.Bool
	done    chan struct{}
	once    sync.Once
}

var _ audio.Source = (*Clip)(nil)

// NewClip returns a clip of samples at rate Hz. samples are only read, so
// clips of one cached prompt may share them. An empty clip is done after
// its first Read.
func NewClip(samples []int16, rate int) *Clip {
	return &Clip{samples: samples, rate: rate, done: make(chan struct{})}
}

// Rate is the clip's sample rate: ParticipantConfig.Rate.
func (c *Clip) Rate() int { return c.rate }

// Duration is how long the clip plays.
func (c *Clip) Duration() time.Duration {
	if c.rate <= 0 {
		return 0
	}
	return time.Duration(len(c.samples)) * time.Second / time.Duration(c.rate)
}

// Done is closed once the last sample has been read, or on Stop.
func (c *Clip) Done() <-chan struct{} { return c.done }

// Stop silences the clip from its next Read on and closes Done.
func (c *Clip) Stop() {
	c.stopped.Store(true)
	c.finish()
}

func (c *Clip) finish() { c.once.Do(func() { close(c.done) }) }

// Read implements audio.Source: the next samples, silence once played out.
func (c *Clip) Read(f []int16) {
	if c.stopped.Load() {
		clear(f)
		return
	}
	n := copy(f, c.samples[c.pos:])
	c.pos += n
	clear(f[n:])
	if c.pos >= len(c.samples) {
		c.finish()
	}
}
