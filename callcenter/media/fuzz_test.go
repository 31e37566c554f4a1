package media

import (
	"testing"

	"github.com/pion/rtp"
)

// FuzzReceive feeds arbitrary datagrams from the network into legs of
// every codec and runs ticks: nothing a peer sends may crash the room.
func FuzzReceive(f *testing.F) {
	for _, seed := range []rtp.Packet{
		rtpPacket(0, 1, 160, true, make([]byte, 160)),
		rtpPacket(111, 2, 960, false, []byte{0xfc, 0xff, 0xfe}),
		rtpPacket(101, 3, 320, true, AppendDTMF(nil, DTMFEvent{Event: 5, End: true, Duration: 800})),
		rtpPacket(8, 4, 480, false, make([]byte, 400)),
		rtpPacket(13, 5, 640, false, []byte{40}),
	} {
		raw, err := seed.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte{0x80})
	r := idleRoom()
	f.Cleanup(func() { r.Close() })
	var legs []*Participant
	for _, l := range []struct {
		name string
		pt   uint8
	}{{"PCMU", 0}, {"PCMA", 8}, {"opus", 111}} {
		legs = append(legs, newBenchLeg(f, r, l.name, l.name, l.pt, 1000).p)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var pkt rtp.Packet
		if err := pkt.Unmarshal(data); err != nil {
			return
		}
		for _, p := range legs {
			p.receive(&pkt)
		}
		r.tick()
		r.tick()
	})
}
