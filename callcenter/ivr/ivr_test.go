package ivr

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// menuMap is a Menus over a map.
type menuMap map[string]callcenter.IVRMenu

func (m menuMap) Menu(_ context.Context, name string) (callcenter.IVRMenu, error) {
	menu, ok := m[name]
	if !ok {
		return callcenter.IVRMenu{}, fmt.Errorf("menu %q: %w", name, callcenter.ErrNotFound)
	}
	menu.Name = name
	return menu, nil
}

// caller is a fake Player plus the caller's fingers. script[i] says what
// the caller does during the i-th prompt played: "" nothing; "12" presses
// 1 and 2 while it plays (the prompt then must be cut: Play blocks until
// the runner ends its context, as a long prompt would); ">1" presses 1
// just after the prompt ended. Prompts named "broken" fail to play.
type caller struct {
	t      *testing.T
	keys   *Digits
	script []string

	mu     sync.Mutex
	played []string
	wg     sync.WaitGroup
}

func (c *caller) Play(ctx context.Context, prompt string) error {
	c.mu.Lock()
	i := len(c.played)
	c.played = append(c.played, prompt)
	c.mu.Unlock()
	var act string
	if i < len(c.script) {
		act = c.script[i]
	}
	var failed error
	if prompt == "broken" {
		failed = ErrNoPrompt
	}
	switch {
	case act == "":
		return failed
	case strings.HasPrefix(act, ">"):
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			time.Sleep(5 * time.Millisecond)
			for _, r := range act[1:] {
				c.keys.Push(r)
			}
		}()
		return failed
	default:
		for _, r := range act {
			c.keys.Push(r)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Second):
			c.t.Errorf("prompt %d %q was not cut short by the key", i, prompt)
			return nil
		}
	}
}

func (c *caller) prompts() []string {
	c.wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.played)
}

func group(name string) callcenter.IVRAction {
	return callcenter.IVRAction{Kind: callcenter.IVRGroup, Target: name}
}

func sub(name string) callcenter.IVRAction {
	return callcenter.IVRAction{Kind: callcenter.IVRSubMenu, Target: name}
}

var (
	repeat = callcenter.IVRAction{Kind: callcenter.IVRRepeat}
	bye    = callcenter.IVRAction{Kind: callcenter.IVRHangup}
)

// hotline is the demo menu tree: 1 sales, 2 support (a sub-menu), 9 repeat.
func hotline(timeout time.Duration) menuMap {
	return menuMap{
		"main": {Prompt: "welcome_main", Timeout: timeout, MaxTries: 3,
			Choices: map[rune]callcenter.IVRAction{'1': group("sales"), '2': sub("support"), '9': repeat, '0': bye, '3': sub("nowhere"), '4': group("")},
			OnFail:  group("sales")},
		"support": {Prompt: "support_menu", Timeout: timeout, MaxTries: 2,
			Choices: map[rune]callcenter.IVRAction{'1': group("tech"), '2': {Kind: callcenter.IVRAgent, Target: "1001"}, '*': sub("main")}},
		"noFail": {Prompt: "welcome_main", Timeout: timeout, MaxTries: 3,
			Choices: map[rune]callcenter.IVRAction{'1': group("sales"), '3': sub("nowhere")}},
		"a":     {Prompt: "a", Timeout: timeout, MaxTries: 1, Choices: map[rune]callcenter.IVRAction{'1': sub("b")}, OnFail: sub("b")},
		"b":     {Prompt: "b", Timeout: timeout, MaxTries: 1, Choices: map[rune]callcenter.IVRAction{'1': sub("a")}, OnFail: sub("a")},
		"loopy": {Prompt: "loopy", Timeout: timeout, Choices: map[rune]callcenter.IVRAction{'9': repeat}, OnFail: group("fallback")},
		"brokenPrompt": {Prompt: "broken", Timeout: timeout,
			Choices: map[rune]callcenter.IVRAction{'1': group("sales")}},
		"failHangup": {Prompt: "p", Timeout: timeout, MaxTries: 2, OnFail: bye,
			Choices: map[rune]callcenter.IVRAction{'1': group("sales")}},
		"failToMissing": {Prompt: "p", Timeout: timeout, MaxTries: 1, OnFail: sub("nowhere")},
		"defaults":      {Prompt: "p", Choices: map[rune]callcenter.IVRAction{'1': group("sales")}},
	}
}

