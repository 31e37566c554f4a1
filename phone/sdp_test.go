package phone

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	"github.com/emiago/diago/media/sdp"
	"github.com/emiago/sipgo/sip"
)

// The body the sipedge engineer's fuzzer found: an LF-only empty line makes
// diago v0.31.0's SDP parser index out of range.
const lfEmptyLineSDP = "v=0\n\nm=audio 4000 RTP/AVP 0\n"

// A well-formed offer (LF line ends are tolerated by diago).
const goodSDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"

// A short c= line: diago's ConnectionInformation takes three fields blindly.
const shortConnSDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"

// diagoPanics reports whether diago's media session panics on body, the
// way it would when an INVITE, 200 OK, ACK or re-INVITE carries it.
func diagoPanics(body []byte) (panicked bool) {
	defer func() {
		if recover() != nil {
			panicked = true
		}
	}()
	ms := &media.MediaSession{Codecs: []media.Codec{media.CodecAudioOpus, media.CodecAudioUlaw, media.CodecAudioAlaw, media.CodecTelephoneEvent8000},
		Mode: sdp.ModeSendrecv, Laddr: net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}}
	_ = ms.RemoteSDP(body)
	return false
}

func TestCheckSDP(t *testing.T) {
	tests := []struct {
		name string
		body string
		bad  bool
	}{
		{"CRLF offer", goodSDP, false},
		{"LF offer", strings.ReplaceAll(goodSDP, "\r\n", "\n"), false},
		{"no body", "", false},
		{"not SDP at all (diago refuses it itself)", "hello", false},
		{"LF-only empty line", lfEmptyLineSDP, true},
		{"leading LF", "\nv=0\r\n", true},
		{"lone LF", "\n", true},
		{"CRLF then LF-only line", "v=0\r\n\nm=audio 4000 RTP/AVP 0\r\n", true},
		{"c= with two fields", shortConnSDP, true},
		{"empty-ish c=", "v=0\r\nc= \r\n", true},
		{"media-level short c=", strings.Replace(goodSDP, "a=rtpmap:0", "c=IN\r\na=rtpmap:0", 1), true},
		{"CRLF blank line", "v=0\r\n\r\nm=audio 4000 RTP/AVP 0\r\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkSDP([]byte(tt.body))
			if tt.bad != (err != nil) {
				t.Fatalf("checkSDP = %v, want bad=%v", err, tt.bad)
			}
			if err != nil && !errors.Is(err, ErrBadSDP) {
				t.Errorf("error %v is not ErrBadSDP", err)
			}
			if err == nil && diagoPanics([]byte(tt.body)) {
				t.Errorf("checkSDP let through a body diago panics on")
			}
		})
	}
	// The guard exists for these: if diago stops panicking on them, this
	// says so (and the guard may go).
	for _, body := range []string{lfEmptyLineSDP, shortConnSDP} {
		if !diagoPanics([]byte(body)) {
			t.Errorf("diago no longer panics on %q", body)
		}
	}
}

// SDP bodies come from the network; whatever passes checkSDP must be safe
// for diago's parser, and checkSDP itself must not panic.
func FuzzCheckSDPGuardsDiago(f *testing.F) {
	for _, s := range []string{goodSDP, lfEmptyLineSDP, shortConnSDP, "\n", "v=0\r\nc= \r\n", "=\r\n==\r\nm=\r\n",
		"v=0\nc=IN IP4 1.2.3.4\nm=audio 1 RTP/AVP 96\na=rtpmap:96 opus\na=crypto:1 AES_CM_128_HMAC_SHA1_80\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if checkSDP(body) == nil && diagoPanics(body) {
			t.Fatalf("checkSDP passed a body diago panics on: %q", body)
		}
	})
}

func TestCheckAnswer(t *testing.T) {
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "b", Host: "127.0.0.1"})
	for _, tt := range []struct {
		code int
		body string
		bad  bool
	}{
		{200, goodSDP, false},
		{200, "", true},
		{200, lfEmptyLineSDP, true},
		{180, "", false},
		{183, lfEmptyLineSDP, false}, // diago does not read early SDP here
		{486, "", false},
	} {
		res := sip.NewResponseFromRequest(req, tt.code, "x", []byte(tt.body))
		if err := checkAnswer(res); (err != nil) != tt.bad || (err != nil && !errors.Is(err, ErrBadSDP)) {
			t.Errorf("%d %q: %v, want bad=%v", tt.code, tt.body, err, tt.bad)
		}
	}
}

// rawPeer is a SIP peer written by hand on a UDP socket, so the test can
// send what no well-behaved stack would.
type rawPeer struct {
	t    *testing.T
	conn *net.UDPConn
	addr string
}

func newRawPeer(t *testing.T) *rawPeer {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawPeer{t: t, conn: c, addr: c.LocalAddr().String()}
}

