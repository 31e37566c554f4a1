package center

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/crm"
)

// library is a customer library: names by agent and number ("" agent: any).
type library map[string]string

func (l library) CustomerName(_ context.Context, agent, number string) string {
	if n, ok := l[agent+"|"+number]; ok {
		return n
	}
	return l["|"+number]
}

// callbackBook records the callbacks the center schedules.
type callbackBook struct {
	mu  sync.Mutex
	got []callcenter.Callback
}

func (b *callbackBook) CreateCallback(_ context.Context, agent string, in crm.CallbackInput) (callcenter.Callback, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	cb := callcenter.Callback{ID: int64(len(b.got) + 1), Agent: agent, Number: in.Number, DueAt: in.DueAt, Remark: in.Remark}
	b.got = append(b.got, cb)
	return cb, nil
}

func (b *callbackBook) all() []callcenter.Callback {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]callcenter.Callback(nil), b.got...)
}

// TestScreenPopNameAndLabel: the pop carries the customer's name from the
// library and the group's label (its name when it has none).
func TestScreenPopNameAndLabel(t *testing.T) {
	for _, tc := range []struct {
		name, label, wantGroup string
		lib                    library
		wantName               string
	}{
		{"labelled, known customer", "售前咨询", "售前咨询", library{"|13800138000": "王小明"}, "王小明"},
		{"no label, unknown customer", "", "sales", library{"|13900000000": "someone else"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, setup{
				agents:  []string{"1001"},
				groups:  []callcenter.SkillGroup{{Name: "sales", Label: tc.label}},
				members: []callcenter.Member{{Group: "sales", Agent: "1001", Level: 1}},
				numbers: map[string]string{"4008001234": "group:sales"},
				opts:    []Option{WithCustomers(tc.lib)},
			})
			p := r.phone(t, "1001", ringOnly)
			r.online(t, "1001")
			call := r.call(t, "13800138000", "4008001234")
			p.waitOffer(t)
			r.sink.mu.Lock()
			pops := append([]callcenter.ScreenPop(nil), r.sink.offers["1001"]...)
			r.sink.mu.Unlock()
			call.Hangup(context.Background())
			r.rec.waitEnded(t)
			if len(pops) != 1 || pops[0].Name != tc.wantName || pops[0].Group != tc.wantGroup {
				t.Fatalf("pops %+v, want name %q group %q", pops, tc.wantName, tc.wantGroup)
			}
			r.c.Flush()
			offers, err := r.st.Offers(context.Background(), "1001", time.Time{}, false, 0)
			if err != nil || len(offers) != 1 || offers[0].Group != "sales" {
				t.Errorf("offers %+v, %v: the record keeps the group's name", offers, err)
			}
		})
	}
}

// TestVoicemailCallback: a caller the group could not serve in its maximum
// wait gets a callback, owned by the group's signed-in member of the best
// level, else its best member, else the fallback owner; due CallbackDelay
// later, with the wait and the group's label in the remark.
func TestVoicemailCallback(t *testing.T) {
	members := []callcenter.Member{{Group: "sales", Agent: "1001", Level: 2}, {Group: "sales", Agent: "1002", Level: 1}, {Group: "sales", Agent: "1003", Level: 1}}
	for _, tc := range []struct {
		name     string
		members  []callcenter.Member
		online   []string // signed in, busy (nobody answers)
		fallback string
		owner    string // "" for no callback
	}{
		{"best level online", members, []string{"1001", "1003"}, "9001", "1003"},
		{"nobody online: best level", members, nil, "9001", "1002"},
		{"only a worse level online", members, []string{"1001"}, "", "1001"},
		{"no members: fallback", nil, nil, "9001", "9001"},
		{"no members, no fallback", nil, nil, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			book := &callbackBook{}
			r := newRig(t, setup{
				agents:  []string{"1001", "1002", "1003"},
				groups:  []callcenter.SkillGroup{{Name: "sales", Label: "售前咨询", MaxWait: 30 * time.Second, Overflow: callcenter.OverflowVoicemail}},
				members: tc.members,
				numbers: map[string]string{"4008001234": "group:sales"},
				opts:    []Option{WithCallbacks(book, tc.fallback)},
			})
			for _, wn := range tc.online {
				r.c.Login(wn)
			}
			start := r.clock.Now()
			r.call(t, "13800138000", "4008001234")
			if len(tc.members) > 0 {
				r.sink.waitFor(t, "waiting", func(s *recSink) bool {
					g := s.groups["1001"]
					return len(g) == 1 && g[0].Waiting == 1
				})
				r.clock.Advance(31 * time.Second)
			}
			rec := r.rec.waitEnded(t)
			if rec.Result != callcenter.ResultNoAnswer {
				t.Errorf("record %+v", rec)
			}
			cbs := book.all()
			if tc.owner == "" {
				if len(cbs) != 0 {
					t.Fatalf("callbacks %+v, want none", cbs)
				}
				return
			}
			if len(cbs) != 1 {
				t.Fatalf("callbacks %+v, want one for %s", cbs, tc.owner)
			}
			cb := cbs[0]
			due := cb.DueAt.Sub(start)
			if cb.Agent != tc.owner || cb.Number != "13800138000" || due < CallbackDelay || due > CallbackDelay+time.Minute ||
				!strings.Contains(cb.Remark, "售前咨询") {
				t.Errorf("callback %+v (due %s after the call), want owner %s", cb, due, tc.owner)
			}
			if len(tc.members) > 0 {
				r.sink.mu.Lock()
				n := r.sink.notices["1001"]
				r.sink.mu.Unlock()
				if len(n) != 1 || n[0].Code != NoticeCallback || !strings.Contains(n[0].Message, tc.owner) {
					t.Errorf("notices %+v, want one naming %s", n, tc.owner)
				}
			}
		})
	}
}
