package center

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/agentstate"
)

// memStore is the center's Store in memory, for the tests of what the
// center does off its lock (no SIP needed). When gate is set, AppendStatus
// waits on it: a slow disk.
type memStore struct {
	groups  []callcenter.SkillGroup
	members map[string][]callcenter.Member
	customs []callcenter.CustomStatus
	gate    chan struct{}

	mu       sync.Mutex
	statuses []callcenter.AgentStatus
	offers   []callcenter.Offer
	entered  chan struct{} // an AppendStatus began (buffered, best effort)
}

func (m *memStore) ListGroups(context.Context) ([]callcenter.SkillGroup, error) { return m.groups, nil }
func (m *memStore) Members(_ context.Context, g string) ([]callcenter.Member, error) {
	return m.members[g], nil
}
func (m *memStore) IVRMenuByName(context.Context, string) (callcenter.IVRMenu, error) {
	return callcenter.IVRMenu{}, callcenter.ErrNotFound
}
func (m *memStore) ListCustomStatuses(context.Context) ([]callcenter.CustomStatus, error) {
	return m.customs, nil
}
func (m *memStore) AppendStatus(ctx context.Context, st callcenter.AgentStatus) error {
	if m.entered != nil {
		select {
		case m.entered <- struct{}{}:
		default:
		}
	}
	if m.gate != nil {
		select {
		case <-m.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	m.mu.Lock()
	m.statuses = append(m.statuses, st)
	m.mu.Unlock()
	return nil
}
func (m *memStore) RecordOffer(_ context.Context, o callcenter.Offer) error {
	m.mu.Lock()
	m.offers = append(m.offers, o)
	m.mu.Unlock()
	return nil
}
func (m *memStore) CallsWith(context.Context, string) (int, time.Time, error) {
	return 0, time.Time{}, nil
}

// LastStatus makes memStore a StatusStore: the last status appended.
func (m *memStore) LastStatus(_ context.Context, agent string) (callcenter.AgentStatus, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.statuses) - 1; i >= 0; i-- {
		if m.statuses[i].Agent == agent {
			return m.statuses[i], nil
		}
	}
	return callcenter.AgentStatus{}, callcenter.ErrNotFound
}

func (m *memStore) stored(agent string) []callcenter.AgentStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []callcenter.AgentStatus
	for _, st := range m.statuses {
		if st.Agent == agent {
			out = append(out, st)
		}
	}
	return out
}

// salesStore has one group, sales, with n members 2001, 2002, ….
func salesStore(n int) *memStore {
	st := &memStore{
		groups:  []callcenter.SkillGroup{{Name: "sales", Label: "Sales"}},
		members: map[string][]callcenter.Member{},
		customs: []callcenter.CustomStatus{{Name: "meeting", Label: "Meeting"}},
	}
	for i := range n {
		st.members["sales"] = append(st.members["sales"], callcenter.Member{Group: "sales", Agent: fmt.Sprint(2001 + i), Level: 1})
	}
	return st
}

func phoneChange(p callcenter.PhoneStatus) callcenter.StatusChange {
	return callcenter.StatusChange{Phone: &p}
}

