package admin

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const realm = "agentphone.test"

func openStore(t *testing.T) *store.SQLite {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "cc.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func run(t *testing.T, st store.Store, line string) (stdout, stderr string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	err = Run(context.Background(), st, realm, strings.Fields(line), &o, &e)
	return o.String(), e.String(), err
}

func TestRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		setup   []string // command lines run first, each must succeed
		line    string
		wantErr error
		stdout  []string // substrings, in order
		stderr  string   // substring
	}{
		{name: "no command", line: "", wantErr: ErrUsage, stderr: "missing command"},
		{name: "unknown command", line: "queue add", wantErr: ErrUsage, stderr: `unknown command "queue"`},
		{name: "unknown subcommand", line: "agent fire 1001", wantErr: ErrUsage, stderr: "agent add <work-number>"},
		{name: "missing subcommand", line: "number", wantErr: ErrUsage, stderr: "missing subcommand"},
		{name: "help", line: "help", stdout: []string{"usage:", "agent passwd"}},

		{name: "agent add", line: "agent add 1001 --name Li --password secret1",
			stdout: []string{"agent 1001 (Li, agent) added"}},
		{name: "agent add flags first", line: "agent add --name Wang --role supervisor --password secret1 2001",
			stdout: []string{"agent 2001 (Wang, supervisor) added"}},
		{name: "agent add missing name", line: "agent add 1001 --password secret1", wantErr: ErrUsage, stderr: "missing --name"},
		{name: "agent add missing password", line: "agent add 1001 --name Li", wantErr: ErrUsage, stderr: "missing --password"},
		{name: "agent add missing work number", line: "agent add --name Li --password secret1", wantErr: ErrUsage, stderr: "missing work number"},
		{name: "agent add extra argument", line: "agent add 1001 1002 --name Li --password secret1", wantErr: ErrUsage, stderr: `unexpected argument "1002"`},
		{name: "agent add unknown flag", line: "agent add 1001 --nick Li", wantErr: ErrUsage, stderr: "flag provided but not defined"},
		{name: "agent add bad role", line: "agent add 1001 --name Li --password secret1 --role boss", wantErr: callcenter.ErrInvalid},
		{name: "agent add bad work number", line: "agent add 10-01 --name Li --password secret1", wantErr: callcenter.ErrInvalid},
		{name: "agent add short password", line: "agent add 1001 --name Li --password 123", wantErr: callcenter.ErrInvalid},
		{name: "agent add duplicate", setup: []string{"agent add 1001 --name Li --password secret1"},
			line: "agent add 1001 --name Other --password secret2", wantErr: callcenter.ErrExists},

		{name: "agent list empty", line: "agent list", stdout: []string{"WORK NUMBER", "NAME", "ROLE", "DISABLED"}},
		{name: "agent list", setup: []string{"agent add 1002 --name Han --password secret1", "agent add 1001 --name Li --password secret1 --role admin", "agent disable 1002"},
			line: "agent list", stdout: []string{"1001", "Li", "admin", "no", "1002", "Han", "agent", "yes"}},
		{name: "agent list extra", line: "agent list all", wantErr: ErrUsage},

		{name: "agent disable unknown", line: "agent disable 9999", wantErr: callcenter.ErrNotFound},
		{name: "agent disable missing", line: "agent disable", wantErr: ErrUsage, stderr: "missing work number"},
		{name: "agent enable", setup: []string{"agent add 1001 --name Li --password secret1", "agent disable 1001"},
			line: "agent enable 1001", stdout: []string{"agent 1001 enabled"}},
		{name: "agent passwd unknown", line: "agent passwd 9999 --password secret1", wantErr: callcenter.ErrNotFound},
		{name: "agent passwd missing password", line: "agent passwd 1001", wantErr: ErrUsage, stderr: "missing --password"},

		{name: "number add", setup: []string{"agent add 1001 --name Li --password secret1"},
			line: "number add 4008001234 --name Hotline --route 1001", stdout: []string{"number 4008001234 (Hotline) added, routed to agent 1001"}},
		{name: "number add unknown route", line: "number add 4008001234 --name Hotline --route 1001", wantErr: callcenter.ErrNotFound},
		{name: "number add bad number", line: "number add 400-800 --name Hotline", wantErr: callcenter.ErrInvalid},
		{name: "number add missing name", line: "number add 4008001234", wantErr: ErrUsage, stderr: "missing --name"},
		{name: "number add duplicate", setup: []string{"number add 4008001234 --name A"},
			line: "number add 4008001234 --name B", wantErr: callcenter.ErrExists},
		{name: "number list", setup: []string{"number add 4008001234 --name Hotline", "number add +8602161234567 --name SH", "number disable 4008001234"},
			line: "number list", stdout: []string{"NUMBER", "ROUTE", "+8602161234567", "SH", "-", "no", "4008001234", "Hotline", "-", "yes"}},
		{name: "number disable unknown", line: "number disable 123", wantErr: callcenter.ErrNotFound},
		{name: "number enable", setup: []string{"number add 4008001234 --name A", "number disable 4008001234"},
			line: "number enable 4008001234", stdout: []string{"number 4008001234 enabled"}},

		{name: "seed", line: "seed", stdout: []string{"1001", "4008001234"}},
		{name: "seed extra", line: "seed now", wantErr: ErrUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := openStore(t)
			for _, l := range tt.setup {
				if _, stderr, err := run(t, st, l); err != nil {
					t.Fatalf("setup %q: %v\n%s", l, err, stderr)
				}
			}
			stdout, stderr, err := run(t, st, tt.line)
			if tt.wantErr == nil && err != nil {
				t.Fatalf("err = %v\nstderr: %s", err, stderr)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil && err.Error() == "" {
				t.Fatal("empty error message")
			}
			rest := stdout
			for _, want := range tt.stdout {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Fatalf("stdout lacks %q (in order):\n%s", want, stdout)
				}
				rest = rest[i+len(want):]
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Fatalf("stderr lacks %q:\n%s", tt.stderr, stderr)
			}
			if tt.wantErr != ErrUsage && stderr != "" {
				t.Fatalf("unexpected stderr: %s", stderr)
			}
		})
	}
}

