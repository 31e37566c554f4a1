package pstnsim

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"go.uber.org/goleak"

	"github.com/agentphone/agentphone/audio"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// logSink records log messages so tests can assert what the Sim reported.
type logSink struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logSink) Enabled(context.Context, slog.Level) bool { return true }
func (l *logSink) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.Key + "=" + a.Value.String())
		return true
	})
	l.mu.Lock()
	l.msgs = append(l.msgs, b.String())
	l.mu.Unlock()
	return nil
}
func (l *logSink) WithAttrs(as []slog.Attr) slog.Handler {
	return &attrHandler{sink: l, attrs: as}
}
func (l *logSink) WithGroup(string) slog.Handler { return l }

// find returns the first recorded line containing all parts.
func (l *logSink) find(parts ...string) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
next:
	for _, m := range l.msgs {
		for _, p := range parts {
			if !strings.Contains(m, p) {
				continue next
			}
		}
		return m, true
	}
	return "", false
}

type attrHandler struct {
	sink  *logSink
	attrs []slog.Attr
}

func (h *attrHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *attrHandler) Handle(ctx context.Context, r slog.Record) error {
	r.AddAttrs(h.attrs...)
	return h.sink.Handle(ctx, r)
}
func (h *attrHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &attrHandler{sink: h.sink, attrs: append(append([]slog.Attr{}, h.attrs...), as...)}
}
func (h *attrHandler) WithGroup(string) slog.Handler { return h }

func quietLogger() *slog.Logger {
	if os.Getenv("PSTNSIM_DEBUG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// center is a diago UA standing in for callcenterd in tests.
type center struct {
	ua   *sipgo.UserAgent
	dg   *diago.Diago
	addr string
}

func startCenter(t *testing.T, handle func(d *diago.DialogServerSession)) *center {
	t.Helper()
	return startCenterCodecs(t, nil, handle)
}

// startCenterCodecs starts a center offering and accepting only codecs
// (nil: diago's default PCMU, PCMA, telephone-event).
func startCenterCodecs(t *testing.T, codecs []media.Codec, handle func(d *diago.DialogServerSession)) *center {
	t.Helper()
	var deaf atomic.Bool
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("center"), sipgo.WithUserAgentHostname("127.0.0.1"),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(quietLogger())),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(quietLogger()),
			sip.WithTransportLayerReadFilter(func(_ sip.TransportReadProps, data []byte) ([]byte, error) {
				if deaf.Load() {
					return nil, nil
				}
				return data, nil
			})))
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{}
	g.zero.L = &g.mu
	opts := []diago.DiagoOption{
		diago.WithLogger(quietLogger()),
		// Like the Sim, let request handling finish before the UA closes.
		diago.WithServerRequestMiddleware(func(next sipgo.RequestHandler) sipgo.RequestHandler {
			return func(req *sip.Request, tx sip.ServerTransaction) {
				if !g.enter() {
					return
				}
				defer g.leave()
				next(req, tx)
			}
		}),
		diago.WithTransport(diago.Transport{Transport: "udp", BindHost: "127.0.0.1", BindPort: 0}),
	}
	if codecs != nil {
		opts = append(opts, diago.WithMediaConfig(diago.MediaConfig{Codecs: codecs}))
	}
	dg := diago.NewDiago(ua, opts...)
	ctx, cancel := context.WithCancel(context.Background())
	if handle == nil {
		handle = func(d *diago.DialogServerSession) { _ = d.Respond(404, "Not Found", nil) }
	}
	if err := dg.ServeBackground(ctx, handle); err != nil {
		cancel()
		t.Fatal(err)
	}
	port, err := boundPort(ua)
	if err != nil {
		t.Fatal(err)
	}
	c := &center{ua: ua, dg: dg, addr: "127.0.0.1:" + strconv.Itoa(port)}
	t.Cleanup(func() {
		g.drain()
		deaf.Store(true)
		time.Sleep(settleTime)
		cancel()
		ua.Close()
	})
	return c
}

func startSim(t *testing.T, opts ...Option) *Sim {
	t.Helper()
	s, err := New(append([]Option{WithLogger(quietLogger())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// peer is the test center's side of a call's media: it plays a tone and
// records what it hears, and collects RFC 4733 digits.
type peer struct {
	mu     sync.Mutex
	heard  []int16
	digits []rune
	wg     sync.WaitGroup
	stop   chan struct{}
}

// converse plays freq on dm and records until stop is called (or the
// media closes).
func converse(t *testing.T, dm *diago.DialogMedia, freq float64) *peer {
	t.Helper()
	ms := dm.MediaSession()
	mc := media.CodecAudioFromSession(ms)
	ac, err := audio.CodecByName(mc.Name)
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := ac.NewEncoder()
	dec, _ := ac.NewDecoder()
	w, err := dm.AudioWriter()
	if err != nil {
		t.Fatal(err)
	}
	dr, err := dm.AudioReaderDTMF()
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{stop: make(chan struct{})}
	dr.OnDTMF(func(r rune) error {
		p.mu.Lock()
		p.digits = append(p.digits, r)
		p.mu.Unlock()
		return nil
	})
	p.wg.Add(2)
	go func() {
		defer p.wg.Done()
		tone := audio.NewTone(freq, 0.25, 8000)
		pcm := make([]int16, ac.FrameSamples())
		buf := make([]byte, 512)
		for {
			select {
			case <-p.stop:
				return
			default:
			}
			tone.Read(pcm)
			n, _ := enc.Encode(pcm, buf)
			if _, err := w.Write(buf[:n]); err != nil {
				return
			}
		}
	}()
	go func() {
		defer p.wg.Done()
		buf := make([]byte, media.RTPBufSize)
		pcm := make([]int16, media.RTPBufSize)
		for {
			n, err := dr.Read(buf)
			if err != nil {
				return
			}
			if dm.RTPPacketReader.PacketHeader.PayloadType != mc.PayloadType {
				continue
			}
			k, _ := dec.Decode(buf[:n], pcm)
			p.mu.Lock()
			p.heard = append(p.heard, pcm[:k]...)
			p.mu.Unlock()
		}
	}()
	return p
}

// end stops sending and waits for both loops; the caller must have
// closed the media (hang-up) so the reader returns.
func (p *peer) end() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	p.wg.Wait()
}

func (p *peer) received() []int16 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int16(nil), p.heard...)
}

func (p *peer) gotDigits() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return string(p.digits)
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
