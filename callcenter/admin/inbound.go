package admin

import (
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/agentphone/agentphone/callcenter"
)

// The admin commands of the inbound call center (issue 3): skill groups and
// members, IVR menus, custom statuses and number routes.

// Defaults of "group add" and "ivr set".
const (
	DefaultRingTimeout = 20 * time.Second
	DefaultTierWiden   = 30 * time.Second
	DefaultIVRTimeout  = 5 * time.Second
	DefaultIVRTries    = 3
)

// ParseAction parses an IVR action as the command line writes it:
// "group:NAME", "menu:NAME", "agent:WORKNUMBER", "repeat" or "hangup".
func ParseAction(s string) (callcenter.IVRAction, error) {
	kind, target, hasTarget := strings.Cut(s, ":")
	k, err := callcenter.ParseIVRActionKind(kind)
	if err != nil {
		return callcenter.IVRAction{}, fmt.Errorf("action %q: %w (want group:NAME, menu:NAME, agent:WORKNUMBER, repeat or hangup)", s, err)
	}
	needs := k == callcenter.IVRGroup || k == callcenter.IVRSubMenu || k == callcenter.IVRAgent
	if needs && (!hasTarget || target == "") {
		return callcenter.IVRAction{}, fmt.Errorf("%w: action %q needs a target, e.g. %s:NAME", callcenter.ErrInvalid, s, kind)
	}
	if !needs && hasTarget {
		return callcenter.IVRAction{}, fmt.Errorf("%w: action %q takes no target", callcenter.ErrInvalid, s)
	}
	return callcenter.IVRAction{Kind: k, Target: target}, nil
}

// FormatAction is the inverse of ParseAction.
func FormatAction(a callcenter.IVRAction) string {
	if a.Target == "" {
		return a.Kind.String()
	}
	return a.Kind.String() + ":" + a.Target
}

// choices is the repeatable --choice DIGIT=ACTION flag.
type choices map[rune]callcenter.IVRAction

func (c choices) String() string {
	keys := make([]rune, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, string(k)+"="+FormatAction(c[k]))
	}
	return strings.Join(parts, " ")
}

func (c choices) Set(s string) error {
	key, action, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("choice %q: want DIGIT=ACTION, e.g. 1=group:sales", s)
	}
	d, a, err := ParseChoice(key, action)
	if err != nil {
		return fmt.Errorf("choice %q: %w", s, err)
	}
	if _, dup := c[d]; dup {
		return fmt.Errorf("choice %q: key %c given twice", s, d)
	}
	c[d] = a
	return nil
}

// ParseChoice parses one menu choice: key is one of 0-9 * #, action as
// ParseAction takes it.
func ParseChoice(key, action string) (rune, callcenter.IVRAction, error) {
	if len(key) != 1 || !('0' <= key[0] && key[0] <= '9' || key[0] == '*' || key[0] == '#') {
		return 0, callcenter.IVRAction{}, fmt.Errorf("%w: key %q must be one of 0-9 * #", callcenter.ErrInvalid, key)
	}
	a, err := ParseAction(action)
	if err != nil {
		return 0, callcenter.IVRAction{}, err
	}
	return rune(key[0]), a, nil
}

// ParseChoices parses a menu's choices as the API writes them, key →
// action (see ParseChoice).
func ParseChoices(in map[string]string) (map[rune]callcenter.IVRAction, error) {
	out := make(map[rune]callcenter.IVRAction, len(in))
	for k, v := range in {
		d, a, err := ParseChoice(k, v)
		if err != nil {
			return nil, fmt.Errorf("choice %q: %w", k, err)
		}
		out[d] = a
	}
	return out, nil
}

// FormatChoices is the inverse of ParseChoices.
func FormatChoices(in map[rune]callcenter.IVRAction) map[string]string {
	out := make(map[string]string, len(in))
	for k, a := range in {
		out[string(k)] = FormatAction(a)
	}
	return out
}

// setFlags returns the names of the flags given on the command line.
func setFlags(fs *flag.FlagSet) map[string]bool {
	out := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { out[f.Name] = true })
	return out
}

// groupFlags are the settings of "group add" and "group set", bound to a
// flag set whose defaults are g's current settings.
type groupFlags struct {
	fs                                            *flag.FlagSet
	label, strategy, overflow, overflowGroup, ivr *string
	ring, maxWait, acw, tierWiden, announce       *time.Duration
}

