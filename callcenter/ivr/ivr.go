// Package ivr runs voice menus: it plays a menu's prompt, reads the
// caller's DTMF keys and follows the menu's choices until the caller is
// routed (a group, an agent) or sent away (hang-up). It is pure logic over
// three small interfaces; the call-center orchestrator implements them on a
// call's media room (see RoomPlayer and Digits). The package also loads the
// prompt and music WAVs (Prompts) and turns them into room sources (Clip).
package ivr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/agentphone/agentphone/callcenter"
)

// Player plays a prompt to the caller. Play returns when the prompt has
// finished or when ctx ends (then with ctx's error). The runner ends ctx to
// cut a prompt short when the caller presses a key (barge-in).
type Player interface {
	Play(ctx context.Context, prompt string) error
}

// Keys delivers the caller's DTMF digits in order.
//
// Next returns the next digit, waiting at most timeout (timeout <= 0 waits
// until ctx ends). It returns ErrTimeout when the time is up and ctx's error
// when ctx ends. A digit is consumed only when Next returns it: when Next
// returns an error no digit was taken. Digits pressed before Next is called
// are kept (type-ahead).
//
// Barge-in follows from this contract: while a prompt plays, the runner
// waits in Next with a context it ends when the prompt finishes, so a key
// during the prompt returns at once and stops the prompt, and no key is
// lost in between.
type Keys interface {
	Next(ctx context.Context, timeout time.Duration) (rune, error)
}

// Menus looks menus up by name. A menu that does not exist is an error
// wrapping callcenter.ErrNotFound.
type Menus interface {
	Menu(ctx context.Context, name string) (callcenter.IVRMenu, error)
}

// Reason says why a run ended the way it did.
type Reason int

const (
	ReasonChoice Reason = iota // the caller chose Action
	ReasonFail                 // MaxTries timeouts or wrong keys: the menu's OnFail
	ReasonLoop                 // too many menu hops (a menu graph that loops)
	ReasonBroken               // the menu graph is broken: a missing sub-menu, an action without target
)

func (r Reason) String() string {
	switch r {
	case ReasonChoice:
		return "choice"
	case ReasonFail:
		return "fail"
	case ReasonLoop:
		return "loop"
	case ReasonBroken:
		return "broken"
	}
	return "unknown"
}

// Result is where the caller ended up.
type Result struct {
	// Action is the outcome: IVRGroup or IVRAgent with a Target, or
	// IVRHangup (the goodbye prompt has been played already). Never
	// IVRSubMenu or IVRRepeat.
	Action callcenter.IVRAction
	Reason Reason
	// Path lists the menus entered, in order; a menu replayed on the
	// caller's request (IVRRepeat) appears again.
	Path []string
	// Keys is every digit the caller pressed, valid or not.
	Keys string
	// Tries counts the failed attempts (timeouts and invalid keys) of the
	// whole run.
	Tries int
}

// Defaults for menus that leave a field zero, and the bounds that keep a
// misconfigured menu (MaxTries 1000, Timeout an hour) from holding a line.
const (
	DefaultTimeout  = 5 * time.Second
	DefaultMaxTries = 3
	DefaultMaxHops  = 12
	MaxTimeout      = 60 * time.Second
	MaxTriesLimit   = 10
)

// Standard prompt names the runner plays.
const (
	PromptInvalid = "invalid"
	PromptTimeout = "timeout"
	PromptGoodbye = "goodbye"
)

type config struct {
	log     *slog.Logger
	maxHops int
	invalid string
	timeout string
	goodbye string
}

// Option configures Run.
type Option func(*config)

// WithLogger sets the logger for broken menus and failed prompts.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithMaxHops bounds how many menus (sub-menus, repeats) one run may enter
// before it is cut as a loop. n < 1 is ignored.
func WithMaxHops(n int) Option {
	return func(c *config) {
		if n >= 1 {
			c.maxHops = n
		}
	}
}

// WithPrompts names the prompts played on an invalid key, on a timeout and
// before hanging up, e.g. "zh/invalid" for a Mandarin line. An empty name
// plays nothing.
func WithPrompts(invalid, timeout, goodbye string) Option {
	return func(c *config) { c.invalid, c.timeout, c.goodbye = invalid, timeout, goodbye }
}

