package media

import (
	"net"
	"net/netip"

	dmedia "github.com/emiago/diago/media"
)

// SourceConn is an RTPConn that can tell where the packet ReadRTP just
// returned came from. For such conns (and diago's sessions) the room
// locks each leg to one source after a probation and drops packets from
// any other address: RTP bleed, someone spraying RTP at our ports, must
// not reach the call.
type SourceConn interface {
	RTPConn
	// ReadSource returns the sender of the last packet ReadRTP returned.
	// It is called on the reading goroutine right after ReadRTP.
	ReadSource() net.Addr
}

// sourceProbation is how many packets with consecutive sequence numbers
// one address must send before the leg locks onto it (RFC 3550 A.1 uses
// 2; Asterisk's strictrtp 4). Until then every packet is used, so the
// first words of a call are not cut.
const sourceProbation = 4

// sourceFunc returns how to learn the sender of the last packet, or nil
// when c cannot say (then the conn's owner has to lock the source).
func sourceFunc(c RTPConn) func() net.Addr {
	switch c := c.(type) {
	case SourceConn:
		return c.ReadSource
	case *dmedia.RTPSession:
		// Set by the same ReadRTP call, on this goroutine.
		return func() net.Addr { return c.Sess.ReadRTPFromAddr }
	case *dmedia.MediaSession:
		return func() net.Addr { return c.ReadRTPFromAddr }
	}
	return nil
}

// sourceLock learns and then enforces a leg's RTP source. Reader
// goroutine only.
type sourceLock struct {
	locked  bool
	addr    netip.AddrPort // the locked source, or the candidate
	lastSeq uint16
	run     int // consecutive packets from addr
}

// accept reports whether a packet with seq from from may be used.
func (s *sourceLock) accept(from net.Addr, seq uint16) bool {
	u, ok := from.(*net.UDPAddr)
	if !ok || u == nil {
		return true // nothing to judge by
	}
	ap := u.AddrPort()
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	if s.locked {
		return ap == s.addr
	}
	if s.run > 0 && ap == s.addr && seq == s.lastSeq+1 {
		s.run++
	} else {
		s.addr, s.run = ap, 1
	}
	s.lastSeq = seq
	if s.run >= sourceProbation {
		s.locked = true
	}
	return true
}
