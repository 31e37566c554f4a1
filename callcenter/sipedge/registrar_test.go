package sipedge

import (
	"errors"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

type regEvent struct {
	wn         string
	registered bool
	contact    string
}

type regLog struct {
	mu     sync.Mutex
	events []regEvent
}

func (l *regLog) observe(wn string, reg bool, contact string) {
	l.mu.Lock()
	l.events = append(l.events, regEvent{wn, reg, contact})
	l.mu.Unlock()
}

func (l *regLog) all() []regEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]regEvent(nil), l.events...)
}

func TestRegisterDigest(t *testing.T) {
	dir := newFakeDir()
	dir.addAgent("1001", "secret")
	dir.addSession("1001", "per-login-secret")
	dir.addAgent("1002", "other")
	dir.disable("1002")
	tests := []struct {
		name     string
		user     string
		pass     string
		alg      string
		wantCode int
	}{
		{"sha256 password", "1001", "secret", algSHA256, 200},
		{"md5 password", "1001", "secret", algMD5, 200},
		{"sha256 login secret", "1001", "per-login-secret", algSHA256, 200},
		{"md5 login secret", "1001", "per-login-secret", algMD5, 200},
		{"wrong password", "1001", "nope", algSHA256, 401},
		{"unknown user", "9999", "secret", algMD5, 401},
		{"disabled agent", "1002", "other", algSHA256, 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var log regLog
			e := startEdge(t, dir, newFakeRecords(), WithRegistrationObserver(log.observe))
			p := newPhone(t, tc.user, agentCodecs(), nil)
			rs := p.rawRegister(t, e, tc.user, tc.pass, tc.alg, 300)
			if len(rs) != 2 {
				t.Fatalf("want challenge then answer, got %d responses", len(rs))
			}
			chal := rs[0]
			if chal.StatusCode != 401 {
				t.Fatalf("first response %d, want 401", chal.StatusCode)
			}
			hs := chal.GetHeaders("WWW-Authenticate")
			if len(hs) != 2 || !strings.Contains(hs[0].Value(), "algorithm=SHA-256") || !strings.Contains(hs[1].Value(), "algorithm=MD5") {
				t.Fatalf("challenges = %v, want SHA-256 then MD5", hs)
			}
			for _, h := range hs {
				if !strings.Contains(h.Value(), `qop="auth"`) || !strings.Contains(h.Value(), `realm="`+testRealm+`"`) {
					t.Errorf("challenge %q lacks qop=auth or realm", h.Value())
				}
			}
			if got := rs[1].StatusCode; got != tc.wantCode {
				t.Fatalf("answer got %d, want %d", got, tc.wantCode)
			}
			if got := e.Registered(tc.user); got != (tc.wantCode == 200) {
				t.Errorf("Registered = %v", got)
			}
			if tc.wantCode == 200 {
				c := rs[1].Contact()
				if c == nil {
					t.Fatal("200 without Contact")
				}
				if v, _ := c.Params.Get("expires"); v != "300" {
					t.Errorf("contact expires = %q, want 300", v)
				}
				if ev := log.all(); len(ev) != 1 || !ev[0].registered || ev[0].wn != tc.user {
					t.Errorf("observer events %v", ev)
				}
			} else if ev := log.all(); len(ev) != 0 {
				t.Errorf("observer events %v for a failed register", ev)
			}
		})
	}
}

// The answers for an unknown user and for a wrong password must not tell
// them apart: same status, same header names, same challenge shape.
func TestUnknownUserLooksLikeWrongPassword(t *testing.T) {
	dir := newFakeDir()
	dir.addAgent("1001", "secret")
	e := startEdge(t, dir, newFakeRecords())
	shape := func(user, pass string) []string {
		p := newPhone(t, user, agentCodecs(), nil)
		var out []string
		for range 5 {
			rs := p.rawRegister(t, e, user, pass, algMD5, 300)
			for _, r := range rs {
				out = append(out, responseShape(r))
			}
		}
		return out
	}
	wrong := shape("1001", "bad")
	unknown := shape("4242", "bad")
	if strings.Join(wrong, "\n") != strings.Join(unknown, "\n") {
		t.Fatalf("wrong password:\n%s\nunknown user:\n%s", strings.Join(wrong, "\n"), strings.Join(unknown, "\n"))
	}
	// Repeated failures end in 403.
	if last := wrong[len(wrong)-1]; !strings.HasPrefix(last, "403") {
		t.Errorf("after repeated failures got %q, want 403", last)
	}
}

