package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/coder/websocket"

	"github.com/agentphone/agentphone/callcenter/api"
)

// maxEventSize bounds one event message; a snapshot of many calls is the
// largest.
const maxEventSize = 1 << 20

// Stream is the agent's event stream. It reconnects by itself; every
// connection starts with an api.EventSnapshot, so state is rebuilt from it
// rather than patched across a gap. C is closed when the stream stops: its
// context ended, the session was taken over (the EventTakeover is delivered
// first) or the token was refused; Err then says which.
type Stream struct {
	c    chan api.Event
	done chan struct{}
	err  error // written before done is closed
}

// C delivers events in order. Read it promptly: a reader that stalls makes
// the server drop the connection, and the stream reconnects to a snapshot.
func (s *Stream) C() <-chan api.Event { return s.c }

// Err is why the stream stopped: the context's error, ErrTakeover, or the
// server's *Error refusing the stream (ErrUnauthorized, ErrDisabled, or
// another 4xx such as a wrong base URL's 404). It is nil while it runs.
func (s *Stream) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// Done is closed when the stream has stopped, after C.
func (s *Stream) Done() <-chan struct{} { return s.done }

// Events opens the event stream with the client's current token (read again
// at every reconnect, so a new Login is picked up).
func (c *Client) Events(ctx context.Context) *Stream {
	s := &Stream{c: make(chan api.Event), done: make(chan struct{})}
	go c.runStream(ctx, s)
	return s
}

func (c *Client) runStream(ctx context.Context, s *Stream) {
	defer close(s.done)
	defer close(s.c)
	backoff := c.backoffMin
	for {
		connected, err := c.streamOnce(ctx, s)
		if ctx.Err() != nil {
			s.err = ctx.Err()
			return
		}
		var final *terminal
		if errors.As(err, &final) {
			s.err = final.err
			c.log.Info("event stream stopped", "err", final.err)
			return
		}
		if connected {
			backoff = c.backoffMin
		}
		// Jitter spreads the reconnects of many clients after a restart.
		wait := backoff/2 + rand.N(backoff/2+1)
		c.log.Debug("event stream reconnecting", "err", err, "in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			s.err = ctx.Err()
			return
		case <-t.C:
		}
		backoff = min(backoff*2, c.backoffMax)
	}
}

// terminal marks a stream error that ends the stream instead of a retry.
type terminal struct{ err error }

func (t *terminal) Error() string { return t.err.Error() }
func (t *terminal) Unwrap() error { return t.err }

// streamOnce runs one connection. connected reports whether it got as far
// as the snapshot (the backoff then starts over).
func (c *Client) streamOnce(ctx context.Context, s *Stream) (connected bool, err error) {
	// Any sign of life from the server (a message or a ping) pushes the
	// idle deadline back; a silent path is abandoned.
	connCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	idle := time.AfterFunc(c.idleTimeout, cancel)
	defer idle.Stop()
	alive := func() { idle.Reset(c.idleTimeout) }

	hdr := http.Header{}
	if tok := c.Token(); tok != "" {
		hdr.Set("Authorization", "Bearer "+tok)
	}
	conn, resp, err := websocket.Dial(connCtx, c.base+api.Version+"/events", &websocket.DialOptions{
		HTTPClient: c.hc,
		HTTPHeader: hdr,
		OnPingReceived: func(context.Context, []byte) bool {
			alive()
			return true
		},
	})
	if err != nil {
		if resp != nil && resp.StatusCode >= 300 {
			apiErr := readError(resp)
			if permanent(resp.StatusCode) {
				return false, &terminal{apiErr}
			}
			return false, apiErr
		}
		return false, transportError(err)
	}
	defer conn.CloseNow()
	conn.SetReadLimit(maxEventSize)

	for {
		_, b, err := conn.Read(connCtx)
		if err != nil {
			return connected, fmt.Errorf("read event: %w", err)
		}
		alive()
		var ev api.Event
		if err := json.Unmarshal(b, &ev); err != nil {
			// Not our server, or a broken one: start over.
			return connected, fmt.Errorf("decode event: %w", err)
		}
		if !connected && ev.Type != api.EventSnapshot {
			return false, fmt.Errorf("first event is %q, want a snapshot", ev.Type)
		}
		connected = true
		// The consumer may take its time; that is not server silence.
		idle.Stop()
		select {
		case s.c <- ev:
		case <-ctx.Done():
			return connected, ctx.Err()
		}
		alive()
		if ev.Type == api.EventTakeover {
			conn.Close(websocket.StatusNormalClosure, "")
			return connected, &terminal{ErrTakeover}
		}
	}
}

// permanent reports whether a refused handshake will be refused again: a
// client error (bad token, disabled account, wrong URL), except those that
// ask to come back later.
func permanent(status int) bool {
	switch status {
	case http.StatusRequestTimeout, http.StatusTooManyRequests:
		return false
	}
	return status >= 400 && status < 500
}
