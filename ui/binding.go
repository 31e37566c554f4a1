package ui

import (
	"fyne.io/fyne/v2/data/binding"
)

// newFormatted derives a read-only string binding from src through f, for
// labels whose text wraps a value in a translated sentence.
func newFormatted(src binding.String, f func(string) string) binding.String {
	out := binding.NewString()
	src.AddListener(binding.NewDataListener(func() {
		v, _ := src.Get()
		_ = out.Set(f(v))
	}))
	return out
}
