package ui

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2/lang"

	"github.com/agentphone/agentphone/assets"
)

// uiStrings returns every user-visible string literal of ui and ui/vm: the
// keys given to lang.L, and the words the view-models translate later
// (m.fail's action, the device kinds of the audio dialog).
func uiStrings(t *testing.T) map[string]string {
	t.Helper()
	files, _ := filepath.Glob("*.go")
	vmFiles, _ := filepath.Glob("vm/*.go")
	out := map[string]string{}
	fset := token.NewFileSet()
	for _, f := range append(files, vmFiles...) {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			arg := -1
			switch fun := call.Fun.(type) {
			case *ast.SelectorExpr:
				if (fun.Sel.Name == "L" && isIdent(fun.X, "lang")) || fun.Sel.Name == "fail" {
					arg = 0
				}
			case *ast.Ident:
				if fun.Name == "pick" { // the audio dialog's device kinds
					arg = 3
				}
			}
			if arg < 0 || arg >= len(call.Args) {
				return true
			}
			if lit, ok := call.Args[arg].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				out[s] = fset.Position(lit.Pos()).String()
			}
			return true
		})
	}
	return out
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

func TestEveryStringIsTranslated(t *testing.T) {
	found := uiStrings(t)
	for _, s := range []string{"Log in", "microphone", "DTMF", "Talking {{.Time}} · {{.Number}}"} {
		if _, ok := found[s]; !ok {
			t.Fatalf("scanner missed %q; it is broken", s)
		}
	}
	for _, name := range []string{"en.json", "zh-CN.json"} {
		var m map[string]string
		if err := json.Unmarshal(assets.Must(assets.TranslationsDir+"/"+name), &m); err != nil {
			t.Fatal(err)
		}
		// In-call work's strings live in ui/translations and add to these.
		b, err := translations.ReadFile(translationsDir + "/incall." + name)
		if err != nil {
			t.Fatal(err)
		}
		var more map[string]string
		if err := json.Unmarshal(b, &more); err != nil {
			t.Fatal(err)
		}
		for k, v := range more {
			if old, ok := m[k]; ok && old != v {
				t.Errorf("%s: %q translated twice: %q and %q", name, k, old, v)
			}
			m[k] = v
		}
		for s, where := range found {
			if m[s] == "" {
				t.Errorf("%s: %q (%s) missing", name, s, where)
			}
		}
	}
}

func TestChineseUI(t *testing.T) {
	restore := func() {
		// Back to English for the goldens of the other tests.
		t.Setenv("LANGUAGE", "en")
		t.Setenv("LC_ALL", "en_US.UTF-8")
		_ = LoadTranslations()
	}
	t.Cleanup(restore)
	t.Setenv("LANGUAGE", "zh_CN")
	t.Setenv("LC_ALL", "zh_CN.UTF-8")
	if err := LoadTranslations(); err != nil {
		t.Fatal(err)
	}
	if got := lang.L("Log in"); got != "登录" {
		t.Errorf("Log in = %q", got)
	}
	if got := lang.L("Registered {{.Time}}", map[string]any{"Time": "00:12"}); got != "已注册 00:12" {
		t.Errorf("template = %q", got)
	}
	if got := lang.L("Transfer the call"); got != "转接通话" {
		t.Errorf("in-call string = %q", got)
	}
	restore()
	if got := lang.L("Log in"); got != "Log in" {
		t.Errorf("English not restored: %q", got)
	}
}
