package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/api"
)

// writeTimeout bounds one WebSocket write; a peer that cannot take a
// message in this time is gone.
const writeTimeout = 10 * time.Second

// hub keeps the live state pushed to agents (their calls and registration)
// and the event streams open for them. Publishing never blocks: a stream
// whose buffer is full is dropped, and its client reconnects to a snapshot.
type hub struct {
	mu         sync.Mutex
	closed     bool
	subs       map[string]map[*subscriber]struct{} // by work number
	calls      map[string]*liveCall                // by call id
	agentCalls map[string]map[string]*liveCall     // work number → call id → call
	registered map[string]bool                     // what SetRegistered said last
	wg         sync.WaitGroup                      // one per open stream

	// What the center pushed last per agent, for snapshots: a push that
	// lands between reading the center and opening the stream is kept.
	status  map[string]api.AgentStatus
	figures map[string]api.Figures
	groups  map[string][]api.Group
	pushes  map[string]uint64 // count of the above per agent; see overlayLocked
	// pops are the screen pops of calls by call id, attached to the call's
	// events; see attachPopLocked and sweepPopsLocked.
	pops      map[string]popEntry
	nextSweep int // sweep pops when there are this many
}

type popEntry struct {
	pop   api.ScreenPop
	at    time.Time // when it was attached
	ended time.Time // when its call ended; zero while it has not
}

type liveCall struct {
	call   api.Call
	agents []string
}

// subscriber is one open event stream. Events are queued without seq: the
// stream numbers what it actually writes, so seq has no gaps.
type subscriber struct {
	workNumber string
	tokenHash  string
	ch         chan api.Event

	// abort is cancelled to break off a write in progress when the stream
	// is dropped (a slow peer would otherwise hold its writer until the
	// write timeout).
	abort       context.Context
	cancelAbort context.CancelFunc

	once   sync.Once
	quit   chan struct{}
	finals []api.Event // written last (a notice and a takeover), or none
	code   websocket.StatusCode
	why    string
	drop   bool // drop the TCP connection without a close handshake
}

// stop ends the stream once; the first reason wins. finals, code, why and
// abort are published to the writer by closing quit.
func (sub *subscriber) stop(finals []api.Event, code websocket.StatusCode, why string, drop bool) {
	sub.once.Do(func() {
		sub.finals, sub.code, sub.why, sub.drop = finals, code, why, drop
		close(sub.quit)
		if drop {
			sub.cancelAbort()
		}
	})
}

func newHub() *hub {
	return &hub{
		subs:       make(map[string]map[*subscriber]struct{}),
		calls:      make(map[string]*liveCall),
		agentCalls: make(map[string]map[string]*liveCall),
		registered: make(map[string]bool),
		status:     make(map[string]api.AgentStatus),
		figures:    make(map[string]api.Figures),
		groups:     make(map[string][]api.Group),
		pushes:     make(map[string]uint64),
		pops:       make(map[string]popEntry),
		nextSweep:  minSweep,
	}
}

