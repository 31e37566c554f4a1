// Package ui is the softphone's Fyne user interface: the login window, the
// phone bar, the incoming-call pop and the audio settings dialog. Widgets
// only show view-model bindings and call view-model commands (ui/vm); no
// state lives in widget fields. Nothing imports this package except
// cmd/softphone, and it never imports fyne/v2/app so tests need no display.
package ui

import (
	"embed"
	"fmt"
	"os"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"

	"github.com/agentphone/agentphone/assets"
)

// LoadTranslations registers the embedded translations (en, zh-CN) with
// fyne/v2/lang. The language follows the environment (LANGUAGE, LC_ALL,
// LANG); call this after changing it and before building any window.
func LoadTranslations() error {
	if err := lang.AddTranslationsFS(assets.FS, assets.TranslationsDir); err != nil {
		return fmt.Errorf("load translations: %w", err)
	}
	if err := lang.AddTranslationsFS(translations, translationsDir); err != nil {
		return fmt.Errorf("load in-call translations: %w", err)
	}
	return nil
}

// translations are the strings of in-call work (issue 4), kept beside
// the widgets that use them: the files are named incall.LANG.json and
// add to the shipped ones in assets.
//
//go:embed translations
var translations embed.FS

const translationsDir = "translations"

// UseLanguage switches the UI language: "en", "zh-CN", or "" for the
// system's. fyne/v2/lang reads the locale from the environment (LANGUAGE
// wins over LANG unless the locale is C, which LC_ALL overrides), so the
// choice is made there and the translations are loaded again.
func UseLanguage(tag string) error {
	if tag == "" {
		os.Unsetenv("LANGUAGE")
		os.Unsetenv("LC_ALL")
	} else {
		t := strings.ReplaceAll(tag, "-", "_")
		os.Setenv("LANGUAGE", t)
		os.Setenv("LC_ALL", t+".UTF-8")
	}
	return LoadTranslations()
}

// UseLanguageOrSystem is UseLanguage for a tag that may be empty: empty
// keeps the environment as it is (the system's language).
func UseLanguageOrSystem(tag string) error {
	if tag == "" {
		return LoadTranslations()
	}
	return UseLanguage(tag)
}

// AppIcon is the application icon.
func AppIcon() fyne.Resource {
	return fyne.NewStaticResource("Icon.png", assets.Must("Icon.png"))
}

// icon returns an embedded SVG icon recoloured to follow the theme.
func icon(name string) fyne.Resource {
	return theme.NewThemedResource(fyne.NewStaticResource(name+".svg", assets.Must("icons/"+name+".svg")))
}

// onBool calls f with the value of b now and whenever it changes, on the
// main goroutine (binding listeners run there).
func onBool(b binding.Bool, f func(bool)) {
	b.AddListener(binding.NewDataListener(func() {
		v, _ := b.Get()
		f(v)
	}))
}

// onString is onBool for strings.
func onString(b binding.String, f func(string)) {
	b.AddListener(binding.NewDataListener(func() {
		v, _ := b.Get()
		f(v)
	}))
}

// enableWhen keeps w enabled exactly while b is true.
func enableWhen(w fyne.Disableable, b binding.Bool) {
	onBool(b, func(on bool) {
		if on {
			w.Enable()
		} else {
			w.Disable()
		}
	})
}

// showWhenSet hides o while s is empty. parent is the container holding o:
// showing or hiding a child does not lay out its container again, so it is
// refreshed here, or o would appear at the origin on top of its siblings.
func showWhenSet(o fyne.CanvasObject, s binding.String, parent *fyne.Container) {
	// Apply the current value now, not only from the listener's first
	// (asynchronous) call: the shell sizes the window from the content's
	// MinSize right after building it, and rows that are about to hide
	// would make it too tall.
	if v, _ := s.Get(); v == "" {
		o.Hide()
	}
	onString(s, func(v string) {
		if (v != "") == o.Visible() {
			return
		}
		if v == "" {
			o.Hide()
		} else {
			o.Show()
		}
		parent.Refresh()
	})
}