func (r *rawPeer) send(to string, m sip.Message) {
	r.t.Helper()
	ua, err := net.ResolveUDPAddr("udp", to)
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.conn.WriteToUDP([]byte(m.String()), ua); err != nil {
		r.t.Fatal(err)
	}
}

// read returns the next message that is not a provisional response, with
// its source set.
func (r *rawPeer) read() sip.Message {
	r.t.Helper()
	buf := make([]byte, 65535)
	for {
		r.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, from, err := r.conn.ReadFromUDP(buf)
		if err != nil {
			r.t.Fatalf("raw peer: nothing received: %v", err)
		}
		m, err := sip.ParseMessage(append([]byte(nil), buf[:n]...))
		if err != nil {
			r.t.Fatalf("raw peer: parse %q: %v", buf[:n], err)
		}
		if res, ok := m.(*sip.Response); ok && res.IsProvisional() {
			continue
		}
		m.SetSource(from.String())
		return m
	}
}

// invite builds an INVITE from the raw peer to the phone with body.
func (r *rawPeer) invite(p *Phone, body string) *sip.Request {
	host, port, _ := net.SplitHostPort(p.Addr())
	pn, _ := strconv.Atoi(port)
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "1002", Host: host, Port: pn})
	_, lport, _ := net.SplitHostPort(r.addr)
	lp, _ := strconv.Atoi(lport)
	via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: "UDP", Host: "127.0.0.1", Port: lp, Params: sip.NewParams()}
	via.Params.Add("branch", sip.GenerateBranch())
	req.AppendHeader(via)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "raw", Host: "127.0.0.1"}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "1002", Host: host}, Params: sip.NewParams()})
	cid := sip.CallIDHeader(sip.GenerateTagN(16))
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.INVITE})
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "raw", Host: "127.0.0.1", Port: lp}})
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody([]byte(body))
	return req
}

// ack builds the ACK for res to req (RFC 3261 §17.1.1.3 for non-2xx: same
// branch; for 2xx a new one) with body.
func (r *rawPeer) ack(req *sip.Request, res *sip.Response, body string) *sip.Request {
	target := req.Recipient
	if c := res.Contact(); c != nil && res.IsSuccess() {
		target = c.Address
	}
	ack := sip.NewRequest(sip.ACK, target)
	via := req.Via().Clone()
	if res.IsSuccess() {
		via.Params.Add("branch", sip.GenerateBranch())
	}
	ack.AppendHeader(via)
	ack.AppendHeader(sip.HeaderClone(req.From()))
	ack.AppendHeader(sip.HeaderClone(res.To()))
	ack.AppendHeader(sip.HeaderClone(req.CallID()))
	ack.AppendHeader(&sip.CSeqHeader{SeqNo: req.CSeq().SeqNo, MethodName: sip.ACK})
	mf := sip.MaxForwardsHeader(70)
	ack.AppendHeader(&mf)
	if body != "" {
		ack.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	ack.SetBody([]byte(body))
	return ack
}

// An INVITE whose SDP would crash diago gets 400 and creates no call; the
// phone keeps working.
func TestInviteWithUnparsableSDPGets400(t *testing.T) {
	p := newDirectPhone(t, "1002")
	p.SetAutoAnswer(true)
	raw := newRawPeer(t)
	for _, body := range []string{lfEmptyLineSDP, shortConnSDP} {
		req := raw.invite(p, body)
		raw.send(p.Addr(), req)
		res, ok := raw.read().(*sip.Response)
		if !ok || res.StatusCode != sip.StatusBadRequest {
			t.Fatalf("answer to INVITE with %q: %v, want 400", body, res)
		}
		raw.send(p.Addr(), raw.ack(req, res, ""))
	}
	if n := len(p.Calls()); n != 0 {
		t.Fatalf("%d calls after refused INVITEs", n)
	}
	select {
	case ev := <-p.Events():
		t.Fatalf("event %+v for a refused INVITE", ev)
	default:
	}
	// Still alive: a normal call is answered.
	a := newDirectPhone(t, "1001")
	c, err := a.Dial(ctxT(t), p.URI())
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, c, Active)
	if err := c.Hangup(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	// Let the callee finish the BYE before the caller's socket closes.
	nextCall(t, p, Ended)
}

// An ACK carrying SDP diago would crash on completes the dialog without it,
// and the call is then ended with BYE and ErrBadSDP.
func TestAckWithUnparsableSDPEndsCall(t *testing.T) {
	p := newDirectPhone(t, "1002")
	p.SetAutoAnswer(true)
	raw := newRawPeer(t)
	req := raw.invite(p, goodSDP)
	raw.send(p.Addr(), req)
	res, ok := raw.read().(*sip.Response)
	if !ok || res.StatusCode != sip.StatusOK {
		t.Fatalf("answer: %v, want 200", res)
	}
	raw.send(p.Addr(), raw.ack(req, res, lfEmptyLineSDP))
	bye, ok := raw.read().(*sip.Request)
	if !ok || bye.Method != sip.BYE {
		t.Fatalf("got %v, want BYE", bye)
	}
	raw.send(p.Addr(), sip.NewResponseFromRequest(bye, sip.StatusOK, "OK", nil))
	c := nextCall(t, p, Ended)
	if !errors.Is(c.EndReason(), ErrBadSDP) {
		t.Errorf("EndReason %v, want ErrBadSDP", c.EndReason())
	}
}

// A 200 OK whose SDP would crash diago (or that has none) is ACKed and
// BYEd, and the call ends with ErrBadSDP instead of the phone crashing.
func TestAnswerWithUnparsableSDPEndsCall(t *testing.T) {
	for name, body := range map[string]string{"LF-only empty line": lfEmptyLineSDP, "short c=": shortConnSDP, "no SDP": ""} {
		t.Run(name, func(t *testing.T) {
			p := newDirectPhone(t, "1001")
			raw := newRawPeer(t)
			c, err := p.Dial(ctxT(t), "sip:uas@"+raw.addr)
			if err != nil {
				t.Fatal(err)
			}
			inv, ok := raw.read().(*sip.Request)
			if !ok || inv.Method != sip.INVITE {
				t.Fatalf("got %v, want INVITE", inv)
			}
			res := sip.NewResponseFromRequest(inv, sip.StatusOK, "OK", []byte(body))
			res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "uas", Host: "127.0.0.1", Port: raw.conn.LocalAddr().(*net.UDPAddr).Port}})
			if body != "" {
				res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
			}
			raw.send(inv.Source(), res)
			ack, ok := raw.read().(*sip.Request)
			if !ok || ack.Method != sip.ACK {
				t.Fatalf("got %v, want ACK", ack)
			}
			bye, ok := raw.read().(*sip.Request)
			if !ok || bye.Method != sip.BYE {
				t.Fatalf("got %v, want BYE", bye)
			}
			raw.send(bye.Source(), sip.NewResponseFromRequest(bye, sip.StatusOK, "OK", nil))
			waitDone(t, c)
			if !errors.Is(c.EndReason(), ErrBadSDP) {
				t.Errorf("EndReason %v, want ErrBadSDP", c.EndReason())
			}
		})
	}
}

