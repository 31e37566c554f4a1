package phone

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentphone/agentphone/audio"
	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
)

// withDevice gives the phone one virtual headset playing src.
func withDevice(src audio.Source) (Option, *audio.VirtualDevice) {
	dev := audio.NewVirtualDevice(src, audio.WithRecordLimit(5*time.Second))
	return WithAudio(func() (audio.Device, error) { return dev, nil }), dev
}

// heard polls until the last 500 ms played on dev carry freq throughout:
// the tone dominates and the level is close to the 0.3 amplitude sent
// (−13.5 dBFS RMS), so a few stray frames in silence do not count.
func heard(dev *audio.VirtualDevice, freq float64, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		last := dev.PlayedLast(500 * time.Millisecond)
		if len(last) == audio.DeviceRate/2 && audio.DBFS(last) > -17 &&
			audio.DetectTone(last, audio.DeviceRate, freq) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// connect dials b from a, answers, and waits until both are Active.
func connect(t *testing.T, a, b *Phone) (*Call, *Call) {
	t.Helper()
	ca, err := a.Dial(ctxT(t), b.URI())
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	cb := nextCall(t, b, Ringing)
	if err := cb.Answer(ctxT(t)); err != nil {
		t.Fatalf("Answer: %v", err)
	}
	waitState(t, ca, Active)
	return ca, cb
}

func TestAudioFlowsBothWays(t *testing.T) {
	tests := []struct {
		name   string
		codecA []string // caller's offer
		codecB []string
		want   string
	}{
		{"opus", nil, nil, "opus"},
		{"PCMU forced by callee", nil, []string{"PCMU"}, "PCMU"},
		{"PCMA forced by caller", []string{"PCMA"}, nil, "PCMA"},
		{"offer order wins", []string{"PCMA", "PCMU", "opus"}, []string{"opus", "PCMU", "PCMA"}, "PCMA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			optA, devA := withDevice(audio.NewTone(1000, 0.3, audio.DeviceRate))
			optB, devB := withDevice(audio.NewTone(1500, 0.3, audio.DeviceRate))
			oa, ob := []Option{optA}, []Option{optB}
			if tt.codecA != nil {
				oa = append(oa, WithCodecs(tt.codecA...))
			}
			if tt.codecB != nil {
				ob = append(ob, WithCodecs(tt.codecB...))
			}
			a := newDirectPhone(t, "1001", oa...)
			b := newDirectPhone(t, "1002", ob...)
			ca, cb := connect(t, a, b)
			if ca.Codec() != tt.want || cb.Codec() != tt.want {
				t.Fatalf("codec caller %q callee %q, want %q", ca.Codec(), cb.Codec(), tt.want)
			}
			if !heard(devB, 1000, 3*time.Second) {
				t.Error("callee did not hear the caller's 1 kHz tone")
			}
			if !heard(devA, 1500, 3*time.Second) {
				t.Error("caller did not hear the callee's 1.5 kHz tone")
			}
			if audio.DetectTone(devB.PlayedLast(500*time.Millisecond), audio.DeviceRate, 1500) {
				t.Error("callee hears its own tone (echo path)")
			}
			time.Sleep(300 * time.Millisecond)
			st := cb.Stats()
			if st.PacketsReceived < 10 || st.PacketsSent < 10 {
				t.Errorf("stats %+v: too few packets", st)
			}
			if st.JitterTarget < 40*time.Millisecond || st.JitterTarget > 60*time.Millisecond {
				t.Errorf("jitter target %s outside 40–60 ms", st.JitterTarget)
			}
			if err := ca.Hangup(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			waitDone(t, cb)
		})
	}
}

func TestMuteStopsAudio(t *testing.T) {
	optA, _ := withDevice(audio.NewTone(1000, 0.3, audio.DeviceRate))
	optB, devB := withDevice(nil)
	a := newDirectPhone(t, "1001", optA)
	b := newDirectPhone(t, "1002", optB)
	ca, _ := connect(t, a, b)
	if !heard(devB, 1000, 3*time.Second) {
		t.Fatal("no tone before mute")
	}
	ca.SetMute(true)
	if !ca.Muted() {
		t.Fatal("Muted() false after SetMute(true)")
	}
	time.Sleep(400 * time.Millisecond) // let the jitter buffer drain
	last := devB.PlayedLast(300 * time.Millisecond)
	if audio.DetectTone(last, audio.DeviceRate, 1000) || audio.DBFS(last) > -60 {
		t.Errorf("muted caller still heard: %.1f dBFS", audio.DBFS(last))
	}
	if ca.Stats().PacketsSent == 0 {
		t.Error("no packets sent")
	}
	ca.SetMute(false)
	if !heard(devB, 1000, 3*time.Second) {
		t.Error("no tone after unmute")
	}
}

// dtmfUAS is a plain diago endpoint that answers and records RFC 4733
// digits, to check our events against an independent decoder.
type dtmfUAS struct {
	addr   string
	mu     sync.Mutex
	digits []rune
	got    chan struct{}
}

func startDTMFUAS(t *testing.T, want int) *dtmfUAS {
	t.Helper()
	drain := new(atomic.Bool)
	ua, err := newDrainableUA("ivr", drain)
	if err != nil {
		t.Fatal(err)
	}
	dg := diago.NewDiago(ua,
		diago.WithLogger(testLogger(t)),
		diago.WithTransport(diago.Transport{Transport: "udp", BindHost: "127.0.0.1", BindPort: 0}),
		diago.WithMediaConfig(diago.MediaConfig{Codecs: []media.Codec{media.CodecAudioUlaw, media.CodecTelephoneEvent8000}}),
	)
	u := &dtmfUAS{got: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	err = dg.ServeBackground(ctx, func(d *diago.DialogServerSession) {
		if err := d.Answer(); err != nil {
			t.Errorf("uas answer: %v", err)
			return
		}
		r, err := d.AudioReaderDTMF()
		if err != nil {
			t.Errorf("uas dtmf reader: %v", err)
			return
		}
		_ = r.Listen(func(dtmf rune) error {
			u.mu.Lock()
			u.digits = append(u.digits, dtmf)
			if len(u.digits) == want {
				close(u.got)
			}
			u.mu.Unlock()
			return nil
		}, 5*time.Second)
		<-d.Context().Done()
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200 && len(ua.TransportLayer().ListenPorts("udp")) == 0; i++ {
		time.Sleep(5 * time.Millisecond)
	}
	u.addr = "127.0.0.1:" + itoa(ua.TransportLayer().ListenPorts("udp")[0])
	t.Cleanup(func() {
		time.Sleep(20 * time.Millisecond) // let the BYE's handler finish
		cancel()
		closeDrained(ua, drain)
	})
	return u
}

func TestSendDTMFToDiagoUAS(t *testing.T) {
	const digits = "159*#0D"
	uas := startDTMFUAS(t, len(digits))
	a := newDirectPhone(t, "1001")
	c, err := a.Dial(ctxT(t), "sip:ivr@"+uas.addr)
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, c, Active)
	if err := c.SendDTMF("12x"); err == nil {
		t.Fatal("SendDTMF accepted 'x'")
	}
	if err := c.SendDTMF(digits); err != nil {
		t.Fatalf("SendDTMF: %v", err)
	}
	select {
	case <-uas.got:
	case <-time.After(5 * time.Second):
	}
	uas.mu.Lock()
	got := string(uas.digits)
	uas.mu.Unlock()
	if got != digits {
		t.Errorf("UAS decoded %q, want %q", got, digits)
	}
	if err := c.Hangup(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}
