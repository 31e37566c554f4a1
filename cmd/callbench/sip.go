package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// A user agent of the generator: one UDP socket, a sipgo server on it
// for the requests it receives, and a client sending from the same
// socket (the edge trusts an agent's INVITE from the address it
// registered from, and the trunk only from its exact address).
type ua struct {
	addr   string
	port   int
	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	cli    *sipgo.Client
	conn   net.PacketConn
	served chan struct{}
}

func newUA(name string, log *slog.Logger) (*ua, error) {
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("%s listen: %w", name, err)
	}
	u := &ua{conn: conn, addr: conn.LocalAddr().String(), port: conn.LocalAddr().(*net.UDPAddr).Port, served: make(chan struct{})}
	u.ua, err = sipgo.NewUA(sipgo.WithUserAgent(name), sipgo.WithUserAgentHostname("127.0.0.1"),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(log)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(log)))
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("%s user agent: %w", name, err)
	}
	u.srv, err = sipgo.NewServer(u.ua, sipgo.WithServerLogger(log))
	if err == nil {
		u.cli, err = sipgo.NewClient(u.ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientConnectionAddr(u.addr),
			sipgo.WithClientLogger(log))
	}
	if err != nil {
		conn.Close()
		u.ua.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return u, nil
}

// serve starts sipgo on the socket and returns once it reads: sipgo adds
// the listener to its pool just before its first read, and a request sent
// before that would try to bind the same port again and fail.
func (u *ua) serve() {
	rc := &readyConn{PacketConn: u.conn, ready: make(chan struct{})}
	go func() {
		defer close(u.served)
		u.srv.ServeUDP(rc)
	}()
	<-rc.ready
}

type readyConn struct {
	net.PacketConn
	once  sync.Once
	ready chan struct{}
}

func (c *readyConn) ReadFrom(b []byte) (int, net.Addr, error) {
	c.once.Do(func() { close(c.ready) })
	return c.PacketConn.ReadFrom(b)
}

func (u *ua) close() {
	u.conn.Close()
	u.ua.Close()
	<-u.served
}

// register registers user from this UA's socket, answering the digest
// challenge.
func (u *ua) register(ctx context.Context, server netip.AddrPort, user, password string) error {
	srvURI := sip.Uri{Scheme: "sip", Host: server.Addr().String(), Port: int(server.Port())}
	req := sip.NewRequest(sip.REGISTER, srvURI)
	aor := sip.Uri{Scheme: "sip", User: user, Host: server.Addr().String()}
	req.AppendHeader(&sip.ToHeader{Address: aor, Params: sip.NewParams()})
	from := sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(&from)
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1", Port: u.port}, Params: sip.NewParams()})
	req.AppendHeader(sip.NewHeader("Expires", "3600"))
	res, err := u.cli.Do(ctx, req)
	if err != nil {
		return fmt.Errorf("register %s: %w", user, err)
	}
	if res.StatusCode == 401 {
		res, err = u.cli.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: user, Password: password})
		if err != nil {
			return fmt.Errorf("register %s: %w", user, err)
		}
	}
	if res.StatusCode != 200 {
		return fmt.Errorf("register %s: %d %s", user, res.StatusCode, res.Reason)
	}
	return nil
}

// sdpMedia is what the generator needs from an SDP body.
type sdpMedia struct {
	addr   netip.AddrPort
	pts    []uint8
	rtpmap map[uint8]string // "opus/48000/2"
}

var errSDP = errors.New("unusable SDP")