// Run takes a caller through the menus from start until the caller is
// routed or sent away. It returns an error only when ctx ends (the caller
// hung up: the Result then says how far the caller got) or when start
// itself does not exist (ErrNoMenu, with a hang-up Result).
func Run(ctx context.Context, start string, m Menus, p Player, k Keys, opts ...Option) (Result, error) {
	r := &runner{
		cfg: config{log: slog.New(slog.DiscardHandler), maxHops: DefaultMaxHops,
			invalid: PromptInvalid, timeout: PromptTimeout, goodbye: PromptGoodbye},
		menus: m, player: p, keys: k,
	}
	for _, o := range opts {
		o(&r.cfg)
	}
	return r.run(ctx, start)
}

type runner struct {
	cfg    config
	menus  Menus
	player Player
	keys   Keys
	res    Result
}

var hangup = callcenter.IVRAction{Kind: callcenter.IVRHangup}

func (r *runner) run(ctx context.Context, start string) (Result, error) {
	menu, err := r.menus.Menu(ctx, start)
	if err != nil {
		if ctx.Err() != nil {
			return r.res, fmt.Errorf("ivr menu %q: %w", start, ctx.Err())
		}
		r.res.Action, r.res.Reason = hangup, ReasonBroken
		return r.res, fmt.Errorf("ivr menu %q: %w: %w", start, ErrNoMenu, err)
	}
	for hops := 1; ; hops++ {
		if hops > r.cfg.maxHops {
			// A menu graph that loops (A → B → A, or a caller pressing
			// "repeat" forever). The current menu's OnFail is the admin's
			// idea of a safe place if it routes somewhere; otherwise hang up.
			r.cfg.log.Warn("ivr loop cut", "menu", menu.Name, "hops", hops-1, "path", r.res.Path)
			act := menu.OnFail
			if !terminal(act) {
				act = hangup
			}
			return r.finish(ctx, act, ReasonLoop)
		}
		r.res.Path = append(r.res.Path, menu.Name)
		act, reason, err := r.menu(ctx, menu)
		if err != nil {
			return r.res, err
		}
		switch act.Kind {
		case callcenter.IVRRepeat:
			continue
		case callcenter.IVRSubMenu:
			next, err := r.menus.Menu(ctx, act.Target)
			if err == nil {
				menu = next
				continue
			}
			if ctx.Err() != nil {
				return r.res, fmt.Errorf("ivr menu %q: %w", act.Target, ctx.Err())
			}
			r.cfg.log.Error("ivr sub-menu missing", "menu", menu.Name, "target", act.Target, "err", err)
			// A choice leading nowhere falls back on the menu's OnFail
			// when that routes somewhere; a broken OnFail hangs up.
			if reason == ReasonChoice && terminal(menu.OnFail) {
				return r.finish(ctx, menu.OnFail, ReasonBroken)
			}
			return r.finish(ctx, hangup, ReasonBroken)
		case callcenter.IVRGroup, callcenter.IVRAgent, callcenter.IVRHangup:
			if !terminal(act) {
				if reason == ReasonFail && act == (callcenter.IVRAction{}) {
					return r.finish(ctx, hangup, ReasonFail) // no OnFail configured
				}
				r.cfg.log.Error("ivr action without target", "menu", menu.Name, "action", act.Kind)
				return r.finish(ctx, hangup, ReasonBroken)
			}
			return r.finish(ctx, act, reason)
		default:
			r.cfg.log.Error("ivr unknown action", "menu", menu.Name, "action", int(act.Kind))
			return r.finish(ctx, hangup, ReasonBroken)
		}
	}
}

// terminal reports whether a ends the run in a usable way: a hang-up, or a
// group or agent that is named. (The zero IVRAction is a group without a
// name: a menu with no OnFail configured.)
func terminal(a callcenter.IVRAction) bool {
	switch a.Kind {
	case callcenter.IVRHangup:
		return true
	case callcenter.IVRGroup, callcenter.IVRAgent:
		return a.Target != ""
	}
	return false
}