func TestRun(t *testing.T) {
	const quick = 20 * time.Millisecond    // timeouts the caller lets expire
	const patient = 300 * time.Millisecond // room for a ">" key to arrive
	tests := []struct {
		name    string
		start   string
		timeout time.Duration
		script  []string
		opts    []Option
		want    Result
		played  []string // nil: not checked (races by design)
		wantErr error
	}{
		{name: "barge-in picks sales", start: "main", timeout: quick,
			script: []string{"1"},
			want:   Result{Action: group("sales"), Reason: ReasonChoice, Path: []string{"main"}, Keys: "1"},
			played: []string{"welcome_main"}},
		{name: "key after the prompt", start: "main", timeout: patient,
			script: []string{">1"},
			want:   Result{Action: group("sales"), Path: []string{"main"}, Keys: "1"},
			played: []string{"welcome_main"}},
		{name: "invalid key, then valid", start: "main", timeout: quick,
			script: []string{"7", "", "1"},
			want:   Result{Action: group("sales"), Path: []string{"main"}, Keys: "71", Tries: 1},
			played: []string{"welcome_main", "invalid", "welcome_main"}},
		{name: "key during the invalid prompt", start: "main", timeout: quick,
			script: []string{"7", "1"},
			want:   Result{Action: group("sales"), Path: []string{"main"}, Keys: "71", Tries: 1},
			played: []string{"welcome_main", "invalid"}},
		{name: "timeouts take OnFail", start: "main", timeout: quick,
			want:   Result{Action: group("sales"), Reason: ReasonFail, Path: []string{"main"}, Tries: 3},
			played: []string{"welcome_main", "timeout", "welcome_main", "timeout", "welcome_main", "timeout"}},
		{name: "DTMF garbage takes OnFail", start: "main", timeout: quick,
			script: []string{"A", "", "*", "", "#"},
			want:   Result{Action: group("sales"), Reason: ReasonFail, Path: []string{"main"}, Keys: "A*#", Tries: 3},
			played: []string{"welcome_main", "invalid", "welcome_main", "invalid", "welcome_main", "invalid"}},
		{name: "no OnFail hangs up with goodbye", start: "noFail", timeout: quick,
			script: []string{"5", "", "5", "", "5"},
			want:   Result{Action: bye, Reason: ReasonFail, Path: []string{"noFail"}, Keys: "555", Tries: 3},
			played: []string{"welcome_main", "invalid", "welcome_main", "invalid", "welcome_main", "invalid", "goodbye"}},
		{name: "OnFail hang-up", start: "failHangup", timeout: quick,
			want:   Result{Action: bye, Reason: ReasonFail, Path: []string{"failHangup"}, Tries: 2},
			played: []string{"p", "timeout", "p", "timeout", "goodbye"}},
		{name: "sub-menu to an agent", start: "main", timeout: quick,
			script: []string{"2", "2"},
			want:   Result{Action: callcenter.IVRAction{Kind: callcenter.IVRAgent, Target: "1001"}, Path: []string{"main", "support"}, Keys: "22"},
			played: []string{"welcome_main", "support_menu"}},
		{name: "sub-menu and back", start: "main", timeout: quick,
			script: []string{"2", "*", "1"},
			want:   Result{Action: group("sales"), Path: []string{"main", "support", "main"}, Keys: "2*1"},
			played: []string{"welcome_main", "support_menu", "welcome_main"}},
		{name: "sub-menu without OnFail hangs up", start: "main", timeout: quick,
			script: []string{"2"},
			want:   Result{Action: bye, Reason: ReasonFail, Path: []string{"main", "support"}, Keys: "2", Tries: 2},
			played: []string{"welcome_main", "support_menu", "timeout", "support_menu", "timeout", "goodbye"}},
		{name: "repeat", start: "main", timeout: quick,
			script: []string{"9", "1"},
			want:   Result{Action: group("sales"), Path: []string{"main", "main"}, Keys: "91"},
			played: []string{"welcome_main", "welcome_main"}},
		{name: "hang-up choice", start: "main", timeout: quick,
			script: []string{"0"},
			want:   Result{Action: bye, Path: []string{"main"}, Keys: "0"},
			played: []string{"welcome_main", "goodbye"}},
		{name: "choice to a missing menu takes OnFail", start: "main", timeout: quick,
			script: []string{"3"},
			want:   Result{Action: group("sales"), Reason: ReasonBroken, Path: []string{"main"}, Keys: "3"},
			played: []string{"welcome_main"}},
		{name: "choice to a missing menu, no OnFail", start: "noFail", timeout: quick,
			script: []string{"3"},
			want:   Result{Action: bye, Reason: ReasonBroken, Path: []string{"noFail"}, Keys: "3"},
			played: []string{"welcome_main", "goodbye"}},
		{name: "OnFail to a missing menu", start: "failToMissing", timeout: quick,
			want:   Result{Action: bye, Reason: ReasonBroken, Path: []string{"failToMissing"}, Tries: 1},
			played: []string{"p", "timeout", "goodbye"}},
		{name: "group without a name", start: "main", timeout: quick,
			script: []string{"4"},
			want:   Result{Action: bye, Reason: ReasonBroken, Path: []string{"main"}, Keys: "4"},
			played: []string{"welcome_main", "goodbye"}},
		{name: "menus that loop by choice", start: "a", timeout: quick,
			script: []string{"1", "1", "1", "1"}, opts: []Option{WithMaxHops(4)},
			want:   Result{Action: bye, Reason: ReasonLoop, Path: []string{"a", "b", "a", "b"}, Keys: "1111"},
			played: []string{"a", "b", "a", "b", "goodbye"}},
		{name: "menus that loop by OnFail", start: "a", timeout: quick, opts: []Option{WithMaxHops(3)},
			want:   Result{Action: bye, Reason: ReasonLoop, Path: []string{"a", "b", "a"}, Tries: 3},
			played: []string{"a", "timeout", "b", "timeout", "a", "timeout", "goodbye"}},
		{name: "repeating forever is cut to OnFail", start: "loopy", timeout: quick,
			script: slices.Repeat([]string{"9"}, 20), opts: []Option{WithMaxHops(5)},
			want:   Result{Action: group("fallback"), Reason: ReasonLoop, Path: slices.Repeat([]string{"loopy"}, 5), Keys: "99999"},
			played: slices.Repeat([]string{"loopy"}, 5)},
		{name: "a prompt that fails to play is skipped", start: "brokenPrompt", timeout: patient,
			script: []string{">1"},
			want:   Result{Action: group("sales"), Path: []string{"brokenPrompt"}, Keys: "1"},
			played: []string{"broken"}},
		{name: "type-ahead through a sub-menu", start: "main", timeout: quick,
			script: []string{"21"},
			want:   Result{Action: group("tech"), Path: []string{"main", "support"}, Keys: "21"}},
		{name: "localized and silent failure prompts", start: "main", timeout: quick,
			script: []string{"7", "", "", "1"}, opts: []Option{WithPrompts("zh/invalid", "", "zh/goodbye")},
			want:   Result{Action: group("sales"), Path: []string{"main"}, Keys: "71", Tries: 2},
			played: []string{"welcome_main", "zh/invalid", "welcome_main", "welcome_main"}},
		{name: "missing start menu", start: "nope", timeout: quick,
			want:    Result{Action: bye, Reason: ReasonBroken},
			wantErr: ErrNoMenu, played: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			keys := NewDigits()
			c := &caller{t: t, keys: keys, script: tt.script}
			got, err := Run(context.Background(), tt.start, hotline(tt.timeout), c, keys, tt.opts...)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got.Path == nil {
				got.Path = []string{}
			}
			if tt.want.Path == nil {
				tt.want.Path = []string{}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("result\n got %+v\nwant %+v", got, tt.want)
			}
			played := c.prompts()
			if tt.played != nil && !slices.Equal(played, tt.played) {
				t.Errorf("played\n got %q\nwant %q", played, tt.played)
			}
		})
	}
}

