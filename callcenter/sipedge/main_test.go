package sipedge

import (
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain checks that no goroutine outlives the package's tests. diago
// hangs up a dialog whose handler returned while it was still live and waits
// up to 10 s for the BYE's answer; when the peer is a test phone that just
// closed, that wait ends on its own, so goroutines get that long to finish
// before one is called leaked.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		deadline := time.Now().Add(12 * time.Second)
		for {
			err := goleak.Find()
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				fmt.Fprintln(os.Stderr, "goleak: goroutines outlived the tests:", err)
				code = 1
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	os.Exit(code)
}
