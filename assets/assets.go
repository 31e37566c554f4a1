// Package assets embeds the files the programs ship with: the app icon, UI
// icons, the ringtone and the UI translations. It exposes plain bytes through
// an embed.FS and never imports Fyne, so server code may use it too.
package assets

import "embed"

// FS holds every asset. Paths:
//
//	Icon.png                 application icon (512×512), also used by FyneApp.toml
//	icons/*.svg              monochrome UI icons (black fill; the UI themes them)
//	sounds/ring.wav          ringtone, 48 kHz mono 16-bit PCM, one 3 s cadence
//	translations/*.json      UI strings per language (fyne/v2/lang format)
//
//go:embed Icon.png icons sounds translations
var FS embed.FS

// TranslationsDir is the directory in FS holding the translation files.
const TranslationsDir = "translations"

// Must returns the content of the named asset. It panics if the file is
// missing: asset names are fixed at build time, so a miss is a programming
// error caught by the package tests, not a runtime condition.
func Must(name string) []byte {
	b, err := FS.ReadFile(name)
	if err != nil {
		panic("assets: " + err.Error())
	}
	return b
}
