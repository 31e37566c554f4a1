package center

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/agentphone/agentphone/audio"
	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/ivr"
	"github.com/agentphone/agentphone/callcenter/sipedge"
)

// Prompts gives the audio played to callers: named prompt clips (the IVR
// menus' and the center's own, see the Prompt constants) and hold music.
type Prompts interface {
	// Samples returns the clip called name as PCM at rate Hz (rate 0:
	// the clip's own), and the rate.
	Samples(name string, rate int) (pcm []int16, gotRate int, err error)
	// Music returns the hold music, looped, at rate Hz (0: its own).
	Music(rate int) (src audio.Source, gotRate int, err error)
}

var _ Prompts = (*ivr.Prompts)(nil)

// Participant names of the sources in a call's room.
const (
	sourceMusic  = "music"
	sourcePrompt = "prompt"
)

// player plays prompts into a call's room (ivr.Player). The music, when
// playing, is paused under a prompt so the caller hears the words.
type player struct {
	c    *Center
	call sipedge.QueueCall
}

func (p *player) Play(ctx context.Context, name string) error {
	if p.c.prompts == nil {
		return fmt.Errorf("play %q: %w", name, ivr.ErrNoPrompt)
	}
	pcm, rate, err := p.c.prompts.Samples(name, 0)
	if err != nil {
		return fmt.Errorf("play %q: %w", name, err)
	}
	if rate <= 0 || len(pcm) == 0 {
		return nil
	}
	stop, err := p.call.Play(ctx, sourcePrompt, &clip{pcm: pcm}, rate)
	if err != nil {
		return fmt.Errorf("play %q: %w", name, err)
	}
	defer stop()
	// The room reads the source in real time: the clip is over after its
	// length, plus a tick for the last frame to go out.
	t := time.NewTimer(time.Duration(len(pcm))*time.Second/time.Duration(rate) + 40*time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// clip plays samples once, then silence. Read by the room's tick only.
type clip struct {
	pcm []int16
	pos int
}

func (c *clip) Read(f []int16) {
	n := copy(f, c.pcm[c.pos:])
	c.pos += n
	clear(f[n:])
}

// playMusic starts the hold music; without prompts the caller waits in
// silence. Bridging an agent stops it.
func (c *Center) playMusic(ctx context.Context, call sipedge.QueueCall) {
	if c.prompts == nil {
		return
	}
	src, rate, err := c.prompts.Music(0)
	if err != nil {
		c.log.Warn("center: hold music", "error", err)
		return
	}
	if _, err := call.Play(ctx, sourceMusic, src, rate); err != nil {
		c.log.Debug("center: hold music", "call", call.ID(), "error", err)
	}
}

// announce tells a queued caller its position and expected wait
// (minutes, at least one) with the prompt sequences queue_position_N and
// expected_wait_N; numbers without a prompt are not announced.
func (c *Center) announce(ctx context.Context, call sipedge.QueueCall, position int, wait time.Duration) {
	if c.prompts == nil || position <= 0 {
		return
	}
	p := &player{c: c, call: call}
	mins := max(int((wait+time.Minute-1)/time.Minute), 1)
	for _, name := range []string{"queue_position_" + strconv.Itoa(position), "expected_wait_" + strconv.Itoa(mins)} {
		if err := p.Play(ctx, name); err != nil {
			c.log.Debug("center: announcement", "prompt", name, "error", err)
			return
		}
	}
}

// keys is the caller's DTMF as ivr.Keys.
type keys struct{ ch <-chan rune }

func (k *keys) Next(ctx context.Context, timeout time.Duration) (rune, error) {
	var tc <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		tc = t.C
	}
	select {
	case d := <-k.ch:
		return d, nil
	case <-tc:
		return 0, ivr.ErrTimeout
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// menus reads IVR menus from the store (always fresh: admin edits apply
// to the next call).
type menus struct{ st Store }

func (m menus) Menu(ctx context.Context, name string) (callcenter.IVRMenu, error) {
	return m.st.IVRMenuByName(ctx, name)
}
