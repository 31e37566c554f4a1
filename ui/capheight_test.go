package ui

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
)

// The phone tab asks for its content's height up to the cap, so the bar
// never grows past a 768 px screen; above the cap the content scrolls.
func TestCapHeight(t *testing.T) {
	for _, tc := range []struct {
		name           string
		content, limit float32
		wantMin        float32
	}{
		{"short content keeps its height", 300, 500, 300},
		{"tall content is capped", 900, 500, 500},
		{"exactly the cap", 500, 500, 500},
		{"no room left asks for nothing", 300, -20, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := canvas.NewRectangle(nil)
			r.SetMinSize(fyne.NewSize(350, tc.content))
			scroll := container.NewVScroll(r)
			box := container.New(capHeight{content: r, max: func() float32 { return tc.limit }}, scroll)
			if got := box.MinSize(); got.Height != tc.wantMin || got.Width != 350 {
				t.Errorf("MinSize = %v, want 350x%v", got, tc.wantMin)
			}
			box.Resize(fyne.NewSize(360, 400))
			if scroll.Size() != fyne.NewSize(360, 400) {
				t.Errorf("scroll laid out at %v, want the box's 360x400", scroll.Size())
			}
		})
	}
}
