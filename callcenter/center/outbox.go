package center

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/agentphone/agentphone/callcenter"
)

// The center's lock guards decisions, not I/O. What a decision produces
// (pushes to the Sink, rows for the store) is queued under the lock, in
// the order it happened, and carried out after the lock is released: the
// pushes by an outbox, the writes by a writer. At the inbound load knee the
// center's lock was held through a SQLite write per status change and a
// group-figure push to every member of the agent's groups; other calls'
// goroutines queued behind it.

// outbox holds the pushes made under the center's lock and delivers them
// outside it, in the order they were queued, one deliverer at a time: a
// single FIFO for all agents keeps every agent's events in order, as the
// lock did. flush is called by whoever released the center's lock after
// queueing, so a caller's own pushes are delivered when its call returns.
type outbox struct {
	sink Sink

	mu sync.Mutex // guards q; never held while calling the sink
	q  []func(Sink)

	// send is held while delivering: a second flusher waits for the first,
	// then delivers what arrived meanwhile, so the order stays the queue's.
	send sync.Mutex
}

// add queues a push (called with the center's lock held).
func (o *outbox) add(f func(Sink)) {
	o.mu.Lock()
	o.q = append(o.q, f)
	o.mu.Unlock()
}

// flush delivers every queued push. It must not be called with the
// center's lock held (the Sink's own locks come after it).
func (o *outbox) flush() {
	o.send.Lock()
	defer o.send.Unlock()
	for {
		o.mu.Lock()
		batch := o.q
		o.q = nil
		o.mu.Unlock()
		if len(batch) == 0 {
			return
		}
		for _, f := range batch {
			f(o.sink)
		}
	}
}

// writeTimeout bounds one store write made by the writer.
const writeTimeout = 5 * time.Second

// write is one queued store write; after, when set, runs once it is done
// (whatever its outcome), still in order.
type write struct {
	what  string
	agent string
	call  string
	do    func(ctx context.Context) error
	after func()
}

// writer makes the center's store writes (status log, offers) in the order
// they were queued, off the center's lock. One goroutine at a time drains
// the queue; it is started by the first write after the queue ran empty and
// ends when it is empty again, so an idle center has no writer goroutine.
// The queue is not bounded: a store slower than the calls grows it (and
// the log says so through failed writes) rather than stalling calls.
type writer struct {
	log *slog.Logger

	mu      sync.Mutex
	q       []write
	running bool
	idle    *sync.Cond // signalled when running turns false
}

func newWriter(log *slog.Logger) *writer {
	w := &writer{log: log}
	w.idle = sync.NewCond(&w.mu)
	return w
}

// add queues a write (called with the center's lock held, so the queue's
// order is the order of the center's decisions).
func (w *writer) add(wr write) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.q = append(w.q, wr)
	if !w.running {
		w.running = true
		go w.run()
	}
}

func (w *writer) run() {
	for {
		w.mu.Lock()
		batch := w.q
		w.q = nil
		if len(batch) == 0 {
			w.running = false
			w.idle.Broadcast()
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()
		for _, wr := range batch {
			ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
			if err := wr.do(ctx); err != nil {
				w.log.Error("center: store write failed", "write", wr.what, "agent", wr.agent, "call", wr.call, "error", err)
			}
			cancel()
			if wr.after != nil {
				wr.after()
			}
		}
	}
}

// flush waits until every write queued so far (and any queued meanwhile)
// is done.
func (w *writer) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.running {
		w.idle.Wait()
	}
}

// pending is how many writes wait (tests and figures).
func (w *writer) pending() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.q)
}

// DefaultGroupPushInterval is how often at most the live figures of a
// changed skill group are pushed to its members (WithGroupPushInterval).
const DefaultGroupPushInterval = 200 * time.Millisecond

// markGroupsLocked notes that the figures of groups changed; Run pushes
// them to the groups' members at most every group push interval. With
// 250 agents in a group and a status change per agent every few seconds,
// pushing at every change meant 250 pushes per change; coalesced, each
// member gets one push per interval at most, carrying the latest figures.
func (c *Center) markGroupsLocked(groups ...string) {
	for _, g := range groups {
		c.dirty[g] = struct{}{}
	}
}

// pushGroups sends the current figures of the changed groups to their
// members: each member once, with all of its groups, each group's figures
// counted once.
func (c *Center) pushGroups() {
	c.mu.Lock()
	if len(c.dirty) == 0 {
		c.mu.Unlock()
		return
	}
	figs := map[string]callcenter.GroupFigures{}
	seen := map[string]bool{}
	for g := range c.dirty {
		for _, m := range c.members[g] {
			if seen[m.Agent] {
				continue
			}
			seen[m.Agent] = true
			var out []callcenter.GroupFigures
			for _, name := range c.memberOf[m.Agent] {
				gf, ok := figs[name]
				if !ok {
					gf = c.groupFiguresLocked(name)
					figs[name] = gf
				}
				out = append(out, gf)
			}
			c.out.add(func(s Sink) { s.Groups(m.Agent, out) })
		}
	}
	clear(c.dirty)
	c.mu.Unlock()
	c.out.flush()
}

// unlock releases the center's lock and delivers what was queued under it.
// Methods that queue pushes defer it (defer c.unlock()) in place of
// c.mu.Unlock.
func (c *Center) unlock() {
	c.mu.Unlock()
	c.out.flush()
}

// Flush delivers every queued push and waits for every queued store write
// (status log, offers). Run does it when it returns; call it before
// closing the store when the center is stopped otherwise.
func (c *Center) Flush() {
	c.out.flush()
	c.w.flush()
	c.out.flush() // pushes that followed their writes (missed offers)
}
