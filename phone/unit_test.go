package phone

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

func TestRefreshAfter(t *testing.T) {
	tests := []struct{ exp, want time.Duration }{
		{3600 * time.Second, 2880 * time.Second}, // 80%
		{300 * time.Second, 240 * time.Second},
		{20 * time.Second, 15 * time.Second}, // exp-5s is earlier than 80%
		{8 * time.Second, 4 * time.Second},   // never sooner than half
		{2 * time.Second, time.Second},
		{0, 100 * time.Millisecond}, // floor: no busy loop
	}
	for _, tt := range tests {
		if got := refreshAfter(tt.exp); got != tt.want {
			t.Errorf("refreshAfter(%s) = %s, want %s", tt.exp, got, tt.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	lo, hi := func() float64 { return 0 }, func() float64 { return 0.999999 }
	tests := []struct {
		attempt        int
		minWant, maxWt time.Duration
	}{
		{0, 500 * time.Millisecond, time.Second},
		{1, time.Second, 2 * time.Second},
		{4, 8 * time.Second, 16 * time.Second},
		{5, 15 * time.Second, 30 * time.Second}, // capped at 30 s
		{50, 15 * time.Second, 30 * time.Second},
	}
	for _, tt := range tests {
		a := backoff(tt.attempt, time.Second, 30*time.Second, lo)
		b := backoff(tt.attempt, time.Second, 30*time.Second, hi)
		if a != tt.minWant || b < tt.maxWt-time.Millisecond || b > tt.maxWt {
			t.Errorf("attempt %d: range [%s, %s], want [%s, %s]", tt.attempt, a, b, tt.minWant, tt.maxWt)
		}
	}
}

func challengeResponse(code int, hdrs ...string) *sip.Response {
	res := sip.NewResponse(code, "x")
	name := "WWW-Authenticate"
	if code == 407 {
		name = "Proxy-Authenticate"
	}
	for _, h := range hdrs {
		res.AppendHeader(sip.NewHeader(name, h))
	}
	return res
}

func TestPickChallenge(t *testing.T) {
	sha := `Digest realm="r", nonce="n1", algorithm=SHA-256, qop="auth"`
	md5 := `Digest realm="r", nonce="n2", algorithm=MD5, qop="auth"`
	legacy := `Digest realm="r", nonce="n3"`
	odd := `Digest realm="r", nonce="n4", algorithm=SHA-1`
	tests := []struct {
		name      string
		res       *sip.Response
		wantNonce string
		wantHdr   string
		wantErr   bool
	}{
		{"sha first", challengeResponse(401, sha, md5), "n1", "Authorization", false},
		{"sha second", challengeResponse(401, md5, sha), "n1", "Authorization", false},
		{"md5 without algorithm", challengeResponse(401, legacy), "n3", "Authorization", false},
		{"unsupported skipped", challengeResponse(401, odd, md5), "n2", "Authorization", false},
		{"proxy", challengeResponse(407, md5), "n2", "Proxy-Authorization", false},
		{"none usable", challengeResponse(401, odd, "Basic realm=x"), "", "", true},
		{"no header", challengeResponse(401), "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chal, hdr, err := pickChallenge(tt.res)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v", err)
			}
			if err == nil && (chal.Nonce != tt.wantNonce || hdr != tt.wantHdr) {
				t.Errorf("picked nonce %q into %s, want %q into %s", chal.Nonce, hdr, tt.wantNonce, tt.wantHdr)
			}
		})
	}
}

