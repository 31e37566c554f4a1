package media

import (
	"net"
	"testing"
	"time"

	"github.com/agentphone/agentphone/audio"
	"github.com/pion/rtp"
)

func TestSourceLock(t *testing.T) {
	a := &net.UDPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 4000}
	a6 := &net.UDPAddr{IP: net.ParseIP("::ffff:10.0.0.1"), Port: 4000} // same, v4-mapped
	b := &net.UDPAddr{IP: net.IPv4(10, 0, 0, 2), Port: 4000}
	type pkt struct {
		from *net.UDPAddr
		seq  uint16
		want bool
	}
	tests := []struct {
		name string
		pkts []pkt
	}{
		{"locks after probation, then drops others", []pkt{
			{a, 10, true}, {a, 11, true}, {a, 12, true}, {a, 13, true},
			{b, 50, false}, {a, 14, true}, {a6, 15, true}, {b, 51, false},
		}},
		{"a sequence gap restarts probation", []pkt{
			{a, 10, true}, {a, 11, true}, {a, 13, true}, {a, 14, true}, {a, 15, true},
			{b, 1, true}, // not locked yet: 13,14,15 is three
		}},
		{"interleaved senders never lock", []pkt{
			{a, 1, true}, {b, 1, true}, {a, 2, true}, {b, 2, true}, {a, 3, true}, {b, 3, true}, {a, 4, true},
		}},
		{"sequence wraps", []pkt{
			{a, 65534, true}, {a, 65535, true}, {a, 0, true}, {a, 1, true}, {b, 2, false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s sourceLock
			for i, p := range tt.pkts {
				if got := s.accept(p.from, p.seq); got != p.want {
					t.Fatalf("packet %d from %v seq %d: accept = %v, want %v", i, p.from, p.seq, got, p.want)
				}
			}
		})
	}
	var s sourceLock
	if !s.accept(nil, 1) || !s.accept(&net.IPAddr{}, 2) {
		t.Fatal("packets with no UDP source must pass: nothing to judge by")
	}
}

// TestRTPBleedDropped: once the customer's source is locked, a stranger
// sending RTP to the same port is not heard.
func TestRTPBleedDropped(t *testing.T) {
	r := NewRoom("bleed")
	cust := newPhone(t, "customer", codec(t, "PCMU"), 0)
	agent := newPhone(t, "agent", codec(t, "PCMU"), 0)
	cust.setSource(audio.NewTone(1000, 0.3, 8000))
	cp := join(t, r, cust.config(true, HearAll))
	join(t, r, agent.config(false, HearAll))
	start(t, r, cust, agent)
	time.Sleep(settle)

	stranger, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Close()
	enc, _ := audio.PCMU.NewEncoder()
	tone := audio.NewTone(500, 0.9, 8000)
	pcm, payload := make([]int16, 160), make([]byte, 160)
	agent.take()
	for i := range 15 {
		tone.Read(pcm)
		enc.Encode(pcm, payload)
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(7000 + i), Timestamp: uint32(9000 + 160*i), SSRC: 0xbad}, Payload: payload}
		raw, _ := pkt.Marshal()
		stranger.WriteToUDP(raw, cust.room)
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // the room's jitter buffer delay
	expectTones(t, "agent", agent.take(), 8000, 0.8, []float64{1000}, []float64{500})
	if st := cp.Stats(); st.DroppedWrongSource != 15 {
		t.Fatalf("stats %+v: want the stranger's 15 packets dropped", st)
	}
}
