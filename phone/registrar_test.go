package phone

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// testRegistrar is a tiny digest-challenging registrar, like callcenterd's:
// two WWW-Authenticate headers (SHA-256 first, then MD5, RFC 8760), one
// account, a fixed granted expiry. It can be stopped and restarted on the
// same port to play "server down".
type testRegistrar struct {
	t        *testing.T
	addr     string
	user     string
	password string
	realm    string
	algs     []string
	expires  atomic.Int32 // granted binding lifetime, s
	inviteTo atomic.Int32 // final status for authorized INVITEs (default 404)

	mu      sync.Mutex
	nonces  map[string]string // nonce -> algorithm
	regs    []regRecord
	invites []string // request URIs of authorized INVITEs
	notify  chan regRecord

	ua     *sipgo.UserAgent
	drain  *atomic.Bool
	cancel context.CancelFunc
	done   chan struct{}
}

type regRecord struct {
	at         time.Time
	expires    int
	algorithm  string
	authorized bool
}

func newTestRegistrar(t *testing.T, algs ...string) *testRegistrar {
	t.Helper()
	if len(algs) == 0 {
		algs = []string{"SHA-256", "MD5"}
	}
	r := &testRegistrar{t: t, user: "1001", password: "secret", realm: "agentphone",
		algs: algs, nonces: map[string]string{}, notify: make(chan regRecord, 100)}
	r.expires.Store(60)
	r.start("127.0.0.1:0")
	t.Cleanup(r.stop)
	return r
}

func (r *testRegistrar) start(addr string) {
	r.t.Helper()
	conn, err := net.ListenPacket("udp", addr)
	if err != nil {
		r.t.Fatalf("registrar listen %s: %v", addr, err)
	}
	r.addr = conn.LocalAddr().String()
	drain := new(atomic.Bool)
	ua, err := newDrainableUA("registrar", drain)
	if err != nil {
		r.t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		r.t.Fatal(err)
	}
	srv.OnRegister(r.onRegister)
	srv.OnInvite(r.onInvite)
	srv.OnAck(func(*sip.Request, sip.ServerTransaction) {})
	ctx, cancel := context.WithCancel(context.Background())
	r.ua, r.cancel, r.done, r.drain = ua, cancel, make(chan struct{}), drain
	go func() {
		defer close(r.done)
		go func() { <-ctx.Done(); conn.Close() }()
		_ = srv.ServeUDP(conn)
	}()
}

func (r *testRegistrar) stop() {
	if r.cancel == nil {
		return
	}
	r.cancel()
	<-r.done
	closeDrained(r.ua, r.drain)
	r.cancel = nil
}

func (r *testRegistrar) authorize(req *sip.Request, tx sip.ServerTransaction) (string, bool) {
	h := req.GetHeader("Authorization")
	if h != nil {
		cred, err := digest.ParseCredentials(h.Value())
		if err == nil {
			r.mu.Lock()
			alg, ok := r.nonces[cred.Nonce]
			r.mu.Unlock()
			if ok && cred.Username == r.user && cred.Algorithm == alg {
				want, err := digest.Digest(&digest.Challenge{Realm: r.realm, Nonce: cred.Nonce, Algorithm: alg, QOP: []string{"auth"}},
					digest.Options{Method: req.Method.String(), URI: cred.URI, Username: r.user, Password: r.password, Cnonce: cred.Cnonce, Count: cred.Nc})
				if err == nil && want.Response == cred.Response {
					return alg, true
				}
			}
		}
	}
	res := sip.NewResponseFromRequest(req, sip.StatusUnauthorized, "Unauthorized", nil)
	for _, alg := range r.algs {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		nonce := hex.EncodeToString(b)
		r.mu.Lock()
		r.nonces[nonce] = alg
		r.mu.Unlock()
		chal := digest.Challenge{Realm: r.realm, Nonce: nonce, Algorithm: alg, QOP: []string{"auth"}}
		res.AppendHeader(sip.NewHeader("WWW-Authenticate", chal.String()))
	}
	_ = tx.Respond(res)
	return "", false
}

func (r *testRegistrar) onRegister(req *sip.Request, tx sip.ServerTransaction) {
	exp := -1
	if h := req.GetHeader("Expires"); h != nil {
		exp, _ = strconv.Atoi(h.Value())
	}
	alg, ok := r.authorize(req, tx)
	rec := regRecord{at: time.Now(), expires: exp, algorithm: alg, authorized: ok}
	r.mu.Lock()
	r.regs = append(r.regs, rec)
	r.mu.Unlock()
	r.notify <- rec
	if !ok {
		return
	}
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	granted := min(exp, int(r.expires.Load()))
	if c := req.Contact(); c != nil && granted > 0 {
		cc := c.Clone()
		cc.Params.Add("expires", strconv.Itoa(granted))
		res.AppendHeader(cc)
	}
	e := sip.ExpiresHeader(uint32(max(granted, 0)))
	res.AppendHeader(&e)
	_ = tx.Respond(res)
}

func (r *testRegistrar) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if _, ok := r.authorize(req, tx); !ok {
		return
	}
	r.mu.Lock()
	r.invites = append(r.invites, req.Recipient.String())
	r.mu.Unlock()
	code := int(r.inviteTo.Load())
	if code == 0 {
		code = sip.StatusNotFound
	}
	_ = tx.Respond(sip.NewResponseFromRequest(req, code, reasonPhrase(code), nil))
}

// next waits for the next REGISTER the registrar saw.
func (r *testRegistrar) next(within time.Duration) (regRecord, bool) {
	select {
	case rec := <-r.notify:
		return rec, true
	case <-time.After(within):
		return regRecord{}, false
	}
}

// nextAuthorized skips challenges.
func (r *testRegistrar) nextAuthorized(t *testing.T, within time.Duration) regRecord {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		rec, ok := r.next(time.Until(deadline))
		if !ok {
			t.Fatalf("no authorized REGISTER within %s", within)
		}
		if rec.authorized {
			return rec
		}
	}
}

func (r *testRegistrar) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.regs)
}

// newDrainableUA makes a UA for in-test peers that can drop late datagrams
// while closing, as Phone.Close does, so stragglers do not leave sockets
// behind for goleak to find.
func newDrainableUA(name string, drain *atomic.Bool) (*sipgo.UserAgent, error) {
	return sipgo.NewUA(sipgo.WithUserAgent(name),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerReadFilter(
			func(_ sip.TransportReadProps, data []byte) ([]byte, error) {
				if drain.Load() {
					return nil, nil
				}
				return data, nil
			})))
}

func closeDrained(ua *sipgo.UserAgent, drain *atomic.Bool) {
	drain.Store(true)
	ua.Close()
	time.Sleep(20 * time.Millisecond)
	ua.TransportLayer().Close()
}
