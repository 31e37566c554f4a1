package phone

import (
	"sync"
	"sync/atomic"
)

// eventQueue is a bounded channel that never blocks the SIP stack: when
// the consumer (the UI) falls behind, the oldest event is dropped and
// counted. State can always be re-read from Phone/Call accessors.
type eventQueue struct {
	mu      sync.Mutex
	ch      chan Event
	closed  bool
	dropped atomic.Uint64
}

func newEventQueue(n int) *eventQueue { return &eventQueue{ch: make(chan Event, n)} }

func (q *eventQueue) push(ev Event) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return // a straggler after Close: nobody listens any more
	}
	for {
		select {
		case q.ch <- ev:
			return
		default:
		}
		select {
		case <-q.ch:
			q.dropped.Add(1)
		default:
		}
	}
}

// close ends the channel so a consumer ranging over Events stops; later
// pushes are dropped.
func (q *eventQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closed {
		q.closed = true
		close(q.ch)
	}
}
