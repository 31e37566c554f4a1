package sipedge

import (
	"testing"
	"time"

	"github.com/agentphone/agentphone/audio"
	"github.com/emiago/diago"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"
)

// A 1 kHz tone sent by the carrier in PCMU reaches the agent in Opus, and
// the agent's 600 Hz tone in Opus reaches the carrier in PCMU: the call's
// media is anchored in a room that transcodes both ways.
func TestMediaTranscodes(t *testing.T) {
	heard := make(chan bool, 1)
	agentStop := make(chan struct{})
	agentPhone := func(got chan<- *sip.Request) func(*diago.DialogServerSession) {
		return func(d *diago.DialogServerSession) {
			if err := d.Answer(); err != nil {
				heard <- false
				return
			}
			go sendTone(d.RTPSession(), audio.Opus, 96, 600, agentStop)
			heard <- listenForTone(d.RTPSession(), audio.Opus, 96, 1000)
			<-d.Context().Done()
		}
	}
	c := newCenter(t, agentPhone)
	ctx := ctxT(t)
	host, port, _ := sip.ParseAddr(c.edge.Addr())
	d, err := c.carrier.dg.Invite(ctx, sip.Uri{Scheme: "sip", User: "4008001234", Host: host, Port: port}, diago.InviteOptions{})
	if err != nil {
		t.Fatalf("inbound: %v", err)
	}
	defer d.Close()

	stop := make(chan struct{})
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		sendTone(d.RTPSession(), audio.PCMU, 0, 1000, stop)
	}()
	carrierHeard := listenForTone(d.RTPSession(), audio.PCMU, 0, 600)
	var ok bool
	select {
	case ok = <-heard:
	case <-time.After(8 * time.Second):
	}
	close(stop)
	close(agentStop)
	<-sent
	d.Hangup(ctx)
	c.rec.waitEnded(t)
	if !ok {
		t.Error("agent did not hear the carrier's tone")
	}
	if !carrierHeard {
		t.Error("carrier did not hear the agent's tone")
	}
}

type rtpRW interface {
	ReadRTP([]byte, *rtp.Packet) (int, error)
	WriteRTP(*rtp.Packet) error
}

// sendTone sends a tone in codec every 20 ms until stop.
func sendTone(w rtpRW, codec audio.Codec, pt uint8, freq float64, stop <-chan struct{}) {
	enc, err := codec.NewEncoder()
	if err != nil {
		return
	}
	tone := audio.NewTone(freq, 0.3, codec.SampleRate())
	pcm := make([]int16, codec.FrameSamples())
	buf := make([]byte, 1500)
	pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SSRC: 0x1234}}
	tick := time.NewTicker(audio.FrameDuration)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		tone.Read(pcm)
		n, err := enc.Encode(pcm, buf)
		if err != nil {
			return
		}
		pkt.Payload = buf[:n]
		if w.WriteRTP(pkt) != nil {
			return
		}
		pkt.SequenceNumber++
		pkt.Timestamp += uint32(codec.FrameSamples() * codec.ClockRate() / codec.SampleRate())
	}
}

// listenForTone reads RTP of codec for up to 5 s and reports whether 200 ms
// in a row carry the tone.
func listenForTone(r rtpRW, codec audio.Codec, pt uint8, freq float64) bool {
	dec, err := codec.NewDecoder()
	if err != nil {
		return false
	}
	deadline := time.Now().Add(5 * time.Second)
	buf := make([]byte, 1500)
	pcm := make([]int16, codec.FrameSamples()*3)
	var window []int16
	for time.Now().Before(deadline) {
		var pkt rtp.Packet
		if _, err := r.ReadRTP(buf, &pkt); err != nil {
			return false
		}
		if pkt.PayloadType != pt {
			continue
		}
		n, err := dec.Decode(pkt.Payload, pcm)
		if err != nil {
			continue
		}
		window = append(window, pcm[:n]...)
		if w := codec.SampleRate() / 5; len(window) >= w {
			if audio.DetectTone(window[len(window)-w:], codec.SampleRate(), freq) {
				return true
			}
			window = window[len(window)-w:]
		}
	}
	return false
}
