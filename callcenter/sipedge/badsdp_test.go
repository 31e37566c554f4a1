package sipedge

import (
	"context"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter"
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

// A callee answering with SDP diago would panic on is ACKed and BYEd; the
// caller gets 502 and the call is recorded as failed.
func TestCalleeAnswersUnparsableSDP(t *testing.T) {
	for name, body := range map[string]string{
		"LF-only empty line": "v=0\n\nm=audio 4000 RTP/AVP 0\n",
		"short c= line":      "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			byed := make(chan bool, 1)
			returned := make(chan struct{})
			c := newCenter(t, func(got chan<- *sip.Request) func(*diago.DialogServerSession) {
				return func(d *diago.DialogServerSession) {
					defer close(returned)
					got <- d.InviteRequest
					// Its error is not checked: when ACK and BYE come close
					// together it may see the dialog ended, not confirmed.
					_ = d.RespondSDP([]byte(body))
					select {
					case <-d.Context().Done():
						byed <- true
					case <-time.After(5 * time.Second):
						byed <- false
					}
				}
			})
			_, err := c.a.call(ctxT(t), c.edge, "1002", diago.InviteOptions{})
			if got := statusOf(err); got != 502 {
				t.Fatalf("caller got %d (%v), want 502", got, err)
			}
			<-c.offers
			// sipgo sends a BYE only on a confirmed (ACKed) dialog.
			if !<-byed {
				t.Error("callee got no BYE")
			}
			// sipgo may run the callee's ACK and BYE handlers out of order;
			// diago then sends one more BYE after the handler returns. Let
			// it go out before the test closes the callee's socket.
			<-returned
			time.Sleep(50 * time.Millisecond)
			r := c.rec.waitEnded(t)
			if r.Result != callcenter.ResultFailed || r.HangupBy != callcenter.PartyCallee {
				t.Errorf("record result=%v by=%v", r.Result, r.HangupBy)
			}
		})
	}
}