func parseSDP(body []byte) (sdpMedia, error) {
	m := sdpMedia{rtpmap: map[uint8]string{}}
	var ip netip.Addr
	port := -1
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "c=IN IP4 "):
			a, err := netip.ParseAddr(strings.TrimPrefix(line, "c=IN IP4 "))
			if err != nil {
				return m, fmt.Errorf("%w: %s", errSDP, line)
			}
			ip = a
		case strings.HasPrefix(line, "m=audio "):
			f := strings.Fields(line)
			if len(f) < 4 {
				return m, fmt.Errorf("%w: %s", errSDP, line)
			}
			p, err := strconv.Atoi(f[1])
			if err != nil {
				return m, fmt.Errorf("%w: %s", errSDP, line)
			}
			port = p
			for _, s := range f[3:] {
				if pt, err := strconv.ParseUint(s, 10, 7); err == nil {
					m.pts = append(m.pts, uint8(pt))
				}
			}
		case strings.HasPrefix(line, "a=rtpmap:"):
			f := strings.Fields(strings.TrimPrefix(line, "a=rtpmap:"))
			if len(f) == 2 {
				if pt, err := strconv.ParseUint(f[0], 10, 7); err == nil {
					m.rtpmap[uint8(pt)] = f[1]
				}
			}
		}
	}
	if !ip.IsValid() || port <= 0 || len(m.pts) == 0 {
		return m, fmt.Errorf("%w: no audio address", errSDP)
	}
	m.addr = netip.AddrPortFrom(ip, uint16(port))
	return m, nil
}

// buildSDP offers or answers one audio stream with telephone-event. CRLF
// throughout: the edge refuses LF-only bodies.
func buildSDP(port int, pt uint8, rtpmap string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=- %d 1 IN IP4 127.0.0.1\r\ns=callbench\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n", port)
	fmt.Fprintf(&b, "m=audio %d RTP/AVP %d 101\r\na=rtpmap:%d %s\r\n", port, pt, pt, rtpmap)
	b.WriteString("a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n")
	return []byte(b.String())
}

// trunk is the carrier side: it answers every call the server places to
// it with a G.711 stream carrying the customer's tone.
type trunk struct {
	*ua
	log    *slog.Logger
	eng    *engine
	cache  *sipgo.DialogServerCache
	ps     payloadSet
	check  func(dialed string) *toneCheck
	mu     sync.Mutex
	calls  map[string]*leg // by Call-ID
	failed int
	// checked keeps the figures of spot-checked legs, by dialed number.
	checked map[string]LegStats
	dialed  map[*leg]string
}

func newTrunk(log *slog.Logger, eng *engine, ps payloadSet, check func(string) *toneCheck) (*trunk, error) {
	u, err := newUA("callbench-trunk", log)
	if err != nil {
		return nil, err
	}
	t := &trunk{ua: u, log: log, eng: eng, ps: ps, check: check, calls: map[string]*leg{},
		checked: map[string]LegStats{}, dialed: map[*leg]string{}}
	t.cache = sipgo.NewDialogServerCache(u.cli, sip.ContactHeader{Address: sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: u.port}})
	u.srv.OnInvite(t.onInvite)
	u.srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) { _ = t.cache.ReadAck(req, tx) })
	u.srv.OnBye(t.onBye)
	u.serve()
	return t, nil
}

func (t *trunk) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	fail := func(code int, why error) {
		t.mu.Lock()
		t.failed++
		t.mu.Unlock()
		t.log.Warn("trunk: refusing call", "err", why)
		_ = tx.Respond(sip.NewResponseFromRequest(req, code, "Not Acceptable Here", nil))
	}
	offer, err := parseSDP(req.Body())
	if err != nil {
		fail(488, err)
		return
	}
	ok := false
	for _, pt := range offer.pts {
		ok = ok || pt == t.ps.pt
	}
	if !ok {
		fail(488, fmt.Errorf("no PT %d in %v", t.ps.pt, offer.pts))
		return
	}
	l, err := newLeg(t.ps)
	if err != nil {
		fail(500, err)
		return
	}
	l.check = t.check(req.Recipient.User)
	dlg, err := t.cache.ReadInvite(req, tx)
	if err != nil {
		l.close()
		fail(500, err)
		return
	}
	if err := dlg.RespondSDP(buildSDP(l.port(), t.ps.pt, "PCMU/8000")); err != nil {
		l.close()
		t.log.Warn("trunk: answer", "err", err)
		return
	}
	t.mu.Lock()
	t.calls[req.CallID().Value()] = l
	if l.check != nil {
		t.dialed[l] = req.Recipient.User
	}
	t.mu.Unlock()
	t.eng.add(l, offer.addr, 8000)
}

