package sipedge

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

const testRealm = "test.agentphone"

func ha1(alg, user, realm, pass string) string {
	s := user + ":" + realm + ":" + pass
	if alg == algSHA256 {
		h := sha256.Sum256([]byte(s))
		return hex.EncodeToString(h[:])
	}
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// fakeDir is an in-memory Directory (the seam to callcenter/store).
type fakeDir struct {
	mu       sync.Mutex
	agents   map[string]callcenter.Agent
	sessions map[string][]callcenter.Session
	numbers  map[string]callcenter.Number
}

func newFakeDir() *fakeDir {
	return &fakeDir{agents: map[string]callcenter.Agent{}, sessions: map[string][]callcenter.Session{}, numbers: map[string]callcenter.Number{}}
}

func (d *fakeDir) addAgent(wn, pass string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.agents[wn] = callcenter.Agent{WorkNumber: wn, Name: "Agent " + wn,
		HA1MD5: ha1(algMD5, wn, testRealm, pass), HA1SHA256: ha1(algSHA256, wn, testRealm, pass)}
}

func (d *fakeDir) addSession(wn, secret string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sessions[wn] = append(d.sessions[wn], callcenter.Session{WorkNumber: wn,
		SIPHA1MD5: ha1(algMD5, wn, testRealm, secret), SIPHA1SHA256: ha1(algSHA256, wn, testRealm, secret)})
}

func (d *fakeDir) disable(wn string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	a := d.agents[wn]
	a.Disabled = true
	d.agents[wn] = a
}

func (d *fakeDir) addNumber(e164, agent string, disabled bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.numbers[e164] = callcenter.Number{E164: e164, RouteAgent: agent, Disabled: disabled}
}

func (d *fakeDir) AgentByWorkNumber(_ context.Context, wn string) (callcenter.Agent, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	a, ok := d.agents[wn]
	if !ok {
		return a, fmt.Errorf("agent %s: %w", wn, callcenter.ErrNotFound)
	}
	return a, nil
}

func (d *fakeDir) LiveSessions(_ context.Context, wn string) ([]callcenter.Session, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]callcenter.Session(nil), d.sessions[wn]...), nil
}

func (d *fakeDir) NumberByE164(_ context.Context, e164 string) (callcenter.Number, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	n, ok := d.numbers[e164]
	if !ok {
		return n, fmt.Errorf("number %s: %w", e164, callcenter.ErrNotFound)
	}
	return n, nil
}

func (d *fakeDir) ListNumbers(context.Context) ([]callcenter.Number, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []callcenter.Number
	for _, n := range d.numbers {
		out = append(out, n)
	}
	return out, nil
}

// fakeRecords keeps records like the store does (one row per call id,
// first end wins) and signals ended calls.
type fakeRecords struct {
	mu     sync.Mutex
	rows   map[string]callcenter.CallRecord
	begins int
	// ends counts EndCallRecord calls per call id (ended or not).
	ends  map[string]int
	ended chan callcenter.CallRecord
}

func newFakeRecords() *fakeRecords {
	return &fakeRecords{rows: map[string]callcenter.CallRecord{}, ends: map[string]int{}, ended: make(chan callcenter.CallRecord, 100)}
}

func (r *fakeRecords) BeginCallRecord(_ context.Context, c callcenter.CallRecord) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.begins++
	if _, ok := r.rows[c.CallID]; !ok {
		r.rows[c.CallID] = c
	}
	return nil
}

func (r *fakeRecords) EndCallRecord(_ context.Context, c callcenter.CallRecord) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ends[c.CallID]++
	if old, ok := r.rows[c.CallID]; ok && !old.EndedAt.IsZero() {
		return nil
	}
	r.rows[c.CallID] = c
	r.ended <- c
	return nil
}

func (r *fakeRecords) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.rows)
}

// endCalls is how many times the record of id was ended.
func (r *fakeRecords) endCalls(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ends[id]
}

func (r *fakeRecords) waitEnded(t *testing.T) callcenter.CallRecord {
	t.Helper()
	select {
	case c := <-r.ended:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no call ended")
	}
	return callcenter.CallRecord{}
}

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("SIPEDGE_DEBUG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func startEdge(t testing.TB, dir Directory, rec Records, opts ...Option) *Edge {
	t.Helper()
	opts = append([]Option{WithLogger(testLogger(t)), WithRealm(testRealm)}, opts...)
	e, err := New(dir, rec, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("close edge: %v", err)
		}
	})
	return e
}

// phone is a diago user agent on 127.0.0.1: an agent's softphone or the
// carrier, depending on the codecs and handler.
type phone struct {
	user string
	addr string
	dg   *diago.Diago
	cli  *sipgo.Client
	ua   *sipgo.UserAgent
	conn net.PacketConn
	done chan struct{}
}

