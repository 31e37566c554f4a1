package main

import (
	"net"
	"testing"

	"go.uber.org/goleak"
)

func TestLocalAddrFor(t *testing.T) {
	tests := []struct{ registrar, want string }{
		// A registrar address is only dialled (UDP connect sends nothing)
		// to learn the local interface; no port is bound here.
		{net.JoinHostPort("127.0.0.1", "5060"), "127.0.0.1:0"},
		{"not a host port", "127.0.0.1:0"},
	}
	for _, tc := range tests {
		if got := localAddrFor(tc.registrar); got != tc.want {
			t.Errorf("localAddrFor(%q) = %q, want %q", tc.registrar, got, tc.want)
		}
	}
	// Any routable target gives a local IP with port 0.
	host, port, err := net.SplitHostPort(localAddrFor("[::1]:5060"))
	if err != nil || port != "0" || net.ParseIP(host) == nil {
		t.Errorf("ipv6 loopback: %q %q %v", host, port, err)
	}
}

// The screenshot test runs callcenterd's parts and the carrier in-process:
// everything they start must be gone when it ends.
// (Fyne's binding queue is started by a package init of the fyne/v2/app
// this package links, and lives as long as the process.)
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("fyne.io/fyne/v2/internal/async.(*UnboundedChan[...]).processing"))
}