// subscribe registers a stream for id and returns it with the snapshot to
// send first. Both happen under one lock, so no event falls between them.
// presence is the registrar's view, used when SetRegistered never spoke of
// this agent; view, when not nil, is the center's state read just before
// (pushes since then override it). It reports false once the hub is closed.
func (h *hub) subscribe(id identity, presence bool, view *centerView, buffer int, now time.Time) (*subscriber, api.Event, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, api.Event{}, false
	}
	wn := id.agent.WorkNumber
	sub := &subscriber{
		workNumber: wn,
		tokenHash:  id.session.TokenHash,
		ch:         make(chan api.Event, buffer),
		quit:       make(chan struct{}),
	}
	sub.abort, sub.cancelAbort = context.WithCancel(context.Background())
	if h.subs[wn] == nil {
		h.subs[wn] = make(map[*subscriber]struct{})
	}
	h.subs[wn][sub] = struct{}{}
	h.wg.Add(1)

	reg, ok := h.registered[wn]
	if !ok {
		reg = presence
	}
	snap := api.Snapshot{Agent: publicAgent(id.agent), Registered: reg, Calls: []api.Call{}}
	for _, lc := range h.agentCalls[wn] {
		snap.Calls = append(snap.Calls, lc.call)
	}
	slices.SortFunc(snap.Calls, func(a, b api.Call) int {
		if c := a.StartedAt.Compare(b.StartedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if view != nil {
		h.overlayLocked(wn, view)
		snap.Status, snap.Figures = &view.status, &view.figures
		snap.Groups, snap.Statuses = view.groups, view.statuses
	}
	return sub, mustEvent(api.EventSnapshot, now, snap), true
}

// unsubscribe forgets sub; the stream's handler calls it when it ends.
func (h *hub) unsubscribe(sub *subscriber) {
	h.mu.Lock()
	h.removeLocked(sub)
	h.mu.Unlock()
	sub.cancelAbort()
	h.wg.Done()
}

func (h *hub) removeLocked(sub *subscriber) {
	if m := h.subs[sub.workNumber]; m != nil {
		delete(m, sub)
		if len(m) == 0 {
			delete(h.subs, sub.workNumber)
		}
	}
}

// pushLocked queues ev for every stream of agent wn, dropping streams that
// cannot keep up.
func (h *hub) pushLocked(wn string, ev api.Event) {
	for sub := range h.subs[wn] {
		select {
		case sub.ch <- ev:
		default:
			sub.stop(nil, websocket.StatusTryAgainLater, "too slow", true)
			h.removeLocked(sub)
		}
	}
}

// takeover ends the streams of the revoked sessions, telling them why:
// with a notice first when there is one.
func (h *hub) takeover(tokenHashes []string, notice *api.Notice, t api.Takeover, now time.Time) {
	var finals []api.Event
	if notice != nil {
		finals = append(finals, mustEvent(api.EventNotice, now, *notice))
	}
	finals = append(finals, mustEvent(api.EventTakeover, now, t))
	h.stopSessions(tokenHashes, finals, websocket.StatusNormalClosure, "takeover")
}

// logout ends the streams of sessions that logged out.
func (h *hub) logout(tokenHashes []string) {
	h.stopSessions(tokenHashes, nil, websocket.StatusNormalClosure, "logged out")
}

func (h *hub) stopSessions(tokenHashes []string, finals []api.Event, code websocket.StatusCode, why string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, m := range h.subs {
		for sub := range m {
			if slices.Contains(tokenHashes, sub.tokenHash) {
				sub.stop(finals, code, why, false)
				h.removeLocked(sub)
			}
		}
	}
}

// close ends every stream and waits for their handlers to return.
func (h *hub) close() {
	h.mu.Lock()
	h.closed = true
	for _, m := range h.subs {
		for sub := range m {
			sub.stop(nil, websocket.StatusGoingAway, "server shutting down", false)
		}
	}
	clear(h.subs)
	h.mu.Unlock()
	h.wg.Wait()
}

// subscribers counts the open streams of an agent.
func (h *hub) subscribers(wn string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs[wn])
}

func mustEvent(typ string, now time.Time, data any) api.Event {
	b, err := json.Marshal(data)
	if err != nil {
		// Only our own wire types get here; they always marshal.
		panic(fmt.Sprintf("marshal %s event: %v", typ, err))
	}
	return api.Event{Type: typ, Time: now, Data: b}
}

// PublishCall records a call change reported by sipedge and pushes it to
// every agent on the call. Ended calls leave the live set. It never blocks
// on a client.
func (s *Server) PublishCall(ev callcenter.CallEvent) {
	at := ev.At
	if at.IsZero() {
		at = s.clock()
	}
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()

	lc := h.calls[ev.CallID]
	if lc == nil {
		lc = &liveCall{call: api.Call{ID: ev.CallID, StartedAt: at}}
	}
	c := &lc.call
	c.Type = ev.Type.String()
	c.State = ev.State.String()
	c.From, c.To, c.Number = ev.From, ev.To, ev.Number
	if pe, ok := h.pops[ev.CallID]; ok {
		c.Pop = &pe.pop
	}
	if ev.State >= callcenter.CallTalking && c.AnsweredAt.IsZero() {
		c.AnsweredAt = at
	}
	if ev.Result != callcenter.ResultUnknown {
		c.Result = ev.Result.String()
	}
	if ev.State == callcenter.CallEnded {
		c.EndedAt = at
		c.HangupBy = ev.HangupBy.String()
	}

	// Re-index: agents who left the call (a transfer) no longer see it in
	// their snapshots.
	for _, wn := range lc.agents {
		if !slices.Contains(ev.Agents, wn) || ev.State == callcenter.CallEnded {
			h.dropAgentCallLocked(wn, ev.CallID)
		}
	}
	lc.agents = slices.Clone(ev.Agents)
	slices.Sort(lc.agents)
	lc.agents = slices.Compact(lc.agents) // each agent gets an event once
	if ev.State == callcenter.CallEnded {
		delete(h.calls, ev.CallID)
		// Kept a little longer: a missed-offer notice may follow the end.
		if pe, ok := h.pops[ev.CallID]; ok {
			pe.ended = at
			h.pops[ev.CallID] = pe
		}
	} else {
		h.calls[ev.CallID] = lc
		for _, wn := range lc.agents {
			if h.agentCalls[wn] == nil {
				h.agentCalls[wn] = make(map[string]*liveCall)
			}
			h.agentCalls[wn][ev.CallID] = lc
		}
	}

	out := mustEvent(api.EventCall, s.clock(), *c)
	for _, wn := range lc.agents {
		h.pushLocked(wn, out)
	}
}

func (h *hub) dropAgentCallLocked(wn, callID string) {
	if m := h.agentCalls[wn]; m != nil {
		delete(m, callID)
		if len(m) == 0 {
			delete(h.agentCalls, wn)
		}
	}
}

// SetRegistered records the agent's SIP registration state (sipedge calls
// it on register, unregister and expiry) and pushes it to the agent.
func (s *Server) SetRegistered(workNumber string, registered bool, contact string) {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	h.registered[workNumber] = registered
	h.pushLocked(workNumber, mustEvent(api.EventRegister, s.clock(),
		api.Registration{Registered: registered, Contact: contact}))
}

// registeredFor is the agent's registration as last reported, else what
// the registrar's presence function says.
func (s *Server) registeredFor(wn string) bool {
	s.hub.mu.Lock()
	reg, ok := s.hub.registered[wn]
	s.hub.mu.Unlock()
	if ok {
		return reg
	}
	return s.presenceOf(wn)
}

func (s *Server) presenceOf(wn string) bool {
	if s.presence == nil {
		return false
	}
	return s.presence(wn)
}

func isWebSocketUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// handleEvents is GET /v1/events: a WebSocket that first carries a
// snapshot, then every change, each with seq one more than the last.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	token := bearer(r)
	if token == "" {
		// Browsers cannot set headers on a WebSocket; allow the query.
		token = r.URL.Query().Get("token")
	}
	id, err := s.authenticate(r.Context(), token)
	if err != nil {
		writeAuthError(w, err)
		return
	}
	if !isWebSocketUpgrade(r) {
		w.Header().Set("Upgrade", "websocket")
		writeError(w, http.StatusUpgradeRequired, api.CodeBadRequest, "this endpoint is a WebSocket")
		return
	}
	// A softphone that only reconnects its stream after a server restart
	// gets its status from before the restart in the snapshot.
	if s.center != nil {
		s.resume(r.Context(), id.agent.WorkNumber)
	}
	presence := s.presenceOf(id.agent.WorkNumber)
	sub, snap, ok := s.hub.subscribe(id, presence, s.centerView(id.agent.WorkNumber), s.eventBuffer, s.clock())
	if !ok {
		writeError(w, http.StatusServiceUnavailable, api.CodeInternal, "server shutting down")
		return
	}
	defer s.hub.unsubscribe(sub)
	// A login may have revoked this session after the check above but
	// before the stream was registered, and so not have stopped it: check
	// again now that any later revocation will find the stream.
	if _, err := s.authenticate(r.Context(), token); err != nil {
		writeAuthError(w, err)
		return
	}

	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		// Accept has answered the request.
		return
	}
	defer c.CloseNow()
	if err := s.stream(c, sub, snap); err != nil {
		s.log.Debug("event stream ended", "agent", sub.workNumber, "err", err)
	}
}