func newPhone(t testing.TB, user string, codecs []media.Codec, handler func(*diago.DialogServerSession)) *phone {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := conn.LocalAddr().(*net.UDPAddr).Port
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(user), sipgo.WithUserAgentHostname("127.0.0.1"),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(testLogger(t))),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(testLogger(t))))
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := sipgo.NewServer(ua, sipgo.WithServerLogger(testLogger(t)))
	// inflight counts requests being handled, including the BYE diago sends
	// after a handler returns on a live dialog (it may wait up to 10 s for
	// an answer), so cleanup can wait for them instead of leaking them.
	var inflight sync.WaitGroup
	track := func(next sipgo.RequestHandler) sipgo.RequestHandler {
		return func(req *sip.Request, tx sip.ServerTransaction) {
			inflight.Add(1)
			defer inflight.Done()
			next(req, tx)
		}
	}
	dg := diago.NewDiago(ua, diago.WithServer(srv), diago.WithLogger(testLogger(t)),
		diago.WithMediaConfig(diago.MediaConfig{Codecs: codecs}),
		diago.WithServerRequestMiddleware(track),
		diago.WithTransport(diago.Transport{Transport: "udp", BindHost: "127.0.0.1", BindPort: port}))
	if handler == nil {
		handler = func(d *diago.DialogServerSession) { d.Respond(603, "Decline", nil) }
	}
	dg.HandleFunc(handler)
	cli, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientConnectionAddr(conn.LocalAddr().String()))
	if err != nil {
		t.Fatal(err)
	}
	p := &phone{user: user, addr: conn.LocalAddr().String(), dg: dg, cli: cli, ua: ua, conn: conn, done: make(chan struct{})}
	rc := newReadyConn(conn)
	go func() {
		defer close(p.done)
		srv.ServeUDP(rc)
	}()
	<-rc.ready
	t.Cleanup(func() {
		conn.Close()
		ua.Close()
		<-p.done
		inflight.Wait()
		// A BYE sent by a handler finishing after the first close dialled
		// a socket of its own; this clears it.
		ua.Close()
	})
	return p
}

// register uses diago's own REGISTER (the softphone's path: it answers the
// first challenge, SHA-256).
func (p *phone) register(t testing.TB, edge *Edge, password string, expiry time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	host, port, _ := sip.ParseAddr(edge.Addr())
	rt, err := p.dg.RegisterTransaction(ctx, sip.Uri{Scheme: "sip", User: p.user, Host: host, Port: port},
		diago.RegisterOptions{Username: p.user, Password: password, Expiry: expiry})
	if err != nil {
		return err
	}
	return rt.Register(ctx)
}

// rawRegister sends a REGISTER and, when challenged and password is not
// empty, answers the challenge of algorithm alg. It returns every final
// response received.
func (p *phone) rawRegister(t testing.TB, edge *Edge, authUser, password, alg string, expires int) []*sip.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	host, port, _ := sip.ParseAddr(edge.Addr())
	recipient := sip.Uri{Scheme: "sip", Host: host, Port: port}
	req := sip.NewRequest(sip.REGISTER, recipient)
	aor := sip.Uri{Scheme: "sip", User: p.user, Host: host}
	req.AppendHeader(&sip.ToHeader{Address: aor, Params: sip.NewParams()})
	from := sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(&from)
	_, lport, _ := sip.ParseAddr(p.addr)
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: p.user, Host: "127.0.0.1", Port: lport}, Params: sip.NewParams()})
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	res, err := p.cli.Do(ctx, req)
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	out := []*sip.Response{res}
	if res.StatusCode != 401 || password == "" {
		return out
	}
	var chal *digest.Challenge
	for _, h := range res.GetHeaders("WWW-Authenticate") {
		c, err := digest.ParseChallenge(h.Value())
		if err != nil {
			t.Fatalf("parse challenge %q: %v", h.Value(), err)
		}
		if c.Algorithm == alg {
			chal = c
		}
	}
	if chal == nil {
		t.Fatalf("no %s challenge in %v", alg, res)
	}
	cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: recipient.String(), Username: authUser, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	req2 := req.Clone()
	req2.RemoveHeader("Via")
	req2.CSeq().SeqNo++
	req2.AppendHeader(sip.NewHeader("Authorization", cred.String()))
	res2, err := p.cli.Do(ctx, req2)
	if err != nil {
		t.Fatalf("register with auth: %v", err)
	}
	return append(out, res2)
}

// call places a call from p through the edge to user; creds are optional.
func (p *phone) call(ctx context.Context, edge *Edge, user string, opts diago.InviteOptions) (*diago.DialogClientSession, error) {
	host, port, _ := sip.ParseAddr(edge.Addr())
	return p.dg.Invite(ctx, sip.Uri{Scheme: "sip", User: user, Host: host, Port: port}, opts)
}

// answerer answers at once and reports each offer it got.
func answerer(got chan<- *sip.Request) func(*diago.DialogServerSession) {
	return func(d *diago.DialogServerSession) {
		if got != nil {
			got <- d.InviteRequest
		}
		d.Ringing()
		if err := d.Answer(); err != nil {
			return
		}
		<-d.Context().Done()
	}
}

// ringer rings until cancelled.
func ringer(got chan<- *sip.Request) func(*diago.DialogServerSession) {
	return func(d *diago.DialogServerSession) {
		if got != nil {
			got <- d.InviteRequest
		}
		d.Ringing()
		<-d.Context().Done()
	}
}

func statusOf(err error) int {
	var pe *sipgo.ErrDialogResponse
	if errors.As(err, &pe) {
		return pe.Res.StatusCode
	}
	var ve sipgo.ErrDialogResponse
	if errors.As(err, &ve) {
		return ve.Res.StatusCode
	}
	return 0
}