// TestRunHangUp: the caller hangs up during a prompt; the run ends with
// the context's error and says how far the caller got.
func TestRunHangUp(t *testing.T) {
	keys := NewDigits()
	ctx, cancel := context.WithCancel(context.Background())
	p := playerFunc(func(ctx context.Context, prompt string) error {
		if prompt == "support_menu" {
			cancel() // the caller hangs up while the sub-menu plays
		}
		<-ctx.Done()
		return ctx.Err()
	})
	keys.Push('2')
	res, err := Run(ctx, "main", hotline(time.Second), p, keys)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if !slices.Equal(res.Path, []string{"main", "support"}) || res.Keys != "2" {
		t.Errorf("result %+v", res)
	}
}

// TestRunHangUpAfterChoice: a key, then the caller is gone before the
// runner returns: no routing for a dead call.
func TestRunHangUpAfterChoice(t *testing.T) {
	keys := NewDigits()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	keys.Push('1') // queued digits win over the ended context in Next
	res, err := Run(ctx, "main", hotline(time.Second), playerFunc(func(ctx context.Context, _ string) error { return ctx.Err() }), keys)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v (result %+v), want context.Canceled", err, res)
	}
}

// TestRunDefaults: a menu with zero Timeout and MaxTries gets the
// defaults (5 s, 3 tries); a fake Keys shows the timeout asked for.
func TestRunDefaults(t *testing.T) {
	var timeouts []time.Duration
	k := keysFunc(func(ctx context.Context, d time.Duration) (rune, error) {
		if d <= 0 {
			<-ctx.Done() // waiting through the prompt
			return 0, ctx.Err()
		}
		timeouts = append(timeouts, d)
		return 0, ErrTimeout
	})
	res, err := Run(context.Background(), "defaults", hotline(0), playerFunc(func(context.Context, string) error { return nil }), k)
	if err != nil {
		t.Fatal(err)
	}
	if res.Tries != DefaultMaxTries || res.Action != bye || res.Reason != ReasonFail {
		t.Errorf("result %+v", res)
	}
	if !slices.Equal(timeouts, []time.Duration{DefaultTimeout, DefaultTimeout, DefaultTimeout}) {
		t.Errorf("timeouts %v", timeouts)
	}
}