func TestGrantedExpiry(t *testing.T) {
	ours := sip.Uri{Host: "127.0.0.1", Port: 5070}
	tests := []struct {
		name    string
		headers [][2]string
		want    time.Duration
	}{
		{"contact param wins", [][2]string{{"Contact", "<sip:a@127.0.0.1:5070>;expires=60"}, {"Expires", "30"}}, 60 * time.Second},
		{"other contact ignored", [][2]string{{"Contact", "<sip:a@10.0.0.9:5070>;expires=60"}, {"Expires", "30"}}, 30 * time.Second},
		{"expires header", [][2]string{{"Expires", " 45 "}}, 45 * time.Second},
		{"nothing: as asked", nil, 300 * time.Second},
		{"garbage: as asked", [][2]string{{"Expires", "soon"}}, 300 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := sip.NewResponse(200, "OK")
			for _, h := range tt.headers {
				res.AppendHeader(sip.NewHeader(h[0], h[1]))
			}
			if got := grantedExpiry(res, ours, 300*time.Second); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestParseTarget(t *testing.T) {
	reg := &sip.Uri{Scheme: "sip", Host: "10.0.0.1", Port: 5060}
	tests := []struct {
		in      string
		reg     *sip.Uri
		want    string
		wantErr bool
	}{
		{"1002", reg, "sip:1002@10.0.0.1:5060", false},
		{" 13800138000 ", reg, "sip:13800138000@10.0.0.1:5060", false},
		{"138-0013-8000", reg, "sip:13800138000@10.0.0.1:5060", false},
		{"(010) 8888.1234", reg, "sip:01088881234@10.0.0.1:5060", false},
		{"+8613800138000", reg, "sip:+8613800138000@10.0.0.1:5060", false},
		{"alice", reg, "sip:alice@10.0.0.1:5060", false},
		{"sip:1002@127.0.0.1:5070", nil, "sip:1002@127.0.0.1:5070", false},
		{"SIP:bob@example.com", nil, "sip:bob@example.com", false},
		{"1002", nil, "", true}, // direct mode needs a URI
		{"", reg, "", true},
		{"*#06#", reg, "", true},
		{"sips:1002@h", reg, "", true},
		{"tel:+123", reg, "", true},
		{"sip:@", reg, "", true},
		{"al ice", reg, "", true},
		{strings.Repeat("1", 200), reg, "", true},
	}
	for _, tt := range tests {
		got, err := parseTarget(tt.in, tt.reg)
		if tt.wantErr {
			if !errors.Is(err, ErrInvalidTarget) {
				t.Errorf("parseTarget(%q) = %v, %v; want ErrInvalidTarget", tt.in, got.String(), err)
			}
			continue
		}
		if err != nil || got.String() != tt.want {
			t.Errorf("parseTarget(%q) = %q, %v; want %q", tt.in, got.String(), err, tt.want)
		}
	}
}

// FuzzParseTarget: whatever the agent types or pastes, parsing never
// panics, and an accepted target is a sip URI with a host that survives a
// round trip through sipgo's parser.
func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"1002", "sip:1002@127.0.0.1:5070", "138-0013-8000", "sip:a@b;transport=udp", "sip:%00@x", "+", "sip:@:99999"} {
		f.Add(s)
	}
	reg := &sip.Uri{Scheme: "sip", Host: "10.0.0.1", Port: 5060}
	f.Fuzz(func(t *testing.T, in string) {
		u, err := parseTarget(in, reg)
		if err != nil {
			if !errors.Is(err, ErrInvalidTarget) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if u.Scheme != "sip" || u.Host == "" {
			t.Fatalf("accepted %q as %+v", in, u)
		}
		var back sip.Uri
		if err := sip.ParseUri(u.String(), &back); err != nil {
			t.Fatalf("%q -> %q does not re-parse: %v", in, u.String(), err)
		}
	})
}

func TestEnumStrings(t *testing.T) {
	for _, s := range []interface{ String() string }{Unregistered, Registering, Registered, Failed,
		Dialing, Ringing, Early, Active, Ended, Inbound, Outbound, EventCall, EventRegistration} {
		if s.String() == "" || strings.Contains(s.String(), "?") {
			t.Errorf("%#v has no name", s)
		}
	}
	if RegState(99).String() != "regstate(?)" || CallState(99).String() != "callstate(?)" {
		t.Error("unknown values must still print")
	}
}

func TestEventQueueDropsOldest(t *testing.T) {
	q := newEventQueue(2)
	for i := range 5 {
		q.push(Event{State: CallState(i)})
	}
	if q.dropped.Load() != 3 {
		t.Fatalf("dropped %d, want 3", q.dropped.Load())
	}
	if a, b := <-q.ch, <-q.ch; a.State != 3 || b.State != 4 {
		t.Errorf("kept %s,%s; want the newest two", a.State, b.State)
	}
}

func TestStatusError(t *testing.T) {
	err := error(&StatusError{Code: 401, Reason: "Unauthorized", Cause: ErrBadCredentials})
	wrapped := errors.Join(errors.New("ctx"), err)
	if !errors.Is(wrapped, ErrBadCredentials) || StatusCode(wrapped) != 401 {
		t.Errorf("StatusError not matchable: %v", wrapped)
	}
	if StatusCode(errors.New("x")) != 0 {
		t.Error("StatusCode of plain error")
	}
}