func (t *trunk) onBye(req *sip.Request, tx sip.ServerTransaction) {
	if err := t.cache.ReadBye(req, tx); err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.calls[req.CallID().Value()]
	delete(t.calls, req.CallID().Value())
	if l == nil {
		return
	}
	st := t.eng.remove(l)
	if n, ok := t.dialed[l]; ok {
		t.checked[n] = st
		delete(t.dialed, l)
	}
}

func (t *trunk) checkedStats(dialed string) LegStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.checked[dialed]
}

func (t *trunk) live() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.calls)
}

// agents is the agents' side: registered agents that place calls to
// outside numbers through the server (the server anchors each call in a
// room and sends it on to the trunk).
type agents struct {
	*ua
	log    *slog.Logger
	eng    *engine
	cache  *sipgo.DialogClientCache
	server netip.AddrPort
	mu     sync.Mutex
	byes   int // calls the server hung up on us
}

func newAgents(log *slog.Logger, eng *engine, server netip.AddrPort) (*agents, error) {
	u, err := newUA("callbench-agent", log)
	if err != nil {
		return nil, err
	}
	a := &agents{ua: u, log: log, eng: eng, server: server}
	a.cache = sipgo.NewDialogClientCache(u.cli, sip.ContactHeader{Address: sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: u.port}})
	u.srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		a.mu.Lock()
		a.byes++
		a.mu.Unlock()
		if err := a.cache.ReadBye(req, tx); err != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		}
	})
	u.serve()
	return a, nil
}

// agentCall is one call placed by an agent.
type agentCall struct {
	dlg *sipgo.DialogClientSession
	leg *leg
}

// call places a call from agent to number offering ps's codec; it
// returns once the call is answered and its media runs.
func (a *agents) call(ctx context.Context, agent, number string, ps payloadSet, rtpmap string, check *toneCheck) (*agentCall, error) {
	l, err := newLeg(ps)
	if err != nil {
		return nil, err
	}
	l.check = check
	host := a.server.Addr().String()
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: number, Host: host, Port: int(a.server.Port())})
	from := sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: agent, Host: host}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(&from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: number, Host: host}, Params: sip.NewParams()})
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: agent, Host: "127.0.0.1", Port: a.port}, Params: sip.NewParams()})
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(buildSDP(l.port(), ps.pt, rtpmap))
	dlg, err := a.cache.WriteInvite(ctx, req)
	if err != nil {
		l.close()
		return nil, fmt.Errorf("invite %s → %s: %w", agent, number, err)
	}
	if err := dlg.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		l.close()
		dlg.Close()
		return nil, fmt.Errorf("invite %s → %s: %w", agent, number, err)
	}
	if err := dlg.Ack(ctx); err != nil {
		l.close()
		return nil, fmt.Errorf("ack %s → %s: %w", agent, number, err)
	}
	ans, err := parseSDP(dlg.InviteResponse.Body())
	if err != nil {
		l.close()
		_ = dlg.Bye(ctx)
		return nil, fmt.Errorf("answer of %s → %s: %w", agent, number, err)
	}
	rate := 8000
	if strings.HasPrefix(strings.ToLower(rtpmap), "opus") {
		rate = 48000
	}
	a.eng.add(l, ans.addr, rate)
	return &agentCall{dlg: dlg, leg: l}, nil
}

// hangup ends the call with BYE and returns what its leg received.
func (a *agents) hangup(ctx context.Context, c *agentCall) (LegStats, error) {
	st := a.eng.remove(c.leg)
	err := c.dlg.Bye(ctx)
	c.dlg.Close()
	return st, err
}
