// Package vm holds the softphone's view-models: all UI state as Fyne data
// bindings plus the commands the widgets call. It has no widgets and never
// opens a window, so every behaviour is tested without a display.
//
// The view-models drive the SIP phone, the call-center client and the audio
// devices through the small interfaces in ports.go. The real types are
// adapted to them in adapt.go; tests use fakes at exactly these seams.
//
// Every user-visible string goes through fyne/v2/lang (lang.L), with the
// English text as the key, so translations live in assets/translations.
package vm
