// Package admin implements the administration commands of callcenterd
// ("callcenterd admin ...") as a library, so the command and the tests share
// it:
//
//	agent add <work-number> --name NAME --password PASSWORD [--role agent|supervisor|admin]
//	agent list
//	agent disable <work-number>
//	agent enable <work-number>
//	agent passwd <work-number> --password PASSWORD
//	number add <number> --name NAME [--route <work-number>]
//	number list
//	number disable <number>
//	number enable <number>
//	number route <number> (--ivr MENU | --group GROUP | --agent WORK-NUMBER)
//	group add <name> --label LABEL [--strategy S] [--ring-timeout 20s] [--max-wait 2m]
//	    [--overflow none|group|voicemail] [--overflow-group G] [--acw 30s]
//	    [--tier-widen 30s] [--announce 30s] [--ivr MENU]
//	group set <name> [flags of group add]
//	group list
//	group member add <group> <work-number> [--level 1]
//	group member remove <group> <work-number>
//	group members <group>
//	ivr set <name> --prompt P [--timeout 5s] [--tries 3] [--on-fail ACTION] --choice DIGIT=ACTION ...
//	ivr list
//	status add <name> --label LABEL
//	status list
//	seed
//
// Passwords are stored as a salted scrypt hash for login, plus the SIP digest
// HA1 (MD5 and SHA-256) in the server's realm, so plain SIP phones can
// register with the work number and password. Changing the realm therefore
// needs every password set again.
//
// # Demo data
//
// Seed (and "seed") creates the demo data that `make run` and the end-to-end
// tests use, idempotently (existing rows are left as they are):
//
//	work number  name        role        password
//	1001         Li Lei      agent       demo1234
//	1002         Han Meimei  agent       demo1234
//	2001         Wang Fang   supervisor  demo1234
//	9001         Admin       admin       demo1234  (for the admin API)
//
//	skill group  label     strategy      ring  max wait → overflow  ACW  members (level)
//	sales        售前咨询  longest_idle  15s   90s → support        15s  1001 (1), 1002 (2)
//	support      售后服务  longest_idle  20s   -                    30s  1002 (1), 2001 (1)
//
//	custom statuses  meeting 会议中, break 小休, training 培训
//	IVR menu main    prompt welcome_main: 1 → sales, 2 → support, 9 → repeat;
//	                 5 s timeout, 3 tries, then sales
//
//	center number 4008001234 "Hotline", routed to IVR main (and to agent 1001
//	as the fallback of servers that only route to agents)
package admin

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/store"
)

// Usage is the help text of Run.
const Usage = `usage: callcenterd admin <command> [arguments]

commands:
  agent add <work-number> --name NAME --password PASSWORD [--role agent|supervisor|admin]
  agent list
  agent disable <work-number>
  agent enable <work-number>
  agent passwd <work-number> --password PASSWORD
  number add <number> --name NAME [--route <work-number>]
  number list
  number disable <number>
  number enable <number>
  number route <number> (--ivr MENU | --group GROUP | --agent WORK-NUMBER)
  group add <name> --label LABEL [--strategy longest_idle|round_robin|fewest_calls|ring_all|skill_tiers]
      [--ring-timeout 20s] [--max-wait 2m] [--overflow none|group|voicemail] [--overflow-group GROUP]
      [--acw 30s] [--tier-widen 30s] [--announce 30s] [--ivr MENU]
  group set <name> [any flag of group add: changes only those given]
  group list
  group member add <group> <work-number> [--level 1]
  group member remove <group> <work-number>
  group members <group>
  ivr set <name> --prompt PROMPT [--timeout 5s] [--tries 3] [--on-fail ACTION] --choice DIGIT=ACTION ...
  ivr list
  status add <name> --label LABEL
  status list
  seed            create the demo agents, groups, statuses, IVR menu and number (idempotent)

Work numbers are 1-16 letters or digits; numbers are digits with an optional
leading +; passwords have at least 6 characters. Group, menu and status names
are 1-32 letters, digits, '_', '-' or '.'. An ACTION is group:NAME, menu:NAME,
agent:WORK-NUMBER, repeat or hangup; DIGIT is 0-9, * or #. Skill level 1 is
the best. --acw 0 turns after-call work off; --max-wait 0 means no limit.
`