// responseShape is a response's status and header names, with challenge
// parameters minus their nonce.
func responseShape(r *sip.Response) string {
	var names []string
	for _, h := range r.Headers() {
		v := h.Name()
		if strings.EqualFold(v, "WWW-Authenticate") {
			parts := strings.Split(h.Value(), ",")
			var keep []string
			for _, p := range parts {
				if !strings.Contains(p, "nonce=") {
					keep = append(keep, strings.TrimSpace(p))
				}
			}
			v += ":" + strings.Join(keep, ",")
		}
		names = append(names, v)
	}
	sort.Strings(names)
	return strings.Join(append([]string{sipStatus(r)}, names...), " ")
}

func sipStatus(r *sip.Response) string { return r.StartLine()[len("SIP/2.0 "):] }

func TestRegisterLifecycle(t *testing.T) {
	dir := newFakeDir()
	dir.addAgent("1001", "secret")
	var mu sync.Mutex
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	var log regLog
	e := startEdge(t, dir, newFakeRecords(), WithClock(clock), WithExpires(60*time.Second, 600*time.Second), WithRegistrationObserver(log.observe))

	pc := newPhone(t, "1001", agentCodecs(), nil)
	mobile := newPhone(t, "1001", agentCodecs(), nil)

	// Too long an expiry is clamped to the maximum.
	rs := pc.rawRegister(t, e, "1001", "secret", algSHA256, 7200)
	if rs[1].StatusCode != 200 {
		t.Fatalf("register: %d", rs[1].StatusCode)
	}
	if v, _ := rs[1].Contact().Params.Get("expires"); v != "600" {
		t.Errorf("expires = %s, want clamped 600", v)
	}
	// Too short is raised to the minimum.
	rs = pc.rawRegister(t, e, "1001", "secret", algSHA256, 5)
	if v, _ := rs[1].Contact().Params.Get("expires"); v != "60" {
		t.Errorf("expires = %s, want raised 60", v)
	}
	if n := len(log.all()); n != 1 {
		t.Errorf("a refresh from the same device notified the observer: %v", log.all())
	}

	// Another device takes over: one binding, the new one.
	mobile.rawRegister(t, e, "1001", "secret", algMD5, 120)
	b, ok := e.lookupBinding("1001")
	if !ok || b.source != mobile.addr {
		t.Fatalf("binding after takeover = %+v, want source %s", b, mobile.addr)
	}
	// The old device unregistering does not remove the new binding.
	pc.rawRegister(t, e, "1001", "secret", algMD5, 0)
	if !e.Registered("1001") {
		t.Fatal("old device's unregister removed the takeover binding")
	}

	// Expiry: after 120s the binding is gone and purged.
	advance(119 * time.Second)
	if !e.Registered("1001") {
		t.Fatal("expired too early")
	}
	advance(2 * time.Second)
	if e.Registered("1001") {
		t.Fatal("binding outlived its expiry")
	}
	e.purgeBindings()

	// Register and unregister explicitly with Expires: 0.
	mobile.rawRegister(t, e, "1001", "secret", algSHA256, 120)
	if !e.Registered("1001") {
		t.Fatal("re-register failed")
	}
	mobile.rawRegister(t, e, "1001", "secret", algSHA256, 0)
	if e.Registered("1001") {
		t.Fatal("unregister kept the binding")
	}
	var got []string
	for _, ev := range log.all() {
		s := "unreg"
		if ev.registered {
			s = "reg"
		}
		got = append(got, s)
	}
	want := "reg reg unreg reg unreg" // pc, mobile takeover, expiry, mobile, unregister
	if strings.Join(got, " ") != want {
		t.Errorf("observer saw %q, want %q", strings.Join(got, " "), want)
	}
}

// The softphone's path: diago's own REGISTER answers the first challenge.
func TestRegisterWithDiago(t *testing.T) {
	dir := newFakeDir()
	dir.addAgent("1001", "secret")
	e := startEdge(t, dir, newFakeRecords())
	p := newPhone(t, "1001", []media.Codec{media.CodecAudioOpus}, nil)
	if err := p.register(t, e, "secret", time.Minute); err != nil {
		t.Fatal(err)
	}
	if !e.Registered("1001") {
		t.Fatal("not registered")
	}
	if err := p.register(t, e, "wrong", time.Minute); err == nil {
		t.Fatal("wrong password registered")
	}
}

