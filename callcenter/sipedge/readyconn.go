package sipedge

import (
	"net"
	"sync"
)

// readyConn tells when sipgo started reading the listener. sipgo adds the
// listener to its connection pool just before its first read; until then an
// outgoing request would try to bind the same port again and fail, so Start
// waits for this before returning.
type readyConn struct {
	net.PacketConn
	once  sync.Once
	ready chan struct{}
}

func newReadyConn(c net.PacketConn) *readyConn {
	return &readyConn{PacketConn: c, ready: make(chan struct{})}
}

func (c *readyConn) ReadFrom(b []byte) (int, net.Addr, error) {
	c.once.Do(func() { close(c.ready) })
	return c.PacketConn.ReadFrom(b)
}