// Run executes one admin command given as args (without the program and
// "admin" words). Results go to stdout; usage text goes to stderr when the
// command line is wrong (the error is then ErrUsage). realm is the SIP realm
// the digest HA1s are computed in. Errors are returned, not printed, so the
// caller reports them once.
func Run(ctx context.Context, st store.Store, realm string, args []string, stdout, stderr io.Writer) error {
	c := &cmd{ctx: ctx, st: st, realm: realm, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		return c.usage("missing command")
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		_, err := io.WriteString(stdout, Usage)
		return err
	case "seed":
		if len(args) > 1 {
			return c.usage("seed takes no arguments")
		}
		if err := Seed(ctx, st, realm); err != nil {
			return err
		}
		_, err := fmt.Fprintln(stdout, "demo data present: agents 1001, 1002, 2001 and admin "+DemoAdmin+" (password "+DemoPassword+
			"), groups sales and support, statuses meeting, break, training, IVR menu "+DemoIVR+", number "+DemoNumber)
		return err
	case "agent", "number", "group", "ivr", "status":
	default:
		return c.usage(fmt.Sprintf("unknown command %q", args[0]))
	}
	if len(args) < 2 {
		return c.usage(fmt.Sprintf("%s: missing subcommand", args[0]))
	}
	sub, rest := args[0]+" "+args[1], args[2:]
	if sub == "group member" {
		if len(rest) == 0 {
			return c.usage("group member: missing subcommand (add or remove)")
		}
		sub, rest = sub+" "+rest[0], rest[1:]
	}
	switch sub {
	case "agent add":
		return c.agentAdd(rest)
	case "agent list":
		return c.agentList(rest)
	case "agent disable":
		return c.agentDisable(rest, true)
	case "agent enable":
		return c.agentDisable(rest, false)
	case "agent passwd":
		return c.agentPasswd(rest)
	case "number add":
		return c.numberAdd(rest)
	case "number list":
		return c.numberList(rest)
	case "number disable":
		return c.numberDisable(rest, true)
	case "number enable":
		return c.numberDisable(rest, false)
	case "number route":
		return c.numberRoute(rest)
	case "group add":
		return c.groupAdd(rest)
	case "group set":
		return c.groupSet(rest)
	case "group list":
		return c.groupList(rest)
	case "group member add":
		return c.memberAdd(rest)
	case "group member remove":
		return c.memberRemove(rest)
	case "group members":
		return c.groupMembers(rest)
	case "ivr set":
		return c.ivrSet(rest)
	case "ivr list":
		return c.ivrList(rest)
	case "status add":
		return c.statusAdd(rest)
	case "status list":
		return c.statusList(rest)
	}
	return c.usage(fmt.Sprintf("unknown command %q", sub))
}

type cmd struct {
	ctx            context.Context
	st             store.Store
	realm          string
	stdout, stderr io.Writer
}

// usage writes the usage text to stderr and returns ErrUsage with msg.
func (c *cmd) usage(msg string) error {
	fmt.Fprintf(c.stderr, "callcenterd admin: %s\n\n%s", msg, Usage)
	return fmt.Errorf("%w: %s", ErrUsage, msg)
}

// parse parses flags wherever they appear among the positional arguments
// (the flag package stops at the first positional, but "agent add 1001
// --name x" is the natural order) and checks the positional count.
func (c *cmd) parse(name string, fs *flag.FlagSet, args []string, positional ...string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, c.usage(fmt.Sprintf("%s: %v", name, err))
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) < len(positional) {
		return nil, c.usage(fmt.Sprintf("%s: missing %s", name, positional[len(pos)]))
	}
	if len(pos) > len(positional) {
		return nil, c.usage(fmt.Sprintf("%s: unexpected argument %q", name, pos[len(positional)]))
	}
	return pos, nil
}

func (c *cmd) required(name string, flags map[string]string) error {
	for _, f := range []string{"name", "password", "route"} {
		if v, ok := flags[f]; ok && v == "" {
			return c.usage(fmt.Sprintf("%s: missing --%s", name, f))
		}
	}
	return nil
}

// Credentials derives everything stored for a password: the scrypt login
// hash and the SIP digest HA1s (MD5, SHA-256) of workNumber in realm. The
// password is checked first (callcenter.ValidatePassword). The HTTP admin
// API uses it too, so both paths store the same things.
func Credentials(realm, workNumber, password string) (hash, ha1MD5, ha1SHA256 string, err error) {
	if realm == "" {
		return "", "", "", fmt.Errorf("%w: empty SIP realm", callcenter.ErrInvalid)
	}
	if err := callcenter.ValidatePassword(password); err != nil {
		return "", "", "", err
	}
	hash, err = callcenter.HashPassword(password)
	if err != nil {
		return "", "", "", err
	}
	return hash,
		callcenter.DigestHA1(callcenter.DigestMD5, workNumber, realm, password),
		callcenter.DigestHA1(callcenter.DigestSHA256, workNumber, realm, password),
		nil
}

