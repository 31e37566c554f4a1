package sipedge

import (
	"net"
	"testing"
	"time"

	"github.com/emiago/diago/media"
	"github.com/emiago/diago/media/sdp"
)

// SDP offers come from outside: whatever they hold, checkOffer must answer
// a status and never panic (diago's SDP parser is lenient and indexes maps
// we hand it).
func FuzzCheckOffer(f *testing.F) {
	f.Add([]byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 96 0 101\r\na=rtpmap:96 opus/48000/2\r\na=rtpmap:101 telephone-event/8000\r\n"))
	f.Add([]byte("v=0\r\nm=audio 0 RTP/AVP\r\n"))
	f.Add([]byte("v=0\nc=IN IP4\nm=audio x RTP/AVP 0\n"))
	f.Add([]byte("=\r\n==\r\nm=\r\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		code := checkOffer(body, agentCodecs())
		if code != 0 && code != 400 && code != 488 {
			t.Fatalf("status %d", code)
		}
		if code == 0 {
			// What passes goes on to diago, which must not panic on it.
			ms := &media.MediaSession{Codecs: agentCodecs(), Mode: sdp.ModeSendrecv, Laddr: net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}}
			_ = ms.RemoteSDP(body)
		}
	})
}

// In-dialog SDP (re-INVITE, ACK) reaches diago after sdpSafe alone: what
// it passes must not panic diago's parser, in either offer/answer role.
func FuzzSDPSafe(f *testing.F) {
	f.Add([]byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\n"))
	f.Add([]byte("v=0\n\nm=audio 4000 RTP/AVP 0\n"))
	f.Add([]byte("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"))
	f.Add([]byte("v=0\nc= \nm=audio 1 RTP/AVP 8\n"))
	all := append(agentCodecs(), trunkCodecs()...)
	f.Fuzz(func(t *testing.T, body []byte) {
		if !sdpSafe(body) {
			return
		}
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("sdpSafe passed a body diago panics on (%v): %q", r, body)
			}
		}()
		ms := &media.MediaSession{Codecs: all, Mode: sdp.ModeSendrecv, Laddr: net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}}
		_ = ms.RemoteSDP(body)
		_ = ms.Fork().RemoteSDP(body) // as a re-INVITE's update does
	})
}

// Authorization headers come from outside: parsing and verifying them must
// not panic, and garbage must never authenticate.
func FuzzCredentials(f *testing.F) {
	a, err := newAuthenticator(testRealm, []string{algSHA256, algMD5}, time.Now)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(`Digest username="1001", realm="test.agentphone", nonce="` + a.nonce() + `", uri="sip:x", response="00", qop=auth, nc=00000001, cnonce="c", algorithm=MD5`)
	f.Add(`Digest username=1001`)
	f.Add(`Digest nc=zz`)
	f.Add(`Basic abc`)
	f.Add(`Digest username="a", realm="test.agentphone", nonce="", uri="", response="", algorithm=SHA-256`)
	set := dummyHA1s()
	f.Fuzz(func(t *testing.T, h string) {
		cred, err := parseCredentials(h)
		if err != nil {
			return
		}
		if a.verify("REGISTER", cred, set) == nil {
			t.Fatalf("random credentials authenticated: %q", h)
		}
	})
}