// finish records the outcome; a hang-up says goodbye first.
func (r *runner) finish(ctx context.Context, act callcenter.IVRAction, reason Reason) (Result, error) {
	if act.Kind == callcenter.IVRHangup {
		act.Target = ""
	}
	r.res.Action, r.res.Reason = act, reason
	if err := ctx.Err(); err != nil {
		// The caller chose, then hung up: routing the call would ring an
		// agent for nobody.
		return r.res, fmt.Errorf("ivr: %w", err)
	}
	if act.Kind == callcenter.IVRHangup && r.cfg.goodbye != "" {
		if err := r.play(ctx, r.cfg.goodbye); err != nil {
			return r.res, err
		}
	}
	return r.res, nil
}

// menu runs one menu until a choice is made or its tries are used up.
func (r *runner) menu(ctx context.Context, m callcenter.IVRMenu) (callcenter.IVRAction, Reason, error) {
	timeout := m.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	timeout = min(timeout, MaxTimeout)
	maxTries := m.MaxTries
	if maxTries <= 0 {
		maxTries = DefaultMaxTries
	}
	maxTries = min(maxTries, MaxTriesLimit)

	prompts := []string{m.Prompt}
	for fails := 0; ; {
		key, err := r.ask(ctx, prompts, timeout)
		var failPrompt string
		switch {
		case errors.Is(err, ErrTimeout):
			failPrompt = r.cfg.timeout
		case err != nil:
			return callcenter.IVRAction{}, 0, err
		default:
			r.res.Keys += string(key)
			if act, ok := m.Choices[key]; ok {
				return act, ReasonChoice, nil
			}
			failPrompt = r.cfg.invalid
		}
		fails++
		r.res.Tries++
		if fails >= maxTries {
			// Tell the caller why before moving on; no barge-in here,
			// the outcome is decided.
			if failPrompt != "" {
				if err := r.play(ctx, failPrompt); err != nil {
					return callcenter.IVRAction{}, 0, err
				}
			}
			return m.OnFail, ReasonFail, nil
		}
		prompts = prompts[:0]
		if failPrompt != "" {
			prompts = append(prompts, failPrompt)
		}
		prompts = append(prompts, m.Prompt)
	}
}

// play plays one prompt to its end. A prompt that fails to play (a missing
// file) is logged and skipped: the caller hears silence, but the call goes
// on to a clear outcome instead of being dropped.
func (r *runner) play(ctx context.Context, prompt string) error {
	if err := r.player.Play(ctx, prompt); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("ivr play %q: %w", prompt, ctx.Err())
		}
		r.cfg.log.Error("ivr prompt failed", "prompt", prompt, "err", err)
	}
	return nil
}

// ask plays prompts one after the other and returns the first key pressed
// during them (barge-in: the prompt stops at once) or within timeout after
// the last one ended.
func (r *runner) ask(ctx context.Context, prompts []string, timeout time.Duration) (rune, error) {
	if len(prompts) > 0 {
		playCtx, stopPlay := context.WithCancel(ctx)
		keyCtx, stopKeys := context.WithCancel(ctx)
		played := make(chan error, 1)
		go func() {
			defer stopKeys() // the prompts are over: stop waiting for a barge-in key
			for _, name := range prompts {
				if name == "" {
					continue
				}
				if err := r.player.Play(playCtx, name); err != nil {
					if playCtx.Err() == nil {
						r.cfg.log.Error("ivr prompt failed", "prompt", name, "err", err)
						continue
					}
					played <- err
					return
				}
			}
			played <- nil
		}()
		key, err := r.keys.Next(keyCtx, 0)
		stopPlay()
		<-played
		stopKeys()
		if err == nil {
			return key, nil
		}
		if ctx.Err() != nil {
			return 0, fmt.Errorf("ivr: %w", ctx.Err())
		}
		// keyCtx ended because the prompts finished: wait for a key.
	}
	key, err := r.keys.Next(ctx, timeout)
	if err != nil {
		if errors.Is(err, ErrTimeout) {
			return 0, ErrTimeout
		}
		if ctx.Err() != nil {
			return 0, fmt.Errorf("ivr: %w", ctx.Err())
		}
		// A Keys that fails for its own reasons (the DTMF source went
		// away): nothing more can be read, so end like a hang-up would.
		return 0, fmt.Errorf("ivr keys: %w", err)
	}
	return key, nil
}