func (c *cmd) agentAdd(args []string) error {
	const name = "agent add"
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	display := fs.String("name", "", "display name")
	password := fs.String("password", "", "login password")
	roleName := fs.String("role", callcenter.RoleAgent.String(), "agent, supervisor or admin")
	pos, err := c.parse(name, fs, args, "work number")
	if err != nil {
		return err
	}
	if err := c.required(name, map[string]string{"name": *display, "password": *password}); err != nil {
		return err
	}
	wn := pos[0]
	role, err := callcenter.ParseRole(*roleName)
	if err != nil {
		return fmt.Errorf("%s: %w (want agent, supervisor or admin)", name, err)
	}
	if err := errors.Join(callcenter.ValidateWorkNumber(wn), callcenter.ValidateName(*display)); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	// Fail on a taken work number before paying for scrypt; CreateAgent
	// still catches a race with another admin.
	if _, err := c.st.AgentByWorkNumber(c.ctx, wn); err == nil {
		return fmt.Errorf("%s: agent %q: %w", name, wn, callcenter.ErrExists)
	} else if !errors.Is(err, callcenter.ErrNotFound) {
		return fmt.Errorf("%s: %w", name, err)
	}
	hash, md5, sha, err := Credentials(c.realm, wn, *password)
	if err != nil {
		return fmt.Errorf("%s %s: %w", name, wn, err)
	}
	a, err := c.st.CreateAgent(c.ctx, callcenter.Agent{WorkNumber: wn, Name: *display, Role: role,
		PasswordHash: hash, HA1MD5: md5, HA1SHA256: sha})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	_, err = fmt.Fprintf(c.stdout, "agent %s (%s, %s) added\n", a.WorkNumber, a.Name, a.Role)
	return err
}

func (c *cmd) agentList(args []string) error {
	if _, err := c.parse("agent list", flag.NewFlagSet("agent list", flag.ContinueOnError), args); err != nil {
		return err
	}
	agents, err := c.st.ListAgents(c.ctx)
	if err != nil {
		return fmt.Errorf("agent list: %w", err)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WORK NUMBER\tNAME\tROLE\tDISABLED")
	for _, a := range agents {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.WorkNumber, a.Name, a.Role, yesNo(a.Disabled))
	}
	return tw.Flush()
}

func (c *cmd) agentDisable(args []string, disabled bool) error {
	name := "agent " + enableWord(disabled)
	pos, err := c.parse(name, flag.NewFlagSet(name, flag.ContinueOnError), args, "work number")
	if err != nil {
		return err
	}
	if err := c.st.SetAgentDisabled(c.ctx, pos[0], disabled); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	_, err = fmt.Fprintf(c.stdout, "agent %s %sd\n", pos[0], enableWord(disabled))
	return err
}

func (c *cmd) agentPasswd(args []string) error {
	const name = "agent passwd"
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	password := fs.String("password", "", "new login password")
	pos, err := c.parse(name, fs, args, "work number")
	if err != nil {
		return err
	}
	if err := c.required(name, map[string]string{"password": *password}); err != nil {
		return err
	}
	wn := pos[0]
	// Fail on an unknown agent before paying for scrypt.
	if _, err := c.st.AgentByWorkNumber(c.ctx, wn); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	hash, md5, sha, err := Credentials(c.realm, wn, *password)
	if err != nil {
		return fmt.Errorf("%s %s: %w", name, wn, err)
	}
	if err := c.st.SetAgentPassword(c.ctx, wn, hash, md5, sha); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	_, err = fmt.Fprintf(c.stdout, "password of agent %s changed\n", wn)
	return err
}

func (c *cmd) numberAdd(args []string) error {
	const name = "number add"
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	display := fs.String("name", "", "display name")
	route := fs.String("route", "", "work number of the agent calls ring")
	pos, err := c.parse(name, fs, args, "number")
	if err != nil {
		return err
	}
	if err := c.required(name, map[string]string{"name": *display}); err != nil {
		return err
	}
	if err := errors.Join(callcenter.ValidateNumber(pos[0]), callcenter.ValidateName(*display)); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if *route != "" {
		if err := callcenter.ValidateWorkNumber(*route); err != nil {
			return fmt.Errorf("%s: route: %w", name, err)
		}
	}
	n, err := c.st.CreateNumber(c.ctx, callcenter.Number{E164: pos[0], Name: *display, RouteAgent: *route})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	routed := "not routed"
	if n.RouteAgent != "" {
		routed = "routed to agent " + n.RouteAgent
	}
	_, err = fmt.Fprintf(c.stdout, "number %s (%s) added, %s\n", n.E164, n.Name, routed)
	return err
}

func (c *cmd) numberList(args []string) error {
	if _, err := c.parse("number list", flag.NewFlagSet("number list", flag.ContinueOnError), args); err != nil {
		return err
	}
	numbers, err := c.st.ListNumbers(c.ctx)
	if err != nil {
		return fmt.Errorf("number list: %w", err)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NUMBER\tNAME\tROUTE\tDISABLED")
	for _, n := range numbers {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", n.E164, n.Name, formatRoute(n), yesNo(n.Disabled))
	}
	return tw.Flush()
}

func (c *cmd) numberDisable(args []string, disabled bool) error {
	name := "number " + enableWord(disabled)
	pos, err := c.parse(name, flag.NewFlagSet(name, flag.ContinueOnError), args, "number")
	if err != nil {
		return err
	}
	if err := c.st.SetNumberDisabled(c.ctx, pos[0], disabled); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	_, err = fmt.Fprintf(c.stdout, "number %s %sd\n", pos[0], enableWord(disabled))
	return err
}

func enableWord(disabled bool) string {
	if disabled {
		return "disable"
	}
	return "enable"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