func newGroupFlags(name string, g callcenter.SkillGroup) groupFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	acw := time.Duration(0)
	if g.ACW {
		acw = g.ACWDuration
	}
	return groupFlags{fs: fs,
		label:         fs.String("label", g.Label, "name shown to people, e.g. 售前咨询"),
		strategy:      fs.String("strategy", g.Strategy.String(), "longest_idle, round_robin, fewest_calls, ring_all or skill_tiers"),
		ring:          fs.Duration("ring-timeout", g.RingTimeout, "how long one offer rings an agent"),
		maxWait:       fs.Duration("max-wait", g.MaxWait, "longest queue wait before overflow (0: no limit)"),
		overflow:      fs.String("overflow", g.Overflow.String(), "none, group or voicemail"),
		overflowGroup: fs.String("overflow-group", g.OverflowGroup, "group callers move to after --max-wait"),
		acw:           fs.Duration("acw", acw, "after-call work after each call (0: off)"),
		tierWiden:     fs.Duration("tier-widen", g.TierWiden, "skill_tiers: admit one more level per this much wait"),
		announce:      fs.Duration("announce", g.AnnounceEvery, "position announcements to queued callers at this interval (0: none)"),
		ivr:           fs.String("ivr", g.IVR, "menu callers transferred to this group pass first"),
	}
}

