package phone

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/emiago/diago"
	"github.com/emiago/sipgo/sip"
)

// The server's offers carry the call's identity in X- headers; the UI pops
// the screen from them, so Call.Header must expose them on inbound calls.
func TestInboundOfferHeaders(t *testing.T) {
	p := newDirectPhone(t, "1002")

	drain := new(atomic.Bool)
	ua, err := newDrainableUA("callcenterd", drain)
	if err != nil {
		t.Fatal(err)
	}
	dg := diago.NewDiago(ua, diago.WithLogger(testLogger(t)),
		diago.WithTransport(diago.Transport{Transport: "udp", BindHost: "127.0.0.1", BindPort: 0}))
	ctx, cancel := context.WithCancel(context.Background())
	if err := dg.ServeBackground(ctx, func(*diago.DialogServerSession) {}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); closeDrained(ua, drain) })

	var uri sip.Uri
	if err := sip.ParseUri(p.URI(), &uri); err != nil {
		t.Fatal(err)
	}
	res := make(chan error, 1)
	go func() {
		_, err := dg.Invite(ctxT(t), uri, diago.InviteOptions{Headers: []sip.Header{
			sip.NewHeader("X-Call-ID", "cc-42"),
			sip.NewHeader("X-Caller", "13800138000"),
			sip.NewHeader("X-Number", "4008001234"),
		}})
		res <- err
	}()
	c := nextCall(t, p, Ringing)
	for name, want := range map[string]string{"X-Call-ID": "cc-42", "x-caller": "13800138000", "X-Number": "4008001234", "X-Missing": ""} {
		if got := c.Header(name); got != want {
			t.Errorf("Header(%q) = %q, want %q", name, got, want)
		}
	}
	if err := c.Decline(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if err := <-res; StatusCode(asStatus(err)) != 603 {
		t.Errorf("server saw %v, want 603", err)
	}
}

// asStatus converts sipgo's response error the way the phone does.
func asStatus(err error) error {
	c := &Call{}
	return c.inviteError(err)
}
