// Package archtest checks DESIGN.md's import-direction rules from `go list`,
// so that a wrong import fails `make test` instead of rotting the layering.
package archtest

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/agentphone/agentphone"

type pkg struct {
	ImportPath string
	Deps       []string // transitive
	Imports    []string // direct
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps=false", "-json", module+"/...")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("decode go list: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		t.Fatal("go list found no packages")
	}
	return pkgs
}

func rel(path string) string {
	if path == module {
		return "."
	}
	return strings.TrimPrefix(path, module+"/")
}

func under(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }

// rule says whether package p (relative path) may depend, transitively, on
// dep (a relative path inside the module, or a full external path).
type rule struct {
	name  string
	from  func(p string) bool
	deny  func(dep string, internal bool) bool
	scope string // "deps" (transitive) or "imports" (direct)
}

func rules() []rule {
	fyne := func(dep string, internal bool) bool { return !internal && strings.HasPrefix(dep, "fyne.io/") }
	return []rule{
		{
			name:  "phone, audio and callcenter never import fyne",
			from:  func(p string) bool { return under(p, "phone") || under(p, "audio") || under(p, "callcenter") },
			deny:  fyne,
			scope: "deps",
		},
		{
			name: "nothing but cmd/softphone imports ui",
			from: func(p string) bool { return !under(p, "ui") && p != "cmd/softphone" },
			deny: func(dep string, internal bool) bool {
				return internal && (dep == "ui" || (under(dep, "ui") && !under(dep, "ui/vm")))
			},
			scope: "deps",
		},
		{
			name: "only cmd/* imports fyne/v2/app (tests must not link GLFW)",
			from: func(p string) bool { return !under(p, "cmd") },
			deny: func(dep string, internal bool) bool {
				return !internal && (dep == "fyne.io/fyne/v2/app" || strings.HasPrefix(dep, "fyne.io/fyne/v2/internal/driver/glfw"))
			},
			scope: "deps",
		},
		{
			name: "ui/vm holds no widgets",
			from: func(p string) bool { return under(p, "ui/vm") },
			deny: func(dep string, internal bool) bool {
				if internal {
					return under(dep, "ui") && !under(dep, "ui/vm")
				}
				for _, w := range []string{"widget", "container", "canvas", "layout", "dialog"} {
					if dep == "fyne.io/fyne/v2/"+w {
						return true
					}
				}
				return false
			},
			scope: "imports",
		},
		{
			name:  "audio depends on nothing of ours",
			from:  func(p string) bool { return under(p, "audio") },
			deny:  func(dep string, internal bool) bool { return internal && !under(dep, "audio") },
			scope: "deps",
		},
		{
			name: "phone depends only on audio",
			from: func(p string) bool { return under(p, "phone") },
			deny: func(dep string, internal bool) bool {
				return internal && !under(dep, "phone") && !under(dep, "audio")
			},
			scope: "deps",
		},
		{
			name:  "the callcenter domain depends on nothing of ours",
			from:  func(p string) bool { return p == "callcenter" },
			deny:  func(dep string, internal bool) bool { return internal },
			scope: "deps",
		},
		{
			name: "callcenter/* depends only on callcenter and audio",
			from: func(p string) bool { return under(p, "callcenter") },
			deny: func(dep string, internal bool) bool {
				return internal && !under(dep, "callcenter") && !under(dep, "audio")
			},
			scope: "deps",
		},
		{
			name: "ui/vm depends on phone, callcenter/client, callcenter/api, audio, assets",
			from: func(p string) bool { return under(p, "ui/vm") },
			deny: func(dep string, internal bool) bool {
				if !internal {
					return false
				}
				for _, ok := range []string{"ui/vm", "phone", "audio", "callcenter/client", "callcenter/api", "callcenter", "assets"} {
					if dep == ok || (ok != "callcenter" && under(dep, ok)) {
						return false
					}
				}
				return true
			},
			scope: "deps",
		},
	}
}

func TestImportDirection(t *testing.T) {
	pkgs := listPackages(t)
	for _, r := range rules() {
		for _, p := range pkgs {
			from := rel(p.ImportPath)
			if !r.from(from) {
				continue
			}
			deps := p.Deps
			if r.scope == "imports" {
				deps = p.Imports
			}
			for _, d := range deps {
				internal := d == module || strings.HasPrefix(d, module+"/")
				dep := d
				if internal {
					dep = rel(d)
				}
				if r.deny(dep, internal) {
					t.Errorf("%s: %s imports %s", r.name, from, dep)
				}
			}
		}
	}
}

// TestRulesBite makes sure the rules are not vacuous: a forbidden edge must
// be reported by the rule that forbids it.
func TestRulesBite(t *testing.T) {
	cases := []struct {
		from, dep string
		internal  bool
	}{
		{"phone", "fyne.io/fyne/v2", false},
		{"callcenter/sipedge", "ui", true},
		{"audio", "phone", true},
		{"phone", "callcenter/api", true},
		{"callcenter", "audio", true},
		{"callcenter/server", "phone", true},
		{"ui/vm", "fyne.io/fyne/v2/widget", false},
		{"ui/vm", "fyne.io/fyne/v2/app", false},
	}
	for _, c := range cases {
		denied := false
		for _, r := range rules() {
			if r.from(c.from) && r.deny(c.dep, c.internal) {
				denied = true
			}
		}
		if !denied {
			t.Errorf("no rule forbids %s → %s", c.from, c.dep)
		}
	}
	// And allowed edges stay allowed.
	allowed := []struct {
		from, dep string
		internal  bool
	}{
		{"phone", "audio", true},
		{"callcenter/sipedge", "callcenter/media", true},
		{"callcenter/media", "audio", true},
		{"ui/vm", "phone", true},
		{"ui/vm", "callcenter/client", true},
		{"ui", "ui/vm", true},
		{"ui/vm", "fyne.io/fyne/v2/data/binding", false},
	}
	for _, c := range allowed {
		for _, r := range rules() {
			if r.from(c.from) && r.deny(c.dep, c.internal) {
				t.Errorf("rule %q wrongly forbids %s → %s", r.name, c.from, c.dep)
			}
		}
	}
}