func TestStaleNonce(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	a, err := newAuthenticator(testRealm, []string{algSHA256, algMD5}, func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	if err != nil {
		t.Fatal(err)
	}
	n := a.nonce()
	if err := a.checkNonce(n); err != nil {
		t.Fatalf("fresh nonce: %v", err)
	}
	mu.Lock()
	now = now.Add(nonceTTL + time.Second)
	mu.Unlock()
	if err := a.checkNonce(n); err != errStaleNonce {
		t.Fatalf("old nonce: %v, want stale", err)
	}
	if err := a.checkNonce(n[:len(n)-2] + "AA"); err != errBadNonce {
		t.Fatalf("forged nonce: %v, want bad", err)
	}
	if !strings.Contains(a.challenges(true, false)[0], "stale=true") {
		t.Error("stale challenge lacks stale=true")
	}
}

// Only the configured algorithms are challenged and accepted.
func TestDigestAlgorithmsOffered(t *testing.T) {
	a, err := newAuthenticator(testRealm, []string{algSHA256}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if cs := a.challenges(false, false); len(cs) != 1 || !strings.Contains(cs[0], "SHA-256") {
		t.Fatalf("challenges %v", cs)
	}
	set := ha1Set{md5: []string{ha1(algMD5, "1001", testRealm, "pw")}, sha256: []string{ha1(algSHA256, "1001", testRealm, "pw")}}
	for _, tc := range []struct {
		alg  string
		want error
	}{{algSHA256, nil}, {algMD5, errBadDigest}} {
		chal := &digest.Challenge{Realm: testRealm, Nonce: a.nonce(), Algorithm: tc.alg, QOP: []string{"auth"}}
		cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: "sip:x", Username: "1001", Password: "pw"})
		if err != nil {
			t.Fatal(err)
		}
		if got := a.verify("REGISTER", cred, set); got != tc.want {
			t.Errorf("%s answer: %v, want %v", tc.alg, got, tc.want)
		}
	}
	if _, err := New(newFakeDir(), newFakeRecords(), WithDigestAlgorithms("SHA-512")); err == nil {
		t.Error("New accepted an unsupported digest algorithm")
	}
}

// Clients named by WithMD5OnlyFor get a lone MD5 challenge (baresip 1.0.0
// refuses the whole 401 when any challenge is SHA-256); everyone else gets
// the configured list, SHA-256 first.
func TestMD5OnlyFor(t *testing.T) {
	e, err := New(newFakeDir(), newFakeRecords(), WithRealm(testRealm), WithMD5OnlyFor("baresip", "Old Phone"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		userAgent string // "" for no User-Agent header
		proxy     bool
		want      []string
	}{
		{"baresip v1.0.0 (x86_64/linux)", false, []string{algMD5}},
		{"BareSIP v3.0", true, []string{algMD5}},
		{"old phone 2.1", false, []string{algMD5}},
		{"  baresip v1.0.0", false, []string{algMD5}},
		{"AgentPhone/1.0", false, []string{algSHA256, algMD5}},
		{"my baresip fork", false, []string{algSHA256, algMD5}},
		{"", true, []string{algSHA256, algMD5}},
	} {
		req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: "127.0.0.1"})
		if tc.userAgent != "" {
			req.AppendHeader(sip.NewHeader("User-Agent", tc.userAgent))
		}
		hdr := "WWW-Authenticate"
		if tc.proxy {
			hdr = "Proxy-Authenticate"
		}
		res := e.authResponse(req, authChallenge, tc.proxy)
		var got []string
		for _, h := range res.GetHeaders(hdr) {
			c, err := digest.ParseChallenge(h.Value())
			if err != nil {
				t.Fatalf("%q: %v", h.Value(), err)
			}
			got = append(got, c.Algorithm)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("User-Agent %q: challenged with %v, want %v", tc.userAgent, got, tc.want)
		}
	}
	for name, opts := range map[string][]Option{
		"MD5 not accepted": {WithDigestAlgorithms(algSHA256), WithMD5OnlyFor("baresip")},
		"empty prefix":     {WithMD5OnlyFor("")},
	} {
		if _, err := New(newFakeDir(), newFakeRecords(), opts...); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: New error %v, want ErrConfig", name, err)
		}
	}
}
