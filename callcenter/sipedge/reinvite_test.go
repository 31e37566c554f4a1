package sipedge

import (
	"context"
	"testing"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/sipgo/sip"
)

// In-dialog offers go straight to diago's SDP parser, which has no
// recover: a re-INVITE whose SDP would make it panic is answered 400 and
// the call goes on.
func TestReInviteWithUnparsableSDP(t *testing.T) {
	c := newCenter(t, answerer)
	ctx := ctxT(t)
	d, err := c.a.call(ctx, c.edge, "1002", diago.InviteOptions{})
	if err != nil {
		t.Fatalf("call: %v", err)
	}
	defer d.Close()
	<-c.offers
	for name, body := range map[string]string{
		"LF-only empty line": "v=0\n\nm=audio 4000 RTP/AVP 0\n",
		"short c= line":      "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
		"blank c= line":      "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc= \r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
	} {
		req := sip.NewRequest(sip.INVITE, d.InviteResponse.Contact().Address)
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		req.SetBody([]byte(body))
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		res, err := d.Do(rctx, req)
		cancel()
		if err != nil {
			t.Fatalf("%s: re-INVITE: %v", name, err)
		}
		if res.StatusCode != 400 {
			t.Errorf("%s: re-INVITE answered %d, want 400", name, res.StatusCode)
		}
	}
	select {
	case <-d.Context().Done():
		t.Fatal("call ended after refused re-INVITEs")
	case <-time.After(100 * time.Millisecond):
	}
	if err := d.Hangup(ctx); err != nil {
		t.Fatalf("hangup: %v", err)
	}
	c.rec.waitEnded(t)
}