// TestRunKeysFail: the DTMF source breaks (not a timeout, not a hang-up):
// the run ends with that error instead of spinning.
func TestRunKeysFail(t *testing.T) {
	boom := errors.New("dtmf source gone")
	k := keysFunc(func(context.Context, time.Duration) (rune, error) { return 0, boom })
	_, err := Run(context.Background(), "main", hotline(time.Second), playerFunc(func(context.Context, string) error { return nil }), k)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
}

type playerFunc func(ctx context.Context, prompt string) error

func (f playerFunc) Play(ctx context.Context, prompt string) error { return f(ctx, prompt) }

type keysFunc func(ctx context.Context, d time.Duration) (rune, error)

func (f keysFunc) Next(ctx context.Context, d time.Duration) (rune, error) { return f(ctx, d) }

func TestReasonString(t *testing.T) {
	for r, want := range map[Reason]string{ReasonChoice: "choice", ReasonFail: "fail", ReasonLoop: "loop", ReasonBroken: "broken", 99: "unknown"} {
		if r.String() != want {
			t.Errorf("%d: %q, want %q", int(r), r.String(), want)
		}
	}
}

// FuzzRun feeds any key sequence (DTMF garbage included) to the demo
// menus, loops and broken ones among them: every run must end, with a
// routable outcome, within the hop bound.
func FuzzRun(f *testing.F) {
	f.Add("main", "1")
	f.Add("a", "1111111111111111")
	f.Add("main", "9999999999999999")
	f.Add("main", "x\x00é#*ABCD")
	f.Add("loopy", "2*2*2*2*")
	f.Fuzz(func(t *testing.T, start, in string) {
		keys := NewDigits()
		var pushed string
		for _, r := range in {
			if keys.Push(r) {
				pushed += string(r)
			}
		}
		silent := playerFunc(func(context.Context, string) error { return nil })
		res, err := Run(context.Background(), start, hotline(time.Millisecond), silent, keys)
		if errors.Is(err, ErrNoMenu) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if !terminal(res.Action) {
			t.Fatalf("outcome %+v is not routable", res.Action)
		}
		if len(res.Path) == 0 || len(res.Path) > DefaultMaxHops {
			t.Fatalf("path %v", res.Path)
		}
		if !strings.HasPrefix(pushed, res.Keys) {
			t.Fatalf("keys %q are not what was pressed (%q)", res.Keys, pushed)
		}
		if res.Tries > DefaultMaxHops*MaxTriesLimit {
			t.Fatalf("%d tries", res.Tries)
		}
	})
}