// The stored credentials are what login and the SIP registrar will check.
func TestAgentCredentials(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	if _, stderr, err := run(t, st, "agent add 1001 --name Li --password first-pw"); err != nil {
		t.Fatal(err, stderr)
	}
	check := func(pw string) {
		t.Helper()
		a, err := st.AgentByWorkNumber(ctx, "1001")
		if err != nil {
			t.Fatal(err)
		}
		if !callcenter.CheckPassword(a.PasswordHash, pw) {
			t.Errorf("login hash does not match %q", pw)
		}
		if a.HA1MD5 != callcenter.DigestHA1("MD5", "1001", realm, pw) || a.HA1SHA256 != callcenter.DigestHA1("SHA-256", "1001", realm, pw) {
			t.Errorf("HA1s do not match %q in realm %s: %+v", pw, realm, a)
		}
	}
	check("first-pw")
	if _, stderr, err := run(t, st, "agent passwd 1001 --password second-pw"); err != nil {
		t.Fatal(err, stderr)
	}
	check("second-pw")

	var o, e bytes.Buffer
	if err := Run(ctx, st, "", []string{"agent", "add", "1002", "--name", "x", "--password", "secret1"}, &o, &e); !errors.Is(err, callcenter.ErrInvalid) {
		t.Fatalf("empty realm err = %v, want ErrInvalid", err)
	}
}

func TestSeed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	for i := range 2 {
		if err := Seed(ctx, st, realm); err != nil {
			t.Fatalf("Seed #%d: %v", i, err)
		}
	}
	agents, err := st.ListAgents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := DemoAgents()
	if len(agents) != len(want) {
		t.Fatalf("%d agents after seeding twice, want %d", len(agents), len(want))
	}
	for i, a := range agents {
		if a.WorkNumber != want[i].WorkNumber || a.Name != want[i].Name || a.Role != want[i].Role || a.Disabled {
			t.Errorf("agent %d = %+v, want %+v", i, a, want[i])
		}
		if !callcenter.CheckPassword(a.PasswordHash, DemoPassword) || a.HA1MD5 != callcenter.DigestHA1("MD5", a.WorkNumber, realm, DemoPassword) {
			t.Errorf("agent %s: credentials do not match the demo password", a.WorkNumber)
		}
	}
	if a, err := st.AgentByWorkNumber(ctx, DemoAdmin); err != nil || a.Role != callcenter.RoleAdmin || a.Name != "Admin" {
		t.Errorf("demo admin %s = %+v, %v; want role admin", DemoAdmin, a, err)
	}
	n, err := st.NumberByE164(ctx, DemoNumber)
	if err != nil || n.Name != "Hotline" || n.RouteAgent != "1001" {
		t.Fatalf("demo number = %+v, %v", n, err)
	}

	// Seeding leaves an admin's changes alone.
	if err := st.SetAgentDisabled(ctx, "1002", true); err != nil {
		t.Fatal(err)
	}
	if err := Seed(ctx, st, realm); err != nil {
		t.Fatal(err)
	}
	if a, _ := st.AgentByWorkNumber(ctx, "1002"); !a.Disabled {
		t.Fatal("Seed re-enabled an agent the admin disabled")
	}
}

// The command line is outside input: whatever it is, Run must not panic, and
// a failure is an error (never a silent success with usage on stderr).
func FuzzRun(f *testing.F) {
	for _, s := range []string{"agent add 1001 --name Li --password secret1", "agent list", "number add 400 --name x --route",
		"agent passwd --password", "number disable", "-h", "agent add -- 1001", "agent add 1001 --role= --name=x --password=yyyyyy",
		"group add sales --label x --overflow-group y", "group member add sales 1001 --level -3", "group member",
		"ivr set main --prompt p --choice 1=group:sales --choice #=menu: --on-fail repeat", "status add a --label b",
		"number route 400 --ivr main --agent 1", "group set --label x", "group set sales --ivr", "group set -x= s"} {
		f.Add(s)
	}
	st, err := store.Open(context.Background(), ":memory:")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	f.Fuzz(func(t *testing.T, line string) {
		var o, e bytes.Buffer
		err := Run(context.Background(), st, realm, strings.Fields(line), &o, &e)
		if err == nil && e.Len() > 0 {
			t.Fatalf("%q succeeded but wrote to stderr: %s", line, e.String())
		}
		if errors.Is(err, ErrUsage) && !strings.Contains(e.String(), "usage:") {
			t.Fatalf("%q: usage error without usage text", line)
		}
	})
}
