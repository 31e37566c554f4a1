// Package media is the server's media plane: every call is a Room whose
// participants exchange audio through a per-listener mix (DESIGN.md, "the room").
package media

import "github.com/pion/rtp"

// RTPConn is one participant's RTP endpoint as the room sees it. diago's
// *media.RTPSession and *media.MediaSession satisfy it, and so does a plain
// UDP socket wrapper in tests.
type RTPConn interface {
	// ReadRTP blocks for the next RTP packet from the far end; buf is scratch
	// space for the raw datagram and pkt is filled in (payload aliases buf).
	ReadRTP(buf []byte, pkt *rtp.Packet) (int, error)
	// WriteRTP sends one packet to the far end.
	WriteRTP(pkt *rtp.Packet) error
}
