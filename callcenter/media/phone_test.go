package media

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/agentphone/agentphone/audio"
	"github.com/pion/rtp"
)

// udpConn is the room side of a test leg: an RTPConn over a real UDP
// socket on 127.0.0.1, sending to one fixed peer.
type udpConn struct {
	c    *net.UDPConn
	peer *net.UDPAddr
	wbuf []byte       // WriteRTP is called by one goroutine, the room's tick
	from *net.UDPAddr // sender of the last packet read (reader only)
}

func (u *udpConn) ReadSource() net.Addr { return u.from }

func (u *udpConn) ReadRTP(buf []byte, pkt *rtp.Packet) (int, error) {
	for {
		n, from, err := u.c.ReadFromUDP(buf)
		if err != nil {
			return 0, err
		}
		u.from = from
		if err := pkt.Unmarshal(buf[:n]); err != nil {
			continue // not RTP: the real conns drop it too
		}
		return n, nil
	}
}

func (u *udpConn) WriteRTP(pkt *rtp.Packet) error {
	n, err := pkt.MarshalTo(u.wbuf)
	if err != nil {
		return err
	}
	_, err = u.c.WriteToUDP(u.wbuf[:n], u.peer)
	return err
}

func (u *udpConn) SetReadDeadline(t time.Time) error { return u.c.SetReadDeadline(t) }

// phone is the far end of a leg: it sends a Source encoded every 20 ms
// and decodes what the room sends back.
type phone struct {
	t     testing.TB
	name  string
	sock  *net.UDPConn
	room  *net.UDPAddr
	conn  *udpConn // the room side, for Join
	codec audio.Codec
	pt    uint8

	mu      sync.Mutex
	src     audio.Source // nil: send nothing
	recv    []int16      // decoded audio at the codec rate, in arrival order
	headers []rtp.Header // every packet received
	events  []rtp.Packet // telephone-event packets received
	// mangle, when set, decides per sent packet index whether to drop it
	// and whether to delay it by a frame: it then goes out on the next
	// tick, right after the packet that follows it.
	mangle func(i int) (drop, delay bool)
	// quiet, when set, says which ticks the phone's user is silent: it
	// sends no audio then (silence suppression), and with sendCN one
	// RFC 3389 comfort-noise packet at the start of each silence.
	quiet  func(i int) bool
	sendCN bool
	// ptime is the audio per packet it sends (default 20 ms).
	ptime time.Duration
}

func newPhone(t testing.TB, name string, codec audio.Codec, pt uint8) *phone {
	t.Helper()
	lo := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}
	roomSock, err := net.ListenUDP("udp4", lo)
	if err != nil {
		t.Fatal(err)
	}
	phoneSock, err := net.ListenUDP("udp4", lo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { roomSock.Close(); phoneSock.Close() })
	return &phone{
		t: t, name: name, sock: phoneSock,
		room:  roomSock.LocalAddr().(*net.UDPAddr),
		conn:  &udpConn{c: roomSock, peer: phoneSock.LocalAddr().(*net.UDPAddr), wbuf: make([]byte, 1500)},
		codec: codec, pt: pt,
	}
}

func (ph *phone) config(speaks bool, hears HearSet) ParticipantConfig {
	return ParticipantConfig{
		Name: ph.name, Conn: ph.conn, Codec: ph.codec, PayloadType: ph.pt,
		DTMFPayloadType: 101, Speaks: speaks, Hears: hears,
	}
}

func (ph *phone) setSource(s audio.Source) {
	ph.mu.Lock()
	ph.src = s
	ph.mu.Unlock()
}

// run sends and receives until ctx ends; the returned wait blocks until
// both goroutines are done.
func (ph *phone) run(ctx context.Context) (wait func()) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); ph.receive() }()
	go func() { defer wg.Done(); ph.send(ctx) }()
	return func() {
		ph.sock.SetReadDeadline(time.Unix(1, 0))
		wg.Wait()
	}
}