// TestStatusWritesOffTheLock: with the store stalled, status changes of
// other agents go on (the center's lock is not held through a write), their
// pushes arrive at once, and when the store comes back every status is
// stored, each agent's in the order it happened; Flush waits for them.
func TestStatusWritesOffTheLock(t *testing.T) {
	st := salesStore(3)
	st.gate = make(chan struct{})
	st.entered = make(chan struct{}, 1)
	sink := newRecSink()
	c, err := New(st, WithLogger(testLogger()), WithEvents(sink))
	if err != nil {
		t.Fatal(err)
	}
	c.Login("2001")
	select {
	case <-st.entered: // the writer is stuck in the store with 2001's login
	case <-time.After(10 * time.Second):
		t.Fatal("no status write began")
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, wn := range []string{"2002", "2003"} {
			c.Login(wn)
			for range 5 {
				for _, p := range []callcenter.PhoneStatus{callcenter.PhoneIdle, callcenter.PhoneBusy} {
					if _, err := c.ChangeStatus(context.Background(), wn, phoneChange(p)); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("status changes waited for the stalled store")
	}
	sink.mu.Lock()
	pushed := len(sink.statuses["2002"]) + len(sink.statuses["2003"])
	sink.mu.Unlock()
	if pushed != 22 {
		t.Errorf("%d status pushes while the store stalled, want 22", pushed)
	}
	if got := len(st.stored("2002")); got != 0 {
		t.Errorf("%d statuses of 2002 stored before 2001's login was", got)
	}

	close(st.gate)
	c.Flush()
	for _, wn := range []string{"2001", "2002", "2003"} {
		sink.mu.Lock()
		want := append([]callcenter.AgentStatus(nil), sink.statuses[wn]...)
		sink.mu.Unlock()
		got := st.stored(wn)
		if len(got) != len(want) {
			t.Fatalf("%s: %d statuses stored, %d pushed", wn, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: stored #%d %+v, pushed %+v", wn, i, got[i], want[i])
			}
		}
	}
	if n := c.w.pending(); n != 0 {
		t.Errorf("%d writes pending after Flush", n)
	}
}

// TestRunFlushesWritesOnExit: statuses queued when Run ends are stored
// before Run returns (a clean shutdown loses none).
func TestRunFlushesWritesOnExit(t *testing.T) {
	st := salesStore(50)
	st.gate = make(chan struct{})
	c, err := New(st, WithLogger(testLogger()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		c.Run(ctx)
	}()
	for i := range 50 {
		c.Login(fmt.Sprint(2001 + i))
	}
	stop()
	select {
	case <-ran:
		t.Fatal("Run returned with status writes still queued")
	case <-time.After(100 * time.Millisecond):
	}
	close(st.gate)
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	for i := range 50 {
		if got := st.stored(fmt.Sprint(2001 + i)); len(got) != 1 || got[0].Presence != callcenter.PresenceOnline {
			t.Fatalf("%d: stored %+v", 2001+i, got)
		}
	}
}

// TestGroupPushesCoalesced: many changes in a group make one push per
// member per interval, carrying the latest figures; no change, no push.
func TestGroupPushesCoalesced(t *testing.T) {
	tests := []struct {
		name    string
		members int
		changes int // status changes between two pushes
	}{
		{"one change", 5, 1},
		{"many changes", 20, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := salesStore(tc.members)
			sink := &countSink{recSink: newRecSink(), groups: map[string]int{}}
			c, err := New(st, WithLogger(testLogger()), WithEvents(sink))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Flush()
			c.pushGroups() // what New marked (the groups loaded)
			sink.reset()
			for i := range tc.changes {
				wn := fmt.Sprint(2001 + i%tc.members)
				if i < tc.members {
					c.Login(wn)
				}
				p := callcenter.PhoneIdle
				if i%3 == 2 {
					p = callcenter.PhoneBusy
				}
				if _, err := c.ChangeStatus(context.Background(), wn, phoneChange(p)); err != nil {
					t.Fatal(err)
				}
			}
			if n := sink.total(); n != 0 {
				t.Fatalf("%d group pushes before the interval's push", n)
			}
			c.pushGroups()
			want := c.Groups("2001")
			for i := range tc.members {
				wn := fmt.Sprint(2001 + i)
				sink.mu.Lock()
				n, got := sink.groups[wn], sink.recSink.groups[wn]
				sink.mu.Unlock()
				if n != 1 {
					t.Errorf("%s: %d group pushes, want 1", wn, n)
				}
				if len(got) != 1 || got[0] != want[0] {
					t.Errorf("%s: pushed %+v, live %+v", wn, got, want)
				}
			}
			c.pushGroups()
			if n := sink.total(); n != tc.members {
				t.Errorf("%d group pushes after a push without change, want %d", n, tc.members)
			}
		})
	}
}

// TestRunPushesGroups: Run pushes a changed group's figures by itself,
// within a few intervals.
func TestRunPushesGroups(t *testing.T) {
	st := salesStore(2)
	sink := newRecSink()
	c, err := New(st, WithLogger(testLogger()), WithEvents(sink), WithGroupPushInterval(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		c.Run(ctx)
	}()
	defer func() { stop(); <-ran }()
	c.Login("2001")
	if _, err := c.ChangeStatus(ctx, "2001", phoneChange(callcenter.PhoneIdle)); err != nil {
		t.Fatal(err)
	}
	sink.waitFor(t, "2002 told that 2001 is idle", func(s *recSink) bool {
		g := s.groups["2002"]
		return len(g) == 1 && g[0].Group == "sales" && g[0].Idle == 1
	})
}

// countSink counts group pushes per agent.
type countSink struct {
	*recSink
	groups map[string]int // under recSink.mu
}

func (s *countSink) Groups(a string, g []callcenter.GroupFigures) {
	s.recSink.Groups(a, g)
	s.mu.Lock()
	s.groups[a]++
	s.mu.Unlock()
}

func (s *countSink) reset() {
	s.mu.Lock()
	clear(s.groups)
	s.mu.Unlock()
}

func (s *countSink) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, v := range s.groups {
		n += v
	}
	return n
}

// TestRestoreStatusAfterRestart: a second center on the same store (a
// restart) gives a reconnecting agent its last status (custom status,
// idle, auto-answer), once, never over a newer change, and an agent last
// seen offline stays offline.
func TestRestoreStatusAfterRestart(t *testing.T) {
	st := salesStore(4)
	ctx := context.Background()
	first, err := New(st, WithLogger(testLogger()))
	if err != nil {
		t.Fatal(err)
	}
	on, idle := true, callcenter.PhoneIdle
	meeting, custom := "meeting", callcenter.PresenceCustom
	first.Login("2001")
	if _, err := first.ChangeStatus(ctx, "2001", callcenter.StatusChange{Phone: &idle, AutoAnswer: &on}); err != nil {
		t.Fatal(err)
	}
	first.Login("2002")
	if _, err := first.ChangeStatus(ctx, "2002", callcenter.StatusChange{Presence: &custom, Custom: &meeting}); err != nil {
		t.Fatal(err)
	}
	first.Login("2003")
	first.Logout("2003")
	first.Login("2004")
	if _, err := first.ChangeStatus(ctx, "2004", phoneChange(idle)); err != nil {
		t.Fatal(err)
	}
	first.Close()

	sink := newRecSink()
	second, err := New(st, WithLogger(testLogger()), WithEvents(sink))
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	// 2004 logged in again on a fresh login before reconnecting: busy, and
	// the restore must not undo it.
	second.Login("2004")
	tests := []struct {
		agent    string
		restored bool
		want     string // agentstate.Describe
		auto     bool
	}{
		{"2001", true, "idle", true},
		{"2002", true, "custom:meeting", false},
		{"2003", false, "offline", false},
		{"2004", false, "busy", false},
	}
	for _, tc := range tests {
		t.Run(tc.agent, func(t *testing.T) {
			if got := second.Status(tc.agent); tc.agent != "2004" && got.Presence != callcenter.PresenceOffline {
				t.Fatalf("before reconnecting: %+v", got)
			}
			ok, err := second.RestoreStatus(ctx, tc.agent)
			if err != nil || ok != tc.restored {
				t.Fatalf("RestoreStatus = %v, %v; want %v", ok, err, tc.restored)
			}
			got := second.Status(tc.agent)
			if d := agentstate.Describe(got); d != tc.want || got.AutoAnswer != tc.auto {
				t.Fatalf("after: %s auto-answer %v, want %s %v", d, got.AutoAnswer, tc.want, tc.auto)
			}
			if ok, _ := second.RestoreStatus(ctx, tc.agent); ok {
				t.Fatal("restored twice")
			}
		})
	}
	// The restored idle agent is offered calls: the ACD learned it.
	if gs := second.Groups("2001"); len(gs) != 1 || gs[0].Idle != 1 {
		t.Errorf("groups after restore %+v", gs)
	}
	second.Flush()
	if got := st.stored("2001"); agentstate.Describe(got[len(got)-1]) != "idle" {
		t.Errorf("restored status not stored: %+v", got[len(got)-1])
	}
	sink.mu.Lock()
	pushed := sink.last("2002")
	sink.mu.Unlock()
	if pushed.Custom != "meeting" {
		t.Errorf("restored status not pushed: %+v", pushed)
	}
}