// stream writes the snapshot and then queued events until the subscriber
// is stopped or the connection fails.
func (s *Server) stream(c *websocket.Conn, sub *subscriber, snap api.Event) error {
	// Clients send nothing; reading in the background answers pings and
	// notices the peer closing.
	readCtx := c.CloseRead(context.Background())
	// Writes end when the peer goes or when the hub drops the stream.
	ctx, cancel := context.WithCancel(readCtx)
	defer cancel()
	defer context.AfterFunc(sub.abort, cancel)()
	var seq uint64
	write := func(ev api.Event) error {
		seq++
		ev.Seq = seq
		b, err := json.Marshal(ev)
		if err != nil {
			return fmt.Errorf("marshal event: %w", err)
		}
		wctx, cancel := context.WithTimeout(ctx, writeTimeout)
		defer cancel()
		if err := c.Write(wctx, websocket.MessageText, b); err != nil {
			return fmt.Errorf("write event %d: %w", seq, err)
		}
		return nil
	}
	if err := write(snap); err != nil {
		return err
	}
	ping := time.NewTicker(s.pingInterval)
	defer ping.Stop()
	for {
		select {
		case ev := <-sub.ch:
			if err := write(ev); err != nil {
				return err
			}
		case <-sub.quit:
			if sub.drop {
				return errors.New(sub.why)
			}
			if len(sub.finals) > 0 {
				// What was queued before the takeover still goes out,
				// in order, then the takeover itself.
				for drained := false; !drained; {
					select {
					case ev := <-sub.ch:
						if err := write(ev); err != nil {
							return err
						}
					default:
						drained = true
					}
				}
				for _, ev := range sub.finals {
					if err := write(ev); err != nil {
						return err
					}
				}
			}
			return c.Close(sub.code, sub.why)
		case <-readCtx.Done():
			return fmt.Errorf("peer went away: %w", context.Cause(readCtx))
		case <-ping.C:
			pctx, cancel := context.WithTimeout(ctx, s.pingInterval)
			err := c.Ping(pctx)
			cancel()
			if err != nil {
				return fmt.Errorf("keepalive: %w", err)
			}
		}
	}
}
