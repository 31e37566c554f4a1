package sipedge

import (
	"context"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/store"
	"github.com/emiago/diago"
	"github.com/emiago/sipgo/sip"
)

type eventLog struct {
	mu     sync.Mutex
	events []callcenter.CallEvent
}

func (l *eventLog) observe(ev callcenter.CallEvent) {
	l.mu.Lock()
	l.events = append(l.events, ev)
	l.mu.Unlock()
}

func (l *eventLog) states(callID string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var s []string
	for _, ev := range l.events {
		if ev.CallID == callID {
			s = append(s, ev.State.String())
		}
	}
	return strings.Join(s, ",")
}

// center is an edge on the real SQLite store with two registered agents
// (1001 calls, 1002 answers) and a carrier.
type center struct {
	st      *store.SQLite
	rec     *notifyRecords
	events  *eventLog
	edge    *Edge
	a, b    *phone
	carrier *phone
	offers  chan *sip.Request // INVITEs reaching 1002
	trunkIn chan *sip.Request // INVITEs reaching the carrier
}

// notifyRecords passes records to the store and signals each end, so tests
// wait for calls to finish instead of polling.
type notifyRecords struct {
	*store.SQLite
	ended chan callcenter.CallRecord
}

func (n *notifyRecords) EndCallRecord(ctx context.Context, r callcenter.CallRecord) error {
	err := n.SQLite.EndCallRecord(ctx, r)
	n.ended <- r
	return err
}

// waitEnded waits for a call's end and returns its stored record.
func (n *notifyRecords) waitEnded(t testing.TB) callcenter.CallRecord {
	t.Helper()
	select {
	case r := <-n.ended:
		got, err := n.CallRecord(context.Background(), r.CallID)
		if err != nil {
			t.Fatalf("stored record %s: %v", r.CallID, err)
		}
		return got
	case <-time.After(10 * time.Second):
		t.Fatal("no call ended")
	}
	return callcenter.CallRecord{}
}