func (ph *phone) send(ctx context.Context) {
	enc, err := ph.codec.NewEncoder()
	if err != nil {
		ph.t.Error(err)
		return
	}
	ptime := audio.FrameDuration
	if ph.ptime > 0 {
		ptime = ph.ptime
	}
	pcm := make([]int16, ph.codec.SampleRate()*int(ptime/time.Microsecond)/1e6)
	payload := make([]byte, 1500)
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: ph.pt, SSRC: 0x1234, SequenceNumber: 100, Timestamp: 1000}}
	step := uint32(ph.codec.ClockRate() * int(ptime/time.Microsecond) / 1e6)
	// next encodes the next frame of src into a datagram.
	next := func(src audio.Source) []byte {
		src.Read(pcm)
		n, err := enc.Encode(pcm, payload)
		if err != nil {
			ph.t.Error(err)
			return nil
		}
		pkt.Payload = payload[:n]
		raw, err := pkt.Marshal()
		if err != nil {
			ph.t.Error(err)
			return nil
		}
		pkt.SequenceNumber++
		pkt.Timestamp += step
		pkt.Marker = false
		return raw
	}
	var held []byte // a packet delayed to the next tick
	tick := time.NewTicker(ptime)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		ph.mu.Lock()
		src, mangle, quiet, sendCN := ph.src, ph.mangle, ph.quiet, ph.sendCN
		ph.mu.Unlock()
		if quiet != nil && quiet(i) {
			if sendCN && (i == 0 || !quiet(i-1)) {
				cn := rtp.Packet{Header: pkt.Header, Payload: []byte{0x40}} // -64 dBov
				cn.PayloadType = 13
				if raw, err := cn.Marshal(); err == nil {
					ph.sock.WriteToUDP(raw, ph.room)
				}
				pkt.SequenceNumber++
			}
			pkt.Timestamp += step
			continue
		}
		if quiet != nil && i > 0 && quiet(i-1) {
			pkt.Marker = true // a talkspurt begins
		}
		if src == nil {
			pkt.SequenceNumber++
			pkt.Timestamp += step
			continue
		}
		raw := next(src)
		drop, delay := false, false
		if mangle != nil {
			drop, delay = mangle(i)
		}
		switch {
		case drop:
		case delay:
			held = raw
			continue // the previous one, if held, stays late too
		default:
			ph.sock.WriteToUDP(raw, ph.room)
		}
		if held != nil {
			// 20 ms late, overtaken by its successor.
			ph.sock.WriteToUDP(held, ph.room)
			held = nil
		}
	}
}

func (ph *phone) sendRaw(pkt *rtp.Packet) {
	raw, err := pkt.Marshal()
	if err != nil {
		ph.t.Fatal(err)
	}
	if _, err := ph.sock.WriteToUDP(raw, ph.room); err != nil {
		ph.t.Fatal(err)
	}
}

func (ph *phone) receive() {
	dec, err := ph.codec.NewDecoder()
	if err != nil {
		ph.t.Error(err)
		return
	}
	buf := make([]byte, 1600)
	pcm := make([]int16, 5760)
	for {
		n, _, err := ph.sock.ReadFromUDP(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) && !isTimeout(err) {
				ph.t.Error(err)
			}
			return
		}
		var pkt rtp.Packet
		if err := pkt.Unmarshal(append([]byte(nil), buf[:n]...)); err != nil {
			ph.t.Errorf("%s: bad RTP from room: %v", ph.name, err)
			return
		}
		ph.mu.Lock()
		ph.headers = append(ph.headers, pkt.Header)
		if pkt.PayloadType == 101 {
			ph.events = append(ph.events, pkt)
			ph.mu.Unlock()
			continue
		}
		ph.mu.Unlock()
		if pkt.PayloadType != ph.pt {
			ph.t.Errorf("%s: payload type %d, want %d", ph.name, pkt.PayloadType, ph.pt)
			continue
		}
		m, err := dec.Decode(pkt.Payload, pcm)
		if err != nil {
			ph.t.Errorf("%s: decode: %v", ph.name, err)
			continue
		}
		ph.mu.Lock()
		ph.recv = append(ph.recv, pcm[:m]...)
		ph.mu.Unlock()
	}
}

// received returns a copy of the audio received so far, and resets it.
func (ph *phone) take() []int16 {
	ph.mu.Lock()
	defer ph.mu.Unlock()
	r := ph.recv
	ph.recv = nil
	return r
}

func (ph *phone) packets() int {
	ph.mu.Lock()
	defer ph.mu.Unlock()
	return len(ph.headers)
}

func (ph *phone) allHeaders() []rtp.Header {
	ph.mu.Lock()
	defer ph.mu.Unlock()
	return append([]rtp.Header(nil), ph.headers...)
}

func (ph *phone) allEvents() []rtp.Packet {
	ph.mu.Lock()
	defer ph.mu.Unlock()
	return append([]rtp.Packet(nil), ph.events...)
}

// isTimeout reports whether err is a read deadline expiring.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

type rtpHeader = rtp.Header

func rtpPacket(pt uint8, seq uint16, ts uint32, marker bool, payload []byte) rtp.Packet {
	return rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: ts, Marker: marker, SSRC: 0x1234}, Payload: payload}
}