// A re-INVITE whose SDP would crash diago is answered 400 and the call
// goes on.
func TestReInviteWithUnparsableSDPGets400(t *testing.T) {
	drain := new(atomic.Bool)
	ua, err := newDrainableUA("uas", drain)
	if err != nil {
		t.Fatal(err)
	}
	dg := diago.NewDiago(ua, diago.WithLogger(testLogger(t)),
		diago.WithTransport(diago.Transport{Transport: "udp", BindHost: "127.0.0.1", BindPort: 0}),
		diago.WithMediaConfig(diago.MediaConfig{Codecs: []media.Codec{media.CodecAudioUlaw}}))
	status := make(chan int, 1)
	ctx, cancel := context.WithCancel(context.Background())
	err = dg.ServeBackground(ctx, func(d *diago.DialogServerSession) {
		if err := d.Answer(); err != nil {
			status <- -1
			return
		}
		req := sip.NewRequest(sip.INVITE, d.InviteRequest.Contact().Address)
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		req.SetBody([]byte(lfEmptyLineSDP))
		rctx, rcancel := context.WithTimeout(d.Context(), 5*time.Second)
		defer rcancel()
		res, err := d.Do(rctx, req)
		if err != nil {
			status <- -2
			return
		}
		if res.IsSuccess() {
			// Confirm the (unexpected) 2xx so the phone's dialog settles.
			_ = d.WriteRequest(sip.NewRequest(sip.ACK, d.InviteRequest.Contact().Address))
		}
		status <- res.StatusCode
		<-d.Context().Done()
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200 && len(ua.TransportLayer().ListenPorts("udp")) == 0; i++ {
		time.Sleep(5 * time.Millisecond)
	}
	t.Cleanup(func() {
		time.Sleep(20 * time.Millisecond) // let the BYE's handler finish
		cancel()
		closeDrained(ua, drain)
	})
	p := newDirectPhone(t, "1001")
	c, err := p.Dial(ctxT(t), "sip:uas@127.0.0.1:"+itoa(ua.TransportLayer().ListenPorts("udp")[0]))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-status:
		if code != sip.StatusBadRequest {
			t.Fatalf("re-INVITE answered %d, want 400", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("re-INVITE got no answer")
	}
	time.Sleep(100 * time.Millisecond)
	if st := c.State(); st != Active {
		t.Fatalf("call %s after a refused re-INVITE, want active", st)
	}
	if err := c.Hangup(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}
