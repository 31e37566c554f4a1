package server

import (
	"fmt"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter"
)

// BenchmarkPublishCall measures what sipedge pays per call change: update
// the live set, marshal once, queue to each of the agent's streams.
func BenchmarkPublishCall(b *testing.B) {
	for _, streams := range []int{0, 1, 8} {
		b.Run(fmt.Sprintf("streams=%d", streams), func(b *testing.B) {
			srv := New(nil)
			id := identity{agent: callcenter.Agent{WorkNumber: "1001"}}
			for range streams {
				sub, _, _ := srv.hub.subscribe(id, false, nil, 1024, t0)
				go func() {
					defer srv.hub.unsubscribe(sub)
					for {
						select {
						case <-sub.ch:
						case <-sub.quit:
							return
						}
					}
				}()
			}
			ids := make([]string, 64)
			for i := range ids {
				ids[i] = fmt.Sprint("call-", i)
			}
			states := []callcenter.CallState{callcenter.CallRinging, callcenter.CallTalking, callcenter.CallEnded}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				ev := callEvent(ids[i/3%64], states[i%3], t0, "1001")
				srv.PublishCall(ev)
				i++
			}
			b.StopTimer()
			srv.Close()
		})
	}
}

// BenchmarkPushStatus measures what the center pays per status change
// with the agent's stream open: convert, cache, marshal, queue.
func BenchmarkPushStatus(b *testing.B) {
	srv := New(nil)
	id := identity{agent: callcenter.Agent{WorkNumber: "1001"}}
	sub, _, _ := srv.hub.subscribe(id, false, nil, 1024, t0)
	go func() {
		defer srv.hub.unsubscribe(sub)
		for {
			select {
			case <-sub.ch:
			case <-sub.quit:
				return
			}
		}
	}()
	st := callcenter.AgentStatus{Agent: "1001", Presence: callcenter.PresenceOnline, Phone: callcenter.PhoneIdle, Since: t0}
	b.ReportAllocs()
	for b.Loop() {
		srv.Status("1001", st)
	}
	b.StopTimer()
	srv.Close()
}

// BenchmarkMergeHistory merges a busy agent's page: 1,000 records and
// 1,000 offers over 1,500 calls.
func BenchmarkMergeHistory(b *testing.B) {
	var recs []callcenter.CallRecord
	var offers []callcenter.Offer
	for i := range 1000 {
		at := t0.Add(time.Duration(i) * time.Minute)
		recs = append(recs, callcenter.CallRecord{CallID: fmt.Sprint("c", i), Caller: "138", Callee: "1001",
			Agent: "1001", StartedAt: at, AnsweredAt: at})
		offers = append(offers, callcenter.Offer{CallID: fmt.Sprint("c", i/2+i%2*750), Agent: "1001",
			OfferedAt: at, Answered: i%3 == 0})
	}
	b.ReportAllocs()
	for b.Loop() {
		mergeHistory("1001", recs, offers, time.Time{}, false, MaxCallsLimit)
	}
}