// apply returns g with the flags given; a usage problem is reported
// through c.usage.
func (f groupFlags) apply(c *cmd, name string, g callcenter.SkillGroup) (callcenter.SkillGroup, error) {
	set := setFlags(f.fs)
	var ch GroupChange
	pick := func(flag string, v *string) *string {
		if set[flag] {
			return v
		}
		return nil
	}
	pickD := func(flag string, v *time.Duration) *time.Duration {
		if set[flag] {
			return v
		}
		return nil
	}
	ch.Label, ch.Strategy, ch.Overflow = pick("label", f.label), pick("strategy", f.strategy), pick("overflow", f.overflow)
	ch.OverflowGroup, ch.IVR = pick("overflow-group", f.overflowGroup), pick("ivr", f.ivr)
	ch.RingTimeout, ch.MaxWait, ch.ACW = pickD("ring-timeout", f.ring), pickD("max-wait", f.maxWait), pickD("acw", f.acw)
	ch.TierWiden, ch.Announce = pickD("tier-widen", f.tierWiden), pickD("announce", f.announce)
	out, err := ch.Apply(g)
	if errors.Is(err, errNeedsOverflowGroup) {
		return g, c.usage(name + ": --overflow group needs --overflow-group")
	}
	if err != nil {
		return g, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// NewGroupDefaults returns a new group's settings before any are given:
// longest idle, DefaultRingTimeout, DefaultTierWiden, everything else off.
func NewGroupDefaults(name string) callcenter.SkillGroup {
	return callcenter.SkillGroup{Name: name, Strategy: callcenter.StrategyLongestIdle,
		RingTimeout: DefaultRingTimeout, TierWiden: DefaultTierWiden}
}

// GroupChange is a change of some settings of a skill group, as "group
// set" and the admin API's PATCH take it: nil fields stay as they are.
type GroupChange struct {
	Label, Strategy, Overflow, OverflowGroup, IVR *string
	// ACW > 0 turns after-call work on for that long, 0 turns it off.
	RingTimeout, MaxWait, ACW, TierWiden, Announce *time.Duration
}

// errNeedsOverflowGroup: overflow "group" without the group to overflow to.
var errNeedsOverflowGroup = fmt.Errorf("%w: overflow \"group\" needs the overflow group", callcenter.ErrInvalid)

// Apply returns g with ch applied. Setting OverflowGroup alone means
// overflow "group"; setting Overflow to another kind alone drops the old
// overflow group. It checks the enums and the overflow pair; the store
// checks the rest (names, negative durations, targets that exist).
func (ch GroupChange) Apply(g callcenter.SkillGroup) (callcenter.SkillGroup, error) {
	if ch.Strategy != nil {
		st, err := callcenter.ParseStrategy(*ch.Strategy)
		if err != nil {
			return g, err
		}
		g.Strategy = st
	}
	switch {
	case ch.Overflow != nil:
		ov, err := callcenter.ParseOverflowKind(*ch.Overflow)
		if err != nil {
			return g, err
		}
		g.Overflow = ov
		if ch.OverflowGroup != nil {
			g.OverflowGroup = *ch.OverflowGroup
		} else if ov != callcenter.OverflowGroup {
			// Leaving group overflow drops the old target.
			g.OverflowGroup = ""
		}
	case ch.OverflowGroup != nil:
		// The overflow group alone says where to overflow to.
		g.Overflow, g.OverflowGroup = callcenter.OverflowGroup, *ch.OverflowGroup
	}
	if g.Overflow == callcenter.OverflowGroup && g.OverflowGroup == "" {
		return g, errNeedsOverflowGroup
	}
	if ch.Label != nil {
		g.Label = *ch.Label
	}
	if ch.IVR != nil {
		g.IVR = *ch.IVR
	}
	if ch.RingTimeout != nil {
		g.RingTimeout = *ch.RingTimeout
	}
	if ch.MaxWait != nil {
		g.MaxWait = *ch.MaxWait
	}
	if ch.ACW != nil {
		// Negative: the store refuses it with the reason.
		g.ACW, g.ACWDuration = *ch.ACW > 0, *ch.ACW
	}
	if ch.TierWiden != nil {
		g.TierWiden = *ch.TierWiden
	}
	if ch.Announce != nil {
		g.AnnounceEvery = *ch.Announce
	}
	return g, nil
}

func (c *cmd) groupAdd(args []string) error {
	const name = "group add"
	f := newGroupFlags(name, NewGroupDefaults(""))
	pos, err := c.parse(name, f.fs, args, "group name")
	if err != nil {
		return err
	}
	if *f.label == "" {
		return c.usage(name + ": missing --label")
	}
	g, err := f.apply(c, name, NewGroupDefaults(pos[0]))
	if err != nil {
		return err
	}
	if g, err = c.st.CreateGroup(c.ctx, g); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	_, err = fmt.Fprintf(c.stdout, "group %s (%s, %s) added\n", g.Name, g.Label, g.Strategy)
	return err
}

// groupSet changes the settings given as flags and keeps the others.
func (c *cmd) groupSet(args []string) error {
	const name = "group set"
	// The flags' defaults are the current settings, so the group is read
	// before parsing; its name is the first argument not a flag.
	var groupName string
	for i := 0; i < len(args); i++ {
		if strings.HasPrefix(args[i], "-") {
			if !strings.Contains(args[i], "=") {
				i++ // skip the flag's value
			}
			continue
		}
		groupName = args[i]
		break
	}
	if groupName == "" {
		return c.usage(name + ": missing group name")
	}
	cur, err := c.st.GroupByName(c.ctx, groupName)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	f := newGroupFlags(name, cur)
	pos, err := c.parse(name, f.fs, args, "group name")
	if err != nil {
		return err
	}
	if pos[0] != groupName {
		return c.usage(fmt.Sprintf("%s: group name %q must come before or after the flags, not as a flag value", name, pos[0]))
	}
	if len(setFlags(f.fs)) == 0 {
		return c.usage(name + ": nothing to change")
	}
	g, err := f.apply(c, name, cur)
	if err != nil {
		return err
	}
	if err := c.st.UpdateGroup(c.ctx, g); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	_, err = fmt.Fprintf(c.stdout, "group %s updated\n", g.Name)
	return err
}

// formatOverflow shows what happens after the maximum wait.
func formatOverflow(g callcenter.SkillGroup) string {
	switch {
	case g.MaxWait == 0:
		return "-"
	case g.Overflow == callcenter.OverflowGroup:
		return g.MaxWait.String() + " → " + g.OverflowGroup
	}
	return g.MaxWait.String() + " → " + g.Overflow.String()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (c *cmd) groupList(args []string) error {
	const name = "group list"
	if _, err := c.parse(name, flag.NewFlagSet(name, flag.ContinueOnError), args); err != nil {
		return err
	}
	groups, err := c.st.ListGroups(c.ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tLABEL\tSTRATEGY\tRING\tMAX WAIT\tACW\tIVR\tMEMBERS")
	for _, g := range groups {
		members, err := c.st.Members(c.ctx, g.Name)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		var ms []string
		for _, m := range members {
			ms = append(ms, fmt.Sprintf("%s/%d", m.Agent, m.Level))
		}
		acw := "off"
		if g.ACW {
			acw = g.ACWDuration.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", g.Name, g.Label, g.Strategy, g.RingTimeout,
			formatOverflow(g), acw, dash(g.IVR), dash(strings.Join(ms, " ")))
	}
	return tw.Flush()
}

func (c *cmd) memberAdd(args []string) error {
	const name = "group member add"
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	level := fs.Int("level", 1, "skill level, 1 is the best")
	pos, err := c.parse(name, fs, args, "group name", "work number")
	if err != nil {
		return err
	}
	if err := c.st.SetMember(c.ctx, callcenter.Member{Group: pos[0], Agent: pos[1], Level: *level}); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	_, err = fmt.Fprintf(c.stdout, "agent %s in group %s at level %d\n", pos[1], pos[0], *level)
	return err
}

func (c *cmd) memberRemove(args []string) error {
	const name = "group member remove"
	pos, err := c.parse(name, flag.NewFlagSet(name, flag.ContinueOnError), args, "group name", "work number")
	if err != nil {
		return err
	}
	if err := c.st.RemoveMember(c.ctx, pos[0], pos[1]); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	_, err = fmt.Fprintf(c.stdout, "agent %s removed from group %s\n", pos[1], pos[0])
	return err
}

func (c *cmd) groupMembers(args []string) error {
	const name = "group members"
	pos, err := c.parse(name, flag.NewFlagSet(name, flag.ContinueOnError), args, "group name")
	if err != nil {
		return err
	}
	members, err := c.st.Members(c.ctx, pos[0])
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WORK NUMBER\tNAME\tLEVEL")
	for _, m := range members {
		display := "?"
		if a, err := c.st.AgentByWorkNumber(c.ctx, m.Agent); err == nil {
			display = a.Name
		} else if !errors.Is(err, callcenter.ErrNotFound) {
			return fmt.Errorf("%s: %w", name, err)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\n", m.Agent, display, m.Level)
	}
	return tw.Flush()
}

func (c *cmd) ivrSet(args []string) error {
	const name = "ivr set"
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	prompt := fs.String("prompt", "", "prompt name under assets/prompts (without .wav) or a WAV path")
	timeout := fs.Duration("timeout", DefaultIVRTimeout, "wait for a key after the prompt")
	tries := fs.Int("tries", DefaultIVRTries, "plays before --on-fail is taken")
	onFail := fs.String("on-fail", callcenter.IVRHangup.String(), "action after the last try: group:NAME, menu:NAME, agent:WN or hangup")
	ch := choices{}
	fs.Var(ch, "choice", "DIGIT=ACTION, repeatable: 1=group:sales 2=menu:sub 0=agent:1001 9=repeat *=hangup")
	pos, err := c.parse(name, fs, args, "menu name")
	if err != nil {
		return err
	}
	if *prompt == "" {
		return c.usage(name + ": missing --prompt")
	}
	fail, err := ParseAction(*onFail)
	if err != nil {
		return fmt.Errorf("%s: --on-fail: %w", name, err)
	}
	m, err := c.st.PutIVRMenu(c.ctx, callcenter.IVRMenu{Name: pos[0], Prompt: *prompt, Choices: ch,
		Timeout: *timeout, MaxTries: *tries, OnFail: fail})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	_, err = fmt.Fprintf(c.stdout, "IVR menu %s set: %s, on fail %s\n", m.Name, dash(choices(m.Choices).String()), FormatAction(m.OnFail))
	return err
}

func (c *cmd) ivrList(args []string) error {
	const name = "ivr list"
	if _, err := c.parse(name, flag.NewFlagSet(name, flag.ContinueOnError), args); err != nil {
		return err
	}
	menus, err := c.st.ListIVRMenus(c.ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tPROMPT\tTIMEOUT\tTRIES\tON FAIL\tCHOICES")
	for _, m := range menus {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", m.Name, m.Prompt, m.Timeout, m.MaxTries,
			FormatAction(m.OnFail), dash(choices(m.Choices).String()))
	}
	return tw.Flush()
}

func (c *cmd) statusAdd(args []string) error {
	const name = "status add"
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	label := fs.String("label", "", "name shown to agents, e.g. 会议中")
	pos, err := c.parse(name, fs, args, "status name")
	if err != nil {
		return err
	}
	if *label == "" {
		return c.usage(name + ": missing --label")
	}
	cs, err := c.st.CreateCustomStatus(c.ctx, callcenter.CustomStatus{Name: pos[0], Label: *label})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	_, err = fmt.Fprintf(c.stdout, "custom status %s (%s) added\n", cs.Name, cs.Label)
	return err
}

func (c *cmd) statusList(args []string) error {
	const name = "status list"
	if _, err := c.parse(name, flag.NewFlagSet(name, flag.ContinueOnError), args); err != nil {
		return err
	}
	list, err := c.st.ListCustomStatuses(c.ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tLABEL")
	for _, cs := range list {
		fmt.Fprintf(tw, "%s\t%s\n", cs.Name, cs.Label)
	}
	return tw.Flush()
}

func (c *cmd) numberRoute(args []string) error {
	const name = "number route"
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	ivr := fs.String("ivr", "", "IVR menu")
	group := fs.String("group", "", "skill group")
	agent := fs.String("agent", "", "work number")
	pos, err := c.parse(name, fs, args, "number")
	if err != nil {
		return err
	}
	set := 0
	for _, v := range []string{*ivr, *group, *agent} {
		if v != "" {
			set++
		}
	}
	if set != 1 {
		return c.usage(name + ": give exactly one of --ivr, --group, --agent")
	}
	if err := c.st.SetNumberRoute(c.ctx, pos[0], *ivr, *group, *agent); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	_, err = fmt.Fprintf(c.stdout, "number %s routed to %s\n", pos[0],
		formatRoute(callcenter.Number{RouteIVR: *ivr, RouteGroup: *group, RouteAgent: *agent}))
	return err
}

// formatRoute shows where calls to n go: the first route set.
func formatRoute(n callcenter.Number) string {
	switch {
	case n.RouteIVR != "":
		return "ivr:" + n.RouteIVR
	case n.RouteGroup != "":
		return "group:" + n.RouteGroup
	case n.RouteAgent != "":
		return "agent:" + n.RouteAgent
	}
	return "-"
}