func (n *notifyRecords) count(t testing.TB) int {
	rs, err := n.CallRecords(context.Background(), callcenter.RecordFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return len(rs)
}

func addAgent(t testing.TB, st *store.SQLite, wn, pass string, disabled bool) {
	t.Helper()
	ctx := context.Background()
	_, err := st.CreateAgent(ctx, callcenter.Agent{WorkNumber: wn, Name: "Agent " + wn,
		PasswordHash: "x",
		HA1MD5:       callcenter.DigestHA1(callcenter.DigestMD5, wn, testRealm, pass),
		HA1SHA256:    callcenter.DigestHA1(callcenter.DigestSHA256, wn, testRealm, pass)})
	if err != nil {
		t.Fatal(err)
	}
	if disabled {
		if err := st.SetAgentDisabled(ctx, wn, true); err != nil {
			t.Fatal(err)
		}
	}
}

func openStore(t testing.TB) *store.SQLite {
	t.Helper()
	st, err := store.Open(context.Background(), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newCenter(t testing.TB, bHandler func(chan<- *sip.Request) func(*diago.DialogServerSession), opts ...Option) *center {
	t.Helper()
	st := openStore(t)
	c := &center{st: st, rec: &notifyRecords{SQLite: st, ended: make(chan callcenter.CallRecord, 100)}, events: &eventLog{},
		offers: make(chan *sip.Request, 10), trunkIn: make(chan *sip.Request, 10)}
	addAgent(t, st, "1001", "pw1001", false)
	addAgent(t, st, "1002", "pw1002", false)
	ctx := context.Background()
	for _, n := range []callcenter.Number{
		{E164: "4008001234", Name: "hotline", RouteAgent: "1002"},
		{E164: "4008009999", Name: "closed", RouteAgent: "1002"},
	} {
		if _, err := st.CreateNumber(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.SetNumberDisabled(ctx, "4008009999", true); err != nil {
		t.Fatal(err)
	}
	c.carrier = newPhone(t, "carrier", trunkCodecs(), answerer(c.trunkIn))
	opts = append([]Option{WithTrunk(c.carrier.addr), WithCallObserver(c.events.observe)}, opts...)
	c.edge = startEdge(t, st, c.rec, opts...)
	c.a = newPhone(t, "1001", agentCodecs(), nil)
	c.b = newPhone(t, "1002", agentCodecs(), bHandler(c.offers))
	if err := c.a.register(t, c.edge, "pw1001", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := c.b.register(t, c.edge, "pw1002", time.Minute); err != nil {
		t.Fatal(err)
	}
	return c
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestInternalCall(t *testing.T) {
	c := newCenter(t, answerer)
	ctx := ctxT(t)
	d, err := c.a.call(ctx, c.edge, "1002", diago.InviteOptions{})
	if err != nil {
		t.Fatalf("call: %v", err)
	}
	offer := <-c.offers
	hdr := func(n string) string {
		if h := offer.GetHeader(n); h != nil {
			return h.Value()
		}
		return ""
	}
	callID := hdr(HeaderCallID)
	if callID == "" || hdr(HeaderCallType) != "internal" || hdr(HeaderCaller) != "1001" {
		t.Errorf("offer headers: id=%q type=%q caller=%q", callID, hdr(HeaderCallType), hdr(HeaderCaller))
	}
	if offer.From().Address.User != "1001" {
		t.Errorf("offer From = %s", offer.From().Address.String())
	}
	if !strings.Contains(string(offer.Body()), "opus/48000/2") {
		t.Errorf("agent offer lacks opus:\n%s", offer.Body())
	}
	if got := d.MediaSession(); got == nil {
		t.Fatal("no media on caller leg")
	}
	time.Sleep(50 * time.Millisecond)
	if err := d.Hangup(ctx); err != nil {
		t.Fatalf("hangup: %v", err)
	}
	d.Close()
	r := c.rec.waitEnded(t)
	if r.CallID != callID || r.Type != callcenter.CallInternal || r.Caller != "1001" || r.Callee != "1002" || r.Agent != "1001" {
		t.Errorf("record %+v", r)
	}
	if r.Result != callcenter.ResultAnswered || r.HangupBy != callcenter.PartyCaller || r.AnsweredAt.IsZero() || r.Codec != "opus" {
		t.Errorf("record result=%v by=%v answered=%v codec=%q", r.Result, r.HangupBy, r.AnsweredAt, r.Codec)
	}
	if n := c.rec.count(t); n != 1 {
		t.Errorf("%d records, want 1", n)
	}
	if got := c.events.states(callID); got != "ringing,talking,ended" {
		t.Errorf("events %q", got)
	}
}

func TestCalleeHangsUp(t *testing.T) {
	// 1002 answers and hangs up after a moment.
	c := newCenter(t, func(got chan<- *sip.Request) func(*diago.DialogServerSession) {
		return func(d *diago.DialogServerSession) {
			got <- d.InviteRequest
			if d.Answer() != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
			d.Hangup(context.Background())
		}
	})
	ctx := ctxT(t)
	d, err := c.a.call(ctx, c.edge, "1002", diago.InviteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	<-c.offers
	r := c.rec.waitEnded(t)
	if r.HangupBy != callcenter.PartyCallee || r.Result != callcenter.ResultAnswered {
		t.Errorf("record result=%v by=%v", r.Result, r.HangupBy)
	}
	select {
	case <-d.Context().Done():
	case <-time.After(5 * time.Second):
		t.Fatal("caller leg not hung up")
	}
}

func TestTrunkInbound(t *testing.T) {
	c := newCenter(t, answerer)
	ctx := ctxT(t)
	host, port, _ := sip.ParseAddr(c.edge.Addr())
	opts := diago.InviteOptions{}
	from := sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "13800138000", Host: "pstn"}, Params: sip.NewParams()}
	opts.Headers = []sip.Header{&from}
	d, err := c.carrier.dg.Invite(ctx, sip.Uri{Scheme: "sip", User: "4008001234", Host: host, Port: port}, opts)
	if err != nil {
		t.Fatalf("inbound: %v", err)
	}
	offer := <-c.offers
	if v := offer.GetHeader(HeaderCallType).Value(); v != "inbound" {
		t.Errorf("X-Call-Type %q", v)
	}
	if v := offer.GetHeader(HeaderCaller).Value(); v != "13800138000" {
		t.Errorf("X-Caller %q", v)
	}
	if v := offer.GetHeader(HeaderNumber).Value(); v != "4008001234" {
		t.Errorf("X-Number %q", v)
	}
	// The carrier leg negotiated G.711; the agent leg Opus.
	if codec := d.MediaSession().CommonCodecs()[0].Name; codec != "PCMU" {
		t.Errorf("trunk leg codec %s", codec)
	}
	d.Hangup(ctx)
	d.Close()
	r := c.rec.waitEnded(t)
	if r.Type != callcenter.CallInbound || r.Caller != "13800138000" || r.Agent != "1002" || r.Number != "4008001234" || r.HangupBy != callcenter.PartyCaller || r.Codec != "opus" {
		t.Errorf("record %+v", r)
	}
}

func TestTrunkInboundRefused(t *testing.T) {
	c := newCenter(t, answerer)
	host, port, _ := sip.ParseAddr(c.edge.Addr())
	for _, tc := range []struct {
		number string
		want   int
	}{
		{"4000000000", 404}, // unknown
		{"4008009999", 404}, // disabled
	} {
		_, err := c.carrier.dg.Invite(ctxT(t), sip.Uri{Scheme: "sip", User: tc.number, Host: host, Port: port}, diago.InviteOptions{})
		if got := statusOf(err); got != tc.want {
			t.Errorf("%s: status %d (%v), want %d", tc.number, got, err, tc.want)
		}
	}
}

func TestOutboundOverTrunk(t *testing.T) {
	c := newCenter(t, answerer)
	ctx := ctxT(t)
	d, err := c.a.call(ctx, c.edge, "13912345678", diago.InviteOptions{})
	if err != nil {
		t.Fatalf("outbound: %v", err)
	}
	inv := <-c.trunkIn
	if inv.Recipient.User != "13912345678" {
		t.Errorf("carrier got R-URI %s", inv.Recipient.String())
	}
	if inv.From().Address.User != "4008001234" {
		t.Errorf("caller id %s, want the enabled center number", inv.From().Address.User)
	}
	if strings.Contains(string(inv.Body()), "opus") {
		t.Errorf("trunk offer contains opus:\n%s", inv.Body())
	}
	if inv.GetHeader(HeaderCallID) != nil {
		t.Error("X- headers leaked to the carrier")
	}
	d.Hangup(ctx)
	d.Close()
	r := c.rec.waitEnded(t)
	if r.Type != callcenter.CallAgentOutbound || r.Caller != "1001" || r.Callee != "13912345678" || r.Number != "4008001234" || r.Result != callcenter.ResultAnswered {
		t.Errorf("record %+v", r)
	}
}

func TestCallRefused(t *testing.T) {
	c := newCenter(t, func(got chan<- *sip.Request) func(*diago.DialogServerSession) {
		return func(d *diago.DialogServerSession) { d.Respond(486, "Busy Here", nil) }
	})
	addAgent(t, c.st, "1003", "pw", false) // exists, never registers
	addAgent(t, c.st, "1004", "pw", true)
	for _, tc := range []struct {
		to     string
		status int
		result callcenter.Result
	}{
		{"nobody", 404, callcenter.ResultInvalid},
		{"1003", 480, callcenter.ResultUnreachable},
		{"1004", 480, callcenter.ResultUnreachable},
		{"1002", 486, callcenter.ResultBusy},
	} {
		t.Run(tc.to, func(t *testing.T) {
			_, err := c.a.call(ctxT(t), c.edge, tc.to, diago.InviteOptions{})
			if got := statusOf(err); got != tc.status {
				t.Fatalf("status %d (%v), want %d", got, err, tc.status)
			}
			r := c.rec.waitEnded(t)
			if r.Result != tc.result || !r.AnsweredAt.IsZero() {
				t.Errorf("record result %v answered %v", r.Result, r.AnsweredAt)
			}
		})
	}
}

func TestCancelWhileRinging(t *testing.T) {
	c := newCenter(t, ringer)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := c.a.call(ctx, c.edge, "1002", diago.InviteOptions{})
		errc <- err
	}()
	<-c.offers
	time.Sleep(100 * time.Millisecond) // let 180 travel back
	cancel()
	if err := <-errc; err == nil {
		t.Fatal("cancelled call succeeded")
	}
	r := c.rec.waitEnded(t)
	if r.Result != callcenter.ResultCancelled || r.HangupBy != callcenter.PartyCaller {
		t.Errorf("record result=%v by=%v", r.Result, r.HangupBy)
	}
}

func TestRingTimeout(t *testing.T) {
	c := newCenter(t, ringer, WithRingTimeout(300*time.Millisecond))
	_, err := c.a.call(ctxT(t), c.edge, "1002", diago.InviteOptions{})
	if got := statusOf(err); got != 480 {
		t.Fatalf("status %d (%v), want 480", got, err)
	}
	r := c.rec.waitEnded(t)
	if r.Result != callcenter.ResultNoAnswer {
		t.Errorf("record result=%v", r.Result)
	}
}

// An INVITE from an address that is not a registered agent needs digest
// credentials (407, answered with Proxy-Authorization).
func TestInviteNeedsCredentials(t *testing.T) {
	c := newCenter(t, answerer)
	roaming := newPhone(t, "1001", agentCodecs(), nil) // not registered from here
	_, err := roaming.call(ctxT(t), c.edge, "1002", diago.InviteOptions{})
	if got := statusOf(err); got != 407 {
		t.Fatalf("status %d (%v), want 407", got, err)
	}
	_, err = roaming.call(ctxT(t), c.edge, "1002", diago.InviteOptions{Username: "1001", Password: "wrong"})
	if got := statusOf(err); got != 407 && got != 403 {
		t.Fatalf("wrong password: status %d (%v), want 407/403", got, err)
	}
	d, err := roaming.call(ctxT(t), c.edge, "1002", diago.InviteOptions{Username: "1001", Password: "pw1001"})
	if err != nil {
		t.Fatalf("with credentials: %v", err)
	}
	<-c.offers
	d.Hangup(context.Background())
	d.Close()
	c.rec.waitEnded(t)
}

// Garbage and malformed requests do not hurt: garbage is dropped, invalid
// INVITEs get 400, and the next call works.
func TestMalformedThenCall(t *testing.T) {
	c := newCenter(t, answerer)
	conn, err := net.Dial("udp", c.edge.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	for _, g := range [][]byte{[]byte("\x00\x01garbage\r\n\r\n"), []byte("INVITE\r\n\r\n"), make([]byte, 1500)} {
		conn.Write(g)
	}
	invite := func(extra, body string) string {
		return "INVITE sip:1002@" + c.edge.Addr() + " SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK" + sip.GenerateTagN(10) + "\r\n" +
			"From: <sip:1001@127.0.0.1>;tag=abc\r\n" +
			"To: <sip:1002@127.0.0.1>\r\n" +
			"Call-ID: " + sip.GenerateTagN(12) + "\r\n" +
			"CSeq: 1 INVITE\r\n" +
			"Max-Forwards: 70\r\n" + extra +
			"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	}
	contact := "Contact: <sip:1001@" + local + ">\r\n"
	sdpCT := "Content-Type: application/sdp\r\n"
	for _, tc := range []struct {
		name string
		msg  string
		want string
	}{
		{"no body", invite(contact, ""), "400"},
		{"bad sdp", invite(contact+sdpCT, "this is not sdp"), "400"},
		{"no contact", invite(sdpCT, "v=0\r\n"), "400"},
		{"blank LF line (crashes diago's parser)", invite(contact+sdpCT, "v=0\n\nm=audio 4000 RTP/AVP 0\n"), "400"},
		{"no common codec", invite(contact+sdpCT, "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n"), "488"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := conn.Write([]byte(tc.msg)); err != nil {
				t.Fatal(err)
			}
			conn.SetReadDeadline(time.Now().Add(3 * time.Second))
			buf := make([]byte, 4096)
			for {
				n, err := conn.Read(buf)
				if err != nil {
					t.Fatalf("no answer: %v", err)
				}
				line, _, _ := strings.Cut(string(buf[:n]), "\r\n")
				if strings.HasPrefix(line, "SIP/2.0 1") {
					continue
				}
				if !strings.HasPrefix(line, "SIP/2.0 "+tc.want) {
					t.Fatalf("got %q, want %s", line, tc.want)
				}
				break
			}
		})
	}
	// Still serving.
	d, err := c.a.call(ctxT(t), c.edge, "1002", diago.InviteOptions{})
	if err != nil {
		t.Fatalf("call after garbage: %v", err)
	}
	<-c.offers
	d.Hangup(context.Background())
	d.Close()
	c.rec.waitEnded(t)
}

// Close hangs up live calls (both legs get BYE), records them as ended by
// the system and returns with no goroutines left (goleak checks the package).
func TestCloseHangsUpLiveCalls(t *testing.T) {
	c := newCenter(t, answerer)
	d, err := c.a.call(ctxT(t), c.edge, "1002", diago.InviteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	<-c.offers
	if err := c.edge.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	r := c.rec.waitEnded(t)
	if r.Result != callcenter.ResultAnswered || r.HangupBy != callcenter.PartySystem {
		t.Errorf("record result=%v by=%v", r.Result, r.HangupBy)
	}
	select {
	case <-d.Context().Done():
	case <-time.After(5 * time.Second):
		t.Fatal("caller leg got no BYE")
	}
	if err := c.edge.Start(context.Background()); err != ErrClosed {
		t.Errorf("Start after Close: %v", err)
	}
}
